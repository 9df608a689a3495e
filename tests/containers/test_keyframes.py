"""Keyframe times from the container index agree with ffprobe decoding only the keyframes.

``ffprobe -skip_frame nokey -show_frames`` makes the decoder drop every frame but
keyframes, so the frames it prints are the keyframes, at their presentation times.
The media has known GOPs (``-g``, no scene-cut keyframes), with B-frames in H.264
(so ``ctts`` and the ``elst`` shift matter), in every container that carries video.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from chapterkit.containers.keyframes import gaps, read_keyframes
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import DEBIAN_FFMPEG, require_tool, run_ffmpeg

H264 = ["-c:v", "libx264", "-preset", "medium", "-bf", "2", "-g", "12", "-keyint_min", "12", "-sc_threshold", "0"]
VP8 = ["-c:v", "libvpx", "-g", "10", "-keyint_min", "10", "-b:v", "50k", "-deadline", "realtime"]
VP9 = ["-c:v", "libvpx-vp9", "-g", "9", "-keyint_min", "9", "-b:v", "50k", "-deadline", "realtime",
       "-cpu-used", "8"]

CASES = {
    "mp4": (".mp4", H264, []),
    "m4v": (".m4v", H264, []),
    "mov": (".mov", H264, []),
    "mkv": (".mkv", H264, []),
    "webm": (".webm", VP8, []),
    "webm-vp9": (".webm", VP9, []),
    "mp4-fps23.976": (".mp4", [*H264[:-6], "-g", "7", "-keyint_min", "7", "-sc_threshold", "0"], ["-r", "24000/1001"]),
}


def ffprobe_keyframes(path: str) -> list[int]:
    ffprobe = require_tool("ffprobe (Debian package)", "/usr/bin/ffprobe")
    done = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
                           "-show_frames", "-show_entries", "frame=pts_time,key_frame", "-of", "json", path],
                          capture_output=True, text=True, check=True)
    frames = json.loads(done.stdout)["frames"]
    # FFmpeg 5.1's native VP9 decoder ignores -skip_frame and returns every frame: keep the keyframes.
    return sorted(round(float(frame["pts_time"]) * 1e9) for frame in frames if frame["key_frame"] == 1)


def _make(tmp_path, case: str) -> str:
    extension, codec, extra = CASES[case]
    ffmpeg = require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)
    path = str(tmp_path / f"{case}{extension}")
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "testsrc=s=64x36:r=25", *extra, "-t", "5", "-pix_fmt", "yuv420p",
               *codec, path)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_index_keyframes_agree_with_ffprobe(tmp_path, case):
    path = _make(tmp_path, case)
    found = read_keyframes(path)
    expected = ffprobe_keyframes(path)
    assert len(expected) >= 4, expected  # several GOPs, so the comparison means something
    assert len(found.times_ns) == len(expected), (found, expected)
    # ffprobe prints pts_time with 6 decimals (µs); MP4 ticks and Matroska ms are exact here.
    assert all(abs(a - b) <= 1000 for a, b in zip(found.times_ns, expected)), (found.times_ns, expected)


def test_matroska_without_cues_reads_the_block_flags(tmp_path):
    ffmpeg = require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)
    path = tmp_path / "live.mkv"
    # Written to a pipe, FFmpeg's muxer cannot seek back: no Cues, unknown-size Clusters.
    done = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                           "testsrc=s=64x36:r=25", "-t", "5", "-pix_fmt", "yuv420p", *H264, "-f", "matroska", "-"],
                          capture_output=True, check=True)
    path.write_bytes(done.stdout)
    found = read_keyframes(str(path))
    assert found.source == "SimpleBlock flags"
    expected = ffprobe_keyframes(str(path))
    assert len(expected) >= 4
    assert all(abs(a - b) <= 1000 for a, b in zip(found.times_ns, expected)) and len(found.times_ns) == len(expected)


def test_gaps_are_the_distance_back_to_the_keyframe_a_seek_lands_on(tmp_path):
    path = _make(tmp_path, "mp4")
    keyframes = read_keyframes(path)  # every 12 frames at 25 fps: 0, 0.48, 0.96, ...
    assert keyframes.times_ns[:3] == (0, 480 * NS_PER_MS, 960 * NS_PER_MS)
    chapters = ChapterList.of([(0, "A"), (1_000 * NS_PER_MS, "B"), (960 * NS_PER_MS * 2, "C")])
    rows = gaps(chapters, keyframes)
    assert [row.distance_ns for row in rows] == [0, 40 * NS_PER_MS, 0]
    assert rows[1].keyframe_ns == 960 * NS_PER_MS


def test_audio_only_media_has_no_keyframes(tmp_path):
    ffmpeg = require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)
    path = str(tmp_path / "a.m4a")
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", path)
    assert read_keyframes(path) is None


def test_verify_and_players_report_the_keyframe_distances(tmp_path):
    import sys

    from chapterkit import formats
    from chapterkit.embed import embed
    from chapterkit.players import check_players

    chapters = ChapterList.of([(0, "A"), (1_000 * NS_PER_MS, "B"), (3_200 * NS_PER_MS, "C")])
    media = embed(_make(tmp_path, "mp4"), chapters, output=str(tmp_path / "out.mp4")).output
    source = tmp_path / "c.json"
    source.write_text(formats.render(chapters, "json"), encoding="utf-8")
    argv = [sys.executable, "-m", "chapterkit", "verify", media, "--chapters", str(source), "--keyframes"]
    text = subprocess.run(argv, capture_output=True, text=True)
    assert text.returncode == 0, text.stderr
    assert "#2 0:00:01.000 'B': lands 0.040 s early, at 0:00:00.960" in text.stdout
    data = json.loads(subprocess.run(argv + ["--report", "json"], capture_output=True, text=True).stdout)
    assert [row["distance_ns"] for row in data["keyframes"]["chapters"]] == [0, 40 * NS_PER_MS, 320 * NS_PER_MS]
    refused = subprocess.run(argv + ["--report", "junit"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--keyframes" in refused.stderr
    report = check_players(media, chapters).keyframes
    assert report.source == "stss" and [gap.keyframe_ns for gap in report.gaps] == [0, 960 * NS_PER_MS,
                                                                                    2880 * NS_PER_MS]
