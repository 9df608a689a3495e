"""The format registry: every chapter text format chapterkit reads and writes.

``FORMATS`` is a literal mapping, read top to bottom; it is the one place that
lists the formats. Detection asks the specific formats first (those with a magic
header or a fixed shape) and falls back to free description text last, so a
``;FFMETADATA1`` file whose titles contain ``0:00`` is still FFMETADATA.
"""

from __future__ import annotations

import os

from chapterkit.errors import FormatDetectionError, UsageError
from chapterkit.formats import (audacity, cue, description, ffmetadata, jsonformat, mp4chaps, podcast, psc, webvtt,
                                ytdlp)
from chapterkit.formats.base import ChapterFormat, ParseOptions, ParseResult

FORMATS: dict[str, ChapterFormat] = {
    ffmetadata.name: ffmetadata,
    jsonformat.name: jsonformat,
    webvtt.name: webvtt,
    mp4chaps.name: mp4chaps,
    podcast.name: podcast,
    psc.name: psc,
    cue.name: cue,
    audacity.name: audacity,
    ytdlp.name: ytdlp,
    description.name: description,  # free text: must stay last for detection
}

#: The fallback when no specific format claims a text.
FALLBACK = description.name


def get_format(name: str) -> ChapterFormat:
    """The format called ``name``; raises :class:`UsageError` naming the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise UsageError(f"unknown chapter format {name!r} (known: {known})") from None


def format_for_path(path: str | os.PathLike[str]) -> ChapterFormat | None:
    """The format an extension names unambiguously, or None (``.txt`` is ambiguous)."""
    lowered = os.path.basename(os.fspath(path)).lower()
    # The longest extension wins, so ``x.info.json`` is yt-dlp's and ``x.json`` chapterkit's.
    found = [(len(ext), fmt) for fmt in FORMATS.values() for ext in fmt.extensions if lowered.endswith(ext)]
    longest = max((length for length, _ in found), default=0)
    matches = [fmt for length, fmt in found if length == longest]
    return matches[0] if len(matches) == 1 else None


def detect(text: str) -> ChapterFormat:
    """The format of ``text``: the one specific format that claims it, else free text."""
    specific = [fmt for name, fmt in FORMATS.items() if name != FALLBACK and fmt.detect(text)]
    if len(specific) == 1:
        return specific[0]
    if len(specific) > 1:
        names = [fmt.name for fmt in specific]
        raise FormatDetectionError(f"text matches several formats: {', '.join(names)}; name one",
                                   candidates=names)
    return FORMATS[FALLBACK]


def parse(text: str, format_name: str | None = None,
          options: ParseOptions = ParseOptions()) -> ParseResult:
    """Parse ``text`` in the named format, or the detected one."""
    fmt = get_format(format_name) if format_name else detect(text)
    return fmt.parse(text, options)


def render(chapters, format_name: str) -> str:
    """Render a :class:`~chapterkit.model.ChapterList` in the named format."""
    return render_checked(chapters, format_name)[0]


def render_checked(chapters, format_name: str) -> tuple[str, tuple]:
    """The rendered text and the warnings (Diagnostics) naming what the format could not keep.

    Formats with limits (``cue``: 99 tracks, 75 frames a second) provide
    ``render_checked``; for the others the text is all there is.
    """
    fmt = get_format(format_name)
    if fmt.render is None:
        raise UsageError(f"{format_name} is read only: it cannot be written")
    checked = getattr(fmt, "render_checked", None)
    return checked(chapters) if checked else (fmt.render(chapters), ())


__all__ = ["FORMATS", "ParseOptions", "ParseResult", "detect", "format_for_path",
           "get_format", "parse", "render", "render_checked"]
