"""The box tree of an ISO base media file (MP4/MOV): walking it by seeking, and packing a box.

The lowest layer of the MP4 codec, split from :mod:`chapterkit.containers.mp4boxes`
(which re-exports every name here): box headers read one at a time (a box is never
read before we know we want it, and ``mdat`` is never read at all), the full-box
header, big-endian fields, and :func:`pack_box`, the one place a box header is
written. The layers above it, :mod:`.mp4samples` (where a track's samples are and
when they play) and :mod:`.mp4boxes` (the headers of movie, track and media),
only decode payloads. Layouts follow ISO/IEC 14496-12 (section numbers below) and
Apple's QuickTime File Format, which agree on every box used here.

Every problem with the bytes is a :class:`~chapterkit.errors.MediaError` that
names the box and its offset, e.g. "truncated box 'moov' at offset 40 while
reading x.mp4": a reader that gets a file cut short by a failed download
should say where, not raise ``struct.error``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from chapterkit.errors import MediaError

#: Boxes whose payload is nothing but child boxes (14496-12 section 8; QTFF "atom containers").
CONTAINERS = frozenset({"moov", "trak", "mdia", "minf", "stbl", "edts", "udta", "dinf", "tref",
                        "mvex", "moof", "traf", "mfra"})

#: How deep boxes may nest under ``moov``. FFmpeg-written files nest 6 deep
#: (moov/trak/mdia/minf/stbl/stsd); hostile ones nest thousands deep, which sends
#: recursive parsers (mutagen's) past Python's recursion limit.
MAX_DEPTH = 32

#: Refuse to load a single box payload larger than this into memory. Sample tables
#: of a chapter track are a few hundred bytes; a huge value means a corrupt size.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Box:
    """Where one box sits in the file: ``offset`` of its header, total ``size``.

    ``name`` is the four-character type decoded as Latin-1 (so any four bytes
    make a name, e.g. ``"\\xa9nam"``). ``header_size`` is 8, 16 with a 64-bit
    size, plus 16 for a ``uuid`` box's extended type.
    """

    name: str
    offset: int
    size: int
    header_size: int

    @property
    def payload_offset(self) -> int:
        return self.offset + self.header_size

    @property
    def payload_size(self) -> int:
        return self.size - self.header_size

    @property
    def end(self) -> int:
        return self.offset + self.size


class BoxTree:
    """The box tree of one open binary file, read by seeking.

    ``path`` only names the file in error messages, so a :class:`io.BytesIO`
    of crafted bytes works as well as a real file.
    """

    def __init__(self, handle: BinaryIO, path: str | os.PathLike[str]) -> None:
        self.handle = handle
        self.path = os.fspath(path)
        try:
            self.file_size = handle.seek(0, os.SEEK_END)
        except OSError as exc:
            raise self.error(f"cannot seek ({exc.strerror or exc})") from None

    def error(self, reason: str) -> MediaError:
        return MediaError(reason, path=self.path, verb="reading")

    def read_at(self, offset: int, size: int, what: str) -> bytes:
        """Exactly ``size`` bytes at ``offset``, or a MediaError naming ``what``."""
        try:
            self.handle.seek(offset)
            data = self.handle.read(size)
        except OSError as exc:
            raise self.error(f"cannot read {what} at offset {offset} ({exc.strerror or exc})") from None
        if len(data) != size:
            raise self.error(f"truncated {what} at offset {offset}")
        return data

    # -- the tree ---------------------------------------------------------------

    def boxes(self, parent: Box | None = None) -> Iterator[Box]:
        """The child boxes of ``parent`` (the top level when None), in file order."""
        start, end = (0, self.file_size) if parent is None else (parent.payload_offset, parent.end)
        offset = start
        while offset < end:
            box = self._box_at(offset, end)
            yield box
            offset = box.end

    def _box_at(self, offset: int, limit: int) -> Box:
        # 14496-12 section 4.2: size(32) type(32) [largesize(64) if size == 1]
        # [usertype(128) if type == 'uuid']; size 0 means "to the end of the file",
        # which here is the end of the enclosing box.
        if limit - offset < 8:
            raise self.error(f"truncated box header at offset {offset}")
        size, raw = struct.unpack(">I4s", self.read_at(offset, 8, "box header"))
        name = raw.decode("latin-1")
        header = 8
        if size == 1:
            if limit - offset < 16:
                raise self.error(f"truncated box '{name}' at offset {offset}")
            (size,) = struct.unpack(">Q", self.read_at(offset + 8, 8, f"box '{name}'"))
            header = 16
        elif size == 0:
            size = limit - offset
        if name == "uuid":
            header += 16
        if size < header:
            raise self.error(f"box '{name}' at offset {offset} has an impossible size {size}")
        if offset + size > limit:
            raise self.error(f"truncated box '{name}' at offset {offset}")
        return Box(name, offset, size, header)

    def walk(self, parent: Box | None = None, depth: int = 0) -> Iterator[tuple[int, Box]]:
        """Every box under ``parent`` with its depth, descending into plain containers.

        Iterative, and refuses nesting deeper than :data:`MAX_DEPTH` with a MediaError.
        """
        stack = [(depth, self.boxes(parent))]
        while stack:
            level, children = stack[-1]
            box = next(children, None)
            if box is None:
                stack.pop()
                continue
            yield level, box
            if box.name in CONTAINERS:
                if level + 1 - depth >= MAX_DEPTH:
                    raise self.error(f"boxes nested more than {MAX_DEPTH} deep (box '{box.name}' "
                                     f"at offset {box.offset})")
                stack.append((level + 1, self.boxes(box)))

    def check_tree(self, parent: Box | None = None) -> None:
        """Raise a MediaError unless every container box under ``parent`` parses within bounds.

        Run before handing the file to a recursive parser: each header's size must
        fit its parent (a 64-bit size of 2**63 does not) and nesting stays within
        :data:`MAX_DEPTH`.
        """
        for _ in self.walk(parent):
            pass

    def find(self, parent: Box | None, path: str) -> Box | None:
        """The first box along ``path`` (``"moov/udta/chpl"``) under ``parent``, or None."""
        box = parent
        for name in path.split("/"):
            box = next((child for child in self.boxes(box) if child.name == name), None)
            if box is None:
                return None
        return box

    def find_all(self, parent: Box | None, name: str) -> list[Box]:
        return [child for child in self.boxes(parent) if child.name == name]

    def payload(self, box: Box) -> bytes:
        if box.payload_size > MAX_PAYLOAD_BYTES:
            raise self.error(f"box '{box.name}' at offset {box.offset} is implausibly large "
                             f"({box.payload_size} bytes)")
        return self.read_at(box.payload_offset, box.payload_size, f"box '{box.name}'")

    # -- payload fields ------------------------------------------------------------

    def full_box(self, box: Box) -> tuple[int, int, _Fields]:
        """``(version, flags, fields)`` of a full box (14496-12 section 4.2)."""
        fields = _Fields(self.payload(box), box, self)
        version = fields.u8()
        flags = int.from_bytes(fields.take(3), "big")
        return version, flags, fields


class _Fields:
    """Big-endian fields read one after another from a box payload."""

    def __init__(self, data: bytes, box: Box, reader: BoxTree) -> None:
        self.data = data
        self.position = 0
        self.box = box
        self.reader = reader

    def take(self, size: int) -> bytes:
        if self.position + size > len(self.data):
            raise self.reader.error(f"truncated box '{self.box.name}' at offset {self.box.offset}")
        chunk = self.data[self.position:self.position + size]
        self.position += size
        return chunk

    def check_count(self, count: int, what: str) -> None:
        # A corrupt count must not make us build a list of four billion entries.
        if count > len(self.data) * 8 + 1_000_000:
            raise self.reader.error(f"box '{self.box.name}' at offset {self.box.offset} claims "
                                    f"{count} {what}")

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def s32(self) -> int:
        return int.from_bytes(self.take(4), "big", signed=True)

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def s64(self) -> int:
        return int.from_bytes(self.take(8), "big", signed=True)


def pack_box(name: str, payload: bytes) -> bytes:
    """A box of type ``name`` around ``payload`` (14496-12 section 4.2).

    The 32-bit size when it fits, else size 1 and a 64-bit ``largesize``; ``name``
    is four Latin-1 characters, as :class:`Box` decodes them.
    """
    kind = name.encode("latin-1")
    if len(kind) != 4:
        raise ValueError(f"box type {name!r} is not four characters")
    if len(payload) + 8 <= 0xFFFFFFFF:
        return struct.pack(">I4s", len(payload) + 8, kind) + payload
    return struct.pack(">I4sQ", 1, kind, len(payload) + 16) + payload


__all__ = ["CONTAINERS", "MAX_DEPTH", "MAX_PAYLOAD_BYTES", "Box", "BoxTree", "pack_box"]
