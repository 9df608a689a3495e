"""How ``embed`` writes: in place, on a clone, on a copy, or by a remux; and the safety around it.

``embed`` picks the fastest method that is safe for the file and names it:

- ``in place`` (``--in-place`` on a container with a planner): the file is edited, not
  replaced, by a crash-safe :class:`~chapterkit.inplace.Plan`, so its mode, owner,
  extended attributes and hard links stay as they were. The cost does not grow with
  the file.
- ``clone`` (``-o OUT``, where the file system shares blocks: ``FICLONE`` on XFS with
  reflink, btrfs): OUT is a reflink of the input, then edited in place. O(metadata).
- ``copy`` (``-o OUT`` elsewhere): ``copy_file_range`` (in-kernel, no trip through
  Python), then the copy is edited in place; MP3, Ogg and FLAC always take their
  mutagen copy path (a crash can never lose the old tags: the original is untouched
  until the verified copy is renamed over it).
- ``remux``: FFmpeg stream copy, the path for everything a planner cannot handle
  (:class:`CannotEditInPlace`), and what ``--method remux`` forces.

A clone or copy is written to a temporary file beside OUT and renamed into place
only after the readers agreed, so a failure (disk full included) leaves no file.

Verifying an in-place edit. Once the plan is applied the old state is gone, so two
guards: before touching the file, the planner's own reader reads the chapters from
the planned bytes over the file (``preview``, an overlay: nothing is written); after
applying, every reader verifies the file, and on a mismatch the *inverse plan* (the
old bytes of every region written, and the old size, read before the edit) is
applied to roll back. The rollback is not itself crash-safe; the preview is what
makes a rollback unlikely to be needed.

Concurrent writers. ``--in-place`` takes an exclusive advisory lock (``flock`` and
a POSIX ``lockf`` lock, which Linux keeps separately) and also refuses a file that
any process visible in ``/proc`` holds open for writing. Advisory locks bind only
tools that take them: another chapterkit, ``flock(1)`` wrappers, and programs using
``flock``/``fcntl`` locks (Samba, some recorders); FFmpeg, mkvmerge, OBS and
mkvpropedit take none, which is why the ``/proc`` check is there too.
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Protocol

from chapterkit.errors import ChapterkitError, ChapterMismatchError, UsageError
from chapterkit.inplace import CannotEditInPlace, Op, Plan, Write, apply, check_plan, inverse
from chapterkit.model import ChapterList

IN_PLACE, CLONE, COPY, REMUX = "in place", "clone", "copy", "remux"
METHODS = (IN_PLACE, CLONE, COPY, REMUX)


class Planner(Protocol):
    """A container's in-place chapter editor: reads through ``fd``, writes nothing.

    Raises :class:`CannotEditInPlace` when the file's layout allows no safe edit.
    """

    def __call__(self, fd: int, chapters: ChapterList, *, title: str | None = None) -> Plan: ...


#: container -> module with ``plan_chapters`` (a :class:`Planner`) and optionally
#: ``preview(fd, plan) -> tuple[str, ...] | None`` (the titles the planned bytes hold).
PLANNERS: dict[str, str | None] = {
    "matroska": "chapterkit.containers.mkvedit",
    # Its plan_chapters returns an EditPlan (the plan plus warnings, e.g. "+faststart lost").
    "mp4": "chapterkit.containers.mp4edit",
}


def planner_module(container: str):
    name = PLANNERS.get(container)
    return None if name is None else importlib.import_module(name)


FICLONE = 0x40049409  # _IOW(0x94, 9, int), linux/fs.h


def can_clone(source: str, folder: str) -> bool:
    """Whether a file in ``folder`` can share ``source``'s blocks (tried on a scratch file)."""
    try:
        handle, scratch = tempfile.mkstemp(prefix=".chapterkit-probe-", dir=folder)
    except OSError:
        return False
    try:
        with open(source, "rb") as src:
            fcntl.ioctl(handle, FICLONE, src.fileno())
        return True
    except OSError:
        return False
    finally:
        os.close(handle)
        os.unlink(scratch)


def duplicate(source: str, target: str, how: str) -> None:
    """Write ``target`` as a clone (``FICLONE``) or an in-kernel copy of ``source``."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        if how == CLONE:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return
        size = os.fstat(src.fileno()).st_size
        offset = 0
        while offset < size:
            try:
                done = os.copy_file_range(src.fileno(), dst.fileno(), size - offset, offset, offset)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                done = _copy_chunk(src.fileno(), dst.fileno(), offset, size - offset)
            if done == 0:
                break
            offset += done
        os.fsync(dst.fileno())


def _copy_chunk(src: int, dst: int, offset: int, wanted: int) -> int:
    data = os.pread(src, min(wanted, 8 << 20), offset)
    written = 0
    while written < len(data):
        written += os.pwrite(dst, data[written:], offset + written)
    return written


def writers_of(path: str) -> list[int]:
    """Process IDs (other than ours) that hold ``path`` open for writing, from ``/proc``."""
    try:
        wanted = os.stat(path)
        pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return []
    found = []
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(f"{folder}/{fd}")
                if (info.st_dev, info.st_ino) != (wanted.st_dev, wanted.st_ino):
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as handle:
                    flags = int(next(line for line in handle if line.startswith("flags:")).split()[1], 8)
            except (OSError, StopIteration, ValueError):
                continue
            if flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR):
                found.append(int(pid))
                break
    return found


def lock(fd: int, path: str) -> None:
    """Take the advisory locks, or refuse: another process is writing the file."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            raise ChapterkitError("another process holds a lock on it (it is being written); not edited",
                                  path=path, verb="editing") from None
        raise
    others = writers_of(path)
    if others:
        raise ChapterkitError(f"process {', '.join(map(str, others))} has it open for writing; not edited",
                              path=path, verb="editing")


def edit(path: str, container: str, chapters: ChapterList, *, title: str | None,
         verify: Callable[[str], tuple[str, ...]] | None, locked: bool = True,
         keep_faststart: bool = False) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Edit ``path`` in place by its container's planner; the readers that verified it, and warnings.

    A planner returns a :class:`~chapterkit.inplace.Plan`, or an object holding one as
    ``.plan`` with ``.warnings`` (the MP4 planner's ``EditPlan``). Raises
    :class:`CannotEditInPlace` before anything is written when the layout does not allow
    it (or, with ``keep_faststart``, when the edit would move a front ``moov`` to the
    end), and :class:`ChapterMismatchError` (after rolling back) when the readers
    disagree with the list.
    """
    module = planner_module(container)
    if module is None:
        raise CannotEditInPlace(f"no in-place editor for {container} yet")
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=path, verb="opening") from None
    try:
        if locked:
            lock(fd, path)
        made = module.plan_chapters(fd, chapters, title=title)
        plan, warnings = getattr(made, "plan", made), tuple(getattr(made, "warnings", ()))
        if keep_faststart and getattr(made, "faststart_lost", False):
            raise CannotEditInPlace("--keep-faststart: an in-place edit would move moov after the media data")
        check_plan(plan)
        preview = getattr(module, "preview", None)
        if preview is not None:
            titles = preview(fd, plan)
            if titles is not None and tuple(titles) != chapters.titles:
                raise CannotEditInPlace(f"the planned bytes read back as {len(titles)} other chapters")
        size = os.fstat(fd).st_size
        undo = inverse(lambda offset, length: os.pread(fd, length, offset), plan, size)
        try:
            apply(fd, plan)
        except BaseException:
            _best_effort(fd, undo)
            raise
        if verify is None:
            return (), warnings
        try:
            return verify(path), warnings
        except ChapterMismatchError:
            _best_effort(fd, undo)
            raise
    except OSError as exc:
        reason = "the disk is full (No space left on device)" if exc.errno == errno.ENOSPC else \
            exc.strerror or str(exc)
        raise ChapterkitError(reason, path=path, verb="editing") from None
    finally:
        os.close(fd)


def _best_effort(fd: int, undo: Sequence[Op]) -> None:
    try:
        apply(fd, undo)
    except OSError:
        pass  # the disk refuses even the old bytes; the staged writes were hidden anyway


def choose(container: str, forced: str | None, *, in_place: bool, source: str, target: str) -> str:
    """The method to try first (``embed`` falls back to ``remux`` when a planner refuses)."""
    if forced is not None and forced not in METHODS:
        raise UsageError(f"unknown method {forced!r}; choose one of {', '.join(METHODS)}")
    editable = planner_module(container) is not None
    mutagen = container not in ("mp4", "matroska")
    if forced == REMUX:
        if mutagen:
            raise UsageError(f"{container} files are never remuxed (FFmpeg would shift or drop their chapters); "
                             "use --method copy")
        return REMUX
    if forced == IN_PLACE and not (editable and in_place):
        raise UsageError("--method 'in place' needs --in-place and a container with an in-place editor "
                         f"(not {container})" if editable or in_place else
                         f"no in-place editor for {container}")
    if forced == CLONE and not can_clone(source, os.path.dirname(os.path.abspath(target))):
        raise UsageError(f"the file system of {os.path.dirname(os.path.abspath(target))} cannot clone "
                         f"{source} (FICLONE needs XFS with reflink or btrfs, one file system)")
    if forced in (CLONE, COPY) and mutagen and forced == CLONE:
        raise UsageError(f"{container} files are written on a copy (mutagen); use --method copy")
    if forced is not None:
        return forced
    if mutagen:
        return COPY
    if not editable:
        return REMUX
    if in_place:
        return IN_PLACE
    return CLONE if can_clone(source, os.path.dirname(os.path.abspath(target))) else COPY


def doctor_lines() -> list[str]:
    lines = ["methods (embed picks the fastest safe one; --method forces one):"]
    for container, module in PLANNERS.items():
        state = ("in place (--in-place), clone or copy (-o), then the readers verify; remux when the layout "
                 "refuses" if module else "remux (no in-place editor yet)")
        lines.append(f"  {container}: {state}")
    lines.append("  mp3, ogg, opus, flac: copy only (mutagen writes a copy that replaces the file once verified), "
                 "so a crash never loses the old tags")
    lines.append("  --in-place: refused while another process locks the file or has it open for writing")
    return lines


__all__ = ["CLONE", "COPY", "IN_PLACE", "METHODS", "PLANNERS", "Planner", "REMUX", "can_clone", "choose",
           "duplicate", "edit", "lock", "writers_of", "Write"]
