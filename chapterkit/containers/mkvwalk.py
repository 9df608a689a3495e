"""The Segment walk under the ``matroska`` reader: element IDs and where Info and Chapters are.

Why a module of its own. :mod:`chapterkit.containers.matroska` parses the
Chapters and Info elements into editions and the player view; locating those
elements is a separate concern (EBML header, Segment, SeekHeads, Clusters) that
the in-place editor (:mod:`chapterkit.containers.mkvlayout`) and the chapter
writer (:mod:`chapterkit.containers.mkvchapters`) also lean on for the element
IDs. Everything here stays importable from ``chapterkit.containers.matroska``.

Cost. The Info and Chapters elements are found through the SeekHead (following
a second SeekHead when the first points to one, as mkvpropedit leaves them
when it appends Chapters at the end of the file), so a 10 GB file costs the
same few kilobytes as a 10 MB one. Without a SeekHead entry, the top-level
elements before the first Cluster are walked by their sizes (where FFmpeg puts
Chapters, also when it writes to a pipe). Only when the Chapters are still not
found are the Clusters walked too: one 12-byte header read per Cluster when
their sizes are known, and one per block inside an unknown-size (live-stream)
Cluster, since such a Cluster ends only where a top-level element begins
(RFC 8794 section 6.2). Media data is never read. ``bytes_read`` says what it cost.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from chapterkit.containers.ebml import (
    CRC32_ID, VOID_ID, EBMLError, Header, Source, TruncatedError, iter_children, text, uint,
)

# Element IDs (RFC 8794 section 11.2 for the EBML header; RFC 9559 section 5.1, IANA
# "Matroska Element IDs" registry for the rest).
EBML = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
INFO, TIMESTAMP_SCALE, DURATION, TITLE = 0x1549A966, 0x2AD7B1, 0x4489, 0x7BA9
CLUSTER, TRACKS, CUES, ATTACHMENTS, TAGS = 0x1F43B675, 0x1654AE6B, 0x1C53BB6B, 0x1941A469, 0x1254C367
CHAPTERS = 0x1043A770
EDITION_ENTRY, EDITION_UID = 0x45B9, 0x45BC
EDITION_FLAG_HIDDEN, EDITION_FLAG_DEFAULT, EDITION_FLAG_ORDERED = 0x45BD, 0x45DB, 0x45DD
CHAPTER_ATOM, CHAPTER_UID, CHAPTER_TIME_START, CHAPTER_TIME_END = 0xB6, 0x73C4, 0x91, 0x92
CHAPTER_FLAG_HIDDEN, CHAPTER_FLAG_ENABLED = 0x98, 0x4598
CHAPTER_DISPLAY, CHAP_STRING, CHAP_LANGUAGE, CHAP_LANGUAGE_IETF, CHAP_COUNTRY = (
    0x80, 0x85, 0x437C, 0x437D, 0x437E)

#: Elements that end an unknown-size Cluster: the Segment's children, or a new EBML
#: document (RFC 8794 section 6.2: an unknown-size element ends at a non-child).
_TOP_LEVEL = frozenset({SEEK_HEAD, INFO, CLUSTER, TRACKS, CUES, ATTACHMENTS, CHAPTERS, TAGS,
                        EBML, SEGMENT})
_NAMES = {SEEK_HEAD: "SeekHead", INFO: "Info", CLUSTER: "Cluster", TRACKS: "Tracks",
          CUES: "Cues", ATTACHMENTS: "Attachments", CHAPTERS: "Chapters", TAGS: "Tags",
          SEGMENT: "Segment", EBML: "EBML header", VOID_ID: "Void"}

_MAX_HEADER_BYTES = 4096          # the EBML header is a few dozen bytes
_MAX_SEEK_HEAD_BYTES = 1 << 20
_MAX_SEEK_HEADS = 16


def _end(header: Header) -> int:
    if header.end is None:
        raise EBMLError(f"{_name(header.id)} at offset {header.offset} has an unknown size")
    return header.end


def _name(element_id: int) -> str:
    return _NAMES.get(element_id, f"element 0x{element_id:X}")


def _doc_type(data: bytes) -> str:
    doc_type = "matroska"  # the DocType default (RFC 8794 section 11.2.6)
    for child in iter_children(data, 0, len(data)):
        if child.id == DOC_TYPE:
            doc_type = text(data[child.data_offset:child.end])[0]
    if doc_type not in ("matroska", "webm"):
        raise EBMLError(f"EBML document type {doc_type!r} is not Matroska or WebM")
    return doc_type


def _find_segment(source: Source, pos: int) -> Header:
    for _ in range(64):  # Void or unknown root elements may precede it
        header = source.header_at(pos)
        if header is None:
            raise EBMLError("file is truncated: no Segment after the EBML header")
        if header.id == SEGMENT:
            return header
        pos = _end(header)
    raise EBMLError("no Segment after the EBML header")


class _Walk:
    """Finds the Info and Chapters elements of one Segment, reading headers only."""

    def __init__(self, source: Source, segment: Header) -> None:
        self.source = source
        self.start = segment.data_offset
        self.end = source.size if segment.end is None else segment.end
        self.found: dict[int, Header] = {}    # the first Info and Chapters walked over
        self.seek: dict[int, list[int]] = {}  # element ID -> file offsets from SeekHeads
        self.seek_heads_read: set[int] = set()
        self.notes: list[str] = []

    def locate(self) -> tuple[Header | None, Header | None, str | None]:
        """The Info and Chapters headers, and how the Chapters were found."""
        first_cluster = self.scan(self.start, through_clusters=False)
        self.follow_seek_heads()
        (info, _), (chapters, via) = self.pick(INFO), self.pick(CHAPTERS)
        if (info is None or chapters is None) and first_cluster is not None:
            self.scan(first_cluster, through_clusters=True)
            info = info or self.found.get(INFO)
            if chapters is None and CHAPTERS in self.found:
                chapters, via = self.found[CHAPTERS], "scan"
                # Measured: mpv 0.35.1, ffprobe 5.1 and mkvextract 74 all miss such
                # Chapters, after both sized and unknown-size Clusters.
                self.notes.append("the Chapters element was found only by walking past the "
                                  "Clusters (no SeekHead entry points to it): mpv, FFmpeg and "
                                  "mkvextract do not look there, so players show no chapters")
        return info, chapters, via

    def scan(self, pos: int, *, through_clusters: bool) -> int | None:
        """Walk the Segment's children by their sizes, noting SeekHead, Info and Chapters.

        Without ``through_clusters`` it stops at the first Cluster and returns its
        offset; otherwise it walks to the end and returns None.
        """
        while pos < self.end:
            header = self.header(pos, tolerate_truncation=through_clusters)
            if header is None or header.id in (EBML, SEGMENT):  # end of file, or a chained Segment
                return None
            if header.id == CLUSTER:
                if not through_clusters:
                    return pos
                if header.size is None:
                    pos = self.skip_unknown_size_cluster(header)
                    continue
                if _end(header) > self.source.size:
                    self.note_interrupted(pos)
                    return None
            end = _end(header)
            if end > self.end:
                raise EBMLError(f"{_name(header.id)} at offset {pos} runs {end - self.end} bytes "
                                "past the end of the Segment (truncated or corrupt file)")
            if header.id == SEEK_HEAD:
                self.read_seek_head(header)
            elif header.id in (INFO, CHAPTERS):
                self.found.setdefault(header.id, header)
            pos = end
        return None

    def skip_unknown_size_cluster(self, cluster: Header) -> int:
        """Where an unknown-size Cluster ends: at the next top-level ID (RFC 8794 6.2)."""
        pos = cluster.data_offset
        while pos < self.end:
            child = self.header(pos, tolerate_truncation=True)
            if child is None or child.id in _TOP_LEVEL:
                return self.end if child is None else pos
            if _end(child) > self.end:
                self.note_interrupted(pos)
            pos = _end(child)
        return self.end

    def header(self, pos: int, *, tolerate_truncation: bool) -> Header | None:
        """The header at ``pos``; past the media, a cut-off one just ends the walk."""
        try:
            return self.source.header_at(pos)
        except TruncatedError:
            if not tolerate_truncation:
                raise
            self.note_interrupted(pos)
            return None

    def note_interrupted(self, pos: int) -> None:
        # Live recordings (unknown-size Segment) that were stopped end mid-block;
        # players play them, so this is a note, not an error.
        self.notes.append(f"the file ends inside the media data at offset {pos} "
                          "(an interrupted recording?)")

    def read_seek_head(self, header: Header) -> None:
        if header.offset in self.seek_heads_read or len(self.seek_heads_read) >= _MAX_SEEK_HEADS:
            return
        self.seek_heads_read.add(header.offset)
        data = self.source.element_data(header, _MAX_SEEK_HEAD_BYTES, "SeekHead")
        for entry in _children(data, 0, len(data), "SeekHead", self.notes):
            if entry.id != SEEK:
                continue
            target = position = None
            for child in _children(data, entry.data_offset, _end(entry), "Seek", self.notes):
                value = data[child.data_offset:child.end]
                if child.id == SEEK_ID:
                    target = int.from_bytes(value, "big")
                elif child.id == SEEK_POSITION:
                    position = uint(value)
            if target is not None and position is not None:
                # SeekPosition counts from the first byte of the Segment's data (RFC 9559 16.1).
                self.seek.setdefault(target, []).append(self.start + position)

    def follow_seek_heads(self) -> None:
        """Read the further SeekHeads a SeekHead points to (mkvmerge writes two)."""
        tried: set[int] = set()
        for offset in self.seek.get(SEEK_HEAD, []):  # the list grows as we read
            if offset in tried or offset in self.seek_heads_read:
                continue
            if len(tried) >= _MAX_SEEK_HEADS:
                break
            tried.add(offset)
            header = self.header_or_none(offset)
            if header is not None and header.id == SEEK_HEAD:
                self.read_seek_head(header)

    def header_or_none(self, offset: int) -> Header | None:
        try:
            return self.source.header_at(offset)
        except EBMLError:
            return None

    def pick(self, element_id: int) -> tuple[Header | None, str | None]:
        """The element a SeekHead points to, else the one the walk met, and which it was."""
        for offset in self.seek.get(element_id, []):
            header = self.header_or_none(offset)
            if header is not None and header.id == element_id:
                return header, "SeekHead"
            self.notes.append(f"the SeekHead entry for {_name(element_id)} points to offset "
                              f"{offset}, which holds no {_name(element_id)}")
        header = self.found.get(element_id)
        return header, None if header is None else "walk"


# -- a master element's children (the SeekHead here; Info and Chapters in matroska.py) ---

def _children(data: bytes, start: int, end: int, where: str, notes: list[str]) -> Iterator[Header]:
    """A master element's children, minus Void; a leading CRC-32 is checked, not yielded.

    The CRC-32 element, when present, is the first child and holds the IEEE
    CRC-32 of the parent's remaining data, little-endian (RFC 8794 section 11.3.1).
    """
    first = True
    for child in iter_children(data, start, end):
        if child.id == CRC32_ID and first and child.size == 4:
            stored = int.from_bytes(data[child.data_offset:child.end], "little")
            if zlib.crc32(memoryview(data)[_end(child):end]) != stored:
                notes.append(f"{where} fails its CRC-32 check: the element is damaged")
        elif child.id not in (VOID_ID, CRC32_ID):
            yield child
        first = False
