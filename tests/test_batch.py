"""``chapterkit.batch`` on a real editor's folder: good pairs, a lonely file, bad lists, corrupt media.

The clips are made once per module with FFmpeg's lavfi sources (3 s, tiny); each test
copies them into its own folder, so every run starts from the same untouched inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from chapterkit import batch, formats, sources
from chapterkit.errors import UsageError
from chapterkit.model import ChapterList
from chapterkit.verify import verify_file
from conftest import make_media

CHAPTERS = ChapterList.of([(0, "Intro"), (1_250_000_000, "Middle ✨"), (2_000_000_000, "End")])
# a.chapters.txt holds FFMETADATA: a .txt sidecar is read by content. (YouTube text would
# refuse these 3 s clips: YouTube wants chapters of at least 10 s.)
GOOD = {"a.mp4": ("a.chapters.txt", "ffmetadata"), "b.mkv": ("b.ffmeta", "ffmetadata"),
        "c.mp3": ("c.json", "json"), "d.flac": ("d.vtt", "webvtt")}
EXPECTED = {"a.mp4": "ok", "b.mkv": "ok", "c.mp3": "ok", "d.flac": "ok", "lonely.mp3": "skipped",
            "badlist.mp4": "findings", "corrupt.mkv": "error", "past.flac": "findings"}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("clips")
    return {ext: make_media.make_clip(str(folder / f"clip.{ext}"), ext, seconds=3)
            for ext in ("mp4", "mkv", "mp3", "flac")}


def make_folder(folder, clips) -> None:
    """The editor's folder: 4 good pairs and 4 files that each fail (or are skipped) their own way."""
    folder.mkdir()
    for name, (sidecar, fmt) in GOOD.items():
        shutil.copyfile(clips[name.rsplit(".", 1)[1]], folder / name)
        # WebVTT cues need ends: the last chapter ends with the 3 s clip.
        chapters = CHAPTERS.with_duration(3_000_000_000) if fmt == "webvtt" else CHAPTERS
        (folder / sidecar).write_text(formats.render(chapters, fmt), encoding="utf-8")
    (folder / "a.txt").write_text("notes, not chapters\n", encoding="utf-8")  # a.chapters.txt wins
    shutil.copyfile(clips["mp3"], folder / "lonely.mp3")
    shutil.copyfile(clips["mp4"], folder / "badlist.mp4")
    (folder / "badlist.txt").write_text("0:00 Intro\n0:01 Two\n0:01 Again\n", encoding="utf-8")
    data = open(clips["mkv"], "rb").read()
    (folder / "corrupt.mkv").write_bytes(data[:40] + bytes(200))
    (folder / "corrupt.txt").write_text(formats.render(CHAPTERS, "ffmetadata"), encoding="utf-8")
    shutil.copyfile(clips["flac"], folder / "past.flac")
    (folder / "past.description").write_text("0:00 Intro\n0:10 Later\n0:20 Much later\n", encoding="utf-8")
    (folder / "readme.md").write_text("not media\n", encoding="utf-8")


def digests(folder) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def temp_files(*folders) -> list[str]:
    return [name for folder in folders if folder.exists() for name in os.listdir(folder)
            if name.startswith(".chapterkit-")]


@pytest.fixture(scope="module")
def batch_runs(clips, tmp_path_factory):
    """The same folder embedded into two output folders, with 1 and with 2 workers."""
    root = tmp_path_factory.mktemp("batch")
    folder = root / "in"
    make_folder(folder, clips)
    before = digests(folder)
    runs = {}
    for workers in (1, 2):
        calls = []
        jobs = batch.find_jobs(folder)
        report = batch.run(jobs, out_dir=root / f"out{workers}", workers=workers,
                           progress=lambda *args, calls=calls: calls.append(args))
        runs[workers] = (report, calls, root / f"out{workers}")
    return folder, before, runs


def test_find_jobs_pairs_by_priority_and_skips_what_is_not_media(tmp_path):
    for name in ("x.MP4", "x.txt", "x.chapters.VTT", "y.mkv", "y.description", "y.json", "z.flac",
                 ".chapterkit-abc.mp4", "notes.md", "w.mp3.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "s.m4a").write_bytes(b"")
    (tmp_path / "sub" / "s.chapters.ffmeta").write_bytes(b"")
    jobs = {job.name: job for job in batch.find_jobs(tmp_path)}
    assert sorted(jobs) == ["x.MP4", "y.mkv", "z.flac"]
    assert os.path.basename(jobs["x.MP4"].source) == "x.chapters.VTT"
    assert os.path.basename(jobs["y.mkv"].source) == "y.json"
    assert jobs["z.flac"].source is None
    deep = {job.name: job for job in batch.find_jobs(tmp_path, recursive=True)}
    assert os.path.basename(deep[os.path.join("sub", "s.m4a")].source) == "s.chapters.ffmeta"


def test_find_jobs_refuses_a_missing_folder(tmp_path):
    with pytest.raises(UsageError, match="not a folder while listing"):
        batch.find_jobs(tmp_path / "nope")


def test_run_continues_past_bad_files_with_the_right_statuses(batch_runs):
    folder, before, runs = batch_runs
    report, _, out = runs[1]
    assert {o.job.name: o.status for o in report.outcomes} == EXPECTED
    assert report.exit_code == 2
    assert report.count("ok") == 4 and report.count("findings") == 2
    by_name = {o.job.name: o for o in report.outcomes}
    assert "repeats the start" in by_name["badlist.mp4"].message
    assert "past the media's end" in by_name["past.flac"].message
    assert by_name["lonely.mp3"].message == "no chapter file"
    assert by_name["a.mp4"].chapters == 3 and by_name["corrupt.mkv"].chapters is None
    assert report.summary().startswith("8 files: 4 ok, 2 findings, 1 error, 1 skipped in ")


def test_outputs_exist_only_for_good_files_and_verify(batch_runs):
    folder, before, runs = batch_runs
    report, _, out = runs[1]
    assert sorted(os.listdir(out)) == sorted(GOOD)
    for name, (sidecar, _) in GOOD.items():
        expected = sources.load(folder / sidecar).chapters
        result = verify_file(out / name, expected)
        assert result.ok, result.headline()
    assert digests(folder) == before  # inputs untouched
    assert temp_files(folder, out) == []


def test_parallel_run_matches_serial_run(batch_runs):
    _, _, runs = batch_runs
    serial, parallel = runs[1][0], runs[2][0]
    assert parallel.workers == 2
    assert [(o.job.name, o.status, o.chapters) for o in parallel.outcomes] == \
           [(o.job.name, o.status, o.chapters) for o in serial.outcomes]
    failed = [(o.job.name, o.message) for o in serial.outcomes if o.status != "ok"]
    assert [(o.job.name, o.message) for o in parallel.outcomes if o.status != "ok"] == failed
    assert sorted(os.listdir(runs[2][2])) == sorted(GOOD)


def test_progress_is_called_once_per_job(batch_runs):
    for workers, (report, calls, _) in batch_runs[2].items():
        assert [done for done, *_ in calls] == list(range(1, 9)), workers
        assert {total for _, total, *_ in calls} == {8}
        assert sorted(job.name for _, _, job, _ in calls) == sorted(EXPECTED)
        assert all(outcome.job is job for _, _, job, outcome in calls)


def test_json_report_loads_with_its_schema(batch_runs):
    report = batch_runs[2][1][0]
    document = json.loads(batch.render_json(report))
    assert document["schema"] == "chapterkit.batch/1"
    assert document["exit_code"] == 2
    assert document["counts"] == {"total": 8, "ok": 4, "findings": 2, "error": 1, "skipped": 1}
    files = {entry["name"]: entry for entry in document["files"]}
    assert {name: entry["status"] for name, entry in files.items()} == EXPECTED
    assert files["corrupt.mkv"]["exit_code"] == 2 and files["corrupt.mkv"]["output"] is None
    assert files["b.mkv"]["output"].endswith(os.path.join("out1", "b.mkv"))
    assert files["lonely.mp3"]["source"] is None
    text = batch.render_text(report)
    assert "error: corrupt.mkv:" in text and text.rstrip().endswith(" s")


def test_in_place_changes_only_the_good_files(clips, tmp_path):
    folder = tmp_path / "in"
    make_folder(folder, clips)
    before = digests(folder)
    report = batch.run(batch.find_jobs(folder), in_place=True, workers=2, verify=False)
    assert report.exit_code == 2
    after = digests(folder)
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == sorted(GOOD)
    for name, (sidecar, _) in GOOD.items():
        assert verify_file(folder / name, sources.load(folder / sidecar).chapters).ok, name
    assert temp_files(folder) == []


def test_lenient_repairs_a_list_that_strict_refuses(clips, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(clips["flac"], folder / "clip.flac")
    (folder / "clip.txt").write_text("0:00 Intro\n0:01 Two\n0:01 Again\n", encoding="utf-8")
    jobs = batch.find_jobs(folder)
    strict = batch.run(jobs, out_dir=tmp_path / "strict")
    lenient = batch.run(jobs, out_dir=tmp_path / "lenient", lenient=True)
    assert strict.outcomes[0].status == "findings" and strict.exit_code == 1
    assert lenient.outcomes[0].status == "ok" and lenient.exit_code == 0
    assert lenient.outcomes[0].warnings  # the repair is reported


def test_all_ok_or_skipped_exits_zero(clips, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(clips["mp3"], folder / "one.mp3")
    shutil.copyfile(clips["mp3"], folder / "two.mp3")
    (folder / "one.txt").write_text(formats.render(CHAPTERS, "json"), encoding="utf-8")
    report = batch.run(batch.find_jobs(folder), out_dir=tmp_path / "out")
    assert [o.status for o in report.outcomes] == ["ok", "skipped"]
    assert report.exit_code == 0


def test_refuses_the_input_folder_as_output_and_bad_combinations(tmp_path):
    (tmp_path / "x.mp3").write_bytes(b"")
    (tmp_path / "x.txt").write_text("0:00 A\n", encoding="utf-8")
    jobs = batch.find_jobs(tmp_path)
    with pytest.raises(UsageError, match="output folder is the input folder"):
        batch.run(jobs, out_dir=tmp_path)
    with pytest.raises(UsageError, match="exactly one"):
        batch.run(jobs)
    with pytest.raises(UsageError, match="exactly one"):
        batch.run(jobs, out_dir=tmp_path / "out", in_place=True)
    with pytest.raises(UsageError, match="not a positive number"):
        batch.run(jobs, in_place=True, workers=0)
    assert (tmp_path / "x.mp3").read_bytes() == b"" and not (tmp_path / "out").exists()


def test_cli_progress_lines():
    job = batch.Job("/in/clip3.mp4", "/in/clip3.txt", "clip3.mp4")
    ok = batch.Outcome(job, "ok", "done", "/out/clip3.mp4", chapters=11)
    bad = batch.Outcome(job, "error", "invalid data while embedding chapters into /in/clip3.mp4")
    assert batch.cli_progress(3, 12, job, ok) == "[3/12] ok       clip3.mp4 (11 chapters)"
    assert batch.cli_progress(4, 12, job, bad) == \
        "[4/12] error    clip3.mp4: invalid data while embedding chapters into /in/clip3.mp4"


def test_batch_through_the_cli(tmp_path):
    """A real ``python -m chapterkit batch`` run: progress on stderr, JSON report file, exit code."""
    folder = tmp_path / "editor"
    folder.mkdir()
    good = make_media.make_clip(str(folder / "take1.mkv"), "mkv", seconds=3)
    (folder / "take1.chapters.txt").write_text(
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=A\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=B\n", encoding="utf-8")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 40)
    (folder / "broken.ffmeta").write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=X\n")
    out = tmp_path / "out"
    out.mkdir()
    report_file = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "chapterkit", "batch", str(folder), "-o", str(out), "-j", "2",
                           "--report-file", str(report_file)], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "[2/2]" in done.stderr and "Traceback" not in done.stderr
    assert "2 files: 1 ok, 0 findings, 1 error, 0 skipped" in done.stdout
    report = json.loads(report_file.read_text())
    assert report["schema"] == "chapterkit.batch/1"
    assert {f["name"]: f["status"] for f in report["files"]} == {"take1.mkv": "ok", "broken.mp4": "error"}
    assert (out / "take1.mkv").exists() and not (out / "broken.mp4").exists()
    assert open(good, "rb").read() == open(folder / "take1.mkv", "rb").read()
