"""Edits ``chapterkit convert`` makes to a chapter list: shift, scale, clip, drop, rename, fill titles.

Pure functions over :class:`~chapterkit.model.ChapterList`: each returns the new
list and one note per chapter it dropped or changed beyond the asked edit, so
nothing disappears silently. A list that carries the Matroska structure
(``ChapterList.editions``) gets the same edit there: times move in every edition
and nested atom, and a renamed or dropped chapter is the same atom in the
default edition, so ``mkvxml`` to ``mkvxml`` keeps its structure through edits.

:func:`apply` runs a whole :class:`EditPlan` in one fixed order: rename, drop
(numbers and titles refer to the list as ``chapterkit parse`` shows it), scale,
clip, shift, fill titles, duration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from fractions import Fraction

from chapterkit.errors import UsageError
from chapterkit.model import Atom, Chapter, ChapterList, Display, Edition, default_edition
from chapterkit.timecode import format_clock, parse_clock

#: A time map for one chapter: ``(start, end) -> (start, end)``, or None to drop it.
Span = Callable[[int, int | None], tuple[int, int | None] | None]


@dataclass(frozen=True, slots=True)
class EditPlan:
    """Every edit of one ``convert`` run; the defaults change nothing."""

    rename: tuple[tuple[int, str], ...] = ()
    drop: tuple[str, ...] = ()
    scale: tuple[Fraction, Fraction] | None = None
    clip: tuple[int, int | None] | None = None
    shift_ns: int = 0
    fill_titles: str | None = None
    duration_ns: int | None = None

    @property
    def moves_times(self) -> bool:
        return self.scale is not None or self.clip is not None or self.shift_ns != 0


def apply(chapters: ChapterList, plan: EditPlan) -> tuple[ChapterList, tuple[str, ...]]:
    """``chapters`` after every edit of ``plan``, and the notes the edits made."""
    notes: list[str] = []
    for number, title in plan.rename:
        chapters = rename(chapters, number, title)
    for pattern in plan.drop:
        chapters = _noted(drop(chapters, pattern), notes)
    if plan.scale is not None:
        chapters = scale(chapters, *plan.scale)
    if plan.clip is not None:
        chapters = _noted(clip(chapters, *plan.clip), notes)
    if plan.shift_ns:
        chapters = _noted(shift(chapters, plan.shift_ns), notes)
    if plan.fill_titles is not None:
        chapters = fill_titles(chapters, plan.fill_titles)
    if plan.duration_ns is not None:
        chapters = _noted(with_duration(chapters, plan.duration_ns), notes)
    if not chapters:
        raise UsageError("the edits left no chapters")
    return chapters, tuple(notes)


def _noted(result: tuple[ChapterList, tuple[str, ...]], notes: list[str]) -> ChapterList:
    notes.extend(result[1])
    return result[0]


# -- time edits ------------------------------------------------------------------------------


def shift(chapters: ChapterList, delta_ns: int) -> tuple[ChapterList, tuple[str, ...]]:
    """Every time moved by ``delta_ns``; what would start before 0 starts at 0, what would end by 0 is dropped."""
    def span(start: int, end: int | None) -> tuple[int, int | None] | None:
        if end is not None and end + delta_ns <= 0 < end:
            return None
        new_end = None if end is None else end + delta_ns
        return max(0, start + delta_ns), new_end

    duration = None if chapters.duration_ns is None else max(0, chapters.duration_ns + delta_ns)
    return _map(chapters, span, duration, f"shifted by {_signed(delta_ns)}")


def scale(chapters: ChapterList, source_fps: Fraction, target_fps: Fraction) -> ChapterList:
    """Times for the same frames at another rate: ``t * source / target`` (25 -> 24000/1001 lengthens)."""
    if source_fps <= 0 or target_fps <= 0:
        raise UsageError("frame rates must be positive")
    factor = Fraction(source_fps) / Fraction(target_fps)

    def at(ns: int) -> int:
        return int(ns * factor + Fraction(1, 2))  # halves up, exact

    def span(start: int, end: int | None) -> tuple[int, int | None]:
        return at(start), None if end is None else at(end)

    duration = None if chapters.duration_ns is None else at(chapters.duration_ns)
    return _map(chapters, span, duration, "")[0]


def clip(chapters: ChapterList, start_ns: int, end_ns: int | None) -> tuple[ChapterList, tuple[str, ...]]:
    """The part from ``start_ns`` to ``end_ns`` (None: the end), moved to 0; chapters outside it are dropped."""
    if end_ns is not None and end_ns <= start_ns:
        raise UsageError(f"--clip end {format_clock(end_ns)} is not after its start {format_clock(start_ns)}")

    def span(start: int, end: int | None) -> tuple[int, int | None] | None:
        if (end_ns is not None and start >= end_ns) or (end is not None and end <= start_ns):
            return None
        new_end = None if end is None else (end if end_ns is None else min(end, end_ns)) - start_ns
        return max(start, start_ns) - start_ns, new_end

    duration = chapters.duration_ns
    if end_ns is not None:
        duration = end_ns if duration is None else min(duration, end_ns)
    duration = None if duration is None else max(0, duration - start_ns)
    where = f"{format_clock(start_ns)}-{'' if end_ns is None else format_clock(end_ns)}"
    return _map(chapters, span, duration, f"outside --clip {where}")


def with_duration(chapters: ChapterList, duration_ns: int) -> tuple[ChapterList, tuple[str, ...]]:
    """The list against a media duration: chapters starting at or after it are dropped, the last ends by it."""
    def span(start: int, end: int | None) -> tuple[int, int | None] | None:
        if start >= duration_ns:
            return None
        return start, None if end is None else min(end, duration_ns)

    moved, notes = _map(chapters, span, chapters.duration_ns, f"at or after the duration {format_clock(duration_ns)}")
    return moved.with_duration(duration_ns), notes


def _map(chapters: ChapterList, span: Span, duration_ns: int | None,
         why: str) -> tuple[ChapterList, tuple[str, ...]]:
    notes: list[str] = []
    kept = []
    for number, chapter in enumerate(chapters, 1):
        moved = span(chapter.start_ns, chapter.end_ns)
        if moved is None:
            notes.append(f"chapter {number} {chapter.title!r} at {format_clock(chapter.start_ns)} dropped: {why}")
        else:
            kept.append(replace(chapter, start_ns=moved[0], end_ns=moved[1]))
    editions = tuple(_map_edition(edition, span) for edition in chapters.editions)
    return ChapterList(tuple(kept), chapters.title, duration_ns, editions), tuple(notes)


def _map_edition(edition: Edition, span: Span) -> Edition:
    return replace(edition, atoms=_map_atoms(edition.atoms, span))


def _map_atoms(atoms: tuple[Atom, ...], span: Span) -> tuple[Atom, ...]:
    out = []
    for atom in atoms:
        end = atom.end_ns if atom.end_ns is None or atom.end_ns >= atom.start_ns else None
        moved = span(atom.start_ns, end)
        if moved is not None:
            out.append(replace(atom, start_ns=moved[0], end_ns=moved[1], children=_map_atoms(atom.children, span)))
    return tuple(out)


# -- title edits -----------------------------------------------------------------------------


def rename(chapters: ChapterList, number: int, title: str) -> ChapterList:
    """Chapter ``number`` (1-based, as ``chapterkit parse`` numbers them) titled ``title``."""
    if not 1 <= number <= len(chapters):
        raise UsageError(f"--rename {number}: there are chapters 1 to {len(chapters)}")
    return _retitle(chapters, {number - 1: title})


def fill_titles(chapters: ChapterList, template: str) -> ChapterList:
    """Each empty title becomes ``template`` with ``{n}`` replaced by the chapter's number."""
    if "{n}" not in template:
        raise UsageError(f"--fill-titles {template!r} has no {{n}} (e.g. 'Chapter {{n}}')")
    return _retitle(chapters, {index: template.replace("{n}", str(index + 1))
                               for index, chapter in enumerate(chapters) if not chapter.title.strip()})


def drop(chapters: ChapterList, pattern: str) -> tuple[ChapterList, tuple[str, ...]]:
    """Chapters whose title matches the glob ``pattern`` (case-insensitive) left out, each one noted.

    The chapter before a dropped one takes over its time when they were contiguous, so
    no stretch of the media loses its chapter (YouTube-style lists fold the same way).
    """
    wanted = pattern.casefold()
    gone = {index for index, chapter in enumerate(chapters) if fnmatchcase(chapter.title.casefold(), wanted)}
    if not gone:
        return chapters, (f"--drop {pattern!r} matched no chapter",)
    notes = tuple(f"chapter {index + 1} {chapters[index].title!r} at {format_clock(chapters[index].start_ns)} "
                  f"dropped: --drop {pattern!r}" for index in sorted(gone))
    kept: list[Chapter] = []
    for index, chapter in enumerate(chapters):
        if index not in gone:
            kept.append(chapter)
        elif kept and kept[-1].end_ns == chapter.start_ns:
            kept[-1] = replace(kept[-1], end_ns=chapter.end_ns)  # the time stays covered, as before the drop
    ends = {index: chapter.end_ns for index, chapter in enumerate(chapters)}

    def edit(index: int, atom: Atom) -> Atom | None:
        if index in gone:
            return None
        end = atom.end_ns
        following = index + 1
        while following in gone and end is not None and end == chapters[following].start_ns:
            end = ends[following]
            following += 1
        return replace(atom, end_ns=end) if end != atom.end_ns else atom

    editions = _edit_shown(chapters, edit)
    return ChapterList(tuple(kept), chapters.title, chapters.duration_ns, editions), notes


def _retitle(chapters: ChapterList, titles: dict[int, str]) -> ChapterList:
    flat = tuple(replace(chapter, title=titles[index]) if index in titles else chapter
                 for index, chapter in enumerate(chapters))

    def retitle(index: int, atom: Atom) -> Atom:
        if index not in titles:
            return atom
        old = chapters[index].title
        at = next((i for i, d in enumerate(atom.displays) if d.string == old), 0)
        displays = list(atom.displays) or [Display("")]
        displays[at] = replace(displays[at], string=titles[index])
        return replace(atom, displays=tuple(displays))

    return ChapterList(flat, chapters.title, chapters.duration_ns, _edit_shown(chapters, retitle))


def _edit_shown(chapters: ChapterList, edit: Callable[[int, Atom], Atom | None]) -> tuple[Edition, ...]:
    """The editions with ``edit`` applied to the shown atom behind each flat chapter (same index)."""
    shown = default_edition(chapters.editions)
    if shown is None:
        return chapters.editions
    atoms, index = [], 0
    for atom in shown.atoms:
        if atom.shown:
            atom = edit(index, atom)
            index += 1
        if atom is not None:
            atoms.append(atom)
    return tuple(replace(e, atoms=tuple(atoms)) if e is shown else e for e in chapters.editions)


# -- option texts ----------------------------------------------------------------------------

_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)(?:/(\d+))?\s*")


def parse_shift(text: str) -> int:
    """``-30``, ``+1:30``, ``-0:00:05.5`` to signed ns."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    try:
        return sign * parse_clock(body.lstrip("+-"))
    except ValueError as exc:
        raise UsageError(f"--shift {text!r}: {exc}") from None


def parse_rate(text: str) -> Fraction:
    """``25``, ``29.97``, ``30000/1001`` as an exact positive Fraction."""
    match = _RATE.fullmatch(text)
    rate = Fraction(match[1]) / int(match[2] or 1) if match and int(match[2] or 1) else Fraction(0)
    if rate <= 0:
        raise UsageError(f"frame rate {text!r} is not a positive number (e.g. 25, 29.97, 30000/1001)")
    return rate


def parse_fps(text: str) -> Fraction:
    """A chapter source's frame rate: :func:`parse_rate`, with the NTSC family made exact.

    ``29.97`` is what people type for 30000/1001 (likewise 59.94, 23.976, 23.98): the
    exact rate, so frame stamps do not drift over hours.
    """
    rate = parse_rate(text)
    if rate in (Fraction("29.97"), Fraction("59.94"), Fraction("23.976"), Fraction("23.98")):
        rate = Fraction(round(rate * 1001 / 1000) * 1000, 1001)
    return rate


def parse_scale(text: str) -> tuple[Fraction, Fraction]:
    """``FROM:TO`` rates, e.g. ``25:24000/1001``."""
    source, colon, target = text.partition(":")
    if not colon:
        raise UsageError(f"--scale {text!r}: give FROM:TO frame rates, e.g. 25:24000/1001")
    return parse_rate(source), parse_rate(target)


def parse_clip(text: str) -> tuple[int, int | None]:
    """``START-END`` or ``START-`` (to the end), each seconds or H:MM:SS."""
    start, dash, end = text.partition("-")
    if not dash:
        raise UsageError(f"--clip {text!r}: give START-END, e.g. 1:00-45:00 (or START- for the rest)")
    try:
        return parse_clock(start or "0"), parse_clock(end) if end.strip() else None
    except ValueError as exc:
        raise UsageError(f"--clip {text!r}: {exc}") from None


def parse_rename(text: str) -> tuple[int, str]:
    """``N=TITLE`` (1-based chapter number)."""
    number, equals, title = text.partition("=")
    if not equals or not number.strip().isdigit():
        raise UsageError(f"--rename {text!r}: give N=TITLE, e.g. 3=Interview")
    return int(number), title


def _signed(ns: int) -> str:
    return ("-" if ns < 0 else "+") + format_clock(abs(ns)).removesuffix(".000")


__all__ = ["EditPlan", "apply", "clip", "drop", "fill_titles", "parse_clip", "parse_rate",
           "parse_rename", "parse_scale", "parse_shift", "rename", "scale", "shift", "with_duration"]
