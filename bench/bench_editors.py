"""Editors' marker exports: parse speed of each reader, and the timecode math against the libraries.

    python bench/bench_editors.py [--markers 10000]

For each reader (``edl``, ``premiere-csv``, ``fcpxml``) a file of ``--markers`` markers is
generated in memory and parsed; the figure is markers per second (goal: at least 10,000)
and the ratio against a reference that does less: ``pycmx`` splitting the same EDL into
statements (no marker parsing, no timecode math), :mod:`csv` reading the same rows, and
``defusedxml`` building the same XML tree. Then SMPTE label -> frames conversions per second:
ours, ``timecode`` (1.5.x) and OpenTimelineIO's ``opentime``, with the 10 h drop-frame value
each gives. A reference that is not installed is reported as such (``pip install pycmx
timecode opentimelineio``).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from fractions import Fraction

from chapterkit.formats import edl, fcpxml, premiere_csv
from chapterkit.formats.base import ParseOptions
from chapterkit.timecode import SmpteClock, format_smpte, smpte_to_ns

NTSC = Fraction(30000, 1001)


def best_of(action, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def resolve_edl(count: int) -> str:
    lines = ["TITLE: Bench", "FCM: DROP FRAME", ""]
    for index in range(count):
        tc = format_smpte(107_892 + index * 97, NTSC, True)
        out = format_smpte(107_893 + index * 97, NTSC, True)
        lines += [f"{index % 1000:03d}  001      V     C        {tc} {out} {tc} {out}  ",
                  f" |C:ResolveColorBlue |M:Marker {index} with a title |D:1", ""]
    return "\r\n".join(lines)


def premiere_tsv(count: int) -> str:
    rows = ["Marker Name\tDescription\tIn\tOut\tDuration\tMarker Type\t"]
    for index in range(count):
        tc = format_smpte(index * 97, NTSC, True).replace(":", ";")
        rows.append(f"Marker {index}\tA note about it\t{tc}\t{tc}\t00;00;00;00\tChapter\t")
    return "\r\n".join(rows) + "\r\n"


def fcp_xml(count: int) -> str:
    markers = "\n".join(f'          <chapter-marker start="{index * 97 * 1001}/30000s" duration="1001/30000s" '
                        f'value="Marker {index}" posterOffset="0s"/>' for index in range(count))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.11">
  <resources><format id="r1" frameDuration="1001/30000s"/><asset id="r2" start="0s" duration="999999s"/></resources>
  <library><event name="E"><project name="P"><sequence format="r1" tcStart="0s"><spine>
        <asset-clip ref="r2" offset="0s" start="0s" duration="{count * 97 * 1001 + 1001}/30000s">
{markers}
        </asset-clip>
  </spine></sequence></project></event></library>
</fcpxml>
"""


def reference_edl(text: str):
    try:
        import pycmx
    except ImportError:
        return None
    return lambda: list(pycmx.parse_cmx3600(io.StringIO(text)).events)


def reference_xml(text: str):
    from defusedxml.ElementTree import fromstring

    data = text.encode("utf-8")
    return lambda: fromstring(data)


def readers(count: int) -> None:
    options = ParseOptions(fps=NTSC)
    cases = [
        ("edl", edl, resolve_edl(count), reference_edl, "pycmx statements"),
        ("premiere-csv", premiere_csv, premiere_tsv(count),
         lambda text: (lambda: list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))), "csv.reader rows"),
        ("fcpxml", fcpxml, fcp_xml(count), reference_xml, "defusedxml tree"),
    ]
    print(f"{'reader':14s} {'markers':>8s} {'seconds':>8s} {'markers/s':>11s}  goal  reference")
    for name, module, text, make_reference, what in cases:
        result = module.parse(text, options)
        assert len(result.chapters) == count, (name, len(result.chapters))
        seconds = best_of(lambda: module.parse(text, options))
        reference = make_reference(text)
        if reference is None:
            versus = f"{what}: not installed"
        else:
            ref_seconds = best_of(reference)
            versus = f"{what} {ref_seconds:.3f} s ({seconds / ref_seconds:.2f}x)"
        goal = "met" if count / seconds >= 10_000 else "MISSED"
        print(f"{name:14s} {count:8d} {seconds:8.3f} {count / seconds:11,.0f}  {goal:4s}  {versus}")


def timecodes(count: int = 20_000) -> None:
    labels = [format_smpte(index * 53, NTSC, True) for index in range(count)]
    clock = SmpteClock(NTSC)
    rows = [("chapterkit SmpteClock", lambda: [clock.frames(t) for t in labels],
             smpte_to_ns("10:00:00;00", NTSC) / 1e9)]
    try:
        import timecode as tc_lib

        rows.append(("timecode", lambda: [tc_lib.Timecode("29.97", t).frames for t in labels],
                     tc_lib.Timecode("29.97", "10:00:00;00").float))
    except ImportError:
        rows.append(("timecode", None, None))
    try:
        from opentimelineio import opentime

        rows.append(("opentimelineio.opentime", lambda: [opentime.from_timecode(t, 30000 / 1001) for t in labels],
                     opentime.from_timecode("10:00:00;00", 30000 / 1001).to_seconds()))
    except ImportError:
        rows.append(("opentimelineio.opentime", None, None))
    print(f"\n{'timecode library':24s} {'labels/s':>11s}  10:00:00;00 at 29.97 DF (exact: 35999.964 s)")
    for name, action, ten_hours in rows:
        if action is None:
            print(f"{name:24s} {'not installed':>11s}")
            continue
        seconds = best_of(action, runs=3)
        print(f"{name:24s} {count / seconds:11,.0f}  {ten_hours!r} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markers", type=int, default=10_000)
    args = parser.parse_args()
    readers(args.markers)
    timecodes()


if __name__ == "__main__":
    main()
