"""Embed cost against the reference commands.

    python bench/bench_embed.py [--big-mb 1000]

For 10 MB and about 1 GB files it prints the median wall time of
``chapterkit embed`` (library call, verification included and excluded) against
the raw ``ffmpeg -i IN -f ffmetadata -i META -map 0 -map_chapters 1 -c copy OUT``
(MKV, MOV) and against ``cp`` of the same file (all containers), as ratios. chapterkit
fsyncs its output before the rename (nothing is lost on a crash), so each reference is
also timed followed by ``sync FILE``, the like-for-like figure.
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


def synced(argv: list[str], target: str, sync: bool):
    """Run a reference command; with ``sync``, fsync its output as chapterkit does (coreutils ``sync FILE``)."""
    def action():
        subprocess.run(argv, check=True)
        if sync:
            subprocess.run(["sync", target], check=True)
        os.unlink(target)
    return action


def timed_cp(path: str, sync: bool = False) -> float:
    target = os.path.join(OUT, "copied" + os.path.splitext(path)[1])
    return median_seconds(synced(["cp", path, target], target, sync))


def timed_raw_ffmpeg(path: str, sync: bool = False) -> float:
    target = os.path.join(OUT, "raw" + os.path.splitext(path)[1])
    with tempfile.NamedTemporaryFile("w", suffix=".ffmeta", delete=False) as meta:
        meta.write(ffmetadata.render(CHAPTERS))
    argv = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", path, "-f", "ffmetadata", "-i",
            meta.name, "-map", "0", "-map_chapters", "1", "-c", "copy", target]
    try:
        return median_seconds(synced(argv, target, sync))
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
            raw, raw_sync, cp = timed_raw_ffmpeg(path), timed_raw_ffmpeg(path, True), timed_cp(path)
            print(f"{extension} {os.path.getsize(path) / 1e6:8.1f} MB: embed {ours:.3f} s "
                  f"(no verify {ours_nv:.3f} s), raw ffmpeg {raw:.3f} s (+sync {raw_sync:.3f} s), cp {cp:.3f} s; "
                  f"embed/ffmpeg {ours / raw:.2f}x, embed/(ffmpeg+sync) {ours / raw_sync:.2f}x (goal <= 1.1x)")
        for extension, codec in AUDIO.items():
            path = big_audio(extension, codec, size)
            ours, ours_nv = timed_embed(path, True), timed_embed(path, False)
            cp, cp_sync = timed_cp(path), timed_cp(path, True)
            print(f"{extension} {os.path.getsize(path) / 1e6:8.1f} MB: embed {ours:.3f} s "
                  f"(no verify {ours_nv:.3f} s), cp {cp:.3f} s (+sync {cp_sync:.3f} s); embed/cp {ours / cp:.2f}x, "
                  f"embed/(cp+sync) {ours / cp_sync:.2f}x (goal <= 1.2x)")


if __name__ == "__main__":
    main()
