"""Where things are in a Matroska file, for the in-place editor (:mod:`mkvedit`).

Reads, through a file descriptor, only element headers and the few small elements
an edit needs: the EBML header (DocType), the Segment header (where its size field
is), the top-level elements before the first Cluster, every SeekHead (its entries
and whether it carries a CRC-32), the live Chapters element and the free space
(Voids) right after it. Media data is never read, so the cost does not grow with
the file.

The live Chapters element is found as the players find it (matroska.py docstring):
a SeekHead entry that points at a Chapters element, else the first one before the
Clusters. Encoding helpers for Void and SeekHead elements live here too, and
:func:`preview`, which reads the chapters a plan would leave without writing anything.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from chapterkit.containers.ebml import (
    CRC32_ID, MAX_HEADER_LENGTH, VOID_ID, EBMLError, Header, encode_element, encode_id, encode_size,
    iter_children, parse_header, text, uint,
)
from chapterkit.containers.matroska import (
    CHAPTERS, CLUSTER, DOC_TYPE, EBML, SEEK, SEEK_HEAD, SEEK_ID, SEEK_POSITION, SEGMENT, _parse_chapters,
)
from chapterkit.inplace import Op, Truncate, Write

_MAX_SMALL = 1 << 20     # SeekHead, EBML header: refuse absurd sizes
_MAX_CHAPTERS = 16 << 20
_MAX_WALK = 100_000      # top-level elements before the first Cluster


class LayoutError(EBMLError):
    """The file's structure does not allow an in-place edit (the remux path still may)."""


class FdSource:
    """Positional reads through a file descriptor (the editor never moves the offset)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.size = os.fstat(fd).st_size

    def read_at(self, offset: int, size: int) -> bytes:
        chunks, wanted = [], max(0, min(size, self.size - offset))
        while wanted > 0:
            chunk = os.pread(self.fd, wanted, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset, wanted = offset + len(chunk), wanted - len(chunk)
        return b"".join(chunks)

    def header_at(self, offset: int) -> Header:
        data = self.read_at(offset, MAX_HEADER_LENGTH)
        header = parse_header(data)
        return Header(header.id, offset, header.header_size, header.size)

    def data(self, header: Header, limit: int) -> bytes:
        if header.size is None or header.size > limit:
            raise LayoutError(f"element 0x{header.id:X} at {header.offset} has an unusable size")
        data = self.read_at(header.data_offset, header.size)
        if len(data) < header.size:
            raise LayoutError(f"file is truncated inside element 0x{header.id:X} at {header.offset}")
        return data


@dataclass
class SeekHeadInfo:
    header: Header
    entries: list[tuple[int, int]]        # (element ID, file offset)
    has_crc: bool


@dataclass
class Layout:
    """The facts an in-place chapter edit needs."""

    file_size: int
    doc_type: str
    segment: Header
    segment_end: int                     # known end, or the file size for an unknown size
    top: list[Header]                    # top-level elements before the first Cluster
    first_cluster: int | None
    seek_heads: list[SeekHeadInfo] = field(default_factory=list)
    chapters: Header | None = None       # the live Chapters element

    @property
    def segment_start(self) -> int:
        return self.segment.data_offset

    @property
    def size_known(self) -> bool:
        return self.segment.size is not None

    @property
    def appendable(self) -> bool:
        """New elements may go at the end of the file (the Segment ends there)."""
        return self.segment_end == self.file_size

    def voids_before_clusters(self) -> list[Header]:
        return [h for h in self.top if h.id == VOID_ID]


def read_layout(source: FdSource) -> Layout:
    if source.read_at(0, 4) != EBML.to_bytes(4, "big"):
        raise LayoutError("not a Matroska or WebM file (no EBML header)")
    head = source.header_at(0)
    doc_type = "matroska"
    data = source.data(head, 4096)
    for child in iter_children(data, 0, len(data)):
        if child.id == DOC_TYPE:
            doc_type = text(data[child.data_offset:child.end])[0]
    if doc_type not in ("matroska", "webm"):
        raise LayoutError(f"EBML document type {doc_type!r} is not Matroska or WebM")
    segment = source.header_at(head.end)
    if segment.id != SEGMENT:
        raise LayoutError("no Segment right after the EBML header")
    segment_end = source.size if segment.size is None else segment.end
    if segment_end > source.size:
        raise LayoutError("the file is shorter than its Segment (truncated)")
    layout = Layout(source.size, doc_type, segment, segment_end, [], None)
    pos = segment.data_offset
    while pos < segment_end:
        if len(layout.top) > _MAX_WALK:
            raise LayoutError("too many top-level elements before the first Cluster")
        header = source.header_at(pos)
        if header.id == CLUSTER:
            layout.first_cluster = pos
            break
        if header.end is None or header.end > segment_end:
            raise LayoutError(f"top-level element 0x{header.id:X} at {pos} has an unusable size")
        layout.top.append(header)
        pos = header.end
    _read_seek_heads(source, layout)
    layout.chapters = _live_chapters(source, layout)
    return layout


def _read_seek_heads(source: FdSource, layout: Layout) -> None:
    pending = [h.offset for h in layout.top if h.id == SEEK_HEAD]
    seen: set[int] = set()
    while pending and len(seen) < 16:
        offset = pending.pop(0)
        if offset in seen:
            continue
        seen.add(offset)
        try:
            header = source.header_at(offset)
        except EBMLError:
            continue
        if header.id != SEEK_HEAD:
            continue
        info = parse_seek_head(header, source.data(header, _MAX_SMALL), layout.segment_start)
        layout.seek_heads.append(info)
        pending += [target for element_id, target in info.entries if element_id == SEEK_HEAD]


def parse_seek_head(header: Header, data: bytes, segment_start: int) -> SeekHeadInfo:
    entries, has_crc = [], False
    for entry in iter_children(data, 0, len(data)):
        if entry.id == CRC32_ID:
            has_crc = True
        if entry.id != SEEK:
            continue
        target = position = None
        for child in iter_children(data, entry.data_offset, entry.end):
            if child.id == SEEK_ID:
                target = int.from_bytes(data[child.data_offset:child.end], "big")
            elif child.id == SEEK_POSITION:
                position = uint(data[child.data_offset:child.end])
        if target is not None and position is not None:
            entries.append((target, segment_start + position))
    return SeekHeadInfo(header, entries, has_crc)


def _live_chapters(source: FdSource, layout: Layout) -> Header | None:
    for info in layout.seek_heads:
        for element_id, offset in info.entries:
            if element_id == CHAPTERS and offset < layout.segment_end:
                try:
                    header = source.header_at(offset)
                except EBMLError:
                    continue
                if header.id == CHAPTERS and header.end is not None and header.end <= layout.segment_end:
                    return header
    return next((h for h in layout.top if h.id == CHAPTERS), None)


def following_void(source: FdSource, layout: Layout, end: int) -> Header | None:
    """The Void element starting at ``end``, if there is one inside the Segment."""
    if end >= layout.segment_end:
        return None
    try:
        header = source.header_at(end)
    except EBMLError:
        return None
    if header.id == VOID_ID and header.end is not None and header.end <= layout.segment_end:
        return header
    return None


class _Overlay(FdSource):
    """The file as it will be once ``plan`` is applied, read without writing anything."""

    def __init__(self, fd: int, plan: Sequence[Op]) -> None:
        super().__init__(fd)
        self.base_size = self.size
        self.writes = [op for op in plan if isinstance(op, Write)]
        for op in plan:
            if isinstance(op, Write):
                self.size = max(self.size, op.offset + len(op.data))
            elif isinstance(op, Truncate):
                self.size = op.size

    def read_at(self, offset: int, size: int) -> bytes:
        size = max(0, min(size, self.size - offset))
        window = bytearray(super().read_at(offset, size) if offset < self.base_size else b"")
        window.extend(bytes(size - len(window)))
        for op in self.writes:
            first, last = max(offset, op.offset), min(offset + size, op.offset + len(op.data))
            if first < last:
                window[first - offset:last - offset] = op.data[first - op.offset:last - op.offset]
        return bytes(window)


def preview(fd: int, plan: Sequence[Op]) -> tuple[str, ...] | None:
    """The titles a player would list once ``plan`` is applied (read from an overlay)."""
    overlay = _Overlay(fd, plan)
    layout = read_layout(overlay)
    if layout.chapters is None:
        return ()
    editions = _parse_chapters(overlay.data(layout.chapters, 16 << 20), [])
    visible = [edition for edition in editions if not edition.flag_hidden]
    shown = next((e for e in visible if e.flag_default), visible[0] if visible else None)
    return () if shown is None else tuple(a.title for a in shown.atoms if not a.flag_hidden and a.flag_enabled)


# -- encoding ------------------------------------------------------------------------------

def void_header(total: int, length: int | None = None) -> bytes:
    """The header of a Void element ``total`` bytes long (header included); total >= 2.

    ``length`` forces the size field's length (so a header can replace one of equal
    length); otherwise 1 octet when it fits, else 8, as FFmpeg's ``put_ebml_void`` does.
    """
    if total < 2:
        raise ValueError("a Void element is at least 2 bytes")
    if length is None:
        length = 1 if total - 2 < 127 else 8
    return encode_id(VOID_ID) + encode_size(total - 1 - length, length)


def seek_head(entries: list[tuple[int, int]], with_crc: bool, position_lengths: dict[int, int]) -> bytes:
    """A SeekHead element; ``entries`` are (element ID, position relative to the Segment data)."""
    body = b""
    for element_id, position in entries:
        length = position_lengths.get(element_id, max(1, (position.bit_length() + 7) // 8))
        seek = (encode_element(SEEK_ID, encode_id(element_id))
                + encode_element(SEEK_POSITION, position.to_bytes(length, "big")))
        body += encode_element(SEEK, seek)
    if with_crc:  # RFC 8794 11.3.1: CRC-32 (IEEE) of the rest of the parent's data, little-endian
        body = encode_element(CRC32_ID, zlib.crc32(body).to_bytes(4, "little")) + body
    return encode_element(SEEK_HEAD, body)
