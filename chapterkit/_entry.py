"""The console entry point: Ctrl-C is quiet from the first line chapterkit runs.

A SIGINT that arrives while Python imports click and the CLI (the first ~40 ms)
used to print a KeyboardInterrupt traceback. :func:`main` first installs a
handler for SIGINT and SIGTERM that writes one line and exits 130 at once
(nothing has been written yet), before it imports anything; :class:`chapterkit.cli._Group` swaps in
``KeyboardInterrupt`` for the command itself, whose cleanup (temporary files,
the FFmpeg child) needs it, and swaps this one back after. The package's
``__init__`` imports nothing heavy, so this runs a few ms after Python's own
start-up (a signal before that is Python's, outside any code of ours).
"""

import os
import signal

EXIT_INTERRUPTED = 130
_MESSAGE = b"chapterkit: interrupted; nothing was changed\n"


def quit_now(signum, frame) -> None:  # pragma: no cover - runs in a dying process
    try:
        os.write(2, _MESSAGE)
    except OSError:
        pass
    os._exit(EXIT_INTERRUPTED)


def install() -> None:
    """The quiet handlers, for the times no command runs (start-up, click's parsing, exit)."""
    signal.signal(signal.SIGINT, quit_now)
    signal.signal(signal.SIGTERM, quit_now)


def main() -> None:
    install()  # first: the console script calls this right after importing this small module
    from chapterkit.cli import main as run

    run()
