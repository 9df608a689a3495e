"""Compare one reader's chapters with the list they came from, chapter by chapter.

This is the rule book of ``verify`` (:func:`chapterkit.verify.verify_file` runs the
readers and calls :func:`compare` once per reading; ``players`` and ``batch`` call it
on readings of their own). It produces :mod:`chapterkit.verdicts` reports and nothing
else: no I/O, no printing.

What is checked, per reader:

- **Starts.** ``drift = actual - expected`` in ns; within ``tolerance_ns``
  (inclusive) is ok. A drift below one unit of what the carrier stores is a
  warning, not a failure: a 1 ms ID3 frame cannot hold 1.000123 s. The unit is
  the reader's ``precision_ns``, or coarser when every value the reader returned
  sits on a 1 µs .. 1 ms decimal grid (a QuickTime track written with
  ``-movie_timescale 1000`` rounds to ms, measured -123 µs on 1.000123 s).
- **Titles**, exactly, after NFC normalisation on both sides.
- **Ends**, only where the carrier stores them (``ReaderInfo.stores_ends``;
  ``libav`` only on containers whose own reader does, since FFmpeg fills the
  rest itself). An end that is simply the next start on both sides is not
  checked again: the next row's start says it. A last chapter the source leaves
  open is checked against the reader's media duration, as a warning only: tools
  disagree on durations by a few frames (44 ms measured on one MP3 between FFmpeg
  9's probe and mutagen, 13 ms on an MKV between FFmpeg 5.1 and its Segment).
- **Count**, and that no chapter starts at or past the reader's media duration.

Documented container limits are warnings when the reading shows exactly the
limited form (``containers.md`` in the project research):

- a title cut to ``max_title_bytes`` on a UTF-8 boundary (MP4 ``chpl``: 255).
  chapterkit writes the same cut titles to every chapter list of a file, so when
  :func:`~chapterkit.verify.verify_file` knows the container the tightest limit of its readers
  applies to all of them;
- more chapters than ``max_chapters`` when the reader shows exactly the first
  ``max_chapters`` (chpl: 255, FFmpeg's Vorbis comments: 1000);
- the QuickTime chapter track's shape (§2.1), for ``quicktime`` and for
  ``libav`` reading an MP4 (FFmpeg lets that track override chpl): the first
  chapter starts at 0, and every chapter but the last runs to the next start,
  so gaps close and intermediate ends are lost.

**Alignment.** Players show chapters by position, so with equal counts and no
problems rows pair by index. Otherwise rows are aligned by a small edit-distance
pass over both lists sorted by start (a pair costs one per failing start or
title, a missing or extra chapter costs one), so one missing chapter shows as
one ``missing`` row instead of every later chapter drifting. Ties keep pairs.
Lists too large for that (over a million cells) pair by index.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chapterkit import containers
from chapterkit.containers import READERS, ReaderInfo, ReadResult
from chapterkit.model import NS_PER_MS, Chapter, ChapterList, cut_utf8
from chapterkit.timecode import format_clock
from chapterkit.verdicts import SEVERITY, ChapterCheck, ReaderReport, Status, format_drift, format_unit

#: A last chapter that ends this close to the media's end is fine: durations differ
#: between tools by a few audio or video frames (44 ms measured on an MP3).
DURATION_SLACK_NS = 100 * NS_PER_MS
#: Above this many cells (expected x actual) rows pair by index instead of aligning.
MAX_ALIGN_CELLS = 1_000_000


@dataclass(frozen=True, slots=True)
class _Want:
    """A source chapter and the forms a documented limit allows the reader to show."""

    index: int
    chapter: Chapter
    title: str                  # NFC
    cut_title: str | None       # NFC title cut to the title limit, when that changes it
    cut_limit: int | None
    shape_start: int | None     # QuickTime: 0 for a first chapter that starts later
    shape_end: int | None       # QuickTime: the next start, when the source's end differs


@dataclass(frozen=True, slots=True)
class _Context:
    reader: str
    info: ReaderInfo
    tolerance_ns: int
    unit_ns: int
    duration_ns: int | None


def compare(expected: ChapterList, result: ReadResult, tolerance_ns: int, *,
            container: str | None = None) -> ReaderReport:
    """Compare one reader's chapters with the source; see the module docstring for the rules.

    ``container`` (a ``containers.CONTAINER_READERS`` key) lets the limits of the
    file's other chapter lists apply: chapterkit cuts MP4 titles to the chpl limit
    for the QuickTime track too, and FFmpeg shows the QuickTime track's shape.
    """
    info = _reader_info(result.reader, container)
    actual = sorted(result.chapters, key=lambda c: c.start_ns)
    context = _Context(result.reader, info, tolerance_ns, _unit_ns(info, actual), result.chapters.duration_ns)
    wanted = _wanted(expected, info, container)
    problems: list[str] = list(result.problems)
    warnings: list[str] = []
    if list(result.chapters) != actual:
        warnings.append("chapters are not stored in start order; players that list them as stored "
                        "show them out of order")
    tail: list[_Want] = []
    if info.max_chapters is not None and len(wanted) > info.max_chapters == len(actual):
        wanted, tail = wanted[:info.max_chapters], wanted[info.max_chapters:]
        warnings.append(f"{len(actual)} of {len(expected)} chapters: {result.reader} holds at most "
                        f"{info.max_chapters}")
    elif len(actual) != len(wanted):
        problems.append(f"{len(actual)} chapters, expected {len(wanted)}" if actual else "no chapters found")
    rows = [_row(pair, wanted, actual, context) for pair in _align(wanted, actual, context)]
    rows += [ChapterCheck(want.index, None, want.chapter, None, "warning",
                          warnings=(f"not stored: {result.reader} holds at most {info.max_chapters} chapters",))
             for want in tail]
    return ReaderReport(result.reader, tuple(rows), tolerance_ns, context.unit_ns, len(expected), len(actual),
                        context.duration_ns, tuple(problems), tuple(warnings), tuple(result.notes))


def _reader_info(name: str, container: str | None) -> ReaderInfo:
    """The reader's capabilities; ``libav`` stores ends only where the container does.

    FFmpeg fills every end it is not given (the next start, or its own duration
    for the last chapter), so on Ogg and FLAC its ends are derived, like vorbis's.
    """
    info = READERS.get(name) or ReaderInfo(name, "", "", name, stores_ends=False, precision_ns=1)
    native = containers.CONTAINER_READERS.get(container or "", ())
    if name == "libav" and native:
        info = replace(info, stores_ends=READERS[native[0]].stores_ends)
    return info


def _wanted(expected: ChapterList, info: ReaderInfo, container: str | None) -> list[_Want]:
    chapters = sorted(expected, key=lambda c: c.start_ns)
    limit = _title_limit(info, container)
    # FFmpeg's mov demuxer lets the QuickTime track override chpl (mov.c mov_read_chapters).
    quicktime = info.name == "quicktime" or (info.name == "libav" and container == "mp4")
    wanted = []
    for index, chapter in enumerate(chapters):
        title = _nfc(chapter.title)
        cut = None
        if limit is not None:
            cut = next((_nfc(c) for c in (cut_utf8(chapter.title, limit), cut_utf8(title, limit))
                        if _nfc(c) != title), None)
        shape_start = shape_end = None
        if quicktime:
            # movenc.c writes chapter samples back to back from 0 and derives each
            # sample's duration from the next one (containers.md §2.1).
            if index == 0 and chapter.start_ns > 0:
                shape_start = 0
            if index + 1 < len(chapters) and chapter.end_ns != chapters[index + 1].start_ns:
                shape_end = chapters[index + 1].start_ns
        wanted.append(_Want(index + 1, chapter, title, cut, limit if cut is not None else None,
                            shape_start, shape_end))
    return wanted


def _title_limit(info: ReaderInfo, container: str | None) -> int | None:
    limits = [READERS[name].max_title_bytes for name in containers.CONTAINER_READERS.get(container or "", ())]
    limits = [limit for limit in limits + [info.max_title_bytes] if limit is not None]
    return min(limits, default=None)


def _unit_ns(info: ReaderInfo, actual: Sequence[Chapter]) -> int:
    """The carrier's time unit: ``precision_ns``, or the decimal grid (<= 1 ms) every value sits on."""
    values = [c.start_ns for c in actual]
    if info.stores_ends:
        values += [c.end_ns for c in actual if c.end_ns is not None]
    values = [value for value in values if value]
    grid = NS_PER_MS
    while grid > info.precision_ns and values:
        if all(value % grid == 0 for value in values):
            return grid
        grid //= 10
    return info.precision_ns


def _align(wanted: Sequence[_Want], actual: Sequence[Chapter],
           context: _Context) -> list[tuple[int | None, int | None]]:
    """Pairs of (wanted index, actual index), either None for a missing or an extra chapter."""
    n, m = len(wanted), len(actual)
    titles = [_nfc(chapter.title) for chapter in actual]

    def cost(i: int, j: int) -> int:
        want = wanted[i]
        return (not _start_ok(want, actual[j], context)) + (titles[j] not in (want.title, want.cut_title))

    if n == m and all(cost(i, i) == 0 for i in range(n)) or n * m > MAX_ALIGN_CELLS:
        pairs: list[tuple[int | None, int | None]] = list(zip(range(n), range(m)))
        return pairs + [(i, None) for i in range(m, n)] + [(None, j) for j in range(n, m)]
    table = [[i + j if i == 0 or j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        row, above = table[i], table[i - 1]
        for j in range(1, m + 1):
            row[j] = min(above[j - 1] + cost(i - 1, j - 1), above[j] + 1, row[j - 1] + 1)
    pairs, i, j = [], n, m
    while i or j:
        if i and j and table[i][j] == table[i - 1][j - 1] + cost(i - 1, j - 1):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and table[i][j] == table[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


def _start_ok(want: _Want, have: Chapter, context: _Context) -> bool:
    drift = abs(have.start_ns - want.chapter.start_ns)
    if drift <= context.tolerance_ns or drift < context.unit_ns:
        return True
    return want.shape_start is not None and abs(have.start_ns - want.shape_start) <= context.tolerance_ns


def _title_check(want: _Want, have: Chapter) -> tuple[str, str]:
    title = _nfc(have.title)
    if title == want.title:
        return "ok", ""
    if title == want.cut_title:
        size = len(want.title.encode("utf-8"))
        return "warning", f"title cut to {len(title.encode('utf-8'))} of {size} bytes (limit {want.cut_limit})"
    return "fail", f"title is {_show(have.title)}, expected {_show(want.chapter.title)}"


def _row(pair: tuple[int | None, int | None], wanted: Sequence[_Want], actual: Sequence[Chapter],
         context: _Context) -> ChapterCheck:
    i, j = pair
    if j is None:
        want = wanted[i]  # type: ignore[index]
        return ChapterCheck(want.index, None, want.chapter, None, "missing", problems=(
            f"missing: {_show(want.chapter.title)} at {format_clock(want.chapter.start_ns)}",))
    have = actual[j]
    if i is None:
        reason = f"extra: {_show(have.title)} at {format_clock(have.start_ns)} is not in the source"
        return ChapterCheck(None, j + 1, None, have, "extra", problems=(reason,))
    want = wanted[i]
    problems: list[tuple[Status, str]] = []
    warnings: list[str] = []
    drift = have.start_ns - want.chapter.start_ns
    counted = _check_start(want, have, drift, context, problems, warnings)
    verdict, text = _title_check(want, have)
    if verdict == "fail":
        problems.append(("title", text))
    elif verdict == "warning":
        warnings.append(text)
    # An end that is just where the next chapter starts (or the media ends), on
    # both sides, says nothing the next row does not; checking it as well would
    # repeat every drift, missing or extra chapter once more.
    natural_want = i + 1 < len(wanted) and want.chapter.end_ns == wanted[i + 1].chapter.start_ns
    natural_have = have.end_ns == (actual[j + 1].start_ns if j + 1 < len(actual) else context.duration_ns)
    if context.info.stores_ends and not (natural_want and natural_have):
        _check_end(want, have, i + 1 == len(wanted), context, problems, warnings)
    if context.duration_ns is not None and have.start_ns >= context.duration_ns:
        problems.append(("beyond_duration", f"starts at {format_clock(have.start_ns)}, at or past the "
                                            f"media's end ({format_clock(context.duration_ns)})"))
    statuses = {status for status, _ in problems} | ({"warning"} if warnings else set())
    status = next((s for s in SEVERITY if s in statuses), "ok")
    return ChapterCheck(want.index, j + 1, want.chapter, have, status, drift,
                        tuple(text for _, text in problems), tuple(warnings), counted)


def _check_start(want: _Want, have: Chapter, drift: int, context: _Context,
                 problems: list[tuple[Status, str]], warnings: list[str]) -> bool:
    """Judge the start; returns whether its drift counts towards max drift."""
    if abs(drift) <= context.tolerance_ns:
        return True
    if abs(drift) < context.unit_ns:
        warnings.append(f"start {format_drift(drift)} off: {context.reader} stores "
                        f"{format_unit(context.unit_ns)} units")
        return True
    if want.shape_start is not None and abs(have.start_ns - want.shape_start) <= context.tolerance_ns:
        warnings.append(f"starts at {format_clock(have.start_ns)}, not {format_clock(want.chapter.start_ns)}: "
                        "a QuickTime chapter track always starts at 0")
        return False
    problems.append(("drift", f"starts at {format_clock(have.start_ns)}, expected "
                              f"{format_clock(want.chapter.start_ns)} ({format_drift(drift)})"))
    return True


def _check_end(want: _Want, have: Chapter, last: bool, context: _Context,
               problems: list[tuple[Status, str]], warnings: list[str]) -> None:
    if have.end_ns is None:
        return
    expected_end = want.chapter.end_ns
    if expected_end is None:
        if last and context.duration_ns is not None:
            slack = max(context.tolerance_ns, DURATION_SLACK_NS)
            if abs(have.end_ns - context.duration_ns) > slack:
                warnings.append(f"the last chapter ends at {format_clock(have.end_ns)}, the media at "
                                f"{format_clock(context.duration_ns)}")
        return
    drift = have.end_ns - expected_end
    if abs(drift) <= context.tolerance_ns:
        return
    if abs(drift) < context.unit_ns:
        warnings.append(f"end {format_drift(drift)} off: {context.reader} stores {format_unit(context.unit_ns)} units")
    elif want.shape_end is not None and abs(have.end_ns - want.shape_end) <= context.tolerance_ns:
        warnings.append(f"ends at {format_clock(have.end_ns)}, not {format_clock(expected_end)}: a QuickTime "
                        "chapter track cannot hold gaps, so each chapter runs to the next")
    else:
        problems.append(("drift", f"ends at {format_clock(have.end_ns)}, expected {format_clock(expected_end)} "
                                  f"({format_drift(drift)})"))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _show(title: str, limit: int = 60) -> str:
    """A title for a one-line message: quoted, escaped, and shortened when long."""
    return repr(title if len(title) <= limit else title[:limit - 1] + "…")


__all__ = ["DURATION_SLACK_NS", "MAX_ALIGN_CELLS", "compare"]
