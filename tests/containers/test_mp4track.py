"""The boxes the in-place editor writes are the ones FFmpeg's mov muxer writes.

(mp4track builds the chapter boxes, mp4moov splices them and the title in; both are
checked here against FFmpeg's own output.)

Each test makes a real clip with one FFmpeg build, writes chapters into it twice: by
FFmpeg (``-map_chapters``, ``-movie_timescale 1000``: the remux path) and in place
(:mod:`chapterkit.containers.mp4edit`), then compares the chapter ``trak``, the
``tref/chap`` boxes and ``udta/chpl`` byte for byte. Only the chunk offset differs (the
samples live elsewhere), so it is zeroed on both sides first.
"""

from __future__ import annotations

import io
import os
import struct

import pytest

from chapterkit.containers import mp4track
from chapterkit.containers.mp4 import read_nero
from chapterkit.containers.mp4boxes import BoxReader, pack_box
from chapterkit.containers.mp4edit import plan_chapters
from chapterkit.inplace import apply
from chapterkit.model import Chapter, ChapterList
from conftest import ffmpeg_builds, ffmpeg_for, make_media, run_ffmpeg

CHAPTERS = ChapterList((Chapter(0, 600_000_000, "Intro"), Chapter(600_000_000, 1_250_000_000, "Ünïcødé 章"),
                        Chapter(1_250_000_000, 2_000_000_000, "Fin")), duration_ns=2_000_000_000)


def _ffmetadata(chapters: ChapterList) -> str:
    lines = [";FFMETADATA1"]
    for chapter in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000000000", f"START={chapter.start_ns}", f"END={chapter.end_ns}",
                  f"title={chapter.title}"]
    return "\n".join(lines) + "\n"


def _boxes(path: str) -> dict[str, bytes]:
    """The chapter trak (chunk offset zeroed), each tref and the chpl of ``path``."""
    found = {}
    with open(path, "rb") as handle:
        reader = BoxReader(handle, path)
        moov = next(box for box in reader.boxes() if box.name == "moov")
        for trak in reader.find_all(moov, "trak"):
            hdlr = reader.find(trak, "mdia/hdlr")
            track_id, _ = reader.track_header(reader.find(trak, "tkhd"))
            raw = bytearray(reader.read_at(trak.offset, trak.size, "trak"))
            if reader.handler_type(hdlr) == "text":
                stco = reader.find(trak, "mdia/minf/stbl/stco") or reader.find(trak, "mdia/minf/stbl/co64")
                start = stco.payload_offset + 8 - trak.offset
                raw[start:stco.end - trak.offset] = bytes(stco.end - trak.offset - start)
                found["chapter trak"] = bytes(raw)
            tref = reader.find(trak, "tref")
            if tref is not None:
                found[f"tref of track {track_id}"] = reader.read_at(tref.offset, tref.size, "tref")
        chpl = reader.find(moov, "udta/chpl")
        found["chpl"] = reader.read_at(chpl.offset, chpl.size, "chpl")
    return found


@pytest.mark.parametrize("build", ffmpeg_builds())
@pytest.mark.parametrize("container", ["mp4", "mov", "m4a", "m4b", "m4v"])
def test_in_place_boxes_match_ffmpeg_byte_for_byte(tmp_path, build, container):
    ffmpeg = ffmpeg_for(build)
    clip = make_media.make_clip(str(tmp_path / f"clip.{container}"), container, ffmpeg=ffmpeg,
                                extra=["-movie_timescale", "1000"])
    meta = tmp_path / "chapters.ffmeta"
    meta.write_text(_ffmetadata(CHAPTERS), encoding="utf-8")
    remuxed = str(tmp_path / f"remuxed.{container}")
    run_ffmpeg(ffmpeg, "-i", clip, "-i", str(meta), "-map", "0", "-c", "copy", "-map_chapters", "1",
               "-movie_timescale", "1000", remuxed)
    fd = os.open(clip, os.O_RDWR)
    try:
        apply(fd, plan_chapters(fd, CHAPTERS).plan)
    finally:
        os.close(fd)
    ours, theirs = _boxes(clip), _boxes(remuxed)
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert ours[name] == theirs[name], name


@pytest.mark.parametrize(("container", "timecode"), [("mov", ["-timecode", "01:00:00:00"]), ("mp4", [])])
def test_timecode_and_subtitle_tracks_get_the_references_ffmpeg_9_writes(tmp_path, container, timecode):
    """Video, audio, a mov_text subtitle and (MOV; FFmpeg cannot remux an MP4's) a timecode: every
    track gets ``tref/chap``, the video's before its ``tmcd``, and the chapter trak comes last (9.0.2)."""
    ffmpeg = ffmpeg_for("bundled")
    srt = tmp_path / "cue.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n", encoding="utf-8")
    clip = str(tmp_path / f"clip.{container}")
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "testsrc=s=32x18:r=25", "-f", "lavfi", "-i", "sine=d=2", "-i", str(srt),
               "-t", "2", "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac", "-c:s", "mov_text",
               *timecode, "-movie_timescale", "1000", clip)
    meta = tmp_path / "chapters.ffmeta"
    meta.write_text(_ffmetadata(CHAPTERS), encoding="utf-8")
    remuxed = str(tmp_path / f"remuxed.{container}")
    run_ffmpeg(ffmpeg, "-i", clip, "-i", str(meta), "-map", "0", "-c", "copy", "-map_chapters", "1",
               "-movie_timescale", "1000", remuxed)
    fd = os.open(clip, os.O_RDWR)
    try:
        apply(fd, plan_chapters(fd, CHAPTERS).plan)
    finally:
        os.close(fd)
    ours, theirs = _boxes(clip), _boxes(remuxed)
    assert ours == theirs
    assert _track_order(clip) == _track_order(remuxed)


def _track_order(path: str) -> list[tuple[int, str]]:
    with open(path, "rb") as handle:
        reader = BoxReader(handle, path)
        moov = next(box for box in reader.boxes() if box.name == "moov")
        return [(reader.track_header(reader.find(trak, "tkhd"))[0],
                 reader.handler_type(reader.find(trak, "mdia/hdlr"))) for trak in reader.find_all(moov, "trak")]


@pytest.mark.parametrize("build", ffmpeg_builds())
@pytest.mark.parametrize("container", ["mp4", "mov", "m4a"])
def test_title_is_written_as_ffmpeg_metadata_title_writes_it(tmp_path, build, container):
    ffmpeg = ffmpeg_for(build)
    clip = make_media.make_clip(str(tmp_path / f"clip.{container}"), container, ffmpeg=ffmpeg,
                                extra=["-movie_timescale", "1000"])
    meta = tmp_path / "chapters.ffmeta"
    meta.write_text(_ffmetadata(CHAPTERS), encoding="utf-8")
    remuxed = str(tmp_path / f"remuxed.{container}")
    run_ffmpeg(ffmpeg, "-i", clip, "-i", str(meta), "-map", "0", "-c", "copy", "-map_chapters", "1",
               "-movie_timescale", "1000", "-metadata", "title=Mon film — 第一", remuxed)
    fd = os.open(clip, os.O_RDWR)
    try:
        apply(fd, plan_chapters(fd, CHAPTERS, title="Mon film — 第一").plan)
    finally:
        os.close(fd)
    assert _udta(clip) == _udta(remuxed)
    # A second edit replaces the title; an empty one removes it.
    for title, expected in (("Autre", "Autre"), ("", None)):
        fd = os.open(clip, os.O_RDWR)
        try:
            apply(fd, plan_chapters(fd, CHAPTERS, title=title).plan)
        finally:
            os.close(fd)
        assert _ffprobe_title(ffmpeg, clip) == expected


@pytest.mark.parametrize("container", ["mp4", "mov"])
def test_a_file_without_udta_gets_one_with_the_title_and_chpl(tmp_path, container):
    ffmpeg = ffmpeg_for("bundled")
    clip = make_media.make_clip(str(tmp_path / f"clip.{container}"), container, ffmpeg=ffmpeg)
    with open(clip, "rb") as handle:  # cut udta out of the moov at the end of the file
        reader = BoxReader(handle, clip)
        moov = next(box for box in reader.boxes() if box.name == "moov")
        udta = reader.find(moov, "udta")
        data = bytearray(reader.read_at(0, reader.file_size, "file"))
    assert moov.end == len(data)
    del data[udta.offset:udta.end]
    data[moov.offset:moov.offset + 4] = struct.pack(">I", moov.size - udta.size)
    with open(clip, "wb") as handle:
        handle.write(data)
    fd = os.open(clip, os.O_RDWR)
    try:
        apply(fd, plan_chapters(fd, CHAPTERS, title="Bare").plan)
    finally:
        os.close(fd)
    assert _ffprobe_title(ffmpeg, clip) == "Bare"
    assert [c.title for c in read_nero(clip).chapters] == [c.title for c in CHAPTERS]


def _udta(path: str) -> bytes:
    with open(path, "rb") as handle:
        reader = BoxReader(handle, path)
        moov = next(box for box in reader.boxes() if box.name == "moov")
        udta = reader.find(moov, "udta")
        return reader.read_at(udta.offset, udta.size, "udta")


def _ffprobe_title(ffmpeg: str, path: str) -> str | None:
    """The global title FFmpeg reads (the FFMETADATA dump's lines before the first chapter)."""
    from chapterkit.muxer import dump_ffmetadata

    head = dump_ffmetadata(path, ffmpeg).split("[CHAPTER]")[0]
    return next((line.split("=", 1)[1] for line in head.splitlines() if line.startswith("title=")), None)


def test_samples_hold_length_text_and_ffmpeg_encd_atom():
    table = mp4track.samples(CHAPTERS, 2_000_000_000)
    first = table.data[:table.sizes[0]]
    assert first == struct.pack(">H", 5) + b"Intro" + bytes.fromhex("0000000c656e636400000100")
    assert table.durations == (600, 650, 750)


def test_chunk_offsets_past_4_gib_use_co64():
    table = mp4track.samples(CHAPTERS, 2_000_000_000)
    offset = 5 * 2**30 + 3
    trak = mp4track.chapter_trak(7, 1000, table, offset, mode="mp4")
    reader = BoxReader(io.BytesIO(trak), "trak")
    box = next(reader.boxes())
    stbl = reader.find(box, "mdia/minf/stbl")
    assert reader.find(stbl, "co64") is not None and reader.find(stbl, "stco") is None
    assert reader.sample_table(stbl).offsets[0] == offset
    assert reader.track_header(reader.find(box, "tkhd")) == (7, 2)


def test_pack_box_switches_to_largesize_only_when_needed():
    assert pack_box("free", b"ab") == b"\x00\x00\x00\x0afreeab"
    with pytest.raises(ValueError):
        pack_box("toolong", b"")


def test_chpl_keeps_255_chapters_and_cuts_titles_on_a_character_boundary():
    many = ChapterList(tuple(Chapter(i * 10**9, None, "é" * 200) for i in range(300)))
    atom = mp4track.chpl(many)
    assert atom[8 + 8] == 255
    first_title_length = atom[8 + 9 + 8]
    assert first_title_length == 254  # 127 two-byte characters; a byte cut at 255 would split one
