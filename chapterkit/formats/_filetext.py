"""Small pieces every file-format module shares: numbered lines, exact decimals, notes.

The tool-written formats (mp4chaps, CUE, Audacity labels, Podlove, Podcasting
2.0, yt-dlp) are read as written: no YouTube rules, only what a container needs
(no negative time, no end before its start). Their writers cannot always keep
everything (CUE has 75 frames a second and 99 tracks, mp4chaps milliseconds);
``render_checked`` in those modules returns the text *and* one warning
:class:`~chapterkit.diagnostics.Diagnostic` per thing it could not keep, and
``render`` is the text alone (see :func:`chapterkit.formats.render_checked`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import SourceError
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList

_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_NS = 2**63 - 1


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """``(lineno, line)`` for every physical line; a BOM is dropped, CR, LF and CRLF end lines."""
    text = text.lstrip("\ufeff")
    lines = _BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return list(enumerate(lines, 1))


def head(text: str, limit: int) -> str:
    """The whole lines within the first ``limit`` characters (all of ``text`` when it is shorter)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[:max(cut.rfind("\n"), cut.rfind("\r")) + 1]


def decimal_ns(text: str, where: str) -> int:
    """Decimal seconds (``12.5``, ``-0``, ``1e3`` is refused) to ns, rounded half up; SourceError names ``where``."""
    if not re.fullmatch(r"\d+(?:\.\d*)?|\.\d+", text):
        raise SourceError(f"{where}: expected seconds such as 12.5, not {text[:40]!r}")
    return _scale(Decimal(text), where)


def number_ns(value: object, where: str) -> int:
    """A JSON number of seconds to ns. Floats go through their shortest repr, which is the
    text the writer printed for every JSON writer that prints shortest floats (Python, JS)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SourceError(f"{where}: expected a number of seconds, not {str(value)[:40]!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise SourceError(f"{where}: {value!r} is not a time") from None
    if not number.is_finite():
        raise SourceError(f"{where}: {value!r} is not a time")
    if number < 0:
        raise SourceError(f"{where}: negative time {value!r}")
    return _scale(number, where)


def _scale(number: Decimal, where: str) -> int:
    if number * NS_PER_SECOND > _MAX_NS:
        raise SourceError(f"{where}: {number} s is longer than any media can be")
    return int((number * NS_PER_SECOND).to_integral_value(rounding="ROUND_HALF_UP"))


def within_range(ns: int, where: str) -> int:
    """``ns`` when a signed 64-bit count holds it (every container's limit), else SourceError."""
    if ns > _MAX_NS:
        raise SourceError(f"{where}: the time is longer than any media can be")
    return ns


def fixed(ns: int, digits: int) -> str:
    """Seconds with exactly ``digits`` decimals, rounded half up (``1.500000``)."""
    unit = 10 ** (9 - digits)
    ticks = (ns + unit // 2) // unit
    whole, frac = divmod(ticks, 10 ** digits)
    return f"{whole}.{frac:0{digits}d}" if digits else str(whole)


def clock(ns: int, digits: int = 3) -> str:
    """``HH:MM:SS.mmm`` (hours at least two digits), rounded half up to ``digits`` decimals."""
    unit = 10 ** (9 - digits)
    ticks = (ns + unit // 2) // unit
    whole, frac = divmod(ticks, 10 ** digits)
    minutes, seconds = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{frac:0{digits}d}" if digits else text


def rounded(ns: int, unit_ns: int) -> int:
    """``ns`` rounded half up to a multiple of ``unit_ns``."""
    return (ns + unit_ns // 2) // unit_ns * unit_ns


def one_line(title: str) -> str:
    """A title on one line: every run of line breaks and tabs becomes one space."""
    return re.sub(r"[\r\n\t\v\f\x85\u2028\u2029]+", " ", title)


class Notes:
    """Diagnostics collected while reading or writing one text."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, lineno: int = 0, line: str = "", *,
            severity: str = "warning") -> None:
        self.items.append(Diagnostic(code, message, lineno, line, None, severity))

    def __call__(self) -> tuple[Diagnostic, ...]:
        """The notes in line order (list-level notes, line 0, first)."""
        return tuple(sorted(self.items, key=lambda item: item.lineno))


def ends_lost(chapters: ChapterList, notes: Notes, fmt: str) -> None:
    """Warn for every chapter whose end is not where the next one starts (the format keeps starts only)."""
    for index, chapter in enumerate(chapters):
        following = chapters[index + 1].start_ns if index + 1 < len(chapters) else chapters.duration_ns
        if chapter.end_ns is not None and chapter.end_ns != following:
            notes.add("end_not_kept", f"chapter {index + 1} ({chapter.title[:40]!r}) ends at "
                      f"{chapter.end_ns / NS_PER_SECOND:g} s, not where the next begins: {fmt} keeps starts only")


def check_sorted(rows: list[tuple], linenos: list[int], notes: Notes) -> None:
    """An info note on each row that starts before the one above it (kept in place: read as written)."""
    for index in range(1, len(rows)):
        if rows[index][0] < rows[index - 1][0]:
            notes.add("unsorted", "chapter starts before the previous one (kept in file order)",
                      linenos[index], severity="info")


def build_list(rows: list[tuple], title: str | None = None, duration_ns: int | None = None) -> ChapterList:
    """A ChapterList from ``(start_ns, end_ns | None, title[, img, url])`` rows, each Chapter made once.

    Missing ends are filled here by the model's own rule (the next start when it is
    not earlier, the last one at the duration), so ChapterList has nothing left to
    replace: building 20,000 chapters then costs one dataclass each, not two.
    """
    chapters = []
    last = len(rows) - 1
    for index, row in enumerate(rows):
        start, end = row[0], row[1]
        if end is None:
            following = rows[index + 1][0] if index < last else duration_ns
            if following is not None and following >= start:
                end = following
        chapters.append(Chapter(start, end, *row[2:]))
    return ChapterList(tuple(chapters), title, duration_ns)
