"""Parse speed and CLI start-up.

    python bench/bench_parse.py

Prints descriptions parsed per second on a 200-line description (prose, links and a
120-chapter list), and the wall time of ``chapterkit --help`` against a bare
``python -c pass`` (the floor any Python CLI pays). Goal: start-up under 150 ms.

Then chapters parsed per second by every writable format's reader, on a 2,000-chapter
list each format wrote itself (mkvxml: two editions, nested atoms, two display
languages; the flat formats: the default edition's view). Goal: at least 10,000
chapters/s per reader.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from chapterkit import formats
from chapterkit.model import Atom, ChapterList, Display, Edition

GOAL_CHAPTERS_PER_SECOND = 10_000


def description_200_lines() -> str:
    lines = ["A long walk through the making of the show.", "", "Chapters:"]
    for index in range(120):
        minutes, seconds = divmod(index * 37, 60)
        hours, minutes = divmod(minutes, 60)
        stamp = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        lines.append(f"{stamp} Part {index + 1}: a title with some words")
    while len(lines) < 200:
        lines.append(f"Follow us at https://example.org/page?t={len(lines)} and say hi, it is 20:00 here.")
    return "\n".join(lines) + "\n"


def time_parse(text: str, rounds: int = 200) -> float:
    fmt = formats.get_format("youtube")
    fmt.parse(text)  # warm up
    start = time.perf_counter()
    for _ in range(rounds):
        fmt.parse(text)
    return rounds / (time.perf_counter() - start)


def big_list(count: int = 2000, *, heavy: bool = False) -> ChapterList:
    """``count`` chapters 15 s apart (YouTube accepts them) in the default edition of two.

    Each atom is what mkvextract writes for an mkvmerge-made file: a UID, start, end and
    one display with ``eng``/``en``. ``heavy`` adds a German display and a nested atom
    to every chapter (19 XML elements per chapter instead of 9).
    """
    def atom(i: int) -> Atom:
        displays = (Display(f"Chapter {i + 1}: a title with some words", ("eng",), ("en",)),)
        nested: tuple[Atom, ...] = ()
        if heavy:
            displays += (Display(f"Kapitel {i + 1}", ("ger",), ("de",)),)
            nested = (Atom(10**6 + i, i * 15_000_000_000 + 5_000_000_000, None, displays=displays[:1]),)
        return Atom(i + 1, i * 15_000_000_000, (i + 1) * 15_000_000_000, displays=displays, children=nested)

    main = Edition(1, flag_default=True, atoms=tuple(atom(i) for i in range(count)))
    return ChapterList.from_editions([main, Edition(2, atoms=main.atoms[:10])], duration_ns=count * 15_000_000_000)


def reader_speeds(chapters: ChapterList, names: list[str] | None = None) -> list[tuple[str, float]]:
    """Chapters per second of each writable format's ``parse``, on text it wrote (best of 5 runs)."""
    from chapterkit.formats.base import ParseOptions

    speeds = []
    for name in names or formats.writable():
        fmt = formats.get_format(name)
        text = fmt.render(chapters)
        options = ParseOptions(duration_ns=chapters.duration_ns)
        count = len(fmt.parse(text, options).chapters)
        best = min(_timed(lambda: fmt.parse(text, options)) for _ in range(5))
        speeds.append((name, count / best))
    return speeds


def _timed(action) -> float:
    # CPU seconds of this process: on a shared, loaded machine wall time mostly measures the
    # wait for a core, not the reader (both are printed by main for the description bench).
    start = time.process_time()
    action()
    return time.process_time() - start


def wall(argv: list[str], runs: int = 15) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    text = description_200_lines()
    assert len(text.splitlines()) == 200
    per_second = time_parse(text)
    print(f"parse: {per_second:,.0f} descriptions/s on a 200-line description "
          f"({1000 / per_second:.2f} ms each, {len(formats.parse(text).chapters)} chapters)")
    chapters = big_list()
    results = reader_speeds(chapters) + [(f"{name} (heavy: + nested atom, 2nd language)", speed)
                                         for name, speed in reader_speeds(big_list(heavy=True), ["mkvxml"])]
    for name, speed in results:
        verdict = "met" if speed >= GOAL_CHAPTERS_PER_SECOND else "MISSED"
        print(f"reader {name}: {speed:,.0f} chapters per CPU-second on {len(chapters)} chapters "
              f"({speed / GOAL_CHAPTERS_PER_SECOND:.1f}x the {GOAL_CHAPTERS_PER_SECOND:,}/s goal: {verdict})")
    cli = wall(["chapterkit", "--help"])
    floor = wall([sys.executable, "-c", "pass"])
    print(f"start-up: chapterkit --help {cli * 1000:.0f} ms median; python -c pass {floor * 1000:.0f} ms; "
          f"ratio {cli / floor:.2f}x; goal < 150 ms: {'met' if cli < 0.150 else 'MISSED'}")


if __name__ == "__main__":
    main()
