"""Reading MP3 chapters: the ``CHAP`` frames in ``CTOC`` order, the audio's length and end.

Why a module of its own. :mod:`chapterkit.containers.id3` writes chapters through
mutagen (v2.3 conversion, frame order, padding); reading them is a separate path
that does not load the whole tag through mutagen (:mod:`.id3frames` parses only the
chapter frames, in linear time), orders them by the table of contents, and checks
the audio behind the tag for truncation. See :mod:`chapterkit.containers.id3` for
the ID3v2 Chapter Frame Addendum and how readers disagree on ``CTOC`` versus file
order. Everything here stays importable from ``chapterkit.containers.id3``.
"""

from __future__ import annotations

import os
from fractions import Fraction

from chapterkit.containers import ReadResult
from chapterkit.containers._mutagen import check_not_empty, converted_errors
from chapterkit.containers._truncation import mp3_tail_problem
from chapterkit.containers.id3frames import read_tag
from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList

READER = "id3"

#: Tables of contents nested deeper than this are not followed (real tags: 1 or 2).
MAX_TOC_DEPTH = 64


def read_id3(path: str) -> ReadResult:
    """The chapters in ``path``'s ID3v2 tag, in table-of-contents order.

    The top-level ``CTOC`` is followed depth first through nested tables. ``CHAP``
    frames that no table lists are appended in start order, with a note. A chapter
    without ``TIT2`` gets the title ``""`` and a note.
    """
    name = os.fspath(path)
    tag, info = _read(name)
    problem = _check_whole(name, info)
    notes: list[str] = []
    chaps: dict[str, object] = {}
    tocs: dict[str, object] = {}
    if tag is not None:
        for frame in tag.chaps:
            chaps.setdefault(frame.element_id, frame)
        for frame in tag.tocs:
            tocs.setdefault(frame.element_id, frame)
    order = _toc_order(chaps, tocs, notes)
    chapters = [_chapter(chaps[element_id], notes) for element_id in order]
    starts = [frame.start_time for frame in chaps.values()]  # file order, as FFmpeg reads them
    if starts != sorted(starts):
        notes.append("CHAP frames are not stored in start order; FFmpeg-based readers "
                     "(ffprobe, Kodi) list them in file order")
    duration_ns = _duration_ns(info, name, notes)
    title = _text(tag.title) if tag is not None else None
    return ReadResult(READER, ChapterList(tuple(chapters), title or None, duration_ns), tuple(notes),
                      problems=(problem,) if problem else ())


# -- reading ---------------------------------------------------------------------------------


def _toc_order(chaps: dict, tocs: dict, notes: list[str]) -> list[str]:
    """Element ids of the ``CHAP`` frames in table-of-contents order, then the rest by start."""
    from mutagen.id3 import CTOCFlags

    listed = {child for toc in tocs.values() for child in toc.child_element_ids}
    roots = [toc for toc in tocs.values() if toc.flags & CTOCFlags.TOP_LEVEL]
    if not roots:
        roots = [toc for toc in tocs.values() if toc.element_id not in listed]
        if roots:
            notes.append("no CTOC is flagged top-level; following those no other CTOC lists")
    elif len(roots) > 1:
        notes.append(f"{len(roots)} CTOC frames are flagged top-level; following them in file order")

    order: list[str] = []
    seen: set[str] = set()
    unordered: list[str] = []

    def visit(root) -> None:
        # Depth first, with an explicit stack: a chain of tables can be any length.
        stack = [(root, iter(root.child_element_ids))]
        if not root.flags & CTOCFlags.ORDERED:
            unordered.append(root.element_id)
        while stack:
            toc, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                continue
            if child in seen:
                continue  # listed twice, or a cycle of tables
            seen.add(child)
            if child in chaps:
                order.append(child)
            elif child in tocs:
                if len(stack) >= MAX_TOC_DEPTH:
                    notes.append(f"CTOC {child!r} is nested more than {MAX_TOC_DEPTH} tables deep; "
                                 "its chapters are appended in start order")
                    continue
                nested = tocs[child]
                if not nested.flags & CTOCFlags.ORDERED:
                    unordered.append(nested.element_id)
                stack.append((nested, iter(nested.child_element_ids)))
            else:
                notes.append(f"CTOC {toc.element_id!r} lists {child!r}, but no CHAP or CTOC has that id")

    for root in roots:
        if root.element_id not in seen:
            seen.add(root.element_id)
            visit(root)
    if unordered:
        notes.append(f"CTOC {', '.join(map(repr, unordered))} not flagged ordered; "
                     "chapters sorted by start time")
        order.sort(key=lambda element_id: chaps[element_id].start_time)
    stray = sorted((element_id for element_id in chaps if element_id not in seen),
                   key=lambda element_id: chaps[element_id].start_time)
    if stray and tocs:
        notes.append(f"{len(stray)} CHAP frame(s) in no CTOC ({', '.join(map(repr, stray[:5]))}"
                     f"{', ...' if len(stray) > 5 else ''}); appended in start order")
    elif stray:
        notes.append("no CTOC frame; chapters ordered by start time")
    return order + stray


def _chapter(frame, notes: list[str]) -> Chapter:
    title = ""
    sub_frames = frame.sub_frames or {}
    if "TIT2" in sub_frames:
        title = _text(sub_frames["TIT2"])
        if len(sub_frames["TIT2"].text) > 1:
            notes.append(f"CHAP {frame.element_id!r} has a TIT2 with several values; joined with '/'")
    else:
        notes.append(f"CHAP {frame.element_id!r} has no TIT2 title (FFmpeg shows "
                     f"{frame.element_id!r} instead)")
    start_ns = frame.start_time * NS_PER_MS
    end_ns: int | None = frame.end_time * NS_PER_MS
    if frame.end_time < frame.start_time:
        notes.append(f"CHAP {frame.element_id!r} ends ({frame.end_time} ms) before it starts "
                     f"({frame.start_time} ms); end ignored")
        end_ns = None
    return Chapter(start_ns, end_ns, title)


def _text(frame) -> str:
    """A text frame's value; ID3v2.4 may hold several, joined as ID3v2.3 does."""
    return "" if frame is None else "/".join(str(value) for value in frame.text)


def _duration_ns(info, name: str, notes: list[str]) -> int | None:
    """The audio length, exact when mutagen's float is a whole number of samples.

    mutagen computes ``length`` as samples / sample rate from the Xing/LAME or VBRI
    header (``mp3/__init__.py``, encoder delay and padding already removed), so
    rounding ``length * sample_rate`` recovers the integer sample count exactly (a
    double carries 53 bits; the error is far below half a sample). Without such a
    header mutagen estimates from the file size and bitrate, which is no sample
    count: that estimate is rounded to whole milliseconds.
    """
    length = float(info.length)
    rate = int(getattr(info, "sample_rate", 0) or 0)
    if length <= 0:
        return None if length < 0 else 0
    if rate:
        scaled = Fraction(length) * rate
        samples = round(scaled)
        if abs(scaled - samples) < Fraction(1, 10**6):
            return (samples * NS_PER_SECOND * 2 + rate) // (2 * rate)
    notes.append("no Xing/VBRI header: duration estimated from file size and bitrate, "
                 "rounded to ms")
    return round(Fraction(length) * 1000) * NS_PER_MS


def _check_whole(name: str, info) -> str | None:
    """Why an MP3 is cut short, or None: every chapter still reads, but the audio is gone.

    Reported as a problem beside the chapters, not raised: mutagen and FFmpeg read
    the chapters of a trimmed sample or a partial download, and so does ``show``.

    The Xing/Info header (LAME, FFmpeg) counts the stream's bytes exactly, so a file
    holding fewer is truncated (see :mod:`chapterkit.containers._truncation`).
    """
    try:
        with open(name, "rb") as handle:
            problem = mp3_tail_problem(handle, int(info.frame_offset))
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb="reading chapters from") from None
    except (AttributeError, TypeError, ValueError):
        return None  # no first frame offset: nothing to compare with
    return problem


# -- loading ---------------------------------------------------------------------------------


def _read(name: str):
    """The chapter frames (:mod:`.id3frames`, linear time) and mutagen's MPEG info of ``name``."""
    from mutagen.mp3 import MPEGInfo

    from chapterkit._files import open_regular

    verb = "reading chapters from"
    check_not_empty(name, verb)
    with converted_errors(name, verb, "not a readable MP3 file"):
        try:
            handle = open_regular(name)
        except ValueError as exc:
            raise MediaError(str(exc), path=name, verb=verb) from None
        with handle:
            tag = read_tag(handle)
            return tag, MPEGInfo(handle, tag.size if tag is not None else None)
