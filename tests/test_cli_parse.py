"""``chapterkit parse`` and ``convert`` end to end: outputs, format detection, flags, exit codes.

In-process runs use click's ``CliRunner`` (stdout and stderr apart); the exit-code
and "never a traceback" checks run ``python -m chapterkit`` as a real process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from chapterkit.cli import cli
from chapterkit.formats import ffmetadata
from conftest import fixture_path

SEED = str(fixture_path("descriptions", "seed_all_of_us_are_dead.txt"))
SEED_STARTS = ["0:00", "0:40", "1:31", "2:53", "4:24", "5:03", "6:12", "7:09", "7:50", "9:39", "10:31"]
SMALL = "0:00 Intro\n0:15 Two\n1:30.25 Three\n"


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def run(*args: str, input: str | bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True,
                          input=input.encode("utf-8") if isinstance(input, str) else input)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    """The single ``chapterkit: error:`` line, after checking there is nothing else."""
    err = done.stderr.decode("utf-8")
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("chapterkit: error: ")]
    assert len(lines) == 1, err
    return lines[0].removeprefix("chapterkit: error: ")


# -- outputs -------------------------------------------------------------------------------------

def test_default_output_is_a_table_with_start_end_and_title_per_chapter():
    result = invoke("parse", SEED)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["#", "start", "end", "title"]
    assert len(rows) == 11
    assert rows[0].split(None, 3) == ["1", "0:00:00.000", "0:00:40.000", "Intro"]
    assert rows[-1].split(None, 3) == ["11", "0:10:31.000", "-", "Original Song"]
    assert result.stderr == ""


def test_the_table_shows_the_duration_and_ends_the_last_chapter_there():
    result = invoke("parse", "-", "--duration", "2:00", input=SMALL)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "duration: 0:02:00.000"
    assert lines[-1].split(None, 3) == ["3", "0:01:30.250", "0:02:00.000", "Three"]


def test_to_youtube():
    result = invoke("parse", "-", "--to", "youtube", input=SMALL)
    assert result.stdout == "0:00 Intro\n0:15 Two\n1:30.25 Three\n"


def test_to_ffmetadata():
    result = invoke("parse", "-", "--to", "ffmetadata", "--duration", "120", input=SMALL)
    assert result.stdout == (
        ";FFMETADATA1\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=15000\ntitle=Intro\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=15000\nEND=90250\ntitle=Two\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=90250\nEND=120000\ntitle=Three\n")


def test_to_json():
    result = invoke("parse", "-", "--to", "json", input=SMALL)
    assert json.loads(result.stdout) == {"title": None, "duration": None, "chapters": [
        {"start": 0, "end": 15, "title": "Intro"},
        {"start": 15, "end": 90.25, "title": "Two"},
        {"start": 90.25, "end": None, "title": "Three"}]}


def test_output_file_gets_the_text_and_stdout_stays_empty(tmp_path):
    out = tmp_path / "seed.txt"
    result = invoke("parse", SEED, "--to", "youtube", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert [line.split()[0] for line in out.read_text("utf-8").splitlines()] == SEED_STARTS


def test_the_seed_through_ffmetadata_is_read_back_exactly_by_ffmpeg(ffmpeg_exe, tmp_path):
    """The issue's must-show: FFmpeg's own demuxer reads our FFMETADATA output back exactly."""
    meta = tmp_path / "seed.ffmeta"
    assert invoke("parse", SEED, "--to", "ffmetadata", "--duration", "660", "-o", str(meta)).exit_code == 0
    done = subprocess.run([ffmpeg_exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "ffmetadata",
                           "-i", str(meta), "-f", "ffmetadata", "-"], capture_output=True)
    assert done.returncode == 0, done.stderr
    read = ffmetadata.parse(done.stdout.decode("utf-8")).chapters
    ours = ffmetadata.parse(meta.read_text("utf-8")).chapters
    assert read.chapters == ours.chapters
    assert len(read) == 11 and read.titles[8] == "On-Jo\u2019s Nametag"
    assert read[-1].end_ns == 660 * 10 ** 9


# -- convert: detection --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The seed in each format, saved under misleading or missing extensions too."""
    folder = tmp_path_factory.mktemp("convert")
    files = {}
    for fmt in ("youtube", "ffmetadata", "json"):
        text = invoke("parse", SEED, "--to", fmt).stdout
        for name in (f"seed.{fmt}.txt", f"seed-{fmt}"):  # .txt and no extension: content decides
            (folder / name).write_text(text, encoding="utf-8")
            files[name] = fmt
    return folder, files


def test_convert_detects_each_format_from_its_content(rendered):
    folder, files = rendered
    for name in files:
        result = invoke("convert", str(folder / name), "--to", "youtube")
        assert result.exit_code == 0, (name, result.output)
        assert [line.split()[0] for line in result.stdout.splitlines()] == SEED_STARTS, name


def test_convert_from_stdin_detects_too(rendered):
    folder, _ = rendered
    text = (folder / "seed-json").read_text("utf-8")
    done = run("convert", "-", "--to", "ffmetadata", input=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").startswith(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\n")


def test_convert_with_from_names_the_format(rendered):
    folder, _ = rendered
    assert invoke("convert", str(folder / "seed-json"), "--from", "json", "--to", "youtube").exit_code == 0
    wrong = run("convert", str(folder / "seed-json"), "--from", "ffmetadata", "--to", "youtube")
    assert wrong.returncode == 1
    assert "this is not FFMETADATA" in one_line_error(wrong)


def test_a_ffmetadata_title_holding_a_stamp_is_not_mistaken_for_a_description(tmp_path):
    source = tmp_path / "tricky"
    source.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=5000\ntitle=0:00 Intro\n"
                      "[CHAPTER]\nTIMEBASE=1/1000\nSTART=5000\nEND=9000\ntitle=1:30 Two\n", encoding="utf-8")
    result = invoke("convert", str(source), "--to", "json")
    assert [c["title"] for c in json.loads(result.stdout)["chapters"]] == ["0:00 Intro", "1:30 Two"]


# -- flags reach the parser ----------------------------------------------------------------------

def test_duration_drops_starts_past_the_end_with_a_diagnostic():
    text = "0:00 A\n1:00 B\n2:00 C\n5:00 Credits\n"
    result = invoke("parse", "-", "--to", "youtube", "--duration", "180", input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "0:00 A\n1:00 B\n2:00 C\n"
    assert result.stderr.splitlines() == [
        "-: line 4: warning: 5:00 is at or past the end (3:00); dropped [beyond_duration]: '5:00 Credits'"]


def test_duration_makes_a_short_last_chapter_a_refusal():
    result = invoke("parse", "-", "--duration", "2:05", input="0:00 A\n1:00 B\n2:00 C\n")
    assert result.exit_code == 1
    assert "line 3: chapter 'C' lasts 0:05; YouTube needs at least 0:10" in result.stderr


def test_lenient_repairs_and_says_so():
    text = "0:30 A\n2:00 B\n1:00 C\n3:00 D\n4:00 E\n"
    assert invoke("parse", "-", input=text).exit_code == 1
    result = invoke("parse", "-", "--lenient", "--to", "youtube", input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "0:00 Intro\n0:30 A\n1:00 C\n2:00 B\n3:00 D\n4:00 E\n"
    assert [line.rsplit("[", 1)[1].split("]")[0] for line in result.stderr.splitlines()] == [
        "first_not_zero", "out_of_order"]


def test_fps_makes_smpte_frames_exact():
    text = "00:00:00:00 A\n00:01:00:12 B\n00:02:00:06 C\n"
    plain = invoke("parse", "-", "--to", "json", input=text)
    assert [c["start"] for c in json.loads(plain.stdout)["chapters"]] == [0, 60, 120]
    assert "[smpte_frames]" in plain.stderr and "pass --fps" in plain.stderr
    exact = invoke("parse", "-", "--to", "json", "--fps", "24", input=text)
    assert [c["start"] for c in json.loads(exact.stdout)["chapters"]] == [0, 60.5, 120.25]
    assert exact.stderr == ""


def test_split_flattened_accepts_a_list_on_one_line():
    text = "0:00 Intro | 1:30 Topic | 3:00 Outro\n"
    refused = run("parse", "-", input=text)
    assert refused.returncode == 1
    assert one_line_error(refused) == ("line 1: 3 timestamps on one line; put one chapter per line "
                                       "or pass --split-flattened while parsing -")
    result = invoke("parse", "-", "--split-flattened", "--to", "youtube", input=text)
    assert result.stdout == "0:00 Intro\n1:30 Topic\n3:00 Outro\n"


# -- diagnostics and exit codes ------------------------------------------------------------------

def test_diagnostics_go_to_stderr_with_line_numbers_and_suggestions():
    text = "Chapters:\r\n0:00 Intro\r\n1:5045 Glued\r\n0:40 Two\r\n00:01:30,500 SRT\r\n1:00 Three\r\n"
    result = invoke("parse", "-", "--to", "youtube", input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "0:00 Intro\n0:40 Two\n1:00 Three\n"
    assert result.stderr.splitlines() == [
        # 1:50:45 would not fit between 0:00 and 0:40: no guess is offered
        "-: line 3: warning: 1:5045 is not a timestamp; line skipped [not_a_timestamp]: '1:5045 Glued'",
        "-: line 5: warning: 00:01:30,500 is not a timestamp; line skipped [not_a_timestamp]: "
        "'00:01:30,500 SRT' (did you mean '00:01:30.500'?)"]


@pytest.mark.parametrize("text, reason", [
    ("", "no timestamps found"),
    ("Just words, and a meeting at 20:00.\nJohn 3:16\n", "no timestamps found"),
    ("0:00 Intro\n1:00 Two\n", "line 2: only 2 chapter(s); YouTube needs at least 3"),
    ("0:01 A\n1:00 B\n2:00 C\n", "line 1: first chapter starts at 0:01, YouTube's opt-out that turns "
                                 "chapters off, not 0:00"),
    ("Neon 3:45\nMidnight 4:12\nOverpass 2:58\n", "line 1: these look like durations, not start times"),
    ("0:00 A\n1:99 B\n2:00 C\n", "line 3: only 2 chapter(s); YouTube needs at least 3 "
                                 "(line 2 skipped: 1:99: seconds 99 are more than 59)"),
])
def test_no_valid_list_is_exit_1_with_the_reason_on_one_line(text, reason):
    done = run("parse", "-", input=text)
    assert done.returncode == 1
    assert one_line_error(done).startswith(reason)
    assert done.stdout == b""


@pytest.mark.parametrize("args, reason", [
    (["parse", "/nonexistent/chapters.txt"], "No such file or directory while reading /nonexistent/chapters.txt"),
    (["parse", "."], "Is a directory while reading ."),
    (["parse", "-", "--to", "srt"], "Invalid value for '--to': 'srt' is not one of 'ffmetadata', 'json', 'webvtt'"),
    (["parse", "-", "--fps", "0"], "--fps '0' is not a positive number"),
    (["parse", "-", "--duration", "soon"], "Invalid value for '--duration'"),
    (["parse", "-", "-o", "/nonexistent/dir/out.txt"], "No such file or directory while writing"),
    (["parse"], "Missing argument 'SOURCE'"),
    (["convert", "-"], "Missing option '--to'"),
    (["convert", "-", "--to", "srt"], "'srt' is not one of 'ffmetadata'"),
    (["convert", "-", "--from", "srt", "--to", "json"], "Invalid value for '--from': 'srt' is not one of"),
])
def test_usage_and_io_errors_are_exit_2_on_one_line(args, reason):
    done = run(*args, input=SMALL)
    assert done.returncode == 2, done.stderr
    assert reason in one_line_error(done)


@pytest.mark.parametrize("data", [
    b"\xff\xfe\x00\xd8",                            # UTF-16 BOM, then a lone surrogate
    b"0:00 Caf\xe9\n",                              # Latin-1
    b'{"chapters": [{"start": "x"}]}',
    b";FFMETADATA1\n[CHAPTER]\nSTART=zero\nEND=1\n",
    b"\x00" * 64 + b"0:00",
    ("1:" * 5000 + " x\n").encode(),
], ids=["utf16-surrogate", "latin1", "json-bad-start", "ffmeta-bad-start", "nul-bytes", "runaway-stamp"])
def test_hostile_input_is_one_line_never_a_traceback(data):
    done = run("parse", "-", input=data)
    assert done.returncode in (1, 2)
    assert len(one_line_error(done)) < 200


def test_a_refusal_also_prints_its_diagnostics():
    result = invoke("parse", "-", input="0:00 A\n1:5045 B\n2:00 C\n")
    assert result.exit_code == 1
    assert "line 2: warning: 1:5045 is not a timestamp" in result.stderr
