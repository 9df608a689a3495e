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

from dataclasses import dataclass
from fractions import Fraction

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, UsageError
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import Chapter, ChapterList
from chapterkit.timecode import format_clock, parse_rate, parse_smpte


@dataclass(frozen=True, slots=True)
class Marker:
    """One marker as a file states it: exact seconds on the file's timeline."""

    lineno: int
    line: str
    start: Fraction              # seconds, timeline time (start timecode not yet subtracted)
    title: str
    end: Fraction | None = None  # seconds, when the marker is a range
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


def timecode_option(text: str, rate: Fraction, drop: bool) -> Fraction:
    """``--timeline-start`` in seconds, counted as the file counts (``drop``) unless it says ``;``."""
    try:
        frames = parse_smpte(text, rate, drop or None)
    except ValueError as exc:
        raise UsageError(f"timeline start {text!r}: {exc}") from None
    return frames / rate


def color_key(color: str | None) -> str:
    """``ResolveColorBlue``, ``BLUE`` and ``blue`` are the same colour."""
    key = (color or "").strip().lower()
    return key[len("resolvecolor"):] if key.startswith("resolvecolor") else key


def finish(markers: list[Marker], diagnostics: list[Diagnostic], options: ParseOptions,
           timeline_start: Fraction, what: str) -> ParseResult:
    """Markers to chapters (the steps in the module docstring); NoChaptersError when none is left."""
    wanted = color_key(options.marker_color) if options.marker_color else None
    chapters: list[tuple[Fraction, Chapter]] = []
    found = len(markers)
    for marker in markers:
        if wanted is not None and color_key(marker.color) != wanted:
            diagnostics.append(Diagnostic(
                "other_color", f"marker {marker.title!r} is {marker.color or 'without a colour'}, "
                f"not {options.marker_color}: left out", marker.lineno, marker.line, severity="info"))
            continue
        start = marker.start - timeline_start
        if start < 0:
            diagnostics.append(Diagnostic(
                "before_timeline_start", f"marker {marker.title!r} is {_clock(-start)} before the timeline "
                f"start: left out", marker.lineno, marker.line))
            continue
        start_ns = _ns(start)
        if options.duration_ns is not None and start_ns >= options.duration_ns and start_ns:
            diagnostics.append(Diagnostic(
                "beyond_duration", f"marker {marker.title!r} at {_clock(start)} is past the media's end",
                marker.lineno, marker.line))
            continue
        end_ns = None if marker.end is None else max(start_ns, _ns(marker.end - timeline_start))
        chapters.append((start, Chapter(start_ns, end_ns, marker.title)))
    if not chapters:
        reason = f"no {what} markers found" if not found else f"none of the {found} {what} markers is a chapter"
        diagnostics.append(Diagnostic("no_chapters", reason, severity="error"))
        raise NoChaptersError(reason, diagnostics=sorted(diagnostics, key=lambda d: d.lineno))
    chapters.sort(key=lambda pair: pair[0])
    diagnostics.sort(key=lambda d: d.lineno)
    return ParseResult(ChapterList(tuple(c for _, c in chapters), duration_ns=options.duration_ns),
                       tuple(diagnostics))


def _ns(seconds: Fraction) -> int:
    value = seconds * 1_000_000_000
    return int(value + Fraction(1, 2))


def _clock(seconds: Fraction) -> str:
    return format_clock(_ns(seconds))
