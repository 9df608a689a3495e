"""Temporary files beside an output, named after their writer, and swept when it is gone.

``embed`` and ``write_text_atomic`` write to a temporary file in the target's
folder and rename it over the target, so a reader never sees half a file. A
SIGKILLed run (or a power cut) cannot remove its temporary file, so the name says
who wrote it: ``.chapterkit-<pid>-<start>-<boot>-<random><ext>``, where ``start``
is the process's start time in clock ticks since boot (``/proc/<pid>/stat`` field
22) and ``boot`` the first 8 hex digits of ``/proc/sys/kernel/random/boot_id``.

:func:`sweep` removes such a file only when its writer is *provably* gone: the
machine has rebooted since (another boot id), or no process has that pid, or the
process with that pid started at another time (the pid was reused). A live
writer, or a name this module did not make (an older chapterkit's
``.chapterkit-x1y2.mp4``, a user's file), is never touched. Where ``/proc`` is
missing nothing can be proven, so nothing is removed.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import tempfile

PREFIX = ".chapterkit-"
#: Scratch folders (FFmpeg's metadata file, attachments) live in the system temp folder.
SCRATCH_PREFIX = "chapterkit-"
_OWNED = re.compile(r"(?P<pid>\d+)-(?P<start>\d+)-(?P<boot>[0-9a-f]{8})-[0-9a-z]{8}(?:\.[^/]*)?")


@functools.cache
def boot_id() -> str | None:
    """The first 8 hex digits of this boot's id, or None without ``/proc``."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip().replace("-", "")[:8] or None
    except OSError:
        return None


def start_time(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None when there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    fields = stat[stat.rfind(b")") + 2:].split()
    try:
        return int(fields[19])  # field 22 overall
    except (IndexError, ValueError):
        return None


def owner_token() -> str | None:
    """``<pid>-<start>-<boot>`` of this process, or None when it cannot be proven later."""
    boot, start = boot_id(), start_time(os.getpid())
    return None if boot is None or start is None else f"{os.getpid()}-{start}-{boot}"


def _name(suffix: str) -> str:
    owner = owner_token()
    random = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    return f"{owner}-{random}{suffix}" if owner else f"x-{random}{suffix}"


def create_beside(target: str, suffix: str | None = None) -> str:
    """A new, empty temporary file in ``target``'s folder, with its extension (or ``suffix``); raises OSError."""
    folder = os.path.dirname(os.path.abspath(target))
    suffix = os.path.splitext(target)[1] if suffix is None else suffix
    for _ in range(100):
        path = os.path.join(folder, PREFIX + _name(suffix))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise FileExistsError(f"no free temporary name in {folder}")


def scratch_folder() -> tempfile.TemporaryDirectory:
    """A scratch folder in the system temp folder, named like the files (swept the same way)."""
    return tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{_name('')}-")


def writer_gone(name: str, prefix: str = PREFIX) -> bool:
    """True only when ``name`` is one of ours and its writer provably no longer runs."""
    if not name.startswith(prefix):
        return False
    match = _OWNED.match(name, len(prefix))
    if match is None:
        return False
    boot = boot_id()
    if boot is None:
        return False
    if match["boot"] != boot:
        return True  # written before the last reboot
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    started = start_time(pid)
    return started is None or started != int(match["start"])


def sweep(folder: str, prefix: str = PREFIX) -> list[str]:
    """Remove the stale temporary files (or, with ``SCRATCH_PREFIX``, folders) in ``folder``.

    Returns the paths removed. Errors are ignored: sweeping is a courtesy, never a
    reason to fail a run.
    """
    removed: list[str] = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    for name in names:
        if not writer_gone(name, prefix):
            continue
        path = os.path.join(folder, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    return removed


def sweep_scratch() -> list[str]:
    """Stale scratch folders of dead runs in the system temp folder."""
    return sweep(tempfile.gettempdir(), SCRATCH_PREFIX)
