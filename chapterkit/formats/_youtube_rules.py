"""YouTube's rules for description chapters, checked, relaxed (``--rules basic``) or repaired.

The rules are YouTube's published ones (support.google.com/youtube/answer/9884579):
the first chapter at 0:00, at least three, starts ascending, each at least 10 s.
:mod:`chapterkit.formats.description` finds the chapter list in the text; this
module judges the list it found, which is a separate concern with its own
vocabulary of diagnostics (``first_not_zero``, ``duplicate``, ``too_short``,
``fewer_than_3``, ``out_of_order``, ``durations``, ``beyond_duration``) and the
refusal that carries them. The description module re-exports the constants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import NoReturn

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError
from chapterkit.formats._stamps import format_stamp
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_SECOND

#: YouTube's rules for description chapters (support.google.com/youtube/answer/9884579).
MIN_CHAPTER_NS = 10 * NS_PER_SECOND
MIN_CHAPTERS = 3
#: What only YouTube requires: other players take equal starts, short and few chapters, a late first one.
YOUTUBE_ONLY = frozenset({"first_not_zero", "duplicate", "too_short", "fewer_than_3"})
#: The end of the message of a line skipped while reading (see :func:`refuse`).
SKIPPED = "; line skipped"


@dataclass(frozen=True, slots=True)
class Item:
    """A chapter on its way to the model, remembering the line it came from."""

    start_ns: int
    title: str
    lineno: int
    line: str


def validate(items: list[Item], duration_ns: int | None, diagnostics: list[Diagnostic]) -> list[Item]:
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


def basic(items: list[Item], options: ParseOptions, diagnostics: list[Diagnostic]) -> list[Item]:
    """``--rules basic``: YouTube's own rules warn instead of refusing, and nothing is dropped.

    With ``lenient`` an out-of-order start is moved into place (a warning), the one
    repair that is not YouTube's; equal starts, short chapters and a late first one stay.
    """
    found: list[Diagnostic] = []
    items = validate(items, options.duration_ns, found)
    for diagnostic in found:
        if diagnostic.severity == "error" and diagnostic.code in YOUTUBE_ONLY:
            diagnostic = replace(diagnostic, severity="warning")
        elif diagnostic.severity == "error" and diagnostic.code == "out_of_order" and options.lenient:
            diagnostic = replace(diagnostic, severity="warning", message=diagnostic.message + "; moved into place")
        diagnostics.append(diagnostic)
    if options.lenient:
        items = sorted(items, key=lambda item: item.start_ns)
    return items


def repair(items: list[Item], duration_ns: int | None, diagnostics: list[Diagnostic]) -> list[Item]:
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
    merged: list[Item] = []
    for item in sorted(items, key=lambda i: i.start_ns):
        if merged and item.start_ns == merged[-1].start_ns:
            diagnostics.append(_warning(item, "duplicate", f"{format_stamp(item.start_ns)} repeats line "
                                        f"{merged[-1].lineno}; dropped {item.title!r}"))
        else:
            merged.append(item)
    first = merged[0]
    if first.start_ns and first.start_ns < MIN_CHAPTER_NS:
        merged[0] = Item(0, first.title, first.lineno, first.line)
        diagnostics.append(_warning(first, "first_not_zero", f"{_first_not_zero(first)}; moved it to 0:00"))
    elif first.start_ns:
        title = "Start" if first.title.casefold() == "intro" else "Intro"  # never two "Intro"s
        merged.insert(0, Item(0, title, first.lineno, first.line))
        diagnostics.append(_warning(first, "first_not_zero", f"{_first_not_zero(first)}; "
                                    f"inserted 0:00 {title}"))
    merged = _drop_too_short(merged, duration_ns, diagnostics)
    if len(merged) < MIN_CHAPTERS:
        diagnostics.append(_warning(merged[-1], "fewer_than_3", f"only {len(merged)} chapter(s); "
                                    f"YouTube needs at least {MIN_CHAPTERS}"))
    return merged


def _drop_too_short(items: list[Item], duration_ns: int | None,
                    diagnostics: list[Diagnostic]) -> list[Item]:
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


def _within_duration(items: list[Item], duration_ns: int | None,
                     diagnostics: list[Diagnostic]) -> list[Item]:
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
        refuse(diagnostics, Diagnostic("beyond_duration", "every timestamp is at or past the end "
                                        f"({format_stamp(duration_ns)})", severity="error"))
    return kept


def _looks_like_durations(items: list[Item], duration_ns: int | None) -> bool:
    """A tracklist of lengths: first not 0:00, not ascending, summing to about the duration."""
    starts = [item.start_ns for item in items]
    descents = sum(1 for a, b in pairwise(starts) if b < a)
    if len(starts) < 2 or starts[0] == 0 or not descents:
        return False
    if duration_ns is None:
        # Lengths go up and down; start times with a typo descend once or twice.
        return 3 * descents >= len(starts) - 1
    return abs(sum(starts) - duration_ns) <= max(10 * NS_PER_SECOND, duration_ns // 100)


def _durations_error(items: list[Item]) -> Diagnostic:
    total = sum(item.start_ns for item in items)
    return _error(items[0], "durations", f"these look like durations, not start times (they do not "
                  f"ascend and add up to {format_stamp(total)})")


def _first_not_zero(first: Item) -> str:
    stamp = format_stamp(first.start_ns)
    if first.start_ns == NS_PER_SECOND:
        return "first chapter starts at 0:01, YouTube's opt-out that turns chapters off, not 0:00"
    return f"first chapter starts at {stamp}, not 0:00"


def _length(items: list[Item], index: int, duration_ns: int | None) -> int | None:
    following = items[index + 1].start_ns if index + 1 < len(items) else duration_ns
    if following is None or following <= items[index].start_ns:
        return None  # unknown, or an order error reported on its own
    return following - items[index].start_ns


def _error(item: Item, code: str, message: str) -> Diagnostic:
    return Diagnostic(code, message, item.lineno, item.line, severity="error")


def _warning(item: Item, code: str, message: str) -> Diagnostic:
    return Diagnostic(code, message, item.lineno, item.line, severity="warning")


def sorted_diagnostics(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(diagnostics, key=lambda d: d.lineno or float("inf")))


def refuse(diagnostics: list[Diagnostic], reason: Diagnostic | None = None) -> NoReturn:
    """Raise :class:`NoChaptersError` whose reason is the first error, its line named.

    A skipped line is often why a list falls short ("only 2 chapters" because
    line 3's stamp was broken, or no 0:00 because line 1's was), so the first
    skipped line is named in those reasons too.
    """
    if reason is not None:
        diagnostics.append(reason)
    first = next(d for d in diagnostics if d.severity == "error")
    where = f"line {first.lineno}: " if first.lineno else ""
    skipped = [d for d in diagnostics if d.message.endswith(SKIPPED)]
    also = ""
    if skipped and first.code in ("fewer_than_3", "first_not_zero"):
        more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
        also = f" (line {skipped[0].lineno} skipped: {skipped[0].message.removesuffix(SKIPPED)}{more})"
    raise NoChaptersError(f"{where}{first.message}{also}", diagnostics=sorted_diagnostics(diagnostics))


__all__ = ["MIN_CHAPTERS", "MIN_CHAPTER_NS", "SKIPPED", "YOUTUBE_ONLY", "Item", "basic", "refuse", "repair",
           "sorted_diagnostics", "validate"]
