"""CMX 3600 edit decision lists with markers (read only): what Resolve and Avid export.

Two marker spellings are read:

- DaVinci Resolve's *Timelines > Export > Timeline Markers to EDL* writes one event per
  marker, ``001  001      V     C        01:00:05:00 01:00:05:01 01:00:05:00 01:00:05:01``,
  and under it ``[note] |C:ResolveColorBlue |M:Marker name |D:1``. The marker sits at the
  event's record-in timecode (the third of the four); its title is the ``|M:`` value (the
  note before ``|C:`` is not the title); ``|D:`` is its length in frames, so ``|D:1`` is a
  point and ``|D:50`` a range that gives the chapter an end.
- Avid-style locator comments, ``* LOC: 01:00:05:00 RED     title``, under an event or on
  their own: the timecode is a record (timeline) position, then a colour, then the title.

An EDL does not state its frame rate, so ``--fps`` is required. ``FCM: DROP FRAME`` makes
the timecodes after it drop-frame (``NON-DROP FRAME`` and Avid's ``FILM`` do not), and a
timecode written with ``;`` is drop-frame whatever FCM says. Resolve timelines start at
``01:00:00:00`` by default, so that start is subtracted when every marker is at or after
it, else ``00:00:00:00``; ``--timeline-start`` overrides both. ``TITLE:`` names the
timeline, not the media, so it is not kept as the list's title.

Why not ``pycmx`` (1.5.1, measured 2026-12-03): it splits lines into CMX statements but
takes the first line as the title whether or not it is one (an EDL without ``TITLE:``
loses its first event), returns Resolve's marker lines and locators as unparsed text
anyway, and does no timecode math; the statements needed here are three regular
expressions. ``bench/bench_editors.py`` times both: reading the markers takes 0.7-0.9x the
time pycmx takes to split the same file into statements.
"""

from __future__ import annotations

import re

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import SourceError
from chapterkit.formats._markers import Marker, finish, require_rate, timecode_option
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.timecode import SmpteClock

name = "edl"
extensions = (".edl",)
summary = "CMX 3600 EDL markers: Resolve's Timeline Markers to EDL and * LOC: locators (read only; needs --fps)"
render = None  # read only: an EDL of markers is an editor's export, not a chapter target

_TC = r"\d{1,3}[:;.]\d{2}[:;.]\d{2}[:;.]\d{2}"
# Event: number; reel, channels, transition (and wipe code or duration; File32/128 reels may hold
# spaces); then source in/out and record in/out.
_EVENT = re.compile(rf"^(\d{{1,6}})\s+(\S.*?)\s+({_TC})\s+({_TC})\s+({_TC})\s+({_TC})$")
#: CMX statements that are parts of an edit, never markers.
_EDIT_STATEMENTS = ("M2 ", "AUD ", "SPLIT:", "EFFECTS NAME", "SWM ", "FRMC", ">>>")
_LOC = re.compile(rf"^\s*\*\s*LOC:\s*({_TC})(?:\s+(\S+))?(?:\s+(.*?))?\s*$", re.IGNORECASE)
#: Resolve's usual line, read in one match; anything else goes field by field (_RESOLVE).
_RESOLVE_LINE = re.compile(r"^(?:.*?\s)?\|C:(?P<color>\S*)\s+\|M:(?P<name>.*?)\s*\|D:(?P<frames>\d+)$")
_RESOLVE = re.compile(r"\|C:(?P<color>\S*)|\|M:(?P<name>.*?)(?=\s*\|D:\d|\s*$)|\|D:(?P<frames>\d+)")
_DETECT = re.compile(rf"^\s*(?:\d{{1,6}}\s+\S.*?\s{_TC}\s+{_TC}\s+{_TC}\s+{_TC}\s*$"
                     rf"|\*\s*LOC:\s*{_TC})", re.MULTILINE | re.IGNORECASE)


def detect(text: str) -> bool:
    """An event line with four timecodes, or a ``* LOC:`` locator, near the top."""
    return _DETECT.search(text[:8192]) is not None


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Every Resolve marker and locator, in timeline order (see the module docstring)."""
    rate = require_rate(options, "EDL")
    clock = SmpteClock(rate)
    markers: list[Marker] = []
    diagnostics: list[Diagnostic] = []
    drop = False          # the FCM in force
    any_drop = False      # any drop-frame counting in the file (for the default start)
    event = None          # (lineno, record-in frames, record-in text, line) of the current event
    marked = True         # whether that event has a marker yet

    def frames(tc: str, lineno: int, line: str) -> int:
        nonlocal any_drop
        dropped = drop or ";" in tc
        any_drop |= dropped
        try:
            return clock.frames(tc, dropped)
        except ValueError as exc:
            raise SourceError(f"line {lineno}: {exc}; expected HH:MM:SS:FF") from None

    def close_event() -> None:
        if event is not None and not marked:
            diagnostics.append(Diagnostic("not_a_marker", f"event at {event[2]} has no marker "
                                          "(an edit, not a chapter)", event[0], event[3], severity="info"))

    for lineno, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        upper = stripped.upper()
        if upper.startswith("TITLE:"):
            continue
        if upper.startswith("FCM:"):
            mode = upper[4:].strip()
            if mode not in ("DROP FRAME", "NON-DROP FRAME", "NON DROP FRAME", "FILM"):
                diagnostics.append(Diagnostic("unknown_fcm", f"frame code mode {mode!r} is not DROP FRAME or "
                                              "NON-DROP FRAME; keeping the one before", lineno, line))
            else:
                drop = mode == "DROP FRAME"
            continue
        match = _EVENT.match(stripped) if stripped[0].isdigit() else None
        if match:
            close_event()
            # Only record in (the third timecode) is a timeline position; the others matched the shape.
            record_in = match.group(5)
            event, marked = (lineno, frames(record_in, lineno, line), record_in, line), False
            continue
        match = _LOC.match(stripped) if stripped[0] == "*" else None
        if match:
            tc, color, title = match.groups()
            at = frames(tc, lineno, line)
            markers.append(Marker(lineno, line, at, (title or "").strip(), None, color))
            marked = True
            continue
        if "|M:" in stripped or "|C:" in stripped:
            if event is None:
                diagnostics.append(Diagnostic("marker_without_event", "a Resolve marker line before any "
                                              "event has no position", lineno, line))
                continue
            match = _RESOLVE_LINE.match(stripped)
            fields = match.groupdict() if match else _resolve_fields(stripped)
            length = int(fields["frames"]) if fields.get("frames") else 1
            end = event[1] + length if length > 1 else None
            markers.append(Marker(lineno, line, event[1], (fields.get("name") or "").strip(), end,
                                  fields.get("color")))
            marked = True
            continue
        known = stripped.startswith("*") or upper.startswith(_EDIT_STATEMENTS)
        diagnostics.append(Diagnostic("not_a_marker" if known else "unknown_line",
                                      "not an event, a Resolve marker or a * LOC: locator", lineno,
                                      line, severity="info" if known else "warning"))
    close_event()
    start = _timeline_start(markers, options, clock, any_drop)
    return finish(markers, diagnostics, options, start, "EDL", unit=1 / rate)


def _resolve_fields(line: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _RESOLVE.finditer(line):
        for key, value in match.groupdict().items():
            if value is not None and key not in found:
                found[key] = value
    return found


def _timeline_start(markers: list[Marker], options: ParseOptions, clock: SmpteClock, drop: bool) -> int:
    """In frames: the option, else 01:00:00:00 when no marker is before it, else 0."""
    if options.timeline_start is not None:
        return timecode_option(options.timeline_start, clock, drop)
    hour = clock.count(1, 0, 0, 0, drop)
    return hour if markers and all(m.start >= hour for m in markers) else 0
