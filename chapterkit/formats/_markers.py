"""What the editors' marker exports share: a marker, the rate, the timeline start, the colour filter.

An editor marks positions on a timeline whose first frame is labelled with a start
timecode (Resolve: ``01:00:00:00``, Premiere and Final Cut: ``00:00:00:00`` unless
changed). A chapter starts at ``marker - timeline start``. :func:`finish` turns the
markers a reader found into chapters the same way for every format:

1. ``--marker-color`` keeps markers of one colour (case-insensitive; Resolve's
   ``ResolveColorBlue`` is ``blue``); each marker left out gets an ``other_color`` note.
2. The timeline start is subtracted; a marker before it cannot be a chapter
   (``before_timeline_start``), nor one past a known media duration (``beyond_duration``).
3. Chapters are put in time order with a stable sort (equal starts stay as written).

Markers are read as written: one chapter, equal starts and a first chapter after
0:00 are all fine (YouTube's rules belong to YouTube). A marker with a duration of
more than one frame is a range, so its chapter ends where the range ends; a point
marker ends where the next chapter starts.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, UsageError
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList
from chapterkit.timecode import SmpteClock, format_clock, parse_rate


class Marker(NamedTuple):
    """One marker as a file states it, in the reader's time unit (frames, or seconds).

    ``start`` is timeline time before the start timecode is subtracted; ``end`` is given
    when the marker is a range. A tuple, not a dataclass: files hold tens of thousands.
    """

    lineno: int
    line: str
    start: int | Fraction
    title: str
    end: int | Fraction | None = None
    color: str | None = None


def require_rate(options: ParseOptions, what: str) -> Fraction:
    """The exact frame rate from ``--fps``; a usage error when the format cannot know it."""
    if options.fps is None:
        raise UsageError(f"{what} timecodes are frame numbers and the file does not say its frame "
                         f"rate: pass --fps (e.g. 25, 29.97, 30000/1001)")
    try:
        return parse_rate(options.fps)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def timecode_option(text: str, clock: SmpteClock, drop: bool) -> int:
    """``--timeline-start`` in frames, counted as the file counts (``drop``) unless it says ``;``."""
    try:
        return clock.frames(text, drop or None)
    except ValueError as exc:
        raise UsageError(f"timeline start {text!r}: {exc}") from None


def color_key(color: str | None) -> str:
    """``ResolveColorBlue``, ``BLUE`` and ``blue`` are the same colour."""
    key = (color or "").strip().lower()
    return key[len("resolvecolor"):] if key.startswith("resolvecolor") else key


def finish(markers: list[Marker], diagnostics: list[Diagnostic], options: ParseOptions,
           timeline_start: int | Fraction, what: str, unit: Fraction = Fraction(1)) -> ParseResult:
    """Markers to chapters (the steps in the module docstring); NoChaptersError when none is left.

    Times are in ``unit`` seconds (``1/rate`` when the reader counts frames), so the start is
    subtracted exactly before anything is rounded to nanoseconds.
    """
    wanted = color_key(options.marker_color) if options.marker_color else None
    duration = options.duration_ns
    kept: list[tuple[int, int | None, str, int]] = []
    for marker in markers:
        if wanted is not None and color_key(marker.color) != wanted:
            diagnostics.append(Diagnostic(
                "other_color", f"marker {marker.title!r} is {marker.color or 'without a colour'}, "
                f"not {options.marker_color}: left out", marker.lineno, marker.line, severity="info"))
            continue
        start = marker.start - timeline_start if timeline_start else marker.start
        if start < 0:
            diagnostics.append(Diagnostic(
                "before_timeline_start", f"marker {marker.title!r} is {format_clock(_ns(-start, unit))} before "
                "the timeline start: left out", marker.lineno, marker.line))
            continue
        start_ns = _ns(start, unit)
        if duration is not None and start_ns >= duration and start_ns:
            diagnostics.append(Diagnostic(
                "beyond_duration", f"marker {marker.title!r} at {format_clock(start_ns)} is past the media's end",
                marker.lineno, marker.line))
            continue
        end_ns = None if marker.end is None else max(start_ns, _ns(marker.end - timeline_start, unit))
        kept.append((start_ns, end_ns, marker.title, marker.lineno))
    if not kept:
        reason = f"no {what} markers found" if not markers else \
            f"none of the {len(markers)} {what} markers is a chapter"
        diagnostics.append(Diagnostic("no_chapters", reason, severity="error"))
        raise NoChaptersError(reason, diagnostics=sorted(diagnostics, key=lambda d: d.lineno))
    kept.sort(key=lambda item: item[0])  # stable: equal starts stay as written
    # Ends as ChapterList would fill them (next start, else the duration), made here in one pass.
    chapters = []
    for index, (start_ns, end_ns, title, _lineno) in enumerate(kept):
        if end_ns is None:
            end_ns = kept[index + 1][0] if index + 1 < len(kept) else (
                duration if duration is not None and duration >= start_ns else None)
        chapters.append(Chapter(start_ns, end_ns, title))
    diagnostics.sort(key=lambda d: d.lineno)
    return ParseResult(ChapterList(tuple(chapters), duration_ns=duration), tuple(diagnostics),
                       tuple(item[3] for item in kept))


def _ns(value: int | Fraction, unit: Fraction) -> int:
    """``value * unit`` seconds in ns, halves rounded up; integer math (ints have numerator too)."""
    num = value.numerator * unit.numerator * NS_PER_SECOND
    den = value.denominator * unit.denominator
    return (2 * num + den) // (2 * den)
