"""The ``quicktime`` and ``nero`` readers on real MP4/MOV/M4A/M4B files.

Media comes from both FFmpeg builds (bundled 9.0.2 and Debian 5.1) writing a
list we know to the nanosecond. The readers must give back exactly what the
carrier can hold: the QuickTime track's ticks (FFmpeg rounds each time to the
nearest tick of the track timescale), chpl's 100 ns units, and agree with
ffprobe and mutagen. Crafted files (committed in ``fixtures/media/mp4-*``,
rebuilt by ``python tests/containers/test_mp4.py fixtures/media``) cover what
FFmpeg does not write: disagreeing lists, UTF-16 titles, 64-bit and size-0 boxes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
from fractions import Fraction

import pytest

from chapterkit.containers import read as read_media
from chapterkit.containers.mp4 import chpl_units, read_nero, read_quicktime
from chapterkit.containers.mp4boxes import BoxReader
from chapterkit.errors import MediaError
from chapterkit.model import seconds_to_ns

if __name__ == "__main__":  # run as a script to rebuild the fixtures: make conftest importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from conftest import bundled_ffmpeg, ffmpeg_builds, ffmpeg_for, fixture_path, require_tool, run_ffmpeg  # noqa: E402

LONG_TITLE = "Long " + "x" * 295  # 300 bytes: chpl keeps 255, the QT track all of it
SOURCE = [  # (start_ns, end_ns, title) written through FFMETADATA with TIMEBASE 1/1e9
    (0, 400_123_456, "Intro"),
    (400_123_456, 1_000_000_000, "Ünïcødé — 章节二 🎬"),
    (1_000_000_000, 1_333_333_333, "Esc = ; # \\ back"),
    (1_333_333_333, 1_600_000_000, LONG_TITLE),
    (1_600_000_000, 1_900_000_001, "Last"),  # ends before the 2 s media: the QT track keeps it
]
EXTENSIONS = ("mp4", "mov", "m4a", "m4b")


def ffmetadata(chapters) -> str:
    lines = [";FFMETADATA1"]
    for start, end, title in chapters:
        escaped = "".join("\\" + c if c in "=;#\\\n" else c for c in title)
        lines += ["[CHAPTER]", "TIMEBASE=1/1000000000", f"START={start}", f"END={end}", f"title={escaped}"]
    return "\n".join(lines) + "\n"


def make(ffmpeg: str, folder, name: str, chapters, *, video: str | None = "testsrc=s=16x16:r=30000/1001",
         audio: str = "sine=r=44100:d=2", seconds: str = "2", extra=()) -> str:
    """A real clip at ``folder/name`` with ``chapters`` (None: the input has none to map)."""
    meta = os.path.join(folder, name + ".ffmeta")
    with open(meta, "w", encoding="utf-8") as handle:
        handle.write(ffmetadata(chapters or []))
    inputs = (["-f", "lavfi", "-i", video] if video else []) + ["-f", "lavfi", "-i", audio]
    count = len(inputs) // 4
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"] if video else []
    codecs += ["-c:a", "aac", "-b:a", "16k"]
    out = os.path.join(folder, name)
    run_ffmpeg(ffmpeg, *inputs, "-f", "ffmetadata", "-i", meta, *(f for i in range(count) for f in ("-map", str(i))),
               "-map_chapters", str(count) if chapters else "-1", "-t", seconds, *codecs, *extra, out)
    return out


def ticks_ns(ns: int, timescale: int) -> int:
    """``ns`` after FFmpeg's av_rescale_q to the track timescale (nearest, half away from 0) and back."""
    ticks = (2 * ns * timescale + 1_000_000_000) // 2_000_000_000
    return seconds_to_ns(Fraction(ticks, timescale))


def chapter_timescale(path: str) -> int:
    with open(path, "rb") as handle:
        reader = BoxReader(handle, path)
        moov = reader.find(None, "moov")
        for trak in reader.find_all(moov, "trak"):
            if reader.handler_type(reader.find(trak, "mdia/hdlr")) == "text":
                return reader.media_header(reader.find(trak, "mdia/mdhd"))[0]
    raise AssertionError(f"{path} has no text track")


def ffprobe(path: str) -> dict:
    tool = require_tool("ffprobe", "/usr/bin/ffprobe")
    done = subprocess.run([tool, "-v", "error", "-show_chapters", "-show_format", "-of", "json", path],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def ffprobe_chapters(path: str) -> list[tuple[int, int, str]]:
    found = []
    for chapter in ffprobe(path)["chapters"]:
        base = Fraction(chapter["time_base"])
        found.append((seconds_to_ns(chapter["start"] * base), seconds_to_ns(chapter["end"] * base),
                      chapter.get("tags", {}).get("title", "")))
    return found


def triples(result) -> list[tuple[int, int | None, str]]:
    return [(c.start_ns, c.end_ns, c.title) for c in result.chapters]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """(build, extension) -> a 2 s clip with SOURCE chapters, made once per module."""
    folder = tmp_path_factory.mktemp("mp4")
    made: dict[tuple[str, str], str] = {}

    def get(build: str, extension: str) -> str:
        if (build, extension) not in made:
            video = "testsrc=s=16x16:r=30000/1001" if extension in ("mp4", "mov") else None
            made[build, extension] = make(ffmpeg_for(build), folder, f"{build}.{extension}", SOURCE, video=video)
        return made[build, extension]
    return get


builds = pytest.mark.parametrize("build", ffmpeg_builds())
extensions = pytest.mark.parametrize("extension", EXTENSIONS)


# -- what FFmpeg writes, read back exactly ----------------------------------------------------------

@builds
@extensions
def test_quicktime_reads_the_track_exactly(clips, build, extension):
    path = clips(build, extension)
    timescale = chapter_timescale(path)
    # Debian 5.1 uses movie_timescale 1000; 9.0 the lcm-based auto value (research 2.1).
    expected_scale = 1000 if build == "debian" else (4_410_000 if extension in ("mp4", "mov") else 44_100)
    assert timescale == expected_scale
    result = read_quicktime(path)
    starts = [ticks_ns(start, timescale) for start, _, _ in SOURCE]
    ends = starts[1:] + [ticks_ns(SOURCE[-1][1], timescale)]  # intermediate ends = next start
    assert triples(result) == [(s, e, t) for s, e, (_, _, t) in zip(starts, ends, SOURCE)]
    assert result.reader == "quicktime"
    assert result.chapters.duration_ns == (2_002_000_000 if extension in ("mp4", "mov") else 2_000_000_000)
    assert f"timescale {timescale}" in " ".join(result.notes)
    # Within the carrier's precision of the source: half a tick.
    for (start, _, _), chapter in zip(SOURCE, result.chapters):
        assert abs(chapter.start_ns - start) <= 1_000_000_000 // (2 * timescale) + 1


@builds
@extensions
def test_nero_reads_chpl_exactly(clips, build, extension):
    path = clips(build, extension)
    result = read_nero(path)
    starts = [(start + 50) // 100 * 100 for start, _, _ in SOURCE]  # 100 ns units, nearest
    titles = [title.encode()[:255].decode() for _, _, title in SOURCE]
    duration = result.chapters.duration_ns
    assert duration == (2_002_000_000 if extension in ("mp4", "mov") else 2_000_000_000)
    assert triples(result) == list(zip(starts, starts[1:] + [duration], titles))
    assert result.reader == "nero"


@builds
@extensions
def test_quicktime_agrees_with_ffprobe(clips, build, extension):
    path = clips(build, extension)
    assert ffprobe_chapters(path) == triples(read_quicktime(path))
    # ffprobe prints the format duration in microseconds.
    seconds = Fraction(ffprobe(path)["format"]["duration"])
    assert abs(read_quicktime(path).chapters.duration_ns - seconds_to_ns(seconds)) <= 500


@builds
@extensions
def test_nero_agrees_with_mutagen(clips, build, extension):
    from mutagen.mp4 import MP4

    path = clips(build, extension)
    theirs = [(c.start, c.title) for c in MP4(path).chapters]
    ours = read_nero(path).chapters
    assert [c.title for c in ours] == [title for _, title in theirs]
    for chapter, (start, _) in zip(ours, theirs):
        assert abs(Fraction(chapter.start_ns, 10**9) - Fraction(start)) < Fraction(1, 10**9)


def test_registry_runs_both_mp4_readers(clips):
    path = clips("bundled", "m4b")
    results = read_media(path, ["quicktime", "nero"])
    assert [r.reader for r in results] == ["quicktime", "nero"]
    assert results[0].chapters.titles[:3] == results[1].chapters.titles[:3]


# -- long chapters and FFmpeg 9's automatic timescale (research pitfall 3) ---------------------------

LONG = [(0, 100_000_000_000, "Short one"),
        (100_000_000_000, 700_500_000_000, "Ten minutes and a half"),
        (700_500_000_000, 1_300_000_000_000, "Another long one")]


@pytest.fixture(scope="module")
def long_clips(tmp_path_factory):
    """1300 s of 29.97 fps video + 44.1 kHz audio with 10-minute chapters, ~21 KB each.

    Every 300th frame only (VFR passthrough keeps the 1/30000 time base) and
    FLAC frames of 65535 samples keep the tables, and so the files, small.
    """
    folder = tmp_path_factory.mktemp("long")
    common = dict(video=r"color=s=16x16:r=30000/1001:d=1300,select=not(mod(n\,300))",
                  audio="anullsrc=r=44100:cl=mono", seconds="1300")
    codecs = ["-fps_mode", "passthrough", "-c:a", "flac", "-frame_size", "65535"]
    ffmpeg = bundled_ffmpeg()
    auto = make(ffmpeg, folder, "auto.mp4", LONG, extra=codecs, **common)
    fixed = make(ffmpeg, folder, "ms.mp4", LONG, extra=codecs + ["-movie_timescale", "1000"], **common)
    return auto, fixed


def test_auto_timescale_corrupts_long_chapters_in_the_quicktime_track(long_clips):
    auto, _ = long_clips
    assert os.path.getsize(auto) < 50_000
    assert chapter_timescale(auto) == 4_410_000
    # 600.5 s is 2 648 205 000 ticks > INT_MAX: FFmpeg 9 drops those samples
    # ("Application provided duration ... is invalid"); the track keeps 1 of 3.
    qt = read_quicktime(auto)
    assert triples(qt) == [(0, 100_000_000_000, "Short one")]
    assert qt.chapters.duration_ns == 1_300_000_000_000
    # chpl is 100 ns units in a u64: intact.
    assert triples(read_nero(auto)) == [(s, e, t) for s, e, t in LONG]


def test_movie_timescale_1000_keeps_long_chapters(long_clips):
    _, fixed = long_clips
    assert chapter_timescale(fixed) == 1000
    assert triples(read_quicktime(fixed)) == LONG
    assert triples(read_nero(fixed)) == LONG


def test_verify_catches_the_long_chapter_corruption_that_only_one_list_shows(long_clips):
    """Why verify reads both lists: chpl is intact, the QuickTime track (what Apple and
    FFmpeg-based players show) lost two chapters; only the quicktime reader fails."""
    from chapterkit.model import Chapter, ChapterList
    from chapterkit.verify import verify_file

    auto, fixed = long_clips
    source = ChapterList(tuple(Chapter(*c) for c in LONG))
    report = verify_file(auto, source, readers=["quicktime", "nero"])
    assert [(r.reader, r.ok) for r in report.readers] == [("quicktime", False), ("nero", True)]
    assert [row.status for row in report.readers[0].rows] == ["ok", "missing", "missing"]
    assert report.exit_code == 1
    assert verify_file(fixed, source, readers=["quicktime", "nero"]).exit_code == 0


# -- what FFmpeg writes in other shapes -----------------------------------------------------------------

@builds
def test_fragmented_file_chapters_come_from_the_first_moof(tmp_path, build):
    path = make(ffmpeg_for(build), tmp_path, "frag.mp4", SOURCE[:2] + [(1_000_000_000, 1_500_000_000, "End")],
                extra=["-movflags", "frag_keyframe+empty_moov"])
    with open(path, "rb") as handle:  # the moov sample tables are empty; the samples are in moof
        reader = BoxReader(handle, path)
        assert [b.name for b in reader.boxes()].count("moof") >= 1
    qt = read_quicktime(path)
    assert qt.chapters.titles == ("Intro", SOURCE[1][2], "End")
    assert triples(qt) == ffprobe_chapters(path)
    duration = seconds_to_ns(Fraction(ffprobe(path)["format"]["duration"]))
    assert abs(qt.chapters.duration_ns - duration) <= 500  # mvhd says 0: from the fragments
    assert read_nero(path).chapters.starts_ns == (0, 400_123_500, 1_000_000_000)


@builds
def test_no_chapters_gives_empty_lists(tmp_path, build):
    path = make(ffmpeg_for(build), tmp_path, "none.m4a", None, video=None)
    for reader in (read_quicktime, read_nero):
        result = reader(path)
        assert len(result.chapters) == 0
        assert result.chapters.duration_ns == 2_000_000_000


def test_committed_sample_without_chapters():
    path = str(fixture_path("media", "sample-11min-no-chapters.mp4"))
    assert len(read_quicktime(path).chapters) == 0
    assert len(read_nero(path).chapters) == 0
    assert read_nero(path).chapters.duration_ns == 660_000_000_000


@builds
def test_3gp_has_chpl_only(tmp_path, build):
    # movenc creates the QT track for mp4/mov/ipod only (research 2.1).
    path = make(ffmpeg_for(build), tmp_path, "clip.3gp", SOURCE[:2], video=None, audio="sine=r=8000:d=2",
                extra=["-ar", "8000"])
    assert len(read_quicktime(path).chapters) == 0
    assert read_nero(path).chapters.titles == ("Intro", SOURCE[1][2])


@builds
def test_chpl_title_cut_inside_a_utf8_character(tmp_path, build):
    title = "x" * 254 + "é"  # 256 bytes: FFmpeg's 255-byte cut splits the é
    path = make(ffmpeg_for(build), tmp_path, "cut.m4a", [(0, 1_000_000_000, title)], video=None)
    with pytest.raises(MediaError) as caught:
        read_nero(path)
    message = str(caught.value)
    assert "chpl title" in message and "255 bytes" in message and message.endswith(f"while reading {path}")
    assert "\n" not in message
    assert read_quicktime(path).chapters.titles == (title,)


def test_more_than_255_chapters(tmp_path):
    # chpl's count is one byte: movenc writes FFMIN(n, 255); the QT track keeps all (research 2.1).
    many = [(i * 6_000_000, (i + 1) * 6_000_000, f"C{i}") for i in range(300)]
    path = make(bundled_ffmpeg(), tmp_path, "many.m4a", many, video=None, extra=["-movie_timescale", "1000"])
    assert triples(read_quicktime(path)) == many
    assert read_nero(path).chapters.titles == tuple(t for _, _, t in many[:255])


# -- crafted files (committed) ------------------------------------------------------------------------

def test_disagreeing_lists():
    path = str(fixture_path("media", "mp4-disagreeing-lists.mp4"))
    qt, nero = read_quicktime(path), read_nero(path)
    assert triples(qt) == [(0, 500_000_000, "Alpha"), (500_000_000, 1_000_000_000, "Bravo"),
                           (1_000_000_000, 1_500_000_000, "Charlie")]
    assert triples(nero) == [(0, 750_000_000, "Omega"), (750_000_000, 1_250_000_000, "Sigma"),
                             (1_250_000_000, 2_000_000_000, "Epsilon")]
    # FFmpeg's demuxer reads chpl first, then lets the QT track replace it (mov.c).
    assert ffprobe_chapters(path) == triples(qt)


def test_utf16_titles_with_byte_order_marks():
    path = str(fixture_path("media", "mp4-utf16-titles.mov"))
    qt = read_quicktime(path)
    assert qt.chapters.titles == ("Ωmega", "Sigmä", "Plain")
    assert [title for _, _, title in ffprobe_chapters(path)] == ["Ωmega", "Sigmä", "Plain"]
    assert read_nero(path).chapters.titles == ("ABCDEFGHIJKL", "abcdefghijkl", "Plain")


def test_largesize_mdat_and_moov_running_to_eof():
    path = str(fixture_path("media", "mp4-largesize-mdat-moov-to-eof.m4a"))
    with open(path, "rb") as handle:
        boxes = list(BoxReader(handle, path).boxes())
    assert [(b.name, b.header_size) for b in boxes] == [("ftyp", 8), ("mdat", 16), ("moov", 8)]
    with open(path, "rb") as handle:
        handle.seek(boxes[-1].offset)
        assert handle.read(4) == b"\0\0\0\0"
    expected = [(0, 500_000_000, "One"), (500_000_000, 1_500_000_000, "Two")]
    assert triples(read_quicktime(path)) == expected
    assert ffprobe_chapters(path)[:2] == expected
    assert triples(read_nero(path)) == [(0, 500_000_000, "One"), (500_000_000, 2_000_000_000, "Two")]


def test_edit_list_media_time_shifts_chapters_per_the_spec(tmp_path):
    # 14496-12 8.6.6: media time 250 ms is presented at 0. FFmpeg's demuxer snaps to
    # sample boundaries instead (measured: ffprobe 5.1 shows -0.4 s, 0 s, ...).
    source = str(fixture_path("media", "mp4-disagreeing-lists.mp4"))
    data = bytearray(open(source, "rb").read())
    reader = BoxReader(io.BytesIO(bytes(data)), source)
    trak = reader.find_all(reader.find(None, "moov"), "trak")[-1]
    elst = reader.find(trak, "edts/elst")
    data[elst.payload_offset + 12:elst.payload_offset + 16] = struct.pack(">i", 250)
    path = tmp_path / "elst.mp4"
    path.write_bytes(data)
    assert triples(read_quicktime(path)) == [(0, 250_000_000, "Alpha"), (250_000_000, 750_000_000, "Bravo"),
                                             (750_000_000, 1_250_000_000, "Charlie")]


# -- crafted from scratch: what no FFmpeg writes ----------------------------------------------------

def box(name: str, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), name.encode("latin-1")) + payload


def full(name: str, version: int, flags: int, body: bytes) -> bytes:
    return box(name, bytes([version]) + flags.to_bytes(3, "big") + body)


def movie(samples: list[bytes], durations: list[int], *, timescale: int = 1000, edits=(), enabled: bool = True,
          chap_target: int = 2, text_handler: str = "text") -> bytes:
    """A minimal QuickTime movie: an audio-like track pointing at a text chapter track."""
    ftyp = box("ftyp", b"qt  \0\0\0\0qt  ")
    mdat = box("mdat", b"".join(samples))
    first = len(ftyp) + 8
    mvhd = full("mvhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, sum(durations) * 1000 // timescale) + b"\0" * 80)

    def track(track_id, flags, handler, scale, extra=b"", stbl=b""):
        tkhd = full("tkhd", 0, flags, struct.pack(">IIII", 0, 0, track_id, 0) + b"\0" * 64)
        mdhd = full("mdhd", 0, 0, struct.pack(">IIII", 0, 0, scale, sum(durations)) + b"\0" * 4)
        hdlr = full("hdlr", 0, 0, b"\0" * 4 + handler.encode() + b"\0" * 13)
        return box("trak", tkhd + extra + box("mdia", mdhd + hdlr + box("minf", box("stbl", stbl))))

    stts = full("stts", 0, 0, struct.pack(">I", len(durations)) + b"".join(struct.pack(">II", 1, d) for d in durations))
    stsz = full("stsz", 0, 0, struct.pack(f">II{len(samples)}I", 0, len(samples), *map(len, samples)))
    stsc = full("stsc", 0, 0, struct.pack(">IIII", 1, 1, len(samples), 1))
    stco = full("stco", 0, 0, struct.pack(">II", 1, first))
    elst = b""
    if edits:
        elst = box("edts", full("elst", 0, 0, struct.pack(">I", len(edits))
                                + b"".join(struct.pack(">Iii", d, m, 0x10000) for d, m in edits)))
    audio = track(1, 3 if enabled else 2, "soun", 1000, box("tref", box("chap", struct.pack(">I", chap_target))))
    text = track(2, 2, text_handler, timescale, elst, stts + stsz + stsc + stco)
    return ftyp + mdat + box("moov", mvhd + audio + text)


def sample(text: bytes, trailer: bytes = b"") -> bytes:
    return struct.pack(">H", len(text)) + text + trailer


def read_crafted(tmp_path, data: bytes):
    path = tmp_path / "crafted.mov"
    path.write_bytes(data)
    return read_quicktime(path)


def test_crafted_titles_utf16_both_orders_encd_and_empty(tmp_path):
    encd = box("encd", struct.pack(">I", 0x100))
    samples = [sample("\ufeffBig".encode("utf-16-be"), encd), sample("\ufeffLittle".encode("utf-16-le")),
               sample("Ünï".encode(), encd), sample(b"")]
    result = read_crafted(tmp_path, movie(samples, [300, 300, 300, 100]))
    assert triples(result) == [(0, 300_000_000, "Big"), (300_000_000, 600_000_000, "Little"),
                               (600_000_000, 900_000_000, "Ünï"), (900_000_000, 1_000_000_000, "")]


def test_crafted_invalid_utf8_and_overlong_length_are_noted(tmp_path):
    samples = [sample(b"caf\xe9"), struct.pack(">H", 40) + b"short"]
    result = read_crafted(tmp_path, movie(samples, [500, 500]))
    assert result.chapters.titles == ("caf\ufffd", "short")
    assert "chapter sample 0 title is not valid UTF-8" in result.notes
    assert "chapter sample 1 claims 40 text bytes but holds 5" in result.notes


def test_crafted_empty_edit_delays_the_track(tmp_path):
    # An empty edit of 1 s (movie ticks, 1/1000) then the media from tick 0 (track 1/600).
    result = read_crafted(tmp_path, movie([sample(b"A"), sample(b"B")], [300, 600], timescale=600,
                                          edits=[(1000, -1), (1500, 0)]))
    assert triples(result) == [(1_000_000_000, 1_500_000_000, "A"), (1_500_000_000, 2_500_000_000, "B")]


def test_crafted_exact_rounding_of_odd_timescales(tmp_path):
    # 1 tick of 1/3 s = 333 333 333.33 ns: each time rounds once, from the summed ticks.
    result = read_crafted(tmp_path, movie([sample(b"A"), sample(b"B"), sample(b"C")], [1, 1, 1], timescale=3))
    assert triples(result) == [(0, 333_333_333, "A"), (333_333_333, 666_666_667, "B"),
                               (666_666_667, 1_000_000_000, "C")]


def test_crafted_chapter_reference_cases(tmp_path):
    data = movie([sample(b"A")], [1000], enabled=False)
    result = read_crafted(tmp_path, data)
    assert result.chapters.titles == ("A",)
    assert "chapter track 2 is referenced only by disabled tracks (Apple players ignore it)" in result.notes
    missing = read_crafted(tmp_path, movie([sample(b"A")], [1000], chap_target=9))
    assert len(missing.chapters) == 0
    assert "track 1 names chapter track 9, which does not exist" in missing.notes
    # A chap reference to a video track (chapter pictures) carries no titles.
    pictures = read_crafted(tmp_path, movie([sample(b"A")], [1000], text_handler="vide"))
    assert len(pictures.chapters) == 0


# -- bad input -------------------------------------------------------------------------------------------

def media_error(tmp_path, data: bytes, name: str = "bad.mp4") -> list[str]:
    path = tmp_path / name
    path.write_bytes(data)
    messages = []
    for reader in (read_quicktime, read_nero):
        with pytest.raises(MediaError) as caught:
            reader(path)
        message = str(caught.value)
        assert message.endswith(f" while reading {path}") and "\n" not in message
        messages.append(message[: -len(f" while reading {path}")])
    assert messages[0] == messages[1]
    return messages[0]


@pytest.fixture(scope="module")
def good_bytes():
    return fixture_path("media", "mp4-disagreeing-lists.mp4").read_bytes()


def test_zero_bytes(tmp_path):
    assert media_error(tmp_path, b"") == "file is empty (0 bytes)"


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="No such file"):
        read_quicktime(tmp_path / "absent.mp4")
    with pytest.raises(MediaError, match="No such file"):
        read_nero(tmp_path / "absent.mp4")


@pytest.mark.parametrize("data", [b";FFMETADATA1\ntitle=x\n", b"\x1a\x45\xdf\xa3" + b"\0" * 40, b"ID3\x04"])
def test_not_mp4(tmp_path, data):
    reason = media_error(tmp_path, data)
    assert reason.startswith("not an MP4/QuickTime file") or reason.startswith("file is too short")


def test_truncated_inside_mdat(tmp_path, good_bytes):
    mdat = good_bytes.index(b"mdat") - 4
    assert media_error(tmp_path, good_bytes[:mdat + 20]) == f"truncated box 'mdat' at offset {mdat}"


def test_truncated_inside_moov(tmp_path, good_bytes):
    moov = good_bytes.index(b"moov") - 4
    assert media_error(tmp_path, good_bytes[:-10]) == f"truncated box 'moov' at offset {moov}"


def test_no_moov(tmp_path, good_bytes):
    moov = good_bytes.index(b"moov") - 4
    assert media_error(tmp_path, good_bytes[:moov]) == "no 'moov' box (an incomplete or non-MP4 file)"


def test_garbage_size_after_ftyp(tmp_path, good_bytes):
    data = bytearray(good_bytes)
    second = struct.unpack(">I", data[:4])[0]
    data[second:second + 4] = struct.pack(">I", 3)
    assert media_error(tmp_path, bytes(data)).endswith(f"at offset {second} has an impossible size 3")


def test_chapter_sample_beyond_the_end(tmp_path):
    data = movie([sample(b"A")], [1000])
    data = data.replace(struct.pack(">II", 1, 28), struct.pack(">II", 1, 10_000))  # the stco entry
    path = tmp_path / "far.mov"
    path.write_bytes(data)
    with pytest.raises(MediaError, match=r"truncated chapter sample 0 at offset 10000 while reading"):
        read_quicktime(path)


def test_chpl_count_beyond_its_entries(tmp_path, good_bytes):
    data = bytearray(good_bytes)
    chpl = _chpl(data)
    data[chpl.payload_offset + 8] = 9  # the count byte; 3 entries follow
    path = tmp_path / "chpl9.mp4"
    path.write_bytes(data)
    with pytest.raises(MediaError, match=r"^mutagen cannot read the MP4 metadata \(.*\) while reading"):
        read_nero(path)
    assert read_quicktime(path).chapters.titles == ("Alpha", "Bravo", "Charlie")


def test_mdat_is_never_read(tmp_path):
    # The kernel's count of bytes this process read (/proc/self/io rchar), around a
    # read of a movie whose mdat holds 64 MB (sparse) after the chapter samples.
    if not os.path.exists("/proc/self/io"):
        pytest.skip("needs Linux /proc/self/io")
    data = movie([sample(b"A"), sample(b"B")], [500, 500])
    split = data.index(b"moov") - 4
    pad = 64 * 1024 * 1024
    path = tmp_path / "big.mov"
    with open(path, "wb") as handle:
        head = bytearray(data[:split])
        mdat = head.index(b"mdat") - 4
        head[mdat:mdat + 4] = struct.pack(">I", split - mdat + pad)
        handle.write(head)
        handle.seek(pad, os.SEEK_CUR)
        handle.write(data[split:])

    def rchar() -> int:
        with open("/proc/self/io") as io_stats:
            return next(int(line.split()[1]) for line in io_stats if line.startswith("rchar:"))

    before = rchar()
    assert read_quicktime(path).chapters.titles == ("A", "B")
    assert rchar() - before < 256 * 1024


def test_chpl_units_for_old_and_new_mutagen():
    assert chpl_units(4_001_235 / 10_000_000, (1, 48, 1), 4_410_000) == 4_001_235
    # mutagen 1.47 divided by 1e4 * mvhd timescale (mutagen NEWS 1.48.0).
    assert chpl_units(4_001_235 / 10_000 / 4_410_000, (1, 47, 0), 4_410_000) == 4_001_235
    assert chpl_units(2**51 / 10_000_000, (1, 48), 1000) == 2**51


# -- regenerating the committed crafted fixtures ---------------------------------------------------------

def craft_all(folder: str, ffmpeg: str) -> list[str]:
    """Write the ``mp4-*`` fixtures of fixtures/media (see its README)."""
    import tempfile

    scratch = tempfile.mkdtemp()
    try:
        return [_craft_disagreeing(folder, scratch, ffmpeg), _craft_utf16(folder, scratch, ffmpeg),
                _craft_largesize(folder, scratch, ffmpeg)]
    finally:
        shutil.rmtree(scratch)


def _tiny(ffmpeg, scratch, name, chapters) -> bytearray:
    path = make(ffmpeg, scratch, name, chapters, video=None, audio="sine=r=8000:d=2",
                extra=["-ar", "8000", "-ac", "1", "-b:a", "8k", "-movie_timescale", "1000"])
    with open(path, "rb") as handle:
        return bytearray(handle.read())


def _chpl(data: bytes):
    reader = BoxReader(io.BytesIO(bytes(data)), "scratch")
    return reader.find(None, "moov/udta/chpl")


def _craft_disagreeing(folder, scratch, ffmpeg) -> str:
    data = _tiny(ffmpeg, scratch, "dis.mp4", [(0, 500_000_000, "Alpha"), (500_000_000, 1_000_000_000, "Bravo"),
                                              (1_000_000_000, 1_500_000_000, "Charlie")])
    chpl = _chpl(data)
    # chpl v1 (movenc.c mov_write_chpl_tag): version/flags, 4 reserved bytes, count,
    # then u64 start in 100 ns units, u8 length, title. Same titles' lengths: same size.
    entries = [(0, "Omega"), (7_500_000, "Sigma"), (12_500_000, "Epsilon")]
    payload = b"\x01\0\0\0" + b"\0" * 4 + bytes([len(entries)])
    payload += b"".join(struct.pack(">QB", start, len(t)) + t.encode() for start, t in entries)
    assert len(payload) == chpl.payload_size
    data[chpl.payload_offset:chpl.end] = payload
    return _write(folder, "mp4-disagreeing-lists.mp4", data)


def _craft_utf16(folder, scratch, ffmpeg) -> str:
    data = _tiny(ffmpeg, scratch, "u16.mov", [(0, 500_000_000, "ABCDEFGHIJKL"),
                                              (500_000_000, 1_000_000_000, "abcdefghijkl"),
                                              (1_000_000_000, 1_500_000_000, "Plain")])
    reader = BoxReader(io.BytesIO(bytes(data)), "scratch")
    trak = reader.find_all(reader.find(None, "moov"), "trak")[-1]
    table = reader.sample_table(reader.find(trak, "mdia/minf/stbl"))
    for index, text in ((0, "\ufeffΩmega".encode("utf-16-be")), (1, "\ufeffSigmä".encode("utf-16-le"))):
        offset = table.offsets[index] + 2
        assert len(text) == 12 and data[offset:offset + 12].isascii()
        data[offset:offset + 12] = text
    return _write(folder, "mp4-utf16-titles.mov", data)


def _craft_largesize(folder, scratch, ffmpeg) -> str:
    data = _tiny(ffmpeg, scratch, "big.m4a", [(0, 500_000_000, "One"), (500_000_000, 1_500_000_000, "Two")])
    reader = BoxReader(io.BytesIO(bytes(data)), "scratch")
    top = list(reader.boxes())
    names = [b.name for b in top]
    assert names[1:] == ["free", "mdat", "moov"] and top[1].size == 8, names
    # FFmpeg reserves the 8-byte 'free' so mdat can take a 64-bit size in place (movenc.c).
    mdat = top[2]
    data[top[1].offset:mdat.offset + 8] = struct.pack(">I4sQ", 1, b"mdat", mdat.size + 8)
    data[top[3].offset:top[3].offset + 4] = b"\0\0\0\0"  # the last box: size 0, to EOF
    return _write(folder, "mp4-largesize-mdat-moov-to-eof.m4a", data)


def _write(folder, name, data) -> str:
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


if __name__ == "__main__":
    for written in craft_all(sys.argv[1] if len(sys.argv) > 1 else "fixtures/media", bundled_ffmpeg()):
        print(f"wrote {written} ({os.path.getsize(written)} bytes)")
