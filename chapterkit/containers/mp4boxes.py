"""A small ISO base media file format (MP4/MOV) box reader.

Only what the chapter readers need: walk the box tree by seeking (a box is
never read before we know we want it, and ``mdat`` is never read at all),
parse the full-box header, and decode the handful of boxes that locate and
time a track's samples. Layouts follow ISO/IEC 14496-12 (section numbers
below) and Apple's QuickTime File Format, which agree on every box used here.

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


@dataclass(frozen=True, slots=True)
class SampleTable:
    """A track's samples: start and duration (media ticks), byte size and file offset of each.

    Starts are decode times, before any edit list: in ``stbl`` the running sum of
    the durations from 0 (14496-12 section 8.6.1.1), in a fragment its ``tfdt``.
    """

    starts: tuple[int, ...]
    durations: tuple[int, ...]
    sizes: tuple[int, ...]
    offsets: tuple[int, ...]

    @property
    def end(self) -> int:
        """The decode time just after the last sample (0 when there is none)."""
        return self.starts[-1] + self.durations[-1] if self.starts else 0

    def __add__(self, other: SampleTable) -> SampleTable:
        return SampleTable(self.starts + other.starts, self.durations + other.durations,
                           self.sizes + other.sizes, self.offsets + other.offsets)


@dataclass(frozen=True, slots=True)
class TrackDefaults:
    """A track's fragment defaults from ``mvex/trex`` (section 8.8.3)."""

    duration: int = 0
    size: int = 0


@dataclass(frozen=True, slots=True)
class FragmentRun:
    """The samples one ``trun`` adds to one track."""

    track_id: int
    table: SampleTable


@dataclass(frozen=True, slots=True)
class Edit:
    """One ``elst`` entry (14496-12 section 8.6.6): ``media_time`` -1 is an empty edit."""

    duration: int      # in movie (mvhd) ticks
    media_time: int    # in media (mdhd) ticks, or -1
    rate: int          # 16.16 fixed point; 0x10000 is normal speed


class BoxReader:
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

    # -- boxes that time and locate samples ------------------------------------------------

    def full_box(self, box: Box) -> tuple[int, int, _Fields]:
        """``(version, flags, fields)`` of a full box (14496-12 section 4.2)."""
        fields = _Fields(self.payload(box), box, self)
        version = fields.u8()
        flags = int.from_bytes(fields.take(3), "big")
        return version, flags, fields

    def movie_header(self, mvhd: Box) -> tuple[int, int]:
        """``(timescale, duration)`` of ``mvhd`` (section 8.2.2)."""
        return self._header_times(mvhd)

    def media_header(self, mdhd: Box) -> tuple[int, int]:
        """``(timescale, duration)`` of ``mdhd`` (section 8.4.2)."""
        return self._header_times(mdhd)

    def _header_times(self, box: Box) -> tuple[int, int]:
        # version 1: creation(64) modification(64) timescale(32) duration(64);
        # version 0: the same with 32-bit times and duration.
        version, _, fields = self.full_box(box)
        if version == 1:
            fields.take(16)
            timescale, duration = fields.u32(), fields.u64()
        else:
            fields.take(8)
            timescale, duration = fields.u32(), fields.u32()
            if duration == 0xFFFFFFFF:  # "all ones: duration cannot be determined"
                duration = 0
        if timescale == 0:
            raise self.error(f"box '{box.name}' at offset {box.offset} has timescale 0")
        return timescale, duration

    def track_header(self, tkhd: Box) -> tuple[int, int]:
        """``(track_ID, flags)`` of ``tkhd`` (section 8.3.2); flag 1 is "enabled"."""
        version, flags, fields = self.full_box(tkhd)
        fields.take(16 if version == 1 else 8)
        return fields.u32(), flags

    def handler_type(self, hdlr: Box) -> str:
        """The four-character ``handler_type`` of ``hdlr`` (section 8.4.3): vide, soun, text, ..."""
        _, _, fields = self.full_box(hdlr)
        fields.take(4)
        return fields.take(4).decode("latin-1")

    def track_references(self, tref: Box) -> dict[str, tuple[int, ...]]:
        """Reference type -> track_IDs, from the boxes inside ``tref`` (section 8.3.3)."""
        references: dict[str, tuple[int, ...]] = {}
        for child in self.boxes(tref):
            data = self.payload(child)
            ids = struct.unpack(f">{len(data) // 4}I", data[: len(data) // 4 * 4])
            references[child.name] = references.get(child.name, ()) + ids
        return references

    def sample_entry_names(self, stsd: Box) -> tuple[str, ...]:
        """The format of each sample description in ``stsd`` (section 8.5.2): 'text', 'tx3g', ..."""
        _, _, fields = self.full_box(stsd)
        count = fields.u32()
        names = []
        for _ in range(count):
            size = fields.u32()
            names.append(fields.take(4).decode("latin-1"))
            if size < 8:
                raise self.error(f"box 'stsd' at offset {stsd.offset} has a sample entry of size {size}")
            fields.take(size - 8)
        return tuple(names)

    def edit_list(self, elst: Box) -> tuple[Edit, ...]:
        version, _, fields = self.full_box(elst)
        edits = []
        for _ in range(fields.u32()):
            if version == 1:
                duration, media_time = fields.u64(), fields.s64()
            else:
                duration, media_time = fields.u32(), fields.s32()
            edits.append(Edit(duration, media_time, fields.s32()))
        return tuple(edits)

    def sample_table(self, stbl: Box) -> SampleTable:
        """Decode stts, stsz/stz2, stsc and stco/co64 into one row per sample.

        The count comes from stsz (section 8.7.3.1: "the number of samples in
        the track"); stts must describe the same number, as FFmpeg's demuxer
        also insists.
        """
        children = {child.name: child for child in self.boxes(stbl)}
        missing = [name for name in ("stts", "stsc") if name not in children]
        if "stsz" not in children and "stz2" not in children:
            missing.append("stsz")
        if "stco" not in children and "co64" not in children:
            missing.append("stco")
        if missing:
            raise self.error(f"sample table at offset {stbl.offset} lacks {', '.join(missing)}")
        sizes_box = children.get("stsz") or children["stz2"]
        if sizes_box.payload_size == 0:
            # A header-only stsz (8 bytes) is an empty track, as FFmpeg reads it (its
            # stsz reader stops at the box end): no samples, whatever stts says.
            return SampleTable((), (), (), ())
        sizes = self._sizes(sizes_box)
        durations = self._durations(children["stts"])
        if len(durations) != len(sizes):
            raise self.error(f"sample table at offset {stbl.offset} times {len(durations)} samples "
                             f"but sizes {len(sizes)}")
        chunks = self._chunk_offsets(children.get("stco") or children["co64"])
        offsets = self._sample_offsets(children["stsc"], chunks, sizes)
        starts, now = [], 0
        for duration in durations:
            starts.append(now)
            now += duration
        return SampleTable(tuple(starts), durations, sizes, offsets)

    def _durations(self, stts: Box) -> tuple[int, ...]:
        # section 8.6.1.2: entry_count, then (sample_count, sample_delta) runs.
        _, _, fields = self.full_box(stts)
        durations: list[int] = []
        for _ in range(fields.u32()):
            count, delta = fields.u32(), fields.u32()
            fields.check_count(len(durations) + count, "samples")
            durations.extend([delta] * count)
        return tuple(durations)

    def _sizes(self, box: Box) -> tuple[int, ...]:
        _, _, fields = self.full_box(box)
        if box.name == "stsz":  # section 8.7.3.2: sample_size (0: per sample), sample_count
            fixed, count = fields.u32(), fields.u32()
            fields.check_count(count, "samples")
            if fixed:
                return (fixed,) * count
            return tuple(fields.u32() for _ in range(count))
        fields.take(3)  # stz2, section 8.7.3.3: reserved(24) field_size(8) sample_count(32)
        width, count = fields.u8(), fields.u32()
        if width not in (4, 8, 16):
            raise self.error(f"box 'stz2' at offset {box.offset} has field size {width}")
        raw = fields.take((count * width + 7) // 8)
        if width == 16:
            return struct.unpack(f">{count}H", raw)
        if width == 8:
            return tuple(raw)
        return tuple((raw[i // 2] >> (0 if i % 2 else 4)) & 0xF for i in range(count))

    def _chunk_offsets(self, box: Box) -> tuple[int, ...]:
        _, _, fields = self.full_box(box)  # section 8.7.5
        count = fields.u32()
        fields.check_count(count, "chunks")
        read = fields.u64 if box.name == "co64" else fields.u32
        return tuple(read() for _ in range(count))

    def _sample_offsets(self, stsc: Box, chunks: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[int, ...]:
        # section 8.7.4: runs of (first_chunk (1-based), samples_per_chunk, description);
        # a run lasts until the next run's first chunk, the last run to the last chunk.
        _, _, fields = self.full_box(stsc)
        runs = [(fields.u32(), fields.u32(), fields.u32()) for _ in range(fields.u32())]
        offsets: list[int] = []
        for index, (first, per_chunk, _) in enumerate(runs):
            last = runs[index + 1][0] - 1 if index + 1 < len(runs) else len(chunks)
            if first < 1 or last > len(chunks):
                raise self.error(f"box 'stsc' at offset {stsc.offset} names chunk {max(first, last)} "
                                 f"of {len(chunks)}")
            for chunk in range(first - 1, last):
                position = chunks[chunk]
                for _ in range(per_chunk):
                    if len(offsets) == len(sizes):
                        return tuple(offsets)
                    offsets.append(position)
                    position += sizes[len(offsets) - 1]
        if len(offsets) != len(sizes):
            raise self.error(f"box 'stsc' at offset {stsc.offset} places {len(offsets)} of "
                             f"{len(sizes)} samples")
        return tuple(offsets)


    # -- fragmented files (14496-12 section 8.8) ----------------------------------------

    def track_defaults(self, mvex: Box) -> dict[int, TrackDefaults]:
        """track_ID -> the default sample duration and size its fragments fall back on."""
        defaults = {}
        for trex in self.find_all(mvex, "trex"):
            _, _, fields = self.full_box(trex)
            track_id, _description = fields.u32(), fields.u32()
            defaults[track_id] = TrackDefaults(duration=fields.u32(), size=fields.u32())
        return defaults

    def fragment_runs(self, defaults: dict[int, TrackDefaults],
                      initial: dict[int, int] | None = None) -> Iterator[FragmentRun]:
        """Every track run in every top-level ``moof``, timed and located.

        ``initial`` maps track_ID to the decode time after its ``moov`` samples,
        where a fragment without ``tfdt`` continues. Byte offsets follow section
        8.8.7.1: an explicit base-data-offset, else the ``moof`` (for the first
        track fragment, or always with default-base-is-moof), else the end of
        the previous track fragment's data; a ``trun`` without a data offset
        continues where the previous run of its fragment ended.
        """
        clock = dict(initial or {})
        for moof in self.find_all(None, "moof"):
            data_end = moof.offset
            for traf in self.find_all(moof, "traf"):
                runs, data_end = self._traf_runs(moof, traf, data_end, defaults, clock)
                yield from runs

    def _traf_runs(self, moof: Box, traf: Box, previous_end: int, defaults: dict[int, TrackDefaults],
                   clock: dict[int, int]) -> tuple[list[FragmentRun], int]:
        tfhd = self.find(traf, "tfhd")
        if tfhd is None:
            raise self.error(f"track fragment at offset {traf.offset} has no 'tfhd'")
        _, flags, fields = self.full_box(tfhd)
        track_id = fields.u32()
        fallback = defaults.get(track_id, TrackDefaults())
        base = fields.u64() if flags & 0x1 else (moof.offset if flags & 0x20000 else previous_end)
        if flags & 0x2:
            fields.u32()  # sample_description_index
        default_duration = fields.u32() if flags & 0x8 else fallback.duration
        default_size = fields.u32() if flags & 0x10 else fallback.size
        tfdt = self.find(traf, "tfdt")
        if tfdt is not None:
            version, _, times = self.full_box(tfdt)
            clock[track_id] = times.u64() if version == 1 else times.u32()
        now = clock.get(track_id, 0)
        position = base
        runs = []
        for trun in self.find_all(traf, "trun"):
            version, run_flags, fields = self.full_box(trun)
            count = fields.u32()
            fields.check_count(count, "samples")
            if run_flags & 0x1:
                position = base + fields.s32()
            if run_flags & 0x4:
                fields.u32()  # first_sample_flags
            starts, durations, sizes, offsets = [], [], [], []
            for _ in range(count):
                duration = fields.u32() if run_flags & 0x100 else default_duration
                size = fields.u32() if run_flags & 0x200 else default_size
                if run_flags & 0x400:
                    fields.u32()  # sample_flags
                if run_flags & 0x800:
                    fields.u32()  # composition time offset
                starts.append(now)
                durations.append(duration)
                sizes.append(size)
                offsets.append(position)
                now += duration
                position += size
            runs.append(FragmentRun(track_id, SampleTable(tuple(starts), tuple(durations),
                                                          tuple(sizes), tuple(offsets))))
        clock[track_id] = now
        return runs, position


class _Fields:
    """Big-endian fields read one after another from a box payload."""

    def __init__(self, data: bytes, box: Box, reader: BoxReader) -> None:
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
