"""Shared pieces of the benchmarks: big test files, timing, bytes read.

Big files are made once in ``bench/out/`` (git-ignored) from lavfi sources:
raw video frames make gigabytes in seconds without an encoder in the way.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from chapterkit import muxer
from chapterkit.model import NS_PER_SECOND, ChapterList

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
CHAPTERS = ChapterList.of([(i * 2 * NS_PER_SECOND, f"Chapter {i + 1}") for i in range(8)])


def ffmpeg() -> str:
    return muxer.find_ffmpeg().path


def big_file(extension: str, megabytes: int) -> str:
    """A 20 s file of about ``megabytes`` MB: 500 rawvideo frames sized to fit, plus AAC audio."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"big-{megabytes}MB{extension}")
    if os.path.exists(path):
        return path
    frames, seconds = 500, 20
    # MOV stores raw video only as 4:2:2 ('2vuy'); Matroska takes plain yuv420p.
    pix_fmt, depth = ("uyvy422", 2.0) if extension == ".mov" else ("yuv420p", 1.5)
    pixels = megabytes * 1_000_000 / frames / depth
    width = max(32, int((pixels * 16 / 9) ** 0.5) // 16 * 16)
    height = max(18, int(pixels / width) // 2 * 2)
    subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc=s={width}x{height}:r=25", "-f", "lavfi", "-i", f"sine=d={seconds}",
                    "-frames:v", str(frames), "-c:v", "rawvideo", "-pix_fmt", pix_fmt, "-c:a", "aac",
                    path], check=True)
    return path


def big_audio(extension: str, codec: list[str], megabytes: int) -> str:
    """An audio file of about ``megabytes`` MB, made by looping a short encode with stream copy."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"big-{megabytes}MB{extension}")
    if os.path.exists(path):
        return path
    seed = os.path.join(OUT, f"seed{extension}")
    subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "anoisesrc=d=60:r=48000", *codec, seed], check=True)
    loops = max(1, megabytes * 1_000_000 // os.path.getsize(seed))
    subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", str(loops),
                    "-i", seed, "-c", "copy", path], check=True)
    return path


def median_seconds(action, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bytes_read(action) -> int:
    """Bytes this process read through read(2) while ``action`` ran (/proc/self/io rchar)."""
    def rchar() -> int:
        with open("/proc/self/io") as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
        return 0

    before = rchar()
    action()
    return rchar() - before - 200  # the two reads of /proc/self/io itself, roughly


def drop_caches_hint() -> str:
    return "warm page cache (files read once before timing)"
