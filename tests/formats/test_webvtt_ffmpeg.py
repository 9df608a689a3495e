"""FFmpeg's WebVTT demuxer reads the chapter sidecars chapterkit writes (issue 7 interop).

FFmpeg has no WebVTT *chapter* reader: it demuxes the cues as subtitle packets. So the
check is that every cue survives FFmpeg's demuxer (libavformat/webvttdec.c) with its
start, end and title, by converting our file to SRT with each FFmpeg build and reading
the SRT back: the cue timing lines and texts must be ours, to the millisecond.
"""

from __future__ import annotations

import re
import subprocess

from chapterkit.formats import webvtt
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, ChapterList

S = NS_PER_SECOND
CHAPTERS = ChapterList.of([(0, "Intro"), (12_345 * NS_PER_MS, "Café — 2nd part"), (3_723 * S, "Late: ½ way")],
                          duration_ns=4_000 * S)
SRT_TIME = re.compile(r"(\d+):(\d\d):(\d\d),(\d{3}) --> (\d+):(\d\d):(\d\d),(\d{3})")


def _ns(hours: str, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * S + int(millis) * NS_PER_MS


def test_ffmpeg_demuxes_every_cue_we_write(tmp_path, ffmpeg_exe):
    sidecar = tmp_path / "talk.chapters.vtt"
    sidecar.write_text(webvtt.render(CHAPTERS), encoding="utf-8")
    done = subprocess.run([ffmpeg_exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(sidecar),
                           "-f", "srt", "-"], capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    blocks = [block.splitlines() for block in done.stdout.strip().split("\n\n")]
    read = [(_ns(*SRT_TIME.match(lines[1]).groups()[:4]), _ns(*SRT_TIME.match(lines[1]).groups()[4:]),
             "\n".join(lines[2:])) for lines in blocks]
    assert read == [(c.start_ns, c.end_ns, c.title) for c in CHAPTERS]
