"""Batch figures (issue 9): --check and a no-op run over 200 files, embed throughput, processes vs threads.

Usage: ``python bench/bench_batch.py [--large-mb 200] [--skip-large]``. Every figure is the wall
time of the real ``chapterkit`` command (interpreter start included), median of 3 runs, warm cache.

- ``batch --check`` over 200 small chaptered files (50 each MP4, MKV, MP3, FLAC) against 200
  ``ffprobe -v error -show_chapters`` runs, one per file, as a shell loop would do it
  (goal: under 2 s and at least 10x faster);
- a no-op ``batch --in-place`` over the same 200 files, all up to date (goal: under 2 s);
- ``batch -o`` throughput with ``-j 1`` and ``-j 2`` on 50 small files and on 4 large ones
  (MP4 and MKV remuxed by FFmpeg, MP3 and FLAC written by mutagen), with both executors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CHAPTERS, OUT, big_audio, big_file, ffmpeg  # noqa: E402

from chapterkit import formats  # noqa: E402
from chapterkit.embed import embed  # noqa: E402

CLI = [sys.executable, "-m", "chapterkit"]
KINDS = {"mp4": ".mp4", "mkv": ".mkv", "mp3": ".mp3", "flac": ".flac"}


def wall(argv: list[str], runs: int = 3, before=None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def small_folder(root: str, count: int, chaptered: bool) -> str:
    """``count`` small files (MP4, MKV, MP3, FLAC in turn) with JSON sidecars, chaptered or not."""
    folder = os.path.join(root, f"small-{count}-{'chaptered' if chaptered else 'plain'}")
    if os.path.isdir(folder):
        return folder
    os.makedirs(folder)
    seeds = {}
    for kind, extension in KINDS.items():
        seed = os.path.join(root, f"seed{extension}")
        if not os.path.exists(seed):
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures"))
            from make_media import make_clip

            make_clip(seed, kind, seconds=20)
        seeds[kind] = seed
        if chaptered:
            seeds[kind] = embed(seed, CHAPTERS, output=os.path.join(root, f"chaptered{extension}"),
                                verify=False).output if not os.path.exists(
                os.path.join(root, f"chaptered{extension}")) else os.path.join(root, f"chaptered{extension}")
    sidecar = formats.render(CHAPTERS, "json")
    kinds = list(KINDS)
    for n in range(count):
        kind = kinds[n % len(kinds)]
        name = f"take{n:03d}{KINDS[kind]}"
        shutil.copyfile(seeds[kind], os.path.join(folder, name))
        with open(os.path.join(folder, f"take{n:03d}.json"), "w", encoding="utf-8") as out:
            out.write(sidecar)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large-mb", type=int, default=200)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    root = os.path.join(OUT, "batch")
    os.makedirs(root, exist_ok=True)
    ffprobe = shutil.which("ffprobe")
    print(f"FFmpeg {ffmpeg()}; ffprobe {ffprobe}; CPUs {os.cpu_count()}")

    chaptered = small_folder(root, 200, chaptered=True)
    media = sorted(os.path.join(chaptered, n) for n in os.listdir(chaptered) if not n.endswith(".json"))
    for executor in ("process", "thread"):
        for jobs in (1, 2):
            seconds = wall(CLI + ["batch", chaptered, "--check", "-q", "-j", str(jobs), "--executor", executor])
            print(f"check 200 files, -j {jobs}, {executor}: {seconds:.2f} s")
    check = wall(CLI + ["batch", chaptered, "--check", "-q"])
    print(f"check 200 files, defaults: {check:.2f} s")
    if ffprobe:
        def probe_all():
            for path in media:
                subprocess.run([ffprobe, "-v", "error", "-show_chapters", path], stdout=subprocess.DEVNULL)

        start = time.perf_counter()
        probe_all()
        probe = time.perf_counter() - start
        print(f"200 x ffprobe -show_chapters: {probe:.2f} s; batch --check is {probe / check:.1f}x faster")
    for executor in ("process", "thread"):
        for jobs in (1, 2):
            seconds = wall(CLI + ["batch", chaptered, "--in-place", "-q", "-j", str(jobs), "--executor", executor])
            print(f"no-op in-place run over 200 up-to-date files, -j {jobs}, {executor}: {seconds:.2f} s")

    plain = small_folder(root, 50, chaptered=False)
    out = os.path.join(root, "out")
    for executor in ("process", "thread"):
        for jobs in (1, 2):
            seconds = wall(CLI + ["batch", plain, "-o", out, "-q", "-j", str(jobs), "--executor", executor],
                           before=lambda: shutil.rmtree(out, ignore_errors=True))
            print(f"embed 50 small files, -j {jobs}, {executor}: {seconds:.2f} s ({50 / seconds:.1f} files/s)")

    if not args.skip_large:
        large = os.path.join(root, "large")
        os.makedirs(large, exist_ok=True)
        megabytes = args.large_mb
        sources = [big_file(".mkv", megabytes), big_file(".mov", megabytes),
                   big_audio(".mp3", ["-c:a", "libmp3lame", "-b:a", "320k"], megabytes),
                   big_audio(".flac", ["-c:a", "flac"], megabytes)]
        for source in sources:
            target = os.path.join(large, os.path.basename(source))
            if not os.path.exists(target):
                shutil.copyfile(source, target)
                with open(os.path.splitext(target)[0] + ".json", "w", encoding="utf-8") as handle:
                    handle.write(formats.render(CHAPTERS, "json"))
        total = sum(os.path.getsize(os.path.join(large, n)) for n in os.listdir(large)) / 1e6
        for executor in ("process", "thread"):
            for jobs in (1, 2):
                seconds = wall(CLI + ["batch", large, "-o", out, "-q", "-j", str(jobs), "--executor", executor],
                               runs=1, before=lambda: shutil.rmtree(out, ignore_errors=True))
                print(f"embed 4 large files ({total:.0f} MB), -j {jobs}, {executor}: {seconds:.2f} s "
                      f"({total / seconds:.0f} MB/s)")
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(large, ignore_errors=True)


if __name__ == "__main__":
    main()
