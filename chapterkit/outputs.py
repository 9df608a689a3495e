"""Where ``embed`` writes and how the result reaches it without damaging anything.

Every embed path (the in-place editor's clone or copy, the FFmpeg remux, the mutagen
copy) shares the same rules about its output, so they live here rather than in any
one path: the target is checked against the input (never the same file unless
``--in-place``, never a folder), its extension must keep the input's container (and
names the FFmpeg muxer), the work goes to a temporary file beside it
(:mod:`chapterkit.tempfiles`), and :func:`finish` fsyncs it, gives it the input's
mode (and owner, in place) and renames it over the target. Errors name the output,
never the temporary file, and a full disk says so in words.
"""

from __future__ import annotations

import errno
import os
import shutil

from chapterkit import containers
from chapterkit import tempfiles
from chapterkit.errors import ChapterkitError, UsageError


#: FFmpeg muxer per output extension (``ffmpeg -h muxer=ipod``: m4a/m4b/m4v).
MUXERS = {".mp4": "mp4", ".m4v": "ipod", ".mov": "mov", ".m4a": "ipod", ".m4b": "ipod",
          ".mkv": "matroska", ".mka": "matroska", ".mk3d": "matroska", ".webm": "webm"}


def os_reason(exc: OSError) -> str:
    """An OS error's reason as a user reads it; a full disk says so in words."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full (No space left on device)"
    return exc.strerror or str(exc)


def resolve_target(source: str, output: str | os.PathLike[str] | None, in_place: bool) -> str:
    if in_place:
        if output is not None and not _same_file(source, os.fspath(output)):
            raise UsageError("--in-place writes over the input; do not give -o as well")
        return os.path.realpath(source)  # through a symlink: replace the file, not the link
    if output is None:
        raise UsageError("give an output path (-o) or --in-place")
    target = os.fspath(output)
    if _same_file(source, target):
        raise UsageError(f"the output {target} is the input file (same path, link or inode); "
                         "use --in-place to replace the input")
    if os.path.isdir(target):
        raise UsageError(f"the output {target} is a folder")
    return target


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        first, second = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def muxer_for(target: str, container: str) -> str:
    extension = os.path.splitext(target)[1].lower()
    muxer_name = MUXERS.get(extension)
    wanted = containers.CONTAINER_EXTENSIONS[container]
    if muxer_name is None or extension not in wanted:
        raise UsageError(f"output {target} must keep the input's container ({', '.join(wanted)})")
    return muxer_name


def temp_beside(target: str) -> str:
    folder = os.path.dirname(os.path.abspath(target))
    try:
        return tempfiles.create_beside(target)
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=folder, verb="creating a temporary file in") from None


def name_the_output(exc: ChapterkitError, temp: str, target: str) -> None:
    """Errors name the output being written, never the temporary file, which is gone by now."""
    if exc.path == temp:
        exc.path = target
    if temp in exc.reason:
        exc.reason = exc.reason.replace(temp, target)


def finish(temp: str, target: str, keep_mode_of: str | None, keep_owner: bool = True) -> None:
    try:
        # fsync through a read-only descriptor (enough on POSIX), before the mode is copied:
        # a read-only input's mode would make a read-write open of the copy fail.
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        if keep_mode_of is not None:
            shutil.copymode(keep_mode_of, temp)
            if keep_owner:
                _keep_owner(keep_mode_of, temp)
        os.replace(temp, target)
        _fsync_folder(os.path.dirname(os.path.abspath(target)))
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=target, verb="writing") from None


def _keep_owner(original: str, temp: str) -> None:
    """Give the replacement the original's owner and group where we may (root, or same user)."""
    info = os.stat(original)
    try:
        os.chown(temp, info.st_uid, info.st_gid)
    except OSError:
        pass  # not permitted: the file becomes ours, as with any editor's save


def _fsync_folder(folder: str) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


__all__ = ["MUXERS", "finish", "muxer_for", "name_the_output", "os_reason", "remove", "resolve_target",
           "temp_beside"]
