"""Where a player lands when it seeks to a chapter: the video keyframe at or before its start.

Players seek to a chapter by jumping to the last keyframe at or before it (mpv,
VLC and browsers do a fast keyframe seek for chapter jumps), so a chapter whose
start sits mid-GOP begins up to a GOP early, mid-sentence of the previous part.
This module reads the keyframe times from the container's own index, never by
decoding, in the presentation timeline chapter times use:

- **MP4/MOV** (ISO/IEC 14496-12): the first enabled video track's sync samples
  (``stss``, section 8.6.2; no ``stss`` means every sample is a sync sample), their
  decode times (``stts``, 8.6.1.2) plus composition offsets (``ctts``, 8.6.1.3), minus
  the first edit's ``media_time`` and plus leading empty edits (``elst``, 8.6.6), the
  way FFmpeg's mov demuxer presents them.
- **Matroska/WebM** (RFC 9559): the video track's ``CuePoint`` times (section 5.1.5),
  which FFmpeg and mkvmerge write for every video keyframe; without Cues, the keyframe
  flag of each ``SimpleBlock`` (bit 0x80) and each ``BlockGroup`` without a
  ``ReferenceBlock``, timed by Cluster ``Timestamp`` + the block's relative time.

``tests/containers/test_keyframes.py`` checks these against
``ffprobe -skip_frame nokey -show_frames`` on media with known GOPs.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from fractions import Fraction

from chapterkit.containers import ebml, sniff
from chapterkit.errors import MediaError
from chapterkit.model import ChapterList, seconds_to_ns

# Matroska element IDs (RFC 9559 section 5.1).
_SEGMENT, _INFO, _TIMESTAMP_SCALE, _TRACKS, _TRACK_ENTRY = 0x18538067, 0x1549A966, 0x2AD7B1, 0x1654AE6B, 0xAE
_TRACK_NUMBER, _TRACK_TYPE, _CUES, _CUE_POINT, _CUE_TIME = 0xD7, 0x83, 0x1C53BB6B, 0xBB, 0xB3
_CUE_TRACK_POSITIONS, _CUE_TRACK, _CLUSTER, _CLUSTER_TIMESTAMP = 0xB7, 0xF7, 0x1F43B675, 0xE7
_SIMPLE_BLOCK, _BLOCK_GROUP, _BLOCK, _REFERENCE_BLOCK = 0xA3, 0xA0, 0xA1, 0xFB
_MAX_ELEMENT = 64 << 20


@dataclass(frozen=True, slots=True)
class Keyframes:
    """Presentation times (ns, sorted) of a file's video keyframes and where they were read."""

    times_ns: tuple[int, ...]
    source: str            # "stss", "every sample", "Cues" or "SimpleBlock flags"

    def before(self, at_ns: int) -> int | None:
        """The last keyframe at or before ``at_ns``: where a seek to ``at_ns`` lands."""
        index = bisect.bisect_right(self.times_ns, at_ns)
        return self.times_ns[index - 1] if index else None

    def nearest(self, at_ns: int) -> int | None:
        index = bisect.bisect_left(self.times_ns, at_ns)
        near = [self.times_ns[i] for i in (index - 1, index) if 0 <= i < len(self.times_ns)]
        return min(near, key=lambda t: (abs(t - at_ns), t)) if near else None


@dataclass(frozen=True, slots=True)
class KeyframeGap:
    """One chapter: its start, the keyframe a seek lands on, and how far before the start that is."""

    index: int
    title: str
    start_ns: int
    keyframe_ns: int | None
    distance_ns: int | None


def read_keyframes(path: str | os.PathLike[str]) -> Keyframes | None:
    """The video keyframes of ``path``, or None when it has no video track."""
    name = os.fspath(path)
    container = sniff(name)
    if container == "mp4":
        return _mp4_keyframes(name)
    if container == "matroska":
        try:
            with ebml.Source(name) as source:
                return _matroska_keyframes(source)
        except ebml.EBMLError as exc:
            raise MediaError(str(exc), path=name, verb="reading the keyframes of") from None
    return None


def gaps(chapters: ChapterList, keyframes: Keyframes) -> list[KeyframeGap]:
    """For each chapter, the distance from its start back to the keyframe a seek lands on."""
    rows = []
    for index, chapter in enumerate(chapters, 1):
        landing = keyframes.before(chapter.start_ns)
        rows.append(KeyframeGap(index, chapter.title, chapter.start_ns, landing,
                                None if landing is None else chapter.start_ns - landing))
    return rows


# -- MP4 ----------------------------------------------------------------------------------------


def _mp4_keyframes(name: str) -> Keyframes | None:
    from chapterkit.containers import mp4

    with mp4.open_mp4(name) as reader:
        movie = mp4.read_movie(reader)
        track = next((t for t in movie.tracks if t.handler == "vide" and t.enabled), None)
        track = track or next((t for t in movie.tracks if t.handler == "vide"), None)
        if track is None:
            return None
        stbl = reader.find(track.box, "mdia/minf/stbl")
        if stbl is None:
            raise reader.error(f"video track {track.track_id} has no sample table")
        table = reader.sample_table(stbl)
        count = len(table.starts)
        stss = reader.find(stbl, "stss")
        if stss is None:
            sync, source = range(count), "every sample"
        else:
            _, _, fields = reader.full_box(stss)
            entries = fields.u32()
            fields.check_count(entries, "sync samples")
            sync, source = [fields.u32() - 1 for _ in range(entries)], "stss"
        offsets = _composition_offsets(reader, stbl, count)
        shift = _edit_shift(reader, movie, track)
        times = sorted({seconds_to_ns(max(Fraction(0), shift + Fraction(table.starts[i] + offsets[i],
                                                                             track.timescale)))
                        for i in sync if 0 <= i < count})
    return Keyframes(tuple(times), source)


def _composition_offsets(reader, stbl, count: int) -> list[int]:
    ctts = reader.find(stbl, "ctts")
    if ctts is None:
        return [0] * count
    version, _, fields = reader.full_box(ctts)
    offsets: list[int] = []
    for _ in range(fields.u32()):
        run = fields.u32()
        fields.check_count(len(offsets) + run, "samples")
        # version 0 is unsigned in the spec, but FFmpeg (and every writer of negative
        # offsets) stores signed values there too; read both as signed like FFmpeg.
        offsets.extend([fields.s32()] * run)
    return (offsets + [0] * count)[:count]


def _edit_shift(reader, movie, track) -> Fraction:
    """Seconds added to (decode time + offset) / timescale by the track's edit list."""
    elst = reader.find(track.box, "edts/elst")
    if elst is None:
        return Fraction(0)
    shift = Fraction(0)
    for edit in reader.edit_list(elst):
        if edit.media_time == -1:
            shift += Fraction(edit.duration, movie.timescale)
            continue
        return shift - Fraction(edit.media_time, track.timescale)
    return shift


# -- Matroska -----------------------------------------------------------------------------------


def _matroska_keyframes(source: ebml.Source) -> Keyframes | None:
    head = source.header_at(0)
    if head is None or head.end is None:
        raise ebml.EBMLError("not a Matroska file")
    segment = source.header_at(head.end)
    while segment is not None and segment.id != _SEGMENT and segment.end is not None:
        segment = source.header_at(segment.end)
    if segment is None or segment.id != _SEGMENT:
        raise ebml.EBMLError("no Segment after the EBML header")
    end = source.size if segment.end is None else min(segment.end, source.size)
    scale, video, cues, clusters = 1_000_000, None, None, []
    pos = segment.data_offset
    while pos < end:
        header = source.header_at(pos)
        if header is None:
            break
        if header.id == _INFO:
            scale = _timestamp_scale(source.element_data(header, _MAX_ELEMENT, "Info")) or scale
        elif header.id == _TRACKS:
            video = _video_track(source.element_data(header, _MAX_ELEMENT, "Tracks"))
        elif header.id == _CUES:
            cues = header
        elif header.id == _CLUSTER:
            clusters.append(header)
        if header.end is None:  # an unknown-size Cluster: its children follow directly
            pos = header.data_offset
            continue
        pos = header.end
    if video is None:
        return None
    if cues is not None:
        times = _cue_times(source.element_data(cues, _MAX_ELEMENT, "Cues"), video)
        if times:
            return Keyframes(tuple(sorted({t * scale for t in times})), "Cues")
    times = _block_times(source, clusters, video, end)
    return Keyframes(tuple(sorted({t * scale for t in times})), "SimpleBlock flags")


def _children(data: bytes, start: int = 0, end: int | None = None):
    return ebml.iter_children(data, start, len(data) if end is None else end)


def _timestamp_scale(data: bytes) -> int | None:
    for child in _children(data):
        if child.id == _TIMESTAMP_SCALE:
            return ebml.uint(data[child.data_offset:child.end])
    return None


def _video_track(data: bytes) -> int | None:
    for entry in _children(data):
        if entry.id != _TRACK_ENTRY:
            continue
        number = kind = None
        for child in _children(data, entry.data_offset, entry.end):
            if child.id == _TRACK_NUMBER:
                number = ebml.uint(data[child.data_offset:child.end])
            elif child.id == _TRACK_TYPE:
                kind = ebml.uint(data[child.data_offset:child.end])
        if kind == 1 and number is not None:  # TrackType 1: video
            return number
    return None


def _cue_times(data: bytes, track: int) -> list[int]:
    times = []
    for point in _children(data):
        if point.id != _CUE_POINT:
            continue
        time, tracks = None, set()
        for child in _children(data, point.data_offset, point.end):
            if child.id == _CUE_TIME:
                time = ebml.uint(data[child.data_offset:child.end])
            elif child.id == _CUE_TRACK_POSITIONS:
                for position in _children(data, child.data_offset, child.end):
                    if position.id == _CUE_TRACK:
                        tracks.add(ebml.uint(data[position.data_offset:position.end]))
        if time is not None and track in tracks:
            times.append(time)
    return times


def _block_times(source: ebml.Source, clusters, track: int, segment_end: int) -> list[int]:
    times = []
    for cluster in clusters:
        cluster_end = segment_end if cluster.end is None else cluster.end
        base, pos = 0, cluster.data_offset
        while pos < cluster_end:
            child = source.header_at(pos)
            if child is None or child.end is None or child.id == _CLUSTER:
                break
            if child.id == _CLUSTER_TIMESTAMP:
                base = ebml.uint(source.read_at(child.data_offset, child.size))
            elif child.id == _SIMPLE_BLOCK:
                found = _block_head(source.read_at(child.data_offset, min(child.size, 12)))
                if found and found[0] == track and found[2] & 0x80:
                    times.append(base + found[1])
            elif child.id == _BLOCK_GROUP:
                data = source.element_data(child, _MAX_ELEMENT, "BlockGroup")
                parts = {part.id: part for part in _children(data)}
                if _BLOCK in parts and _REFERENCE_BLOCK not in parts:
                    found = _block_head(data[parts[_BLOCK].data_offset:parts[_BLOCK].end])
                    if found and found[0] == track:
                        times.append(base + found[1])
            pos = child.end
    return times


def _block_head(data: bytes) -> tuple[int, int, int] | None:
    """``(track number, relative timestamp, flags)`` of a (Simple)Block (RFC 9559 section 10)."""
    try:
        number, length = ebml.decode_size(data)
    except ebml.EBMLError:
        return None
    if number is None or len(data) < length + 3:
        return None
    relative = int.from_bytes(data[length:length + 2], "big", signed=True)
    return number, relative, data[length + 2]


__all__ = ["KeyframeGap", "Keyframes", "gaps", "read_keyframes"]
