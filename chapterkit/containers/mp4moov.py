"""A file's ``moov`` with its chapters (and optionally its title) replaced, the rest kept byte for byte.

:class:`MoovEdit` reads one ``moov`` and produces the new one for a given chunk offset
of the chapter samples (the offset is only known once the editor has chosen where the
samples go). What changes, and why, is listed in :mod:`chapterkit.containers.mp4edit`;
this module only rebuilds boxes: a changed box gets a new header (a 32-bit size, or a
``largesize`` when it needs one), an unchanged box is copied with its own header.
"""

from __future__ import annotations

import bisect
import struct
import sys
from array import array
from dataclasses import dataclass

from chapterkit.containers import mp4track
from chapterkit.containers.mp4boxes import Box, BoxReader, pack_box
from chapterkit.model import ChapterList

#: ftyp major brands of FFmpeg's ``ipod`` muxer (.m4a, .m4b, .m4v); ``qt  `` is QuickTime (.mov).
IPOD_BRANDS = frozenset({"M4A ", "M4B ", "M4P ", "M4V ", "M4VH", "M4VP"})
#: Handlers of tracks whose samples are chapter titles, when some track names them in ``chap``.
TEXT_HANDLERS = ("text", "sbtl")


class TitleError(ValueError):
    """The file keeps its tags in a form this editor does not rewrite."""


@dataclass(frozen=True, slots=True)
class Track:
    box: Box
    track_id: int
    handler: str
    chap: tuple[int, ...]


def muxer_mode(reader: BoxReader, top: list[Box]) -> str:
    """FFmpeg's muxer family for the file, from the ``ftyp`` major brand: mp4, ipod, mov or 3gp."""
    ftyp = next((box for box in top if box.name == "ftyp"), None)
    if ftyp is None or ftyp.payload_size < 4:
        return "mov"  # QuickTime files may have no ftyp at all
    brand = reader.read_at(ftyp.payload_offset, 4, "box 'ftyp'").decode("latin-1")
    if brand.startswith("3g"):
        return "3gp"  # 3GPP/3GPP2: FFmpeg writes chpl only there (research containers.md 2.1)
    return "mov" if brand == "qt  " else "ipod" if brand in IPOD_BRANDS else "mp4"


class MoovEdit:
    """The new ``moov`` of ``moov`` with ``chapters`` (an empty list removes them)."""

    def __init__(self, reader: BoxReader, moov: Box, chapters: ChapterList, mode: str,
                 title: str | None = None) -> None:
        self.reader = reader
        self.mode = mode
        self.title = title
        self.children = list(reader.boxes(moov))
        mvhd = next((box for box in self.children if box.name == "mvhd"), None)
        if mvhd is None:
            raise reader.error(f"box 'moov' at offset {moov.offset} has no 'mvhd'")
        self.mvhd = mvhd
        self.tracks = {box: self._track(box) for box in self.children if box.name == "trak"}
        by_id = {track.track_id: track for track in self.tracks.values()}
        #: IDs of the chapter tracks to drop: text tracks some track names with tref/chap.
        self.old = {target for track in self.tracks.values() for target in track.chap
                    if target in by_id and by_id[target].handler in TEXT_HANDLERS}
        version, _, fields = reader.full_box(mvhd)
        self.times = (fields.u64(), fields.u64()) if version == 1 else (fields.u32(), fields.u32())
        self.timescale, duration = reader.movie_header(mvhd)
        next_id = int.from_bytes(reader.payload(mvhd)[-4:], "big")
        # Reuse the old chapter track's ID (references keep their number), else take the next free one.
        self.track_id = min(self.old) if self.old else max([next_id, *(t + 1 for t in by_id)])
        self.next_id = max(next_id, self.track_id + 1)
        end_ns = chapters.duration_ns if chapters.duration_ns is not None else duration * 10**9 // self.timescale
        self.table = mp4track.samples(chapters, end_ns) if len(chapters) else None
        self.chpl = mp4track.chpl(chapters) if len(chapters) else b""

    @property
    def sample_data(self) -> bytes:
        return self.table.data if self.table else b""

    def chunk_offsets(self, *, kept_only: bool) -> list[int]:
        """Sorted chunk offsets of every track of the old moov, or of those the new one keeps."""
        offsets: list[int] = []
        for box, track in self.tracks.items():
            if kept_only and track.track_id in self.old:
                continue
            stbl = self.reader.find(box, "mdia/minf/stbl")
            table = next((child for child in self.reader.boxes(stbl) if child.name in ("stco", "co64")),
                         None) if stbl else None
            if table is not None:
                payload = self.reader.payload(table)
                values = array("Q" if table.name == "co64" else "I")
                count = int.from_bytes(payload[4:8], "big")
                data = payload[8:8 + count * values.itemsize]
                values.frombytes(data[:len(data) // values.itemsize * values.itemsize])
                if sys.byteorder == "little":
                    values.byteswap()  # the table is big-endian
                offsets += values
        return sorted(offsets)

    def build(self, chunk_offset: int) -> bytes:
        """The new moov, with the chapter samples at ``chunk_offset`` in the file."""
        reader = self.reader
        trak = (mp4track.chapter_trak(self.track_id, self.timescale, self.table, chunk_offset,
                                      mode=self.mode, times=self.times) if self.table else b"")
        # movenc.c numbers the chapter track after the tracks of the streams; a remux maps every
        # track (a timecode track too) as a stream, so the chapter trak follows the last one.
        last_trak = max((i for i, box in enumerate(self.children) if box.name == "trak"), default=None)
        out = bytearray()
        for index, box in enumerate(self.children):
            if box.name == "mvhd":
                payload = reader.payload(box)
                out += _raw(reader, box)[:box.header_size] + payload[:-4] + struct.pack(">I", self.next_id)
            elif box.name == "trak":
                track = self.tracks[box]
                if track.track_id not in self.old:
                    out += self._trak(track, self.track_id if self.table is not None else None)
            elif box.name == "udta":
                out += self._udta(box)
            else:
                out += _raw(reader, box)
            if index == last_trak or (last_trak is None and box.name == "mvhd"):
                out += trak
        if not any(box.name == "udta" for box in self.children):
            udta = self._udta(None)
            out += udta if len(udta) > 8 else b""
        return pack_box("moov", bytes(out))

    def _track(self, trak: Box) -> Track:
        reader = self.reader
        tkhd, hdlr, tref = (reader.find(trak, path) for path in ("tkhd", "mdia/hdlr", "tref"))
        if tkhd is None:
            raise reader.error(f"track at offset {trak.offset} lacks tkhd")
        track_id, _ = reader.track_header(tkhd)
        chap = reader.track_references(tref).get("chap", ()) if tref else ()
        return Track(trak, track_id, reader.handler_type(hdlr) if hdlr else "", chap)

    def _trak(self, track: Track, chapter_id: int | None) -> bytes:
        """The track with ``tref/chap`` naming ``chapter_id`` (None: no chap); other refs kept."""
        reader = self.reader
        chap = pack_box("chap", struct.pack(">I", chapter_id)) if chapter_id is not None else b""
        out = bytearray()
        placed = False
        for box in reader.boxes(track.box):
            if box.name == "tref":
                children = list(reader.boxes(box))
                refs = b"".join(chap if child.name == "chap" else _raw(reader, child) for child in children)
                if not any(child.name == "chap" for child in children):
                    refs = chap + refs  # FFmpeg 9 writes chap before tmcd
                out += pack_box("tref", refs) if refs else b""
                placed = True
                continue
            if box.name == "mdia" and not placed and chap:
                out += pack_box("tref", chap)  # movenc.c mov_write_trak_tag: tref just before mdia
                placed = True
            out += _raw(reader, box)
        return pack_box("trak", bytes(out))

    def _udta(self, udta: Box | None) -> bytes:
        """``udta`` without its ``chpl``, with the new one last (where movenc.c writes it).

        With a title, also the title as the remux writes it (movenc.c ``mov_write_udta_tag``):
        MOV: ``udta/©nam`` first, a QuickTime string (u16 length, u16 language ``und``);
        MP4/iPod: ``udta/meta/ilst/©nam`` first in ``ilst``, a UTF-8 ``data`` atom. An empty
        title removes it, as ``-metadata title=`` does.
        """
        kept, tail = _children(self.reader.payload(udta)) if udta is not None else ([], b"")
        kept = [(kind, raw) for kind, raw in kept if kind != b"chpl"]
        if self.title is not None and self.mode == "mov":
            kept = [(kind, raw) for kind, raw in kept if kind != b"\xa9nam"]
            text = self.title.encode("utf-8")
            if text:
                kept.insert(0, (b"\xa9nam", pack_box("\xa9nam", struct.pack(">HH", len(text), _UND) + text)))
        elif self.title is not None:
            index = next((i for i, (kind, _) in enumerate(kept) if kind == b"meta"), None)
            meta = self._meta(kept[index][1] if index is not None else None)
            if index is not None:
                kept[index] = (b"meta", meta)
            else:
                kept.insert(0, (b"meta", meta))
        return pack_box("udta", b"".join(raw for _, raw in kept) + self.chpl + tail)

    def _meta(self, meta: bytes | None) -> bytes:
        """``meta`` (a full box: version, flags, then ``hdlr`` and ``ilst``) with the new ``©nam``."""
        if meta is None:
            meta = pack_box("meta", bytes(4) + _ILST_HDLR)
        children, tail = _children(meta[12:])
        if tail or meta[8:12] != bytes(4):
            raise TitleError("udta/meta is not an ISO meta box (version, flags, hdlr, ilst); "
                             "the remux path sets the title")
        if not any(kind == b"ilst" for kind, _ in children):
            children.append((b"ilst", pack_box("ilst", b"")))
        text = self.title.encode("utf-8")
        name = pack_box("\xa9nam", pack_box("data", struct.pack(">II", 1, 0) + text)) if text else b""
        out = b""
        for kind, raw in children:
            if kind == b"ilst":
                entries, rest = _children(raw[8:])
                raw = pack_box("ilst", name + b"".join(r for k, r in entries if k != b"\xa9nam") + rest)
            out += raw
        return pack_box("meta", bytes(4) + out)


#: ISO 639-2 "und" packed as QuickTime's 3 x 5-bit language code (movenc.c ff_mov_iso639_to_lang).
_UND = 0x55C4
#: The ``hdlr`` FFmpeg writes in ``udta/meta``: metadata handler ``mdir``, manufacturer ``appl``.
_ILST_HDLR = pack_box("hdlr", bytes(8) + b"mdirappl" + bytes(9))


def _children(payload: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """``(type, raw box)`` of each box in ``payload``, and any tail that is not a box.

    QTFF lets a user data list end with a 32-bit zero; anything else that is not a box
    is kept as it is, last.
    """
    children, position = [], 0
    while len(payload) - position >= 8:
        size, kind = struct.unpack(">I4s", payload[position:position + 8])
        if size < 8 or position + size > len(payload):
            break
        children.append((kind, payload[position:position + size]))
        position += size
    return children, payload[position:]


def overlaps(offsets: list[int], start: int, end: int) -> bool:
    """Whether any of the sorted ``offsets`` lies in ``[start, end)``."""
    index = bisect.bisect_left(offsets, start)
    return index < len(offsets) and offsets[index] < end


def _raw(reader: BoxReader, box: Box) -> bytes:
    return reader.read_at(box.offset, box.size, f"box '{box.name}'")
