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


# -- hostile files, built in memory ------------------------------------------------------------


def append_to_moov(path: str, payload: bytes) -> None:
    """Append boxes to ``moov`` (the last top-level box of an FFmpeg-written file) and fix its size."""
    with open(path, "r+b") as handle:
        reader = BoxReader(handle, path)
        moov = reader.find(None, "moov")
        assert moov is not None and moov.end == reader.file_size and moov.header_size == 8
        handle.seek(moov.offset)
        handle.write(struct.pack(">I", moov.size + len(payload)))
        handle.seek(0, os.SEEK_END)
        handle.write(payload)


def box(name: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), name) + payload


def nested_udta(depth: int) -> bytes:
    """``depth`` ``udta`` boxes, each inside the last (built inside out, no recursion)."""
    data = b""
    for _ in range(depth):
        data = box(b"udta", data)
    return data


def huge_chpl(size: int = 1 << 63) -> bytes:
    """A ``udta`` holding a ``chpl`` whose 64-bit size claims ``size`` bytes."""
    chpl = struct.pack(">I4sQ", 1, b"chpl", size) + bytes(9)
    return box(b"udta", chpl)


def _synchsafe(value: int) -> bytes:
    return bytes(((value >> 21) & 0x7F, (value >> 14) & 0x7F, (value >> 7) & 0x7F, value & 0x7F))


def id3_frame(frame_id: bytes, body: bytes) -> bytes:
    """An ID3v2.4 frame: id, synchsafe size, no flags."""
    return frame_id + _synchsafe(len(body)) + b"\x00\x00" + body


def id3_tag(frames: bytes) -> bytes:
    return b"ID3\x04\x00\x00" + _synchsafe(len(frames)) + frames


def chap(element_id: bytes, start_ms: int, end_ms: int, sub_frames: bytes = b"") -> bytes:
    return id3_frame(b"CHAP", element_id + b"\x00" + struct.pack(">IIII", start_ms, end_ms, 0xFFFFFFFF,
                                                                  0xFFFFFFFF) + sub_frames)


def title(text: str) -> bytes:
    return id3_frame(b"TIT2", b"\x03" + text.encode())


def ctoc(element_id: bytes, children: list[bytes], top: bool = False) -> bytes:
    flags = 0x01 | (0x02 if top else 0)  # ordered (+ top-level)
    return id3_frame(b"CTOC", element_id + b"\x00" + bytes((flags, len(children)))
                     + b"".join(child + b"\x00" for child in children))


def mp3_audio(path: str) -> bytes:
    """The MPEG audio of an MP3 file, without its ID3v2 tag."""
    data = open(path, "rb").read()
    if data.startswith(b"ID3"):
        size = 0
        for byte in data[6:10]:
            size = size << 7 | byte
        data = data[10 + size:]
    return data
