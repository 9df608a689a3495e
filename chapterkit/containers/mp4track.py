"""The bytes of an MP4/MOV chapter list, as FFmpeg's mov muxer writes them.

:func:`chapter_boxes` builds the Nero ``chpl`` atom, the QuickTime chapter text
``trak`` and its samples, byte for byte what ``ffmpeg -map_chapters ... -movie_timescale
1000`` (the remux path, chapterkit/remux.py) writes with FFmpeg 5.1 and 9.0.2; the
in-place editor (:mod:`chapterkit.containers.mp4edit`) splices them into a copy of the
file's ``moov``. Measured on this machine by dumping both builds' output box by box
(tests/containers/test_mp4track.py compares against a fresh FFmpeg file):

- ``chpl`` (movenc.c ``mov_write_chpl_tag``): version 1, 4 reserved bytes, a u8 count
  (at most 255), then per chapter a u64 start in 100 ns units and a u8-length title.
- the track: ``tkhd`` flags 2 (in movie, not enabled), no volume, identity matrix; an
  ``elst`` of one edit from media time 0; ``mdhd`` timescale 1000 (the remux path's
  ``-movie_timescale 1000``), language 0; ``hdlr`` ``text`` named "SubtitleHandler"
  (a C string in MP4/iPod mode; a Pascal string with component type ``mhlr`` plus a
  ``minf/hdlr`` "DataHandler" in MOV mode); ``gmhd`` with ``gmin`` and ``text``;
  ``dref`` of one self-contained ``url``; a ``text`` sample entry with ``ftab``, and a
  ``btrt`` in MP4 mode only (not the iPod mode of .m4a/.m4b/.m4v, nor MOV).
- one sample per chapter: u16 length, UTF-8 title, then the 12-byte ``encd`` atom
  (encoding 0x100, UTF-8) FFmpeg appends; all samples in one chunk, so ``stsc`` has one
  run; ``stsz`` has a single size when all samples are equal (``mov_write_stsz_tag``).
- sample durations are start deltas; the last one runs to the chapter's end (the mov
  muxer keeps only the last packet's own duration, research containers.md 2.1).

Times in the track header and edit list are in the movie timescale of the file being
edited (``mvhd``): rewriting that timescale would change every other track's headers.
The remux path forces 1000; a file FFmpeg 9 wrote without chapters may have another.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from chapterkit.containers.mp4boxes import pack_box
from chapterkit.model import ChapterList, cut_utf8

#: The remux path's ``-movie_timescale 1000``: chapter times in ms, up to 24.8 days per chapter.
TRACK_TIMESCALE = 1000
#: chpl holds a u8 count and u8 title lengths (movenc.c mov_write_chpl_tag).
CHPL_MAX = 255
#: The ``encd`` atom FFmpeg adds after each chapter title: encoding 0x100 (UTF-8).
ENCD = bytes.fromhex("0000000c656e636400000100")
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
#: ``gmhd``: a ``gmin`` (graphics mode copy, opcolor 0x8000 x3, balance 0) and the QuickTime
#: ``text`` media information atom with its identity matrix, as FFmpeg writes them.
_GMHD = pack_box("gmhd", bytes.fromhex(
    "00000018676d696e000000000040800080008000000000000000002c74657874000100000000000000000000"
    "000000000001000000000000000000000000000040000000"))
_DINF = pack_box("dinf", pack_box("dref", bytes.fromhex("00000000000000010000000c75726c2000000001")))
#: The text sample description body after its 8-byte reserved/data-reference-index head:
#: display flags, justification, colours, default text box, font, and an ``ftab``.
_TEXT_ENTRY_BODY = bytes.fromhex(
    "0000000100000000000000000000000000000000000000010000000000000000000d667461620001000100")


@dataclass(frozen=True, slots=True)
class Samples:
    """The chapter track's samples: their bytes back to back, and each one's size and duration."""

    data: bytes
    sizes: tuple[int, ...]
    durations: tuple[int, ...]

    @property
    def duration(self) -> int:
        return sum(self.durations)


def ticks(ns: int, timescale: int) -> int:
    """``ns`` in ``timescale`` ticks, halves away from zero (FFmpeg's ``av_rescale_q``)."""
    return (ns * timescale + 500_000_000) // 1_000_000_000


def chpl(chapters: ChapterList) -> bytes:
    """The Nero ``chpl`` atom: the first 255 chapters, titles cut on a UTF-8 boundary."""
    body = bytearray(b"\x01\x00\x00\x00" + bytes(4))
    shown = list(chapters)[:CHPL_MAX]
    body.append(len(shown))
    for chapter in shown:
        title = cut_utf8(chapter.title, CHPL_MAX).encode("utf-8")
        body += struct.pack(">QB", (chapter.start_ns + 50) // 100, len(title)) + title
    return pack_box("chpl", bytes(body))


def samples(chapters: ChapterList, end_ns: int) -> Samples:
    """One text sample per chapter; the last runs to its end, else to ``end_ns``."""
    items = list(chapters)
    starts = [ticks(chapter.start_ns, TRACK_TIMESCALE) for chapter in items]
    last = items[-1].end_ns if items[-1].end_ns is not None else end_ns
    ends = starts[1:] + [max(ticks(last, TRACK_TIMESCALE), starts[-1])]
    data = bytearray()
    sizes = []
    for chapter in items:
        title = chapter.title.encode("utf-8")[:0xFFFF]
        sample = struct.pack(">H", len(title)) + title + ENCD
        data += sample
        sizes.append(len(sample))
    return Samples(bytes(data), tuple(sizes), tuple(end - start for start, end in zip(starts, ends)))


def chapter_trak(track_id: int, movie_timescale: int, table: Samples, chunk_offset: int, *,
                 mode: str, times: tuple[int, int] = (0, 0)) -> bytes:
    """The chapter ``trak``; ``mode`` is the FFmpeg muxer family: ``mp4``, ``ipod`` or ``mov``.

    ``times`` are the creation and modification times of the movie, which FFmpeg writes
    into every track header alike. (Its remux writes 0 there: the ffmpeg CLI does not
    carry ``creation_time`` over. An in-place edit keeps the file's own times in every
    other track, so the chapter track gets the movie's.) ``chunk_offset`` is where the samples start in the file;
    past 4 GiB the chunk table is a ``co64`` (movenc.c ``co64_required``).
    """
    # movenc.c mov_write_tkhd_tag / mov_write_edts_tag rescale with AV_ROUND_UP.
    movie_duration = -(-table.duration * movie_timescale // TRACK_TIMESCALE)
    return pack_box("trak", _tkhd(track_id, movie_duration, times) + _edts(movie_duration)
                    + _mdia(table, chunk_offset, mode, times))


def _tkhd(track_id: int, duration: int, times: tuple[int, int]) -> bytes:
    # 14496-12 8.3.2; version 1 once the duration needs 64 bits (movenc.c mov_write_tkhd_tag).
    if duration < 0x7FFFFFFF and max(times) <= 0xFFFFFFFF:
        head = struct.pack(">I3I", 0x00000002, times[0], times[1], track_id) + struct.pack(">II", 0, duration)
    else:
        head = struct.pack(">I2QI", 0x01000002, times[0], times[1], track_id) + struct.pack(">IQ", 0, duration)
    # reserved(64) layer(16) alternate_group(16) volume(16) reserved(16) matrix width height
    return pack_box("tkhd", head + bytes(8) + struct.pack(">hhhH", 0, 0, 0, 0) + _MATRIX + bytes(8))


def _edts(duration: int) -> bytes:
    if duration < 0x7FFFFFFF:
        elst = struct.pack(">IIIiI", 0, 1, duration, 0, 0x10000)
    else:
        elst = struct.pack(">IIQqI", 0x01000000, 1, duration, 0, 0x10000)
    return pack_box("edts", pack_box("elst", elst))


def _mdia(table: Samples, chunk_offset: int, mode: str, times: tuple[int, int]) -> bytes:
    if table.duration < 0x7FFFFFFF and max(times) <= 0xFFFFFFFF:
        mdhd = struct.pack(">IIIII", 0, times[0], times[1], TRACK_TIMESCALE, table.duration)
    else:
        mdhd = struct.pack(">IQQIQ", 0x01000000, times[0], times[1], TRACK_TIMESCALE, table.duration)
    mdhd += bytes(4)  # language 0, quality/pre_defined 0
    if mode == "mov":
        hdlr = pack_box("hdlr", bytes(4) + b"mhlrtext" + bytes(12) + b"\x0fSubtitleHandler")
        data_handler = pack_box("hdlr", bytes(4) + b"dhlrurl " + bytes(12) + b"\x0bDataHandler")
    else:
        hdlr = pack_box("hdlr", bytes(8) + b"text" + bytes(12) + b"SubtitleHandler\x00")
        data_handler = b""
    minf = pack_box("minf", _GMHD + data_handler + _DINF + _stbl(table, chunk_offset, mode))
    return pack_box("mdia", pack_box("mdhd", mdhd) + hdlr + minf)


def _stbl(table: Samples, chunk_offset: int, mode: str) -> bytes:
    entry = bytes(6) + struct.pack(">H", 1) + _TEXT_ENTRY_BODY
    if mode == "mp4":
        # movenc.c mov_write_btrt_tag: average = max = bytes * 8 * timescale / duration.
        rate = len(table.data) * 8 * TRACK_TIMESCALE // table.duration if table.duration else 0
        if rate:
            entry += pack_box("btrt", struct.pack(">III", 0, rate, rate))
    stsd = pack_box("stsd", struct.pack(">II", 0, 1) + pack_box("text", entry))
    stts = pack_box("stts", _runs(table.durations))
    stsc = pack_box("stsc", struct.pack(">IIIII", 0, 1, 1, len(table.sizes), 1))
    if len(set(table.sizes)) == 1:
        stsz = pack_box("stsz", struct.pack(">III", 0, table.sizes[0], len(table.sizes)))
    else:
        stsz = pack_box("stsz", struct.pack(f">III{len(table.sizes)}I", 0, 0, len(table.sizes), *table.sizes))
    if chunk_offset > 0xFFFFFFFF:
        stco = pack_box("co64", struct.pack(">IIQ", 0, 1, chunk_offset))
    else:
        stco = pack_box("stco", struct.pack(">III", 0, 1, chunk_offset))
    return pack_box("stbl", stsd + stts + stsc + stsz + stco)


def _runs(durations: Sequence[int]) -> bytes:
    runs: list[list[int]] = []
    for duration in durations:
        if runs and runs[-1][1] == duration:
            runs[-1][0] += 1
        else:
            runs.append([1, duration])
    return struct.pack(">II", 0, len(runs)) + b"".join(struct.pack(">II", *run) for run in runs)
