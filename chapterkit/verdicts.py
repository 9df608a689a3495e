"""What ``verify`` concludes: the report model, tolerances and the units messages use.

:func:`chapterkit.compare.compare` fills these reports, :func:`chapterkit.verify.verify_file`
gathers them per file, :mod:`chapterkit.reports` and :mod:`chapterkit.players` render and
reuse them, and ``embed`` and ``batch`` read their verdicts. Kept apart from the comparison
rules so that every consumer of a report depends on this small model only, and the
tolerance a user types (``--tolerance 250ms``) is parsed in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from chapterkit.containers import READERS
from chapterkit.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList

Status = Literal["ok", "drift", "title", "missing", "extra", "beyond_duration", "warning"]

NS_PER_US = 1_000
#: Worst status first: a row shows the first of these that applies.
SEVERITY: tuple[Status, ...] = ("missing", "extra", "beyond_duration", "drift", "title", "warning", "ok")


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
        found = {status: sum(row.status == status for row in self.rows) for status in SEVERITY}
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


# -- units in messages ---------------------------------------------------------------------------

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


__all__ = ["NS_PER_US", "SEVERITY", "ChapterCheck", "ReaderReport", "Status", "VerifyReport",
           "default_tolerance_ns", "format_drift", "format_unit", "parse_tolerance"]
