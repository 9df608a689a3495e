"""Huge counts (issue 11): chapters per second and peak memory, against mutagen where it reads the same.

Goal: linear time, bounded memory, at least 10,000 chapters/s (items: chapters, or comments
for the 100,000-comment file). Each case runs in
its own process (``resource.getrusage`` gives CPU seconds and the peak RSS), on
files built in ``bench/out/``:

- 70,000 ``CHAP`` frames in an MP3 (3.3 MB tag): the ``id3`` reader, and mutagen's
  own ``MP3()`` load of the same file as the reference;
- a 100,000-chapter description: ``youtube`` parse;
- a 20 MB chapter title in a Vorbis comment: the ``libav`` reader (FFmpeg's dump
  parsed), and the ``vorbis`` reader;
- 100,000 Vorbis comments: the ``vorbis`` reader, and mutagen's ``OggVorbis()`` load.

Run: ``python bench/bench_hostile.py`` (about a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

_RUNNER = """
import json, sys, time
setup, call = sys.argv[1], sys.argv[2]
namespace = {}
exec(setup, namespace)
began = time.process_time()
count = eval(call, namespace)
used = time.process_time() - began
# VmHWM belongs to this process image (ru_maxrss would carry the parent's over exec).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"count": count, "cpu": used, "rss_mb": hwm / 1024}))
"""


def measure(setup: str, call: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _RUNNER, setup, call], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def build() -> dict[str, str]:
    from mutagen.oggvorbis import OggVorbis

    from chapterkit.embed import embed
    from chapterkit.formats._stamps import format_stamp
    from chapterkit.model import NS_PER_SECOND, ChapterList
    from conftest import make_media
    from hardening.helpers import chap, id3_tag, mp3_audio, title

    os.makedirs(OUT, exist_ok=True)
    three = ChapterList.of([(0, "Intro"), (NS_PER_SECOND, "Middle"), (2 * NS_PER_SECOND, "Outro")])
    files = {}
    for kind in ("mp3", "ogg"):
        clip = make_media.make_clip(os.path.join(OUT, f"hostile-plain.{kind}"), kind, seconds=3)
        files[kind] = os.path.join(OUT, f"hostile-chaptered.{kind}")
        embed(clip, three, output=files[kind])
    files["chap"] = os.path.join(OUT, "hostile-70000-chap.mp3")
    with open(files["chap"], "wb") as out:
        frames = b"".join(chap(f"c{i}".encode(), i * 10, i * 10 + 10, title(f"Chapter {i}")) for i in range(70_000))
        out.write(id3_tag(frames) + mp3_audio(files["mp3"]))
    files["description"] = os.path.join(OUT, "hostile-100000.txt")
    with open(files["description"], "w") as out:
        out.write("".join(f"{format_stamp(i * 10 * NS_PER_SECOND)} Chapter {i}\n" for i in range(100_000)))
    files["title"] = os.path.join(OUT, "hostile-20MB-title.ogg")
    shutil.copy(files["ogg"], files["title"])
    audio = OggVorbis(files["title"])
    audio.tags["CHAPTER001NAME"] = ["x" * (20 << 20)]
    audio.save()
    files["comments"] = os.path.join(OUT, "hostile-100000-comments.ogg")
    shutil.copy(files["ogg"], files["comments"])
    audio = OggVorbis(files["comments"])
    for index in range(100_000):
        audio.tags.append((f"NOTE{index}", "y"))
    audio.save()
    return files


def main() -> None:
    files = build()
    reader = "from chapterkit.containers import run_reader\n"
    cases = [
        ("70,000 CHAP: id3 reader", 70_000, reader, f"len(run_reader('id3', {files['chap']!r}).chapters)"),
        ("70,000 CHAP: mutagen MP3()", 70_000, "from mutagen.mp3 import MP3",
         f"len(MP3({files['chap']!r}).tags.getall('CHAP'))"),
        ("100,000-line description: parse", 100_000,
         f"from chapterkit.formats import description\ntext = open({files['description']!r}).read()",
         "len(description.parse(text).chapters)"),
        ("20 MB title: libav reader", 1, reader, f"len(run_reader('libav', {files['title']!r}).chapters)"),
        ("20 MB title: vorbis reader", 1, reader, f"len(run_reader('vorbis', {files['title']!r}).chapters)"),
        ("100,000 comments: vorbis reader", 100_000, reader,
         f"len(run_reader('vorbis', {files['comments']!r}).chapters)"),
        ("100,000 comments: mutagen OggVorbis()", 100_000, "from mutagen.oggvorbis import OggVorbis",
         f"len(OggVorbis({files['comments']!r}).tags)"),
    ]
    for label, items, setup, call in cases:
        found = measure(setup, call)
        rate = f"{items / found['cpu']:12,.0f} items/s" if items > 1 and found["cpu"] else ""
        print(f"{label:40} {found['cpu']:7.2f} s CPU  {found['rss_mb']:7.1f} MB peak RSS  {rate}")


if __name__ == "__main__":
    main()
