"""Issue 11: file names that are not UTF-8, or hold a newline, work and stay one line in messages."""

from __future__ import annotations

import os
import subprocess
import sys

from chapterkit.embed import embed
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import bundled_ffmpeg, make_media
from hardening.helpers import cli, one_line_error

MS = NS_PER_MS
THREE = ChapterList.of([(0, "Intro"), (1_000 * MS, "Middle"), (2_000 * MS, "Outro")])
SOURCE = "0:00 Intro\n0:10 Middle\n0:20 Outro\n"


def run_bytes(*args: bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHAPTERKIT_FFMPEG": bundled_ffmpeg()}
    return subprocess.run([os.fsencode(sys.executable), b"-m", b"chapterkit", *args], capture_output=True,
                          env=env, timeout=120)


def test_a_name_that_is_not_utf8_embeds_shows_and_verifies(tmp_path):
    folder = os.fsencode(str(tmp_path))
    clip = make_media.make_clip(str(tmp_path / "plain.mkv"), "mkv", seconds=3, ffmpeg=bundled_ffmpeg())
    odd = folder + b"/b\xffd.mkv"
    os.rename(clip, odd)
    out = folder + b"/out\xfe.mkv"
    chapters = tmp_path / "ch.json"
    chapters.write_text('{"chapters": [{"start": 0, "title": "A"}, {"start": 1, "title": "B"}]}')
    done = run_bytes(b"embed", odd, b"--chapters", os.fsencode(str(chapters)), b"-o", out)
    assert done.returncode == 0, done.stderr
    shown = run_bytes(b"show", out)
    assert shown.returncode == 0 and b"B" in shown.stdout, shown.stderr
    checked = run_bytes(b"verify", out, b"--chapters", os.fsencode(str(chapters)))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # In messages the odd byte is escaped, never a UnicodeEncodeError.
    missing = run_bytes(b"show", folder + b"/gone\xff.mkv")
    assert missing.returncode == 2 and b"Traceback" not in missing.stderr
    assert b"gone\\xff.mkv" in missing.stderr and len(missing.stderr.splitlines()) == 1


def test_a_name_with_a_newline_is_one_line_in_messages(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "plain.mp3"), "mp3", seconds=3, ffmpeg=bundled_ffmpeg())
    odd = str(tmp_path / "two\nlines.mp3")
    embed(clip, THREE, output=odd, ffmpeg=bundled_ffmpeg())
    with open(odd, "r+b") as handle:
        handle.truncate(200)  # inside the tag: no reader can read it
    for args in (["show", odd], ["verify", odd, "--chapters", odd + ".txt"]):
        done = cli(*args)
        assert done.returncode == 2
        line = one_line_error(done)
        assert "two\\nlines.mp3" in line and len(done.stderr.splitlines()) == 1, done.stderr
    broken = tmp_path / "bad\nsource.txt"
    broken.write_text("0:00 Intro\n0:05 Two\n")
    parsed = cli("parse", str(broken))
    assert parsed.returncode == 1
    assert all("bad\\nsource.txt" in line for line in parsed.stderr.splitlines()), parsed.stderr
    assert len(parsed.stderr.splitlines()) == 2  # a diagnostic and the refusal, one line each
