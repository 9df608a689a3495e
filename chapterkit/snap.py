"""Move chapter starts onto the frame where the new part really begins (``embed --snap``).

A chapter list typed by hand or taken from a YouTube description has whole-second
starts; the cut it names is a few frames before or after. Two ways to land on it:

- ``keyframes``: the nearest video keyframe (``containers.keyframes``, from the index).
  A player's chapter seek lands exactly there, never a GOP early.
- ``scenes``: the nearest scene cut (FFmpeg's ``scdet`` filter on the first video
  stream) or end of a silence (``silencedetect`` on the first audio stream: where
  speech resumes), whichever is nearer.

Only moves within ``window_ns`` are made, the first chapter stays where it is (0:00
is where players start anyway), and the order of the chapters never changes. Every
move, and every chapter left alone for want of a candidate, is one diagnostic line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import replace

from chapterkit import ffanalysis, muxer
from chapterkit.errors import UsageError
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList, seconds_to_ns
from chapterkit.timecode import format_clock

MODES = ("keyframes", "scenes")
DEFAULT_WINDOW_NS = 2 * NS_PER_SECOND

_SCENE = re.compile(r"lavfi\.scd\.time: (-?\d+(?:\.\d+)?)")
_SILENCE_END = re.compile(r"silence_end: (-?\d+(?:\.\d+)?)")


def snap(media: str | os.PathLike[str], chapters: ChapterList, mode: str, *,
         window_ns: int = DEFAULT_WINDOW_NS, ffmpeg: str | None = None) -> tuple[ChapterList, list[str]]:
    """``chapters`` with starts moved to the nearest candidate of ``mode``, and one line per decision."""
    name = os.fspath(media)
    if mode not in MODES:
        raise UsageError(f"--snap {mode!r}: choose {' or '.join(MODES)}")
    if window_ns <= 0:
        raise UsageError("--snap-window must be more than 0")
    if mode == "keyframes":
        from chapterkit.containers.keyframes import read_keyframes

        found = read_keyframes(name)
        if found is None:
            raise UsageError(f"--snap keyframes needs a video track in MP4/MOV or MKV/WebM ({name} has none)")
        candidates = {time: "keyframe" for time in found.times_ns}
    else:
        candidates = detect_cuts(name, ffmpeg)
    return move_starts(chapters, candidates, window_ns)


def detect_cuts(media: str, ffmpeg: str | None = None) -> dict[int, str]:
    """Scene cuts and silence ends (ns -> "scene cut" / "end of silence") FFmpeg finds in ``media``."""
    binary = muxer.find_ffmpeg(ffmpeg)
    info = muxer.probe(media, binary)
    found: dict[int, str] = {}
    if any(s.kind == "audio" for s in info.streams):
        for time in _run(binary.path, media, "silence", _SILENCE_END):
            found[time] = "end of silence"
    if any(s.kind == "video" and "attached_pic" not in s.disposition for s in info.streams):
        for time in _run(binary.path, media, "scenes", _SCENE):
            found[time] = "scene cut"  # a scene cut wins over a silence end at the same time
    return found


def _run(ffmpeg: str, media: str, kind: str, pattern: re.Pattern[str]) -> list[int]:
    argv = ffanalysis.build_detect_argv(ffmpeg, media, kind)
    log = ffanalysis.run_for_log(argv, path=media, verb=f"detecting {kind} in")
    return [seconds_to_ns(match) for match in pattern.findall(log) if not match.startswith("-")]


def move_starts(chapters: ChapterList, candidates: dict[int, str],
                window_ns: int) -> tuple[ChapterList, list[str]]:
    """Pure: each start after the first moves to the nearest candidate within ``window_ns``."""
    times = sorted(candidates)
    original: Sequence[Chapter] = list(chapters)
    starts = [c.start_ns for c in original]
    notes: list[str] = []
    for index in range(1, len(original)):
        start = starts[index]
        low = starts[index - 1]
        high = starts[index + 1] if index + 1 < len(starts) else None
        usable = [t for t in times if abs(t - start) <= window_ns and t > low and (high is None or t < high)]
        label = f"chapter {index + 1} {original[index].title!r}"
        if not usable:
            notes.append(f"{label}: kept at {format_clock(start)} (no {_kinds(candidates)} within "
                         f"{_seconds(window_ns)} s)")
            continue
        target = min(usable, key=lambda t: (abs(t - start), t))
        if target == start:
            notes.append(f"{label}: already on a {candidates[target]} at {format_clock(start)}")
            continue
        starts[index] = target
        notes.append(f"{label}: moved {format_clock(start)} -> {format_clock(target)} "
                     f"({'+' if target > start else '-'}{_seconds(abs(target - start))} s, onto a "
                     f"{candidates[target]})")
    moved = []
    for index, chapter in enumerate(original):
        natural = chapter.end_ns is None or (index + 1 < len(original)
                                             and chapter.end_ns == original[index + 1].start_ns)
        end = None if natural or (chapter.end_ns is not None and chapter.end_ns < starts[index]) else chapter.end_ns
        if index + 1 == len(original) and chapter.end_ns == chapters.duration_ns:
            end = None
        moved.append(replace(chapter, start_ns=starts[index], end_ns=end))
    return chapters.replace_chapters(moved), notes


def _kinds(candidates: dict[int, str]) -> str:
    kinds = sorted(set(candidates.values()))
    return " or ".join(kinds) if kinds else "candidate"


def _seconds(ns: int) -> str:
    return f"{ns / NS_PER_SECOND:.3f}"


__all__ = ["DEFAULT_WINDOW_NS", "MODES", "detect_cuts", "move_starts", "snap"]
