"""The ``libav`` reader: chapters as FFmpeg's demuxers see them.

mpv, Kodi, Jellyfin and ffprobe all read chapters through libavformat, so what it
reports is what most players show: for MP4 the QuickTime chapter track wins over
the Nero ``chpl`` atom, Matroska editions are flattened into one list, MP3 ``CHAP``
frames come in file order, and Ogg/FLAC ``CHAPTERnnn`` comments are parsed with
FFmpeg's own quirks (``containers.md`` §2).

FFmpeg dumps the chapters as FFMETADATA (:func:`chapterkit.muxer.build_dump_argv`),
read here with the project's own FFMETADATA parser. The dump runs with ``-copyts``
so times are the demuxer's own, as ffprobe shows them: without it the CLI subtracts
the input's start time (25.057 ms on a LAME MP3, −23 ms on an MKV with AAC priming
read by FFmpeg 5.1) and clamps at zero, which adding the start time back cannot undo.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from chapterkit.containers import ReadResult
from chapterkit.errors import MediaError, NoChaptersError, SourceError
from chapterkit.model import NS_PER_SECOND, ChapterList

if TYPE_CHECKING:
    from chapterkit.muxer import FFmpegBinary

NAME = "libav"
#: A value that ends in escaped backslashes: an even run of them right before a newline.
_TRAILING_BACKSLASHES = re.compile(r"(?<!\\)((?:\\\\)+)\n")


def read_libav(path: str | os.PathLike[str], ffmpeg: FFmpegBinary | str | None = None) -> ReadResult:
    """The chapters FFmpeg reads from ``path``, with the duration FFmpeg reports.

    ``ffmpeg`` is a :class:`chapterkit.muxer.FFmpegBinary`, a path, or None to find
    one. A file without chapters gives an empty list (still with the duration).
    Raises :class:`MediaError` for a file FFmpeg cannot read and
    :class:`~chapterkit.errors.FFmpegError` when FFmpeg itself fails.
    """
    from chapterkit import muxer
    from chapterkit.formats import ffmetadata

    name = os.fspath(path)
    _check_comment_count(name)
    info, text = muxer.probe_and_dump(name, ffmpeg)
    notes = []
    try:
        parsed = ffmetadata.parse(_unambiguous(text))
    except NoChaptersError:
        chapters = ChapterList()
    except SourceError as exc:  # FFmpeg wrote something its own grammar cannot read back
        raise MediaError(f"FFmpeg's chapter dump cannot be parsed: {exc.reason}", path=name,
                         verb="reading chapters with FFmpeg from") from None
    else:
        chapters = _keep_zero_length(parsed.chapters, text)
        notes += [str(finding) for finding in parsed.diagnostics if finding.severity != "info"]
    if info.start_time_ns:
        notes.append(f"streams start at {_seconds(info.start_time_ns)} s; players that rebase on it "
                     "(mpv) show every chapter that much earlier")
    return ReadResult(NAME, ChapterList(chapters.chapters, chapters.title, info.duration_ns), tuple(notes))


#: More Vorbis comments than this and the libav reader does not run FFmpeg: libavformat
#: adds each comment to a dictionary with a linear search (``av_dict_set``), so the
#: time grows with the square of the count (measured with FFmpeg 9: 20,000 comments
#: 7.4 s, 100,000 over 4 minutes). Real files hold a few dozen; 1000 chapters is 2000.
MAX_FFMPEG_COMMENTS = 5000


def _check_comment_count(name: str) -> None:
    """Refuse, before FFmpeg runs, an Ogg or FLAC file with more comments than FFmpeg copes with."""
    from chapterkit.containers import sniff

    if sniff(name) not in ("ogg", "flac"):
        return
    import mutagen

    from chapterkit.containers._mutagen import BAD_INPUT

    try:
        audio = mutagen.File(name)
        count = len(audio.tags) if audio is not None and audio.tags is not None else 0
    except (mutagen.MutagenError, OSError, RecursionError, *BAD_INPUT):
        return  # a file mutagen cannot read is FFmpeg's to judge
    if count > MAX_FFMPEG_COMMENTS:
        raise MediaError(f"{count} Vorbis comments: more than {MAX_FFMPEG_COMMENTS}, and FFmpeg's "
                         "tag dictionary takes quadratic time over them; the libav reader was not run",
                         path=name, verb="reading chapters with FFmpeg from")


def _unambiguous(dump: str) -> str:
    """FFmpeg's dump, with a NUL after a value that ends in a backslash.

    ``ffmetaenc.c`` escapes every backslash, so a title ending in ``\\`` is dumped as
    ``title=…\\\\`` + newline, and FFmpeg's own reader, which the parser follows,
    takes that newline as escaped (it looks at one byte) and swallows the next line.
    In a dump an even run of backslashes is always escaped backslashes; the NUL ends
    the value there, as :func:`chapterkit.formats.ffmetadata.render` does.
    """
    return _TRAILING_BACKSLASHES.sub("\\1\x00\n", dump)


def _keep_zero_length(chapters: ChapterList, dump: str) -> ChapterList:
    """``chapters`` with the zero-length ones FFmpeg reported given back their end.

    chapterkit's FFMETADATA parser reads ``END == START`` as "no end", so that its
    own files round-trip. In FFmpeg's dump it means what it says: the demuxer has a
    chapter of zero length (Matroska ``ChapterTimeEnd`` equal to the start, an ID3
    ``CHAP`` with equal times), and ffprobe shows ``end == start``. Without this the
    list would end such a chapter at the next start or the media's end instead.
    """
    zero = _zero_length_sections(dump)
    if len(zero) != len(chapters) or not any(zero):
        return chapters
    return chapters.replace_chapters(replace(chapter, end_ns=chapter.start_ns) if flat else chapter
                                     for chapter, flat in zip(chapters, zero))


def _zero_length_sections(dump: str) -> list[bool]:
    """Per ``[CHAPTER]`` section of the dump, in order: whether its ``END`` equals its ``START``.

    ``ffmetaenc.c`` writes ``TIMEBASE``, ``START`` and ``END`` right after every
    ``[CHAPTER]`` in that order and escapes newlines in values, so a section header
    is a logical line that is exactly ``[CHAPTER]``.
    """
    flags: list[bool] = []
    header: dict[str, str] | None = None
    continued = False
    # One pass over physical lines (a regex over logical lines took 2.8 GB on a 20 MB
    # title): a line that ends in an odd run of backslashes escapes its newline, so the
    # next physical line continues the same value and is never a header; a NUL (added
    # by _unambiguous) ends the value.
    for piece in dump.split("\n"):
        was_continued = continued
        text = piece.rstrip("\x00")
        continued = not piece.endswith("\x00") and (len(text) - len(text.rstrip("\\"))) % 2 == 1
        if was_continued:
            continue
        if text == "[CHAPTER]":
            flags.append(False)
            header = {}
        elif header is not None:
            key, _, value = text.partition("=")
            if key not in ("TIMEBASE", "START", "END"):
                header = None
            else:
                header[key] = value
                if key == "END":
                    flags[-1] = header.get("START") == value
                    header = None
    return flags


def _seconds(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    whole, rest = divmod(abs(ns), NS_PER_SECOND)
    return f"{sign}{whole}.{rest:09d}".rstrip("0").rstrip(".")


__all__ = ["read_libav"]
