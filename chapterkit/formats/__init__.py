"""The format registry: every chapter text format chapterkit reads and writes.

``FORMATS`` is a literal mapping, read top to bottom; it is the one place that
lists the formats. Detection asks the specific formats first (those with a magic
header or a fixed shape) and falls back to free description text last, so a
``;FFMETADATA1`` file whose titles contain ``0:00`` is still FFMETADATA.

Detection is by content, then extension: the formats whose ``detect`` claims the
text; when several do, the file's extension picks among them; when none does,
the extension names the format (several formats share ``.txt``, ``.json`` and
``.xml``, so it must name exactly one, else free text). Still several candidates
is an error naming them and ``--from``.

A read-only format sets ``render = None``; :func:`render` then refuses it, naming
the writable ones. A format may define ``render_losses(chapters)``, the phrases
naming what its ``render`` cannot keep; :func:`render_checked` returns them as
warnings, plus the Matroska structure (editions, nesting, ...) for every format
without ``holds_editions = True``, the list's title for every format without
``holds_title = True`` and chapter ``img``/``url`` links for every format without
``holds_links = True``.
"""

from __future__ import annotations

import os

from chapterkit.errors import FormatDetectionError, UsageError
from chapterkit.formats import (audacity, cue, description, edl, fcpxml, ffmetadata, jsonformat, mkvxml, mp4chaps, ogm,
                                podcast, premiere_csv, psc, webvtt, ytdlp)
from chapterkit.formats.base import ChapterFormat, ParseOptions, ParseResult

FORMATS: dict[str, ChapterFormat] = {
    ffmetadata.name: ffmetadata,
    jsonformat.name: jsonformat,
    webvtt.name: webvtt,
    ogm.name: ogm,
    mkvxml.name: mkvxml,
    mp4chaps.name: mp4chaps,
    podcast.name: podcast,
    psc.name: psc,
    cue.name: cue,
    audacity.name: audacity,
    ytdlp.name: ytdlp,
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
    matches = _by_extension(path)
    return matches[0] if len(matches) == 1 else None


def _by_extension(path: str | os.PathLike[str] | None) -> list[ChapterFormat]:
    if path is None:
        return []
    lowered = os.path.basename(os.fspath(path)).lower()
    # The longest extension wins, so ``x.info.json`` is yt-dlp's and ``x.json`` chapterkit's.
    found = [(len(ext), fmt) for fmt in FORMATS.values() for ext in fmt.extensions if lowered.endswith(ext)]
    longest = max((length for length, _ in found), default=0)
    return [fmt for length, fmt in found if length == longest]


def writable() -> list[str]:
    """The names of the formats :func:`render` can write."""
    return [key for key, fmt in FORMATS.items() if getattr(fmt, "render", None) is not None]


def detect(text: str, path: str | os.PathLike[str] | None = None) -> ChapterFormat:
    """The format of ``text`` (read from ``path``): by content, then extension, else free text.

    Raises :class:`FormatDetectionError` naming the candidates when more than one remains.
    """
    specific = [fmt for name, fmt in FORMATS.items() if name != FALLBACK and fmt.detect(text)]
    if len(specific) > 1:
        by_extension = [fmt for fmt in specific if fmt in _by_extension(path)]
        specific = by_extension if len(by_extension) == 1 else specific
    elif not specific:
        by_extension = _by_extension(path)
        if len(by_extension) == 1 or FORMATS[FALLBACK] in by_extension or not by_extension:
            return by_extension[0] if len(by_extension) == 1 else FORMATS[FALLBACK]
        specific = by_extension
    if len(specific) == 1:
        return specific[0]
    names = [fmt.name for fmt in specific]
    raise FormatDetectionError(f"text could be any of {', '.join(names)}; name one with --from",
                               candidates=names)


def parse(text: str, format_name: str | None = None,
          options: ParseOptions = ParseOptions(), path: str | os.PathLike[str] | None = None) -> ParseResult:
    """Parse ``text`` in the named format, or the one detected from it (and ``path``'s extension)."""
    fmt = get_format(format_name) if format_name else detect(text, path)
    return fmt.parse(text, options)


def writer(format_name: str) -> ChapterFormat:
    """The named format when it can be written; raises :class:`UsageError` for a read-only one."""
    fmt = get_format(format_name)
    if getattr(fmt, "render", None) is None:
        raise UsageError(f"format {format_name} is read-only; writable: {', '.join(writable())}")
    return fmt


def render(chapters, format_name: str) -> str:
    """Render a :class:`~chapterkit.model.ChapterList` in the named format."""
    return writer(format_name).render(chapters)


def render_checked(chapters, format_name: str) -> tuple[str, tuple[str, ...]]:
    """The rendered text and one warning per thing it could not keep (see the module doc).

    A format with its own ``render_checked`` (CUE, Audacity, ...) reports its losses
    itself; for the rest, ``render_losses`` names them.
    """
    fmt = writer(format_name)
    own = getattr(fmt, "render_checked", None)
    if own is not None:
        text, found = own(chapters)
        losses = [f"{item.message} [{item.code}]" if hasattr(item, "code") else str(item) for item in found]
    else:
        text = fmt.render(chapters)
        losses = list(getattr(fmt, "render_losses", lambda _chapters: ())(chapters))
    if chapters.title and not getattr(fmt, "holds_title", False):
        losses.append(f"the list title {chapters.title!r} is not kept")
    links = 0 if getattr(fmt, "holds_links", False) else sum(1 for c in chapters if c.img or c.url)
    if links:
        losses.append(f"{links} chapter image/link URL(s) not kept")
    warnings = [f"{format_name}: {loss}" for loss in losses]
    structure = () if getattr(fmt, "holds_editions", False) else chapters.structure_losses
    if structure:
        warnings.insert(0, f"{format_name} holds only the chapters a player shows; not kept: {', '.join(structure)}")
    return text, tuple(warnings)


__all__ = ["FORMATS", "ParseOptions", "ParseResult", "detect", "format_for_path",
           "get_format", "parse", "render", "render_checked", "writable", "writer"]
