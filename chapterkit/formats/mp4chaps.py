"""mp4v2's chapter text: what ``mp4chaps -x`` writes and ``mp4chaps -i`` reads.

One chapter a line, ``HH:MM:SS.mmm Title``, times in milliseconds (mp4v2's
chapter timescale is 1000)::

    ## artist: Someone
    ## total-duration: 00:38:37.034
    00:00:00.000 Opening
    00:01:12.709 Second   song

As mp4v2's ``ChapterUtility::parseChapterFile`` reads it: leading spaces and
tabs are skipped, a line starting with ``#`` is a comment (mp4v2 2.1 writes a
``## key: value`` header; ``## total-duration:`` becomes the list's duration
here), the time runs to the first space or tab, the title is the rest after the
blanks that follow, with trailing blanks cut and inner spaces kept. Lines of
mp4chaps's other ("common") form, ``CHAPTER01=...``, are the ``ogm`` format.

No library reads this format, so it is parsed here; it is a few regular
expressions. The writer keeps milliseconds and starts only: what it cannot keep
(finer times, ends that are not the next start, titles longer than mp4v2's
1023 bytes, line breaks and edge blanks in titles) is a warning.
"""

from __future__ import annotations

import re

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats._filetext import (Notes, build_list, check_sorted, clock, ends_lost, head, numbered_lines,
                                          one_line, rounded, within_range)
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_MS, ChapterList

name = "mp4chaps"
extensions = (".chapters.txt",)
summary = "mp4v2's `mp4chaps -x` chapter text: `HH:MM:SS.mmm Title` lines"

#: mp4v2's MP4V2_CHAPTER_TITLE_MAX: longer titles are cut by mp4chaps -i.
TITLE_MAX_BYTES = 1023
_TIME = r"(\d+):([0-5]\d):([0-5]\d)(?:\.(\d+))?"
_LINE = re.compile(rf"[ \t]*{_TIME}(?:[ \t]+(.*?))?[ \t]*")
_STRICT = re.compile(r"[ \t]*\d+:[0-5]\d:[0-5]\d\.\d{3}(?:[ \t].*)?")
_DURATION = re.compile(rf"##[ \t]*total-duration:[ \t]*{_TIME}[ \t]*", re.IGNORECASE)

#: Detection reads the first lines only (whole lines: the cut line is dropped); parse reads all.
_DETECT_CHARS, _DETECT_LINES = 200_000, 500


def detect(text: str) -> bool:
    """Every line is blank, a ``#`` comment or ``HH:MM:SS.mmm title``, and one is a chapter.

    The three-digit milliseconds are what ``mp4chaps -x`` always writes; a
    description's ``00:00:00 Intro`` lines are left to the ``youtube`` format.
    """
    chapters = 0
    for _, line in numbered_lines(head(text, _DETECT_CHARS))[:_DETECT_LINES]:
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        if not _STRICT.fullmatch(line):
            return False
        chapters += 1
    return chapters > 0


def _ns(match: re.Match[str], first: int = 1) -> int:
    hours, minutes, seconds, fraction = match.group(first, first + 1, first + 2, first + 3)
    fraction = fraction or "0"
    nanos = int((fraction + "000000000")[:9]) + (fraction[9:10] >= "5" if len(fraction) > 9 else 0)
    return (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * 1_000_000_000 + nanos


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Chapters in file order (read as written); SourceError for a digit-led line that is not a time."""
    notes, chapters, linenos = Notes(), [], []
    duration_ns = None
    for lineno, line in numbered_lines(text):
        stripped = line.strip(" \t")
        if not stripped:
            continue
        if stripped.startswith("#"):
            if found := _DURATION.fullmatch(stripped):
                duration_ns = within_range(_ns(found), f"line {lineno}")
            continue
        if not stripped[0].isdigit():
            hint = " (mp4chaps's CHAPTERnn= form: read it with --from ogm)" if stripped[:7].upper() == "CHAPTER" \
                else ""
            notes.add("not_a_chapter", f"line skipped: not 'HH:MM:SS.mmm Title'{hint}", lineno, line)
            continue
        match = _LINE.fullmatch(line)
        if not match:
            raise SourceError(f"line {lineno}: expected 'HH:MM:SS.mmm Title', got {line.strip()[:60]!r}")
        title = match[5] or ""
        if not title:
            notes.add("untitled", "chapter has no title", lineno, line, severity="info")
        chapters.append((within_range(_ns(match), f"line {lineno}"), None, title))
        linenos.append(lineno)
    if not chapters:
        raise NoChaptersError("no 'HH:MM:SS.mmm Title' lines found", diagnostics=notes())
    check_sorted(chapters, linenos, notes)
    if options.duration_ns is not None:
        duration_ns = options.duration_ns
    if duration_ns is not None and duration_ns < max(row[0] for row in chapters):
        notes.add("past_duration", "total-duration is before the last chapter: ignored")
        duration_ns = None
    return ParseResult(build_list(chapters, None, duration_ns), notes())


def normalize_title(title: str) -> str:
    """The title as ``mp4chaps -i`` reads it back: one line, no edge blanks, at most 1023 bytes."""
    flat = one_line(title).strip(" \t")
    data = flat.encode("utf-8")
    return flat if len(data) <= TITLE_MAX_BYTES else data[:TITLE_MAX_BYTES].decode("utf-8", "ignore").rstrip(" \t")


def render_checked(chapters: ChapterList) -> tuple[str, tuple]:
    """The text and a warning for each thing it could not keep."""
    notes = Notes()
    lines = []
    if chapters.duration_ns is not None:
        lines.append(f"## total-duration: {clock(chapters.duration_ns)}")
    for number, chapter in enumerate(chapters, 1):
        if rounded(chapter.start_ns, NS_PER_MS) != chapter.start_ns:
            notes.add("rounded", f"chapter {number} start rounded to the millisecond (mp4chaps keeps ms)")
        title = normalize_title(chapter.title)
        if title != chapter.title:
            notes.add("title_changed", f"chapter {number} title: line breaks and edge blanks dropped or cut "
                      f"to {TITLE_MAX_BYTES} bytes (mp4chaps)")
        lines.append(f"{clock(chapter.start_ns)} {title}".rstrip(" "))
    ends_lost(chapters, notes, "mp4chaps")
    return "\n".join(lines) + "\n", notes()


def render(chapters: ChapterList) -> str:
    """``HH:MM:SS.mmm Title`` lines, after a ``## total-duration:`` header when the duration is known."""
    return render_checked(chapters)[0]


__all__ = ["detect", "extensions", "name", "normalize_title", "parse", "render", "render_checked", "summary"]
