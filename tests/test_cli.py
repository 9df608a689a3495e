"""The CLI: exit codes, one-line errors, and real subprocess runs of the main job."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from chapterkit.cli import cli
from conftest import fixture_path, make_media

SEED = str(fixture_path("descriptions", "seed_all_of_us_are_dead.txt"))
SAMPLE = str(fixture_path("media", "sample-11min-no-chapters.mp4"))


@pytest.fixture
def runner():
    return CliRunner()


def run(*args, input=None):
    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True, text=True,
                          input=input)


def test_parse_prints_a_table_of_the_seed(runner):
    result = runner.invoke(cli, ["parse", SEED])
    assert result.exit_code == 0, result.output
    assert "Original Song" in result.output and "10:31" in result.output
    assert result.output.count("\n") >= 11


def test_parse_to_each_format_round_trips(runner, tmp_path):
    for fmt in ("youtube", "ffmetadata", "json"):
        out = tmp_path / f"seed.{fmt}"
        result = runner.invoke(cli, ["parse", SEED, "--to", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        back = runner.invoke(cli, ["convert", str(out), "--from", fmt, "--to", "json"])
        assert back.exit_code == 0, back.output
        assert len(json.loads(back.output)["chapters"]) == 11


def test_parse_reads_stdin():
    done = run("parse", "-", "--to", "youtube", input="0:00 Intro\n0:15 Two\n0:40 Three\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0:00 Intro", "0:15 Two", "0:40 Three"]


def test_no_chapters_is_exit_1_with_reason():
    done = run("parse", "-", input="Just some prose without any times.\n")
    assert done.returncode == 1
    assert "no timestamps found" in done.stderr and "Traceback" not in done.stderr


def test_diagnostics_go_to_stderr():
    done = run("parse", "-", "--to", "youtube", input="0:00 Intro\n0:15 Two\n1:99 Bad\n0:40 Three\n")
    assert done.returncode == 0, done.stderr
    assert "bad_seconds" in done.stderr and "1:99" not in done.stdout


@pytest.mark.parametrize("args", [
    ["parse", "/nonexistent/file.txt"],
    ["parse", SEED, "--to", "nonsense"],
    ["parse", SEED, "--duration", "soon"],
    ["verify", "/nonexistent.mp4", "--chapters", SEED],
    ["show", "/nonexistent.mkv"],
    ["embed", SAMPLE, "--chapters", SEED],
    ["embed", SAMPLE, "--chapters", SEED, "-o", "x.mp4", "--in-place"],
])
def test_usage_and_io_errors_are_exit_2_one_line(args):
    done = run(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3  # click's usage line + error, or our one line


def test_invalid_utf8_source_is_one_line(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("0:00 Caf\xe9\n0:20 Two\n0:40 Three\n".encode("latin-1"))
    done = run("parse", str(bad))
    assert done.returncode == 2
    assert str(bad) in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_main_job_embed_then_verify(tmp_path):
    """The README's main job, as a real process, with whatever FFmpeg this machine has."""
    out = str(tmp_path / "chaptered.mp4")
    done = run("embed", SAMPLE, "--chapters", SEED, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "11 chapters" in done.stdout
    done = run("verify", out, "--chapters", SEED)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run("show", out, "--to", "youtube")
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "10:31 Original Song"


def test_verify_fails_with_exit_1_on_drift(tmp_path):
    out = str(tmp_path / "chaptered.mp4")
    assert run("embed", SAMPLE, "--chapters", SEED, "-o", out).returncode == 0
    moved = tmp_path / "moved.txt"
    moved.write_text(open(SEED, encoding="utf-8").read().replace("4:24 Color Palette", "4:27 Color Palette"))
    done = run("verify", out, "--chapters", str(moved), "--report", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False
    done = run("verify", out, "--chapters", str(moved), "--tolerance", "5s")
    assert done.returncode == 0, done.stdout


def test_embed_without_ffmpeg_on_path_uses_the_bundled_build(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CHAPTERKIT_FFMPEG"}
    env["PATH"] = os.path.dirname(sys.executable)  # python only, no ffmpeg
    out = str(tmp_path / "o.mp4")
    done = subprocess.run([sys.executable, "-m", "chapterkit", "embed", SAMPLE, "--chapters", SEED, "-o", out],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    doctor = subprocess.run([sys.executable, "-m", "chapterkit", "doctor"], capture_output=True, text=True, env=env)
    assert "bundled" in doctor.stdout


def test_embed_refuses_chapters_past_the_end_with_exit_1(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "short.mkv"), "mkv", seconds=5)
    done = run("embed", clip, "--chapters", SEED, "-o", str(tmp_path / "o.mkv"))
    assert done.returncode == 1, done.stderr
    assert "Original Song" in done.stderr


def test_help_and_version(runner):
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    assert "0.1.0" in runner.invoke(cli, ["--version"]).output


def test_show_to_format_says_which_reader_and_refuses_no_chapters():
    disagreeing = str(fixture_path("media", "mp4-disagreeing-lists.mp4"))
    done = run("show", disagreeing, "--to", "youtube")
    assert done.returncode == 0 and "exported what quicktime sees" in done.stderr
    done = run("show", disagreeing, "--to", "youtube", "--reader", "nero")
    assert done.returncode == 0 and done.stdout.splitlines()[0] == "0:00 Omega"
    done = run("show", str(fixture_path("media", "mkv-no-chapters.mkv")), "--to", "youtube")
    assert done.returncode == 1 and "no chapters" in done.stderr and done.stdout == ""


def test_empty_reader_list_is_a_usage_error():
    done = run("verify", SAMPLE, "--chapters", SEED, "--readers", " , ")
    assert done.returncode == 2 and "at least one reader" in done.stderr
