"""In-place MP4 chapter edits: cost on a 20 MB and a 2 GB file, against a remux and ``cp``.

    python bench/bench_inplace_mp4.py [--big-mb 2000] [--keep]

Both files are H.264 (lossless, on random pixels, so size follows resolution) + AAC,
500 frames over 20 s, moov at the end (FFmpeg's default): same sample count, so the
same moov size, and only the media data differs 100x. For each it prints the median
wall time of:

- in place: open, :func:`chapterkit.containers.mp4edit.plan_chapters`,
  :func:`chapterkit.inplace.apply` (four ``fsync`` barriers included), close; the runs
  edit the same file again and again, so appends and reuses alternate;
- remux: ``ffmpeg -i IN -f ffmetadata -i META -map 0 -map_chapters 1 -c copy
  -movie_timescale 1000 OUT`` then ``sync OUT`` (what the remux path writes);
- ``cp IN OUT`` then ``sync OUT``.

Goal: in-place big/small <= 1.2. The big file is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile

from common import CHAPTERS, OUT, ffmpeg, median_seconds

from chapterkit.containers.mp4edit import plan_chapters
from chapterkit.formats import ffmetadata
from chapterkit.inplace import apply
from chapterkit.model import NS_PER_SECOND, ChapterList

FRAMES, SECONDS = 500, 20


def make_mp4(megabytes: int) -> str:
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"inplace-{megabytes}MB.mp4")
    if os.path.exists(path):
        os.unlink(path)  # earlier runs edited it: start from FFmpeg's layout
    pixels = megabytes * 1_000_000 / FRAMES / 2.4  # x264 lossless on noise: ~1.6x the raw yuv420p size
    width = max(32, int((pixels * 16 / 9) ** 0.5) // 16 * 16)
    height = max(18, int(pixels / width) // 2 * 2)
    subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-r", "25",
                    "-i", "/dev/urandom", "-f", "lavfi", "-i", f"sine=d={SECONDS}",
                    "-frames:v", str(FRAMES), "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
                    "-c:a", "aac", "-shortest", path], check=True)
    return path


def variants() -> list[ChapterList]:
    shifted = ChapterList.of([(i * 2 * NS_PER_SECOND, f"Section {i + 1}") for i in range(8)])
    return [CHAPTERS, shifted]


def in_place(path: str) -> tuple[float, list[str]]:
    lists = variants()
    layouts: list[str] = []

    def action():
        fd = os.open(path, os.O_RDWR)
        try:
            result = plan_chapters(fd, lists[len(layouts) % 2])
            apply(fd, result.plan)
            layouts.append(result.layout)
        finally:
            os.close(fd)
    return median_seconds(action, runs=7), layouts


def remux(path: str, meta: str) -> float:
    target = os.path.join(OUT, "remuxed.mp4")

    def action():
        subprocess.run([ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", path, "-f", "ffmetadata",
                        "-i", meta, "-map", "0", "-map_chapters", "1", "-c", "copy", "-movie_timescale", "1000",
                        target], check=True)
        subprocess.run(["sync", target], check=True)
        os.unlink(target)
    return median_seconds(action, runs=3)


def copy(path: str) -> float:
    target = os.path.join(OUT, "copied.mp4")

    def action():
        subprocess.run(["cp", path, target], check=True)
        subprocess.run(["sync", target], check=True)
        os.unlink(target)
    return median_seconds(action, runs=3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small-mb", type=int, default=20)
    parser.add_argument("--big-mb", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        meta = os.path.join(scratch, "chapters.ffmeta")
        with open(meta, "w", encoding="utf-8") as handle:
            handle.write(ffmetadata.render(CHAPTERS))
        figures = {}
        for megabytes in (args.small_mb, args.big_mb):
            path = make_mp4(megabytes)
            size = os.path.getsize(path)
            reference_remux, reference_copy = remux(path, meta), copy(path)
            seconds, layouts = in_place(path)
            growth = os.path.getsize(path) - size
            figures[megabytes] = seconds
            print(f"{size / 1e6:8.1f} MB: in place {seconds * 1000:.1f} ms ({'/'.join(layouts)}; file "
                  f"{growth:+d} bytes after {len(layouts)} edits), remux+sync {reference_remux:.3f} s, "
                  f"cp+sync {reference_copy:.3f} s; remux/in-place {reference_remux / seconds:.0f}x, "
                  f"cp/in-place {reference_copy / seconds:.0f}x")
            if megabytes == args.big_mb and not args.keep:
                os.unlink(path)
        ratio = figures[args.big_mb] / figures[args.small_mb]
        print(f"in place {args.big_mb} MB / {args.small_mb} MB: {ratio:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
