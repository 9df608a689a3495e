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

Judging the chosen list against YouTube's rules (and relaxing or repairing it) is
:mod:`chapterkit.formats._youtube_rules`; this module finds the list and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import SourceError, UsageError
from chapterkit.formats._lines import BadLine, Entry, classify
from chapterkit.formats._stamps import format_stamp, scan
from chapterkit.formats._text import BIDI_MARKS, clean_title, logical_lines
from chapterkit.formats._youtube_rules import (MIN_CHAPTER_NS, MIN_CHAPTERS, SKIPPED, YOUTUBE_ONLY,  # noqa: F401
                                               Item, basic, refuse, repair, sorted_diagnostics, validate)
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, ChapterList
from chapterkit.timecode import parse_rate

name = "youtube"
extensions = (".txt", ".description")
summary = "YouTube description text: '0:00 Intro' lines, stamp-first or title-first"

#: ``youtube`` refuses a list breaking YouTube's rules; ``basic`` warns (ParseOptions.rules).
RULES = ("youtube", "basic")
#: Inclusive-end ranges (``0:00-1:29``, ``1:30-...``) agree with the next start.
_RANGE_SLACK_NS = NS_PER_SECOND


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
        refuse(diagnostics, Diagnostic("no_timestamps", reason, severity="error"))
    diagnostics += _other_blocks(blocks, chosen)
    diagnostics += _bad_lines_in(chosen, bad, options.duration_ns)
    items = _items(chosen, options, diagnostics)
    if options.rules not in RULES:
        raise UsageError(f"unknown rules {options.rules!r} (known: {', '.join(RULES)})")
    if options.rules == "basic":
        items = basic(items, options, diagnostics)
    else:
        check = repair if options.lenient else validate
        items = check(items, options.duration_ns, diagnostics)
    if any(d.severity == "error" for d in diagnostics):
        refuse(diagnostics)
    chapters = ChapterList.of(((item.start_ns, item.title) for item in items),
                              duration_ns=options.duration_ns)
    return ParseResult(chapters, sorted_diagnostics(diagnostics), tuple(item.lineno for item in items))


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


def _bad_diagnostic(line: BadLine) -> Diagnostic:
    return Diagnostic(line.code, line.message + SKIPPED, line.lineno, line.line, line.suggestion)


def _items(block: _Block, options: ParseOptions, diagnostics: list[Diagnostic]) -> list[Item]:
    """The block's entries as items: list numbers dropped, flattened lines, SMPTE and range notes."""
    entries = block.entries
    numbered = _consistently_numbered(entries)
    items = [Item(e.start_ns, (e.bare_title or e.title) if numbered else e.title, e.lineno, e.line)
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
