"""Matroska/WebM chapters edited in place: a :class:`~chapterkit.inplace.Plan`, no FFmpeg.

``plan_chapters(fd, chapters, *, title=None) -> Plan`` reads the file's layout
(:mod:`mkvlayout`: headers, SeekHeads, the live Chapters element) and returns the
writes and barriers that replace its chapters. It never writes; :func:`inplace.apply`
does. The cost is a few small reads and writes, whatever the file's size.

Why the edits are shaped this way (measured here, /tmp experiments, mkvtoolnix 74,
FFmpeg 5.1/9.0, mpv 0.35): readers find a Chapters element in two ways, by walking
the top-level elements before the first Cluster (FFmpeg and mpv, first one wins) and
by SeekHead entries (chapterkit, FFmpeg and mpv for elements past the Clusters,
mkvextract). **mkvextract merges every Chapters element it reaches**: a file with
two shows both lists interleaved. So at no moment may two Chapters elements be
reachable, and the move from old to new must be one write that cannot be torn
(one 512-byte sector, :mod:`chapterkit.inplace`). Two shapes do that:

1. *Slot edit* (the chapters already have free space right after them: every edit
   after the first, and mkvmerge files with a Void after the Chapters). The new
   editions are written into free space the readers skip: the data of a Void child
   at the front of the element, or the Void after it, or new bytes appended inside
   a Void at the end of the file. Then **the switch rewrites the first 21 bytes of
   the element**: its header (ID + 8-byte size) and a Void child header that turns
   the old editions into padding. Before the switch the element holds the old
   editions, after it the new ones, at the same offset, so no SeekHead changes.
   Edits alternate between the front and the back of the slot, so 20 edits grow
   the file by about two Chapters elements, not twenty.

2. *Move* (first edit of an FFmpeg or mkvmerge file, whose Chapters sit between
   Tracks and the first Cluster; or a file with none). The new element N, already in
   slot form, is appended at the end of the file inside a Void, where no reader walks
   (not in a Void before the Clusters: mkvextract calls a file whose SeekHead points
   inside a Void it walked over "corrupted"). Sync. Then one of two switches:

   a. O and the SeekHead share a sector (FFmpeg files with small Tracks): **one write**
      rewrites the SeekHead entry to N and O's header into a Void header (the shortest
      one that covers O, so it fits even when O's own header crosses into the next
      sector; with only O's first byte left in the sector, that byte alone turns the
      Chapters ID into an unregistered one, which every reader skips); the bytes
      between are written back unchanged.
   b. Otherwise the SeekHead entry for O is first dropped (Sync; O is still found by
      the walk before the Clusters, by every reader), because FFmpeg marks the
      Chapters done once it has parsed whatever that entry points at. **The switch
      rewrites O's first bytes** into a small SeekHead pointing at N plus a Void
      covering the rest of O: O is gone and N reachable in the same sector write.

   Sync. Then the Void around N is shrunk to end before N (N becomes visible to a
   walk too) and the main SeekHead gets its entry for N back (rewritten with its
   CRC-32 inside one sector), Sync, and the small SeekHead becomes a Void, Sync (when
   the main SeekHead has no room for the entry, the small one stays: it is valid).
   Between the switch and that step a walk of every top-level element (mkvinfo -a)
   sees no Chapters; every reader that plays or extracts (FFmpeg, mpv, mkvextract,
   chapterkit) follows the SeekHeads and sees N. Without an O the switch is the
   unwrapping write (N in a Void before the Clusters) or the SeekHead write (N at
   the end). A file where neither switch fits one sector (O's header starts in the
   last ~22 bytes of a sector that does not hold the SeekHead: about 4 % of files
   whose Chapters lie past the first sector) raises
   :class:`~chapterkit.inplace.CannotEditInPlace`.

The crash test (tests/containers/test_mkvedit.py) builds every image
:func:`inplace.crash_images` yields for these plans and reads each with chapterkit,
ffprobe and mkvextract: each shows the old or the new list, never both or a mix.

Appended bytes are inside a Void from the start, and a known Segment size is grown
only after they are synced (bytes after the Segment are a harmless top-level Void
until then). Every header the switch writes must sit in one sector; an element
placed by this module is aligned so that it does; a file where that cannot be
done raises :class:`~chapterkit.inplace.CannotEditInPlace`, and ``embed`` remuxes.

What is not edited in place: the title (``title=...``: the Info element would have
to be rewritten), Chapters reachable only by walking past the Clusters, files
with data after the Segment when space must be appended.
"""

from __future__ import annotations

from chapterkit.containers.ebml import VOID_ID, EBMLError, Header, encode_id, encode_size
from chapterkit.containers.matroska import CHAPTERS
from chapterkit.containers.mkvchapters import chapters_payload, editions_from_list
from chapterkit.containers.mkvlayout import (
    FdSource, Layout, following_void, preview, read_layout, seek_head, void_header,
)
from chapterkit.inplace import SECTOR, CannotEditInPlace, Op, Plan, Sync, Write
from chapterkit.model import ChapterList

HEAD = 12                 # Chapters ID (4) + an 8-byte size
VOID_CHILD = 9            # Void ID + an 8-byte size
SLOT_PREFIX = HEAD + VOID_CHILD
_MINI = 26                # SeekHead{Seek{SeekID(4), SeekPosition(8)}}
UNKNOWN_FIRST_BYTE = 0x11  # Chapters 0x1043A770 -> 0x1143A770, an unregistered ID


def plan_chapters(fd: int, chapters: ChapterList, *, title: str | None = None) -> Plan:
    """The plan that makes ``chapters`` the file's chapters (one edition, flat atoms)."""
    if title is not None:
        raise CannotEditInPlace("a new title needs the Info element rewritten; that is the remux path's job")
    source = FdSource(fd)
    try:
        layout = read_layout(source)
        payload = chapters_payload(editions_from_list(chapters, layout.doc_type), layout.doc_type)
        return _Planner(source, layout, payload).plan()
    except EBMLError as exc:
        raise CannotEditInPlace(str(exc)) from None


def _in_sector(offset: int, length: int) -> bool:
    return offset // SECTOR == (offset + length - 1) // SECTOR


def _chapters_head(size: int) -> bytes:
    return encode_id(CHAPTERS) + encode_size(size, 8)


def _void_child(size: int) -> bytes:
    return encode_id(VOID_ID) + encode_size(size, 8)


def _fill(total: int) -> bytes:
    """A Void header for ``total`` free bytes (0: nothing; 1 cannot be expressed)."""
    if total == 0:
        return b""
    # The shortest size field: a switch that carries this header is likelier to fit its sector.
    return void_header(total, next(k for k in range(1, 9) if total - 1 - k < (1 << (7 * k)) - 1))


class _Planner:
    def __init__(self, source: FdSource, layout: Layout, payload: bytes) -> None:
        self.source, self.layout, self.payload = source, layout, payload
        self.staged: list[Op] = []       # hidden writes, before the first barrier
        self.grow: list[Op] = []         # the Segment size, after they are durable

    # -- shape 1: the slot -------------------------------------------------------------
    def plan(self) -> Plan:
        old = self.layout.chapters
        if old is not None and old.size is None:
            raise CannotEditInPlace("the Chapters element has an unknown size")
        if old is not None:
            slot = self.slot_edit(old)
            if slot is not None:
                return slot
        return self.move(old)

    def slot_edit(self, old: Header) -> Plan | None:
        o, size = old.offset, len(self.payload)
        if not _in_sector(o, SLOT_PREFIX) or old.end - o < SLOT_PREFIX:
            return None
        front_end = self.front_free_end(old)
        after = following_void(self.source, self.layout, old.end)
        slot_end = after.end if after is not None else old.end
        # Front: the payload right after the 21-byte prefix, inside the old Void child.
        if front_end is not None and o + SLOT_PREFIX + size + VOID_CHILD <= front_end:
            start = o + SLOT_PREFIX
            rest = slot_end - (start + size)
            self.staged += [Write(start, self.payload), Write(start + size, void_header(rest, 8))]
            return self.finish(Write(o, _chapters_head(VOID_CHILD + size) + _void_child(0), switch=True))
        # Back: inside the Void after the element, else appended at the end of the file.
        if after is not None:
            start = after.data_offset
            rest = after.end - (start + size)
            if rest == 1:
                start, rest = start + 1, 0
            if rest >= 0 and not (after.data_offset < o + SLOT_PREFIX):
                self.staged += [Write(start, self.payload)] + ([Write(start + size, _fill(rest))] if rest else [])
                return self.finish(self.slot_switch(o, start, size))
        if slot_end == self.layout.file_size and self.layout.appendable:
            start = self.append(size)
            return self.finish(self.slot_switch(o, start, size))
        return None

    def front_free_end(self, old: Header) -> int | None:
        """Where the hidden front space of a slot ends (its first child is a Void)."""
        first = old.data_offset
        if first >= old.end:
            return None
        try:
            child = self.source.header_at(first)
        except EBMLError:
            return None
        if child.id != VOID_ID or child.end is None or child.data_offset > old.offset + SLOT_PREFIX:
            return None
        return child.end

    @staticmethod
    def slot_switch(o: int, start: int, size: int) -> Write:
        padding = start - (o + SLOT_PREFIX)
        return Write(o, _chapters_head(VOID_CHILD + padding + size) + _void_child(padding), switch=True)

    def append(self, size: int) -> int:
        """Stage ``size`` payload bytes at the end, inside a new Void; return where they go."""
        at = self.layout.file_size
        start = at + VOID_CHILD
        self.staged.append(Write(at, _void_child(size) + self.payload))
        if self.layout.size_known:
            segment = self.layout.segment
            grown = segment.size + VOID_CHILD + size
            length = segment.header_size - 4
            if grown >= (1 << (7 * length)) - 1:
                raise CannotEditInPlace("the Segment size field is too short to grow")
            if not _in_sector(segment.offset + 4, length):
                raise CannotEditInPlace("the Segment size field crosses a disk sector")
            self.grow.append(Write(segment.offset + 4, encode_size(grown, length)))
        return start

    def finish(self, switch: Write, after: list[Op] | None = None, before: list[Op] | None = None) -> Plan:
        plan: list[Op] = [*self.staged, Sync()]
        if self.grow:
            plan += [*self.grow, Sync()]
        if before:
            plan += [*before, Sync()]
        plan += [switch, Sync()]
        for step in after or ():
            plan += [*step, Sync()] if isinstance(step, list) else [step]
        return tuple(plan)

    # -- shape 2: the move ---------------------------------------------------------------
    def move(self, old: Header | None) -> Plan:
        element = _chapters_head(VOID_CHILD + len(self.payload)) + _void_child(0) + self.payload
        # With an old element, N goes to the end: mkvextract refuses a file whose SeekHead
        # points inside a Void it walked over ("data structure corruption"), and during a
        # move N is reachable by SeekHead while still wrapped. Past the Clusters nobody walks.
        wrapper, start = self.place(element, voids=old is None)
        new_pos = start - self.layout.segment_start
        unwrap = Write(wrapper.offset, void_header(start - wrapper.offset, wrapper.header_size - 1))
        if old is not None:
            together = self.hide_and_repoint(old, start)
            if together is not None:  # O hidden and the SeekHead moved by one sector write
                return self.finish(together, [[unwrap]])
            # FFmpeg marks the Chapters entry done once it parsed whatever the main SeekHead
            # points at, so that entry must not lead to the small SeekHead: it is dropped
            # first (O stays found by the walk before the Clusters) and added back after.
            if old.offset >= (self.layout.first_cluster or self.layout.segment_end):
                raise CannotEditInPlace("the old Chapters element lies past the Clusters and shares "
                                        "no sector with its SeekHead entry")
            drops = self.drop_entries(old.offset)
            mini = self.mini_switch(old, new_pos)
            repoint = self.repoint(None, start, exclude=old.offset)
            steps: list = [[unwrap] + ([repoint] if repoint is not None else [])]
            if repoint is not None:
                steps.append([Write(old.offset, void_header(old.end - old.offset, 8))])
            return self.finish(mini, steps, before=drops)
        if start < (self.layout.first_cluster or self.layout.segment_end):
            repoint = self.repoint(None, start)
            return self.finish(Write(unwrap.offset, unwrap.data, switch=True),
                               [[repoint]] if repoint is not None else [])
        repoint = self.repoint(None, start)
        if repoint is None:
            raise CannotEditInPlace("no SeekHead can point at chapters appended at the end of the file")
        return self.finish(Write(repoint.offset, repoint.data, switch=True), [[unwrap]])

    def place(self, element: bytes, voids: bool = True) -> tuple[Header, int]:
        """Stage ``element`` hidden in a Void; return the wrapping Void and where it starts."""
        need = len(element)
        for void in self.layout.voids_before_clusters() if voids else ():
            if not _in_sector(void.offset, void.header_size) or void.size is None:
                continue
            start = self.aligned(void.data_offset)
            rest = void.end - (start + need)
            if rest == 1 or rest < 0:
                continue
            self.staged.append(Write(start, element))
            if rest:
                self.staged.append(Write(start + need, _fill(rest)))
            return void, start
        if not self.layout.appendable:
            raise CannotEditInPlace("no free space for the chapters, and the file has data after its Segment")
        at = self.layout.file_size
        start = self.aligned(at + VOID_CHILD)
        wrapper = Header(VOID_ID, at, VOID_CHILD, start - at - VOID_CHILD + need)
        self.staged.append(Write(at, _void_child(wrapper.size) + bytes(start - at - VOID_CHILD) + element))
        if self.layout.size_known:
            segment = self.layout.segment
            length = segment.header_size - 4
            grown = segment.size + (wrapper.end - at)
            if grown >= (1 << (7 * length)) - 1 or not _in_sector(segment.offset + 4, length):
                raise CannotEditInPlace("the Segment size cannot be grown in one sector write")
            self.grow.append(Write(segment.offset + 4, encode_size(grown, length)))
        return wrapper, start

    @staticmethod
    def aligned(offset: int) -> int:
        """``offset`` or a little later, so a slot prefix there stays inside one sector."""
        while not _in_sector(offset, SLOT_PREFIX):
            offset += 1
        return offset

    def hide_and_repoint(self, old: Header, start: int) -> Write | None:
        """One write that turns O into a Void and points the SeekHead at N, when both
        sit in one sector (FFmpeg files with small Tracks: SeekHead and Chapters in sector 0).
        The bytes between them are written back unchanged."""
        repoint = self.repoint(old.offset, start)
        if repoint is None:
            return None
        # The shortest Void header that covers O: it may end before O's own header does
        # (the rest of that header becomes Void data), so it fits when O's header crosses
        # into the next sector.
        total = old.end - old.offset
        length = next(k for k in range(1, 9) if total - 1 - k < (1 << (7 * k)) - 1)
        hide = Write(old.offset, void_header(total, length))
        if not _in_sector(old.offset, len(hide.data)):
            # Not even a 2-byte Void header fits before the sector ends: change only the
            # first ID byte, 0x10 -> 0x11. 0x1143A770 is no Matroska ID (RFC 9559 registry),
            # so every reader skips the element by its size (RFC 8794 section 7.8, unknown
            # elements); it stays behind as an unknown element of O's size.
            hide = Write(old.offset, bytes([UNKNOWN_FIRST_BYTE]))
        lo = min(repoint.offset, hide.offset)
        hi = max(repoint.offset + len(repoint.data), hide.offset + len(hide.data))
        if not _in_sector(lo, hi - lo) or (repoint.offset < hide.offset + len(hide.data)
                                           and hide.offset < repoint.offset + len(repoint.data)):
            return None
        window = bytearray(self.source.read_at(lo, hi - lo))
        for op in [*self.staged, repoint, hide]:
            if isinstance(op, Write) and op.offset < hi and op.offset + len(op.data) > lo:
                first = max(lo, op.offset)
                last = min(hi, op.offset + len(op.data))
                window[first - lo:last - lo] = op.data[first - op.offset:last - op.offset]
        return Write(lo, bytes(window), switch=True)

    def mini_switch(self, old: Header, new_pos: int) -> Write:
        """The switch of a move: O's first bytes become a SeekHead pointing at N, plus a Void."""
        total = old.end - old.offset
        fits = []
        for length in range(max(1, (new_pos.bit_length() + 7) // 8), 9):
            head = seek_head([(CHAPTERS, new_pos)], False, {CHAPTERS: length})
            rest = total - len(head)
            if rest >= 0 and rest != 1:
                fits.append(head + _fill(rest))
        for data in fits:  # the shortest write first: the likeliest to fit in the sector
            if _in_sector(old.offset, len(data)):
                return Write(old.offset, data, switch=True)
        if fits:
            raise CannotEditInPlace("the old Chapters element starts too close to a disk sector's end "
                                    "for a one-sector switch")
        raise CannotEditInPlace("the old Chapters element is too small to hold a SeekHead")

    def drop_entries(self, old_offset: int) -> list[Op]:
        """SeekHead rewrites that drop the entries pointing at ``old_offset``."""
        drops: list[Op] = []
        for info in self.layout.seek_heads:
            if (CHAPTERS, old_offset) not in info.entries:
                continue
            entries = [(i, o - self.layout.segment_start) for i, o in info.entries if (i, o) != (CHAPTERS, old_offset)]
            write = self.rewrite_seek_head(info.header, entries, info.has_crc)
            if write is None:
                raise CannotEditInPlace("the SeekHead entry of the Chapters cannot be rewritten in one sector")
            drops.append(write)
        return drops

    def repoint(self, old_offset: int | None, new_offset: int, exclude: int | None = None) -> Write | None:
        """Rewrite the SeekHead entry for the Chapters (or add one), inside one sector."""
        layout = self.layout
        new_pos = new_offset - layout.segment_start
        for info in layout.seek_heads:
            if old_offset is not None and (CHAPTERS, old_offset) not in info.entries:
                continue
            entries = [(i, o - layout.segment_start) for i, o in info.entries
                       if not (i == CHAPTERS and (old_offset is None or o == old_offset))]
            if exclude is not None:  # its Chapters entry was dropped before the switch
                entries = [(i, o) for i, o in entries if not (i == CHAPTERS and o + layout.segment_start == exclude)]
            entries.append((CHAPTERS, new_pos))
            write = self.rewrite_seek_head(info.header, entries, info.has_crc)
            if write is not None:
                return write
        if old_offset is None:  # no SeekHead to extend: a new one in a Void before the Clusters
            for void in layout.voids_before_clusters():
                write = self.fit_seek_head(void.offset, void.end - void.offset,
                                           [(CHAPTERS, new_pos)], False)
                if write is not None and not any(isinstance(op, Write) and op.offset < void.end
                                                 and op.offset + len(op.data) > void.offset
                                                 for op in self.staged):
                    return write
        return None

    def rewrite_seek_head(self, header: Header, entries, has_crc: bool) -> Write | None:
        budget = header.end - header.offset
        after = following_void(self.source, self.layout, header.end)
        if after is not None and not any(isinstance(op, Write) and after.offset <= op.offset < after.end
                                         for op in self.staged):
            budget = after.end - header.offset
        return self.fit_seek_head(header.offset, budget, entries, has_crc)

    @staticmethod
    def fit_seek_head(offset: int, budget: int, entries, has_crc: bool) -> Write | None:
        for length in range(8, 0, -1):
            if max((pos for i, pos in entries if i == CHAPTERS), default=0).bit_length() > 8 * length:
                break
            head = seek_head(entries, has_crc, {CHAPTERS: length})
            rest = budget - len(head)
            if rest < 0 or rest == 1:
                continue
            data = head + _fill(rest)
            if _in_sector(offset, len(data)):
                return Write(offset, data)
        return None




__all__ = ["CannotEditInPlace", "plan_chapters", "preview"]
