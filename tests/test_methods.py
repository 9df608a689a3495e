"""embed's methods: in place, clone, copy, remux; locks; what an edit keeps; crashes,
SIGKILL and full disks leave the old or the new chapters and no temporary file."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from chapterkit.containers.matroska import read_matroska
from chapterkit.embed import embed
from chapterkit.errors import ChapterkitError, UsageError
from chapterkit.model import ChapterList
from conftest import IN_CI, bundled_ffmpeg, make_media
from containers.mkvcheck import check_structure

SECOND = 1_000_000_000
OLD = ChapterList.of([(0, "Old one"), (SECOND, "Old two")])


def chapters(tag: str, count: int = 3) -> ChapterList:
    return ChapterList.of([(i * SECOND // 2, f"{tag} {i}") for i in range(count)])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("methods")
    clip = make_media.make_clip(str(folder / "clip.mkv"), "mkv", ffmpeg=bundled_ffmpeg())
    out = str(folder / "base.mkv")
    embed(clip, OLD, output=out, method="remux")
    return out


@pytest.fixture
def media(base, tmp_path) -> str:
    path = str(tmp_path / "film.mkv")
    shutil.copyfile(base, path)
    return path


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".chapterkit-")]


def test_in_place_is_chosen_and_keeps_inode_mode_owner_xattrs_and_links(media, tmp_path):
    os.chmod(media, 0o640)
    link = tmp_path / "link.mkv"
    os.link(media, link)
    try:
        os.setxattr(media, "user.origin", b"camera 2")
    except OSError:
        if IN_CI:
            raise
        pytest.skip("this file system has no user xattrs")
    os.chown(media, 1234, 4321)
    before = os.stat(media)
    result = embed(media, chapters("new"), in_place=True)
    assert result.method == "in place"
    assert "in place" in result.summary()
    after = os.stat(media)
    assert (after.st_ino, after.st_mode, after.st_uid, after.st_gid, after.st_nlink) == (
        before.st_ino, before.st_mode, 1234, 4321, 2)
    assert os.getxattr(media, "user.origin") == b"camera 2"
    assert read_matroska(link).chapters.titles == chapters("new").titles
    assert set(result.verified_by) >= {"matroska"}
    check_structure(media)
    assert not leftovers(tmp_path)


def test_output_is_a_verified_copy_or_clone_and_the_input_is_untouched(media, tmp_path):
    original = open(media, "rb").read()
    out = tmp_path / "out.mkv"
    result = embed(media, chapters("copy"), output=out)
    assert result.method in ("clone", "copy")
    assert open(media, "rb").read() == original
    assert read_matroska(out).chapters.titles == chapters("copy").titles
    assert not leftovers(tmp_path)


def test_method_forces_and_title_falls_back_to_the_remux(media, tmp_path):
    assert embed(media, chapters("r"), output=tmp_path / "r.mkv", method="remux").method == "remux"
    assert embed(media, chapters("c"), output=tmp_path / "c.mkv", method="copy").method == "copy"
    result = embed(media, chapters("t"), output=tmp_path / "t.mkv", title="New title")
    assert result.method == "remux"
    assert any("remuxed instead" in warning for warning in result.warnings)
    with pytest.raises(ChapterkitError, match="cannot edit in place"):
        embed(media, chapters("t"), in_place=True, title="New title", method="in place")
    with pytest.raises(UsageError, match="needs --in-place"):
        embed(media, chapters("x"), output=tmp_path / "x.mkv", method="in place")
    with pytest.raises(UsageError, match="unknown method"):
        embed(media, chapters("x"), output=tmp_path / "x.mkv", method="teleport")


def test_mp3_is_never_remuxed_and_takes_the_copy(tmp_path):
    mp3 = make_media.make_clip(str(tmp_path / "a.mp3"), "mp3", ffmpeg=bundled_ffmpeg())
    assert embed(mp3, chapters("m"), in_place=True).method == "copy"
    with pytest.raises(UsageError, match="never remuxed"):
        embed(mp3, chapters("m"), in_place=True, method="remux")


def test_a_locked_file_or_one_open_for_writing_is_refused(media):
    original = open(media, "rb").read()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'rb'); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('locked', flush=True); time.sleep(60)"), media], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ChapterkitError, match="lock"):
            embed(media, chapters("x"), in_place=True)
    finally:
        holder.kill()
        holder.wait()
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; f = open(sys.argv[1], 'ab'); print('open', flush=True); time.sleep(60)"), media],
        stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(ChapterkitError, match="open for writing"):
            embed(media, chapters("x"), in_place=True)
    finally:
        writer.kill()
        writer.wait()
    assert open(media, "rb").read() == original


def test_cli_names_the_method_and_forces_one(media, tmp_path):
    source = tmp_path / "ch.ffmeta"
    source.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=A\n"
                      "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=B\n")
    run = [sys.executable, "-m", "chapterkit", "embed", media, "--chapters", str(source)]
    done = subprocess.run([*run, "--in-place"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "in place" in done.stdout
    done = subprocess.run([*run, "-o", str(tmp_path / "o.mkv"), "--method", "remux"], capture_output=True, text=True)
    assert done.returncode == 0 and "remux" in done.stdout, done.stderr
    done = subprocess.run([*run, "-o", str(tmp_path / "p.mkv"), "--method", "in-place"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    doctor = subprocess.run([sys.executable, "-m", "chapterkit", "doctor"], capture_output=True, text=True)
    assert "mp3, ogg, opus, flac: copy only" in doctor.stdout


def _titles(path: str) -> tuple[str, ...]:
    return read_matroska(path).chapters.titles


def _streamhash(path: str) -> str:
    return subprocess.run([bundled_ffmpeg(), "-nostdin", "-v", "error", "-i", path, "-map", "0", "-c", "copy",
                           "-f", "streamhash", "-hash", "md5", "-"], capture_output=True, text=True).stdout


def test_sigkill_at_random_moments_leaves_old_or_new(media, tmp_path):
    """A real ``chapterkit embed --in-place`` killed at random moments (seeded)."""
    source = tmp_path / "ch.ffmeta"
    source.write_text(";FFMETADATA1\n" + "".join(
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={i * 100}\nEND={i * 100 + 100}\ntitle=Killed {i}\n" for i in range(15)))
    hashes = _streamhash(media)
    new = tuple(f"Killed {i}" for i in range(15))
    rng = random.Random(8)
    outcomes = set()
    for attempt in range(12):
        old = _titles(media)
        process = subprocess.Popen([sys.executable, "-m", "chapterkit", "embed", media, "--chapters", str(source),
                                    "--in-place", "--no-verify"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        process.send_signal(signal.SIGKILL)
        process.wait()
        titles = _titles(media)
        assert titles in (old, new), f"attempt {attempt}: {titles}"
        outcomes.add(titles == new)
        check_structure(media)
        assert _streamhash(media) == hashes
        if titles == new:  # start again from other chapters, so the next kill can land mid-edit
            embed(media, chapters(f"again {attempt}"), in_place=True, verify=False)
    assert not leftovers(tmp_path)
    assert outcomes  # at least one kill observed; with the seed, both outcomes occur


def chapters_offset(path: str) -> int:
    from chapterkit.containers.mkvlayout import FdSource, read_layout

    fd = os.open(path, os.O_RDONLY)
    try:
        return read_layout(FdSource(fd)).chapters.offset
    finally:
        os.close(fd)


def test_a_layout_without_a_one_sector_switch_falls_back_to_the_remux(tmp_path):
    """Chapters whose header starts in the last bytes of a sector that does not hold the
    SeekHead: no write inside one sector can swap them, so the automatic choice remuxes
    (and says why). The file's title moves the Chapters to 1016 (8 bytes before 1024)."""
    media = str(tmp_path / "film.mkv")
    length = 400
    for _ in range(4):
        clip = make_media.make_clip(str(tmp_path / "clip.mkv"), "mkv", ffmpeg=bundled_ffmpeg(),
                                    extra=["-metadata", "title=" + "x" * length])
        embed(clip, OLD, output=media, method="remux")
        offset = chapters_offset(media)
        if offset == 1016:
            break
        length += 1016 - offset
    assert offset == 1016
    result = embed(media, chapters("fallback"), output=tmp_path / "out.mkv")
    assert result.method == "remux"
    assert any("sector" in warning and "remuxed instead" in warning for warning in result.warnings)
    with pytest.raises(ChapterkitError, match="cannot edit in place"):
        embed(media, chapters("forced"), in_place=True, method="in place")
    assert read_matroska(media).chapters.titles == OLD.titles
