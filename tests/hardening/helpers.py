"""Helpers for the hardening tests (issue 11): run the CLI as a user does, build damaged files."""

from __future__ import annotations

import os
import struct
import subprocess
import sys

from chapterkit.containers.mp4boxes import BoxReader
from conftest import bundled_ffmpeg


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
        stdin=None, **kwargs) -> subprocess.CompletedProcess:
    """``python -m chapterkit ARGS`` with the bundled FFmpeg; output as text."""
    full_env = {key: value for key, value in os.environ.items() if key != "GITHUB_STEP_SUMMARY"}
    full_env.update({"CHAPTERKIT_FFMPEG": bundled_ffmpeg(), **(env or {})})
    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, stdin=stdin, **kwargs)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The single error line of a failed run (and proof there is no traceback)."""
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("chapterkit: error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def empty_chapter_track(path: str) -> None:
    """Make the QuickTime chapter track hold no samples: its ``stsz`` becomes 8 bytes.

    The 20-byte ``stsz`` of the text track (the one ``tref/chap`` points at) is
    split, in place, into an 8-byte ``stsz`` (a header only) and a 12-byte ``free``.
    """
    with open(path, "r+b") as handle:
        reader = BoxReader(handle, path)
        moov = reader.find(None, "moov")
        for trak in reader.find_all(moov, "trak"):
            handler = reader.find(trak, "mdia/hdlr")
            kind = reader.payload(handler)[8:12]
            if kind == b"text":
                stsz = reader.find(trak, "mdia/minf/stbl/stsz")
                assert stsz is not None and stsz.size == 20 + 4 * struct.unpack(
                    ">I", reader.read_at(stsz.offset + 16, 4, "count"))[0]
                handle.seek(stsz.offset)
                handle.write(struct.pack(">I4s", 8, b"stsz") + struct.pack(">I4s", stsz.size - 8, b"free"))
                return
    raise AssertionError("no text track")
