"""YouTube-style description text: the ``youtube`` chapter format.

Reading is four steps: :mod:`._text` makes the text plain numbered lines and
:mod:`._lines` turns each into chapter entries, a broken entry or prose;
entries form **blocks** (prose and headings do not break a block, a restart
at 0:00 does); the **chapter list** is the first list that starts at 0:00
(a lone ``0:00 ...`` line is not a list); and the list is checked against
YouTube's published rules (first at 0:00, at least 3, ascending, each at least
10 s) or, with ``lenient``, repaired. Every skip, repair and refusal is a
:class:`~chapterkit.diagnostics.Diagnostic`; a refusal raises
:class:`~chapterkit.errors.NoChaptersError` carrying all of them.

Writing is one ``STAMP Title`` line per chapter that reads back to the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise
from typing import NoReturn

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats._lines import BadLine, Entry, classify
from chapterkit.formats._stamps import format_stamp, scan
from chapterkit.formats._text import BIDI_MARKS, clean_title, logical_lines
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, ChapterList
from chapterkit.timecode import parse_rate

name = "youtube"
extensions = (".txt", ".description")
summary = "YouTube description text: '0:00 Intro' lines, stamp-first or title-first"

#: YouTube's rules for description chapters (support.google.com/youtube/answer/9884579).
MIN_CHAPTER_NS = 10 * NS_PER_SECOND
MIN_CHAPTERS = 3
#: ``youtube`` refuses a list breaking YouTube's rules; ``basic`` warns (ParseOptions.rules).
RULES = ("youtube", "basic")
#: What only YouTube requires: other players take equal starts, short and few chapters, a late first one.
YOUTUBE_ONLY = frozenset({"first_not_zero", "duplicate", "too_short", "fewer_than_3"})
#: Inclusive-end ranges (``0:00-1:29``, ``1:30-...``) agree with the next start.
_RANGE_SLACK_NS = NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class _Item:
    """A chapter on its way to the model, remembering the line it came from."""

    start_ns: int
    title: str
    lineno: int
    line: str


@dataclass(slots=True)
class _Block:
    entries: list[Entry]
    indexes: list[int]  # logical-line index of each entry

    @property
    def stamp_first(self) -> bool:
        return self.entries[0].stamp_first

    @property
    def at_zero(self) -> bool:
        return self.entries[0].start_ns == 0


def detect(text: str) -> bool:
    """True when ``text`` holds at least one chapter line (this format is the fallback)."""
    return isinstance(text, str) and any(
        isinstance(classify(lineno, line), list) for lineno, line in logical_lines(text))


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Read the chapter list out of description text.

    Raises:
        NoChaptersError: no timestamps, or a list that breaks YouTube's rules
            (unless ``options.lenient``); ``diagnostics`` holds every finding.
    """
    if not isinstance(text, str):
        raise SourceError(f"description text must be str, not {type(text).__name__}")
    fps = _frame_rate(options.fps)
    if options.duration_ns is not None and options.duration_ns < 0:
        raise UsageError(f"duration {options.duration_ns} ns is negative")
    lines = logical_lines(text)
    entries: list[tuple[int, Entry]] = []
    bad: dict[int, BadLine] = {}
    for index, (lineno, line) in enumerate(lines):
        found = classify(lineno, line, fps)
        if isinstance(found, list):
            entries.extend((index, entry) for entry in found)
        elif found is not None:
            bad[index] = found
    diagnostics: list[Diagnostic] = []
    blocks = _blocks(_unflatten(entries, options.duration_ns))
    chosen = _choose(blocks)
    if chosen is None:
        diagnostics += [_bad_diagnostic(line) for line in bad.values()]
        reason = "no timestamps found"
        if bad:
            broken = next(iter(bad.values()))
            reason = f"no chapter lines found (line {broken.lineno}: {broken.message})"
        _refuse(diagnostics, Diagnostic("no_timestamps", reason, severity="error"))
    diagnostics += _other_blocks(blocks, chosen)
    diagnostics += _bad_lines_in(chosen, bad, options.duration_ns)
    items = _items(chosen, options, diagnostics)
    if options.rules not in RULES:
        raise UsageError(f"unknown rules {options.rules!r} (known: {', '.join(RULES)})")
    if options.rules == "basic":
        items = _basic(items, options, diagnostics)
    else:
        check = _repair if options.lenient else _validate
        items = check(items, options.duration_ns, diagnostics)
    if any(d.severity == "error" for d in diagnostics):
        _refuse(diagnostics)
    chapters = ChapterList.of(((item.start_ns, item.title) for item in items),
                              duration_ns=options.duration_ns)
    return ParseResult(chapters, _sorted(diagnostics), tuple(item.lineno for item in items))


def render(chapters: ChapterList) -> str:
    """One ``STAMP Title`` line per chapter: ``M:SS`` below an hour, ``H:MM:SS`` above.

    A title that would read back differently after a bare space (it starts with
    a separator, ``pm`` or a stamp) gets an explicit `` - `` separator, of which
    the reader removes exactly one. Starts are written to the millisecond, like
    YouTube's own stamps; line breaks and bidi marks in titles become what the
    reader would make of them, and an empty title becomes ``Chapter N``.
    """
    out = []
    for number, chapter in enumerate(chapters, start=1):
        flat = " ".join(chapter.title.splitlines()).translate(BIDI_MARKS)
        title = clean_title(flat) or f"Chapter {number}"
        stamp = format_stamp(chapter.start_ns)
        line = f"{stamp} {title}"
        if not _reads_back(line, title):
            line = f"{stamp} - {title}"
        out.append(line)
    return "".join(f"{line}\n" for line in out)


def render_losses(chapters: ChapterList) -> tuple[str, ...]:
    """YouTube's rules, checked on write: each broken one is named (the text is still written as given)."""
    losses = []
    starts = chapters.starts_ns
    if starts and starts[0] != 0:
        losses.append(f"first chapter at {format_stamp(starts[0])}; YouTube needs 0:00")
    if len(starts) < MIN_CHAPTERS:
        losses.append(f"only {len(starts)} chapter(s); YouTube needs at least {MIN_CHAPTERS}")
    short = [c for c in chapters if c.duration_ns is not None and c.duration_ns < MIN_CHAPTER_NS]
    if short:
        losses.append(f"{len(short)} chapter(s) shorter than 0:10, YouTube's minimum (first: {short[0].title!r} "
                      f"at {format_stamp(short[0].start_ns)})")
    if any(b <= a for a, b in pairwise(starts)):
        losses.append("starts do not ascend; YouTube needs each later than the one before")
    if any(c.start_ns % 1_000_000 for c in chapters):
        losses.append("times finer than a millisecond were rounded")
    return tuple(losses)


def _reads_back(line: str, title: str) -> bool:
    """True when ``line`` alone reads as one chapter called ``title``.

    A title holding a later time (``Mile 13 split 1:38:12 in the film``) reads as
    a flattened line here; whether the list keeps it whole depends on its
    neighbours (see :func:`_unflatten`), and a `` - `` would not change that.
    """
    found = classify(1, line)
    if not isinstance(found, list):
        return False
    return (len(found) == 1 and found[0].title == title) or found[0].whole_title == title


def _frame_rate(fps: object) -> Fraction | None:
    if fps is None:
        return None
    try:
        return parse_rate(fps)  # type: ignore[arg-type]  # 29.97 is 30000/1001
    except ValueError:
        raise UsageError(f"frame rate {fps!r} is not a positive number") from None


# -- blocks ----------------------------------------------------------------------------

def _unflatten(entries: list[tuple[int, Entry]], duration_ns: int | None) -> list[tuple[int, Entry]]:
    """Read a split stamp-first line as one chapter when its later stamps cannot be starts.

    ``1:00 Q&A 45:00 in the film`` before ``2:00 End`` is not two chapters: 45:00
    is past the next line's start (or the media's end), so it is part of the title.
    A line whose pieces fit between its neighbours stays split (and is refused
    unless ``--split-flattened``).
    """
    result: list[tuple[int, Entry]] = []
    # The next stamp-first and title-first entry at or after each position, found from
    # the end in one pass (a search per line made 100,000 lines take 35 s).
    following_at: list[dict[bool, Entry]] = [{}] * (len(entries) + 1)
    for at in range(len(entries) - 1, -1, -1):
        entry = entries[at][1]
        following_at[at] = {**following_at[at + 1], entry.stamp_first: entry}
    position = 0
    while position < len(entries):
        index, entry = entries[position]
        stop = position + 1
        while stop < len(entries) and entries[stop][0] == index:
            stop += 1
        group = entries[position:stop]
        following = following_at[stop].get(entry.stamp_first)
        limit = duration_ns if following is None or following.start_ns == 0 else following.start_ns
        if (entry.flattened and entry.stamp_first and entry.whole_title and limit is not None
                and group[-1][1].start_ns >= limit):
            group = [(index, replace(entry, title=entry.whole_title, flattened=False, whole_title=None))]
        result += group
        position = stop
    return result


def _blocks(entries: list[tuple[int, Entry]]) -> list[_Block]:
    """Group entries into blocks, stamp-first and title-first lines apart.

    A restart at 0:00 opens a new block; everything between entries (prose,
    headings, blank lines, the other orientation) leaves the block open. Two
    0:00 lines in a row are one list with a duplicate, not a restart. A lone
    title-first line not at 0:00 ("Sponsor 12:00") is prose, not a block.
    """
    blocks: list[_Block] = []
    current: dict[bool, _Block] = {}
    moved: set[int] = set()  # ids of blocks with an entry past 0:00 (kept, not searched for)
    for index, entry in entries:
        block = current.get(entry.stamp_first)
        restart = entry.start_ns == 0 and block is not None and (
            id(block) in moved or index > block.indexes[-1] + 1)
        if block is None or restart:
            block = current[entry.stamp_first] = _Block([], [])
            blocks.append(block)
        if entry.start_ns:
            moved.add(id(block))
        block.entries.append(entry)
        block.indexes.append(index)
    return [b for b in blocks if b.stamp_first or len(b.entries) > 1 or b.at_zero]


def _choose(blocks: list[_Block]) -> _Block | None:
    """The first list (2+ entries) at 0:00; else the first block at 0:00; else the first list; else anything.

    A lone ``0:00 ...`` line above the list ("0:00 - 2:00:00 full stream") is not the list.
    """
    lists = [b for b in blocks if len(b.entries) > 1]
    for candidates in ([b for b in lists if b.at_zero], [b for b in blocks if b.at_zero], lists, blocks):
        if candidates:
            return min(candidates, key=lambda b: b.indexes[0])
    return None


def _other_blocks(blocks: list[_Block], chosen: _Block) -> list[Diagnostic]:
    found = []
    for block in blocks:
        if block is chosen:
            continue
        first = block.entries[0]
        if len(block.entries) > 1 or block.at_zero:
            what = (f"another list of {len(block.entries)} timestamps starts here" if len(block.entries) > 1
                    else f"a lone {format_stamp(first.start_ns)} line, not a list")
            found.append(Diagnostic(
                "second_block_ignored", f"{what}; only the list from line {chosen.entries[0].lineno} is used",
                first.lineno, first.line))
        else:
            found.append(Diagnostic("stray_timestamp", f"{format_stamp(first.start_ns)} is not part of "
                                    "the chapter list", first.lineno, first.line, severity="info"))
    return found


def _bad_lines_in(block: _Block, bad: dict[int, BadLine], duration_ns: int | None = None) -> list[Diagnostic]:
    """Broken entries inside the block, or right before or after it (a broken first or last line)."""
    low, high = block.indexes[0], block.indexes[-1]
    while low - 1 in bad:
        low -= 1
    while high + 1 in bad:
        high += 1
    return [_bad_diagnostic(_fitting(line, index, block, duration_ns)) for index, line in sorted(bad.items())
            if low <= index <= high and (line.stamp_first == block.stamp_first or line.code == "placeholder")]


def _fitting(line: BadLine, index: int, block: _Block, duration_ns: int | None) -> BadLine:
    """The line without its suggestion unless the suggested time fits where the line stands.

    ``1:5045`` between ``1:50:00`` and ``1:51:00`` is surely ``1:50:45``; between ``0:10``
    and ``0:20``, or past the media's end, the guess would mislead.
    """
    if line.suggestion is None or "." in line.suggestion:
        return line  # ``1:30,5`` -> ``1:30.5`` fixes the notation, not the digits: always offered
    stamps = scan(line.suggestion)
    value = stamps[0].ns if stamps else None
    before = [e.start_ns for e, i in zip(block.entries, block.indexes) if i < index]
    after = [e.start_ns for e, i in zip(block.entries, block.indexes) if i > index]
    fits = value is not None and (not before or before[-1] < value) and (not after or value < after[0]) \
        and (duration_ns is None or value < duration_ns)
    return line if fits else replace(line, suggestion=None)


_SKIPPED = "; line skipped"


def _bad_diagnostic(line: BadLine) -> Diagnostic:
    return Diagnostic(line.code, line.message + _SKIPPED, line.lineno, line.line, line.suggestion)


def _items(block: _Block, options: ParseOptions, diagnostics: list[Diagnostic]) -> list[_Item]:
    """The block's entries as items: list numbers dropped, flattened lines, SMPTE and range notes."""
    entries = block.entries
    numbered = _consistently_numbered(entries)
    items = [_Item(e.start_ns, (e.bare_title or e.title) if numbered else e.title, e.lineno, e.line)
             for e in entries]
    flattened = sorted({(e.lineno, e.line) for e in entries if e.flattened})
    for lineno, line in flattened:
        count = sum(1 for e in entries if e.flattened and e.lineno == lineno)
        if options.split_flattened:
            diagnostics.append(Diagnostic("multiple_stamps_on_line", f"split {count} chapters from one line",
                                          lineno, line, severity="info"))
        else:
            diagnostics.append(Diagnostic(
                "multiple_stamps_on_line", f"{count} timestamps on one line; put one chapter per line "
                "or pass --split-flattened", lineno, line, severity="error"))
    dropped = [e for e in entries if e.frames_dropped]
    if dropped:
        diagnostics.append(Diagnostic(
            "smpte_frames", f"{len(dropped)} SMPTE timecode(s) read as whole seconds, frames dropped; "
            "pass --fps for exact times", dropped[0].lineno, dropped[0].line))
    for entry, following in zip(entries, [*entries[1:], None], strict=True):
        limit = following.start_ns if following else options.duration_ns
        if entry.end_ns is not None and limit is not None and abs(entry.end_ns - limit) > _RANGE_SLACK_NS:
            what = "the next chapter starts" if following else "the media ends"
            diagnostics.append(Diagnostic(
                "range_end_mismatch", f"range ends at {format_stamp(entry.end_ns)} but {what} at "
                f"{format_stamp(limit)}; the start is kept", entry.lineno, entry.line))
    return items


def _consistently_numbered(entries: list[Entry]) -> bool:
    """Title-first ``1. Intro 0:00`` lines lose their number only if every line counts up by one."""
    numbers = [e.number for e in entries]
    if entries[0].stamp_first or any(n is None for n in numbers):
        return False
    styles = {n[0] for n in numbers if n}
    values = [n[1] for n in numbers if n]
    return len(styles) == 1 and values == list(range(values[0], values[0] + len(values)))


# -- YouTube's rules -------------------------------------------------------------------

def _validate(items: list[_Item], duration_ns: int | None, diagnostics: list[Diagnostic]) -> list[_Item]:
    """Each broken rule is an error naming its line; the caller refuses if there is any."""
    items = _within_duration(items, duration_ns, diagnostics)
    if _looks_like_durations(items, duration_ns):
        diagnostics.append(_durations_error(items))
        return items
    first = items[0]
    if first.start_ns:
        diagnostics.append(_error(first, "first_not_zero", _first_not_zero(first)))
    for previous, item in pairwise(items):
        if item.start_ns == previous.start_ns:
            diagnostics.append(_error(item, "duplicate", f"{format_stamp(item.start_ns)} repeats the "
                                      f"start of line {previous.lineno}"))
        elif item.start_ns < previous.start_ns:
            diagnostics.append(_error(item, "out_of_order", f"{format_stamp(item.start_ns)} comes after "
                                      f"{format_stamp(previous.start_ns)}; starts must ascend"))
    for index, item in enumerate(items):
        length = _length(items, index, duration_ns)
        if length is not None and 0 < length < MIN_CHAPTER_NS:
            diagnostics.append(_error(item, "too_short", f"chapter {item.title!r} lasts "
                                      f"{format_stamp(length)}; YouTube needs at least 0:10"))
    if len(items) < MIN_CHAPTERS:
        diagnostics.append(_error(items[-1], "fewer_than_3", f"only {len(items)} chapter(s); "
                                  f"YouTube needs at least {MIN_CHAPTERS}"))
    return items


def _basic(items: list[_Item], options: ParseOptions, diagnostics: list[Diagnostic]) -> list[_Item]:
    """``--rules basic``: YouTube's own rules warn instead of refusing, and nothing is dropped.

    With ``lenient`` an out-of-order start is moved into place (a warning), the one
    repair that is not YouTube's; equal starts, short chapters and a late first one stay.
    """
    found: list[Diagnostic] = []
    items = _validate(items, options.duration_ns, found)
    for diagnostic in found:
        if diagnostic.severity == "error" and diagnostic.code in YOUTUBE_ONLY:
            diagnostic = replace(diagnostic, severity="warning")
        elif diagnostic.severity == "error" and diagnostic.code == "out_of_order" and options.lenient:
            diagnostic = replace(diagnostic, severity="warning", message=diagnostic.message + "; moved into place")
        diagnostics.append(diagnostic)
    if options.lenient:
        items = sorted(items, key=lambda item: item.start_ns)
    return items


def _repair(items: list[_Item], duration_ns: int | None, diagnostics: list[Diagnostic]) -> list[_Item]:
    """Lenient mode: sort, merge duplicates, insert 0:00, drop too-short chapters; each a warning."""
    items = _within_duration(items, duration_ns, diagnostics)
    if _looks_like_durations(items, duration_ns):
        diagnostics.append(_durations_error(items))
        return items
    latest = -1
    for item in items:
        if item.start_ns < latest:
            diagnostics.append(_warning(item, "out_of_order", f"{format_stamp(item.start_ns)} is out of "
                                        "order; moved into place"))
        latest = max(latest, item.start_ns)
    merged: list[_Item] = []
    for item in sorted(items, key=lambda i: i.start_ns):
        if merged and item.start_ns == merged[-1].start_ns:
            diagnostics.append(_warning(item, "duplicate", f"{format_stamp(item.start_ns)} repeats line "
                                        f"{merged[-1].lineno}; dropped {item.title!r}"))
        else:
            merged.append(item)
    first = merged[0]
    if first.start_ns and first.start_ns < MIN_CHAPTER_NS:
        merged[0] = _Item(0, first.title, first.lineno, first.line)
        diagnostics.append(_warning(first, "first_not_zero", f"{_first_not_zero(first)}; moved it to 0:00"))
    elif first.start_ns:
        title = "Start" if first.title.casefold() == "intro" else "Intro"  # never two "Intro"s
        merged.insert(0, _Item(0, title, first.lineno, first.line))
        diagnostics.append(_warning(first, "first_not_zero", f"{_first_not_zero(first)}; "
                                    f"inserted 0:00 {title}"))
    merged = _drop_too_short(merged, duration_ns, diagnostics)
    if len(merged) < MIN_CHAPTERS:
        diagnostics.append(_warning(merged[-1], "fewer_than_3", f"only {len(merged)} chapter(s); "
                                    f"YouTube needs at least {MIN_CHAPTERS}"))
    return merged


def _drop_too_short(items: list[_Item], duration_ns: int | None,
                    diagnostics: list[Diagnostic]) -> list[_Item]:
    """Fold each chapter under 10 s into the one before it (the first absorbs the second)."""
    while True:
        short = next((i for i in range(len(items))
                      if (n := _length(items, i, duration_ns)) is not None and n < MIN_CHAPTER_NS), None)
        if short is None or len(items) == 1:
            return items
        length = _length(items, short, duration_ns) or 0
        victim = items[max(short, 1)]
        diagnostics.append(_warning(victim, "too_short", f"chapter {items[short].title!r} lasts "
                                    f"{format_stamp(length)}; dropped {victim.title!r} "
                                    f"at {format_stamp(victim.start_ns)}"))
        items = items[:max(short, 1)] + items[max(short, 1) + 1:]


def _within_duration(items: list[_Item], duration_ns: int | None,
                     diagnostics: list[Diagnostic]) -> list[_Item]:
    if duration_ns is None:
        return items
    kept = []
    for item in items:
        if item.start_ns >= duration_ns:
            diagnostics.append(_warning(item, "beyond_duration", f"{format_stamp(item.start_ns)} is at or "
                                        f"past the end ({format_stamp(duration_ns)}); dropped"))
        else:
            kept.append(item)
    if not kept:
        _refuse(diagnostics, Diagnostic("beyond_duration", "every timestamp is at or past the end "
                                        f"({format_stamp(duration_ns)})", severity="error"))
    return kept


def _looks_like_durations(items: list[_Item], duration_ns: int | None) -> bool:
    """A tracklist of lengths: first not 0:00, not ascending, summing to about the duration."""
    starts = [item.start_ns for item in items]
    descents = sum(1 for a, b in pairwise(starts) if b < a)
    if len(starts) < 2 or starts[0] == 0 or not descents:
        return False
    if duration_ns is None:
        # Lengths go up and down; start times with a typo descend once or twice.
        return 3 * descents >= len(starts) - 1
    return abs(sum(starts) - duration_ns) <= max(10 * NS_PER_SECOND, duration_ns // 100)


def _durations_error(items: list[_Item]) -> Diagnostic:
    total = sum(item.start_ns for item in items)
    return _error(items[0], "durations", f"these look like durations, not start times (they do not "
                  f"ascend and add up to {format_stamp(total)})")


def _first_not_zero(first: _Item) -> str:
    stamp = format_stamp(first.start_ns)
    if first.start_ns == NS_PER_SECOND:
        return "first chapter starts at 0:01, YouTube's opt-out that turns chapters off, not 0:00"
    return f"first chapter starts at {stamp}, not 0:00"


def _length(items: list[_Item], index: int, duration_ns: int | None) -> int | None:
    following = items[index + 1].start_ns if index + 1 < len(items) else duration_ns
    if following is None or following <= items[index].start_ns:
        return None  # unknown, or an order error reported on its own
    return following - items[index].start_ns


def _error(item: _Item, code: str, message: str) -> Diagnostic:
    return Diagnostic(code, message, item.lineno, item.line, severity="error")


def _warning(item: _Item, code: str, message: str) -> Diagnostic:
    return Diagnostic(code, message, item.lineno, item.line, severity="warning")


def _sorted(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(diagnostics, key=lambda d: d.lineno or float("inf")))


def _refuse(diagnostics: list[Diagnostic], reason: Diagnostic | None = None) -> NoReturn:
    """Raise :class:`NoChaptersError` whose reason is the first error, its line named.

    A skipped line is often why a list falls short ("only 2 chapters" because
    line 3's stamp was broken, or no 0:00 because line 1's was), so the first
    skipped line is named in those reasons too.
    """
    if reason is not None:
        diagnostics.append(reason)
    first = next(d for d in diagnostics if d.severity == "error")
    where = f"line {first.lineno}: " if first.lineno else ""
    skipped = [d for d in diagnostics if d.message.endswith(_SKIPPED)]
    also = ""
    if skipped and first.code in ("fewer_than_3", "first_not_zero"):
        more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        also = f" (line {skipped[0].lineno} skipped: {skipped[0].message.removesuffix(_SKIPPED)}{more})"
    raise NoChaptersError(f"{where}{first.message}{also}", diagnostics=_sorted(diagnostics))
