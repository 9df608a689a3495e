"""Exact conversions between integer nanoseconds and the clock texts people type.

Used by option parsing (``--duration 1:02:03.5``), tables and reports. No floats:
decimal strings go through :class:`fractions.Fraction`.
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
