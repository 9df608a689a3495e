"""The mode a new file gets: 0666 minus the umask, as ``open()`` or ``cp`` would give it.

``tempfile.mkstemp`` creates files 0600 (private, by design), and a rename keeps that
mode, so a chapter list or report written through a temporary file would be unreadable to
a web or media server running as another user. :func:`new_file_mode` is what the final
file should have instead. The umask is read from ``/proc/self/status`` (Linux 4.7+)
because setting it to read it back is process-wide and racy with worker threads.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()


def umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _lock:
        current = os.umask(0o022)
        os.umask(current)
    return current


def new_file_mode(replacing: str | None = None) -> int:
    """The mode for a file about to be created, or to replace ``replacing`` (which keeps its own)."""
    if replacing is not None:
        try:
            return os.stat(replacing).st_mode & 0o7777
        except OSError:
            pass
    return 0o666 & ~umask()
