"""Chapters written into an MP4/MOV/M4A/M4B/M4V file in place, as a crash-safe plan.

:func:`plan_chapters` reads the file's boxes and returns an :class:`EditPlan`: the
writes and ``fsync`` barriers (:mod:`chapterkit.inplace`) that replace its chapters.
The cost does not depend on the size of ``mdat``: only the ``moov`` is read and a new
one written. The new ``moov`` is the old one byte for byte, except:

- ``mvhd``'s next_track_ID, when the chapter track takes a new ID;
- the chapter ``trak`` (:mod:`chapterkit.containers.mp4track`, FFmpeg's layout), which
  replaces any existing one: a text track that some track names with ``tref/chap``.
  Track IDs: the new track **reuses the old chapter track's ID**, so references keep
  their number; a file without one gets ``mvhd`` next_track_ID (FFmpeg numbers tracks
  1..n the same way). The old track's samples become dead bytes in their ``mdat``;
- ``tref/chap`` of every track except chapter, timecode (``tmcd``) and hint tracks
  names the new track (FFmpeg 9 gives every stream's track one; other ``tref``
  entries such as ``tmcd`` are kept);
- ``udta/chpl`` replaced or added as the last child of ``udta``; every other ``udta``
  atom (``meta``/``ilst`` tags, ``©swr``...) is kept byte-identical.

Nothing else moves, so no chunk offset of any other track changes, whether ``moov``
was at the end or at the front (``+faststart``: the new ``moov`` goes to the end,
which loses fast start, and the plan says so in a warning). Fragmented files
(``moof``/``mvex``) are refused with :class:`FragmentedMP4Error` (the caller remuxes):
their samples are described outside ``moov``. ``title`` is refused as well
(:class:`InPlaceRefused`): the title lives in ``ilst`` (MP4) or ``udta/©nam`` (MOV) in
two different encodings the remux path gets from FFmpeg; an editor that writes it
must match that, so for now a title takes the remux path.

Crash safety (the argument; ``tests/containers/test_mp4edit.py`` replays every crash
image with ffprobe and the project's readers). Readers use the **first** top-level
``moov``: FFmpeg's ``mov_read_moov`` skips a later one ("Found duplicated MOOV Atom.
Skipped it"), mutagen's ``Atoms`` and ``BoxReader.find`` return the first match. The
plan, with ``E`` the old end of the file:

1. ``Truncate(E + T)`` then sync: the file grows by zeros. A zero header is a box of
   size 0 ("to the end of the file", 14496-12 4.2) that every reader skips.
2. Write the chapter ``mdat`` and the new moov **typed ``free``** at ``E``, sync. Any
   torn prefix leaves a complete ``mdat`` box or zeros before it, and a ``free`` box:
   nothing a reader parses. (Stray ``moov`` boxes after the first, left by an edit that
   crashed between steps 3 and 4, are turned into ``free`` in the same step.)
3. Turn the new box's type into ``moov`` (4 bytes in one sector; the box is placed so
   they are), sync. Two moovs now; the old one comes first, so readers still see the
   old chapters.
4. **The switch**: turn the old moov's type into ``free``, sync. 4 bytes, one sector,
   atomic by the crash model: before it readers see the old moov, after it the new one
   is the only moov. If those 4 bytes would cross a sector boundary, the switch instead
   grows the box just before the old moov (``free``/``skip``/``mdat``) over it: one size
   field in one sector.

At every instant the first ``moov`` is complete and durable, and the samples it points
at are durable, so every packet of every stream reads the same. Each edit leaves the old
``moov`` and the chapter ``mdat`` of the previous edit as dead bytes (old moov + ~20 bytes
per chapter; bench/RESULTS.md has the 20-edit figures).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from chapterkit.containers import mp4track
from chapterkit.containers.mp4boxes import Box, BoxReader, pack_box
from chapterkit.errors import UnsupportedContainerError
from chapterkit.inplace import SECTOR, Op, Plan, Sync, Truncate, Write, check_plan
from chapterkit.model import ChapterList

#: ftyp major brands of FFmpeg's ``ipod`` muxer (.m4a, .m4b, .m4v) and of QuickTime (.mov).
_IPOD_BRANDS = frozenset({"M4A ", "M4B ", "M4P ", "M4V ", "M4VH", "M4VP"})
#: Tracks that get no ``tref/chap``: chapter text, timecode and hint tracks (movenc.c gives
#: the reference to the tracks of streams only).
_NO_CHAP = frozenset({"tmcd", "hint"})
#: Top-level boxes a switch may grow over the old moov: nobody reads their payload.
_SWALLOWERS = frozenset({"free", "skip", "mdat", "wide"})


class InPlaceRefused(UnsupportedContainerError):
    """This file or request cannot be edited in place; the caller takes the remux path."""


class FragmentedMP4Error(InPlaceRefused):
    """A fragmented MP4 (``moof``/``mvex``): its samples live outside ``moov``."""


@dataclass(frozen=True, slots=True)
class EditPlan:
    """What :func:`plan_chapters` returns: the plan, warnings, and the sizes it leads to."""

    plan: Plan
    warnings: tuple[str, ...]
    old_size: int
    new_size: int
    #: Bytes no box refers to any more after the plan (the old moov and chapter data).
    dead_bytes: int


@dataclass(frozen=True, slots=True)
class _Track:
    box: Box
    track_id: int
    handler: str
    chap: tuple[int, ...]


def plan_chapters(fd: int, chapters: ChapterList, *, title: str | None = None) -> EditPlan:
    """The plan that gives the MP4-family file open on ``fd`` the chapters ``chapters``.

    ``chapters`` should already be fitted by :func:`chapterkit.embed.plan` (ends, titles
    cut to 255 bytes, no empty titles); an empty list removes the chapters. Reads with
    ``pread``-style seeks on a duplicate of ``fd``; writes nothing.
    """
    name = f"file descriptor {fd}"
    if title is not None:
        raise InPlaceRefused("setting the title is left to the remux path", path=name, verb="planning an edit of")
    with os.fdopen(os.dup(fd), "rb") as handle:
        reader = BoxReader(handle, name)
        return _Planner(reader, name).plan(chapters)


class _Planner:
    def __init__(self, reader: BoxReader, name: str) -> None:
        self.reader = reader
        self.name = name

    def refuse(self, reason: str, kind: type[InPlaceRefused] = InPlaceRefused) -> InPlaceRefused:
        return kind(reason, path=self.name, verb="planning an in-place edit of")

    def plan(self, chapters: ChapterList) -> EditPlan:
        reader = self.reader
        top = list(reader.boxes())
        moovs = [box for box in top if box.name == "moov"]
        if not moovs:
            raise reader.error("no 'moov' box (an incomplete or non-MP4 file)")
        moov = moovs[0]
        if any(box.name == "moof" for box in top) or reader.find(moov, "mvex") is not None:
            raise self.refuse("fragmented MP4 (moof/mvex): its samples are described outside moov, "
                              "so only a remux can add chapters", FragmentedMP4Error)
        end = reader.file_size
        ops: list[Op] = []
        last = top[-1]
        if int.from_bytes(reader.read_at(last.offset, 4, "box header"), "big") == 0:
            # A last box of size 0 runs "to the end of the file" and would swallow what we append.
            if last.size > 0xFFFFFFFF or last.name != "mdat":
                raise self.refuse(f"the last box '{last.name}' has size 0 (to the end of the file)")
            ops += [Write(last.offset, struct.pack(">I", last.size)), Sync()]
        new_moov, removed_samples = self._new_moov(moov, chapters, end)
        prefix, pad = self._prefix(new_moov.table.data if new_moov.table else b"", end)
        body = self._moov_bytes(new_moov, end + 8, mode=self._mode(top))
        moov_at = end + len(prefix)
        staged = body[:4] + b"free" + body[8:]
        appended = prefix + staged
        ops += [Truncate(end + len(appended)), Sync()]
        ops += [Write(box.offset + 4, b"free") for box in moovs[1:]]
        ops += [Write(end, appended), Sync(), Write(moov_at + 4, b"moov"), Sync()]
        ops += [self._switch(top, moov), Sync()]
        plan = tuple(ops)
        check_plan(plan)
        warnings = []
        if any(box.name == "mdat" and box.offset > moov.offset for box in top):
            warnings.append("moov moved from the front to the end of the file: it no longer starts playing "
                            "before it is fully downloaded (+faststart lost); remux to keep fast start")
        return EditPlan(plan, tuple(warnings), end, end + len(appended),
                        dead_bytes=moov.size + removed_samples + pad)

    @staticmethod
    def _prefix(data: bytes, end: int) -> tuple[bytes, int]:
        """The chapter ``mdat`` (or nothing), padded so the moov after it has its type in one sector."""
        pad = 0
        while True:
            if data:
                prefix = pack_box("mdat", data + bytes(pad))
            elif pad == 0 or pad >= 8:
                prefix = pack_box("free", bytes(pad - 8)) if pad else b""
            else:
                pad += 1
                continue
            if (end + len(prefix) + 4) % SECTOR <= SECTOR - 4:
                return prefix, pad
            pad += 1

    # -- the new moov --------------------------------------------------------------------

    def _mode(self, top: list[Box]) -> str:
        ftyp = next((box for box in top if box.name == "ftyp"), None)
        if ftyp is None or ftyp.payload_size < 4:
            return "mov"
        brand = self.reader.read_at(ftyp.payload_offset, 4, "box 'ftyp'").decode("latin-1")
        return "mov" if brand == "qt  " else "ipod" if brand in _IPOD_BRANDS else "mp4"

    def _new_moov(self, moov: Box, chapters: ChapterList, end: int) -> _NewMoov:
        reader = self.reader
        children = list(reader.boxes(moov))
        mvhd = next((box for box in children if box.name == "mvhd"), None)
        if mvhd is None:
            raise reader.error(f"box 'moov' at offset {moov.offset} has no 'mvhd'")
        tracks = [self._track(box) for box in children if box.name == "trak"]
        by_id = {track.track_id: track for track in tracks}
        old = {target for track in tracks for target in track.chap
               if target in by_id and by_id[target].handler in ("text", "sbtl")}
        ids = {track.track_id for track in tracks}
        version, _, fields = reader.full_box(mvhd)
        times = (fields.u64(), fields.u64()) if version == 1 else (fields.u32(), fields.u32())
        timescale, duration = reader.movie_header(mvhd)
        next_id = int.from_bytes(reader.payload(mvhd)[-4:], "big")
        track_id = min(old) if old else max([next_id, *(i + 1 for i in ids)])
        end_ns = chapters.duration_ns if chapters.duration_ns is not None else duration * 10**9 // timescale
        table = mp4track.samples(chapters, end_ns) if len(chapters) else None
        removed = sum(sum(reader.sample_table(stbl).sizes) for target in old
                      if (stbl := reader.find(by_id[target].box, "mdia/minf/stbl")) is not None)
        return _NewMoov(moov, children, mvhd, tracks, old, track_id, max(next_id, track_id + 1), times,
                        timescale, table, mp4track.chpl(chapters) if len(chapters) else b""), removed

    def _track(self, trak: Box) -> _Track:
        reader = self.reader
        tkhd, hdlr, tref = (reader.find(trak, path) for path in ("tkhd", "mdia/hdlr", "tref"))
        if tkhd is None:
            raise reader.error(f"track at offset {trak.offset} lacks tkhd")
        track_id, _ = reader.track_header(tkhd)
        chap = reader.track_references(tref).get("chap", ()) if tref else ()
        return _Track(trak, track_id, reader.handler_type(hdlr) if hdlr else "", chap)

    def _moov_bytes(self, new: _NewMoov, chunk_offset: int, *, mode: str) -> bytes:
        reader = self.reader
        trak = (mp4track.chapter_trak(new.track_id, new.timescale, new.table, chunk_offset, mode=mode,
                                      times=new.times) if new.table else b"")
        last_trak = max((i for i, box in enumerate(new.children) if box.name == "trak"
                         and self._track(box).handler not in _NO_CHAP), default=None)
        out = bytearray()
        has_udta = any(box.name == "udta" for box in new.children)
        for index, box in enumerate(new.children):
            if box.name == "mvhd":
                payload = reader.payload(box)
                out += _header(box, reader) + payload[:-4] + struct.pack(">I", new.next_id)
            elif box.name == "trak":
                track = next(t for t in new.tracks if t.box == box)
                if track.track_id not in new.old:
                    out += self._trak(track, new.track_id if new.table and track.handler not in _NO_CHAP
                                      else None)
            elif box.name == "udta":
                out += self._udta(box, new.chpl)
            else:
                out += reader.read_at(box.offset, box.size, f"box '{box.name}'")
            if index == last_trak or (last_trak is None and box.name == "mvhd"):
                out += trak
        if not has_udta and new.chpl:
            out += pack_box("udta", new.chpl)
        return pack_box("moov", bytes(out))

    def _trak(self, track: _Track, chapter_id: int | None) -> bytes:
        reader = self.reader
        children = list(reader.boxes(track.box))
        out = bytearray()
        chap = pack_box("chap", struct.pack(">I", chapter_id)) if chapter_id is not None else b""
        placed = False
        for box in children:
            if box.name == "tref":
                refs = b"".join(chap if child.name == "chap" else _raw(reader, child)
                                for child in reader.boxes(box) if child.name != "chap" or chap)
                if chap and not any(child.name == "chap" for child in reader.boxes(box)):
                    refs += chap
                out += pack_box("tref", refs) if refs else b""
                placed = True
                continue
            if box.name == "mdia" and not placed and chap:
                out += pack_box("tref", chap)  # movenc.c writes tref just before mdia
                placed = True
            out += _raw(reader, box)
        return pack_box("trak", bytes(out))

    def _udta(self, udta: Box, chpl: bytes) -> bytes:
        reader = self.reader
        payload = reader.payload(udta)
        kept, position, tail = bytearray(), 0, b""
        while position < len(payload):
            if len(payload) - position < 8:
                tail = payload[position:]  # QTFF: a udta list may end with a 32-bit zero
                break
            size, kind = struct.unpack(">I4s", payload[position:position + 8])
            if size < 8 or position + size > len(payload):
                tail = payload[position:]  # not a box list we understand: keep it as it is, last
                break
            if kind != b"chpl":
                kept += payload[position:position + size]
            position += size
        return pack_box("udta", bytes(kept) + chpl + tail)

    def _switch(self, top: list[Box], moov: Box) -> Write:
        if (moov.offset + 4) % SECTOR <= SECTOR - 4:
            return Write(moov.offset + 4, b"free", switch=True)
        before = next((box for box in top if box.end == moov.offset), None)
        if before is not None and before.name in _SWALLOWERS:
            if before.header_size == 8 and before.size + moov.size <= 0xFFFFFFFF \
                    and before.offset % SECTOR <= SECTOR - 4:
                return Write(before.offset, struct.pack(">I", before.size + moov.size), switch=True)
            if before.header_size >= 16 and (before.offset + 8) % SECTOR <= SECTOR - 8:
                return Write(before.offset + 8, struct.pack(">Q", before.size + moov.size), switch=True)
        raise self.refuse("the old moov's type straddles a disk sector and no box before it can take it over")


@dataclass(frozen=True, slots=True)
class _NewMoov:
    box: Box
    children: list[Box]
    mvhd: Box
    tracks: list[_Track]
    old: set[int]
    track_id: int
    next_id: int
    times: tuple[int, int]
    timescale: int
    table: mp4track.Samples | None
    chpl: bytes


def _raw(reader: BoxReader, box: Box) -> bytes:
    return reader.read_at(box.offset, box.size, f"box '{box.name}'")


def _header(box: Box, reader: BoxReader) -> bytes:
    return reader.read_at(box.offset, box.header_size, f"box '{box.name}'")
