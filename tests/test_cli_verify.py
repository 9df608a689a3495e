"""``chapterkit verify`` and ``chapterkit show`` as real processes, on real files.

Covers what issue 3 asks of the commands themselves: exit codes (0 match, 1 any
drift, 2 unreadable file or usage error) with one line and no traceback for
damaged files of every container, the default tolerance and ``--tolerance``,
``--readers``, every ``--report`` format with ``-o`` and ``$GITHUB_STEP_SUMMARY``,
and ``show`` side by side, per reader and through ``--to``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from chapterkit.containers import CONTAINER_READERS, sniff
from chapterkit.embed import embed
from chapterkit.formats import description
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, ChapterList
from conftest import bundled_ffmpeg, fixture_path, make_media

S = NS_PER_SECOND
MS = NS_PER_MS
CASES = ("mp4", "mov", "m4a", "m4b", "mkv", "webm", "mp3", "ogg", "opus", "flac")
#: In the file: a chapter at 1.4 s, so whole-second and millisecond sources judge it differently.
WRITTEN = ChapterList.of([(0, "Intro"), (1_400 * MS, "Ünïcødé — 章节"), (2_500 * MS, "Outro")])
DISAGREEING = str(fixture_path("media", "mp4-disagreeing-lists.mp4"))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m chapterkit ARGS`` with the bundled FFmpeg and no step summary unless given."""
    full_env = {key: value for key, value in os.environ.items() if key != "GITHUB_STEP_SUMMARY"}
    full_env.update({"CHAPTERKIT_FFMPEG": bundled_ffmpeg(), **(env or {})})
    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True, text=True,
                          env=full_env)


def source(folder, name: str, starts_ms: list[int], titles=WRITTEN.titles) -> str:
    """A JSON chapter source; whole seconds are written as integers (``1``, not ``1.0``)."""
    chapters = [{"start": ms // 1000 if ms % 1000 == 0 else ms / 1000, "title": title}
                for ms, title in zip(starts_ms, titles)]
    path = folder / name
    path.write_text(json.dumps({"chapters": chapters}, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """A 3 s chaptered file per container (``chapterkit.embed``, bundled FFmpeg) and the sources."""
    folder = tmp_path_factory.mktemp("cli-verify")
    made = {}
    for case in CASES:
        extension = make_media.RECIPES[case][0]
        clip = make_media.make_clip(str(folder / f"plain-{case}{extension}"), case, seconds=3,
                                    ffmpeg=bundled_ffmpeg())
        made[case] = embed(clip, WRITTEN, output=str(folder / f"{case}{extension}"), ffmpeg=bundled_ffmpeg(),
                           verify=False).output
    made["exact"] = source(folder, "exact.json", [0, 1400, 2500])
    made["seconds"] = source(folder, "seconds.json", [0, 1000, 3000])  # whole seconds: 1 s allowed
    made["millis"] = source(folder, "millis.json", [0, 1000, 2500])   # ms written: 1 ms allowed
    made["folder"] = str(folder)
    return made


# -- damaged files: exit 2, one line, every container, both commands ----------------------------------

DAMAGES = {
    "truncated": lambda data: data[:-50],                       # cut inside the last frame, page or box
    "header": lambda data: data[:8] + b"\xff" * 64 + data[72:],  # the magic kept, the structure after it gone
}
COMMANDS = ("verify", "show")


@pytest.fixture(scope="module")
def damaged_runs(files) -> dict[tuple[str, str, str], subprocess.CompletedProcess]:
    """Every (case, damage, command) run once, two processes at a time (the runs are independent)."""
    folder = files["folder"]
    jobs = {}
    for case in CASES:
        data = open(files[case], "rb").read()
        for damage, spoil in DAMAGES.items():
            path = os.path.join(folder, f"{damage}-{os.path.basename(files[case])}")
            with open(path, "wb") as handle:
                handle.write(spoil(data))
            for command in COMMANDS:
                jobs[case, damage, command] = path
    for extension in (".mp4", ".opus"):
        for damage, content in (("zero-byte", b""), ("not-media", b"<html>not a video</html>\n" * 20)):
            path = os.path.join(folder, f"{damage}{extension}")
            with open(path, "wb") as handle:
                handle.write(content)
            for command in COMMANDS:
                jobs[extension, damage, command] = path

    def go(key):
        command, path = key[2], jobs[key]
        return key, run(*(["verify", path, "--chapters", files["exact"]] if command == "verify" else ["show", path]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(go, jobs))


def _assert_one_line_exit_2(done: subprocess.CompletedProcess, path_part: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("chapterkit: error: ") and path_part in lines[0]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr  # a reason, not a crash
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("case", CASES)
def test_damaged_files_are_exit_2_with_one_line(damaged_runs, case, damage, command):
    done = damaged_runs[case, damage, command]
    if done.stdout:
        # Issue 11: some reader still reads the file. show shows it (exit 0), verify
        # reports the failing readers as entries of its report (exit 2, the worst).
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr + done.stdout
        errored = "cannot read: " in done.stdout
        assert done.returncode == (0 if command == "show" else 2 if errored else 1), (done.stdout, done.stderr)
        failed = [line for line in done.stdout.splitlines() if ": error: " in line or "cannot read: " in line
                  or ": problem: " in line or line.startswith("  ! ")]
        assert failed, done.stdout
        assert all(f"{damage}-{case}" in line for line in failed if "error: " in line or "cannot read" in line)
        line = "\n".join(failed)
    else:
        line = _assert_one_line_exit_2(done, f"{damage}-{case}")
    if damage == "truncated":
        assert "truncated" in line


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("damage, reason", [("zero-byte", "file is empty (0 bytes)"),
                                            ("not-media", "not a container that can hold chapters")])
@pytest.mark.parametrize("extension", [".mp4", ".opus"])
def test_empty_and_non_media_files_are_exit_2_with_one_line(damaged_runs, extension, damage, reason, command):
    assert reason in _assert_one_line_exit_2(damaged_runs[extension, damage, command], damage + extension)


def test_the_damaged_files_really_are_of_each_container(files):
    """The matrix covers every container id, so no reader escapes the damage tests."""
    assert {sniff(files[case]) for case in CASES} == set(CONTAINER_READERS)


# -- exit codes and tolerance ---------------------------------------------------------------------


@pytest.mark.parametrize("case", ["mp4", "mkv", "mp3", "opus", "flac"])
def test_a_match_is_exit_0_in_every_reader(files, case):
    done = run("verify", files[case], "--chapters", files["exact"])
    assert done.returncode == 0, done.stdout + done.stderr
    readers = CONTAINER_READERS[sniff(files[case])]
    assert done.stdout.splitlines()[-1] == f"OK: 3 chapters match in {len(readers)} readers (max drift 0.000 s)"
    assert [line.split(":")[0] for line in done.stdout.splitlines() if ": ok — " in line] == list(readers)


@pytest.mark.parametrize("chapters, tolerance, code, shown", [
    ("seconds", None, 0, "tolerance 1 s"),      # written in whole seconds: 1 s allowed, 0.4 and 0.5 s pass
    ("millis", None, 1, "tolerance 1 ms"),      # written with ms: 1 ms allowed
    ("millis", "250ms", 1, "tolerance 250 ms"),  # 0.4 s of drift
    ("millis", "0.5s", 0, "tolerance 500 ms"),
    ("millis", "2", 0, "tolerance 2 s"),        # a bare number is seconds
    ("seconds", "0.25s", 1, "tolerance 250 ms"),
    ("seconds", "500ms", 0, "tolerance 500 ms"),  # inclusive: chapter 3 is 0.5 s early
])
def test_default_tolerance_and_overrides(files, chapters, tolerance, code, shown):
    args = ["verify", files["mkv"], "--chapters", files[chapters]] + (["--tolerance", tolerance] if tolerance else [])
    done = run(*args)
    assert done.returncode == code, done.stdout + done.stderr
    assert done.stdout.startswith(f"{files['mkv']}: {shown}\n")
    if code:
        assert "chapter 2: starts at 0:00:01.400, expected 0:00:01.000 (+0.400 s)" in done.stdout.splitlines()[-1]


@pytest.mark.parametrize("tolerance", ["abc", "-1", "5 min", "1e3"])
def test_a_bad_tolerance_is_a_usage_error(files, tolerance):
    line = _assert_one_line_exit_2(run("verify", files["mkv"], "--chapters", files["exact"], "--tolerance",
                                       tolerance), tolerance)
    assert "250ms" in line


def test_readers_narrows_and_refuses_what_does_not_apply(files):
    done = run("verify", files["mp4"], "--chapters", files["exact"], "--readers", "nero,libav", "--report", "json")
    assert done.returncode == 0, done.stderr
    assert [reader["reader"] for reader in json.loads(done.stdout)["readers"]] == ["nero", "libav"]
    line = _assert_one_line_exit_2(run("verify", files["mp4"], "--chapters", files["exact"], "--readers", "id3"),
                                   "id3")
    assert line == "chapterkit: error: none of the readers id3 applies to mp4 (applicable: quicktime, nero, libav)"
    line = _assert_one_line_exit_2(run("show", files["mkv"], "--reader", "bogus"), "bogus")
    assert "known: quicktime, nero, matroska, id3, vorbis, libav" in line


def test_an_unreadable_source_is_exit_2(files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"chapters": [', encoding="utf-8")
    _assert_one_line_exit_2(run("verify", files["mkv"], "--chapters", str(bad)), "bad.json")


# -- report formats -------------------------------------------------------------------------------


def test_json_report_is_the_documented_schema(files):
    done = run("verify", files["mp4"], "--chapters", files["millis"], "--report", "json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["schema"] == "chapterkit.verify/1" and data["ok"] is False and data["exit_code"] == 1
    assert data["container"] == "mp4" and data["tolerance_ns"] == MS and data["max_drift_ns"] == 400 * MS
    assert [r["reader"] for r in data["readers"]] == ["quicktime", "nero", "libav"]
    for reader in data["readers"]:
        assert reader["status"] == "fail" and reader["expected_count"] == reader["actual_count"] == 3
        assert [row["status"] for row in reader["chapters"]] == ["ok", "drift", "ok"]
        assert reader["chapters"][1]["drift_ns"] == 400 * MS
        assert reader["chapters"][1]["actual"] == {"start_ns": 1_400 * MS, "end_ns": 2_500 * MS,
                                                   "title": "Ünïcødé — 章节"}


def test_junit_report_written_with_report_file_loads_with_the_right_counts(files, tmp_path):
    out = tmp_path / "verify.xml"
    done = run("verify", files["mkv"], "--chapters", files["millis"], "--report", "junit", "--report-file", str(out))
    # the verdict line is always on stderr, also when the report goes to a file
    assert done.returncode == 1 and done.stdout == "" and done.stderr.startswith("chapterkit: FAIL: 2 of 2 readers")
    assert len(done.stderr.splitlines()) == 1
    root = ET.parse(out).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["chapterkit.verify.matroska", "chapterkit.verify.libav"]
    assert (root.get("tests"), root.get("failures")) == ("6", "2")
    for suite in suites:
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == ["chapter 1: Intro", "chapter 2: Ünïcødé — 章节", "chapter 3: Outro"]
        assert [c.find("failure") is not None for c in cases] == [False, True, False]
        assert cases[1].find("failure").get("type") == "drift"
    passing = tmp_path / "pass.xml"
    legacy = run("verify", files["mkv"], "--chapters", files["exact"], "--report", "junit", "-o", str(passing))
    assert legacy.returncode == 0 and "verify -o is deprecated; use --report-file" in legacy.stderr
    assert ET.parse(passing).getroot().get("failures") == "0"


def test_report_to_an_unwritable_place_is_exit_2(files, tmp_path):
    _assert_one_line_exit_2(run("verify", files["mkv"], "--chapters", files["exact"], "--report", "json",
                                "--report-file", str(tmp_path / "missing" / "r.json")), "r.json")


def test_github_annotations_and_step_summary(files, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    done = run("verify", files["mp3"], "--chapters", files["millis"], "--report", "github",
               env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert errors == [f"::error file={files['mp3']},title=chapterkit verify ({reader})::chapter 2 'Ünïcødé — 章节': "
                      "starts at 0:00:01.400, expected 0:00:01.000 (+0.400 s)" for reader in ("id3", "libav")]
    assert lines[-1].startswith("FAIL: 2 of 2 readers disagree")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ❌ chapterkit verify: ")
    assert "| id3 | fail | 3 / 3 | 0.400 s | 1 | 0 |" in text
    assert "| libav | 2 | Ünïcødé — 章节 | 0:00:01.000 | 0:00:01.400 | +0.400 s | drift |" in text


def test_github_annotations_stop_at_ten(files, tmp_path):
    many = source(tmp_path, "many.json", [n * 100 for n in range(25)], [f"C{n}" for n in range(25)])
    done = run("verify", files["flac"], "--chapters", many, "--report", "github")
    assert done.returncode == 1
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    report = json.loads(run("verify", files["flac"], "--chapters", many, "--report", "json").stdout)
    found = sum(len(r["problems"]) + sum(bool(row["problems"]) for row in r["chapters"]) for r in report["readers"])
    assert found > 20
    assert len(errors) == 10  # GitHub shows no more per step
    assert errors[-1] == f"::error::{found - 9} more problems not shown"


def test_step_summary_is_only_for_the_github_report(files, tmp_path):
    summary = tmp_path / "summary.md"
    done = run("verify", files["mkv"], "--chapters", files["exact"], "--report", "text",
               env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0 and not summary.exists()
    assert run("verify", files["mkv"], "--chapters", files["exact"], "--report", "github",
               env={"GITHUB_STEP_SUMMARY": str(summary)}).returncode == 0
    assert "### ✅ chapterkit verify:" in summary.read_text(encoding="utf-8")


# -- show -----------------------------------------------------------------------------------------


def test_show_puts_disagreeing_readers_side_by_side():
    done = run("show", DISAGREEING)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("readers disagree")
    assert lines[1].split() == ["#", "quicktime", "nero", "libav"]
    assert lines[2].split() == ["*", "1", "0:00:00.000", "Alpha", "0:00:00.000", "Omega", "0:00:00.000", "Alpha"]
    assert lines[3].split() == ["*", "2", "0:00:00.500", "Bravo", "0:00:00.750", "Sigma", "0:00:00.500", "Bravo"]


def test_show_one_reader():
    done = run("show", DISAGREEING, "--reader", "nero")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "3 chapters (nero)"
    assert [line.split()[-1] for line in done.stdout.splitlines()[2:5]] == ["Omega", "Sigma", "Epsilon"]


def test_show_when_readers_agree(files):
    done = run("show", files["opus"])
    lines = done.stdout.splitlines()
    assert lines[0] == "3 chapters (vorbis and libav agree)"
    assert lines[3].split() == ["2", "0:00:01.400", "0:00:02.500", "Ünïcødé", "—", "章节"]


def test_show_to_youtube_prints_a_block_ready_to_paste(tmp_path):
    """A file with YouTube-shaped chapters (from 0:00, at least 10 s each) gives a block
    YouTube's own rules accept, which reads back as the same chapters."""
    clip = make_media.make_clip(str(tmp_path / "plain.mkv"), "mkv", seconds=40, ffmpeg=bundled_ffmpeg())
    chapters = ChapterList.of([(0, "Intro"), (10 * S, "Ünïcødé — 章节"), (25 * S, "Outro")])
    out = embed(clip, chapters, output=str(tmp_path / "talk.mkv"), ffmpeg=bundled_ffmpeg(), verify=False).output
    done = run("show", out, "--to", "youtube")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0:00 Intro\n0:10 Ünïcødé — 章节\n0:25 Outro\n"
    parsed = description.parse(done.stdout, ParseOptions())  # strict: YouTube's rules
    assert [(c.start_ns, c.title) for c in parsed.chapters] == [(c.start_ns, c.title) for c in chapters]


def test_show_to_a_format_uses_the_chosen_reader():
    done = run("show", DISAGREEING, "--reader", "nero", "--to", "json")
    assert done.returncode == 0, done.stderr
    assert [c["title"] for c in json.loads(done.stdout)["chapters"]] == ["Omega", "Sigma", "Epsilon"]
    _assert_one_line_exit_2(run("show", DISAGREEING, "--to", "nonsense"), "nonsense")


def test_show_a_file_without_chapters():
    done = run("show", str(fixture_path("media", "mkv-no-chapters.mkv")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "0 chapters (matroska and libav agree)"
