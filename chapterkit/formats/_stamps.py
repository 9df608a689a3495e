"""Timestamps: what one looks like, what it is worth, how to write one.

The **stamp scanner** (:func:`scan`) finds ``M:SS``, ``MMM:SS``, ``H:MM:SS``,
``HH:MM:SS.fff`` and SMPTE ``HH:MM:SS:FF`` / ``;FF`` with explicit lookarounds,
so a stamp is never glued to other digits, a ``:``, a ``=``, a decimal comma or
a URL (``1:5045``, ``t=1:23``, ``05.41``, ``00:01:30,500`` are not stamps).
Full-width digits and colons are read through NFKC, inside the stamp only.
:func:`suggest` names what a near miss probably meant, and :func:`format_stamp`
writes the ``youtube`` format's stamps.

The layers above: :mod:`._text` (text to logical lines), :mod:`._lines` (a line
to chapter entries) and :mod:`chapterkit.formats.description` (blocks and rules).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from chapterkit.model import NS_PER_SECOND
from chapterkit.timecode import frames_to_ns, is_drop_rate, label_to_frames

_D = "[0-9\uff10-\uff19]"  # ASCII or full-width digit; NFKC makes the latter ASCII
_COLON = "[:\uff1a]"
_DOT = "[.\uff0e]"

STAMP_RE = re.compile(rf"""
    (?<![0-9A-Za-z\uff10-\uff19:\uff1a=/_])   # not glued to a word, digits, ':' or '='
    (?<![0-9\uff10-\uff19][.\uff0e])          # nor to a decimal number: '5.1:30'
    (?:
        (?P<h>{_D}{{1,3}}){_COLON}(?P<m>{_D}{{2}}){_COLON}(?P<s>{_D}{{2}})
        (?: (?P<fsep>[:;\uff1a\uff1b])(?P<ff>{_D}{{2}})   # SMPTE frames, never days
          | {_DOT}(?P<frac>{_D}{{1,3}}) )?
      | (?P<mm>{_D}{{1,3}}){_COLON}(?P<ss>{_D}{{2}})(?:{_DOT}(?P<frac2>{_D}{{1,3}}))?
    )
    (?!{_D})                                  # '1:5045' is not '1:50' + '45'
    (?![:;\uff1a\uff1b.\uff0e,]{_D})          # nor a fifth field, a fourth decimal or an
                                              # SRT-style decimal comma ('00:01:30,500')
""", re.VERBOSE)

#: Something shaped like a stamp that the strict grammar refused (``1:5045``, ``1:5``).
LOOSE_RE = re.compile(rf"{_D}+(?:[:;\uff1a\uff1b]{_D}+)+(?:[.\uff0e,]{_D}+)?(?![0-9A-Za-z])")
#: Unfilled templates: ``X:XX``, ``??:??``, ``--:--``, ``mm:ss``, ``hh:mm:ss``.
PLACEHOLDER_RE = re.compile(
    r"(?:(?:[0-9xX?#_-]{1,2}:)?[0-9xX?#_-]{1,3}:[0-9xX?#_-]{2}"
    r"|(?:[hH]{1,2}:)?[mM]{1,3}:[sS]{2})(?![0-9A-Za-z])")
URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Stamp:
    """One stamp found in a line: its span, its value, or why its value is refused."""

    start: int
    end: int
    text: str
    ns: int | None
    error: str | None = None      # diagnostic code when ``ns`` is None
    message: str = ""
    frames_dropped: bool = False  # SMPTE frames read as whole seconds (no fps)


def scan(line: str, fps: Fraction | None = None) -> list[Stamp]:
    """Every stamp in ``line`` outside URLs, left to right."""
    urls = [m.span() for m in URL_RE.finditer(line)] if ("/" in line or "www" in line.lower()) else []
    found = []
    for match in STAMP_RE.finditer(line):
        if any(lo <= match.start() < hi for lo, hi in urls):
            continue
        found.append(_evaluate(match, fps))
    return found


def _evaluate(match: re.Match[str], fps: Fraction | None) -> Stamp:
    # NFKC on the stamp only: full-width digits and colon become ASCII; titles never change.
    g = {k: (unicodedata.normalize("NFKC", v) if v else v) for k, v in match.groupdict().items()}
    text = match.group()
    span = (match.start(), match.end(), text)
    if g["h"] is not None:
        hours, minutes, seconds = int(g["h"]), int(g["m"]), int(g["s"])
        if minutes > 59:
            return Stamp(*span, None, "bad_minutes", f"{text}: minutes {minutes} are more than 59")
        frac = g["frac"]
    else:
        hours, minutes, seconds, frac = 0, int(g["mm"]), int(g["ss"]), g["frac2"]
    if seconds > 59:
        return Stamp(*span, None, "bad_seconds", f"{text}: seconds {seconds} are more than 59")
    ns = ((hours * 60 + minutes) * 60 + seconds) * NS_PER_SECOND
    if frac:
        ns += int(frac.ljust(9, "0"))
    if g["ff"] is None:
        return Stamp(*span, ns)
    frames = int(g["ff"])
    if fps is None:
        return Stamp(*span, ns, frames_dropped=True)
    # A timecode addresses a frame: frames / fps, exact (chapterkit.timecode). ';' is drop-frame
    # counting where the rate has one (29.97, 59.94); elsewhere it is just a separator.
    drop = g["fsep"] in ";\uff1b" and is_drop_rate(fps)
    try:
        count = label_to_frames(hours, minutes, seconds, frames, fps, drop)
    except ValueError as exc:
        return Stamp(*span, None, "bad_frames", f"{text}: {exc}")
    return Stamp(*span, frames_to_ns(count, fps))


def format_stamp(ns: int) -> str:
    """``M:SS`` below an hour, ``H:MM:SS`` above, ``.f`` to ``.fff`` only when needed.

    Sub-millisecond parts round half up to the millisecond: the stamp grammar
    stops at three decimals, as YouTube's does.
    """
    ms = (ns + 500_000) // 1_000_000
    whole, millis = divmod(ms, 1000)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{text}.{millis:03d}".rstrip("0") if millis else text


def suggest(token: str) -> str | None:
    """The stamp a near miss probably meant: ``1:5045`` -> ``1:50:45``, ``1:30,5`` -> ``1:30.5``."""
    token = unicodedata.normalize("NFKC", token)
    if "," in token:
        dotted = token.replace(",", ".")
        return dotted if STAMP_RE.fullmatch(dotted) else None
    fields = re.split(r"[:;]", token)
    if len(fields) == 2 and len(fields[1]) == 4:
        minutes, seconds = fields[1][:2], fields[1][2:]
        if int(minutes) <= 59 and int(seconds) <= 59:
            return f"{int(fields[0])}:{minutes}:{seconds}"
    return None


def shorten(token: str, limit: int = 24) -> str:
    """A token as messages quote it: a runaway ``1:1:1:...`` must not fill the screen."""
    return token if len(token) <= limit else token[:limit - 1] + "\u2026"
