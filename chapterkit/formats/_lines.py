"""One line of description text: a chapter entry, a broken entry, or prose.

:func:`classify` tries a line **stamp-first** (``0:00 Intro``, after bullets,
emoji, keycaps, list numbers, a ``Chapters:`` label and brackets), then
**title-first** (``Intro - 0:00``), so a line that starts and ends with a stamp
is stamp-first. Exactly one separator next to the stamp goes; the rest of the
title is kept verbatim. A line with several stamps is split into **flattened**
entries only when every later stamp opens a segment of its own; otherwise the
times belong to the title ("Doors open at 5:00 sharp"). Clock times ("3:15 pm"),
verse references ("John 3:16") and prose running into a time ("Live at 20:00")
are prose. A line that starts like an entry but whose stamp is broken is a
:class:`BadLine`, skipped with a diagnostic.

Lines are read one at a time; what they make together (blocks, YouTube's rules)
is :mod:`chapterkit.formats.description`'s business.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise

from chapterkit.formats._prose import CLOCK_SUFFIX as _CLOCK_SUFFIX
from chapterkit.formats._prose import is_prose as _is_prose
from chapterkit.formats._prose import runs_into_time as _runs_into_time
from chapterkit.formats._stamps import LOOSE_RE, PLACEHOLDER_RE, Stamp, scan, shorten, suggest
from chapterkit.formats._text import clean_title

# The separators the spec lists (- – — | : · ~ , and the full-width hyphen), with their
# typographic twins (U+2010-2012 hyphens, U+2212 minus) and the CJK ones a Japanese or
# Chinese description uses in the same place: 、 ， ・ ｜ ： ～ 〜.
SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212|:\u00b7~,\u2022"
                       "\uff0d\uff5c\uff1a\uff5e\u301c\u3001\uff0c\u30fb\uff65")
_SEGMENT_SEPARATORS = SEPARATORS | {";", "/"}
_BULLETS = frozenset("\u2022\u2023\u2043\u25e6\u25aa\u25ab\u25a0\u25a1\u25cf\u25cb\u25c6\u25c7"
                     "\u25ba\u25b8\u25b6\u25b9\u27a4\u2794\u2192\u21d2\u00bb>*+~\u00b7"
                     "-\u2013\u2014\u2713\u2714\u2610\u2611\u30fb\uff65")  # ・ is the Japanese bullet
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Cf", "Mn", "Me"})
_KEYCAP = re.compile(r"[0-9#*]\ufe0f?\u20e3")
_LIST_NUMBER = re.compile(r"(\d{1,3})(?:([.)])|\s*([-\u2013\u2014]))\s+")
#: A list heading on the entry's own line: ``Chapters: 0:00 Intro 1:30 ...`` (a flattened list).
_LABEL = re.compile(r"(?:chapters?|timestamps?|time stamps|tracklist|track list|(?:table of )?contents"
                    r"|cap[ií]tulos|kapitel|chapitres|目次|チャプター)\s*[:\uff1a]\s+(?=\S)", re.IGNORECASE)
#: Before a stamp only: ``#1 0:00``, ``#01 - 0:00``, ``01 0:00`` (a bare track number).
_STAMP_NUMBER = re.compile(r"#?\d{1,3}(?:\s*[-\u2013\u2014])?\s+(?=[0-9\uff10-\uff19]{1,3}[:\uff1a])")

_BRACKETS = {"[": "]", "(": ")", "\u3010": "\u3011", "\uff3b": "\uff3d", "\uff08": "\uff09"}
_CLOSERS = {close: open_ for open_, close in _BRACKETS.items()}
_RANGE_JOIN = re.compile(r"\s*(?:[-\u2013\u2014~\uff5e\u301c\uff0d]|to)\s*")
_RANGE_TAIL = re.compile(r"\s*(?:[-\u2013\u2014~\uff5e\u301c\uff0d]|to)\s*$")
_DOT_LEADER = re.compile(r"\s(?:\u2026+|(?:[.\u2026\u00b7]\s?){2,})$")
_PLACEHOLDER_CHAR = re.compile(r"[^0-9:]")

@dataclass(frozen=True, slots=True)
class Entry:
    """One chapter candidate read from a line."""

    lineno: int
    line: str
    start_ns: int
    title: str
    stamp_first: bool
    end_ns: int | None = None            # the end of a range line ``0:00 - 1:30 Title``
    number: tuple[str, int] | None = None  # title-first list number: (style, value)
    bare_title: str | None = None        # the title without that list number
    flattened: bool = False              # one of several stamps on one line
    whole_title: str | None = None       # a flattened stamp-first line read as one chapter
    frames_dropped: bool = False


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line shaped like an entry that breaks the grammar; skipped with a diagnostic."""

    lineno: int
    line: str
    code: str
    message: str
    suggestion: str | None = None
    stamp_first: bool = True


def classify(lineno: int, line: str, fps: Fraction | None = None) -> list[Entry] | BadLine | None:
    """The entries on a line, a :class:`BadLine`, or ``None`` for prose.

    Stamp-first is tried first, so a line that starts and ends with a stamp is
    stamp-first. A stamp in the middle of prose makes no entry.
    """
    stamps = scan(line, fps) if _maybe_stamp(line) else []
    if stamps:
        found = (_stamp_first(lineno, line, stamps) or _title_first(lineno, line, stamps)
                 or _title_first_with_note(lineno, line, stamps))
        if found is not None:
            return found
    return _near_miss(lineno, line, stamps)


def _maybe_stamp(line: str) -> bool:
    return ":" in line or "\uff1a" in line


def skip_decoration(line: str, position: int = 0) -> int:
    """Index past bullets, emoji, keycaps, list numbers (``1.``, ``2)``, ``3 -``) and a ``Chapters:`` label."""
    label = _LABEL.match(line, skip_spaces(line, position))
    if label:
        position = label.end()
    while position < len(line):
        match = (_KEYCAP.match(line, position) or _LIST_NUMBER.match(line, position)
                 or _STAMP_NUMBER.match(line, position))
        if match:
            position = match.end()
            continue
        char = line[position]
        if char.isspace() or char in _BULLETS or unicodedata.category(char) in _EMOJI_CATEGORIES:
            position += 1
            continue
        break
    return position


def skip_spaces(line: str, position: int) -> int:
    while position < len(line) and line[position].isspace():
        position += 1
    return position


# -- stamp-first: "0:00 Intro" -----------------------------------------------------------

def _stamp_first(lineno: int, line: str, stamps: list[Stamp]) -> list[Entry] | BadLine | None:
    """``[deco] [(] STAMP [- END] [)] [sep] Title``, or None when the line does not start so.

    The head is the stamp, an optional range end and an optional closing bracket;
    a clock suffix after it ("3:15 pm doors") makes the line prose. Then one
    separator goes and the rest is the title, unless later stamps split the
    line into flattened entries.
    """
    position = skip_decoration(line)
    opener = line[position] if position < len(line) and line[position] in _BRACKETS else None
    if opener:
        position = skip_spaces(line, position + 1)
    first = _stamp_at(stamps, position)
    if first is None:
        return None
    last, position = _head(line, stamps, first)
    if opener:
        after = skip_spaces(line, position)
        if after < len(line) and line[after] == _BRACKETS[opener]:
            position = after + 1
    if _CLOCK_SUFFIX.match(line, position):
        return None
    bad = (_bad_stamp(lineno, line, first) or (last and _bad_stamp(lineno, line, last))
           or _stray(lineno, line, last or first, position))
    if bad:
        return bad
    body = _skip_separator(line, position)
    title = clean_title(line[body:])
    segments = _flattened(line, stamps, first, last, body)
    if segments:
        return [Entry(lineno, line, s.ns, text, True, e.ns if e else None, flattened=True,
                      whole_title=title, frames_dropped=s.frames_dropped) for s, e, text in segments]
    if not title:
        return BadLine(lineno, line, "no_title", f"{first.text} has no title")
    assert first.ns is not None
    return [Entry(lineno, line, first.ns, title, True, last.ns if last else None,
                  frames_dropped=first.frames_dropped)]


def _stamp_at(stamps: list[Stamp], position: int) -> Stamp | None:
    return next((s for s in stamps if s.start == position), None)


def _head(line: str, stamps: list[Stamp], first: Stamp) -> tuple[Stamp | None, int]:
    """The range end after ``first`` (``0:00 - 1:30``) and the index past the head."""
    join = _RANGE_JOIN.match(line, first.end)
    second = _stamp_at(stamps, join.end()) if join else None
    return (second, second.end) if second else (None, first.end)


def _skip_separator(line: str, position: int) -> int:
    """Past whitespace and then exactly one separator (``0:00 -- x`` keeps ``- x``)."""
    position = skip_spaces(line, position)
    if position < len(line) and line[position] in SEPARATORS:
        position += 1
    return position


_STRAY = re.compile(r"::|\.(?![.\u2026])")


def _stray(lineno: int, line: str, stamp: Stamp, position: int) -> BadLine | None:
    """``00:57:01. Title``, ``01:15:: Title``: punctuation glued to the stamp that is no separator.

    One ``:`` or a dash after the stamp is a separator; a ``.`` or ``::`` right
    after it is a typo that would otherwise start the title (``. Invalid 3``).
    """
    stray = _STRAY.match(line, position)
    if stray is None:
        return None
    return BadLine(lineno, line, "stray_punctuation",
                   f"{stamp.text} is followed by a stray {stray.group()!r}")


def _bad_stamp(lineno: int, line: str, stamp: Stamp) -> BadLine | None:
    if stamp.ns is not None:
        return None
    return BadLine(lineno, line, stamp.error or "not_a_timestamp", stamp.message)


def _flattened(line: str, stamps: list[Stamp], first: Stamp, first_end: Stamp | None,
               body: int) -> list[tuple[Stamp, Stamp | None, str]] | None:
    """Split ``0:00 Intro 1:30 Topic 3:00 End`` into (start, range end, title) triples.

    Only when every later stamp opens a segment (whitespace or an opening bracket
    before it, a title after it) and the starts ascend; otherwise the stamps are
    part of the title ("Lunch break until 13:00", "Intro (0:30 skip ahead)").
    """
    later = [s for s in stamps if s.start >= body]
    if not later:
        return None
    heads: list[tuple[Stamp, Stamp | None, int]] = [(first, first_end, body)]
    stops: list[int] = []
    for stamp in later:
        if stamp is heads[-1][1]:
            continue  # the end of the previous range
        opener = line[stamp.start - 1] in _BRACKETS
        before = stamp.start - (2 if opener else 1)
        if stamp.ns is None or before < body or not line[before].isspace():
            return None
        if _runs_into_time(line[heads[-1][2]:before]):
            return None  # "1:00 Doors open at 5:00 sharp"
        end, position = _head(line, stamps, stamp)
        if opener:
            position = skip_spaces(line, position)
            if position >= len(line) or line[position] != _BRACKETS[line[stamp.start - 1]]:
                return None
            position += 1
        # "0:00 Intro 1:30 Topic": a title follows after a gap; "本編 12:00の話" is one title.
        gap = line[position:position + 1]
        if _CLOCK_SUFFIX.match(line, position) or not (gap.isspace() or gap in SEPARATORS):
            return None
        stops.append(stamp.start - (1 if opener else 0))
        heads.append((stamp, end, _skip_separator(line, position)))
    stops.append(len(line))
    return _segments([(stamp, end, line[start:stop]) for (stamp, end, start), stop
                      in zip(heads, stops, strict=True)])


def _segments(parts: list[tuple[Stamp, Stamp | None, str]]) -> list[tuple[Stamp, Stamp | None, str]] | None:
    """Clean each segment's title (one trailing separator goes); None unless all ascend with titles."""
    result = []
    for stamp, end, raw in parts:
        text = clean_title(raw)
        if text and text[-1] in _SEGMENT_SEPARATORS:
            text = clean_title(text[:-1])
        if not text or stamp.ns is None:
            return None
        result.append((stamp, end, text))
    starts = [stamp.ns or 0 for stamp, _, _ in result]
    if any(b <= a for a, b in pairwise(starts)):
        return None
    return result


# -- title-first: "Intro - 0:00" -------------------------------------------------------

def _title_first(lineno: int, line: str, stamps: list[Stamp]) -> list[Entry] | BadLine | None:
    """``[bullet] Title [sep | dot leader] [(] [START -] STAMP [)]``, or None when the line does not end so.

    Read right to left: the closing bracket, the stamp that ends the line, a
    range start before it, the matching opening bracket, one separator (or a
    dot leader), then bullets off the front. A "title" that is prose running
    into the time ("Live at 20:00", "John 3:16") makes the line prose.
    """
    end = len(line.rstrip())
    closer = line[end - 1] if end and line[end - 1] in _CLOSERS else None
    if closer:
        end = len(line[:end - 1].rstrip())
    last = next((s for s in stamps if s.end == end), None)
    if last is None:
        return None
    first, range_end = last, None
    tail = _RANGE_TAIL.search(line, 0, last.start)
    if tail:
        earlier = next((s for s in stamps if s.end == tail.start()), None)
        if earlier is not None:
            first, range_end = earlier, last
    position = first.start
    if closer:
        opening = len(line[:position].rstrip()) - 1
        if opening < 0 or line[opening] != _CLOSERS[closer]:
            return None
        position = opening
    region = line[:position].rstrip()
    leader = _DOT_LEADER.search(region)
    if leader:  # "Intro ........ 0:00": a dot leader is one separator
        region = region[:leader.start()]
    elif region and region[-1] in SEPARATORS:
        region = region[:-1]
    start = 0
    while start < len(region) and (region[start].isspace() or region[start] in _BULLETS):
        start += 1
    if range_end is None and not closer:
        segments = _title_first_flattened(line, stamps, first, start)
        if segments:
            return [Entry(lineno, line, s.ns or 0, title, False, flattened=True,
                          frames_dropped=s.frames_dropped) for s, _, title in segments]
    title = clean_title(region[start:])
    if not title or _is_prose(title):
        return None
    bad = _bad_stamp(lineno, line, first) or (range_end and _bad_stamp(lineno, line, range_end))
    if bad:
        return BadLine(bad.lineno, bad.line, bad.code, bad.message, stamp_first=False)
    number = _LIST_NUMBER.match(title)
    assert first.ns is not None
    return [Entry(lineno, line, first.ns, title, False, range_end.ns if range_end else None,
                  number=(number.group(2) or number.group(3), int(number.group(1))) if number else None,
                  bare_title=clean_title(title[number.end():]) if number else None,
                  frames_dropped=first.frames_dropped)]


#: A bracketed note at the end of a line: ``(Incomplete)``, ``[live]``.
_NOTE = re.compile(r"\s*([(\[\uff08][^()\[\]\uff08\uff09]*[)\]\uff09])\s*$")


def _title_first_with_note(lineno: int, line: str, stamps: list[Stamp]) -> list[Entry] | BadLine | None:
    """``Suite-Pee 4:26 (Incomplete)``: a title-first entry with a note after its stamp.

    A setlist adds notes after the time; the chapter is titled with the text
    around the stamp, ``Suite-Pee (Incomplete)``. Only a bracketed note, so prose
    with a time in the middle ("doors at 5:00 sharp") stays prose.
    """
    note = _NOTE.search(line)
    if note is None or note.start() == 0:
        return None
    head = line[:note.start()]
    found = _title_first(lineno, head, [s for s in stamps if s.end <= len(head)])
    if not isinstance(found, list) or len(found) != 1:
        return found if isinstance(found, BadLine) else None
    entry = found[0]
    title = f"{entry.title} {note.group(1)}"
    return [replace(entry, line=line, title=title,
                    bare_title=f"{entry.bare_title} {note.group(1)}" if entry.bare_title else None)]


def _title_first_flattened(line: str, stamps: list[Stamp], first: Stamp,
                           start: int) -> list[tuple[Stamp, Stamp | None, str]] | None:
    """Split ``Intro 0:00 / Topic 1:30 / End 3:00`` the same way, titles before stamps.

    One separator goes on each side of a title: the one before its stamp and
    the one after the previous stamp.
    """
    earlier = [s for s in stamps if start <= s.start < first.start]
    if not earlier:
        return None
    parts, position = [], start
    for stamp in [*earlier, first]:
        after = stamp.end
        if stamp is not first and (after >= len(line) or not line[after].isspace()):
            return None
        region = line[position:stamp.start].rstrip()
        if region and region[-1] in SEPARATORS:
            region = region[:-1]
        if _runs_into_time(region):
            return None  # "Lunch until 1:30 then Talk 2:00"
        if position > start:
            region = region.lstrip()
            if region and region[0] in _SEGMENT_SEPARATORS:
                region = region[1:]
        parts.append((stamp, None, region))
        position = after
    return _segments(parts)


# -- broken entries --------------------------------------------------------------------

def _near_miss(lineno: int, line: str, stamps: list[Stamp]) -> BadLine | None:
    """A line that starts like an entry but whose stamp is broken or a placeholder."""
    position = skip_decoration(line)
    if position < len(line) and line[position] in _BRACKETS:
        position += 1
    placeholder = (PLACEHOLDER_RE.match(line, skip_spaces(line, 0))
                   or PLACEHOLDER_RE.match(line, position))
    if placeholder and _PLACEHOLDER_CHAR.search(placeholder.group()):
        return BadLine(lineno, line, "placeholder", f"{placeholder.group()} is a placeholder, not a time")
    if not _maybe_stamp(line):
        return None
    loose = LOOSE_RE.match(line, position)
    glued = position > 0 and line[position - 1].isdigit()
    if loose and not glued and _stamp_at(stamps, position) is None:
        token = loose.group()
        return BadLine(lineno, line, "not_a_timestamp", f"{shorten(token)} is not a timestamp", suggest(token))
    return None
