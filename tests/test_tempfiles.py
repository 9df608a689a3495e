"""Issue 11: a killed embed's temporary files are swept by a later run only when their writer is gone;
errors during embed name the output, never the deleted temporary file; a full disk says so."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from chapterkit import tempfiles
from chapterkit.embed import embed
from chapterkit.errors import ChapterkitError
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import DEBIAN_FFMPEG, bundled_ffmpeg, make_media
from hardening.helpers import cli, one_line_error

THREE = ChapterList.of([(0, "Intro"), (1_000 * NS_PER_MS, "Middle"), (2_000 * NS_PER_MS, "Outro")])
SOURCE = "0:00 Intro\n0:10 Middle\n0:20 Outro\n"
HOLD = ("import sys, time; from chapterkit import tempfiles; "
        "print(tempfiles.create_beside(sys.argv[1]), flush=True); time.sleep(60)")


def writer(target: str) -> tuple[subprocess.Popen, str]:
    """A real process that made a temporary file beside ``target`` and is still running."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, target], stdout=subprocess.PIPE, text=True)
    return child, child.stdout.readline().strip()


def test_the_name_carries_the_owner(tmp_path):
    path = tempfiles.create_beside(str(tmp_path / "out.mkv"))
    name = os.path.basename(path)
    assert name.startswith(f".chapterkit-{os.getpid()}-") and name.endswith(".mkv")
    assert not tempfiles.writer_gone(name)  # ours, and we run


def test_a_live_writers_file_is_never_swept_and_a_killed_ones_is(tmp_path):
    live, live_path = writer(str(tmp_path / "a.mp4"))
    dead, dead_path = writer(str(tmp_path / "b.mp4"))
    try:
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        foreign = tmp_path / ".chapterkit-x1y2z3.mp4"   # an older chapterkit's name: owner unknown
        foreign.write_bytes(b"keep")
        reused = tmp_path / f".chapterkit-{live.pid}-1-{tempfiles.boot_id()}-abcdefgh.mp4"  # pid reused
        reused.write_bytes(b"stale")
        rebooted = tmp_path / f".chapterkit-{os.getpid()}-1-00000000-abcdefgh.mp4"
        rebooted.write_bytes(b"stale")
        removed = set(tempfiles.sweep(str(tmp_path)))
        assert removed == {dead_path, str(reused), str(rebooted)}
        assert os.path.exists(live_path) and foreign.exists()
    finally:
        live.kill()
        live.wait()


def test_a_later_embed_sweeps_what_a_sigkilled_one_left(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "clip.mp3"), "mp3", seconds=3, ffmpeg=bundled_ffmpeg())
    dead, leftover = writer(str(tmp_path / "out.mp3"))
    dead.send_signal(signal.SIGKILL)
    dead.wait()
    live, kept = writer(str(tmp_path / "other.mp3"))
    try:
        embed(clip, THREE, output=str(tmp_path / "out.mp3"), ffmpeg=bundled_ffmpeg())
        assert not os.path.exists(leftover) and os.path.exists(kept)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".chapterkit-")) == \
            [os.path.basename(kept)]
    finally:
        live.kill()
        live.wait()


def test_embed_errors_name_the_output_not_the_temporary_file(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "clip.mkv"), "mkv", seconds=3, ffmpeg=bundled_ffmpeg())
    out = str(tmp_path / "out.mkv")
    with pytest.raises(ChapterkitError) as caught:
        embed(clip, THREE, output=out, ffmpeg=bundled_ffmpeg(), fsize_limit=4096, method="remux")
    assert ".chapterkit-" not in str(caught.value)
    assert out in str(caught.value) or clip in str(caught.value)


def _full_tmpfs(tmp_path) -> str:
    mount = tmp_path / "full"
    mount.mkdir()
    tool = shutil.which("mount") or "/bin/mount"
    done = subprocess.run([tool, "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True) \
        if os.path.exists(tool) else None
    if done is None or done.returncode != 0:
        pytest.skip("a real full disk needs a tmpfs mount (root); RLIMIT_FSIZE cases cover the rest")
    (mount / "filler").write_bytes(os.urandom(480_000))
    return str(mount)


@pytest.mark.parametrize("build", ["bundled", "debian"])
def test_a_full_disk_on_mkv_is_reported_as_a_full_disk(tmp_path, build):
    ffmpeg = bundled_ffmpeg() if build == "bundled" else DEBIAN_FFMPEG
    if not os.path.exists(ffmpeg):
        pytest.skip(f"{ffmpeg} is not installed")
    clip = make_media.make_clip(str(tmp_path / "clip.mkv"), "mkv", seconds=20, size="640x360", ffmpeg=ffmpeg)
    assert os.path.getsize(clip) > 150_000
    mount = _full_tmpfs(tmp_path)
    try:
        source = tmp_path / "ch.txt"
        source.write_text(SOURCE)
        out = os.path.join(mount, "out.mkv")
        for method in ("remux", "copy"):  # FFmpeg's trailer write, and the in-kernel copy
            done = cli("embed", clip, "--chapters", str(source), "-o", out, "--method", method,
                       env={"CHAPTERKIT_FFMPEG": ffmpeg})
            assert done.returncode == 2, done.stderr
            line = one_line_error(done)
            assert "disk is full" in line and ".chapterkit-" not in line
            assert sorted(os.listdir(mount)) == ["filler"]
        line = one_line_error(done)
        assert "disk is full" in line and ".chapterkit-" not in line
        assert sorted(os.listdir(mount)) == ["filler"]
    finally:
        subprocess.run([shutil.which("umount") or "/bin/umount", mount], check=False)
