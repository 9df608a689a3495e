"""The CLI's error path as a user meets it: one subprocess per documented exit code (0, 1, 2, 130).

130 comes from real signals: SIGINT and SIGTERM while a command waits on its input,
and SIGINT sent by the process to itself at fixed moments of start-up (when click
starts to load, when the CLI module loads, when a command imports its library),
through an import hook, so the moment is exact however loaded the machine is.
Python's own start-up before ``chapterkit._entry`` runs (site, the import of the
package) is outside chapterkit's code and not covered.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from hardening.helpers import cli, one_line_error

INTERRUPTED = "chapterkit: interrupted; nothing was changed"


def test_exit_0(tmp_path):
    source = tmp_path / "ch.txt"
    source.write_text("0:00 Intro\n0:10 Two\n0:20 Three\n")
    done = cli("parse", str(source))
    assert done.returncode == 0 and "Three" in done.stdout and done.stderr == ""


def test_exit_1_findings(tmp_path):
    source = tmp_path / "ch.txt"
    source.write_text("0:00 Intro\n0:05 Two\n")
    done = cli("parse", str(source))
    assert done.returncode == 1
    assert str(source) in one_line_error(done)


@pytest.mark.parametrize("args", [["parse"], ["parse", "/nonexistent/ch.txt"], ["show", "--to", "nope", "x.mp4"],
                                  ["embed", "x.mp4", "--chapters", "c.txt"]])
def test_exit_2_usage_and_io(args):
    done = cli(*args)
    assert done.returncode == 2 and done.stdout == ""
    one_line_error(done)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_exit_130_on_a_signal_while_a_command_waits(signum):
    child = subprocess.Popen([sys.executable, "-m", "chapterkit", "parse", "-"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # start-up done on any machine; if not, the start-up handler answers the same
        child.send_signal(signum)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert err.strip() == INTERRUPTED and "Traceback" not in err


_TRIP = """
import os, signal, sys

class Trip:
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)  # a real signal, handled at the next bytecode
        return None

sys.meta_path.insert(0, Trip())
sys.argv = ["chapterkit", *sys.argv[1:]]
from chapterkit._entry import main
main()
"""


@pytest.mark.parametrize("moment", ["click", "chapterkit.cli", "chapterkit.errors", "chapterkit.formats"])
def test_exit_130_on_sigint_during_start_up(tmp_path, moment):
    source = tmp_path / "ch.txt"
    source.write_text("0:00 Intro\n0:10 Two\n0:20 Three\n")
    script = _TRIP.replace("sys.argv[1]", repr(moment))
    done = subprocess.run([sys.executable, "-c", script, "parse", str(source)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == INTERRUPTED, done.stderr
    assert done.stdout == ""
