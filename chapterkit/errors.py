"""The library's own exception types.

Every error a user can cause ends up as a :class:`ChapterkitError`, whose ``str``
is one human line ("reason while verbing path", after beets) and whose
``exit_code`` is the documented process exit status. The CLI turns them into
messages in exactly one place (``chapterkit.cli.main``).

Exit codes: 0 ok; 1 findings (no valid chapter list, drift, missing chapters);
2 usage or I/O error (unreadable file, corrupt media, FFmpeg failure).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chapterkit.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class ChapterkitError(Exception):
    """Root of every error chapterkit raises on purpose."""

    exit_code = EXIT_ERROR

    def __init__(self, reason: str, *, path: str | os.PathLike[str] | None = None,
                 verb: str | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else os.fspath(path)
        self.verb = verb
        super().__init__(reason, self.path, verb)

    def __str__(self) -> str:
        text = " ".join(self.reason.split())  # always one line
        if self.path is not None and self.verb:
            return f"{text} while {self.verb} {self.path}"
        if self.path is not None:
            return f"{self.path}: {text}"
        return text

    def __reduce__(self):  # keep the keywords across multiprocessing
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[ChapterkitError], state: dict) -> ChapterkitError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("reason"), state.get("path"), state.get("verb"))
    error.__dict__.update(state)
    return error


class UsageError(ChapterkitError):
    """A bad option or option combination."""


class SourceError(ChapterkitError):
    """A chapter source that cannot be read or decoded at all (I/O, encoding, syntax)."""


class FormatDetectionError(SourceError):
    """No format, or more than one, claims a chapter source."""

    def __init__(self, reason: str, *, candidates: Sequence[str] = (), **kwargs) -> None:
        self.candidates = tuple(candidates)
        super().__init__(reason, **kwargs)


class NoChaptersError(ChapterkitError):
    """The text was read but holds no valid chapter list; the diagnostics say why."""

    exit_code = EXIT_FINDINGS

    def __init__(self, reason: str, *, diagnostics: Sequence[Diagnostic] = (), **kwargs) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__(reason, **kwargs)


class MediaError(ChapterkitError):
    """A media file that cannot be read: missing, zero bytes, truncated, not media."""


class UnsupportedContainerError(MediaError):
    """A container that cannot carry chapters, or that chapterkit cannot handle."""


class FFmpegError(ChapterkitError):
    """FFmpeg is missing, or it failed; carries its argv and the last lines of stderr."""

    def __init__(self, reason: str, *, argv: Sequence[str] = (), stderr_tail: str = "",
                 returncode: int | None = None, **kwargs) -> None:
        self.argv = tuple(argv)
        self.stderr_tail = stderr_tail
        self.returncode = returncode
        super().__init__(reason, **kwargs)


class ChapterMismatchError(ChapterkitError):
    """Chapters read back (or requested) do not match: drift, beyond the duration."""

    exit_code = EXIT_FINDINGS
