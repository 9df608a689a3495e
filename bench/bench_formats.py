"""Parse speed of the tool-written chapter formats (issue 7).

    python bench/bench_formats.py [--chapters 20000]

For each reader (mp4chaps, podcast, psc, cue, audacity, youtube-dl-json) it
builds one file of N chapters (written by our own writer, or for the read-only
yt-dlp format an info.json that also carries 2 MB of formats as real ones do),
then times detection plus parsing, ``formats.parse(text)``, as the CLI runs it.
The JSON document cache is cleared before every run, so each run decodes the
text afresh. Prints chapters per second and the ratio to the goal.
Goal: every reader at least 10,000 chapters per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from chapterkit import formats
from chapterkit.formats import _jsondoc
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList

GOAL = 10_000


def sample(count: int) -> ChapterList:
    return ChapterList(tuple(Chapter(i * 3 * NS_PER_SECOND + i % 7 * 1_000_000, None,
                                     f"Chapter {i + 1}: a title of several words", "https://example.com/i.jpg",
                                     "https://example.com/") for i in range(count)), title="Bench")


def info_json(chapters: ChapterList) -> str:
    rows = [{"start_time": c.start_ns / NS_PER_SECOND, "end_time": (c.start_ns + 3 * NS_PER_SECOND) / NS_PER_SECOND,
             "title": c.title} for c in chapters]
    formats_ = [{"format_id": str(i), "ext": "mp4", "tbr": i / 7, "fps": 29.97, "url": f"https://example.invalid/{i}",
                 "http_headers": {"User-Agent": "x" * 40}} for i in range(12_000)]
    return json.dumps({"id": "x", "extractor": "youtube", "title": "t", "duration": 1e6, "formats": formats_,
                       "chapters": rows}, indent=4)


def cue_sheet(chapters: ChapterList) -> str:
    # Our writer stops at the CUE limit of 99 tracks; a reader must still take long sheets.
    lines = ['FILE "media.wav" WAVE']
    for number, chapter in enumerate(chapters, 1):
        frames = chapter.start_ns * 75 // NS_PER_SECOND
        lines += [f"  TRACK {number:02d} AUDIO", f'    TITLE "{chapter.title}"',
                  f"    INDEX 01 {frames // 4500:02d}:{frames // 75 % 60:02d}:{frames % 75:02d}"]
    return "\n".join(lines) + "\n"


def texts(count: int) -> dict[str, str]:
    chapters = sample(count)
    made = {name: formats.render(chapters, name) for name in ("mp4chaps", "podcast", "psc", "audacity")}
    made["cue"] = cue_sheet(chapters)
    made["youtube-dl-json"] = info_json(chapters)
    return made


def median_seconds(action, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        _jsondoc._load.cache_clear()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chapters", type=int, default=20_000)
    args = parser.parse_args()
    for name, text in texts(args.chapters).items():
        assert formats.detect(text).name == name, name
        assert len(formats.parse(text).chapters) == args.chapters, name
        seconds = median_seconds(lambda text=text: formats.parse(text))
        rate = args.chapters / seconds
        print(f"{name:16} {len(text) / 1e6:6.2f} MB  {args.chapters} chapters in {seconds * 1000:7.1f} ms: "
              f"{rate:10,.0f} chapters/s ({rate / GOAL:5.1f}x the goal of {GOAL:,}/s)")


if __name__ == "__main__":
    main()
