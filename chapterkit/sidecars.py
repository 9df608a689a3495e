"""Chapter sidecar files written next to a media file, for players that read no embedded chapters.

Browsers read only a WebVTT ``<track kind="chapters">``; mpv's ``--chapters-file``
takes FFMETADATA (it opens the file through FFmpeg's ``ffmetadata`` demuxer); batch
tools and editors keep JSON or description text beside the media. A sidecar is named
``<stem>.chapters<ext>`` with the format's first extension (``clip.chapters.vtt``,
``clip.chapters.ffmeta``, ``clip.chapters.json``, ``clip.chapters.txt``): the names
``chapterkit batch`` and ``chapterkit players`` look for, and that never collide with
a subtitle file ``clip.vtt``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from chapterkit import formats
from chapterkit.errors import UsageError
from chapterkit.model import ChapterList
from chapterkit.sources import write_text_atomic


def parse_kinds(value: str | None) -> list[str]:
    """``webvtt,ffmetadata``: the format names once each, in order, all known ones."""
    if not value:
        return []
    names = list(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    if not names:
        raise UsageError("--sidecars needs at least one format name")
    for name in names:
        formats.get_format(name)  # raises UsageError listing the known formats
    return names


def sidecar_path(media: str, kind: str) -> str:
    return os.path.splitext(media)[0] + ".chapters" + formats.get_format(kind).extensions[0]


def write_sidecars(media: str | os.PathLike[str], chapters: ChapterList, kinds: Sequence[str]) -> list[str]:
    """Render ``chapters`` in each format of ``kinds`` beside ``media``; returns the paths written.

    Every format is rendered before anything is written, so a list one format cannot
    hold (WebVTT needs every end) leaves no half set of sidecars behind.
    """
    name = os.fspath(media)
    rendered = [(sidecar_path(name, kind), formats.render(chapters, kind)) for kind in kinds]
    for path, text in rendered:
        write_text_atomic(path, text)
    return [path for path, _ in rendered]


__all__ = ["parse_kinds", "sidecar_path", "write_sidecars"]
