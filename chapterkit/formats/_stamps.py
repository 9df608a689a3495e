"""Timestamps and the lines that carry them, for the ``youtube`` description format.

Three layers, each pure and line-local:

* the **stamp scanner** (:func:`scan`): ``M:SS``, ``MMM:SS``, ``H:MM:SS``,
  ``HH:MM:SS.fff`` and SMPTE ``HH:MM:SS:FF`` / ``;FF``, found with explicit
  lookarounds so a stamp is never glued to other digits, a ``:``, a ``=`` or a
  URL (``1:5045``, ``t=1:23``, ``05.41`` are not stamps);
* the **text cleaner** (:func:`logical_lines`): HTML show notes and markdown
  links become plain lines, bidi marks go;
* the **line classifier** (:func:`classify`): a line is a chapter entry
  (stamp-first or title-first), a broken entry (:class:`BadLine`) or prose.

Blocks and YouTube's list rules live in :mod:`chapterkit.formats.description`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from chapterkit.model import NS_PER_SECOND

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
    (?![:;\uff1a\uff1b.\uff0e]{_D})           # nor a fifth field or a fourth decimal
""", re.VERBOSE)

#: Something shaped like a stamp that the strict grammar refused (``1:5045``, ``1:5``).
LOOSE_RE = re.compile(rf"{_D}+(?:[:;\uff1a\uff1b]{_D}+)+(?:{_DOT}{_D}+)?(?![0-9A-Za-z])")
#: Unfilled templates: ``X:XX``, ``??:??``, ``--:--``, ``mm:ss``, ``hh:mm:ss``.
PLACEHOLDER_RE = re.compile(
    r"(?:(?:[0-9xX?#_-]{1,2}:)?[0-9xX?#_-]{1,3}:[0-9xX?#_-]{2}"
    r"|(?:[hH]{1,2}:)?[mM]{1,3}:[sS]{2})(?![0-9A-Za-z])")
_PLACEHOLDER_CHAR = re.compile(r"[^0-9:]")
URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
# "3:15 pm", "20:00 UTC": an event's clock time, not a position in the video.
_CLOCK_SUFFIX = re.compile(
    r"\s?(?:[AaPp]\.?[Mm]\.?(?![A-Za-z])"
    r"|\s?(?:UTC|GMT|CES?T|[ECMP][SD]T|BST|IST|JST|KST|AES?T|[ECP]T|Uhr|h)\b)")

BIDI_MARKS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF])
_EDGE_JUNK = " \u200b\u2060"  # zero-width spaces are not whitespace to str.strip()
SEPARATORS = frozenset("-\u2013\u2014\u2015\u2212|:\u00b7~,\u2022\uff0d\uff5c\uff1a\uff5e\u301c")
_BULLETS = frozenset("\u2022\u2023\u2043\u25e6\u25aa\u25ab\u25a0\u25a1\u25cf\u25cb\u25c6\u25c7"
                     "\u25ba\u25b8\u25b6\u25b9\u27a4\u2794\u2192\u21d2\u00bb>*+~\u00b7"
                     "-\u2013\u2014\u2713\u2714\u2610\u2611")
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Cf", "Mn", "Me"})
_SEGMENT_SEPARATORS = SEPARATORS | {";", "/"}
_BRACKETS = {"[": "]", "(": ")", "\u3010": "\u3011", "\uff3b": "\uff3d", "\uff08": "\uff09"}
_CLOSERS = {close: open_ for open_, close in _BRACKETS.items()}
_KEYCAP = re.compile(r"[0-9#*]\ufe0f?\u20e3")
_LIST_NUMBER = re.compile(r"(\d{1,3})(?:([.)])|\s*([-\u2013\u2014]))\s+")
_RANGE_JOIN = re.compile(r"\s*(?:[-\u2013\u2014~\uff5e\u301c\uff0d]|to)\s*")
_DOT_LEADER = re.compile(r"\s(?:\u2026+|(?:[.\u2026\u00b7]\s?){2,})$")
_RANGE_TAIL = re.compile(r"\s*(?:[-\u2013\u2014~\uff5e\u301c\uff0d]|to)\s*$")
# A title-first "title" ending in one of these is prose running into a time:
# "Live at 20:00", "doors open from 19:30", "caught the 7:15".
_PROSE_TAIL = frozenset("at @ by until till til from to the around before after since starts start "
                        "starting begins um ab bis vers alle".split())
# "John 3:16": a verse reference ends in a book of the Bible, not a chapter title.
_BOOKS = frozenset(
    "Genesis Gen Exodus Ex Exod Leviticus Lev Numbers Num Deuteronomy Deut Joshua Josh Judges Judg "
    "Ruth Samuel Sam Kings Kgs Chronicles Chr Ezra Nehemiah Neh Esther Esth Job Psalm Psalms Ps Psa "
    "Proverbs Prov Ecclesiastes Eccl Songs Isaiah Isa Jeremiah Jer Lamentations Lam Ezekiel Ezek "
    "Daniel Dan Hosea Hos Joel Amos Obadiah Obad Jonah Micah Mic Nahum Nah Habakkuk Hab Zephaniah "
    "Zeph Haggai Hag Zechariah Zech Malachi Mal Matthew Matt Mt Mark Mk Luke Lk John Jn Acts Romans "
    "Rom Corinthians Cor Galatians Gal Ephesians Eph Philippians Phil Colossians Col Thessalonians "
    "Thess Timothy Tim Titus Philemon Phlm Hebrews Heb James Jas Peter Pet Jude Revelation Rev".split())

_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_HTML_HINT = re.compile(r"<(?:br|p|div|li|ul|ol|h[1-6]|span|a|strong|em|b|i)\b[^<>]*>"
                        r"|</(?:p|div|li|ul|ol|h[1-6]|span|a|strong|em|b|i)\s*>", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|<[A-Za-z/!][^<>]*>", re.DOTALL)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|table|blockquote|pre|hr|section)\b",
                        re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\[\]\n]*(?:\[[^\[\]\n]*\][^\[\]\n]*)?)\]\((?:https?://|www\.|/|#)[^()\s]*\)")


# -- stamps ----------------------------------------------------------------------------

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
    if frames >= -(-fps.numerator // fps.denominator):
        return Stamp(*span, None, "bad_frames", f"{text}: frame {frames} does not exist at {fps} fps")
    # Exact: frame n of a second starts n/fps s in (SMPTE drop-frame labels read the same way).
    return Stamp(*span, ns + round(Fraction(frames) * NS_PER_SECOND / fps))


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
    """The stamp a near miss probably meant: ``1:5045`` -> ``1:50:45``."""
    fields = re.split(r"[:;]", unicodedata.normalize("NFKC", token))
    if len(fields) == 2 and len(fields[1]) == 4:
        minutes, seconds = fields[1][:2], fields[1][2:]
        if int(minutes) <= 59 and int(seconds) <= 59:
            return f"{int(fields[0])}:{minutes}:{seconds}"
    return None


# -- text to logical lines -------------------------------------------------------------

def logical_lines(text: str) -> list[tuple[int, str]]:
    """``(lineno, line)`` pairs: HTML made into lines, markdown links unwrapped, bidi marks gone.

    ``lineno`` is the 1-based source line where the logical line starts. CR, CRLF
    and U+2028 all end lines. Markdown links keep their text (``[(0:00) Intro](url)``
    is ``(0:00) Intro``), so a time inside the URL is never read.
    """
    lines = _html_lines(text) if _HTML_HINT.search(text) else _plain_lines(text)
    return [(lineno, _MD_LINK.sub(r"\1", line).translate(BIDI_MARKS)) for lineno, line in lines]


def _plain_lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(_LINE_BREAK.split(text), start=1))


def _html_lines(text: str) -> list[tuple[int, str]]:
    """Tags dropped (with any stamp in their attributes), block tags and ``<br>`` break lines."""
    lines: list[tuple[int, str]] = []
    buffer: list[str] = []
    source_line = start_line = 1

    def feed(chunk: str) -> None:
        nonlocal source_line, start_line
        for index, piece in enumerate(_LINE_BREAK.split(chunk)):
            if index:
                lines.append((start_line, "".join(buffer)))
                buffer.clear()
                source_line += 1
                start_line = source_line
            buffer.append(html.unescape(piece))

    position = 0
    for tag in _TAG.finditer(text):
        feed(text[position:tag.start()])
        source_line += len(_LINE_BREAK.findall(tag.group()))
        if _BLOCK_TAG.match(tag.group()):
            lines.append((start_line, "".join(buffer)))
            buffer.clear()
            start_line = source_line
        position = tag.end()
    feed(text[position:])
    lines.append((start_line, "".join(buffer)))
    return lines


def clean_title(text: str) -> str:
    """A title without padding: whitespace (NBSP too) and zero-width spaces at either end."""
    previous = None
    while previous != text:
        previous, text = text, text.strip().strip(_EDGE_JUNK)
    return text


# -- lines -----------------------------------------------------------------------------

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
        found = _stamp_first(lineno, line, stamps) or _title_first(lineno, line, stamps)
        if found is not None:
            return found
    return _near_miss(lineno, line, stamps)


def _maybe_stamp(line: str) -> bool:
    return ":" in line or "\uff1a" in line


def skip_decoration(line: str, position: int = 0) -> int:
    """Index past bullets, emoji, keycaps and list numbers (``1.``, ``2)``, ``3 -``)."""
    while position < len(line):
        match = _KEYCAP.match(line, position) or _LIST_NUMBER.match(line, position)
        if match:
            position = match.end()
            continue
        char = line[position]
        if char.isspace() or char in _BULLETS or unicodedata.category(char) in _EMOJI_CATEGORIES:
            position += 1
            continue
        break
    return position


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


def _stamp_first(lineno: int, line: str, stamps: list[Stamp]) -> list[Entry] | BadLine | None:
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
    bad = _bad_stamp(lineno, line, first) or (last and _bad_stamp(lineno, line, last))
    if bad:
        return bad
    body = _skip_separator(line, position)
    segments = _flattened(line, stamps, first, last, body)
    if segments:
        return [Entry(lineno, line, s.ns, title, True, e.ns if e else None, flattened=True,
                      frames_dropped=s.frames_dropped) for s, e, title in segments]
    title = clean_title(line[body:])
    if not title:
        return BadLine(lineno, line, "no_title", f"{first.text} has no title")
    assert first.ns is not None
    return [Entry(lineno, line, first.ns, title, True, last.ns if last else None,
                  frames_dropped=first.frames_dropped)]


def skip_spaces(line: str, position: int) -> int:
    while position < len(line) and line[position].isspace():
        position += 1
    return position


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


def _title_first_flattened(line: str, stamps: list[Stamp], first: Stamp,
                           start: int) -> list[tuple[Stamp, Stamp | None, str]] | None:
    """Split ``Intro 0:00 Topic 1:30 End 3:00`` the same way, titles before stamps."""
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
        parts.append((stamp, None, region))
        position = after
    return _segments(parts)


def _title_first(lineno: int, line: str, stamps: list[Stamp]) -> list[Entry] | BadLine | None:
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


def _is_prose(title: str) -> bool:
    """A title-first "title" that is prose running into a time, or a verse reference."""
    words = title.split()
    last = words[-1].rstrip(".,") if words else ""
    return last.lower() in _PROSE_TAIL or last in _BOOKS


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
        return BadLine(lineno, line, "not_a_timestamp", f"{token} is not a timestamp", suggest(token))
    return None
