"""Is the file whole? Cheap end-of-file checks for the audio containers.

Chapters live in the head of an MP3, Ogg or FLAC file, so a file cut short by a
failed upload or a full disk still shows all its chapters, and every reader,
FFmpeg's included, reads them without a word. ``verify`` must not pass such a
file: these checks read only the last few kilobytes (or one header), so their
cost does not depend on the file's size. Each returns a one-line reason, or None
when the file looks complete. (MP4 and Matroska need no extra check: a cut file
fails their box and element size checks.)
"""

from __future__ import annotations

import os
import struct

#: An Ogg page is at most 27 + 255 + 255 * 255 bytes (RFC 3533, section 6).
OGG_MAX_PAGE = 65_307
#: ``header_type`` bit of the page that ends a logical bitstream (RFC 3533, section 6).
OGG_EOS = 0x04
#: Tail read for FLAC when STREAMINFO gives no maximum frame size.
FLAC_DEFAULT_TAIL = 1 << 20
#: An ID3v1 tag some taggers append to any file: "TAG" and 125 more bytes.
ID3V1_SIZE = 128


def _tail(handle, size: int) -> bytes:
    end = handle.seek(0, os.SEEK_END)
    handle.seek(max(0, end - size))
    return handle.read()


# -- Ogg ------------------------------------------------------------------------------------------


def _crc_table(poly: int, width: int) -> tuple[int, ...]:
    """The lookup table of an MSB-first (unreflected) CRC with initial value 0."""
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else crc << 1
        table.append(crc & mask)
    return tuple(table)


def _crc(data: bytes, table: tuple[int, ...], width: int) -> int:
    crc, mask, shift = 0, (1 << width) - 1, width - 8
    for byte in data:
        crc = ((crc << 8) & mask) ^ table[(crc >> shift) ^ byte]
    return crc


# CRC-32, polynomial 0x04C11DB7, unreflected, initial value 0 (RFC 3533, section 6).
_OGG_CRC = _crc_table(0x04C11DB7, 32)


def ogg_crc(data: bytes) -> int:
    return _crc(data, _OGG_CRC, 32)


def _ogg_page_at(data: bytes, offset: int) -> tuple[int, int] | None:
    """``(header_type, length)`` of a whole page with a good CRC at ``offset``, else None."""
    if data[offset + 4:offset + 5] != b"\x00" or len(data) < offset + 27:
        return None
    segments = data[offset + 26]
    lacing = data[offset + 27:offset + 27 + segments]
    length = 27 + segments + sum(lacing)
    if len(lacing) < segments or offset + length > len(data):
        return None
    page = data[offset:offset + length]
    stored = struct.unpack_from("<I", page, 22)[0]
    if ogg_crc(page[:22] + b"\x00\x00\x00\x00" + page[26:]) != stored:
        return None
    return data[offset + 5], length


def ogg_tail_problem(handle) -> str | None:
    """Why an Ogg file is not whole: it ends inside a page, or its last page has no EOS flag.

    Every logical stream ends with a page flagged end-of-stream (RFC 3533, section 6),
    and libogg and FFmpeg set it on the last page they write. A file cut anywhere
    before its end either stops inside a page or after a page without that flag.
    """
    data = _tail(handle, OGG_MAX_PAGE + ID3V1_SIZE + 1)
    if data[-ID3V1_SIZE:-ID3V1_SIZE + 3] == b"TAG":
        data = data[:-ID3V1_SIZE]  # an appended ID3v1 tag is not part of the stream
    offset = data.rfind(b"OggS")
    while offset >= 0:
        page = _ogg_page_at(data, offset)
        if page is not None:
            header_type, length = page
            rest = data[offset + length:]
            if rest and b"OggS".startswith(rest[:4]):  # the start of a page, cut short
                return f"the file ends inside an Ogg page ({len(rest)} bytes of it): truncated"
            if rest:
                return f"{len(rest)} bytes that are not an Ogg page after the last page (damaged?)"
            if not header_type & OGG_EOS:
                return "the last Ogg page does not end the stream (no end-of-stream flag): truncated"
            return None
        offset = data.rfind(b"OggS", 0, offset)
    return "no whole Ogg page at the end of the file: truncated"


# -- FLAC -----------------------------------------------------------------------------------------


def _crc8_table() -> tuple[int, ...]:
    # CRC-8 with polynomial x^8 + x^2 + x + 1 (0x07), initial value 0 (RFC 9639, section 9.1.8).
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) if crc & 0x80 else crc << 1
        table.append(crc & 0xFF)
    return tuple(table)


_CRC8 = _crc8_table()


def _flac_block_size(code: int, data: bytes, at: int) -> tuple[int, int] | None:
    """``(block size, bytes used after the number)`` for block size ``code`` (RFC 9639, 9.1.1)."""
    if code == 1:
        return 192, 0
    if 2 <= code <= 5:
        return 576 << (code - 2), 0
    if code == 6 and at < len(data):
        return data[at] + 1, 1
    if code == 7 and at + 1 < len(data):
        return struct.unpack_from(">H", data, at)[0] + 1, 2
    if code >= 8:
        return 256 << (code - 8), 0
    return None


def _flac_coded_number(data: bytes, at: int) -> tuple[int, int] | None:
    """The UTF-8-like coded frame or sample number at ``at`` and its length (RFC 9639, 9.1.5)."""
    if at >= len(data):
        return None
    first = data[at]
    if first < 0x80:
        return first, 1
    length = next((n for n in range(2, 8) if first >> (7 - n) == (0xFF >> (7 - n)) - 1), None)
    if length is None or at + length > len(data):
        return None
    value = first & (0x7F >> length)
    for byte in data[at + 1:at + length]:
        if byte >> 6 != 0b10:
            return None
        value = value << 6 | byte & 0x3F
    return value, length


def _flac_frame_end(data: bytes, at: int, nominal_block: int) -> int | None:
    """The sample just past the frame whose header starts at ``at``; None if it is no header."""
    if len(data) < at + 5 or data[at] != 0xFF or data[at + 1] & 0xFE != 0xF8:
        return None
    variable = data[at + 1] & 1
    block_code, rate_code = data[at + 2] >> 4, data[at + 2] & 0x0F
    channels, sample_size, reserved = data[at + 3] >> 4, data[at + 3] >> 1 & 7, data[at + 3] & 1
    if block_code == 0 or rate_code == 15 or channels > 10 or sample_size == 3 or reserved:
        return None
    number = _flac_coded_number(data, at + 4)
    if number is None:
        return None
    value, used = number
    pos = at + 4 + used
    block = _flac_block_size(block_code, data, pos)
    if block is None:
        return None
    pos += block[1] + {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if pos >= len(data):
        return None
    crc = 0
    for byte in data[at:pos]:
        crc = _CRC8[crc ^ byte]
    if crc != data[pos]:
        return None
    start = value if variable else value * nominal_block
    return start + block[0]


# CRC-16, polynomial x^16 + x^15 + x^2 + 1 (0x8005), initial value 0 (RFC 9639, section 9.3).
_CRC16 = _crc_table(0x8005, 16)


def flac_crc16(data: bytes) -> int:
    return _crc(data, _CRC16, 16)


def flac_tail_problem(handle, total_samples: int, max_block: int, max_frame: int) -> str | None:
    """Why a FLAC file is not whole: its last frame is missing or cut.

    STREAMINFO gives the stream's sample count; a frame header gives the first
    sample the frame holds (a frame number times the fixed block size, or the
    sample number itself) and how many it holds. A whole file ends with the frame
    that reaches the count, and that frame's CRC-16 (its last two bytes) matches.
    Returns None when STREAMINFO does not give the count (0).
    """
    if not total_samples or not max_block:
        return None
    data = _tail(handle, 2 * max_frame + ID3V1_SIZE + 64 if max_frame else FLAC_DEFAULT_TAIL)
    if data[-ID3V1_SIZE:-ID3V1_SIZE + 3] == b"TAG":
        data = data[:-ID3V1_SIZE]  # an appended ID3v1 tag is not part of the stream
    offset = data.rfind(b"\xff")
    while offset >= 0:
        if _flac_frame_end(data, offset, max_block) == total_samples:
            if len(data) - offset < 6 or flac_crc16(data[offset:-2]) != int.from_bytes(data[-2:], "big"):
                return "the last FLAC frame is cut short (its CRC-16 does not match): truncated"
            return None
        offset = data.rfind(b"\xff", 0, offset)
    return (f"no frame at the end of the file finishes the {total_samples} samples STREAMINFO "
            "announces: truncated")


# -- MP3 ------------------------------------------------------------------------------------------


def xing_stream_bytes(first_frame: bytes) -> int | None:
    """The byte count of a Xing/Info header in the first MPEG frame, when it has one.

    The field counts the whole MPEG stream from this frame on (LAME and FFmpeg's
    mp3 muxer write it exactly; measured equal to file size minus the ID3v2 tag).
    """
    for magic in (b"Xing", b"Info"):
        at = first_frame.find(magic, 4, 64)
        if at < 0 or at + 8 > len(first_frame):
            continue
        flags = struct.unpack_from(">I", first_frame, at + 4)[0]
        if not flags & 0x2:
            return None
        at += 8 + 4 * (flags & 0x1)
        if at + 4 > len(first_frame):
            return None
        count = struct.unpack_from(">I", first_frame, at)[0]
        return count or None
    return None


def mp3_tail_problem(handle, frame_offset: int) -> str | None:
    """Why an MP3 is not whole: it holds fewer bytes of audio than its Xing header counts."""
    handle.seek(frame_offset)
    expected = xing_stream_bytes(handle.read(192))
    if expected is None:
        return None
    held = handle.seek(0, os.SEEK_END) - frame_offset
    if held < expected:
        return f"file holds {held} bytes of audio, its Xing header counts {expected}: truncated"
    return None


__all__ = ["flac_crc16", "flac_tail_problem", "mp3_tail_problem", "ogg_crc", "ogg_tail_problem",
           "xing_stream_bytes"]
