"""Compare the chapters each reader finds in a file with the list they came from.

:func:`verify_file` runs every reader that applies to a file (or the ones asked
for) and :func:`compare` checks one reading against the source, chapter by
chapter. Nothing here prints or exits: the result is a :class:`VerifyReport`,
and :mod:`chapterkit.reports` renders it; the CLI turns ``exit_code`` into the
process status (0 every reader within tolerance, 1 any failure).

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
  :func:`verify_file` knows the container the tightest limit of its readers
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

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Literal

from chapterkit import containers
from chapterkit.containers import READERS, ReaderInfo, ReadResult
from chapterkit.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ChapterkitError, UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList, cut_utf8
from chapterkit.timecode import format_clock

Status = Literal["ok", "drift", "title", "missing", "extra", "beyond_duration", "warning"]

NS_PER_US = 1_000
#: A last chapter that ends this close to the media's end is fine: durations differ
#: between tools by a few audio or video frames (44 ms measured on an MP3).
DURATION_SLACK_NS = 100 * NS_PER_MS
#: Above this many cells (expected x actual) rows pair by index instead of aligning.
MAX_ALIGN_CELLS = 1_000_000
#: Worst status first: a row shows the first of these that applies.
_SEVERITY: tuple[Status, ...] = ("missing", "extra", "beyond_duration", "drift", "title", "warning", "ok")


@dataclass(frozen=True, slots=True)
class ChapterCheck:
    """One row: a source chapter, what the reader shows for it, and the verdict.

    ``expected_index``/``actual_index`` are 1-based positions in the lists sorted
    by start (None for an extra or a missing chapter). ``problems`` say why the row
    fails; ``warnings`` name the documented limits that explain a difference.
    ``drift_counted`` is False when the start differs only as a documented limit
    explains (QuickTime moves a first chapter to 0), so it stays out of max drift.
    """

    expected_index: int | None
    actual_index: int | None
    expected: Chapter | None
    actual: Chapter | None
    status: Status
    drift_ns: int | None = None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    drift_counted: bool = True

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "warning")

    @property
    def title(self) -> str:
        """The source's title, or the reader's for an extra chapter."""
        chapter = self.expected if self.expected is not None else self.actual
        return chapter.title if chapter is not None else ""


@dataclass(frozen=True, slots=True)
class ReaderReport:
    """How one reader's view of the file compares with the source."""

    reader: str
    rows: tuple[ChapterCheck, ...]
    tolerance_ns: int
    unit_ns: int
    expected_count: int
    actual_count: int
    duration_ns: int | None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: Why the reader could not read the file at all (then ``rows`` is empty and
    #: ``problems`` says the same); the other readers still report.
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems and all(row.ok for row in self.rows)

    @property
    def status(self) -> Literal["ok", "fail"]:
        return "ok" if self.ok else "fail"

    @property
    def summary(self) -> str:
        info = READERS.get(self.reader)
        return info.summary if info else self.reader

    @property
    def max_drift_ns(self) -> int:
        return max((abs(row.drift_ns) for row in self.rows if row.drift_ns is not None and row.drift_counted),
                   default=0)

    def counts(self) -> dict[str, int]:
        """Rows per status, worst first, only the statuses present."""
        found = {status: sum(row.status == status for row in self.rows) for status in _SEVERITY}
        return {status: count for status, count in found.items() if count}


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Every reader's comparison for one media file; ``ok`` only if every reader is."""

    media: str
    expected: ChapterList
    tolerance_ns: int
    readers: tuple[ReaderReport, ...]
    container: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.readers) and all(reader.ok for reader in self.readers)

    @property
    def exit_code(self) -> int:
        """The worst outcome: 2 when a reader could not read the file, 1 for findings, else 0."""
        if any(reader.error is not None for reader in self.readers):
            return EXIT_ERROR
        return EXIT_OK if self.ok else EXIT_FINDINGS

    @property
    def max_drift_ns(self) -> int:
        return max((reader.max_drift_ns for reader in self.readers), default=0)

    @property
    def warning_count(self) -> int:
        return sum(len(r.warnings) + sum(len(row.warnings) for row in r.rows) for r in self.readers)

    def headline(self) -> str:
        """One line: what matched, or which readers failed and the first reason."""
        readers = _plural(len(self.readers), "reader")
        if self.ok:
            warnings = self.warning_count
            extra = f"; {_plural(warnings, 'warning')}" if warnings else ""
            return (f"{_plural(len(self.expected), 'chapter')} match in {readers} "
                    f"(max drift {format_drift(self.max_drift_ns, signed=False)}{extra})")
        failed = [reader for reader in self.readers if not reader.ok]
        if not failed:
            return "no reader applies"
        parts = []
        for reader in failed:
            counts = [f"{n} {status}" for status, n in reader.counts().items() if status not in ("ok", "warning")]
            parts.append(f"{reader.reader} ({', '.join(counts)})" if counts else reader.reader)
        return (f"{len(failed)} of {readers} disagree with the source: {', '.join(parts)}; "
                f"first: {failed[0].reader} {_first_problem(failed[0])}; "
                f"tolerance {format_unit(self.tolerance_ns)}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def _first_problem(reader: ReaderReport) -> str:
    for row in reader.rows:
        if row.problems:
            number = row.expected_index if row.expected_index is not None else f"+{row.actual_index}"
            return f"chapter {number}: {row.problems[0]}"
    return reader.problems[0] if reader.problems else "failed"


# -- tolerance -----------------------------------------------------------------------------------

_TOLERANCE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|μs|ms|s)?$")
_UNITS = {"ns": 1, "us": NS_PER_US, "µs": NS_PER_US, "μs": NS_PER_US, "ms": NS_PER_MS, "s": NS_PER_SECOND}


def parse_tolerance(text: str) -> int:
    """``250ms``, ``0.25s``, ``500us``, ``100ns`` or a bare number of seconds (``2``, ``1.5``) to ns.

    Exact: the number goes through :class:`~fractions.Fraction` and is rounded
    half up to a whole ns. Raises :class:`UsageError` for anything else.
    """
    match = _TOLERANCE.match(str(text).strip().lower())
    if not match:
        raise UsageError(f"tolerance {text!r} is not a duration: give seconds (2, 0.25) "
                         "or a number with a unit (250ms, 500us, 100ns)")
    value = Fraction(match[1]) * _UNITS[match[2] or "s"]
    return int(value + Fraction(1, 2))


def default_tolerance_ns(expected: ChapterList) -> int:
    """The drift a source's own precision allows.

    Starts all on whole seconds (``4:24``): 1 s. All on whole milliseconds, which
    includes tenths and hundredths (``4:24.5``): 1 ms. Anything finer: 1 µs, the
    floor, since no player seeks finer and rational track timescales (1/48000 s)
    cannot hold arbitrary nanoseconds anyway.
    """
    for unit in (NS_PER_SECOND, NS_PER_MS):
        if all(start % unit == 0 for start in expected.starts_ns):
            return unit
    return NS_PER_US


# -- running the readers -------------------------------------------------------------------------


def verify_file(path: str | os.PathLike[str], expected: ChapterList, *, readers: Sequence[str] | None = None,
                tolerance_ns: int | None = None, ffmpeg: object | None = None) -> VerifyReport:
    """Read ``path`` with every applicable reader (or ``readers``) and compare each with ``expected``.

    ``tolerance_ns`` defaults to :func:`default_tolerance_ns`. ``ffmpeg`` (a path
    or a ``muxer.FFmpegBinary``) goes to the ``libav`` reader only. A reader that
    fails gives a report with ``error`` set, so the others still report. Raises
    :class:`~chapterkit.errors.MediaError` when no reader can open the file (missing,
    not a container) and :class:`UsageError` for an unknown or inapplicable reader.
    """
    name = os.fspath(path)
    tolerance = default_tolerance_ns(expected) if tolerance_ns is None else tolerance_ns
    if tolerance < 0:
        raise UsageError(f"tolerance {tolerance} ns is negative")
    container = containers.sniff(name)
    reports = []
    errors = []
    for reader in containers.readers_for(container, readers):
        try:
            result = containers.run_reader(reader, name, ffmpeg)
        except ChapterkitError as exc:
            errors.append(exc)
            reports.append(ReaderReport(reader, (), tolerance, READERS[reader].precision_ns, len(expected), 0,
                                        None, (f"cannot read: {exc}",), error=str(exc)))
            continue
        reports.append(compare(expected, result, tolerance, container=container))
    if errors and len(errors) == len(reports):
        raise errors[0]  # no reader could read it: one line, as for a file that is not media
    return VerifyReport(name, expected, tolerance, tuple(reports), container)


# -- comparing one reading -----------------------------------------------------------------------


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
    status = next((s for s in _SEVERITY if s in statuses), "ok")
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


# -- small helpers -------------------------------------------------------------------------------


def format_drift(ns: int, *, signed: bool = True) -> str:
    """Exact decimal seconds, at least 3 decimals: ``+0.000123 s``, ``-2.000 s``, ``0.000 s``."""
    sign = ("+" if ns > 0 else "-" if ns < 0 else "") if signed else ("-" if ns < 0 else "")
    whole, frac = divmod(abs(ns), NS_PER_SECOND)
    digits = f"{frac:09d}".rstrip("0").ljust(3, "0")
    return f"{sign}{whole}.{digits} s"


def format_unit(ns: int) -> str:
    """A tolerance or unit in its largest exact unit: ``1 s``, ``250 ms``, ``100 ns``."""
    for unit, name in ((NS_PER_SECOND, "s"), (NS_PER_MS, "ms"), (NS_PER_US, "µs")):
        if ns >= unit and ns % unit == 0:
            return f"{ns // unit} {name}"
    return f"{ns} ns"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _show(title: str, limit: int = 60) -> str:
    """A title for a one-line message: quoted, escaped, and shortened when long."""
    return repr(title if len(title) <= limit else title[:limit - 1] + "…")


__all__ = ["ChapterCheck", "ReaderReport", "VerifyReport", "compare", "default_tolerance_ns",
           "format_drift", "format_unit", "parse_tolerance", "verify_file"]
