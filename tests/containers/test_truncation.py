"""The end-of-file checks that tell a whole MP3, Ogg or FLAC file from one cut short.

Real files from FFmpeg (both builds) are cut at every byte of their last frames
or pages, and at a few places further in: each cut must be refused, each whole
file (also with an ID3v1 tag appended) accepted, through the readers too.
"""

from __future__ import annotations

import io
import struct

import pytest

from chapterkit.containers._truncation import (
    flac_crc16,
    flac_tail_problem,
    mp3_tail_problem,
    ogg_crc,
    ogg_tail_problem,
    xing_stream_bytes,
)
from chapterkit.containers.id3 import read_id3, write_id3
from chapterkit.containers.vorbis import read_vorbis
from chapterkit.errors import MediaError
from chapterkit.model import ChapterList
from conftest import ffmpeg_for, make_media, run_ffmpeg

KINDS = ("ogg", "opus", "flac", "mp3")
ID3V1 = b"TAG" + bytes(125)


def problem(kind: str, data: bytes, source: bytes | None = None) -> str | None:
    """The check's verdict on ``data``; headers are read from ``source`` (the whole file)
    as the readers get them from mutagen, which refuses some cut files itself."""
    head = io.BytesIO(source if source is not None else data)
    handle = io.BytesIO(data)
    if kind == "flac":
        from mutagen.flac import FLAC

        info = FLAC(head).info
        return flac_tail_problem(handle, info.total_samples, info.max_blocksize, info.max_framesize)
    if kind == "mp3":
        from mutagen.mp3 import MP3

        return mp3_tail_problem(handle, MP3(head).info.frame_offset)
    return ogg_tail_problem(handle)


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> dict[tuple[str, str], bytes]:
    """(kind, build) -> the bytes of a 2 s file FFmpeg wrote."""
    folder = tmp_path_factory.mktemp("whole")
    made = {}
    for build in ("bundled", "debian"):
        for kind in KINDS:
            path = str(folder / f"{build}{make_media.RECIPES[kind][0]}")
            make_media.make_clip(path, kind, seconds=2, ffmpeg=ffmpeg_for(build))
            made[kind, build] = open(path, "rb").read()
    return made


builds = pytest.mark.parametrize("build", ["bundled", "debian"])
kinds = pytest.mark.parametrize("kind", KINDS)


@builds
@kinds
def test_whole_files_pass(whole, kind, build):
    data = whole[kind, build]
    assert problem(kind, data) is None
    assert problem(kind, data + ID3V1) is None  # some taggers append one to anything


@builds
@kinds
def test_every_cut_near_the_end_is_refused(whole, kind, build):
    data = whole[kind, build]
    # Every byte of the last ~1.5 KB (the last frame or page and then some), then coarser steps.
    cuts = list(range(1, 1500)) + list(range(1500, len(data) // 2, 997))
    missed = [cut for cut in cuts if problem(kind, data[:-cut], data) is None]
    assert missed == []


def test_readers_report_cut_files_as_one_line_problems(whole, tmp_path):
    # Issue 11: the chapters of a cut file still read; the cut is a problem beside them.
    for kind in KINDS:
        data = whole[kind, "bundled"]
        path = tmp_path / f"cut{make_media.RECIPES[kind][0]}"
        path.write_bytes(data[:-50])
        read = read_id3 if kind == "mp3" else read_vorbis
        result = read(str(path))
        assert len(result.problems) == 1 and "truncated" in result.problems[0]
        assert "\n" not in result.problems[0]


def test_an_mp3_cut_inside_its_tag_says_so(tmp_path):
    """mutagen's short read inside the ID3 tag is a bare OSError; the reason must still say why."""
    path = tmp_path / "tagged.mp3"
    make_media.make_clip(str(path), "mp3", seconds=1, ffmpeg=ffmpeg_for("bundled"))
    write_id3(str(path), ChapterList.of([(0, "A" * 2000), (500_000_000, "B")]))
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(MediaError, match=r"^not a readable MP3 file \(the file ends early: truncated\?\) while"):
        read_id3(str(path))


# -- Ogg -------------------------------------------------------------------------------------------


def _pages(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each page, walking the headers."""
    found, offset = [], 0
    while offset < len(data):
        segments = data[offset + 26]
        length = 27 + segments + sum(data[offset + 27:offset + 27 + segments])
        found.append((offset, length))
        offset += length
    return found


def test_ogg_crc_matches_every_page_ffmpeg_wrote(whole):
    data = whole["opus", "debian"]
    for offset, length in _pages(data):
        page = data[offset:offset + length]
        assert ogg_crc(page[:22] + bytes(4) + page[26:]) == struct.unpack_from("<I", page, 22)[0]
    assert ogg_crc(b"") == 0


def test_ogg_last_page_without_end_of_stream_flag(whole):
    data = bytearray(whole["ogg", "bundled"])
    offset, length = _pages(bytes(data))[-1]
    assert data[offset + 5] & 0x04
    data[offset + 5] &= ~0x04
    page = bytes(data[offset:offset + length])
    struct.pack_into("<I", data, offset + 22, ogg_crc(page[:22] + bytes(4) + page[26:]))
    assert problem("ogg", bytes(data)) == \
        "the last Ogg page does not end the stream (no end-of-stream flag): truncated"


def test_ogg_damage_and_junk(whole):
    data = whole["opus", "bundled"]
    offset, _ = _pages(data)[-1]
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF  # the last page's CRC no longer matches: the page before is the last whole one
    assert "ends inside an Ogg page" in problem("opus", bytes(flipped))
    assert problem("opus", data + b"junk!") == \
        "5 bytes that are not an Ogg page after the last page (damaged?)"
    assert problem("opus", data[:offset + 3]) == \
        "the file ends inside an Ogg page (3 bytes of it): truncated"


# -- FLAC ------------------------------------------------------------------------------------------


def test_flac_crc16_known_value():
    # CRC-16/UMTS (poly 0x8005, init 0, no reflection) of "123456789" is 0xFEE8.
    assert flac_crc16(b"123456789") == 0xFEE8
    assert flac_crc16(b"") == 0


def test_flac_unknown_sample_count_is_not_checked(whole):
    assert flac_tail_problem(io.BytesIO(whole["flac", "bundled"][:1000]), 0, 4096, 0) is None


def test_flac_messages(whole):
    data = whole["flac", "debian"]
    assert problem("flac", data[:-3], data) == \
        "the last FLAC frame is cut short (its CRC-16 does not match): truncated"
    assert problem("flac", data[:len(data) // 2], data).startswith("no frame at the end of the file "
                                                                            "finishes the 96000 samples")


# -- MP3 -------------------------------------------------------------------------------------------


def test_xing_byte_count(whole):
    data = whole["mp3", "bundled"]
    from mutagen.mp3 import MP3

    offset = MP3(io.BytesIO(data)).info.frame_offset
    assert xing_stream_bytes(data[offset:offset + 192]) == len(data) - offset  # measured: exact
    assert xing_stream_bytes(b"\xff\xfb" + bytes(200)) is None


def test_mp3_without_a_xing_header_is_not_checked(tmp_path):
    path = str(tmp_path / "plain.mp3")
    run_ffmpeg(ffmpeg_for("bundled"), "-f", "lavfi", "-i", "sine=d=1", "-c:a", "libmp3lame", "-write_xing", "0",
               path)
    data = open(path, "rb").read()
    assert problem("mp3", data[:len(data) // 2], data) is None
