"""What the mutagen-based container modules (``id3``, ``vorbis``) share.

mutagen raises its own errors, plain ``OSError`` and, on damaged input, whatever
its parsers hit (``struct`` and index errors, ``ValueError``...). Both modules turn
all of them into one-line :class:`~chapterkit.errors.MediaError` here, at the
boundary, the way mutagen's own ``convert_error`` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS

#: What mutagen's parsers raise on damaged input besides MutagenError and OSError.
BAD_INPUT = (EOFError, IndexError, KeyError, OverflowError, UnicodeError, ValueError)


def check_not_empty(name: str, verb: str) -> None:
    """Refuse a missing or zero-byte file before mutagen gives a vaguer reason."""
    try:
        if os.path.getsize(name) == 0:
            raise MediaError("file is empty (0 bytes)", path=name, verb=verb)
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb=verb) from None


@contextmanager
def converted_errors(name: str, verb: str, prefix: str = "") -> Iterator[None]:
    """Turn anything mutagen raises inside the block into a one-line MediaError."""
    from mutagen import MutagenError

    try:
        yield
    except (MutagenError, OSError, *BAD_INPUT) as exc:
        raise MediaError(reason(exc, name, prefix), path=name, verb=verb) from None


def reason(exc: BaseException, name: str, prefix: str = "") -> str:
    """One line from a mutagen error, which often wraps the OSError as its only argument.

    The path is dropped from mutagen's text ("'x.flac' is not a valid FLAC file"):
    :class:`MediaError` names it once already.
    """
    for cause in (exc, *(exc.args[:1] if exc.args else ()), exc.__cause__):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    detail = " ".join(str(exc).replace(repr(name), "").replace(name, "").split())
    detail = detail.removeprefix("is ") or type(exc).__name__
    return f"{prefix} ({detail})" if prefix else detail


def ns_to_ms(ns: int) -> int:
    """Nanoseconds to ms, rounded half up (FFmpeg's av_rescale_q rounds to nearest too)."""
    return (ns + NS_PER_MS // 2) // NS_PER_MS


def clean_title(title: str, what: str, warnings: list[str], nul_reason: str) -> str:
    """A title every reader keeps whole: no NUL (``nul_reason`` says why) and valid Unicode."""
    if "\x00" in title:
        title = title.replace("\x00", " ")
        warnings.append(f"{what}: NUL characters replaced by spaces ({nul_reason})")
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:
        title = title.encode("utf-8", "replace").decode("utf-8")
        warnings.append(f"{what}: characters that are not valid Unicode replaced by '?'")
    return title
