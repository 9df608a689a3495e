"""embed --snap: starts moved onto keyframes, scene cuts or silence ends, each move a diagnostic."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chapterkit import formats
from chapterkit.errors import UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from chapterkit.snap import move_starts, snap
from conftest import bundled_ffmpeg, run_ffmpeg


def _scene_cut_clip(tmp_path) -> str:
    """2 s of testsrc, then 2 s of SMPTE bars: one scene cut at 2.000 s; one keyframe every 2 s."""
    path = str(tmp_path / "cut.mp4")
    run_ffmpeg(bundled_ffmpeg(), "-f", "lavfi", "-i", "testsrc=s=64x36:r=25:d=2", "-f", "lavfi", "-i",
               "smptebars=s=64x36:r=25:d=2", "-f", "lavfi", "-i", "sine=d=4",
               "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
               "-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-c:a", "aac", path)
    return path


def test_a_start_half_a_second_after_a_scene_cut_moves_onto_the_cut(tmp_path):
    chapters = ChapterList.of([(0, "Test card"), (2_500 * NS_PER_MS, "Bars")])
    moved, notes = snap(_scene_cut_clip(tmp_path), chapters, "scenes", ffmpeg=bundled_ffmpeg())
    assert moved.starts_ns == (0, 2 * NS_PER_SECOND)
    assert notes == ["chapter 2 'Bars': moved 0:00:02.500 -> 0:00:02.000 (-0.500 s, onto a scene cut)"]


def test_the_cli_snaps_and_embeds_the_moved_start(tmp_path):
    source = tmp_path / "c.json"
    source.write_text(formats.render(ChapterList.of([(0, "A"), (2_500 * NS_PER_MS, "B")]), "json"),
                      encoding="utf-8")
    out = tmp_path / "out.mp4"
    done = subprocess.run([sys.executable, "-m", "chapterkit", "embed", _scene_cut_clip(tmp_path), "--chapters",
                           str(source), "-o", str(out), "--snap", "scenes", "--snap-window", "1s"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "chapterkit: snap: chapter 2 'B': moved 0:00:02.500 -> 0:00:02.000" in done.stderr
    show = subprocess.run([sys.executable, "-m", "chapterkit", "show", str(out), "--reader", "quicktime"],
                          capture_output=True, text=True)
    assert "0:00:02.000  0:00:04.000  B" in show.stdout


def test_keyframes_mode_lands_on_the_nearest_keyframe(tmp_path):
    path = _scene_cut_clip(tmp_path)  # keyframes every 12 frames (0.48 s) plus x264's scene-cut one
    chapters = ChapterList.of([(0, "A"), (1_000 * NS_PER_MS, "B"), (3_000 * NS_PER_MS, "C")])
    moved, notes = snap(path, chapters, "keyframes", window_ns=100 * NS_PER_MS)
    assert moved.starts_ns[1] == 960 * NS_PER_MS
    assert "onto a keyframe" in notes[0]


def test_silence_ends_are_candidates_for_audio(tmp_path):
    path = str(tmp_path / "talk.m4a")
    run_ffmpeg(bundled_ffmpeg(), "-f", "lavfi", "-i",
               "sine=d=1,apad=pad_dur=0.6[a];sine=d=1.4[b];[a][b]concat=v=0:a=1", "-c:a", "aac", path)
    moved, notes = snap(path, ChapterList.of([(0, "One"), (2 * NS_PER_SECOND, "Two")]), "scenes",
                        ffmpeg=bundled_ffmpeg())
    assert abs(moved.starts_ns[1] - 1_600 * NS_PER_MS) < 60 * NS_PER_MS, notes
    assert "end of silence" in notes[0]
    with pytest.raises(UsageError, match="needs a video track"):
        snap(path, ChapterList.of([(0, "One")]), "keyframes")


def test_moves_keep_the_order_the_window_and_explicit_ends():
    chapters = ChapterList((Chapter(0, None, "a"), Chapter(1_000, None, "b"), Chapter(2_000, 2_500, "c"),
                            Chapter(3_000, None, "d")), duration_ns=5_000)
    moved, notes = move_starts(chapters, {900: "scene cut", 1_900: "scene cut", 2_100: "keyframe", 0: "k"}, 150)
    assert moved.starts_ns == (0, 900, 1_900, 3_000)  # a tie goes to the earlier candidate
    assert [c.end_ns for c in moved] == [900, 1_900, 2_500, 5_000]  # the explicit end of "c" is kept
    assert notes[2].startswith("chapter 4 'd': kept at") and "within" in notes[2]
    # a candidate at or before the previous start is never taken
    moved, _ = move_starts(ChapterList.of([(0, "a"), (100, "b")]), {0: "scene cut"}, 1_000)
    assert moved.starts_ns == (0, 100)
