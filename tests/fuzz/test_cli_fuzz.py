"""The CLI under fuzzed input, in a child with resource limits (issue 11).

Each example runs ``python -m chapterkit`` (``parse`` on generated text, ``show``
and ``verify`` on a damaged file) with RLIMIT_AS and RLIMIT_CPU set, so a parser
that balloons or spins is killed, and that kill fails the test: every input must
end with exit 0, 1 or 2, at most one ``chapterkit: error:`` line, no traceback,
no "internal error".
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import bundled_ffmpeg
from fuzz.settings import CALL_SECONDS, fewer
from fuzz.test_formats_fuzz import TEXT
from fuzz.test_readers_fuzz import KINDS, damaged, seeds  # noqa: F401 - the seeds fixture

#: Address space for the CLI and its FFmpeg child: far above what any input here needs.
MEMORY_BYTES = 1536 * 1024 * 1024
CPU_SECONDS = 60


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run_limited(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHAPTERKIT_FFMPEG": bundled_ffmpeg()}
    env.pop("CHAPTERKIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True, text=True,
                          env=env, preexec_fn=_limits, timeout=CALL_SECONDS * 6)


def ended_well(done: subprocess.CompletedProcess) -> None:
    assert done.returncode in (0, 1, 2), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("chapterkit: error:")]
    assert len(errors) <= 1, done.stderr[-2000:]
    if done.returncode == 2 and not errors:  # verify: a reader's error is an entry of its report
        assert "cannot read: " in done.stdout, done.stdout[-2000:]


@fewer(5)
@given(text=TEXT)
def test_parse_any_text(tmp_path, text):
    source = tmp_path / "source.txt"
    source.write_text(text, encoding="utf-8", errors="surrogatepass")
    ended_well(run_limited("parse", str(source)))


@pytest.mark.parametrize("kind", KINDS)
@fewer(12)
@given(data=st.data())
def test_show_and_verify_damaged_files(seeds, tmp_path, kind, data):  # noqa: F811
    from conftest import make_media

    path = tmp_path / f"fuzz{make_media.RECIPES[kind][0]}"
    path.write_bytes(damaged(seeds[kind], data.draw))
    source = tmp_path / "chapters.txt"
    source.write_text("0:00 Intro\n0:10 Two\n0:20 Three\n")
    ended_well(run_limited("show", str(path)))
    ended_well(run_limited("verify", str(path), "--chapters", str(source)))
