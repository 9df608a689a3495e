"""Chapters written into an MP4/MOV/M4A/M4B/M4V file in place, as a crash-safe plan.

:func:`plan_chapters` reads the file's boxes and returns an :class:`EditPlan`: the
writes and ``fsync`` barriers (:mod:`chapterkit.inplace`) that replace its chapters.
The cost does not depend on the size of ``mdat``: only ``moov`` is read and a new one
written (:mod:`chapterkit.containers.mp4moov`). The new ``moov`` is the old one byte
for byte, except:

- ``mvhd``'s next_track_ID, when the chapter track takes a new ID;
- the chapter ``trak`` (:mod:`chapterkit.containers.mp4track`, FFmpeg's layout), which
  replaces any existing one (a text track some track names with ``tref/chap``).
  Track IDs: the new track **reuses the old chapter track's ID**, so references keep
  their number; a file without one gets ``mvhd`` next_track_ID (FFmpeg numbers tracks
  1..n the same way). The old track's samples become dead bytes in their ``mdat``;
- ``tref/chap`` of every other track names the new track: FFmpeg 9's remux gives one to
  every track it maps, timecode and subtitle tracks included, first in ``tref`` (before
  ``tmcd``); other ``tref`` entries are kept. (5.1 loses the video track's ``chap`` to its
  ``tmcd``; the in-place edit writes both, as 9.0 does);
- ``udta/chpl`` replaced or added as the last child of ``udta``; every other ``udta``
  atom (``meta``/``ilst`` tags, ``©swr``...) is kept byte-identical.

No sample moves, so no chunk offset of any other track changes, whether ``moov`` was
at the end or at the front (``+faststart``: the new ``moov`` goes after the media data,
which loses fast start; the plan says so in a warning). Fragmented files
(``moof``/``mvex``) are refused with :class:`FragmentedMP4Error` (the caller remuxes):
their samples are described outside ``moov``. So are 3GP/3G2 files (FFmpeg writes chpl
only there, so there is no chapter-track layout to match). ``title`` sets the title the
way the remux path's ``-metadata title=`` does (``udta/meta/ilst/©nam`` in MP4/iPod,
``udta/©nam`` in MOV; tests compare the bytes with FFmpeg's); ``""`` removes it.

**Crash safety.** Readers use the *first* top-level ``moov``: FFmpeg's
``mov_read_moov`` skips a later one ("Found duplicated MOOV Atom. Skipped it"),
mutagen's ``Atoms`` and ``BoxReader.find`` return the first match. A box nobody
references (``free``, or a ``mdat`` that no chunk offset points into) is dead. Two
layouts, both of the form "write the new bytes where no reader looks, sync, make one
4-byte change in one sector, sync":

*Append* (``E`` = the old end of the file; the new moov goes after the old one):

1. ``Truncate(E + T)``, sync: the file grows by zeros; a zero header is a box of size 0
   ("to the end of the file", 14496-12 4.2) that every reader skips.
2. Write the chapter ``mdat`` and the new moov **typed ``free``** at ``E``, sync. A torn
   prefix leaves boxes followed by zeros; the new moov is invisible as ``free``. (Stray
   ``moov`` boxes after the first, left by a crash between steps 3 and 4 of an earlier
   edit, are typed ``free`` together with step 1: nobody reads them.)
3. Type the new box ``moov`` (4 bytes, placed inside one sector by padding the
   ``mdat``), sync. It comes after the old moov, so readers still use the old one.
4. **The switch**: type the old moov ``free`` (4 bytes, one sector), sync. Now the new
   moov is the only one. If those 4 bytes straddle a sector, the switch instead grows
   the dead box just before the old moov over it (one size field in one sector).

*Reuse* (a dead run of boxes *before* the current moov is large enough, as the old moov
and chapter ``mdat`` of the edit before last are): this keeps 20 edits from growing the
file by 20 moovs.

1. Make the run one ``free`` box (one header write in one sector), sync: it was dead,
   it stays dead.
2. Write inside its payload the chapter ``mdat``, the new moov typed ``free`` and a
   ``free`` filler, sync: all inside a ``free`` box, invisible.
3. Shrink the outer ``free`` to its 8-byte header (4 bytes), sync: the inner boxes become
   top-level boxes; still no new ``moov``.
4. **The switch**: type the new moov ``moov``, sync. It comes before the old one, so from
   now on readers use it.
5. Type the old moov ``free``, sync (a torn write there is harmless: it is no longer
   first), then truncate the dead boxes at the end of the file (the old moov and the
   chapter data only it referenced), sync.

At every instant the first ``moov`` is complete and durable and so are the samples it
points at, so every packet reads the same and the chapters are the old or the new ones;
``tests/containers/test_mp4edit.py`` replays every :func:`~chapterkit.inplace.crash_images`
image through ffprobe, FFmpeg's streamhash and the project's readers. Dead bytes: an
append leaves the old moov and old chapter ``mdat`` dead; the next fitting edit reuses
them and truncates, so repeated edits alternate between two sizes (bench/RESULTS.md).
"""

from __future__ import annotations

import fcntl
import os
import struct
from dataclasses import dataclass

from chapterkit.containers.mp4boxes import Box, BoxReader, pack_box
from chapterkit.containers.mp4moov import MoovEdit, TitleError, muxer_mode, overlaps
from chapterkit.errors import UnsupportedContainerError
from chapterkit.inplace import SECTOR, CannotEditInPlace, Op, Plan, Sync, Truncate, Write, apply, check_plan
from chapterkit.model import ChapterList

#: Top-level boxes that may be dead: padding, media data no chunk points into, a stale moov.
_DEAD_KINDS = frozenset({"free", "skip", "mdat", "wide", "moov"})


class InPlaceRefused(UnsupportedContainerError, CannotEditInPlace):
    """This file or request cannot be edited in place; the caller takes the remux path."""


class FragmentedMP4Error(InPlaceRefused):
    """A fragmented MP4 (``moof``/``mvex``): its samples live outside ``moov``."""


@dataclass(frozen=True, slots=True)
class EditPlan:
    """What :func:`plan_chapters` returns: the plan, its warnings and the file sizes it leads to."""

    plan: Plan
    warnings: tuple[str, ...]
    old_size: int
    new_size: int
    layout: str  # "append" or "reuse"
    faststart_lost: bool = False  # moov moves from before the media data to after it


def plan_chapters(fd: int, chapters: ChapterList, *, title: str | None = None) -> EditPlan:
    """The plan that gives the MP4-family file open on ``fd`` the chapters ``chapters``.

    ``chapters`` should already be fitted by :func:`chapterkit.embed.plan` (ends, titles
    cut to 255 bytes, no empty titles); an empty list removes both chapter forms. Reads
    through a duplicate of ``fd``; writes nothing. Raises :class:`FragmentedMP4Error` or
    :class:`InPlaceRefused` when the remux path must be taken, and
    :class:`~chapterkit.errors.MediaError` for a file that is not a readable MP4.
    """
    name = f"file descriptor {fd}"
    if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
        # pwrite on an O_APPEND descriptor appends on Linux: the plan's offsets would be ignored.
        raise InPlaceRefused("the file is open for appending (O_APPEND); open it with O_RDWR", path=name,
                             verb="planning an in-place edit of")
    with os.fdopen(os.dup(fd), "rb") as handle:
        return _Planner(BoxReader(handle, name), name).plan(chapters, title)


def apply_edit(fd: int, edit: EditPlan) -> None:
    """:func:`chapterkit.inplace.apply` of ``edit.plan``, undoing a failure before the switch.

    An error before the switch (a full disk, an I/O error) leaves the old chapters in
    force and, after an append, the file longer by bytes no reader looks at; the file is
    cut back to its old size (best effort) and the error raised. After the switch the new
    chapters are in force and the error is raised as it is.
    """
    plan = edit.plan
    switch = next(i for i, op in enumerate(plan) if isinstance(op, Write) and op.switch)
    try:
        apply(fd, plan[:switch])
    except OSError:
        if edit.layout == "append":
            try:
                apply(fd, (Truncate(edit.old_size), Sync()))
            except OSError:
                pass  # the error that matters is the first one
        raise
    apply(fd, plan[switch:])


class _Planner:
    def __init__(self, reader: BoxReader, name: str) -> None:
        self.reader = reader
        self.name = name

    def refuse(self, reason: str, kind: type[InPlaceRefused] = InPlaceRefused) -> InPlaceRefused:
        return kind(reason, path=self.name, verb="planning an in-place edit of")

    def plan(self, chapters: ChapterList, title: str | None) -> EditPlan:
        reader = self.reader
        top = list(reader.boxes())
        moovs = [box for box in top if box.name == "moov"]
        if not moovs:
            raise reader.error("no 'moov' box (an incomplete or non-MP4 file)")
        moov = moovs[0]
        if any(box.name == "moof" for box in top) or reader.find(moov, "mvex") is not None:
            raise self.refuse("fragmented MP4 (moof/mvex): its samples are described outside moov, "
                              "so only a remux can add chapters", FragmentedMP4Error)
        mode = muxer_mode(reader, top)
        if mode == "3gp":
            raise self.refuse("3GP/3G2 file: FFmpeg's 3gp muxer writes no QuickTime chapter track, so there is "
                              "no remux layout to match")
        edit = MoovEdit(reader, moov, chapters, mode, title)
        # Until the switch the old moov's samples, its chapter samples too, must stay intact;
        # after it only the kept tracks' and the new chapter samples matter.
        live = edit.chunk_offsets(kept_only=False)
        prepare: list[Op] = self._explicit_last_size(top)
        prepare += [Write(box.offset + 4, b"free") for box in moovs[1:]]
        layout = "reuse"
        try:
            planned = self._reuse(top, moov, edit, live, prepare)
            if planned is None:
                layout, planned = "append", self._append(top, moov, edit, prepare)
        except TitleError as exc:
            raise self.refuse(str(exc)) from None
        ops, moov_at = planned
        check_plan(ops)
        warnings = []
        media = [box.offset for box in top if box.name == "mdat" and overlaps(live, box.offset, box.end)]
        if media and moov.offset < media[0] < moov_at:
            warnings.append("moov moved from the front to after the media data: the file no longer starts "
                            "playing before it is fully downloaded (+faststart lost); remux to keep fast start")
        size = reader.file_size
        for op in ops:
            if isinstance(op, Write):
                size = max(size, op.offset + len(op.data))
            elif isinstance(op, Truncate):
                size = op.size
        return EditPlan(tuple(ops), tuple(warnings), reader.file_size, size, layout, faststart_lost=bool(warnings))

    def _explicit_last_size(self, top: list[Box]) -> list[Op]:
        """A last box of size 0 runs "to the end of the file" and would swallow what we add.

        Its explicit size describes the same extent, so writing it changes nothing a reader
        sees, provided the 4 bytes land whole (one sector).
        """
        last = top[-1]
        if last.header_size != 8 or int.from_bytes(self.reader.read_at(last.offset, 4, "box header"), "big"):
            return []
        if last.size > 0xFFFFFFFF or not _one_sector(last.offset, 4):
            raise self.refuse(f"the last box '{last.name}' has size 0 (to the end of the file) and its size "
                              "cannot be written in one sector")
        return [Write(last.offset, struct.pack(">I", last.size)), Sync()]

    # -- append after the end ------------------------------------------------------------

    def _append(self, top: list[Box], moov: Box, edit: MoovEdit, prepare: list[Op]) -> tuple[list[Op], int]:
        end = self.reader.file_size
        prefix = _prefix(edit.sample_data, end)
        body = edit.build(end + 8)
        moov_at = end + len(prefix)
        appended = prefix + b"".join((body[:4], b"free", body[8:]))
        ops = prepare + [Truncate(end + len(appended)), Sync(), Write(end, appended), Sync(),
                         Write(moov_at + 4, b"moov"), Sync(), self._switch(top, moov), Sync()]
        return [op for index, op in enumerate(ops) if not _double_sync(ops, index)], moov_at

    def _switch(self, top: list[Box], moov: Box) -> Write:
        if _one_sector(moov.offset + 4, 4):
            return Write(moov.offset + 4, b"free", switch=True)
        before = next((box for box in top if box.end == moov.offset), None)
        if before is not None and before.name in ("free", "skip", "mdat", "wide"):
            if before.header_size == 8 and before.size + moov.size <= 0xFFFFFFFF and _one_sector(before.offset, 4):
                return Write(before.offset, struct.pack(">I", before.size + moov.size), switch=True)
            if before.header_size >= 16 and _one_sector(before.offset + 8, 8):
                return Write(before.offset + 8, struct.pack(">Q", before.size + moov.size), switch=True)
        raise self.refuse("the old moov's type straddles a disk sector and no box before it can take it over")

    # -- reuse dead space before the moov ------------------------------------------------

    def _reuse(self, top: list[Box], moov: Box, edit: MoovEdit, live: list[int],
               prepare: list[Op]) -> tuple[list[Op], int] | None:
        # Item locations (``iloc``, HEIF-style metadata) may point into an mdat no chunk names:
        # then only free/skip boxes count as dead.
        items = any(box.name == "meta" for box in top) or b"iloc" in self.reader.read_at(
            moov.offset, moov.size, "box 'moov'")
        for start, stop, first in self._dead_runs(top, moov, live, items):
            chunk_offset = start + 16
            prefix = _prefix(edit.sample_data, start + 8)
            body = edit.build(chunk_offset)
            room = stop - start - 8 - len(prefix) - len(body)
            if room < 0 or 0 < room < 8 or stop - start > 0xFFFFFFFF:
                continue
            if not (_one_sector(start, 8) and _one_sector(start + 8 + len(prefix) + 4, 4)):
                continue
            moov_at = start + 8 + len(prefix)
            filler = pack_box("free", bytes(room - 8)) if room else b""
            inner = prefix + body[:4] + b"free" + body[8:] + filler
            ops = list(prepare)
            if first.name != "free" or first.end != stop:
                ops += [Write(start, struct.pack(">I4s", stop - start, b"free")), Sync()]
            ops += [Write(start + 8, inner), Sync(), Write(start, struct.pack(">I", 8)), Sync(),
                    Write(moov_at + 4, b"moov", switch=True), Sync(), Write(moov.offset + 4, b"free"), Sync()]
            tail = self._dead_tail(top, moov, sorted(edit.chunk_offsets(kept_only=True) + [chunk_offset]), stop,
                                   items)
            if tail == stop and filler:
                tail -= len(filler)  # the filler ends the file too: drop it with the rest
            if tail is not None:
                ops += [Truncate(tail), Sync()]
            return [op for index, op in enumerate(ops) if not _double_sync(ops, index)], moov_at
        return None

    def _dead_runs(self, top: list[Box], moov: Box, live: list[int], items: bool):
        """``(start, end, first box)`` of each run of dead boxes before ``moov``, largest first."""
        runs: list[list[Box]] = []
        current: list[Box] = []
        for box in top:
            if box.offset >= moov.offset:
                break
            dead_kind = box.name in ("free", "skip", "wide") or (box.name == "mdat" and not items)
            if dead_kind and not overlaps(live, box.offset, box.end):
                current.append(box)
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        found = [(run[0].offset, run[-1].end, run[0]) for run in runs if run[0].header_size == 8]
        return sorted(found, key=lambda item: item[0] - item[1])

    def _dead_tail(self, top: list[Box], moov: Box, live: list[int], reused_end: int, items: bool) -> int | None:
        """Where the dead boxes that end the file start, once the old moov is dead too."""
        start = None
        for box in reversed(top):
            if box.offset < reused_end or box.name not in _DEAD_KINDS or overlaps(live, box.offset, box.end) \
                    or (items and box.name == "mdat"):
                break
            if box.name == "moov" and box != moov and box.offset < moov.offset:
                break
            start = box.offset
        return start


def _prefix(data: bytes, at: int) -> bytes:
    """The chapter ``mdat`` at ``at`` (or nothing), padded so the moov after it has its type in one sector."""
    pad = 0
    while True:
        if data:
            prefix = pack_box("mdat", data + bytes(pad))
        elif pad == 0 or pad >= 8:
            prefix = pack_box("free", bytes(pad - 8)) if pad else b""
        else:
            pad += 1
            continue
        if _one_sector(at + len(prefix), 8):
            return prefix
        pad += 1


def _one_sector(offset: int, size: int) -> bool:
    return offset // SECTOR == (offset + size - 1) // SECTOR


def _double_sync(ops: list[Op], index: int) -> bool:
    return isinstance(ops[index], Sync) and (index == 0 or isinstance(ops[index - 1], Sync))
