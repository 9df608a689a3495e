"""Matroska chapters edited in place: real FFmpeg (both builds), mkvmerge and chapterkit
files; every reader sees the new list, every packet is unchanged, and a crash after any
write leaves the old or the new chapters."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from chapterkit import containers
from chapterkit.containers import matroska as mk
from chapterkit.containers.ebml import parse_header
from chapterkit.containers.matroska import read_editions, read_matroska
from chapterkit.containers.mkvchapters import build_chapters, editions_from_list
from chapterkit.containers.mkvedit import plan_chapters
from chapterkit.inplace import SECTOR, CannotEditInPlace, Write, apply, check_plan, crash_images
from chapterkit.model import ChapterList
from conftest import bundled_ffmpeg, ffmpeg_for, make_media, mpv_chapters, require_tool, run_ffmpeg
from containers.mkvcheck import check_structure

SECOND = 1_000_000_000
META = (";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Old one\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=Old two\n")
OLD = ("Old one", "Old two")
CODECS = {"mkv": ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"],
          "mka": ["-vn", "-c:a", "aac"],
          "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "20k", "-c:a", "libopus"]}


def new_list(tag: str, count: int = 3) -> ChapterList:
    starts = [i * 2 * SECOND // (count + 1) for i in range(count)]
    return ChapterList.of([(s, f"{tag} {i} é") for i, s in enumerate(starts)], duration_ns=2 * SECOND)


def make_ffmpeg(folder, build: str, kind: str, *, pipe: bool = False) -> str:
    ffmpeg = ffmpeg_for(build)
    meta = os.path.join(folder, "old.ffmeta")
    with open(meta, "w") as handle:
        handle.write(META)
    path = os.path.join(folder, f"{build}-{'pipe-' if pipe else ''}{kind}.{kind}")
    args = ["-f", "lavfi", "-i", "testsrc=s=32x18:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2", "-i", meta,
            "-map", "0", "-map", "1", "-map_chapters", "2", *CODECS[kind]]
    if kind == "mka":
        args[args.index("-map"):args.index("-map") + 2] = []
    if pipe:
        with open(path, "wb") as out:
            done = subprocess.run([ffmpeg, "-nostdin", "-v", "error", *args, "-f", "matroska", "-"], stdout=out)
        assert done.returncode == 0
    else:
        run_ffmpeg(ffmpeg, *args, path)
    return path


def titles_ffprobe(path: str) -> tuple[str, ...]:
    import json

    ffprobe = require_tool("ffprobe")
    done = subprocess.run([ffprobe, "-v", "error", "-show_chapters", "-of", "json", path],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tuple(c["tags"].get("title", "") for c in json.loads(done.stdout)["chapters"])


def titles_mkvextract(path: str) -> tuple[str, ...]:
    import xml.etree.ElementTree as ET

    mkvextract = require_tool("mkvextract")
    done = subprocess.run([mkvextract, path, "chapters", "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    if not done.stdout.strip():
        return ()
    return tuple(e.text or "" for e in ET.fromstring(done.stdout).iter("ChapterString"))


def streamhash(path: str) -> str:
    done = subprocess.run([bundled_ffmpeg(), "-nostdin", "-v", "error", "-i", path, "-map", "0", "-c", "copy",
                           "-f", "streamhash", "-hash", "md5", "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def chapters_offset(path: str) -> int:
    from chapterkit.containers.mkvlayout import FdSource, read_layout

    fd = os.open(path, os.O_RDONLY)
    try:
        return read_layout(FdSource(fd)).chapters.offset
    finally:
        os.close(fd)


def edit(path: str, chapters: ChapterList):
    fd = os.open(path, os.O_RDWR)
    try:
        plan = plan_chapters(fd, chapters)
        check_plan(plan)
        apply(fd, plan)
    finally:
        os.close(fd)
    return plan


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("mkvedit"))
    files = {}
    for build in ("bundled", "debian"):
        if build == "debian" and not os.path.exists("/usr/bin/ffmpeg"):
            continue
        for kind in ("mkv", "mka", "webm"):
            files[f"ffmpeg-{build}-{kind}"] = make_ffmpeg(folder, build, kind)
        files[f"ffmpeg-{build}-pipe"] = make_ffmpeg(folder, build, "mkv", pipe=True)
    mkvmerge = shutil.which("mkvmerge")
    if mkvmerge:
        for kind in ("mkv", "webm"):
            out = os.path.join(folder, f"mkvmerge.{kind}")
            subprocess.run([mkvmerge, "-q", *(["--webm"] if kind == "webm" else []), "-o", out,
                            files[f"ffmpeg-bundled-{kind}"]], check=True)
            files[f"mkvmerge-{kind}"] = out
    from chapterkit.embed import embed

    # Chapters at 511, the SeekHead's sector: hidden by changing one ID byte (mkvedit.py).
    clip = make_media.make_clip(os.path.join(folder, "wide.mkv"), "mkv", seconds=8, size="160x90",
                                ffmpeg=bundled_ffmpeg())
    files["chapterkit-sector-end"] = os.path.join(folder, "sector-end.mkv")
    embed(clip, ChapterList.of([(0, OLD[0]), (SECOND, OLD[1])]), output=files["chapterkit-sector-end"],
          method="remux", verify=False)
    for kind in ("mkv", "mka", "webm"):
        out = os.path.join(folder, f"chapterkit.{kind}")
        embed(files[f"ffmpeg-bundled-{kind}"], ChapterList.of([(0, OLD[0]), (SECOND, OLD[1])]),
              output=out, method="remux", verify=False)
        files[f"chapterkit-{kind}"] = out
    return files


KINDS = [f"ffmpeg-{b}-{k}" for b in ("bundled", "debian") for k in ("mkv", "mka", "webm", "pipe")] + [
    "mkvmerge-mkv", "mkvmerge-webm", "chapterkit-mkv", "chapterkit-mka", "chapterkit-webm", "chapterkit-sector-end"]


def copy_of(made, kind, tmp_path) -> str:
    if kind not in made:
        require_tool("ffmpeg (Debian package)" if "debian" in kind else "mkvmerge", "/nonexistent")
    path = str(tmp_path / os.path.basename(made[kind]))
    shutil.copyfile(made[kind], path)
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_every_reader_sees_the_new_list_and_no_packet_changes(made, kind, tmp_path):
    path = copy_of(made, kind, tmp_path)
    assert read_matroska(path).chapters.titles == OLD
    if kind == "chapterkit-sector-end":
        assert chapters_offset(path) % SECTOR > SECTOR - 3  # the layout this case is about
    before = streamhash(path)
    for round_ in ("first", "second"):  # a move, then a slot edit
        chapters = new_list(round_)
        edit(path, chapters)
        check_structure(path)
        assert read_matroska(path).chapters.titles == chapters.titles
        assert read_matroska(path).chapters.starts_ns == chapters.starts_ns
        assert read_editions(path).notes == ()
        for result in containers.read(path):  # every project reader: matroska and libav
            assert result.chapters.titles == chapters.titles, result.reader
        assert titles_ffprobe(path) == chapters.titles
        assert titles_mkvextract(path) == chapters.titles
        assert streamhash(path) == before
    assert [c["title"] for c in mpv_chapters(path)] == list(chapters.titles)


@pytest.mark.parametrize("kind", ["ffmpeg-bundled-mkv", "ffmpeg-debian-pipe", "mkvmerge-mkv", "chapterkit-webm"])
def test_twenty_edits_stay_valid_and_small(made, kind, tmp_path):
    path = copy_of(made, kind, tmp_path)
    size = os.path.getsize(path)
    element = 0
    for round_ in range(20):
        chapters = new_list(f"edit {round_}", count=2 + round_ % 4)
        edit(path, chapters)
        element = max(element, len(build_chapters(editions_from_list(chapters))))
        check_structure(path)
        assert read_matroska(path).chapters.titles == chapters.titles
    assert titles_mkvextract(path) == chapters.titles
    assert os.path.getsize(path) - size <= 4 * element  # freed space is reused


def test_a_live_recording_with_an_unknown_size_segment(tmp_path):
    """FFmpeg's ``-live 1`` output (an unknown-size Segment, as OBS-style recorders leave it)."""
    source = tmp_path / "live.mkv"
    run_ffmpeg(bundled_ffmpeg(), "-f", "lavfi", "-i", "sine=d=2", "-c:a", "pcm_s16le", "-live", "1",
               "-cluster_size_limit", "4000", "-f", "matroska", str(source))
    data = open(source, "rb").read()
    assert parse_header(data, parse_header(data, 0).end).size is None
    path = str(source)
    for round_ in ("one", "two", "three"):
        edit(path, new_list(round_))
        check_structure(path)
        assert read_matroska(path).chapters.titles == new_list(round_).titles
        assert titles_ffprobe(path) == titles_mkvextract(path) == new_list(round_).titles


@pytest.mark.parametrize("kind", ["mkv", "webm"])
def test_a_file_without_chapters_gets_them(tmp_path, kind):
    """No old element: the new one is unveiled before the Clusters (a big enough Void) or
    appended and switched on by its SeekHead entry."""
    path = str(tmp_path / f"plain.{kind}")
    run_ffmpeg(bundled_ffmpeg(), "-f", "lavfi", "-i", "testsrc=s=32x18:r=25:d=2", *CODECS[kind][:2],
               *(["-deadline", "realtime"] if kind == "webm" else ["-preset", "ultrafast"]), path)
    assert read_matroska(path).chapters.titles == ()
    crash_check(path, new_list("fresh"), tmp_path)
    edit(path, new_list("fresh"))
    check_structure(path)
    assert titles_ffprobe(path) == titles_mkvextract(path) == new_list("fresh").titles
    assert [c["title"] for c in mpv_chapters(path)] == list(new_list("fresh").titles)


def crash_check(path: str, chapters: ChapterList, tmp_path) -> int:
    """Every image a crash during the edit could leave reads as the old or the new list."""
    original = open(path, "rb").read()
    old = read_matroska(path).chapters.titles
    hashes = streamhash(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        plan = plan_chapters(fd, chapters)
    finally:
        os.close(fd)
    check_plan(plan)
    image_path = str(tmp_path / ("image" + os.path.splitext(path)[1]))
    count = 0
    for label, image in crash_images(original, plan):
        with open(image_path, "wb") as handle:
            handle.write(image)
        seen = {"chapterkit": read_matroska(image_path).chapters.titles,
                "ffprobe": titles_ffprobe(image_path), "mkvextract": titles_mkvextract(image_path)}
        for reader, titles in seen.items():
            assert titles in (old, chapters.titles), f"{label}: {reader} read {titles}"
        assert streamhash(image_path) == hashes, label
        count += 1
    return count


@pytest.mark.parametrize("kind", ["ffmpeg-bundled-mkv", "ffmpeg-debian-mkv", "ffmpeg-bundled-pipe",
                                  "mkvmerge-mkv", "chapterkit-webm", "chapterkit-sector-end"])
def test_a_crash_after_any_write_leaves_the_old_or_the_new_chapters(made, kind, tmp_path):
    path = copy_of(made, kind, tmp_path)
    first = crash_check(path, new_list("first"), tmp_path)   # the move
    edit(path, new_list("first"))
    second = crash_check(path, new_list("second", 5), tmp_path)  # a slot edit (back)
    edit(path, new_list("second", 5))
    third = crash_check(path, new_list("third", 2), tmp_path)  # a slot edit (front)
    assert min(first, second, third) >= 3


def test_the_switch_is_one_sector_write_and_the_title_goes_to_the_remux(made, tmp_path):
    path = copy_of(made, "ffmpeg-bundled-mkv", tmp_path)
    fd = os.open(path, os.O_RDONLY)
    try:
        plan = plan_chapters(fd, new_list("x"))
        switches = [op for op in plan if isinstance(op, Write) and op.switch]
        assert len(switches) == 1
        assert switches[0].offset // SECTOR == (switches[0].offset + len(switches[0].data) - 1) // SECTOR
        with pytest.raises(CannotEditInPlace, match="title"):
            plan_chapters(fd, new_list("x"), title="New title")
    finally:
        os.close(fd)


def test_not_matroska_and_data_after_the_segment_are_refused(made, tmp_path):
    path = tmp_path / "x.mkv"
    path.write_bytes(b"\x00" * 100)
    fd = os.open(path, os.O_RDONLY)
    with pytest.raises(CannotEditInPlace, match="EBML"):
        plan_chapters(fd, new_list("x"))
    os.close(fd)
    # A second Segment after the first (a chained file) leaves no room at the end.
    source = open(made["ffmpeg-bundled-mkv"], "rb").read()
    head = parse_header(source, 0)
    path.write_bytes(source + source[head.end:])
    fd = os.open(path, os.O_RDONLY)
    try:
        plan = plan_chapters(fd, new_list("x"))  # the 68-byte Void is too small: it must append
        pytest.fail(f"planned {len(plan)} ops into a file with data after its Segment")
    except CannotEditInPlace as exc:
        assert "after its Segment" in str(exc)
    finally:
        os.close(fd)
    assert mk.CHAPTERS
