"""Failures leave the input byte-identical and no temporary file behind.

Real failures only: a disk-full simulated with RLIMIT_FSIZE on the writer, a
SIGINT/SIGTERM mid-write to a real ``chapterkit`` process, an unwritable
folder, corrupt, truncated, zero-byte and non-media inputs.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

import pytest

from chapterkit.embed import embed
from chapterkit.errors import ChapterkitError, FFmpegError, MediaError
from chapterkit.model import NS_PER_SECOND, ChapterList
from conftest import make_media, run_ffmpeg

CHAPTERS = ChapterList.of([(0, "A"), (NS_PER_SECOND, "B")])
DESCRIPTION = "0:00 Intro\n0:10 Middle\n0:20 End\n"


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".chapterkit-")]


def cli(*args: str, limit_bytes: int | None = None, cwd=None) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True, text=True,
                          preexec_fn=limit if limit_bytes else None, cwd=cwd)


def test_disk_full_on_the_ffmpeg_child(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=4)
    before = open(clip, "rb").read()
    with pytest.raises(FFmpegError, match="(?i)file size limit|file too large|disk"):
        embed(clip, CHAPTERS, output=str(tmp_path / "out.mkv"), fsize_limit=4096, method="remux")
    assert open(clip, "rb").read() == before
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.mkv").exists()


@pytest.mark.parametrize("container, in_place", [("mp4", False), ("mp3", False), ("flac", False),
                                                 ("mkv", True), ("mp3", True)])
def test_disk_full_through_the_cli_is_one_line_exit_2(tmp_path, container, in_place):
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"in{extension}"), container, seconds=30)
    (tmp_path / "d.txt").write_text(DESCRIPTION)
    before, inode = open(clip, "rb").read(), os.stat(clip).st_ino
    size = os.path.getsize(clip)
    where = ["--in-place"] if in_place else ["-o", str(tmp_path / f"out{extension}")]
    done = cli("embed", clip, "--chapters", str(tmp_path / "d.txt"), *where, limit_bytes=size // 2)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert open(clip, "rb").read() == before and os.stat(clip).st_ino == inode
    assert sorted(os.listdir(tmp_path)) == ["d.txt", f"in{extension}"]


@pytest.mark.parametrize("signum", (signal.SIGINT, signal.SIGTERM))
def test_interrupt_mid_write_removes_the_temporary_file(tmp_path, signum):
    big = str(tmp_path / "big.mkv")
    # about 120 MB of PCM in small packets: long enough to interrupt a stream copy
    run_ffmpeg(make_media.find_ffmpeg(), "-f", "lavfi", "-i", "anoisesrc=r=48000:d=600", "-ac", "2",
               "-c:a", "pcm_s16le", big)
    (tmp_path / "d.txt").write_text(DESCRIPTION)
    before = os.stat(big)
    process = subprocess.Popen([sys.executable, "-m", "chapterkit", "embed", big, "--chapters",
                                str(tmp_path / "d.txt"), "-o", str(tmp_path / "out.mkv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(os.path.getsize(tmp_path / name) > 1_000_000 for name in leftovers(tmp_path)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no temporary output appeared"
        time.sleep(0.005)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert leftovers(tmp_path) == [] and not (tmp_path / "out.mkv").exists()
    after = os.stat(big)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        target_folder = "/proc/chapterkit-cannot-write-here"  # root ignores mode bits; /proc refuses anyone
    else:
        target_folder = str(tmp_path / "ro")
        os.mkdir(target_folder, 0o500)
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=2)
    with pytest.raises(ChapterkitError) as caught:
        embed(clip, CHAPTERS, output=os.path.join(target_folder, "out.mkv"))
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("name, content", [
    ("zero.mp4", b""),
    ("text.mkv", b"this is not media at all\n" * 10),
    ("random.mp3", bytes(range(256)) * 8),
])
def test_bad_inputs_are_one_line_exit_2(tmp_path, name, content):
    bad = tmp_path / name
    bad.write_bytes(content)
    (tmp_path / "d.txt").write_text(DESCRIPTION)
    done = cli("embed", str(bad), "--chapters", str(tmp_path / "d.txt"), "-o", str(tmp_path / ("o-" + name)))
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and name in line and "Traceback" not in line
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("container", ("mp4", "mkv"))
def test_truncated_media_names_the_file_and_reason(tmp_path, container):
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"full{extension}"), container, seconds=3)
    data = open(clip, "rb").read()
    cut = tmp_path / f"cut{extension}"
    cut.write_bytes(data[: len(data) // 3] if container == "mp4" else data[:200])
    with pytest.raises(MediaError) as caught:
        embed(str(cut), CHAPTERS, output=str(tmp_path / f"out{extension}"))
    assert str(cut) in str(caught.value)
    assert leftovers(tmp_path) == []
