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


def shown_name(name: str) -> str:
    """A file name as messages print it: one line, and printable in any locale.

    Control characters (a newline in a name would split the message) become
    ``\\n``-style escapes, and bytes that are not UTF-8 (which Python keeps as
    lone surrogates, PEP 383) become ``\\xff``, as ``ls -b`` shows them.
    """
    if name.isprintable() and name.isascii():
        return name
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF or not char.isprintable():
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


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
            return f"{text} while {self.verb} {shown_name(self.path)}"
        if self.path is not None:
            return f"{shown_name(self.path)}: {text}"
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
