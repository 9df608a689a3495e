"""A small EBML reader (RFC 8794): element headers, typed values and counted reads.

Just enough of EBML to walk a Matroska file by its element headers, so the
Matroska reader can jump to the few elements it needs and skip everything else
by size. It is schema-free: it knows the variable-size integer (VINT) coding,
the header shape and how to decode the simple value types; which IDs mean what
is the caller's business.

An element is ``ID | data size | data`` (RFC 8794 section 4): the ID is a VINT
of 1 to 4 octets kept *with* its length marker (Matroska's EBMLMaxIDLength is 4),
the data size a VINT of 1 to 8 octets read *without* it. A data size whose value
bits are all 1 means "unknown size" (section 6.2); only master elements that the
schema allows may use it (Matroska: Segment and Cluster), and such an element
ends where an element that cannot be its child begins.

Bad input raises :class:`EBMLError`, whose text is one human line; the container
readers turn it into :class:`~chapterkit.errors.MediaError` with the path.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

MAX_ID_LENGTH = 4    # Matroska EBMLMaxIDLength (RFC 9559 section 5.1)
MAX_SIZE_LENGTH = 8  # RFC 8794 section 6.1: a data size VINT is at most 8 octets
MAX_HEADER_LENGTH = MAX_ID_LENGTH + MAX_SIZE_LENGTH

#: IDs every EBML document may hold anywhere (RFC 8794 section 11.3).
VOID_ID = 0xEC
CRC32_ID = 0xBF


class EBMLError(Exception):
    """The bytes are not well-formed EBML; ``str()`` is one line saying why."""


class TruncatedError(EBMLError):
    """The file ends inside an element (a cut download, an interrupted recording)."""


@dataclass(frozen=True, slots=True)
class Header:
    """An element header: its ID, where it starts and how big its data is.

    ``offset`` is where the ID starts, in whatever coordinates the header was
    read in (a file offset or an index into a buffer). ``size`` is the data
    size in octets, or None for an unknown-size element.
    """

    id: int
    offset: int
    header_size: int
    size: int | None

    @property
    def data_offset(self) -> int:
        return self.offset + self.header_size

    @property
    def end(self) -> int | None:
        """The offset just past the data, or None when the size is unknown."""
        return None if self.size is None else self.data_offset + self.size


def _vint_length(first: int, max_length: int, what: str) -> int:
    # The count of leading zero bits, plus one, is the VINT's length (RFC 8794 section 4.1).
    if first == 0:
        raise EBMLError(f"invalid {what}: a VINT longer than 8 octets")
    length = 9 - first.bit_length()
    if length > max_length:
        raise EBMLError(f"invalid {what}: {length} octets, at most {max_length} allowed")
    return length


def decode_id(data: bytes, pos: int = 0, end: int | None = None) -> tuple[int, int]:
    """The element ID at ``data[pos:end]`` (marker bits kept) and its length in octets."""
    end = len(data) if end is None else end
    if pos >= end:
        raise EBMLError("element ID cut off by the end of the data")
    length = _vint_length(data[pos], MAX_ID_LENGTH, "element ID")
    if pos + length > end:
        raise EBMLError("element ID cut off by the end of the data")
    value = int.from_bytes(data[pos:pos + length], "big")
    payload = value & ((1 << (7 * length)) - 1)
    if (payload == 0 and value != 0x80) or payload == (1 << (7 * length)) - 1:
        # All-zero and all-one ID values are reserved (RFC 8794 section 5), except
        # 0x80, which RFC 9559 (section 1) re-allows for Matroska's ChapterDisplay.
        raise EBMLError(f"invalid element ID 0x{value:X}")
    return value, length


def decode_size(data: bytes, pos: int = 0, end: int | None = None) -> tuple[int | None, int]:
    """The data size at ``data[pos:end]`` (None when unknown) and its length in octets."""
    end = len(data) if end is None else end
    if pos >= end:
        raise EBMLError("element size cut off by the end of the data")
    length = _vint_length(data[pos], MAX_SIZE_LENGTH, "element size")
    if pos + length > end:
        raise EBMLError("element size cut off by the end of the data")
    value = int.from_bytes(data[pos:pos + length], "big") & ((1 << (7 * length)) - 1)
    if value == (1 << (7 * length)) - 1:
        return None, length  # all value bits set: unknown size (RFC 8794 section 6.2)
    return value, length


def parse_header(data: bytes, pos: int = 0, end: int | None = None) -> Header:
    """The element header starting at ``data[pos]`` (and ending before ``end``)."""
    element_id, id_length = decode_id(data, pos, end)
    size, size_length = decode_size(data, pos + id_length, end)
    return Header(element_id, pos, id_length + size_length, size)


def iter_children(data: bytes, start: int, end: int) -> Iterator[Header]:
    """The headers of the elements in ``data[start:end]`` (a master element's data).

    Every child must have a known size that fits inside ``end``: elements read
    into memory are never unknown-size in Matroska.
    """
    pos = start
    while pos < end:
        header = parse_header(data, pos, end)
        if header.end is None:
            raise EBMLError(f"unknown-size element 0x{header.id:X} inside a sized element")
        if header.end > end:
            raise EBMLError(f"element 0x{header.id:X} at {pos} overruns its parent by "
                            f"{header.end - end} bytes")
        yield header
        pos = header.end


def uint(value: bytes) -> int:
    """An unsigned integer element's value (0 to 8 octets, big-endian; RFC 8794 section 7.2)."""
    if len(value) > 8:
        raise EBMLError(f"an unsigned integer of {len(value)} octets (at most 8)")
    return int.from_bytes(value, "big")


def float_(value: bytes) -> float:
    """A float element's value: 0 (zero), 4 or 8 octets, big-endian IEEE 754 (section 7.3)."""
    if len(value) == 0:
        return 0.0
    if len(value) == 4:
        return struct.unpack(">f", value)[0]
    if len(value) == 8:
        return struct.unpack(">d", value)[0]
    raise EBMLError(f"a float of {len(value)} octets (must be 0, 4 or 8)")


def text(value: bytes) -> tuple[str, bool]:
    """A String or UTF-8 element's text and whether it decoded cleanly.

    The value may be padded with NUL octets, which end it (RFC 8794 sections 7.4
    and 7.5). Invalid UTF-8 (FFmpeg copies Latin-1 titles into MKV unchecked) is
    replaced with U+FFFD instead of failing the whole file.
    """
    value = value.split(b"\0", 1)[0]
    try:
        return value.decode("utf-8"), True
    except UnicodeDecodeError:
        return value.decode("utf-8", errors="replace"), False


class Source:
    """A file opened for random reads that counts every byte it reads.

    No buffering: ``bytes_read`` is what was asked of the operating system, so a
    benchmark can show that reading chapters does not touch the media data.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = open(path, "rb", buffering=0)
        self.size = os.fstat(self._file.fileno()).st_size
        self.bytes_read = 0
        self.reads = 0

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (fewer only at the end of the file)."""
        if offset >= self.size or size <= 0:
            return b""
        self._file.seek(offset)
        chunks = []
        wanted = min(size, self.size - offset)
        while wanted > 0:
            chunk = self._file.read(wanted)
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        data = b"".join(chunks)
        self.bytes_read += len(data)
        self.reads += 1
        return data

    def header_at(self, offset: int) -> Header | None:
        """The element header at ``offset``, or None at the end of the file."""
        if offset >= self.size:
            return None
        data = self.read_at(offset, MAX_HEADER_LENGTH)
        try:
            header = parse_header(data)
        except EBMLError as exc:
            if offset + len(data) >= self.size and "cut off" in str(exc):
                raise TruncatedError(f"file is truncated: element header at offset {offset} "
                                     "is cut off") from None
            raise EBMLError(f"{exc} at offset {offset}") from None
        return Header(header.id, offset, header.header_size, header.size)

    def element_data(self, header: Header, limit: int, name: str) -> bytes:
        """The whole data of a sized element, refusing ones larger than ``limit``."""
        if header.size is None:
            raise EBMLError(f"{name} at offset {header.offset} has an unknown size")
        if header.size > limit:
            raise EBMLError(f"{name} at offset {header.offset} claims {header.size} bytes "
                            f"(more than the {limit} allowed)")
        data = self.read_at(header.data_offset, header.size)
        if len(data) < header.size:
            raise TruncatedError(f"file is truncated: {name} at offset {header.offset} needs "
                                 f"{header.size} bytes, {len(data)} are left")
        return data


# -- encoding: used by the tests to build files FFmpeg and mkvmerge never write ----------

def encode_id(element_id: int) -> bytes:
    """An element ID's octets (IDs are stored as written, marker included)."""
    length = max(1, (element_id.bit_length() + 7) // 8)
    octets = element_id.to_bytes(length, "big")
    try:
        valid = decode_id(octets) == (element_id, length)
    except EBMLError:
        valid = False
    if not valid:
        raise ValueError(f"0x{element_id:X} is not a valid EBML element ID")
    return octets


def encode_size(size: int | None, length: int | None = None) -> bytes:
    """A data size VINT, in ``length`` octets or the fewest that hold it; None = unknown."""
    if length is None:
        length = 1 if size is None else next(
            n for n in range(1, MAX_SIZE_LENGTH + 1) if size < (1 << (7 * n)) - 1)
    if not 1 <= length <= MAX_SIZE_LENGTH:
        raise ValueError(f"a size VINT is 1 to 8 octets, not {length}")
    all_ones = (1 << (7 * length)) - 1
    value = all_ones if size is None else size
    if size is not None and not 0 <= size < all_ones:
        raise ValueError(f"size {size} does not fit in {length} octets")
    return ((1 << (7 * length)) | value).to_bytes(length, "big")


def encode_element(element_id: int, data: bytes, size_length: int | None = None) -> bytes:
    """A whole element: ID, data size and data."""
    return encode_id(element_id) + encode_size(len(data), size_length) + data


def encode_uint(element_id: int, value: int, size_length: int | None = None) -> bytes:
    octets = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return encode_element(element_id, octets, size_length)
