"""What a file given to chapterkit may be: a regular file (or stdin), of bounded size.

A FIFO given as media or as a chapter source blocks ``open()`` until a writer
comes, which may be never; ``/dev/zero`` reads forever. So a path is opened with
``O_NONBLOCK`` (which never waits for a FIFO's writer and means nothing for a
regular file) and refused unless ``fstat`` says it is a regular file, and a
chapter source, stdin included, is read up to :data:`MAX_SOURCE_BYTES` only.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

#: The largest chapter source read: a 100,000-chapter description is about 3 MB, a
#: Vorbis comment block at most 16 MB (FLAC's 24-bit block length).
MAX_SOURCE_BYTES = 64 * 1024 * 1024

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def kind_of(mode: int) -> str:
    """What a non-regular file is, for messages."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(name: str) -> BinaryIO:
    """``open(name, "rb")`` without blocking on a FIFO; raises OSError, or ValueError naming
    the kind of file when it is not a regular file."""
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):  # as open() says it
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        if not stat.S_ISREG(mode):
            raise ValueError(f"{kind_of(mode)}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(handle: BinaryIO, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """All of ``handle``, or ValueError once it holds more than ``limit`` bytes."""
    data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"more than {limit // (1024 * 1024)} MiB; a chapter source is far smaller")
    return data
