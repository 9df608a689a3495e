"""OGM "simple" chapters: what ``mkvextract chapters --simple`` writes and ``mkvmerge --chapters`` reads.

The format is two lines per chapter::

    CHAPTER01=00:00:00.000
    CHAPTER01NAME=Intro

Measured with mkvtoolnix 74: the number is at least two digits and simply grows
past 99 (``CHAPTER100``); mkvmerge reads ``CHAPTER1`` and ``CHAPTER100`` alike and
a name line may be missing (the chapter is then untitled). A title is everything
after the first ``=`` (``CHAPTER01NAME=a=b`` is ``a=b``). There are no ends, no
list title and no languages; mkvextract writes all editions' visible top-level
chapters sorted by start, so reading one back gives a flat list.

Read as written: equal starts, a single chapter and a first chapter after 0 are
all fine here (YouTube's rules belong to ``youtube``). Times are milliseconds in
what mkvextract writes; up to nine decimals are read exactly.
"""

from __future__ import annotations

import re

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats._filetext import clock
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList

name = "ogm"
extensions = (".txt",)
summary = "OGM simple chapters: CHAPTER01=00:00:00.000 / CHAPTER01NAME=Intro (mkvextract --simple)"

_LINE = re.compile(r"CHAPTER(\d{1,9})(NAME)?=(.*)", re.DOTALL)
_TIME = re.compile(r"\s*(\d{1,6}):([0-5]?\d):([0-5]?\d)(?:\.(\d{1,9}))?\s*")  # 6 hour digits: within int64 ns
_FIRST = re.compile(r"\s*CHAPTER\d+(?:NAME)?=")


def detect(text: str) -> bool:
    """The first non-blank line is a ``CHAPTERnn=`` or ``CHAPTERnnNAME=`` line."""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip():
            return _FIRST.match(line) is not None
    return False


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Chapters in file order; a line that is neither kind is an error naming it (a warning with lenient)."""
    diagnostics: list[Diagnostic] = []
    starts: dict[int, tuple[int, int]] = {}    # number -> (lineno, start_ns)
    names: dict[int, tuple[int, str]] = {}     # number -> (lineno, title)
    order: list[int] = []
    for lineno, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.lstrip()
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        if not match:
            _bad(diagnostics, options, lineno, raw, "not CHAPTERnn=HH:MM:SS.mmm or CHAPTERnnNAME=title")
            continue
        number, is_name, value = int(match[1]), match[2], match[3]
        if is_name:
            if number in names:
                _bad(diagnostics, options, lineno, raw, f"CHAPTER{match[1]}NAME given twice "
                     f"(first on line {names[number][0]})")
                continue
            if number not in starts:
                _bad(diagnostics, options, lineno, raw, f"CHAPTER{match[1]}NAME has no CHAPTER{match[1]}= "
                     "time line before it")
                continue
            names[number] = (lineno, value.rstrip())  # mkvmerge drops trailing blanks, keeps leading ones
            continue
        if number in starts:
            _bad(diagnostics, options, lineno, raw, f"CHAPTER{match[1]}= given twice "
                 f"(first on line {starts[number][0]})")
            continue
        start_ns = _time_ns(value)
        if start_ns is None:
            _bad(diagnostics, options, lineno, raw, f"CHAPTER{match[1]}= needs a time HH:MM:SS.mmm, "
                 f"not {value.strip()[:40]!r}")
            continue
        starts[number] = (lineno, start_ns)
        order.append(number)
    chapters = []
    for number in order:
        lineno, start_ns = starts[number]
        if number not in names:
            diagnostics.append(Diagnostic("untitled", f"CHAPTER{number:02d} has no NAME line; untitled "
                                          "(mkvmerge refuses this unless it is the last chapter)", lineno))
        chapters.append(Chapter(start_ns, None, names.get(number, (0, ""))[1]))
    if not chapters:
        raise NoChaptersError("no CHAPTERnn= lines found", diagnostics=diagnostics)
    chapters = _within(chapters, options.duration_ns, diagnostics)
    return ParseResult(ChapterList(tuple(chapters), duration_ns=options.duration_ns), tuple(diagnostics))


def _bad(diagnostics: list[Diagnostic], options: ParseOptions, lineno: int, line: str, expected: str) -> None:
    """A refusal naming the line (``SourceError``), or with lenient a warning and the line skipped."""
    if not options.lenient:
        raise SourceError(f"line {lineno}: {expected}: {line.strip()[:60]!r}")
    diagnostics.append(Diagnostic("bad_line", f"{expected}; line skipped", lineno, line))


def _within(chapters: list[Chapter], duration_ns: int | None, diagnostics: list[Diagnostic]) -> list[Chapter]:
    if duration_ns is None:
        return chapters
    kept = [c for c in chapters if c.start_ns < duration_ns]
    if len(kept) < len(chapters):
        diagnostics.append(Diagnostic("past_duration", f"{len(chapters) - len(kept)} chapter(s) start at or "
                                      "after the media's end and were dropped"))
    if not kept:
        raise NoChaptersError("every chapter starts at or after the media's end", diagnostics=diagnostics)
    return kept


def _time_ns(value: str) -> int | None:
    match = _TIME.fullmatch(value)
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    whole = (int(hours) * 60 + int(minutes)) * 60 + int(seconds)
    return whole * NS_PER_SECOND + int((fraction or "").ljust(9, "0"))


# -- rendering ---------------------------------------------------------------------------------


def render(chapters: ChapterList) -> str:
    """Two lines per chapter, numbered from 01, starts rounded to the millisecond."""
    lines = []
    for number, chapter in enumerate(chapters, start=1):
        lines.append(f"CHAPTER{number:02d}={clock(chapter.start_ns)}")
        lines.append(f"CHAPTER{number:02d}NAME={_title(chapter.title)}")
    return "".join(line + "\n" for line in lines)


def render_losses(chapters: ChapterList) -> tuple[str, ...]:
    """What :func:`render` cannot keep of ``chapters``, one phrase each (the registry warns)."""
    losses = []
    rounded = sum(1 for c in chapters if c.start_ns % NS_PER_MS)
    if rounded:
        losses.append(f"{rounded} start(s) rounded to the millisecond")
    ends = sum(1 for index, c in enumerate(chapters) if c.end_ns is not None and c.end_ns != _natural_end(
        chapters, index))
    if ends:
        losses.append(f"{ends} end(s) not kept: they are not the next chapter's start, and OGM has no ends")
    broken = sum(1 for c in chapters if " ".join(c.title.splitlines()) != c.title)
    if broken:
        losses.append(f"{broken} title(s) had line breaks, now spaces")
    trailing = sum(1 for c in chapters if c.title != c.title.rstrip())
    if trailing:
        losses.append(f"{trailing} title(s) end in blanks, which mkvmerge drops")
    return tuple(losses)


def _natural_end(chapters: ChapterList, index: int) -> int | None:
    if index + 1 < len(chapters):
        return chapters[index + 1].start_ns
    return chapters.duration_ns


def _title(title: str) -> str:
    """One line: the reader splits where :meth:`str.splitlines` does, so every such break becomes a space."""
    return " ".join(title.splitlines()).rstrip()


__all__ = ["detect", "extensions", "name", "parse", "render", "render_losses", "summary"]
