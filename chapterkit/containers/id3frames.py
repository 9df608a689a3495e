"""A linear-time reader of the ID3v2 frames that hold chapters: ``CHAP``, ``CTOC``, ``TIT2``.

Why not mutagen here: mutagen parses every frame of a tag and cuts each frame off
the front of the remaining bytes with a slice, which copies the rest of the tag
each time, so a tag of 70,000 ``CHAP`` frames (3.3 MB) takes over 10 s. It also
parses sub-frames recursively, so ``CHAP`` frames nested 1,100 deep exhaust the
stack. This reader walks the tag once by offset, decodes only the frames a chapter
list needs, and reads only the ``TIT2`` sub-frame of a ``CHAP`` (never nested
``CHAP`` or ``CTOC``), so its depth is fixed. Writing still goes through mutagen.

The layout (id3.org ID3v2.3.0 and ID3v2.4.0 "structure" and "frames", and the
Chapter Frame Addendum 1.0): a 10-byte header ("ID3", version, flags, synchsafe
size), an optional extended header, then frames of a 4-byte id, a 4-byte size
(synchsafe in v2.4; iTunes wrote plain integers there, so like mutagen the width
that finds more known frames wins), 2 flag bytes and the body. ID3v2.2 has no
chapter frames. The result objects carry the attribute names mutagen's frames
use (``element_id``, ``start_time``, ``sub_frames``...), so the ``id3`` reader
works on either.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

#: The frame ids this reader decodes; others are skipped by size.
_WANTED = {"CHAP", "CTOC", "TIT2"}
#: Text encodings (ID3v2.4 section 4): latin-1, UTF-16 with BOM, UTF-16BE, UTF-8.
_ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}


class ID3FormatError(ValueError):
    """The tag cannot be walked (a bad header); callers turn it into a MediaError."""


@dataclass(frozen=True, slots=True)
class TextFrame:
    text: list[str]


@dataclass(frozen=True, slots=True)
class ChapFrame:
    element_id: str
    start_time: int
    end_time: int
    sub_frames: dict[str, TextFrame] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TocFrame:
    element_id: str
    flags: int
    child_element_ids: list[str]


@dataclass(slots=True)
class Tag:
    """What a chapter list needs from a tag; ``size`` is the tag's length in the file."""

    size: int
    title: TextFrame | None = None
    chaps: list[ChapFrame] = field(default_factory=list)
    tocs: list[TocFrame] = field(default_factory=list)


def tag_size(head: bytes) -> int | None:
    """The whole tag's length from its first 10 bytes, or None when there is no ID3v2 header."""
    if len(head) < 10 or head[:3] != b"ID3" or any(byte & 0x80 for byte in head[6:10]):
        return None
    footer = 10 if head[3] == 4 and head[5] & 0x10 else 0
    return 10 + _synchsafe(head[6:10]) + footer


def read_tag(handle) -> Tag | None:
    """The chapter frames of the ID3v2 tag at the start of ``handle``, or None without one."""
    handle.seek(0)
    head = handle.read(10)
    size = tag_size(head)
    if size is None:
        if head[:3] == b"ID3":
            raise ID3FormatError("its ID3v2 header is damaged (size bytes not synchsafe)")
        return None
    version, flags = head[3], head[5]
    body = handle.read(_synchsafe(head[6:10]))
    if len(body) < _synchsafe(head[6:10]):
        raise ID3FormatError("the file ends early: truncated?")
    tag = Tag(size)
    if version not in (3, 4):
        return tag  # ID3v2.2 has no chapter frames
    if version == 3 and flags & 0x80:
        body = body.replace(b"\xff\x00", b"\xff")  # v2.3: the whole tag is unsynchronised
    start = 0
    if flags & 0x40 and len(body) >= 4:  # extended header: v2.3 size excludes itself, v2.4 includes
        start = struct.unpack(">I", body[:4])[0] + 4 if version == 3 else _synchsafe(body[:4])
    for frame_id, frame_flags, data in _frames(memoryview(body), start, len(body), version):
        if frame_id == "TIT2" and tag.title is None:
            tag.title = _text(data, version, frame_flags)
        elif frame_id == "CHAP":
            chap = _chap(data, version, frame_flags)
            if chap is not None:
                tag.chaps.append(chap)
        elif frame_id == "CTOC":
            toc = _toc(data, version, frame_flags)
            if toc is not None:
                tag.tocs.append(toc)
    return tag


def _synchsafe(raw) -> int:
    value = 0
    for byte in bytes(raw):
        value = value << 7 | (byte & 0x7F)
    return value


def _frames(data: memoryview, start: int, end: int, version: int):
    """``(id, flags, body)`` of each wanted frame in ``data[start:end]``, in one pass."""
    synchsafe = version == 4 and _synchsafe_sizes(data, start, end)
    position = start
    while position + 10 <= end:
        raw_id = bytes(data[position:position + 4])
        if raw_id == b"\x00\x00\x00\x00":
            break  # padding
        raw_size = data[position + 4:position + 8]
        size = _synchsafe(raw_size) if synchsafe else struct.unpack(">I", raw_size)[0]
        flags = struct.unpack(">H", data[position + 8:position + 10])[0]
        body_end = position + 10 + size
        if body_end > end:
            break  # a frame running past the tag: mutagen drops it too
        frame_id = raw_id.decode("latin-1")
        if frame_id in _WANTED:
            yield frame_id, flags, data[position + 10:body_end]
        position = body_end


def _synchsafe_sizes(data: memoryview, start: int, end: int) -> bool:
    """Whether a v2.4 tag's frame sizes are synchsafe, as the spec says, or plain (old iTunes).

    Walk the frames both ways; the reading that meets more frame ids made of
    A-Z and 0-9 wins, and a tie goes to the spec.
    """
    def walk(synchsafe: bool) -> int:
        position, valid = start, 0
        while position + 10 <= end and valid < 64:
            raw_id = bytes(data[position:position + 4])
            if raw_id == b"\x00\x00\x00\x00" or not all(48 <= b <= 57 or 65 <= b <= 90 for b in raw_id):
                break
            raw = data[position + 4:position + 8]
            position += 10 + (_synchsafe(raw) if synchsafe else struct.unpack(">I", raw)[0])
            valid += 1 if position <= end else 0
        return valid

    return walk(True) >= walk(False)


def _unwrap(data: memoryview, version: int, flags: int) -> bytes | None:
    """A frame body without its flag extras: grouping byte, length, unsync, compression.

    None for an encrypted frame, which no reader can decode.
    """
    body = bytes(data)
    if version == 4:
        if flags & 0x0004:
            return None
        if flags & 0x0040:
            body = body[1:]
        if flags & 0x0001:
            body = body[4:]
        if flags & 0x0002:
            body = body.replace(b"\xff\x00", b"\xff")
        compressed = flags & 0x0008
    else:
        if flags & 0x0040:
            return None
        if flags & 0x0080:
            body = body[4:]  # the decompressed size
        if flags & 0x0020:
            body = body[1:]
        compressed = flags & 0x0080
    if compressed:
        try:
            body = zlib.decompressobj().decompress(body, 1 << 24)
        except zlib.error:
            return None
    return body


def _text(data: memoryview, version: int, flags: int) -> TextFrame | None:
    body = _unwrap(data, version, flags)
    if not body or body[0] not in _ENCODINGS:
        return None
    text = body[1:].decode(_ENCODINGS[body[0]], "replace")
    values = text.split("\x00")
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return TextFrame(values)


def _element_id(body: bytes) -> tuple[str, int] | None:
    end = body.find(b"\x00")
    return None if end < 0 else (body[:end].decode("latin-1"), end + 1)


def _chap(data: memoryview, version: int, flags: int) -> ChapFrame | None:
    body = _unwrap(data, version, flags)
    found = _element_id(body) if body else None
    if found is None or len(body) < found[1] + 16:
        return None
    element_id, at = found
    start, end = struct.unpack_from(">II", body, at)
    sub_frames: dict[str, TextFrame] = {}
    view = memoryview(body)
    for frame_id, sub_flags, sub in _frames(view, at + 16, len(body), version):
        if frame_id == "TIT2" and "TIT2" not in sub_frames:  # nested CHAP/CTOC are never read
            title = _text(sub, version, sub_flags)
            if title is not None:
                sub_frames["TIT2"] = title
    return ChapFrame(element_id, start, end, sub_frames)


def _toc(data: memoryview, version: int, flags: int) -> TocFrame | None:
    body = _unwrap(data, version, flags)
    found = _element_id(body) if body else None
    if found is None or len(body) < found[1] + 2:
        return None
    element_id, at = found
    toc_flags, count = body[at], body[at + 1]
    at += 2
    children = []
    for _ in range(count):
        child = _element_id(body[at:])
        if child is None:
            break
        children.append(child[0])
        at += child[1]
    return TocFrame(element_id, toc_flags, children)
