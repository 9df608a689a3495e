"""Audacity label tracks: File > Export > Labels (and Import > Labels).

One label a line, ``start<TAB>end<TAB>label``, seconds with six decimals::

    0.000000	0.000000	Intro
    12.500000	61.250000	Interview
    \\	-1.000000	-1.000000

A point label has ``start == end``: a chapter without an end (it ends where the
next begins). A region label's end is kept. A line starting with ``\\`` follows
a label whose spectral selection (low and high frequency) was set; it is not a
label and is noted. Audacity writes labels sorted by start; they are read in
file order.

A line that is neither is refused, naming the line: a label file is written by
a program, so a bad line means a damaged file or another format. The writer
keeps microseconds; finer times are rounded with a warning, and tabs and line
breaks in titles become spaces with a warning.
"""

from __future__ import annotations

import re

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats._filetext import (Notes, build_list, check_sorted, decimal_ns, fixed, head, numbered_lines,
                                          one_line, rounded)
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import ChapterList

name = "audacity"
extensions = (".labels",)
summary = "Audacity label tracks: start<TAB>end<TAB>label, seconds with 6 decimals"

_NUMBER = r"\d+(?:\.\d*)?"
_LABEL = re.compile(rf"({_NUMBER})\t({_NUMBER})(?:\t(.*))?")
_SPECTRAL = re.compile(rf"\\\t-?{_NUMBER}\t-?{_NUMBER}[ \t]*")
_MICROSECOND = 1000

#: Detection reads the first lines only (whole lines: the cut line is dropped); parse reads all.
_DETECT_CHARS, _DETECT_LINES = 200_000, 500


def detect(text: str) -> bool:
    """Every non-blank line is a label or a spectral line, and at least one is a label."""
    labels = 0
    for _, line in numbered_lines(head(text, _DETECT_CHARS))[:_DETECT_LINES]:
        if not line.strip():
            continue
        if _LABEL.fullmatch(line):
            labels += 1
        elif not _SPECTRAL.fullmatch(line):
            return False
    return labels > 0


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Labels in file order; SourceError names a line that is not ``start<TAB>end<TAB>label``."""
    notes, chapters, linenos = Notes(), [], []
    for lineno, line in numbered_lines(text):
        if not line.strip():
            continue
        if line.startswith("\\"):
            if not _SPECTRAL.fullmatch(line):
                raise SourceError(f"line {lineno}: expected a spectral line '\\<TAB>low<TAB>high', "
                                  f"got {line[:60]!r}")
            notes.add("spectral", "spectral selection (frequencies) is not a chapter", lineno, line, severity="info")
            continue
        match = _LABEL.fullmatch(line)
        if not match:
            raise SourceError(f"line {lineno}: expected 'start<TAB>end<TAB>label' (seconds), got {line[:60]!r}")
        start_ns = decimal_ns(match[1], f"line {lineno}")
        end_ns = decimal_ns(match[2], f"line {lineno}")
        if end_ns < start_ns:
            raise SourceError(f"line {lineno}: the label ends ({match[2]}) before it starts ({match[1]})")
        title = match[3] or ""
        if not title:
            notes.add("untitled", "label has no text", lineno, line, severity="info")
        chapters.append((start_ns, None if end_ns == start_ns else end_ns, title))
        linenos.append(lineno)
    if not chapters:
        raise NoChaptersError("no labels found", diagnostics=notes())
    check_sorted(chapters, linenos, notes)
    duration = options.duration_ns
    if duration is not None and duration < max(row[1] or row[0] for row in chapters):
        notes.add("past_duration", "the media duration is before the last label: ignored")
        duration = None
    return ParseResult(build_list(chapters, None, duration), notes())


def normalize_title(title: str) -> str:
    """What a label line keeps: tabs and line breaks become spaces."""
    return one_line(title)


def render_checked(chapters: ChapterList) -> tuple[str, tuple]:
    """Label lines, and a warning for every time or title it could not keep."""
    notes = Notes()
    lines = []
    for number, chapter in enumerate(chapters, 1):
        end_ns = chapter.start_ns if chapter.end_ns is None else chapter.end_ns
        if rounded(chapter.start_ns, _MICROSECOND) != chapter.start_ns or rounded(end_ns, _MICROSECOND) != end_ns:
            notes.add("rounded", f"label {number} rounded to the microsecond (6 decimals)")
        if chapter.end_ns == chapter.start_ns:
            notes.add("zero_length", f"label {number} is zero-length: Audacity reads it as a point label "
                      "(no end)")
        title = normalize_title(chapter.title)
        if title != chapter.title:
            notes.add("title_changed", f"label {number}: tabs and line breaks became spaces")
        lines.append(f"{fixed(chapter.start_ns, 6)}\t{fixed(end_ns, 6)}\t{title}")
    return "\n".join(lines) + "\n", notes()


def render(chapters: ChapterList) -> str:
    """One label a chapter: a region label when the end is known, else a point label."""
    return render_checked(chapters)[0]


__all__ = ["detect", "extensions", "name", "normalize_title", "parse", "render", "render_checked", "summary"]
