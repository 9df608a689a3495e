"""Exact conversions between integer nanoseconds and the clock texts people type.

Used by option parsing (``--duration 1:02:03.5``), tables and reports. No floats:
decimal strings go through :class:`fractions.Fraction`.

SMPTE frame timecode (``HH:MM:SS:FF``, drop-frame ``HH:MM:SS;FF``) lives here too,
the one place frame math is done (editor marker exports, ``--fps`` stamps in
descriptions). A timecode is a frame *address*: its time is ``frames / rate`` with
the exact rate (``30000/1001``), never ``label seconds + FF / fps``. Reading 29.97
non-drop timecode as seconds (or as 30 fps) puts ``01:00:00:00`` at 3600 s instead
of 3603.6 s: 3.6 s of drift per hour. Drop-frame counting (SMPTE ST 12-1, 12M)
skips labels ``;00`` and ``;01`` (``;00``-``;03`` at 59.94) of every minute except
minutes 0, 10, 20, ..., so labels stay within a frame or two of the wall clock.

Why not a library (measured on 2026-12-03, see bench/RESULTS.md "Editor marker
exports"): ``timecode`` 1.5.1 counts frames right but its seconds divide by the
integer base (``10:00:00;00`` at 29.97 DF is 35964.03 s instead of 35999.964 s;
29.97 NDF drifts 36 s in 10 h), it reads every 29.97 label as drop-frame unless told
otherwise, and it is 2.6x slower than :class:`SmpteClock`. OpenTimelineIO's
``opentime`` 0.18 is exact in frames and 2.4x faster per label (C++), but it takes a
float rate, returns float seconds and is a 2.8 MB compiled wheel for ten lines of
integer arithmetic. Neither refuses a label that drop-frame counting skips
(``00:01:00;00``): both silently read it as the next frame, where an editor's file
with such a label is corrupt. So the counting is here, exact in integers and
:class:`~fractions.Fraction`; ``opentime`` is the tests' cross-check (a test
dependency), besides a brute-force walk of the counter.
"""

from __future__ import annotations

import re
from fractions import Fraction

from chapterkit.model import NS_PER_SECOND

#: The largest time a signed 64-bit nanosecond count holds (FFmpeg's int64 timestamps): about 292 years.
MAX_NS = 2**63 - 1

_CLOCK = re.compile(r"^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)$")


def parse_clock(text: str) -> int:
    """``SS[.f]``, ``M:SS[.f]`` or ``H:MM:SS[.f]`` to ns; raises ValueError on anything else."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"not a time: {text!r} (use seconds or H:MM:SS.fff)")
    hours, minutes, seconds = match.groups()
    if minutes is not None and Fraction(seconds) >= 60:
        raise ValueError(f"seconds must be below 60 in {text!r}")
    if hours is not None and int(minutes) >= 60:
        raise ValueError(f"minutes must be below 60 in {text!r}")
    total = Fraction(seconds) + 60 * int(minutes or 0) + 3600 * int(hours or 0)
    ns = round(total * NS_PER_SECOND)
    if ns > MAX_NS:
        raise ValueError(f"{text!r} is longer than any media can be")
    return ns


def format_clock(ns: int, *, digits: int = 3) -> str:
    """``H:MM:SS.fff`` (``digits`` decimals, rounded half up; a sign for negatives)."""
    sign = "-" if ns < 0 else ""
    unit = 10 ** (9 - digits)
    ticks = (abs(ns) + unit // 2) // unit
    whole, frac = divmod(ticks, 10 ** digits)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{frac:0{digits}d}" if digits else text


def format_seconds(ns: int) -> str:
    """Exact decimal seconds with no trailing zeros: 90500000000 -> ``90.5``."""
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), NS_PER_SECOND)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:09d}".rstrip("0")


# -- SMPTE frame timecode ------------------------------------------------------------------

_SMPTE = re.compile(r"^(\d{1,3})([:;.])(\d{2})([:;.])(\d{2})([:;.])(\d{2})$")
#: Frames dropped per minute in drop-frame counting, by exact rate (SMPTE ST 12-1).
DROP_RATES = {Fraction(30000, 1001): 2, Fraction(60000, 1001): 4}


def parse_rate(value: str | Fraction | int) -> Fraction:
    """A frame rate as people write it, made exact: ``29.97`` and ``2997/100`` are 30000/1001.

    A non-integer rate within 0.005 of ``N * 1000/1001`` is that NTSC-family rate
    (23.976 or 23.98 -> 24000/1001, 29.97 -> 30000/1001, 59.94 -> 60000/1001); any
    other rate is kept as written (``25``, ``12.5``). Raises ValueError unless positive.
    """
    try:
        rate = Fraction(value.strip()) if isinstance(value, str) else Fraction(value)
    except (ValueError, ZeroDivisionError, TypeError):
        raise ValueError(f"frame rate {value!r} is not a number (e.g. 25, 29.97, 30000/1001)") from None
    if rate <= 0:
        raise ValueError(f"frame rate {value!r} is not positive")
    if rate.denominator != 1:
        base = round(rate * Fraction(1001, 1000))
        ntsc = Fraction(base * 1000, 1001)
        if base and abs(rate - ntsc) < Fraction(5, 1000):
            return ntsc
    return rate


def nominal_fps(rate: Fraction) -> int:
    """The counter's base: frames per labelled second (30 for 29.97, 24 for 23.976)."""
    return -(-rate.numerator // rate.denominator) if rate.denominator != 1001 else round(rate)


class SmpteClock:
    """The SMPTE counter at one exact rate: labels to frame counts and back, fast.

    Parsers make one per file (``SmpteClock(rate)``) so the rate's base and drop count are
    looked up once, not per timecode; the module functions below make one per call.
    """

    __slots__ = ("rate", "base", "dropped")

    def __init__(self, rate: Fraction) -> None:
        self.rate = rate
        self.base = nominal_fps(rate)
        self.dropped = DROP_RATES.get(rate, 0)

    def frames(self, text: str, drop: bool | None = None) -> int:
        """``HH:MM:SS:FF`` (``;`` or ``.`` before FF, or all ``;``: drop-frame) to a frame count.

        ``drop`` forces the counting (an EDL's ``FCM: DROP FRAME``); None reads it from the
        separators. Raises ValueError naming what was expected.
        """
        match = _SMPTE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a timecode (expected HH:MM:SS:FF)")
        hours, sep1, minutes, sep2, seconds, sep3, frames = match.groups()
        if drop is None:
            drop = sep3 in ";." or sep1 == ";"
        return self.count(int(hours), int(minutes), int(seconds), int(frames), drop)

    def count(self, hours: int, minutes: int, seconds: int, frames: int, drop: bool = False) -> int:
        """The frame count a label addresses; raises ValueError for a label that does not exist."""
        base = self.base
        if minutes > 59 or seconds > 59:
            raise ValueError("minutes and seconds must be below 60")
        if frames >= base:
            raise ValueError(f"frame {frames} does not exist at {_rate_text(self.rate)} fps")
        count = ((hours * 60 + minutes) * 60 + seconds) * base + frames
        if not drop:
            return count
        dropped = self._drop()
        if seconds == 0 and frames < dropped and minutes % 10:
            raise ValueError(f"drop-frame counting skips frames 0-{dropped - 1} of minute {minutes}")
        total_minutes = hours * 60 + minutes
        return count - dropped * (total_minutes - total_minutes // 10)

    def label(self, count: int, drop: bool = False) -> tuple[int, int, int, int]:
        """``(hours, minutes, seconds, frames)`` of frame ``count`` (the inverse of :meth:`count`)."""
        if count < 0:
            raise ValueError("a frame count is never negative")
        base = self.base
        if drop:
            dropped = self._drop()
            per_minute = 60 * base - dropped          # 1798 at 29.97
            per_ten = 10 * 60 * base - 9 * dropped    # 17982 at 29.97
            tens, rest = divmod(count, per_ten)
            # Put the skipped labels back: 9 minutes of each ten, and those before `rest`.
            count += 9 * dropped * tens + (dropped * ((rest - dropped) // per_minute) if rest >= dropped else 0)
        count, frames = divmod(count, base)
        count, seconds = divmod(count, 60)
        hours, minutes = divmod(count, 60)
        return hours, minutes, seconds, frames

    def _drop(self) -> int:
        if not self.dropped:
            raise ValueError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, "
                             f"not {_rate_text(self.rate)} (pass --fps 29.97 or 59.94)")
        return self.dropped


def label_to_frames(hours: int, minutes: int, seconds: int, frames: int, rate: Fraction,
                    drop: bool = False) -> int:
    """The frame count a label addresses; raises ValueError for a label that does not exist."""
    return SmpteClock(rate).count(hours, minutes, seconds, frames, drop)


def frames_to_label(count: int, rate: Fraction, drop: bool = False) -> tuple[int, int, int, int]:
    """``(hours, minutes, seconds, frames)`` of frame ``count`` (the inverse of :func:`label_to_frames`)."""
    return SmpteClock(rate).label(count, drop)


def parse_smpte(text: str, rate: Fraction, drop: bool | None = None) -> int:
    """A timecode to a frame count (see :meth:`SmpteClock.frames`)."""
    return SmpteClock(rate).frames(text, drop)


def format_smpte(count: int, rate: Fraction, drop: bool = False) -> str:
    """Frame ``count`` as ``HH:MM:SS:FF``, or ``HH:MM:SS;FF`` in drop-frame counting."""
    hours, minutes, seconds, frames = SmpteClock(rate).label(count, drop)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{';' if drop else ':'}{frames:02d}"


def frames_to_ns(count: int | Fraction, rate: Fraction) -> int:
    """Where frame ``count`` starts, in ns: exact, halves rounded up (integer math, no Fraction made)."""
    num = count.numerator * rate.denominator * NS_PER_SECOND
    den = count.denominator * rate.numerator
    return (2 * num + den) // (2 * den)


def ns_to_frames(ns: int, rate: Fraction) -> int:
    """The frame nearest to ``ns`` (halves rounded up)."""
    value = Fraction(ns) * rate / NS_PER_SECOND
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def smpte_to_ns(text: str, rate: Fraction, drop: bool | None = None) -> int:
    """A timecode's time in ns (:func:`parse_smpte` then :func:`frames_to_ns`)."""
    return frames_to_ns(parse_smpte(text, rate, drop), rate)


def is_drop_rate(rate: Fraction) -> bool:
    return rate in DROP_RATES


def _rate_text(rate: Fraction) -> str:
    if rate.denominator == 1:
        return str(rate.numerator)
    return f"{float(rate):.3f}".rstrip("0") if rate.denominator == 1001 else str(rate)
