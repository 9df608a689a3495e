"""embed --sidecars: chapter files next to the output, for players that read no embedded chapters."""

from __future__ import annotations

import subprocess
import sys

from chapterkit import formats, sources
from chapterkit.model import ChapterList
from chapterkit.players import check_players
from conftest import make_media

CHAPTERS = ChapterList.of([(0, "One"), (1_000_000_000, "Two ✨"), (2_000_000_000, "Three")])


def _source(tmp_path):
    path = tmp_path / "chapters.json"
    path.write_text(formats.render(CHAPTERS, "json"), encoding="utf-8")
    return str(path)


def test_embed_writes_each_sidecar_the_players_read(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=3)
    out = tmp_path / "out.mkv"
    done = subprocess.run([sys.executable, "-m", "chapterkit", "embed", clip, "--chapters", _source(tmp_path),
                           "-o", str(out), "--sidecars", "webvtt,ffmetadata,json,webvtt"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = [line.split(":")[0] for line in done.stdout.splitlines() if "sidecar written" in line]
    assert written == [str(tmp_path / "out.chapters.vtt"), str(tmp_path / "out.chapters.ffmeta"),
                       str(tmp_path / "out.chapters.json")]
    for path in written:
        assert sources.load(path).chapters.titles == CHAPTERS.titles
    assert check_players(str(out), CHAPTERS).row("browser").status == "ok"


def test_an_unknown_sidecar_format_is_refused_before_embedding(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=3)
    done = subprocess.run([sys.executable, "-m", "chapterkit", "embed", clip, "--chapters", _source(tmp_path),
                           "-o", str(tmp_path / "out.mkv"), "--sidecars", "webvtt,srt"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "srt" in done.stderr
    assert not (tmp_path / "out.mkv").exists()
