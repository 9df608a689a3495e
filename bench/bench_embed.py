"""Embed cost against the reference commands.

    python bench/bench_embed.py [--big-mb 1000]

For 10 MB and about 1 GB files it prints the median wall time of
``chapterkit embed`` (library call, verification included and excluded) against
the raw ``ffmpeg -i IN -f ffmetadata -i META -map 0 -map_chapters 1 -c copy OUT``
(MKV, MP4) and against ``cp`` of the same file (all containers), as ratios.
Goals: within 1.1x of raw FFmpeg; the MP3/Ogg/FLAC path (one copy, then only
tags rewritten) within 1.2x of ``cp``. Every output is written to the same
folder and removed after each run; the page cache is warm.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile

from common import CHAPTERS, OUT, big_audio, big_file, ffmpeg, median_seconds

from chapterkit.embed import embed
from chapterkit.formats import ffmetadata

AUDIO = {".mp3": ["-c:a", "libmp3lame", "-b:a", "320k"], ".flac": ["-c:a", "flac"],
         ".ogg": ["-c:a", "libvorbis", "-q:a", "10"]}


def timed_embed(path: str, verify: bool) -> float:
    target = os.path.join(OUT, "embedded" + os.path.splitext(path)[1])

    def action():
        embed(path, CHAPTERS, output=target, verify=verify)
        os.unlink(target)
    return median_seconds(action)


def timed_cp(path: str) -> float:
    target = os.path.join(OUT, "copied" + os.path.splitext(path)[1])
    return median_seconds(lambda: (subprocess.run(["cp", path, target], check=True), os.unlink(target)))


def timed_raw_ffmpeg(path: str) -> float:
    target = os.path.join(OUT, "raw" + os.path.splitext(path)[1])
    with tempfile.NamedTemporaryFile("w", suffix=".ffmeta", delete=False) as meta:
        meta.write(ffmetadata.render(CHAPTERS))
    argv = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", path, "-f", "ffmetadata", "-i",
            meta.name, "-map", "0", "-map_chapters", "1", "-c", "copy", target]
    try:
        return median_seconds(lambda: (subprocess.run(argv, check=True), os.unlink(target)))
    finally:
        os.unlink(meta.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mb", type=int, default=1000)
    args = parser.parse_args()
    for size in (10, args.big_mb):
        for extension in (".mkv", ".mov"):  # .mov: the MP4 family, with raw video
            path = big_file(extension, size)
            ours, ours_nv = timed_embed(path, True), timed_embed(path, False)
            raw, cp = timed_raw_ffmpeg(path), timed_cp(path)
            print(f"{extension} {os.path.getsize(path) / 1e6:8.1f} MB: embed {ours:.3f} s "
                  f"(no verify {ours_nv:.3f} s), raw ffmpeg {raw:.3f} s, cp {cp:.3f} s; "
                  f"embed/ffmpeg {ours / raw:.2f}x (goal <= 1.1x), no-verify/ffmpeg {ours_nv / raw:.2f}x")
        for extension, codec in AUDIO.items():
            path = big_audio(extension, codec, size)
            ours, ours_nv, cp = timed_embed(path, True), timed_embed(path, False), timed_cp(path)
            print(f"{extension} {os.path.getsize(path) / 1e6:8.1f} MB: embed {ours:.3f} s "
                  f"(no verify {ours_nv:.3f} s), cp {cp:.3f} s; embed/cp {ours / cp:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
