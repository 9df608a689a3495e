"""The format registry: every chapter text format chapterkit reads and writes.

``FORMATS`` is a literal mapping, read top to bottom; it is the one place that
lists the formats. Detection asks the specific formats first (those with a magic
header or a fixed shape) and falls back to free description text last, so a
``;FFMETADATA1`` file whose titles contain ``0:00`` is still FFMETADATA.
"""

from __future__ import annotations

import os

from chapterkit.errors import FormatDetectionError, UsageError
from chapterkit.formats import description, edl, fcpxml, ffmetadata, jsonformat, premiere_csv, webvtt
from chapterkit.formats.base import ChapterFormat, ParseOptions, ParseResult

FORMATS: dict[str, ChapterFormat] = {
    ffmetadata.name: ffmetadata,
    jsonformat.name: jsonformat,
    webvtt.name: webvtt,
    edl.name: edl,  # editors' marker exports: read only
    premiere_csv.name: premiere_csv,
    fcpxml.name: fcpxml,
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
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    matches = [fmt for fmt in FORMATS.values() if suffix in fmt.extensions]
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
    return get_format(format_name).render(chapters)


__all__ = ["FORMATS", "ParseOptions", "ParseResult", "detect", "format_for_path",
           "get_format", "parse", "render"]
