"""embed on real file systems mounted for the test: a full tmpfs, and XFS with reflink.

Mounting needs root and a loop device; without them the tests skip with the reason
(under CI=true, where .ci/run runs as root, a missing mkfs.xfs is a failure).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from chapterkit import methods
from chapterkit.containers.matroska import read_matroska
from chapterkit.embed import embed
from chapterkit.errors import ChapterkitError
from chapterkit.model import ChapterList
from conftest import bundled_ffmpeg, make_media, require_root, require_tool
from containers.mkvcheck import check_structure

SECOND = 1_000_000_000
OLD = ChapterList.of([(0, "Old one"), (SECOND, "Old two")])


def many(count: int) -> ChapterList:
    return ChapterList.of([(i * 1_000_000, f"Chapter {i} " + "x" * 60) for i in range(count)])


def need_root() -> None:
    require_root("a test file system (tmpfs, XFS image)")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("fsbase")
    clip = make_media.make_clip(str(folder / "clip.mkv"), "mkv", ffmpeg=bundled_ffmpeg())
    out = str(folder / "base.mkv")
    embed(clip, OLD, output=out, method="remux")
    return out


@pytest.fixture
def tiny_tmpfs(tmp_path):
    need_root()
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(folder) -> None:
    """Use up every free block of the file system."""
    fd = os.open(os.path.join(folder, "filler"), os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".chapterkit-")]


def test_a_full_file_system_leaves_the_old_or_new_chapters_and_no_temp_file(base, tiny_tmpfs):
    media = tiny_tmpfs / "film.mkv"
    shutil.copyfile(base, media)
    fill(tiny_tmpfs)
    # -o: the copy cannot be written; nothing is left behind, the input is intact.
    with pytest.raises(ChapterkitError):
        embed(media, OLD, output=tiny_tmpfs / "out.mkv")
    assert not (tiny_tmpfs / "out.mkv").exists()
    # In place: 300 long chapters need new blocks; the edit fails and is rolled back.
    before = open(media, "rb").read()
    with pytest.raises(ChapterkitError):
        embed(media, many(300), in_place=True, method="in place")
    assert read_matroska(media).chapters.titles == OLD.titles
    assert open(media, "rb").read() == before
    check_structure(media)
    assert not leftovers(tiny_tmpfs)
    # Freed room: the same edit now lands.
    os.unlink(tiny_tmpfs / "filler")
    assert embed(media, many(300), in_place=True).method == "in place"
    assert read_matroska(media).chapters.titles == many(300).titles


@pytest.fixture(scope="module")
def xfs(tmp_path_factory):
    need_root()
    mkfs = require_tool("mkfs.xfs")
    folder = tmp_path_factory.mktemp("xfs")
    image = folder / "xfs.img"
    with open(image, "wb") as handle:
        handle.truncate(320 << 20)  # sparse: costs only what mkfs writes
    subprocess.run([mkfs, "-q", "-m", "reflink=1", str(image)], check=True)
    mount = folder / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        image.unlink()
        pytest.skip(f"no loop mount here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        image.unlink()


def shared_extents(path) -> int:
    filefrag = require_tool("filefrag")
    os.sync()
    out = subprocess.run([filefrag, "-v", str(path)], capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if "shared" in line)


def test_output_on_xfs_is_a_clone_edited_in_place(xfs):
    # Big enough (some 100 KB) that most of its blocks are media the edit never touches.
    clip = make_media.make_clip(str(xfs / "clip.mkv"), "mkv", seconds=8, size="96x54", ffmpeg=bundled_ffmpeg())
    media = xfs / "film.mkv"
    embed(clip, OLD, output=media, method="remux")
    assert methods.can_clone(str(media), str(xfs))
    result = embed(media, many(3), output=xfs / "out.mkv")
    assert result.method == "clone"
    assert read_matroska(xfs / "out.mkv").chapters.titles == many(3).titles
    assert read_matroska(media).chapters.titles == OLD.titles
    assert shared_extents(xfs / "out.mkv") >= 1  # the media blocks are shared, not copied
    check_structure(xfs / "out.mkv")
    forced = embed(media, many(2), output=xfs / "copy.mkv", method="copy")
    # (copy_file_range may share blocks too: XFS remaps within one file system.)
    assert forced.method == "copy" and read_matroska(xfs / "copy.mkv").chapters.titles == many(2).titles
    assert not leftovers(xfs)


def test_clone_is_refused_where_the_file_system_cannot(base, tmp_path):
    media = tmp_path / "film.mkv"
    shutil.copyfile(base, media)
    if methods.can_clone(str(media), str(tmp_path)):
        pytest.skip("this test folder's file system clones")
    with pytest.raises(ChapterkitError, match="cannot clone"):
        embed(media, many(2), output=tmp_path / "out.mkv", method="clone")
