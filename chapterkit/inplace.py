"""In-place edits as plans: ordered writes separated by durability barriers.

A container editor (MKV, MP4) never writes to the file itself. It reads what it needs
and returns a :class:`Plan`: the writes, truncations and ``fsync`` barriers that take
the file from its old chapters to the new ones. :func:`apply` carries a plan out;
:func:`crash_images` builds every file a crash during :func:`apply` could leave, so a
test can check each one with real readers. Keeping the plan as data is what makes the
crash argument testable: the bytes the editor would write are the bytes the test replays.

The crash model (what a POSIX file system promises after ``fsync``, and what it does not):

- everything before the last completed :class:`Sync` is on disk;
- of the operations issued after it, any subset may be on disk, in any order;
- a write larger than one 512-byte sector may be torn: any sector-aligned prefix of
  it may be on disk (sectors are the unit a disk writes atomically);
- a write inside one sector is all or nothing. Editors make their *switch* (the one
  write that moves the file from the old state to the new) such a write, marked
  ``Write(..., switch=True)``, and :func:`check_plan` enforces that.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from chapterkit.errors import ChapterkitError

#: The unit a disk writes atomically (the logical sector size of every disk we meet).
SECTOR = 512
#: More operations than this between two barriers are replayed as prefixes and
#: single omissions only, not every subset (2^n images).
MAX_SUBSET_OPS = 8


@dataclass(frozen=True, slots=True)
class Write:
    """Write ``data`` at ``offset`` (past the end of the file extends it)."""

    offset: int
    data: bytes
    switch: bool = False


@dataclass(frozen=True, slots=True)
class Truncate:
    """Set the file's size (free space at the end after an edit no longer needs it)."""

    size: int


@dataclass(frozen=True, slots=True)
class Sync:
    """``fsync``: every operation before this one is durable once it returns."""


Op = Write | Truncate | Sync
Plan = tuple[Op, ...]


class CannotEditInPlace(ChapterkitError):
    """This file's layout allows no crash-safe in-place edit; the caller takes another method."""


class PlanError(ValueError):
    """A plan breaks the ordering rules that make it crash-safe."""


def check_plan(plan: Sequence[Op]) -> None:
    """Refuse a plan whose switch could be torn or is not fenced by barriers.

    A switch must fit in one sector, be preceded by a :class:`Sync` (so the data it
    points at is durable first) and be followed by one (so nothing freed after it can
    reach the disk before it does).
    """
    for index, op in enumerate(plan):
        if not (isinstance(op, Write) and op.switch):
            continue
        if not op.data or op.offset // SECTOR != (op.offset + len(op.data) - 1) // SECTOR:
            raise PlanError(f"switch write at {op.offset} (+{len(op.data)}) crosses a {SECTOR}-byte sector")
        if index == 0 or not isinstance(plan[index - 1], Sync):
            raise PlanError(f"switch write at {op.offset} is not preceded by a sync")
        if index + 1 >= len(plan) or not isinstance(plan[index + 1], Sync):
            raise PlanError(f"switch write at {op.offset} is not followed by a sync")


def apply(fd: int, plan: Sequence[Op]) -> None:
    """Carry out ``plan`` on the open file descriptor ``fd``."""
    for op in plan:
        if isinstance(op, Write):
            view = memoryview(op.data)
            offset = op.offset
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written
        elif isinstance(op, Truncate):
            os.ftruncate(fd, op.size)
        else:
            os.fsync(fd)


def replay(image: bytearray, ops: Sequence[Op]) -> bytearray:
    """``ops`` applied to an in-memory file image (the test double of :func:`apply`)."""
    for op in ops:
        if isinstance(op, Write):
            end = op.offset + len(op.data)
            if len(image) < op.offset:
                image.extend(bytes(op.offset - len(image)))
            image[op.offset:end] = op.data
        elif isinstance(op, Truncate):
            if op.size < len(image):
                del image[op.size:]
            else:
                image.extend(bytes(op.size - len(image)))
    return image


def crash_images(original: bytes, plan: Sequence[Op]) -> Iterator[tuple[str, bytes]]:
    """Every distinct file a crash during ``apply(plan)`` could leave, with a label.

    Walks the plan barrier by barrier. Within the operations issued since the last
    barrier, it yields every subset (or, past :data:`MAX_SUBSET_OPS`, every prefix and
    every single omission), and for each write larger than a sector also its torn
    forms (each sector-aligned prefix, capped at a few per write).
    """
    seen: set[bytes] = set()
    durable = bytearray(original)
    pending: list[Op] = []
    position = 0

    def emit(label: str, image: bytes) -> Iterator[tuple[str, bytes]]:
        key = bytes(image)
        if key not in seen:
            seen.add(key)
            yield label, key

    yield from emit("before any write", durable)
    for position, op in enumerate(plan):
        if isinstance(op, Sync):
            durable = replay(durable, pending)
            pending = []
            yield from emit(f"after op {position} (sync)", durable)
            continue
        pending.append(op)
        for chosen in _subsets(len(pending)):
            ops = [pending[i] for i in chosen]
            yield from emit(f"crash after op {position}, ops {list(chosen)} of {len(pending)} pending",
                            replay(bytearray(durable), ops))
            for torn_index, torn in _torn(ops):
                label = f"crash after op {position}, op {chosen[torn_index]} torn at {len(torn.data)} bytes"
                yield from emit(label, replay(bytearray(durable),
                                              ops[:torn_index] + [torn] + ops[torn_index + 1:]))
    yield from emit("after the plan", replay(durable, pending))


def _subsets(count: int) -> Iterator[tuple[int, ...]]:
    if count <= MAX_SUBSET_OPS:
        for size in range(count + 1):
            yield from itertools.combinations(range(count), size)
        return
    for size in range(count + 1):
        yield tuple(range(size))
    for missing in range(count):
        yield tuple(i for i in range(count) if i != missing)


def _torn(ops: Sequence[Op]) -> Iterator[tuple[int, Write]]:
    """Sector-aligned prefixes of the writes that span more than one sector."""
    for index, op in enumerate(ops):
        if not isinstance(op, Write) or op.switch:
            continue
        first_boundary = (op.offset // SECTOR + 1) * SECTOR
        cuts = range(first_boundary, op.offset + len(op.data), SECTOR)
        chosen = sorted({cuts[0], cuts[len(cuts) // 2], cuts[-1]}) if len(cuts) else []
        for cut in chosen:
            yield index, Write(op.offset, op.data[:cut - op.offset])


def inverse(original_read, plan: Sequence[Op], size: int) -> Plan:
    """The plan that undoes ``plan`` on a file of ``size`` bytes (``original_read(offset, n)``
    gives the bytes before it). Used to roll an edit back when the readers reject it."""
    undo: list[Op] = []
    for op in plan:
        if isinstance(op, Write) and op.offset < size:
            end = min(size, op.offset + len(op.data))
            undo.append(Write(op.offset, original_read(op.offset, end - op.offset)))
    return (*undo, Truncate(size), Sync())
