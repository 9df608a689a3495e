"""A structure-aware mutator for container files: cut at box/element boundaries, corrupt size fields.

Random bytes rarely get past a container's first size check; real damage does:
a download cut at some box or element, a size field off by one, zero, or huge.
:func:`boundaries` lists the places where a container's structure can be hit,
found with the project's own codecs (``containers/mp4boxes.py`` for ISO BMFF,
``containers/ebml.py`` for Matroska; Ogg pages and ID3 frames by their headers),
and :func:`mutate` applies one structural mutation there.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from chapterkit.containers import ebml
from chapterkit.containers.mp4boxes import BoxReader
from chapterkit.errors import MediaError

#: Matroska master elements to descend into (RFC 9559): EBML header, Segment, SeekHead,
#: Seek, Info, Tracks, TrackEntry, Chapters, EditionEntry, ChapterAtom, ChapterDisplay,
#: Tags, Tag, Targets, SimpleTag, Cues, Cluster, Attachments, AttachedFile.
EBML_MASTERS = frozenset({0x1A45DFA3, 0x18538067, 0x114D9B74, 0x4DBB, 0x1549A966, 0x1654AE6B, 0xAE,
                          0x1043A770, 0x45B9, 0xB6, 0x80, 0x1254C367, 0x7373, 0x63C0, 0x67C8, 0x1C53BB6B,
                          0x1F43B675, 0x1941A469, 0x61A7})
MUTATIONS = ("cut_before", "cut_inside", "size_zero", "size_small", "size_plus", "size_minus", "size_huge",
             "size_unknown", "drop")


@dataclass(frozen=True, slots=True)
class Site:
    """One structure: where it starts and ends, and where its size field is (offset, length, kind)."""

    offset: int
    end: int
    size_at: int
    size_length: int
    kind: str  # "box32", "ebml", "ogg", "id3"


def boundaries(data: bytes) -> list[Site]:
    if data[4:8] in (b"ftyp", b"moov", b"mdat", b"free"):
        return _mp4(data)
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return _ebml(data)
    if data[:4] == b"OggS":
        return _ogg(data)
    if data[:3] == b"ID3":
        return _id3(data)
    return []


def _mp4(data: bytes) -> list[Site]:
    reader = BoxReader(io.BytesIO(data), "fuzz.mp4")
    sites = []
    try:
        for _, box in reader.walk():
            if box.header_size == 8:  # walk() descends into CONTAINERS: every level is hit
                sites.append(Site(box.offset, box.end, box.offset, 4, "box32"))
    except MediaError:
        pass
    return sites


def _ebml(data: bytes) -> list[Site]:
    sites = []
    stack = [(0, len(data))]
    while stack and len(sites) < 400:
        start, end = stack.pop()
        position = start
        while position < end:
            try:
                header = ebml.parse_header(data, position, end)
            except ebml.EBMLError:
                break
            element_end = end if header.end is None else min(header.end, end)
            id_length = len(ebml.encode_id(header.id))
            sites.append(Site(header.offset, element_end, header.offset + id_length,
                              header.header_size - id_length, "ebml"))
            if header.id in EBML_MASTERS:
                stack.append((header.data_offset, element_end))
            if header.end is None or header.end <= position:
                break
            position = header.end
    return sites


def _ogg(data: bytes) -> list[Site]:
    sites, position = [], 0
    while True:
        position = data.find(b"OggS", position)
        if position < 0 or position + 27 > len(data):
            return sites
        segments = data[position + 26]
        lacing = data[position + 27:position + 27 + segments]
        end = min(len(data), position + 27 + segments + sum(lacing))
        sites.append(Site(position, end, position + 27, max(1, segments), "ogg"))
        position += 4


def _id3(data: bytes) -> list[Site]:
    sites = [Site(0, 10, 6, 4, "id3")]
    position, end = 10, min(len(data), 10 + _synchsafe(data[6:10]))
    while position + 10 <= end and data[position:position + 4].isalnum():
        size = struct.unpack(">I", data[position + 4:position + 8])[0]
        sites.append(Site(position, min(end, position + 10 + size), position + 4, 4, "id3"))
        position += 10 + size
    return sites


def _synchsafe(raw: bytes) -> int:
    value = 0
    for byte in raw:
        value = value << 7 | (byte & 0x7F)
    return value


def mutate(data: bytes, site: Site, mutation: str, cut: float = 0.5) -> bytes:
    """``data`` with one structural mutation at ``site``; ``cut`` (0..1) places a cut inside it."""
    if mutation == "cut_before":
        return data[:site.offset]
    if mutation == "cut_inside":
        return data[:site.offset + max(1, int((site.end - site.offset) * cut))]
    if mutation == "drop":
        return data[:site.offset] + data[site.end:]
    size = site.end - site.offset
    field = bytearray(data[site.size_at:site.size_at + site.size_length])
    if not field:
        return data
    if site.kind == "box32":
        value = {"size_zero": 0, "size_small": 1, "size_plus": size + 1, "size_minus": max(0, size - 1),
                 "size_huge": 0xFFFFFFFF, "size_unknown": 7}[mutation]
        field = bytearray(struct.pack(">I", value))
    elif site.kind == "ebml":
        length = len(field)
        top = (1 << (7 * length)) - 1
        value = {"size_zero": 0, "size_small": 1, "size_plus": size + 1, "size_minus": max(0, size - 1),
                 "size_huge": top - 1, "size_unknown": top}[mutation]
        value = min(value, top)
        encoded = ((1 << (7 * length)) | value).to_bytes(length, "big")  # the length marker bit kept
        field = bytearray(encoded[-length:])
    else:  # Ogg lacing values and ID3 sizes: push every byte one way
        fill = {"size_zero": 0, "size_small": 1, "size_plus": 0xFF, "size_minus": 0x7F, "size_huge": 0xFF,
                "size_unknown": 0x80}[mutation]
        field = bytearray([fill] * len(field))
    return data[:site.size_at] + bytes(field) + data[site.size_at + len(field):]
