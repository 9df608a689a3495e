"""Deliberately broken copies of a chaptered file, each wrong in exactly one chapter list.

A player test that passes on a good file proves little unless it fails on a file
whose chapter list *that player reads* is wrong. Each helper copies a file
chapterkit embedded and changes one carrier in place, byte for byte, through the
project's own codecs (``containers/mp4boxes.py``, ``containers/ebml.py``) or
writers (``vorbis.write_vorbis``, ``id3.write_id3``); sizes never change, so
every other structure stays valid.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

from chapterkit.containers import ebml, id3, matroska, mp4, vorbis
from chapterkit.containers.mp4boxes import BoxReader
from chapterkit.model import NS_PER_MS, ChapterList

#: How far ``wrong_chpl`` moves the second chapter's start (chpl units are 100 ns).
CHPL_SHIFT_NS = 700 * NS_PER_MS


def _copy(path: str, out: str) -> str:
    shutil.copyfile(path, out)
    return out


def _patch(path: str, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def wrong_chpl(path: str, out: str) -> str:
    """The Nero ``chpl`` list with its second chapter starting ``CHPL_SHIFT_NS`` late.

    chpl (version 1): version/flags (4), reserved (4), count (1), then per chapter a
    u64 start in 100 ns units, a u8 title length and the title (the layout FFmpeg's
    ``movenc.c`` writes and VLC's ``libmp4.c`` ``MP4_ReadBox_chpl`` reads).
    """
    _copy(path, out)
    with open(out, "rb") as handle:
        reader = BoxReader(handle, out)
        chpl = reader.find(None, "moov/udta/chpl")
        assert chpl is not None, f"{path} has no chpl"
        data = reader.payload(chpl)
    position = 9
    title_length = data[position + 8]
    position += 9 + title_length  # the second entry
    start = int.from_bytes(data[position:position + 8], "big") + CHPL_SHIFT_NS // 100
    _patch(out, chpl.payload_offset + position, start.to_bytes(8, "big"))
    return out


def stale_quicktime(path: str, out: str) -> str:
    """The QuickTime chapter track with its second title overwritten (same byte length).

    This is what a tool that rewrites only ``chpl`` leaves behind: a text track still
    holding the old list (research containers.md section 6).
    """
    _copy(path, out)
    with mp4.open_mp4(out) as reader:
        movie = mp4.read_movie(reader)
        track, _ = mp4.chapter_track(movie)
        assert track is not None, f"{path} has no QuickTime chapter track"
        table = mp4.track_samples(reader, movie, track)
        head = reader.read_at(table.offsets[1], 2, "chapter sample")
    length = int.from_bytes(head, "big")
    _patch(out, table.offsets[1] + 2, _stale_title(length))
    return out


def wrong_matroska(path: str, out: str) -> str:
    """The Matroska Chapters element with its second ChapString overwritten (same length)."""
    _copy(path, out)
    found = matroska.read_editions(out)
    title = found.default_edition.atoms[1].title.encode("utf-8")
    with ebml.Source(out) as source:
        header = source.header_at(found.chapters_offset)
        data = source.read_at(header.data_offset, header.size)
    at = data.index(title)
    _patch(out, header.data_offset + at, _stale_title(len(title)))
    return out


def wrong_tags(path: str, out: str, container: str, chapters: ChapterList) -> str:
    """The ID3 CHAP frames or Vorbis ``CHAPTERnnn`` comments rewritten with a stale second title."""
    _copy(path, out)
    stale = list(chapters)
    stale[1] = replace(stale[1], title=_stale_title(len(stale[1].title.encode("utf-8"))).decode())
    wrong = chapters.replace_chapters(stale)
    (id3.write_id3 if container == "mp3" else vorbis.write_vorbis)(out, wrong)
    return out


def _stale_title(length: int) -> bytes:
    return (b"OLD:" + b"x" * length)[:length]
