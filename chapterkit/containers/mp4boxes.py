"""A small ISO base media file format (MP4/MOV) box reader.

Only what the chapter readers need: walk the box tree by seeking (a box is
never read before we know we want it, and ``mdat`` is never read at all),
parse the full-box header, and decode the handful of boxes that locate and
time a track's samples. Layouts follow ISO/IEC 14496-12 (section numbers
below) and Apple's QuickTime File Format, which agree on every box used here.

The codec is three layers, one module each, so that each stays one concern:
:mod:`.mp4boxtree` (box headers, the tree walk, payload fields, :func:`pack_box`),
:mod:`.mp4samples` (sample tables and fragments) and this module (movie, track and
media headers, edit lists, and :class:`BoxReader`, which has them all). Every name
is importable from here, as before the split.

Every problem with the bytes is a :class:`~chapterkit.errors.MediaError` that
names the box and its offset, e.g. "truncated box 'moov' at offset 40 while
reading x.mp4": a reader that gets a file cut short by a failed download
should say where, not raise ``struct.error``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from chapterkit.containers.mp4boxtree import CONTAINERS, MAX_DEPTH, MAX_PAYLOAD_BYTES, Box, BoxTree, pack_box
from chapterkit.containers.mp4samples import FragmentRun, SampleReader, SampleTable, TrackDefaults


@dataclass(frozen=True, slots=True)
class Edit:
    """One ``elst`` entry (14496-12 section 8.6.6): ``media_time`` -1 is an empty edit."""

    duration: int      # in movie (mvhd) ticks
    media_time: int    # in media (mdhd) ticks, or -1
    rate: int          # 16.16 fixed point; 0x10000 is normal speed


class BoxReader(SampleReader):
    """The box tree of one open binary file, read by seeking, with every box decoder.

    ``path`` only names the file in error messages, so a :class:`io.BytesIO`
    of crafted bytes works as well as a real file. The tree walk comes from
    :class:`~chapterkit.containers.mp4boxtree.BoxTree`, sample tables and fragments
    from :class:`~chapterkit.containers.mp4samples.SampleReader`.
    """

    # -- movie, track and media headers -----------------------------------------------------

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


__all__ = ["CONTAINERS", "MAX_DEPTH", "MAX_PAYLOAD_BYTES", "Box", "BoxReader", "BoxTree", "Edit", "FragmentRun",
           "SampleReader", "SampleTable", "TrackDefaults", "pack_box"]
