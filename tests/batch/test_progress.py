"""The progress bar on a real pseudo-terminal, and plain lines (or nothing) everywhere else."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios

import pytest

from tests.batch import editor_folder as ef

SGR_COLOR = re.compile(r"\x1b\[[0-9;]*3[0-7]m")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress")
    clip = ef.make_media.make_clip(str(root / "clip.mp3"), "mp3", seconds=3)
    folder = root / "export"
    folder.mkdir()
    for n in range(4):
        shutil.copyfile(clip, folder / f"take{n}.mp3")
        (folder / f"take{n}.json").write_text(ef._render("json"))
    (folder / "broken.mp3").write_bytes(b"ID3" + bytes(10))
    (folder / "broken.json").write_text(ef._render("json"))
    return folder


def environment(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "GITHUB_ACTIONS")}
    env.update(TERM="xterm-256color", COLUMNS="100", **extra)
    return env


def run_on_pty(args, env) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (stdout a pipe); return (code, stdout, terminal text)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows, 100 columns
    child = subprocess.Popen([sys.executable, "-m", "chapterkit", *map(str, args)], stdout=subprocess.PIPE,
                             stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out = child.stdout.read().decode()
    return child.wait(timeout=60), out, seen.decode("utf-8", "replace")


def test_a_bar_with_eta_on_a_terminal(folder):
    code, out, terminal = run_on_pty(["batch", folder, "--check", "-j", "1"], environment())
    assert code == 2
    assert "\r" in terminal and "5/5 files" in terminal and "100%" in terminal  # redrawn in place, to the end
    assert re.search(r"<\d\d:\d\d", terminal)                               # the ETA
    assert "error" in terminal and "broken.mp3" in terminal                 # a failure stays visible
    plain = [line for line in terminal.replace("\r", "\n").splitlines() if line.startswith("[")]
    assert plain and all(re.search(r"(error|findings)", line) for line in plain)  # only problems, above the bar
    assert terminal.rstrip().splitlines()[-1].startswith("chapterkit: FAIL: 5 files")
    assert SGR_COLOR.search(terminal)                                       # colour on a terminal


def test_no_colour_with_NO_COLOR_or_never(folder):
    for env, args in ((environment(NO_COLOR="1"), []), (environment(), ["--color", "never"])):
        _, _, terminal = run_on_pty(["batch", folder, "--check", "-j", "1", *args], env)
        assert "5/5 files" in terminal and not SGR_COLOR.search(terminal), args


def test_plain_lines_under_CI_or_without_a_terminal(folder):
    _, _, terminal = run_on_pty(["batch", folder, "--check", "-j", "1"], environment(CI="true"))
    assert "\r" not in terminal.replace("\r\n", "\n") and "[5/5]" in terminal and "files [" not in terminal
    piped = subprocess.run([sys.executable, "-m", "chapterkit", "batch", str(folder), "--check", "-j", "1"],
                           capture_output=True, text=True, env=environment())
    lines = piped.stderr.splitlines()
    assert [line.split("]")[0] for line in lines[:-1]] == [f"[{n}/5" for n in range(1, 6)]
    assert "\r" not in piped.stderr and not SGR_COLOR.search(piped.stderr)


def test_quiet_prints_only_problems_and_the_verdict(folder):
    done = subprocess.run([sys.executable, "-m", "chapterkit", "batch", str(folder), "--check", "-q"],
                          capture_output=True, text=True, env=environment())
    assert done.stdout == ""
    lines = done.stderr.splitlines()  # the files were never chaptered: every one is a problem
    assert sorted(line.split(": ")[1] for line in lines[:-1]) == ["broken.mp3"] + [f"take{n}.mp3" for n in range(4)]
    assert all(line.startswith(("findings: ", "error: ")) for line in lines[:-1])
    assert lines[-1].startswith("chapterkit: FAIL: 5 files: 4 findings, 1 error in ")
