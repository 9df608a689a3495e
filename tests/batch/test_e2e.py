"""``chapterkit batch`` end to end on a generated editor's folder (tests/batch/editor_folder.py).

Two dozen media in every container with sidecars in several formats and forms, one corrupt
file, one without a source, one with two sources, one up to date, one drifted, one in a
subfolder, one found by content only. The runs go through the real command (a subprocess)
once each and are shared: dry run, check, embed, second embed, check again, shards.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from chapterkit.batch import report as batch_report
from tests.batch import editor_folder as ef

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def snapshot(folder) -> dict[str, tuple[str, int, int]]:
    """Every file under ``folder``: (sha256, mtime_ns, mode)."""
    found = {}
    for directory, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(directory, name)
            info = os.stat(path)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = (hashlib.sha256(handle.read()).hexdigest(),
                                                        info.st_mtime_ns, info.st_mode)
    return found


def temp_files(folder) -> list[str]:
    return [name for _, _, files in os.walk(folder) for name in files if name.startswith(".chapterkit-")]


def chapterkit(*args, env=None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    environment.pop("GITHUB_STEP_SUMMARY", None) if "GITHUB_STEP_SUMMARY" not in (env or {}) else None
    return subprocess.run([sys.executable, "-m", "chapterkit", *map(str, args)], capture_output=True, text=True,
                          env=environment, timeout=300)


def statuses(document: dict) -> dict[str, str]:
    return {f["name"]: f["status"] for f in document["files"]}


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, str]:
    return ef.make_clips(str(tmp_path_factory.mktemp("batch-clips")))


@pytest.fixture(scope="module")
def runs(clips, tmp_path_factory):
    """The shared sequence of runs over one folder, with snapshots between them."""
    root = tmp_path_factory.mktemp("e2e")
    folder = root / "export"
    ef.build(str(folder), clips)
    out = {"folder": folder, "root": root, "pristine": snapshot(folder)}
    for name, args in (("dry", ["--in-place", "--dry-run"]), ("check_before", ["--check"]),
                       ("embed", ["--in-place"]), ("second", ["--in-place"]), ("check_after", ["--check"])):
        report = root / f"{name}.json"
        done = chapterkit("batch", folder, "--recursive", "-j", "2", "--report", "json", "--report-file", report,
                          *args)
        out[name] = (done, json.loads(report.read_text()), snapshot(folder))
    return out


def test_dry_run_plans_every_file_and_touches_nothing(runs):
    done, document, after = runs["dry"]
    assert done.returncode == 2, done.stderr
    assert statuses(document) == ef.EXPECTED_DRY
    assert after == runs["pristine"]
    assert document["written"] == [] and document["dry_run"] is True


def test_embed_run_outcomes_exit_code_and_untouched_inputs(runs):
    done, document, after = runs["embed"]
    assert done.returncode == 2 and document["exit_code"] == 2
    assert statuses(document) == ef.EXPECTED_EMBED
    assert document["written"] == ef.WRITTEN
    pristine = runs["pristine"]
    changed = sorted(name for name in pristine if after[name][:2] != pristine[name][:2])
    assert changed == ef.WRITTEN  # sources, skipped, refused and up-to-date files untouched
    assert all(after[name][2] == pristine[name][2] for name in pristine)  # in place keeps the mode
    assert temp_files(runs["folder"]) == []
    files = {f["name"]: f for f in document["files"]}
    assert files["twosrc.flac"]["exit_code"] == 2
    assert "twosrc.json" in files["twosrc.flac"]["message"] and "twosrc.vtt" in files["twosrc.flac"]["message"]
    assert files["c.mov"]["source"].endswith("c.mov.vtt") and files["f.mkv"]["source"].endswith("f.chapters.ffmeta")
    assert files["a.mp4"]["method"] == "in place" and files["i.mp3"]["method"] == "copy"
    assert files["warned.opus"]["diagnostics"][0]["lineno"] == 3
    assert done.stderr.rstrip().splitlines()[-1].startswith(
        "chapterkit: FAIL: 24 files: 19 written, 1 up to date, 1 skipped, 1 findings, 2 error in ")


def test_second_run_changes_no_byte_and_no_mtime(runs):
    done, document, after = runs["second"]
    assert statuses(document) == ef.EXPECTED_SECOND
    assert document["written"] == []
    assert after == runs["embed"][2]


def test_check_before_and_after(runs):
    before, after = runs["check_before"][1], runs["check_after"][1]
    assert statuses(before) == ef.EXPECTED_CHECK_BEFORE and before["exit_code"] == 2
    assert statuses(after) == ef.EXPECTED_CHECK_AFTER and after["exit_code"] == 2
    assert runs["check_before"][2] == runs["pristine"]  # --check writes nothing
    drifted = next(f for f in before["files"] if f["name"] == "drifted.mp4")
    assert [r["reader"] for r in drifted["readers"]] == ["quicktime", "nero"]
    assert all(r["chapters"][1]["status"] == "drift" for r in drifted["readers"])


def test_every_report_format_has_every_file(runs):
    document = runs["check_before"][1]
    names = sorted(ef.EXPECTED_EMBED)
    text = batch_report.render(document, "text")
    for name in names:
        assert re.search(rf"^{re.escape(ef.EXPECTED_CHECK_BEFORE[name])}\s+{re.escape(name)}: ", text, re.M), name
    root = ET.fromstring(batch_report.render(document, "junit"))
    suites = root.findall("testsuite")
    assert sorted(s.get("name") for s in suites) == names  # one suite per media file, unique names
    case_names = [case.get("name") for case in root.iter("testcase")]
    assert len(set(case_names)) == len(case_names) == 24
    by_name = {s.get("name"): s for s in suites}
    expected = {"ok": None, "findings": "failure", "error": "error", "skipped": "skipped"}
    for name, status in ef.EXPECTED_CHECK_BEFORE.items():  # the exact outcome of every file
        children = [child.tag for child in by_name[name].find("testcase") if child.tag != "system-out"]
        assert children == ([expected[status]] if expected[status] else []), name
    assert by_name["corrupt.mkv"].find("testcase/error") is not None
    assert by_name["drifted.mp4"].find("testcase/failure") is not None
    assert by_name["lonely.mp3"].find("testcase/skipped") is not None
    assert by_name["current.m4a"].find("testcase/failure") is None
    assert all(float(s.get("time")) >= 0 for s in suites) and float(root.get("time")) > 0
    assert {int(s.get("failures")) + int(s.get("errors")) for s in suites} <= {0, 1}


def test_github_annotations_point_at_the_source_line_once_per_problem(runs, tmp_path):
    document = runs["check_before"][1]
    summary = tmp_path / "summary.md"
    text = batch_report.render(document, "github", summary_path=str(summary))
    errors = [line for line in text.splitlines() if line.startswith("::error")]
    assert len(errors) == 10 and re.fullmatch(r"::error::\d+ more problems not shown \(see the step summary\)",
                                              errors[-1])
    all_errors, warnings = batch_report.annotations(document)
    drift = [e for e in all_errors if "drifted" in e[2]]
    source = next(f["source"] for f in document["files"] if f["name"] == "drifted.mp4")
    title_line = ef.PAIRS["drifted.mp4"]["drifted.ffmeta"].splitlines().index("title=Middle ✨") + 1
    assert drift == [(source, title_line, "chapterkit: drifted.mp4",
                      "chapter 2: starts at 0:00:01.000, expected 0:00:01.250 (-0.250 s) (quicktime, nero)")]
    warned = [w for w in warnings if "warned" in w[2]]
    assert [(os.path.basename(w[0]), w[1]) for w in warned] == [("warned.txt", 3)]
    corrupt = [e for e in all_errors if "corrupt" in e[2]]
    assert len(corrupt) == 1 and corrupt[0][0].endswith("corrupt.mkv") and corrupt[0][1] == 0
    table = [line for line in summary.read_text().splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table) == 25  # header + every file
    assert text.rstrip().splitlines()[-1].startswith("FAIL: 24 files:")


def test_strict_makes_warnings_findings(runs):
    done = chapterkit("batch", runs["folder"], "--recursive", "--check", "--strict", "--report", "json",
                      "--include", "warned.*", "--include", "l.flac")
    document = json.loads(done.stdout)
    assert {f["name"]: f["exit_code"] for f in document["files"]} == {"warned.opus": 1, "l.flac": 0}
    assert done.returncode == 1


def test_shard_split_and_merge_equal_the_whole(runs, tmp_path):
    parts = []
    for k in (1, 2, 3):
        path = tmp_path / f"shard{k}.json"
        done = chapterkit("batch", runs["folder"], "--recursive", "--check", "--shard", f"{k}/3",
                          "--report", "json", "--report-file", path, "-q")
        assert "chapterkit: " in done.stderr
        parts.append(json.loads(path.read_text()))
    assert all(0 < len(p["files"]) < 24 for p in parts)
    merged_path = tmp_path / "merged.json"
    done = chapterkit("report", "merge", *[tmp_path / f"shard{k}.json" for k in (1, 2, 3)],
                      "--report-file", merged_path)
    merged, whole = json.loads(merged_path.read_text()), runs["check_after"][1]
    assert done.returncode == whole["exit_code"] == merged["exit_code"] == 2

    def strip(document):
        return [{k: v for k, v in f.items() if k != "elapsed_ms"} for f in document["files"]]

    assert strip(merged) == strip(whole) and merged["counts"] == whole["counts"]
    junit = chapterkit("report", "merge", *[tmp_path / f"shard{k}.json" for k in (1, 2, 3)], "--report", "junit")
    assert len(ET.fromstring(junit.stdout).findall("testsuite")) == 24


def test_ctrl_c_mid_run_is_honest_and_leaves_no_temporary_file(clips, tmp_path):
    folder = tmp_path / "export"
    ef.build(str(folder), clips)
    before = snapshot(folder)
    report = tmp_path / "report.json"
    child = subprocess.Popen([sys.executable, "-m", "chapterkit", "batch", str(folder), "--recursive", "--in-place",
                              "-j", "2", "--report", "json", "--report-file", str(report)],
                             stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})
    lines = []
    while True:  # plain progress lines (stderr is a pipe): stop once two files were written
        line = child.stderr.readline()
        lines.append(line)
        if not line or sum(" written " in seen for seen in lines) >= 2:
            break
    child.send_signal(signal.SIGINT)
    rest = child.stderr.read()
    assert child.wait(timeout=120) == 130, rest
    document = json.loads(report.read_text())
    assert document["interrupted"] is True and document["exit_code"] == 130
    after = snapshot(folder)
    changed = sorted(name for name in before if after[name][:2] != before[name][:2])
    assert changed == document["written"] and len(changed) >= 2  # exactly the files it says it wrote
    assert statuses(document)["lonely.mp3"] in ("skipped", "not run")
    assert "not run" in statuses(document).values()
    verdict = rest.rstrip().splitlines()[-1]
    assert verdict.startswith("chapterkit: INTERRUPTED: 24 files:")
    assert verdict.endswith("written before the stop: " + ", ".join(document["written"]))
    assert "Traceback" not in rest and "nothing was changed" not in rest
    assert temp_files(folder) == []


def test_output_folder_refuses_other_chapters_unless_forced(clips, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    out.mkdir()
    (folder / "a.mp3").write_bytes(open(clips["mp3"], "rb").read())
    (folder / "a.json").write_text(ef._render("json"), encoding="utf-8")
    (out / "a.mp3").write_bytes(open(clips["mp3"], "rb").read())  # an older export without chapters
    old = os.stat(out / "a.mp3").st_mtime_ns
    refused = chapterkit("batch", folder, "-o", out, "--report", "json")
    assert refused.returncode == 2 and "--force" in json.loads(refused.stdout)["files"][0]["message"]
    assert os.stat(out / "a.mp3").st_mtime_ns == old
    forced = chapterkit("batch", folder, "-o", out, "--force", "--report", "json")
    assert forced.returncode == 0 and statuses(json.loads(forced.stdout)) == {"a.mp3": "written"}
    again = chapterkit("batch", folder, "-o", out, "--report", "json")
    assert statuses(json.loads(again.stdout)) == {"a.mp3": "up to date"}
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(out / "a.mp3").st_mode & 0o777 == os.stat(folder / "a.mp3").st_mode & 0o777


def test_manifest_replaces_discovery(clips, tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "lists").mkdir()
    (tmp_path / "media" / "talk.flac").write_bytes(open(clips["flac"], "rb").read())
    (tmp_path / "lists" / "chapters-for-talk.cfg").write_text(ef._render("ffmetadata"), encoding="utf-8")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("media,source,format\nmedia/talk.flac,lists/chapters-for-talk.cfg,ffmetadata\n")
    done = chapterkit("batch", "--manifest", manifest, "-o", tmp_path / "out", "--report", "json")
    assert done.returncode == 0, done.stderr
    assert statuses(json.loads(done.stdout)) == {os.path.join("media", "talk.flac"): "written"}
    as_json = tmp_path / "manifest.json"
    as_json.write_text(json.dumps([{"media": "media/talk.flac", "source": "lists/chapters-for-talk.cfg",
                                    "format": "ffmetadata"}]))
    again = chapterkit("batch", "--manifest", as_json, "-o", tmp_path / "out", "--report", "json")
    assert statuses(json.loads(again.stdout)) == {os.path.join("media", "talk.flac"): "up to date"}


def test_media_only_in_subfolders_asks_for_recursive(clips, tmp_path):
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "a.mp3").write_bytes(open(clips["mp3"], "rb").read())
    done = chapterkit("batch", tmp_path, "--check")
    assert done.returncode == 2 and "add --recursive" in done.stderr and "Traceback" not in done.stderr


def test_verify_takes_several_files(runs):
    folder = runs["folder"]
    done = chapterkit("verify", folder / "current.m4a", folder / "a.mp4", folder / "lonely.mp3", "--report", "json")
    document = json.loads(done.stdout)
    assert document["command"] == "verify" and statuses(document) == {
        str(folder / "current.m4a"): "ok", str(folder / "a.mp4"): "ok", str(folder / "lonely.mp3"): "skipped"}
    assert [r["reader"] for r in document["files"][0]["readers"]] == ["quicktime", "nero", "libav"]
    assert done.returncode == 0 and done.stderr.startswith("chapterkit: OK: 3 files")


def test_verify_of_a_corrupt_file_still_reports_it_in_every_machine_format(runs):
    folder = runs["folder"]
    for report_format in ("json", "junit", "github"):
        done = chapterkit("verify", folder / "corrupt.mkv", "--chapters", folder / "corrupt.ffmeta",
                          "--report", report_format)
        assert done.returncode == 2 and str(folder / "corrupt.mkv") in done.stdout, report_format
    document = json.loads(chapterkit("verify", folder / "corrupt.mkv", "--chapters", folder / "corrupt.ffmeta",
                                     "--report", "json").stdout)
    assert statuses(document) == {str(folder / "corrupt.mkv"): "error"}
    text = chapterkit("verify", folder / "corrupt.mkv", "--chapters", folder / "corrupt.ffmeta")
    assert text.returncode == 2 and text.stderr.startswith("chapterkit: error: ")
