"""File and stream I/O for chapter sources: the edge around the pure parsers.

A source is a regular file or stdin, of at most ``_files.MAX_SOURCE_BYTES``.

Reading decodes bytes the way chapter files come in the wild: UTF-8 with or
without a BOM, and UTF-16 with a BOM (Premiere's marker export). Invalid UTF-8
is refused rather than guessed, since a mis-decoded title would be embedded
for good. Writing goes through a temporary file in the target folder, fsync
and rename, so a reader never sees half a file.
"""

from __future__ import annotations

import codecs
import os
import sys

from chapterkit import formats, tempfiles
from chapterkit._files import open_regular, read_bounded
from chapterkit.errors import ChapterkitError, SourceError
from chapterkit.fsmode import new_file_mode
from chapterkit.formats.base import ParseOptions, ParseResult

STDIN = "-"


def decode(data: bytes, *, path: str = STDIN) -> str:
    """Decode chapter text; raises :class:`SourceError` naming the file and offset."""
    # UTF-16 only with its BOM (Premiere's marker export); the "utf-16" codec reads and drops it.
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    encoding = "utf-16" if utf16 else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"text is not valid {encoding.replace('-sig', '')} "
                          f"(bad byte at offset {exc.start})", path=path, verb="reading") from None


def read_text(path: str | os.PathLike[str]) -> str:
    """The decoded text of ``path``, or of standard input when ``path`` is ``-``."""
    name = os.fspath(path)
    if name != STDIN and os.path.isfile(os.path.join(name, "Info.fcpxml")):
        name = os.path.join(name, "Info.fcpxml")  # a .fcpxmld bundle (Final Cut Pro 10.6+) is a folder
    try:
        if name == STDIN:
            data = read_bounded(sys.stdin.buffer)
        else:
            with open_regular(name) as handle:
                data = read_bounded(handle)
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc), path=name, verb="reading") from None
    except ValueError as exc:  # a FIFO, a device, or far too much (/dev/zero)
        raise SourceError(str(exc), path=name, verb="reading") from None
    return decode(data, path=name)


def load(path: str | os.PathLike[str], format_name: str | None = None,
         options: ParseOptions = ParseOptions()) -> ParseResult:
    """Read and parse a chapter source; the format is named, detected by content, or implied by the extension."""
    return parse(read_text(path), path, format_name, options)


def parse(text: str, path: str | os.PathLike[str], format_name: str | None = None,
          options: ParseOptions = ParseOptions()) -> ParseResult:
    """Parse the already read ``text`` of ``path`` as :func:`load` does (errors name ``path``)."""
    name = os.fspath(path)
    try:
        # Content first, then the extension (formats.detect); stdin has no extension.
        return formats.parse(text, format_name, options, path=None if name == STDIN else name)
    except ChapterkitError as exc:
        if exc.path is None:
            exc.path = name
            exc.verb = exc.verb or "parsing"
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` (``-`` is stdout) via temp file, fsync and rename."""
    name = os.fspath(path)
    if name == STDIN:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        temp = tempfiles.create_beside(name, ".tmp")
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=name, verb="writing") from None
    tempfiles.sweep(os.path.dirname(os.path.abspath(name)))
    try:
        with open(temp, "w", encoding="utf-8", newline="\n") as out:
            os.fchmod(out.fileno(), new_file_mode(name))  # not mkstemp's 0600 (chapterkit.fsmode)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, name)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ChapterkitError(exc.strerror or str(exc), path=name, verb="writing") from None
        raise
