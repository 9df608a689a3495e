"""The pre-commit hooks and the GitHub Action in the repository: their YAML, and their commands run for real."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML (the test extra) reads the hook and action files")

from chapterkit import formats  # noqa: E402
from chapterkit.embed import embed  # noqa: E402
from chapterkit.model import ChapterList  # noqa: E402
from conftest import make_media  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ChapterList.of([(0, "Intro"), (1_250_000_000, "Two"), (2_000_000_000, "Three")])
DRIFTED = ChapterList.of([(0, "Intro"), (1_750_000_000, "Two"), (2_000_000_000, "Three")])
BIN = os.path.dirname(sys.executable)  # the chapterkit script of this environment


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """good.mp3 holds its chapters; drifted.flac holds a chapter 2 half a second late."""
    root = tmp_path_factory.mktemp("ci")
    folder = root / "exports"
    folder.mkdir()
    for name, kind, held in (("good.mp3", "mp3", CHAPTERS), ("drifted.flac", "flac", DRIFTED)):
        clip = make_media.make_clip(str(root / f"clip.{kind}"), kind, seconds=3)
        embed(clip, held, output=str(folder / name))
        (folder / name).with_suffix(".json").write_text(formats.render(CHAPTERS, "json"), encoding="utf-8")
    return folder


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], **(env or {})}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=environment, timeout=120)


def test_pre_commit_hooks_are_valid_and_their_entries_check(exports):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [hook["id"] for hook in hooks] == ["chapterkit-check", "chapterkit-verify"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
        assert shlex.split(hook["entry"])[0] == "chapterkit"
    check, verify = hooks
    # pre-commit runs entry + args (+ the staged file names unless pass_filenames is false)
    done = run(shlex.split(check["entry"]) + check["args"], cwd=exports)
    assert done.returncode == 1, done.stderr
    assert "findings: drifted.flac:" in done.stderr and done.stderr.splitlines()[-1].startswith("chapterkit: FAIL")
    import re

    staged = ["good.mp3", "drifted.flac", "good.json"]
    matched = [name for name in staged if re.search(verify["files"], name)]
    assert matched == ["good.mp3", "drifted.flac"]
    assert run(shlex.split(verify["entry"]) + ["good.mp3"], cwd=exports).returncode == 0
    done = run(shlex.split(verify["entry"]) + matched, cwd=exports)
    assert done.returncode == 1 and "drifted.flac" in done.stderr


def test_action_is_a_composite_whose_check_step_annotates(exports, tmp_path):
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"folders", "args", "report-file"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    assert all("shell" in step for step in steps if "run" in step)
    for step in steps:  # inputs reach scripts only through the environment
        assert "${{" not in step.get("run", "")
    check = next(step for step in steps if step.get("name") == "Check chapters")
    summary = tmp_path / "summary.md"
    env = {"FOLDERS": "exports", "ARGS": action["inputs"]["args"]["default"], "REPORT_FILE": str(tmp_path / "r.json"),
           "GITHUB_STEP_SUMMARY": str(summary)}
    done = run(["bash", "-e", "-c", check["run"]], cwd=exports.parent, env=env)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert errors == ["::error file=exports/drifted.json,line=6,title=chapterkit%3A drifted.flac::"
                      "chapter 2: starts at 0:00:01.750, expected 0:00:01.250 (+0.500 s) (vorbis)"]
    assert "| drifted.flac | findings |" in summary.read_text() and "| good.mp3 | ok |" in summary.read_text()
    assert shutil.which("chapterkit", path=BIN)
