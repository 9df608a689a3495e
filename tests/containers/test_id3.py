"""MP3 ID3v2 CHAP/CTOC: write with mutagen, read back with mutagen, ffprobe, both FFmpegs and mpv.

Media is made once per module with the bundled FFmpeg (libmp3lame, 3 s of sine) and
copied per test. FFmpeg's CLI dump subtracts the MP3's start_time (the LAME encoder
delay, 1105 samples = 25.057 ms at 44.1 kHz) from every chapter; ffprobe
-show_chapters and mutagen report the raw CHAP times (measured; research §2.5).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapterkit.containers.id3 import read_id3, write_id3, write_title
from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from conftest import mpv_chapters, bundled_ffmpeg, fixture_path, make_media, require_tool

LONG_TITLE = "Long " + "x" * 295  # 300 bytes: its TIT2 is far past the 128 bytes v2.4 loses
CHAPTERS = ChapterList((
    Chapter(0, 700 * NS_PER_MS, "Intro ✨ Ünïcødé — 章节二 🎬"),
    Chapter(700 * NS_PER_MS, 1_234 * NS_PER_MS, LONG_TITLE),
    Chapter(1_500 * NS_PER_MS, 2_000 * NS_PER_MS, "After a gap"),   # ID3 stores ends: gaps survive
    Chapter(2_000 * NS_PER_MS, 3_000 * NS_PER_MS, "Last"),
))
COVER = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture(scope="module")
def plain_mp3(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("id3")
    return make_media.make_clip(str(folder / "plain.mp3"), "mp3", seconds=3, sample_rate=44100,
                                ffmpeg=bundled_ffmpeg())


@pytest.fixture(scope="module")
def tagged_mp3(plain_mp3, tmp_path_factory) -> str:
    """The plain MP3 with an ID3v2.4 tag: title, artist, a date, a v2.4-only frame, cover art."""
    from mutagen.id3 import APIC, ID3, TDRC, TIT2, TPE1, TSOP, Encoding

    path = str(tmp_path_factory.mktemp("id3") / "tagged.mp3")
    shutil.copyfile(plain_mp3, path)
    tags = ID3(path)
    tags.add(TIT2(encoding=Encoding.UTF8, text=["Song"]))
    tags.add(TPE1(encoding=Encoding.UTF8, text=["Ärtist"]))
    tags.add(TDRC(encoding=Encoding.UTF8, text=["2024-05-06"]))
    tags.add(TSOP(encoding=Encoding.UTF8, text=["Artist, The"]))
    tags.add(APIC(encoding=Encoding.UTF8, mime="image/png", type=3, desc="cover", data=COVER))
    tags.save(path, v2_version=4)
    return path


@pytest.fixture
def mp3(tmp_path, plain_mp3) -> str:
    path = str(tmp_path / "a.mp3")
    shutil.copyfile(plain_mp3, path)
    return path


def ffprobe_chapters(path: str) -> list[tuple[int, int, str]]:
    ffprobe = require_tool("ffprobe", "/usr/bin/ffprobe")
    done = subprocess.run([ffprobe, "-v", "error", "-show_chapters", "-of", "json", path],
                          capture_output=True, text=True, check=True)
    chapters = json.loads(done.stdout)["chapters"]
    assert all(c["time_base"] == "1/1000" for c in chapters)
    return [(c["start"], c["end"], c.get("tags", {}).get("title", "")) for c in chapters]


def ffmetadata_chapters(ffmpeg: str, path: str) -> tuple[list[tuple[int, int, str]], int]:
    """Chapters from ``ffmpeg -i path -f ffmetadata -`` (ms) and the start_time FFmpeg subtracts (ms)."""
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", path, "-f", "ffmetadata", "-"],
                          capture_output=True, text=True, check=True)
    start = re.search(r"start: (-?\d+\.\d+)", done.stderr)
    offset_ms = round(Fraction(start.group(1)) * 1000)
    chapters = []
    for block in done.stdout.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
        assert fields["TIMEBASE"] == "1/1000"
        title = re.sub(r"\\(.)", r"\1", fields.get("title", ""))
        chapters.append((int(fields["START"]), int(fields["END"]), title))
    return chapters, offset_ms


def as_ms(chapters) -> list[tuple[int, int, str]]:
    return [(c.start_ns // NS_PER_MS, c.end_ns // NS_PER_MS, c.title) for c in chapters]


def chap_frame_order(path: str) -> list[str]:
    """Element ids of CHAP frames in the order they are stored in the file."""
    data = open(path, "rb").read()
    return [match.group(1).decode() for match in re.finditer(rb"CHAP.{6}(\w+)\x00", data, re.DOTALL)]


# -- write -> read -------------------------------------------------------------------------------


def test_round_trip_is_exact_and_keeps_ends(mp3):
    assert write_id3(mp3, CHAPTERS) == []
    result = read_id3(mp3)
    assert result.reader == "id3"
    assert result.chapters.chapters == CHAPTERS.chapters
    assert result.notes == ()


def test_duration_is_exact_from_the_xing_sample_count(mp3):
    # 3 s of 44.1 kHz sine: LAME's header gives 133632 samples after delay and padding.
    from mutagen.mp3 import MP3

    length = MP3(mp3).info.length
    samples = round(length * 44100)
    assert read_id3(mp3).chapters.duration_ns == round(Fraction(samples, 44100) * 10**9)
    assert abs(read_id3(mp3).chapters.duration_ns - length * 1e9) < 1


def test_layout_is_id3v23_one_ordered_ctoc_and_chap_frames_in_chapter_order(mp3):
    from mutagen.id3 import ID3

    write_id3(mp3, ChapterList.of([(i * 200 * NS_PER_MS, "T" * (40 - 3 * i)) for i in range(12)],
                                  duration_ns=3 * 10**9))
    tags = ID3(mp3)
    assert tags.version == (2, 3, 0)
    (toc,) = tags.getall("CTOC")
    assert (toc.element_id, int(toc.flags)) == ("toc", 0x03)
    assert toc.child_element_ids == [f"ch{i}" for i in range(12)]
    chap = tags["CHAP:ch3"]
    assert (chap.start_time, chap.end_time) == (600, 800)
    assert (chap.start_offset, chap.end_offset) == (0xFFFFFFFF, 0xFFFFFFFF)
    assert tags["CHAP:ch11"].end_time == 3000
    # mutagen alone would sort these by size (longest title last); FFmpeg reads file order.
    assert chap_frame_order(mp3) == [f"ch{i}" for i in range(12)]


def test_existing_tags_and_cover_art_are_kept(tmp_path, tagged_mp3):
    from mutagen.id3 import ID3

    path = str(tmp_path / "t.mp3")
    shutil.copyfile(tagged_mp3, path)
    write_id3(path, CHAPTERS)
    tags = ID3(path, translate=False)  # as stored, not upgraded to v2.4 on load
    assert str(tags["TIT2"]) == "Song"
    assert str(tags["TPE1"]) == "Ärtist"
    assert str(tags["TSOP"]) == "Artist, The"          # v2.4-only, kept on purpose
    assert str(tags["TYER"]) == "2024" and str(tags["TDAT"]) == "0605"  # TDRC in v2.3 form
    (apic,) = tags.getall("APIC")
    assert (apic.data, apic.mime, apic.type) == (COVER, "image/png", 3)
    assert read_id3(path).chapters.title == "Song"
    assert read_id3(path).chapters.chapters == CHAPTERS.chapters


def test_rewrite_replaces_every_old_chapter(mp3):
    from mutagen.id3 import ID3

    write_id3(mp3, ChapterList.of([(i * 100 * NS_PER_MS, f"old {i}") for i in range(20)],
                                  duration_ns=3 * 10**9))
    new = ChapterList.of([(0, "new A"), (1_000 * NS_PER_MS, "new B")], duration_ns=3 * 10**9)
    write_id3(mp3, new)
    assert as_ms(read_id3(mp3).chapters) == [(0, 1000, "new A"), (1000, 3000, "new B")]
    tags = ID3(mp3)
    assert sorted(key for key in tags if key.startswith(("CHAP", "CTOC"))) == \
        ["CHAP:ch0", "CHAP:ch1", "CTOC:toc"]


def test_missing_ends_come_from_next_start_and_the_audio_length(mp3):
    chapters = ChapterList.of([(0, "A"), (1_250 * NS_PER_MS, "B")])  # no duration known
    write_id3(mp3, chapters)
    got = read_id3(mp3).chapters
    assert as_ms(got)[0] == (0, 1250, "A")
    assert got[1].end_ns == (got.duration_ns + NS_PER_MS // 2) // NS_PER_MS * NS_PER_MS


def test_sub_millisecond_times_are_rounded_with_a_warning(mp3):
    chapters = ChapterList((Chapter(0, 999_600_000, "A"), Chapter(999_600_000, 2_000_400_000, "B")))
    warnings = write_id3(mp3, chapters)
    assert any("rounded to whole milliseconds" in w for w in warnings)
    assert as_ms(read_id3(mp3).chapters) == [(0, 1000, "A"), (1000, 2000, "B")]


def test_whole_second_starts_give_no_rounding_warning(mp3):
    """The last end is the audio's length (not whole ms); rounding that is no news to the user."""
    length = read_id3(mp3).chapters.duration_ns
    assert length % NS_PER_MS  # the clip's length is not whole milliseconds, so the case is real
    chapters = ChapterList.of([(0, "A"), (1 * NS_PER_SECOND, "B")], duration_ns=length)
    assert not [w for w in write_id3(mp3, chapters) if "rounded" in w]


def test_untitled_and_nul_titles_warn(mp3):
    warnings = write_id3(mp3, ChapterList.of([(0, ""), (NS_PER_MS * 500, "a\x00b")], duration_ns=10**9))
    assert any("no title" in w and "'ch0'" in w for w in warnings)
    assert any("NUL" in w for w in warnings)
    result = read_id3(mp3)
    assert result.chapters.titles == ("", "a b")
    assert any("no TIT2" in note for note in result.notes)


def test_300_chapters_use_nested_tables_and_all_readers_see_them(mp3):
    from mutagen.id3 import ID3

    chapters = ChapterList.of([(i * 10 * NS_PER_MS, f"Chapter {i}") for i in range(300)],
                              duration_ns=3 * 10**9)
    warnings = write_id3(mp3, chapters)
    assert any("nested CTOC" in w for w in warnings)
    tags = ID3(mp3)
    top = tags["CTOC:toc"]
    assert top.child_element_ids == ["toc0", "toc1"] and int(top.flags) == 0x03
    assert len(tags["CTOC:toc0"].child_element_ids) == 255
    assert tags["CTOC:toc1"].child_element_ids == [f"ch{i}" for i in range(255, 300)]
    assert read_id3(mp3).chapters.chapters == chapters.chapters
    # FFmpeg's reader ignores CTOC and takes every CHAP in file order (its own muxer
    # wraps the one-byte count to 44 here; see research §2.3).
    assert ffprobe_chapters(mp3) == as_ms(chapters)


# -- other readers -------------------------------------------------------------------------------


def test_ffprobe_sees_raw_chap_times_and_long_titles(mp3):
    write_id3(mp3, CHAPTERS)
    assert ffprobe_chapters(mp3) == as_ms(CHAPTERS)


def test_ffmpeg_dump_sees_every_chapter_shifted_by_start_time(mp3, ffmpeg_exe):
    """In ID3v2.3 the 300-byte title survives FFmpeg 5.1 and 9 (v2.4 loses it, see below)."""
    write_id3(mp3, CHAPTERS)
    dumped, offset_ms = ffmetadata_chapters(ffmpeg_exe, mp3)
    assert offset_ms == 25  # 1105 samples of LAME delay at 44.1 kHz
    assert dumped == [(max(0, start - offset_ms), end - offset_ms, title)
                      for start, end, title in as_ms(CHAPTERS)]


def test_mpv_sees_every_chapter(mp3):
    write_id3(mp3, CHAPTERS)
    listed = mpv_chapters(mp3)
    assert [c["title"] for c in listed] == list(CHAPTERS.titles)
    # mpv rebases by the demuxer's start_time (25.057 ms) like the ffmpeg CLI.
    assert [round(c["time"] * 1000 + 25.057) for c in listed] == [s // NS_PER_MS for s in CHAPTERS.starts_ns]


def test_ffmpeg_written_v24_long_title_is_read_by_us_but_lost_by_ffmpeg():
    """Why write_id3 writes v2.3: FFmpeg's own v2.4 file loses chapters in FFmpeg's reader."""
    path = str(fixture_path("media", "mp3-ffmpeg-id3v24-three-chapters-long-title.mp3"))
    result = read_id3(path)
    assert as_ms(result.chapters) == [(0, 400, "Intro"), (400, 700, "L" * 300), (700, 1000, "Ünïcødé 章")]
    assert result.chapters.title == "FFmpeg chapters"
    assert ffprobe_chapters(path) == [(0, 400, "Intro")]


def test_nested_toc_stray_and_untitled_chapters_fixture():
    path = str(fixture_path("media", "mp3-nested-toc-stray-untitled.mp3"))
    result = read_id3(path)
    assert as_ms(result.chapters) == [(0, 300, "First"), (300, 600, "Second"), (600, 900, ""),
                                      (900, 1000, "Stray")]
    notes = " | ".join(result.notes)
    assert "'gone'" in notes and "in no CTOC ('x')" in notes and "CHAP 'b' has no TIT2" in notes
    assert "not stored in start order" in notes


def test_chap_frames_without_ctoc_are_ordered_by_start(mp3):
    from mutagen.id3 import CHAP, ID3, TIT2

    tags = ID3()
    for element_id, start in (("late", 2000), ("early", 0), ("mid", 1000)):
        tags.add(CHAP(element_id=element_id, start_time=start, end_time=start + 1000,
                      sub_frames=[TIT2(encoding=3, text=[element_id])]))
    tags.save(mp3)
    result = read_id3(mp3)
    assert result.chapters.titles == ("early", "mid", "late")
    assert any("no CTOC" in note for note in result.notes)


def test_write_title_keeps_chapters_in_order(mp3):
    write_id3(mp3, CHAPTERS)
    write_title(mp3, "Whole book ✨")
    result = read_id3(mp3)
    assert result.chapters.title == "Whole book ✨"
    assert result.chapters.chapters == CHAPTERS.chapters
    assert chap_frame_order(mp3) == ["ch0", "ch1", "ch2", "ch3"]


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content, reason", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(600), "not a readable MP3"),
    (b"ID3\x03\x00\x00\x00\x00\x10\x00TIT2", "not a readable MP3"),   # tag header, then nothing
    (bytes(range(256)) * 8, "not a readable MP3"),
])
def test_bad_files_raise_one_line_media_error(tmp_path, content, reason):
    path = tmp_path / "bad.mp3"
    path.write_bytes(content)
    for call in (lambda: read_id3(str(path)), lambda: write_id3(str(path), CHAPTERS)):
        with pytest.raises(MediaError, match=reason) as caught:
            call()
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_missing_file_and_folder_raise_media_error(tmp_path):
    with pytest.raises(MediaError, match="No such file"):
        read_id3(str(tmp_path / "missing.mp3"))
    with pytest.raises(MediaError, match="Is a directory"):
        write_id3(str(tmp_path), CHAPTERS)


def test_truncated_or_damaged_files_never_raise_anything_but_media_error(tmp_path, mp3):
    write_id3(mp3, CHAPTERS)
    data = open(mp3, "rb").read()
    cuts = [3, 10, 11, 30, 200, 700, len(data) // 2]
    damaged = [data[:cut] for cut in cuts]
    damaged += [data[:n] + b"\xff" * 8 + data[n + 8:] for n in (6, 14, 60, 120, 400)]
    for index, content in enumerate(damaged):
        path = tmp_path / f"d{index}.mp3"
        path.write_bytes(content)
        try:
            read_id3(str(path))
        except MediaError:
            pass


@pytest.mark.parametrize("cut", [1, 417, "third"])
def test_truncated_audio_is_a_problem_beside_the_chapters(tmp_path, mp3, cut):
    """Every chapter still reads from a cut MP3; the Xing byte count says the audio is gone."""
    data = open(mp3, "rb").read()
    path = tmp_path / "short.mp3"
    path.write_bytes(data[: len(data) // 3] if cut == "third" else data[:-cut])
    result = read_id3(str(path))
    assert result.chapters.titles == read_id3(mp3).chapters.titles  # issue 11: read them anyway
    assert len(result.problems) == 1
    assert re.search(r"its Xing header counts \d+: truncated$", result.problems[0])
    path.write_bytes(data + b"TAG" + bytes(125))  # an ID3v1 tag after the audio: whole
    assert read_id3(str(path)).chapters == read_id3(mp3).chapters


# -- property ------------------------------------------------------------------------------------

titles = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.tuples(st.integers(0, 4_000_000), st.integers(0, 5_000), titles),
                     min_size=1, max_size=8))
def test_any_titles_and_ms_times_round_trip(tmp_path, plain_mp3, data):
    path = str(tmp_path / "h.mp3")
    shutil.copyfile(plain_mp3, path)
    data.sort(key=lambda item: item[0])
    chapters = ChapterList(tuple(Chapter(start * NS_PER_MS, (start + length) * NS_PER_MS, title)
                                 for start, length, title in data))
    write_id3(path, chapters)
    assert read_id3(path).chapters.chapters == chapters.chapters


def test_copy_with_room_lets_the_chapter_write_stay_in_the_tag(tmp_path):
    """After copy_with_room, writing chapters rewrites only the tag: the audio bytes
    after it do not move (so the embed costs one copy of the file)."""
    from chapterkit.containers.id3 import copy_with_room

    source = make_media.make_clip(str(tmp_path / "in.mp3"), "mp3", seconds=3)
    target = str(tmp_path / "out.mp3")
    chapters = ChapterList.of([(0, "One ✨"), (1_000_000_000, "Two " + "x" * 300)])
    copy_with_room(source, target, chapters)
    before = open(target, "rb").read()
    write_id3(target, chapters)
    after = open(target, "rb").read()
    assert len(after) == len(before)
    original = open(source, "rb").read()

    def tag_end(data: bytes) -> int:
        return 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])

    assert tag_end(after) == tag_end(before)
    assert after[tag_end(after):] == before[tag_end(before):] == original[tag_end(original):]
    assert read_id3(target).chapters.titles == chapters.titles
