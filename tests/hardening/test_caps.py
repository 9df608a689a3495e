"""Issue 11: what a source or a media file may be. A FIFO or /dev/zero ends in one line, fast."""

from __future__ import annotations

import os
import time

import pytest

from chapterkit import sources
from chapterkit._files import MAX_SOURCE_BYTES
from chapterkit.errors import MediaError, SourceError
from hardening.helpers import cli, one_line_error


def fast_one_line(*args, **kwargs) -> str:
    began = time.monotonic()
    done = cli(*args, timeout=60, **kwargs)
    assert time.monotonic() - began < 30
    assert done.returncode == 2, done.stderr
    return one_line_error(done)


@pytest.fixture
def fifo(tmp_path):
    path = str(tmp_path / "pipe")
    os.mkfifo(path)
    return path


def test_dev_zero_as_a_source_path_and_on_stdin():
    assert "character device" in fast_one_line("parse", "/dev/zero")
    with open("/dev/zero", "rb") as zero:
        assert f"more than {MAX_SOURCE_BYTES // 2**20} MiB" in fast_one_line("parse", "-", stdin=zero)


def test_a_fifo_as_a_source_or_as_media_never_blocks(fifo, tmp_path):
    with pytest.raises(SourceError, match="FIFO"):
        sources.read_text(fifo)
    source = tmp_path / "ch.txt"
    source.write_text("0:00 Intro\n0:10 Two\n0:20 Three\n")
    assert "FIFO" in fast_one_line("parse", fifo)
    assert "FIFO" in fast_one_line("show", fifo)
    assert "FIFO" in fast_one_line("verify", fifo, "--chapters", str(source))
    assert "FIFO" in fast_one_line("embed", fifo, "--chapters", str(source), "-o", str(tmp_path / "o.mp4"))
    assert "FIFO" in fast_one_line("embed", str(source), "--chapters", fifo, "-o", str(tmp_path / "o.mp4"))


def test_a_folder_as_media(tmp_path):
    from chapterkit import containers

    with pytest.raises(MediaError, match="Is a directory"):
        containers.sniff(str(tmp_path))


def test_a_source_just_under_the_cap_still_reads(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"0:00 Intro\n0:10 Two\n0:20 Three\n" + b"#" * (MAX_SOURCE_BYTES - 100))
    assert sources.read_text(str(path)).startswith("0:00 Intro")
