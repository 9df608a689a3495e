"""Verify cost: independent of file size, and cheaper than spawning ffprobe.

    python bench/bench_verify.py [--big-mb 2000]

For MKV and MOV (MP4 family) files of 10 MB and about 2 GB (chapters embedded by chapterkit) it
prints the median time of one ``verify_file`` with the in-process readers
(``matroska``; ``quicktime`` + ``nero``), the same with the ``libav`` reader added
(one FFmpeg process), the bytes this process read, the 2 GB/10 MB time ratio (goal:
within 1.5x), and 200 verifications in one process against 200
``ffprobe -show_chapters`` runs (goal: faster per file). ffprobe comes from
Debian's ffmpeg package; without it that line is skipped with its name.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess

from common import CHAPTERS, big_file, bytes_read, median_seconds

from chapterkit.embed import embed
from chapterkit.verify import verify_file

# MOV is the MP4 family (same movenc muxer); unlike .mp4 it takes raw video, so 2 GB are made in seconds.
IN_PROCESS = {".mkv": ["matroska"], ".mov": ["quicktime", "nero"]}


def chaptered(extension: str, megabytes: int) -> str:
    source = big_file(extension, megabytes)
    target = source[: -len(extension)] + "-ch" + extension
    if not os.path.exists(target):
        embed(source, CHAPTERS, output=target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mb", type=int, default=2000)
    args = parser.parse_args()
    for extension, readers in IN_PROCESS.items():
        times = {}
        for size in (10, args.big_mb):
            path = chaptered(extension, size)
            real_size = os.path.getsize(path) / 1e6
            verify_file(path, CHAPTERS, readers=readers)  # warm
            inproc = median_seconds(lambda: verify_file(path, CHAPTERS, readers=readers), runs=9)
            with_libav = median_seconds(lambda: verify_file(path, CHAPTERS, readers=readers + ["libav"]), runs=5)
            read = bytes_read(lambda: verify_file(path, CHAPTERS, readers=readers))
            times[size] = inproc
            print(f"{extension} {real_size:8.1f} MB: verify {'+'.join(readers)} {inproc * 1000:7.2f} ms, "
                  f"+libav {with_libav * 1000:7.1f} ms, read {read:,} bytes")
        print(f"{extension} size ratio {args.big_mb} MB / 10 MB: {times[args.big_mb] / times[10]:.2f}x (goal <= 1.5x)")

        small = chaptered(extension, 10)
        ours = median_seconds(lambda: [verify_file(small, CHAPTERS, readers=readers) for _ in range(200)], runs=3)
        ffprobe = shutil.which("ffprobe")
        if ffprobe:
            argv = [ffprobe, "-v", "error", "-show_chapters", "-of", "json", small]
            theirs = median_seconds(lambda: [subprocess.run(argv, capture_output=True, check=True)
                                             for _ in range(200)], runs=3)
            print(f"{extension} 200 verifications in one process: {ours:.3f} s; 200 ffprobe -show_chapters: "
                  f"{theirs:.3f} s; ratio {ours / theirs:.3f}x (goal < 1)")
        else:
            print(f"{extension} 200 verifications: {ours:.3f} s; ffprobe not installed, no comparison")


if __name__ == "__main__":
    main()
