"""Parse speed and CLI start-up.

    python bench/bench_parse.py

Prints descriptions parsed per second on a 200-line description (prose, links and a
120-chapter list), and the wall time of ``chapterkit --help`` against a bare
``python -c pass`` (the floor any Python CLI pays). Goal: start-up under 150 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from chapterkit import formats


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
    cli = wall(["chapterkit", "--help"])
    floor = wall([sys.executable, "-c", "pass"])
    print(f"start-up: chapterkit --help {cli * 1000:.0f} ms median; python -c pass {floor * 1000:.0f} ms; "
          f"ratio {cli / floor:.2f}x; goal < 150 ms: {'met' if cli < 0.150 else 'MISSED'}")


if __name__ == "__main__":
    main()
