"""The chapter list as ``embed`` will write it into one container, and the warnings about it.

The in-place editor, the remux and the mutagen copy all write the same fitted
list, and ``chapterkit batch`` checks a file against it without writing anything,
so the fitting is its own step, and :func:`plan` a pure one: chapters at or past
the media's end are an error, the last chapter ends at the media's end (as the
container stores it: :func:`exact_duration`, which reads the file), and MP4 titles
and shapes are fitted to what ``chpl`` and the QuickTime chapter track can hold.
"""

from __future__ import annotations

from dataclasses import replace

from chapterkit import containers
from chapterkit.errors import ChapterkitError, ChapterMismatchError
from chapterkit.model import ChapterList, cut_utf8
from chapterkit.timecode import format_clock


#: chpl stores a u8 title length and a u8 count (movenc.c mov_write_chpl_tag).
CHPL_MAX_TITLE_BYTES = 255
CHPL_MAX_CHAPTERS = 255


def exact_duration(source: str, container: str, info) -> int | None:
    """The duration as the container stores it (FFmpeg's banner rounds it to 10 ms).

    Without a probe (``info`` None: MP3, Ogg, FLAC) the reader's error is the answer.
    """
    primary = containers.CONTAINER_READERS[container][0]
    try:
        duration = containers.reader_function(primary)(source).chapters.duration_ns
    except ChapterkitError:
        if info is None:
            raise
        duration = None
    return duration if duration is not None or info is None else info.duration_ns


def plan(chapters: ChapterList, container: str, duration_ns: int | None, *,
         path: str = "") -> tuple[ChapterList, list[str]]:
    """The list as it will be written to ``container``, and the warnings about it.

    Chapters at or past the duration are an error; the last chapter ends at the
    duration. MP4 titles are cut to 255 bytes on a UTF-8 boundary, since FFmpeg cuts
    the chpl title byte-wise and a split character makes mutagen refuse the file.
    """
    if not len(chapters):
        raise ChapterMismatchError("the chapter source holds no chapters", path=path)
    warnings: list[str] = []
    if duration_ns is not None:
        beyond = [f"{c.title!r} at {format_clock(c.start_ns)}" for c in chapters if c.start_ns >= duration_ns]
        if beyond:
            raise ChapterMismatchError(
                f"{len(beyond)} chapter(s) start at or past the media's end ({format_clock(duration_ns)}): "
                + "; ".join(beyond), path=path)
        chapters = _end_at(chapters, duration_ns)
    if container == "mp4":
        chapters, warnings = _fit_mp4(chapters)
    return chapters, warnings


def _end_at(chapters: ChapterList, duration_ns: int) -> ChapterList:
    items = list(chapters.without_ends()) if any(
        c.end_ns is not None and c.end_ns > duration_ns for c in chapters) else list(chapters)
    if items[-1].end_ns is None or items[-1].end_ns > duration_ns:
        items[-1] = replace(items[-1], end_ns=duration_ns)
    return ChapterList(tuple(items), chapters.title, duration_ns)


def _fit_mp4(chapters: ChapterList) -> tuple[ChapterList, list[str]]:
    warnings = []
    fitted = []
    for index, chapter in enumerate(chapters, 1):
        title = chapter.title
        if not title.strip():
            # An untitled chapter gets no QuickTime sample and shifts every later title (movenc.c).
            title = f"Chapter {index}"
            warnings.append(f"chapter {index} has no title; wrote {title!r} "
                            "(an empty title desynchronises MP4 readers)")
        cut = cut_utf8(title, CHPL_MAX_TITLE_BYTES)
        if cut != title:
            warnings.append(f"chapter {index} title cut to {CHPL_MAX_TITLE_BYTES} bytes (the MP4 chpl limit)")
        fitted.append(replace(chapter, title=cut))
    if len(chapters) > CHPL_MAX_CHAPTERS:
        warnings.append(f"{len(chapters)} chapters: chpl readers (VLC, mutagen) will see only the first "
                        f"{CHPL_MAX_CHAPTERS}; the QuickTime track keeps all")
    if chapters[0].start_ns > 0:
        warnings.append(f"the first chapter starts at {format_clock(chapters[0].start_ns)}: the QuickTime "
                        "chapter track cannot hold that, so Apple players and FFmpeg show it from 0:00")
    ends = [(i + 1, chapters[i].end_ns - chapters[i + 1].start_ns) for i in range(len(chapters) - 1)
            if chapters[i].end_ns is not None]
    gaps = [str(number) for number, past in ends if past < 0]
    overlaps = [str(number) for number, past in ends if past > 0]
    if gaps:
        warnings.append(f"chapter(s) {', '.join(gaps)} end before the next starts: the QuickTime "
                        "chapter track cannot hold gaps, so each runs to the next chapter there")
    if overlaps:
        warnings.append(f"chapter(s) {', '.join(overlaps)} end after the next starts: the QuickTime "
                        "chapter track cannot hold overlaps, so each ends where the next starts there")
    return chapters.replace_chapters(fitted), warnings


__all__ = ["CHPL_MAX_CHAPTERS", "CHPL_MAX_TITLE_BYTES", "exact_duration", "plan"]
