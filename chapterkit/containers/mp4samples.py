"""Where a track's samples are and when they play: sample tables and movie fragments.

The middle layer of the MP4 codec (:mod:`.mp4boxtree` is below it; :mod:`.mp4boxes`
re-exports every name here): ``stbl`` (stts, stsz/stz2, stsc, stco/co64) and the
fragments' ``mvex/trex`` and ``moof/traf`` (tfhd, tfdt, trun) decoded into one row
per sample. It is the largest and most intricate part of the box decoding (the
chunk layout of section 8.7, the base offsets of section 8.8.7.1), and what the
chapter-track reader and the keyframe index need beyond box headers, so it lives
in its own module. Layouts follow ISO/IEC 14496-12 (section numbers below).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from chapterkit.containers.mp4boxtree import Box, BoxTree


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


class SampleReader(BoxTree):
    """A :class:`~chapterkit.containers.mp4boxtree.BoxTree` that also decodes sample tables and fragments."""

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


__all__ = ["FragmentRun", "SampleReader", "SampleTable", "TrackDefaults"]
