"""chapterkit.players: one row per player family, from the verify readers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from chapterkit import formats
from chapterkit.embed import embed
from chapterkit.errors import EXIT_FINDINGS, EXIT_OK, MediaError
from chapterkit.model import ChapterList
from chapterkit.players import FAMILIES, check_players
from conftest import make_media

CHAPTERS = ChapterList.of([(0, "One"), (1_000_000_000, "Two"), (2_000_000_000, "Three")])


@pytest.fixture(scope="module")
def mkv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("players")
    clip = make_media.make_clip(str(folder / "in.mkv"), "mkv", seconds=3)
    return embed(clip, CHAPTERS, output=str(folder / "clip.mkv")).output


def test_every_family_has_a_row_and_cites_its_sources(mkv):
    report = check_players(mkv, CHAPTERS)
    assert [row.family for row in report.rows] == [family.name for family in FAMILIES]
    assert all(family.sources for family in FAMILIES)
    assert {row.family: row.status for row in report.rows} == {
        "apple": "unsupported", "vlc": "ok", "podcast": "unsupported", "ffmpeg": "ok", "gstreamer": "ok",
        "browser": "no sidecar"}
    assert report.exit_code == EXIT_OK
    assert "chapterkit web" in report.row("browser").fix


def test_the_browser_row_reads_the_webvtt_sidecar(mkv, tmp_path):
    sidecar = os.path.splitext(mkv)[0] + ".chapters.vtt"
    try:
        with open(sidecar, "w", encoding="utf-8") as handle:
            handle.write(formats.render(CHAPTERS.with_duration(3_000_000_000), "webvtt"))
        assert check_players(mkv, CHAPTERS).row("browser").status == "ok"
        stale = ChapterList.of([(0, "One"), (1_500_000_000, "Two")], duration_ns=3_000_000_000)
        with open(sidecar, "w", encoding="utf-8") as handle:
            handle.write(formats.render(stale, "webvtt"))
        row = check_players(mkv, CHAPTERS).row("browser")
        assert row.status == "differs" and row.count == 2
        assert any("missing" in text or "starts at" in text for text in row.differences), row.differences
        assert row.fix.startswith("write the sidecar again")
    finally:
        os.unlink(sidecar)


def test_a_wrong_list_is_a_finding_with_the_embed_fix(mkv):
    other = ChapterList.of([(0, "One"), (1_000_000_000, "Deux"), (2_000_000_000, "Three")])
    report = check_players(mkv, other)
    row = report.row("vlc")
    assert row.status == "differs" and "title is 'Two', expected 'Deux'" in row.differences[0]
    assert row.fix.startswith("embed again: chapterkit embed")
    assert report.exit_code == EXIT_FINDINGS


def test_without_a_source_the_files_own_list_is_the_reference(mkv):
    report = check_players(mkv)
    assert report.reference == "the matroska list"
    assert report.row("ffmpeg").status == "ok"


def test_a_damaged_file_is_an_error_row_not_a_crash(tmp_path, mkv):
    with open(mkv, "rb") as handle:
        data = handle.read()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError):
        check_players(str(cut))  # no reference list can be read at all
    report = check_players(str(cut), CHAPTERS)
    assert {row.status for row in report.rows if row.family in ("vlc", "gstreamer")} == {"error"}
    assert report.exit_code == EXIT_FINDINGS


def test_cli_players_json_and_exit_codes(mkv, tmp_path):
    source = tmp_path / "chapters.json"
    source.write_text(formats.render(CHAPTERS, "json"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "chapterkit", "players", mkv, "--chapters", str(source),
                           "--report", "json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == "chapterkit.players/1"
    assert [row["family"] for row in data["rows"]][:2] == ["apple", "vlc"]
    assert data["rows"][1]["count"] == 3 and data["rows"][1]["sources"]
    text = subprocess.run([sys.executable, "-m", "chapterkit", "players", mkv], capture_output=True, text=True)
    assert text.returncode == 0 and "vlc" in text.stdout and "OK" in text.stdout
    missing = subprocess.run([sys.executable, "-m", "chapterkit", "players", str(tmp_path / "nope.mkv")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
