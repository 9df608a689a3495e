"""WebVTT chapter tracks: the sidecar web players read (``<track kind="chapters">``).

Browsers expose no chapters embedded in MP4 or MKV; a page gets them only from a
WebVTT file (HTML ``track`` element, W3C WebVTT section 4). Each chapter is one cue:
``START --> END`` and the title as cue text. Every cue needs an end, so a list
whose last end is unknown (no media duration) cannot be written.

A chapter cue's text is "chapter title text" (WebVTT section 4.2.2): plain
characters, no markup and no character references, so ``&`` and ``<`` are written
as they are (Chromium's ``VTTCue.text`` returns ``&lt;`` literally if escaped). It
may hold neither a line break nor ``-->``: line breaks become a space and ``-->``
becomes ``->``.
"""

from __future__ import annotations

import re

from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats._filetext import clock
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_MS, Chapter, ChapterList

name = "webvtt"
extensions = (".vtt",)
summary = "WebVTT chapter cues, for <track kind=\"chapters\"> in web players"

_STAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_STAMP}[ \t]+-->[ \t]+{_STAMP}(?:[ \t].*)?$")


def detect(text: str) -> bool:
    """The spec's signature: the file starts with ``WEBVTT`` then a space, tab or line end."""
    return re.match(r"\ufeff?WEBVTT(?:[ \t\r\n]|$)", text) is not None


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Cues in file order; times are exact milliseconds."""
    if not detect(text):
        raise SourceError("not WebVTT (the file must start with 'WEBVTT')")
    chapters = []
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    index = 1
    while index < len(lines):
        match = _TIMING.match(lines[index].strip())
        if not match:
            index += 1
            continue
        start, end = _ns(match.groups()[:4]), _ns(match.groups()[4:])
        if end < start:
            raise SourceError(f"line {index + 1}: cue ends before it starts")
        body = []
        index += 1
        while index < len(lines) and lines[index].strip():
            body.append(lines[index])
            index += 1
        chapters.append(Chapter(start, end, " ".join(body).strip()))
    if not chapters:
        raise NoChaptersError("no cues found")
    return ParseResult(ChapterList(tuple(chapters), duration_ns=options.duration_ns))


def render(chapters: ChapterList) -> str:
    """``WEBVTT`` and one cue per chapter; ends are required (see the module docstring)."""
    lines = ["WEBVTT", ""]
    for number, chapter in enumerate(chapters, 1):
        if chapter.end_ns is None:
            raise UsageError("WebVTT cues need an end for every chapter: give the media duration "
                             "(--duration) or a source with ends")
        lines += [str(number), f"{clock(chapter.start_ns)} --> {clock(chapter.end_ns)}",
                  _cue_text(chapter.title) or f"Chapter {number}", ""]
    return "\n".join(lines)


def render_losses(chapters: ChapterList) -> tuple[str, ...]:
    """What :func:`render` cannot keep of ``chapters``, one phrase each (the registry warns)."""
    losses = []
    times = [t for c in chapters for t in (c.start_ns, c.end_ns) if t is not None]
    rounded = sum(1 for t in times if t % NS_PER_MS)
    if rounded:
        losses.append(f"{rounded} time(s) rounded to the millisecond (cue timings hold milliseconds)")
    empty = sum(1 for c in chapters if not _cue_text(c.title))
    if empty:
        losses.append(f"{empty} empty title(s) written as 'Chapter N' (a cue needs text)")
    changed = sum(1 for c in chapters if _cue_text(c.title) and _cue_text(c.title) != c.title)
    if changed:
        losses.append(f"{changed} title(s) changed: runs of blanks and line breaks become one space, '-->' '->'")
    return tuple(losses)


def _cue_text(title: str) -> str:
    flat = " ".join(title.split())
    return flat.replace("-->", "->")


def _ns(groups) -> int:
    hours, minutes, seconds, millis = groups
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 * NS_PER_MS + int(millis) * NS_PER_MS
