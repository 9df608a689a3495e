"""The chapter-source options on folder commands: ``batch`` and ``verify`` with several files.

``--rules``/``--fps``/``--from``/``--lenient`` reach the parser of every sidecar (cli_batch.py,
batch.work ``Settings.options``), and ``verify A B --chapters -`` reads stdin once for both files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from chapterkit.cli import cli
from chapterkit.containers import reader_function
from chapterkit.embed import embed
from chapterkit.model import NS_PER_SECOND, ChapterList
from conftest import bundled_ffmpeg, make_media

TWO = "0:00 Intro\n0:02 Outro\n"  # two chapters, 2 s apart: YouTube's rules refuse it
TWO_CHAPTERS = ChapterList.of([(0, "Intro"), (2 * NS_PER_SECOND, "Outro")])
#: Markers at 01:00:00:00, 01:00:01:15 and 01:00:02:10 (non-drop 29.97: frame n is n*1001/30000 s).
EDL = """TITLE: NTSC markers
FCM: NON-DROP FRAME

001  001      V     C        01:00:00:00 01:00:00:01 01:00:00:00 01:00:00:01
 |C:ResolveColorBlue |M:Start |D:1

002  001      V     C        01:00:01:15 01:00:01:16 01:00:01:15 01:00:01:16
 |C:ResolveColorBlue |M:Frame 45 |D:1

003  001      V     C        01:00:02:10 01:00:02:11 01:00:02:10 01:00:02:11
 |C:ResolveColorBlue |M:Frame 70 |D:1
"""
NTSC_STARTS = [0, round(45 * 1001 * NS_PER_SECOND / 30000), round(70 * 1001 * NS_PER_SECOND / 30000)]


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--help"] if not args else list(args), input=input)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("source-options")
    plain = {kind: make_media.make_clip(str(folder / f"plain.{kind}"), kind, seconds=3, ffmpeg=bundled_ffmpeg())
             for kind in ("flac", "mkv")}
    chaptered = embed(plain["flac"], TWO_CHAPTERS, output=str(folder / "two.flac"), verify=False).output
    return {**plain, "two": chaptered}


def test_rules_basic_turns_the_refusal_of_a_short_list_into_a_warning(tmp_path, clips):
    shutil.copyfile(clips["flac"], tmp_path / "a.flac")
    (tmp_path / "a.txt").write_text(TWO, encoding="utf-8")
    out = tmp_path / "out"
    refused = invoke("batch", str(tmp_path), "-o", str(out), "--dry-run", "--report", "json")
    assert refused.exit_code == 1, refused.output
    [entry] = json.loads(refused.stdout)["files"]
    assert entry["status"] == "findings" and "YouTube" in entry["message"]
    basic = invoke("batch", str(tmp_path), "-o", str(out), "--dry-run", "--report", "json", "--rules", "basic")
    assert basic.exit_code == 0, basic.output
    [entry] = json.loads(basic.stdout)["files"]
    assert entry["status"] == "would write" and entry["chapters"] == 2
    assert any("YouTube" in d["message"] and d["severity"] == "warning" for d in entry["diagnostics"])
    strict = invoke("batch", str(tmp_path), "-o", str(out), "--dry-run", "--rules", "basic", "--strict")
    assert strict.exit_code == 1  # the warning is a finding under --strict
    assert not out.exists()


def test_verify_several_files_takes_the_source_options(tmp_path, clips):
    for name in ("a", "b"):
        shutil.copyfile(clips["two"], tmp_path / f"{name}.flac")
        (tmp_path / f"{name}.txt").write_text(TWO, encoding="utf-8")
    media = [str(tmp_path / "a.flac"), str(tmp_path / "b.flac")]
    assert invoke("verify", *media).exit_code == 1
    basic = invoke("verify", *media, "--rules", "basic", "--report", "json")
    assert basic.exit_code == 0, basic.output
    assert [f["status"] for f in json.loads(basic.stdout)["files"]] == ["ok", "ok"]
    # --from names the format of every source: these lines are no FFMETADATA
    assert invoke("verify", *media, "--rules", "basic", "--from", "ffmetadata").exit_code != 0


def test_fps_reads_an_edl_sidecar_at_exact_ntsc_times(tmp_path, clips):
    """One real process: ``batch -o`` writes the EDL's markers; Matroska keeps nanoseconds."""
    shutil.copyfile(clips["mkv"], tmp_path / "clip.mkv")
    (tmp_path / "clip.edl").write_text(EDL, encoding="utf-8")
    env = {**os.environ, "CHAPTERKIT_FFMPEG": bundled_ffmpeg()}
    env.pop("GITHUB_STEP_SUMMARY", None)

    def batch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "chapterkit", "batch", str(tmp_path), *args],
                              capture_output=True, text=True, env=env, timeout=300)

    without = invoke("batch", str(tmp_path), "-o", str(tmp_path / "never"), "--dry-run")
    assert without.exit_code == 2 and "--fps" in without.output  # an EDL states no frame rate: usage
    done = batch("-o", str(tmp_path / "out"), "--fps", "29.97", "--report", "json")
    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)["files"]
    assert entry["status"] == "written" and entry["chapter_lines"] == [5, 8, 11]
    written = reader_function("matroska")(str(tmp_path / "out" / "clip.mkv")).chapters
    assert [c.start_ns for c in written] == NTSC_STARTS
    assert written.titles == ("Start", "Frame 45", "Frame 70")


def test_verify_reads_chapters_from_stdin_once_for_every_file(tmp_path, clips):
    media = []
    for name in ("a", "b", "c"):
        shutil.copyfile(clips["two"], tmp_path / f"{name}.flac")
        media.append(str(tmp_path / f"{name}.flac"))
    shared = invoke("verify", *media, "--chapters", "-", "--rules", "basic", "--report", "json", input=TWO)
    assert shared.exit_code == 0, shared.output
    entries = json.loads(shared.stdout)["files"]
    assert [(f["status"], f["chapters"], f["source"]) for f in entries] == [("ok", 2, "-")] * 3
    drifted = invoke("verify", *media, "--chapters", "-", "--rules", "basic", "--tolerance", "100ms", input="0:00 Intro\n0:01 Outro\n")
    assert drifted.exit_code == 1 and drifted.stdout.count("findings") >= 3, drifted.output
    # one file whose stdin source is refused: the machine report still gives the real reason
    refused = invoke("verify", media[0], "--chapters", "-", "--report", "json", input=TWO)
    assert refused.exit_code == 1
    [entry] = json.loads(refused.stdout)["files"]
    assert entry["status"] == "findings" and "YouTube" in entry["message"]


def test_github_annotation_points_at_the_line_the_parser_read(tmp_path, clips):
    """Chapter 1's title also stands in a prose line above the list; the annotation skips that line."""
    shutil.copyfile(clips["two"], tmp_path / "a.flac")
    (tmp_path / "a.txt").write_text("Opening credits by Sam\n\n0:00 Opening\n0:02 Outro\n", encoding="utf-8")
    done = invoke("batch", str(tmp_path), "--check", "--rules", "basic", "--report", "github")
    assert done.exit_code == 1, done.output
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith(f"::error file={tmp_path / 'a.txt'},line=3,"), errors
    assert "Opening" in errors[0]
