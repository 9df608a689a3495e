"""Ogg header pages and FLAC metadata blocks, byte by byte: the codec under :mod:`.vorbis`.

:func:`chapterkit.containers.vorbis.copy_with_room` rebuilds the headers of an Ogg
Vorbis/Opus or FLAC file with padding sized for the chapters, so that mutagen's save
that follows rewrites them in place instead of moving the audio. That needs what
mutagen does not expose: the Vorbis comment's raw fields, FLAC metadata blocks read
and written as they are, and Ogg header pages walked, re-laced and written with the
old serial and sequence numbers (``OggPage.write`` computes the CRC). This module
holds that byte-level work and knows nothing of chapters: which comments the write
replaces comes in as ``replaced`` (a key predicate), the size of the new ones as
``entry_bytes``. The chapter read/write logic stays in :mod:`.vorbis`, as mutagen
keeps ``ogg.py`` apart from ``oggvorbis.py``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from io import BytesIO

from chapterkit.containers._mutagen import PAGE_BYTES
from chapterkit.errors import MediaError

#: Whether a comment key is one the write replaces (the chapter keys, for :mod:`.vorbis`).
Replaced = Callable[[str], object]

#: Room left over once the chapters are written: for the ``TITLE`` that ``embed`` may
#: write next and for comments mutagen re-encodes a little longer. It stays below the
#: 10 KiB that mutagen's ``PaddingInfo.get_default_padding`` keeps as it is (more than
#: 10 KiB + 1 % of the audio is cut back to 1 KiB + 0.1 %, which moves the audio).
SPARE_BYTES = 4096
#: The fixed part of what mutagen keeps: existing padding up to this much is room enough.
_KEPT_PADDING = 10 * 1024
#: FLAC metadata block types (RFC 9639, section 8.1).
_STREAMINFO, _PADDING, _VORBIS_COMMENT = 0, 1, 4
_LAST_BLOCK = 0x80
#: A metadata block's length is 24 bits (RFC 9639, section 8.1).
_MAX_BLOCK_BYTES = (1 << 24) - 1
#: An Ogg page lists at most 255 lacing values (RFC 3533, section 6).
_MAX_SEGMENTS = 255
#: The largest Ogg page: header, 255 lacing values, 255 * 255 bytes of data.
_MAX_PAGE_BYTES = 27 + 255 + 255 * 255


def comment_fields(data: bytes) -> tuple[int, list[bytes], int] | None:
    """Vendor length, raw ``KEY=value`` comments and end offset of a Vorbis comment (no magic).

    The layout is the Vorbis I spec's section 5.2.1 (FLAC and Opus use it as is):
    little-endian 32-bit lengths before the vendor string and each comment. None
    when the lengths run past ``data``.
    """
    try:
        (vendor_length,) = struct.unpack_from("<I", data, 0)
        (count,) = struct.unpack_from("<I", data, 4 + vendor_length)
        offset = 8 + vendor_length
        comments = []
        for _ in range(count):
            (length,) = struct.unpack_from("<I", data, offset)
            offset += 4
            if offset + length > len(data):
                return None
            comments.append(data[offset:offset + length])
            offset += length
    except struct.error:
        return None
    return vendor_length, comments, offset


def comment_size_after(vendor_length: int, comments: list[bytes], entry_bytes: int, replaced: Replaced) -> int:
    """The size a comment gets with the same vendor, the comments whose key ``replaced`` picks
    dropped and ``entry_bytes`` of new ones added (what :func:`~chapterkit.containers.vorbis.write_vorbis`
    writes)."""
    kept = sum(4 + len(comment) for comment in comments
               if not replaced(comment.split(b"=", 1)[0].decode("ascii", "replace")))
    return 4 + vendor_length + 4 + kept + entry_bytes


def flac_head(src, name: str, entry_bytes: int, replaced: Replaced) -> tuple[bytes, int] | None:
    """FLAC: the metadata blocks with one last ``PADDING`` block sized for the chapters.

    mutagen's ``FLAC.save`` writes every block but ``PADDING``, then one ``PADDING``
    block, last, holding what is left of the old metadata region when that is
    between 0 and its default maximum; then the audio stays where it is.
    """
    data = src.read(10)
    start = 0
    if data[:3] == b"ID3":  # an ID3v2 tag before "fLaC": mutagen's FLAC skips it too
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7
                      | (data[9] & 0x7F))
    src.seek(start)
    if src.read(4) != b"fLaC":
        raise MediaError("not an Ogg or FLAC file", path=name, verb="copying")
    blocks = []
    while True:
        header = src.read(4)
        if len(header) < 4:
            raise MediaError("FLAC metadata cut short", path=name, verb="copying")
        kind, size = header[0] & 0x7F, int.from_bytes(header[1:], "big")
        body = src.read(size)
        if len(body) < size:
            raise MediaError("FLAC metadata cut short", path=name, verb="copying")
        if kind != _PADDING:
            blocks.append((kind, body))
        if header[0] & _LAST_BLOCK:
            break
    audio_offset = src.tell()
    if not blocks or blocks[0][0] != _STREAMINFO:
        raise MediaError("no FLAC STREAMINFO block", path=name, verb="copying")
    # A frame starts with the 14-bit sync code 0b11111111111110, a reserved 0 bit and
    # the blocking strategy (RFC 9639, section 9.1). Anything else means a block size
    # was wrong (mutagen re-parses VORBIS_COMMENT and PICTURE blocks for such files):
    # leave those to mutagen.
    if src.read(2) not in (b"\xff\xf8", b"\xff\xf9"):
        return None
    comments = [body for kind, body in blocks if kind == _VORBIS_COMMENT]
    if comments:
        fields = comment_fields(comments[0])
        if fields is None:
            return None
        new_comment = 4 + comment_size_after(fields[0], fields[1], entry_bytes, replaced)
        old_comment = 4 + len(comments[0])
    else:  # write_vorbis adds a block with mutagen's vendor string ("Mutagen 1.48.1")
        import mutagen

        new_comment = 4 + comment_size_after(len(f"Mutagen {mutagen.version_string}"), [], entry_bytes,
                                                replaced)
        old_comment = 0
    blocks_bytes = sum(4 + len(body) for _, body in blocks)
    left = (audio_offset - start - 4) - (blocks_bytes - old_comment + new_comment + 4)
    if SPARE_BYTES <= left <= _KEPT_PADDING:
        return None  # room enough already
    padding = max(new_comment - old_comment + SPARE_BYTES, 0)
    # Grow by whole pages, so the copy of the frames stays as fast as cp (copy_rest).
    padding += (audio_offset - (start + 4 + blocks_bytes + 4 + padding)) % PAGE_BYTES
    padding = min(padding, _MAX_BLOCK_BYTES)
    src.seek(0)
    parts = [src.read(start), b"fLaC"]
    for kind, body in blocks:
        parts += [bytes([kind]), len(body).to_bytes(3, "big"), body]
    parts += [bytes([_LAST_BLOCK | _PADDING]), padding.to_bytes(3, "big"), bytes(padding)]
    return b"".join(parts), audio_offset


def ogg_head(src, name: str, entry_bytes: int, replaced: Replaced) -> tuple[bytes, int] | None:
    """Ogg Vorbis or Opus: the header pages rebuilt around a padded comment packet.

    mutagen's ``_inject`` (``oggvorbis.py``, ``oggopus.py``) keeps the zeros after
    the comment data as padding and, when the packet sizes do not change, lays the
    pages out exactly as they were (``OggPage._from_packets_try_preserve``): a save
    in place.
    """
    first = next_page(src, name)
    if not first.first or not first.complete or len(first.packets) != 1:
        return None
    ident = first.packets[0]
    if ident.startswith(b"\x01vorbis"):
        magic, header_packets, framing = b"\x03vorbis", 3, True
    elif ident.startswith(b"OpusHead"):
        magic, header_packets, framing = b"OpusTags", 2, False
    else:  # Speex, Theora, FLAC in Ogg, or another stream first: mutagen rewrites those
        return None
    pages, packets, ended = [], [], 1
    while ended < header_packets:
        page = next_page(src, name)
        if page.serial != first.serial or page.first:
            return None  # multiplexed: another stream's pages between the headers
        if page.continued and (not pages or pages[-1].complete):
            return None  # the comment starts a page (Vorbis I A.2, RFC 7845 3)
        for index, piece in enumerate(page.packets):
            if index == 0 and page.continued:
                packets[-1] += piece
            else:
                packets.append(piece)
            if index < len(page.packets) - 1 or page.complete:
                ended += 1
        pages.append(page)
    audio_offset = src.tell()
    # The last header ends its page and audio starts on a fresh one (Vorbis I A.2, RFC 7845 3).
    if ended != header_packets or len(packets) != header_packets - 1 or not pages[-1].complete:
        return None
    comment = packets[0]
    fields = comment_fields(comment[len(magic):]) if comment.startswith(magic) else None
    if fields is None:
        return None
    data_end = len(magic) + fields[2] + framing
    if data_end > len(comment) or (framing and not comment[data_end - 1] & 1):
        return None  # no framing bit: mutagen refuses the file, and says so
    if not framing and data_end < len(comment) and comment[data_end] & 1:
        return None  # RFC 7845 5.2: data to preserve after the comments; mutagen adds no padding
    needed = len(magic) + comment_size_after(*fields[:2], entry_bytes, replaced) + framing
    if needed + SPARE_BYTES <= len(comment) <= needed + _KEPT_PADDING:
        return None  # room enough already
    if not last_page_is_ours(src, first.serial):
        return None
    size = max(data_end, needed + SPARE_BYTES)
    # Grow the headers by whole pages, so the copy after them stays as fast as cp
    # (copy_rest): the new header length is this constant plus n + n // 255 + 1 for
    # a comment of n bytes (its data and lacing values).
    fixed = (pages[0].offset + 27 * len(pages) - audio_offset
             + sum(len(packet) // 255 + 1 + len(packet) for packet in packets[1:]))
    aligned = next((n for n in range(size, size + 2 * PAGE_BYTES)
                    if (fixed + n + n // 255 + 1) % PAGE_BYTES == 0), size)
    for n in (aligned, size):
        new_pages = paginate([comment[:data_end] + bytes(n - data_end), *packets[1:]], pages)
        if new_pages is not None:
            src.seek(0)
            head = src.read(pages[0].offset) + b"".join(page.write() for page in new_pages)
            return head, audio_offset
    return None


def next_page(src, name: str):
    """The ``OggPage`` at ``src``'s position; a file that ends first is a MediaError."""
    from mutagen.ogg import OggPage

    try:
        return OggPage(src)
    except EOFError:
        raise MediaError("Ogg headers cut short", path=name, verb="copying") from None


def paginate(packets: list[bytes], old_pages: list) -> list | None:
    """``packets`` on as many pages as ``old_pages``, packed from the front, or None.

    Each page takes up to 255 lacing values (RFC 3533, section 6): a packet of ``n``
    bytes takes ``n // 255`` values of 255 and one of ``n % 255``, and may continue
    on the next page. A page on which no packet ends has granule position -1
    (RFC 3533, section 6); the others keep the headers' granule position (0).
    Serial, sequence numbers and flags come from the old pages; ``OggPage.write``
    computes the CRC.
    """
    from mutagen.ogg import OggPage

    segments = []  # (packet index, start byte, length, last segment of its packet)
    for index, packet in enumerate(packets):
        for start in range(0, len(packet) // 255 * 255 + 1, 255):
            segments.append((index, start, min(255, len(packet) - start), start + 255 > len(packet)))
    count = len(old_pages)
    if not count <= len(segments) <= _MAX_SEGMENTS * count:
        return None
    pages, taken = [], 0
    for number, old in enumerate(old_pages):
        share = min(_MAX_SEGMENTS, len(segments) - taken - (count - number - 1))
        chunk, taken = segments[taken:taken + share], taken + share
        page = OggPage()
        page.serial, page.sequence, page.last = old.serial, old.sequence, old.last
        page.continued = chunk[0][1] > 0
        page.complete = chunk[-1][3]
        page.position = old_pages[-1].position if any(seg[3] for seg in chunk) else -1
        for index in sorted({seg[0] for seg in chunk}):
            starts = [seg[1] for seg in chunk if seg[0] == index]
            ends = [seg[1] + seg[2] for seg in chunk if seg[0] == index]
            page.packets.append(packets[index][min(starts):max(ends)])
        pages.append(page)
    return pages


def last_page_is_ours(src, serial: int) -> bool:
    """Whether the file's last page belongs to ``serial``: no chained stream after it.

    A page is at most 65 307 bytes, so the last one starts in the file's last 64 KiB;
    it is the ``OggS`` there that parses as a page ending exactly at the end.
    """
    from mutagen.ogg import OggPage, error

    end = src.seek(0, os.SEEK_END)
    src.seek(max(0, end - _MAX_PAGE_BYTES))
    tail = src.read()
    at = len(tail)
    while (at := tail.rfind(b"OggS", 0, at)) >= 0:
        try:
            page = OggPage(BytesIO(tail[at:]))
        except (error, EOFError):
            continue
        if page.write() == tail[at:]:  # the whole rest, CRC included: a real last page
            return page.serial == serial
    return False


__all__ = ["SPARE_BYTES", "comment_fields", "comment_size_after", "flac_head", "last_page_is_ours",
           "next_page", "ogg_head", "paginate"]
