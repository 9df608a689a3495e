"""batch.work: one file never raises, statuses and exit codes, threads and processes agree, chapter lines."""

from __future__ import annotations

import os
import shutil

import pytest

from chapterkit.batch import Job, Settings, find_jobs, run
from chapterkit.batch.work import chapter_lines, process
from chapterkit.errors import UsageError
from chapterkit.formats.base import ParseOptions
from tests.batch import editor_folder as ef


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("work")
    clips = {kind: ef.make_media.make_clip(str(folder / f"c.{kind}"), kind, seconds=3) for kind in ("mp3", "flac")}
    return clips


def test_process_turns_every_failure_into_an_outcome(tmp_path, small):
    shutil.copyfile(small["flac"], tmp_path / "a.flac")
    (tmp_path / "a.txt").write_text("0:00 Intro\n0:01 Two\n0:01 Again\n", encoding="utf-8")
    (tmp_path / "bad.mp3").write_bytes(b"ID3" + bytes(10))
    (tmp_path / "bad.json").write_text(ef._render("json"))
    by_name = {j.name: j for j in find_jobs(tmp_path)}
    strict = process(by_name["a.flac"], Settings(mode="check"))
    assert (strict.status, strict.exit_code) == ("findings", 1) and "repeats the start" in strict.message
    lenient = process(by_name["a.flac"], Settings(out_dir=str(tmp_path / "out"), options=ParseOptions(lenient=True)))
    assert lenient.status == "written" and lenient.written and lenient.warnings  # the repair is reported
    broken = process(by_name["bad.mp3"], Settings(mode="check"))
    assert (broken.status, broken.exit_code) == ("error", 2) and "bad.mp3" in broken.message
    lonely = process(Job(str(tmp_path / "a.flac"), None, "a.flac"), Settings(mode="check"))
    assert (lonely.status, lonely.exit_code) == ("skipped", 0)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_parallel_runs_match_the_serial_run(tmp_path, small, executor):
    for n in range(6):
        shutil.copyfile(small["mp3" if n % 2 else "flac"], tmp_path / f"f{n}.{'mp3' if n % 2 else 'flac'}")
        if n != 5:
            (tmp_path / f"f{n}.json").write_text(ef._render("json"))
    jobs = find_jobs(tmp_path)
    serial = run(jobs, Settings(out_dir=str(tmp_path / "one"), dry_run=True))
    seen = []
    parallel = run(jobs, Settings(out_dir=str(tmp_path / "two"), dry_run=True), workers=2, executor=executor,
                   progress=seen.append)
    assert [(o.job.name, o.status) for o in parallel.outcomes] == [(o.job.name, o.status) for o in serial.outcomes]
    assert sorted(o.job.name for o in seen) == sorted(j.name for j in jobs)
    assert [o.status for o in serial.outcomes].count("would write") == 5
    assert not (tmp_path / "two").exists()


def test_fail_fast_starts_nothing_after_a_failure(tmp_path, small):
    for n in range(4):
        (tmp_path / f"f{n}.mp3").write_bytes(b"ID3" + bytes(10))  # every one corrupt
        (tmp_path / f"f{n}.json").write_text(ef._render("json"))
    report = run(find_jobs(tmp_path), Settings(mode="check", fail_fast=True))
    assert [o.status for o in report.outcomes] == ["error", "not run", "not run", "not run"]
    assert report.exit_code == 2


def test_bad_combinations_are_refused_before_any_file_is_touched(tmp_path):
    (tmp_path / "x.mp3").write_bytes(b"")
    jobs = find_jobs(tmp_path)
    with pytest.raises(UsageError, match="output folder is the input folder"):
        run(jobs, Settings(out_dir=str(tmp_path)))
    with pytest.raises(UsageError, match="exactly one"):
        run(jobs, Settings())
    with pytest.raises(UsageError, match="--check writes nothing"):
        run(jobs, Settings(mode="check", in_place=True))
    with pytest.raises(UsageError, match="not a positive number"):
        run(jobs, Settings(in_place=True), workers=0)


def test_chapter_lines_find_each_title_in_order():
    text = "Chapters:\n0:00 Intro\n0:11 Intro again\n0:22 Outro\n"
    assert chapter_lines(text, ["Intro", "Intro again", "Outro", "Missing"]) == [2, 3, 4, 0]
    assert chapter_lines('{"title": "Caf\\u00e9"}', ["Café"]) == [1]
    assert chapter_lines(ef._render("ffmetadata"), ["Intro", "Middle ✨", "End"]) == [
        i + 1 for i, line in enumerate(ef._render("ffmetadata").splitlines()) if line.startswith("title=")]


def test_outputs_get_the_input_mode(tmp_path, small):
    shutil.copyfile(small["mp3"], tmp_path / "a.mp3")
    os.chmod(tmp_path / "a.mp3", 0o644)
    (tmp_path / "a.json").write_text(ef._render("json"))
    report = run(find_jobs(tmp_path), Settings(out_dir=str(tmp_path / "out")))
    assert report.outcomes[0].status == "written"
    assert os.stat(tmp_path / "out" / "a.mp3").st_mode & 0o777 == 0o644
