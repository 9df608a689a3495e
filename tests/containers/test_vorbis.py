"""CHAPTERxxx Vorbis comments in Ogg Opus, Ogg Vorbis and FLAC: mutagen, ffprobe, both FFmpegs, mpv.

Media is made once per module with the bundled FFmpeg (libopus, libvorbis, flac; 3 s
of sine with an artist and a title) plus cover art added with mutagen, and copied
per test. Ends are not stored: every reader ends a chapter at the next start and
the last one at the end of the audio.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapterkit.containers.vorbis import (copy_with_room, format_chapter_time, parse_chapter_time,
                                          read_vorbis, write_title, write_vorbis)
from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from conftest import mpv_chapters, bundled_ffmpeg, fixture_path, make_media, require_tool, run_ffmpeg

KINDS = ("opus", "ogg", "flac")
LONG_TITLE = "Long " + "x" * 295  # 300 bytes
CHAPTERS = ChapterList.of([
    (0, "Intro ✨ Ünïcødé — 章节二 🎬"),
    (1_500 * NS_PER_MS, LONG_TITLE),            # FFmpeg's own Opus muxer would write 2.5 s here
    (2_001 * NS_PER_MS, "Esc = ; # \\ back"),
    (2_750 * NS_PER_MS, "Last"),
])
COVER = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, str]:
    """One tagged 3 s file per kind, with front-cover art the way each format stores it."""
    from mutagen.flac import FLAC, Picture

    folder = tmp_path_factory.mktemp("vorbis")
    tags = ["-metadata", "artist=Ärtist", "-metadata", "title=Song"]
    made = {}
    for kind in KINDS:
        made[kind] = make_media.make_clip(str(folder / f"src.{kind}"), kind, seconds=3,
                                          sample_rate=48000, ffmpeg=bundled_ffmpeg(), extra=tags)
    picture = Picture()
    picture.type, picture.mime, picture.desc, picture.data = 3, "image/png", "cover", COVER
    flac = FLAC(made["flac"])
    flac.add_picture(picture)
    flac.save()
    import mutagen

    for kind in ("opus", "ogg"):
        audio = mutagen.File(made[kind])
        audio.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(picture.write()).decode("ascii")]
        audio.save()
    return made


@pytest.fixture(params=KINDS)
def media(request, sources, tmp_path) -> str:
    path = str(tmp_path / f"a.{request.param}")
    shutil.copyfile(sources[request.param], path)
    return path


def comments(path: str) -> list[tuple[str, str]]:
    import mutagen

    return list(mutagen.File(path).tags)


def ffprobe_chapters(path: str) -> list[tuple[int, str]]:
    ffprobe = require_tool("ffprobe", "/usr/bin/ffprobe")
    done = subprocess.run([ffprobe, "-v", "error", "-show_chapters", "-of", "json", path],
                          capture_output=True, text=True, check=True)
    chapters = json.loads(done.stdout)["chapters"]
    assert all(c["time_base"] == "1/1000" for c in chapters)
    return [(c["start"], c.get("tags", {}).get("title", "")) for c in chapters]


def ffmetadata_chapters(ffmpeg: str, path: str) -> list[tuple[int, str]]:
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", path, "-f", "ffmetadata", "-"],
                          capture_output=True, text=True, check=True)
    assert "start: 0.000000" in done.stderr  # nothing to rebase, unlike MP3
    chapters = []
    for block in done.stdout.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
        assert fields["TIMEBASE"] == "1/1000"
        chapters.append((int(fields["START"]), re.sub(r"\\(.)", r"\1", fields.get("title", ""))))
    return chapters


def starts_ms(chapters) -> list[tuple[int, str]]:
    return [(c.start_ns // NS_PER_MS, c.title) for c in chapters]


# -- write -> read -------------------------------------------------------------------------------


def test_round_trip_is_exact(media):
    assert write_vorbis(media, CHAPTERS) == []
    result = read_vorbis(media)
    assert result.reader == "vorbis"
    assert result.notes == ()
    assert result.chapters.duration_ns == 3 * NS_PER_SECOND   # 144000 samples at 48 kHz, exactly
    assert result.chapters.chapters == CHAPTERS.with_duration(3 * NS_PER_SECOND).chapters


def test_comments_are_numbered_from_000_with_each_name_after_its_time(media):
    write_vorbis(media, CHAPTERS)
    chapter_comments = [(k, v) for k, v in comments(media) if k.upper().startswith("CHAPTER")]
    assert chapter_comments == [
        ("CHAPTER000", "00:00:00.000"), ("CHAPTER000NAME", CHAPTERS[0].title),
        ("CHAPTER001", "00:00:01.500"), ("CHAPTER001NAME", LONG_TITLE),
        ("CHAPTER002", "00:00:02.001"), ("CHAPTER002NAME", "Esc = ; # \\ back"),
        ("CHAPTER003", "00:00:02.750"), ("CHAPTER003NAME", "Last"),
    ]


def test_other_comments_and_cover_art_are_kept(media):
    import mutagen

    before = [(k, v) for k, v in comments(media)]
    write_vorbis(media, CHAPTERS)
    after = comments(media)
    assert after[:len(before)] == before        # same comments, same order, chapters appended
    audio = mutagen.File(media)
    assert audio.tags["ARTIST"] == ["Ärtist"] and audio.tags["TITLE"] == ["Song"]
    if media.endswith(".flac"):
        assert [(p.type, p.mime, p.data) for p in audio.pictures] == [(3, "image/png", COVER)]
    else:
        from mutagen.flac import Picture

        (block,) = audio.tags["METADATA_BLOCK_PICTURE"]
        assert Picture(base64.b64decode(block)).data == COVER
    assert read_vorbis(media).chapters.title == "Song"


def test_rewrite_replaces_every_old_chapter_key(media):
    import mutagen

    audio = mutagen.File(media)
    audio.tags.extend([("chapter007", "00:00:00.100"), ("Chapter007name", "stale"),
                       ("CHAPTER007URL", "http://example.invalid/")])
    audio.save()
    write_vorbis(media, ChapterList.of([(i * 100 * NS_PER_MS, f"old {i}") for i in range(12)]))
    write_vorbis(media, ChapterList.of([(0, "new A"), (NS_PER_SECOND, "new B")]))
    assert starts_ms(read_vorbis(media).chapters) == [(0, "new A"), (1000, "new B")]
    assert len([k for k, _ in comments(media) if k.upper().startswith("CHAPTER")]) == 4


def test_lossy_inputs_warn(media):
    chapters = ChapterList((
        Chapter(0, 900 * NS_PER_MS, "gap after me"),                  # end is not stored
        Chapter(1_000_000_400, None, "a\x00b"),                       # sub-ms start, NUL
        Chapter(360_000_000_000_000, None, "after 100 h"),            # FFmpeg reads 2-digit hours
    ))
    warnings = " | ".join(write_vorbis(media, chapters))
    assert "end of chapter(s) 1 not stored" in warnings
    assert "rounded to whole milliseconds" in warnings
    assert "NUL" in warnings
    assert "chapter(s) 3 start at 100 h" in warnings
    assert dict(comments(media))["CHAPTER002"] == "100:00:00.000"
    assert read_vorbis(media).chapters.starts_ns == (0, 1_000 * NS_PER_MS, 360_000 * NS_PER_SECOND)
    if media.endswith(".flac"):
        assert [start for start, _ in ffprobe_chapters(media)] == [0, 1000]


def test_300_chapters_round_trip_and_ffprobe_sees_them(media):
    chapters = ChapterList.of([(i * 10 * NS_PER_MS, f"Chapter {i}") for i in range(300)])
    assert write_vorbis(media, chapters) == []
    assert starts_ms(read_vorbis(media).chapters) == starts_ms(chapters)
    assert ffprobe_chapters(media) == starts_ms(chapters)


def test_more_than_1000_chapters_keeps_the_first_1000_with_a_warning(tmp_path, sources):
    path = str(tmp_path / "many.flac")
    shutil.copyfile(sources["flac"], path)
    chapters = ChapterList.of([(i * NS_PER_MS, str(i)) for i in range(1001)])
    warnings = write_vorbis(path, chapters)
    assert any("only the first 1000" in w for w in warnings)
    got = read_vorbis(path).chapters
    assert len(got) == 1000 and got[-1].title == "999"
    assert dict(comments(path))["CHAPTER999"] == "00:00:00.999"


# -- other readers -------------------------------------------------------------------------------


def test_ffprobe_agrees(media):
    write_vorbis(media, CHAPTERS)
    assert ffprobe_chapters(media) == starts_ms(CHAPTERS)


def test_both_ffmpeg_builds_agree(media, ffmpeg_exe):
    write_vorbis(media, CHAPTERS)
    assert ffmetadata_chapters(ffmpeg_exe, media) == starts_ms(CHAPTERS)


def test_mpv_agrees(media):
    write_vorbis(media, CHAPTERS)
    listed = mpv_chapters(media)
    assert [(round(c["time"] * 1000), c["title"]) for c in listed] == starts_ms(CHAPTERS)


def test_001_based_numbering_reads_the_same_everywhere(media):
    """Why 000 is safe: FFmpeg 5.1/9 and mpv key chapters by any three digits (measured)."""
    import mutagen

    audio = mutagen.File(media)
    for number, (start, title) in enumerate([("00:00:00.000", "One"), ("00:00:01.250", "Two")], 1):
        audio.tags.extend([(f"CHAPTER{number:03d}", start), (f"CHAPTER{number:03d}NAME", title)])
    audio.save()
    assert starts_ms(read_vorbis(media).chapters) == [(0, "One"), (1250, "Two")]
    assert ffprobe_chapters(media) == [(0, "One"), (1250, "Two")]


def test_odd_values_fixture_is_read_exactly_with_notes():
    path = str(fixture_path("media", "ogg-vorbis-chapters-odd-values.ogg"))
    result = read_vorbis(path)
    assert [(c.start_ns, c.title) for c in result.chapters] == [
        (0, "No decimals"), (500 * NS_PER_MS, "One decimal"), (750_000_001, "")]
    notes = " | ".join(result.notes)
    assert "CHAPTER004='bogus' is not a time" in notes
    assert "CHAPTER1000 ignored" in notes
    assert "CHAPTER003 has no CHAPTER003NAME" in notes
    assert "CHAPTER005NAME has no CHAPTER005 time" in notes
    # FFmpeg's sscanf("%02d:%02d:%02d.%03d") skips "0:00:00" and reads "00:00:00.5" as 5 ms.
    assert ffprobe_chapters(path) == [(5, "One decimal"), (750, "")]


def test_ffmpeg_half_second_bug_fixture_and_the_fix(tmp_path):
    """FFmpeg's Opus muxer wrote 1.5 s as 00:00:02.500; write_vorbis writes what it is given."""
    source = str(fixture_path("media", "opus-ffmpeg-chapters-half-second-bug.opus"))
    assert dict(comments(source))["CHAPTER001"] == "00:00:02.500"
    assert read_vorbis(source).chapters.starts_ns == (0, 2_500 * NS_PER_MS, 2_250 * NS_PER_MS)
    path = str(tmp_path / "fixed.opus")
    shutil.copyfile(source, path)
    fixed = ChapterList.of([(0, "Start"), (1_500 * NS_PER_MS, "Half past one"),
                            (2_250 * NS_PER_MS, "Quarter past two")])
    write_vorbis(path, fixed)
    assert ffprobe_chapters(path) == starts_ms(fixed)


def test_write_title(media):
    write_vorbis(media, CHAPTERS)
    write_title(media, "Whole book ✨")
    result = read_vorbis(media)
    assert result.chapters.title == "Whole book ✨"
    assert starts_ms(result.chapters) == starts_ms(CHAPTERS)


# -- the time syntax -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("00:00:00.000", (0, None)),
    ("01:02:03.004", ((3723 * 1000 + 4) * NS_PER_MS, None)),
    ("0:00:01.5", (1_500 * NS_PER_MS, None)),
    ("00:00:01", (NS_PER_SECOND, None)),
    ("00:00:01.", (NS_PER_SECOND, None)),
    ("00:00:00.123456789", (123_456_789, None)),
    ("00:00:00.0000000005", (1, None)),                 # half a ns rounds up
    ("123:00:00.000", (123 * 3600 * NS_PER_SECOND, None)),
    (" 00:00:02.000 ", (2 * NS_PER_SECOND, None)),
    ("00:00:01.000-->00:00:02.500", (NS_PER_SECOND, 2_500 * NS_PER_MS)),
])
def test_parse_chapter_time(text, expected):
    assert parse_chapter_time(text) == expected


@pytest.mark.parametrize("text", ["", "bogus", "1:2", "00:60:00.000", "00:00:61.000", "-0:00:01",
                                  "00:00:01,500", "00:00:01.000-->", "1.5"])
def test_parse_chapter_time_rejects(text):
    with pytest.raises(ValueError):
        parse_chapter_time(text)


def test_format_chapter_time():
    assert format_chapter_time(0) == "00:00:00.000"
    assert format_chapter_time(3_723_004) == "01:02:03.004"
    assert format_chapter_time(360_000_000) == "100:00:00.000"


# -- bad input -----------------------------------------------------------------------------------


BAD_FILES = {
    "empty.ogg": (b"", "empty"),
    "png.ogg": (b"\x89PNG\r\n\x1a\n" + bytes(600), "not an Ogg"),
    "unknown-codec.ogg": (b"OggS\x00\x02" + bytes(40), "not an Ogg"),
    "random.flac": (bytes(range(256)) * 8, r"not a readable Ogg or FLAC file \(not a valid FLAC file\)"),
    "cut-streaminfo.flac": (b"fLaC\x00\x00\x00\x22" + bytes(10), "not a readable Ogg or FLAC"),
}


@pytest.mark.parametrize("name", [*BAD_FILES, "cut-opushead.opus"])
def test_bad_files_raise_one_line_media_error(tmp_path, sources, name):
    if name == "cut-opushead.opus":
        data = open(sources["opus"], "rb").read()
        content, reason = data[:data.index(b"OpusHead") + 12], "not a readable Ogg or FLAC"
    else:
        content, reason = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    for call in (lambda: read_vorbis(str(path)), lambda: write_vorbis(str(path), CHAPTERS)):
        with pytest.raises(MediaError, match=reason) as caught:
            call()
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_mp3_missing_file_and_folder_raise_media_error(tmp_path, sources):
    mp3 = str(fixture_path("media", "mp3-nested-toc-stray-untitled.mp3"))
    with pytest.raises(MediaError, match="not an Ogg"):
        read_vorbis(mp3)
    with pytest.raises(MediaError, match="No such file"):
        read_vorbis(str(tmp_path / "missing.opus"))
    with pytest.raises(MediaError, match="Is a directory"):
        write_vorbis(str(tmp_path), CHAPTERS)


@pytest.mark.parametrize("kind", KINDS)
def test_truncated_files_never_raise_anything_but_media_error(tmp_path, sources, kind):
    data = open(sources[kind], "rb").read()
    for cut in (4, 27, 28, 60, 100, 300, 1000, len(data) // 2):
        path = tmp_path / f"cut{cut}.{kind}"
        path.write_bytes(data[:cut])
        try:
            read_vorbis(str(path))
        except MediaError:
            pass


def test_opus_without_audio_pages_is_a_media_error(tmp_path, sources):
    data = open(sources["opus"], "rb").read()
    first_audio_page = data.index(b"OggS", data.index(b"OpusTags"))
    path = tmp_path / "headers-only.opus"
    path.write_bytes(data[:first_audio_page])
    with pytest.raises(MediaError, match="no audio"):
        read_vorbis(str(path))


# -- property ------------------------------------------------------------------------------------

titles = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=80)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.tuples(st.integers(0, 400_000_000), titles), min_size=1, max_size=8))
def test_any_titles_and_ms_starts_round_trip(tmp_path, sources, kind, data):
    path = str(tmp_path / f"h.{kind}")
    shutil.copyfile(sources[kind], path)
    data.sort(key=lambda item: item[0])
    chapters = ChapterList.of([(start * NS_PER_MS, title) for start, title in data])
    write_vorbis(path, chapters)
    got = read_vorbis(path).chapters
    assert [(c.start_ns, c.title) for c in got] == [(c.start_ns, c.title) for c in chapters]
    assert got.duration_ns == 3 * NS_PER_SECOND


# -- copy_with_room: one copy, then the chapter write stays in the header ----------------------

#: 200 chapters, about 9 KB of comments: more than the padding FFmpeg or mutagen leave.
MANY = ChapterList.of([(i * 10 * NS_PER_MS, f"Chapter {i} ✨ of many") for i in range(200)])


def audio_start(data: bytes) -> int:
    """Where the audio starts: FLAC's first frame, or Ogg's first page with a sample count."""
    from mutagen.ogg import OggPage

    if data.startswith(b"fLaC"):
        offset = 4
        while True:
            header = data[offset:offset + 4]
            offset += 4 + int.from_bytes(header[1:], "big")
            if header[0] & 0x80:
                return offset
    stream = BytesIO(data)
    while True:
        page = OggPage(stream)
        if page.position > 0:
            return page.offset


def flac_blocks(data: bytes) -> list[tuple[int, bool, bytes]]:
    """``(type, last flag, body)`` of each metadata block of a FLAC file."""
    blocks, offset = [], 4
    while True:
        header = data[offset:offset + 4]
        size = int.from_bytes(header[1:], "big")
        blocks.append((header[0] & 0x7F, bool(header[0] & 0x80), data[offset + 4:offset + 4 + size]))
        offset += 4 + size
        if header[0] & 0x80:
            return blocks


def decode_errors(ffmpeg: str, path: str) -> str:
    """What FFmpeg says decoding the audio (the fixtures' cover art is no real PNG)."""
    done = subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-i", path, "-map", "0:a", "-f", "null", "-"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stderr + done.stdout


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, str]:
    """Fresh FFmpeg files with an artist: no cover art, which FFmpeg would try to decode."""
    folder = tmp_path_factory.mktemp("clean")
    return {kind: make_media.make_clip(str(folder / f"clean.{kind}"), kind, seconds=3,
                                       ffmpeg=bundled_ffmpeg(), extra=["-metadata", "artist=Ärtist"])
            for kind in KINDS}


@pytest.fixture(scope="module")
def roomy(clean, tmp_path_factory) -> dict[str, str]:
    """Each clean file copied with room for MANY, then MANY written into the copy."""
    folder = tmp_path_factory.mktemp("roomy")
    made = {}
    for kind in KINDS:
        made[kind] = str(folder / f"roomy.{kind}")
        copy_with_room(clean[kind], made[kind], MANY)
        write_vorbis(made[kind], MANY)
    return made


@pytest.mark.parametrize("kind", KINDS)
def test_after_copy_with_room_the_write_changes_only_the_header(tmp_path, sources, kind):
    original = open(sources[kind], "rb").read()
    plain = str(tmp_path / f"plain.{kind}")
    shutil.copyfile(sources[kind], plain)
    write_vorbis(plain, MANY)
    assert os.path.getsize(plain) != len(original)     # without the room, the audio moves

    target = str(tmp_path / f"out.{kind}")
    copy_with_room(sources[kind], target, MANY)
    copied = open(target, "rb").read()
    assert (len(copied) - len(original)) % 4096 == 0   # grown by whole pages (fast kernel copy)
    write_vorbis(target, MANY)
    written = open(target, "rb").read()
    assert len(written) == len(copied)
    start = audio_start(written)
    assert start == audio_start(copied) == audio_start(original) + len(copied) - len(original)
    assert written[start:] == original[audio_start(original):]
    assert written[:start] != copied[:start]            # the chapters went into the header
    write_title(target, "A longer title for the whole file ✨")  # embed's next step fits too
    assert open(target, "rb").read()[start:] == original[audio_start(original):]


@pytest.mark.parametrize("kind", KINDS)
def test_room_copies_decode_cleanly_with_both_ffmpeg_builds(roomy, kind, ffmpeg_exe):
    assert decode_errors(ffmpeg_exe, roomy[kind]) == ""


@pytest.mark.parametrize("kind", KINDS)
def test_room_copies_read_back_everywhere(roomy, kind):
    from chapterkit.containers.libav import read_libav

    result = read_vorbis(roomy[kind])
    assert result.notes == ()
    assert starts_ms(result.chapters) == starts_ms(MANY)
    assert result.chapters.duration_ns == 3 * NS_PER_SECOND
    assert starts_ms(read_libav(roomy[kind]).chapters) == starts_ms(MANY)
    assert {key.upper(): value for key, value in comments(roomy[kind])}["ARTIST"] == "Ärtist"


@pytest.mark.parametrize("kind", KINDS)
def test_a_copy_with_room_enough_is_left_as_it_is(tmp_path, roomy, kind):
    """Re-embedding the same chapters: the room is there, so the copy is byte for byte."""
    target = str(tmp_path / f"again.{kind}")
    copy_with_room(roomy[kind], target, MANY)
    assert open(target, "rb").read() == open(roomy[kind], "rb").read()


def test_ogg_header_pages_keep_serial_sequence_granule_and_crc(roomy, clean):
    from mutagen.ogg import OggPage

    for kind in ("ogg", "opus"):
        before = BytesIO(open(clean[kind], "rb").read())
        after = BytesIO(open(roomy[kind], "rb").read())
        for _ in range(5):
            old, new = OggPage(before), OggPage(after)
            raw = after.getvalue()[new.offset:new.offset + new.size]
            assert new.write() == raw                    # write() recomputes the CRC
            assert (new.serial, new.sequence, new.position, new.first, new.last) == \
                (old.serial, old.sequence, old.position, old.first, old.last)


def test_flac_padding_becomes_one_last_block(tmp_path, sources):
    """Padding in the middle and at the end: merged into one last PADDING, the rest kept in order."""
    data = open(sources["flac"], "rb").read()
    blocks = [(kind, body) for kind, _, body in flac_blocks(data)]
    shuffled = [blocks[0], (1, bytes(100)), *blocks[1:], (1, bytes(7))]
    last = len(shuffled) - 1
    head = b"fLaC" + b"".join(bytes([kind | (0x80 if i == last else 0)]) + len(body).to_bytes(3, "big")
                              + body for i, (kind, body) in enumerate(shuffled))
    source = tmp_path / "odd.flac"
    source.write_bytes(head + data[audio_start(data):])
    target = str(tmp_path / "out.flac")
    copy_with_room(str(source), target, MANY)
    copied = open(target, "rb").read()
    layout = flac_blocks(copied)
    assert [(kind, body) for kind, _, body in layout[:-1]] == [b for b in blocks if b[0] != 1]
    assert [last for _, last, _ in layout] == [False] * (len(layout) - 1) + [True]
    assert layout[-1][0] == 1 and not layout[-1][2].strip(b"\0")
    write_vorbis(target, MANY)
    assert os.path.getsize(target) == len(copied)
    assert open(target, "rb").read()[audio_start(copied):] == data[audio_start(data):]


def test_flac_without_comment_block_or_with_id3_in_front(tmp_path, sources):
    from mutagen.flac import FLAC

    bare = str(tmp_path / "bare.flac")
    shutil.copyfile(sources["flac"], bare)
    FLAC(bare).delete()
    assert FLAC(bare).tags is None
    id3 = tmp_path / "id3.flac"
    id3.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x14" + bytes(20) + open(sources["flac"], "rb").read())
    for source in (bare, str(id3)):
        target = source + ".out.flac"
        copy_with_room(source, target, MANY)
        size = os.path.getsize(target)
        write_vorbis(target, MANY)
        assert os.path.getsize(target) == size
        assert starts_ms(read_vorbis(target).chapters) == starts_ms(MANY)
    assert open(str(id3) + ".out.flac", "rb").read(30) == id3.read_bytes()[:30]


def test_flac_with_a_wrong_block_size_is_copied_as_it_is(tmp_path, sources):
    data = open(sources["flac"], "rb").read()
    source = tmp_path / "gap.flac"
    source.write_bytes(data[:audio_start(data)] + b"\0\0\0" + data[audio_start(data):])
    copy_with_room(str(source), str(tmp_path / "out.flac"), MANY)
    assert (tmp_path / "out.flac").read_bytes() == source.read_bytes()


def dense_vorbis(data: bytes, fill_segments: int) -> bytes:
    """The Vorbis file ``data`` with a DESCRIPTION that fills its comment page to ``fill_segments``."""
    from mutagen.ogg import OggPage

    stream = BytesIO(data)
    OggPage(stream)
    second = OggPage(stream)
    comment, setup = second.packets                     # FFmpeg: comment and setup on one page
    assert second.complete and comment.startswith(b"\x03vorbis")
    offset = 7 + 4 + int.from_bytes(comment[7:11], "little")
    vendor, count = comment[:offset], int.from_bytes(comment[offset:offset + 4], "little")
    offset += 4
    for _ in range(count):
        offset += 4 + int.from_bytes(comment[offset:offset + 4], "little")
    text = b"DESCRIPTION=" + b"d" * (fill_segments * 255 - offset - len(setup) - 1000)
    new = (vendor + (count + 1).to_bytes(4, "little") + comment[len(vendor) + 4:offset]
           + len(text).to_bytes(4, "little") + text + b"\x01")
    page = OggPage()
    page.serial, page.sequence, page.position, page.packets = second.serial, 1, 0, [new, setup]
    return data[:second.offset] + page.write() + data[stream.tell():]


def test_ogg_headers_that_would_need_another_page_are_copied_as_they_are(tmp_path, clean):
    """A comment page already near the 65 025-byte limit: no room fits on it, so a plain copy."""
    dense = tmp_path / "dense.ogg"
    dense.write_bytes(dense_vorbis(open(clean["ogg"], "rb").read(), 250))
    assert len(comments(str(dense))) == len(comments(clean["ogg"])) + 1
    target = str(tmp_path / "out.ogg")
    copy_with_room(str(dense), target, MANY)
    assert open(target, "rb").read() == dense.read_bytes()
    write_vorbis(target, MANY)                            # mutagen adds the page and renumbers
    assert os.path.getsize(target) > dense.stat().st_size
    assert decode_errors(bundled_ffmpeg(), target) == ""
    assert starts_ms(read_vorbis(target).chapters) == starts_ms(MANY)


def test_ogg_headers_with_room_on_their_page_still_fit(tmp_path, clean):
    """The same kind of file with space left on the page: the room is made, the write stays."""
    roomy_enough = tmp_path / "roomy.ogg"
    roomy_enough.write_bytes(dense_vorbis(open(clean["ogg"], "rb").read(), 150))
    target = str(tmp_path / "out.ogg")
    copy_with_room(str(roomy_enough), target, MANY)
    size = os.path.getsize(target)
    assert size > roomy_enough.stat().st_size
    write_vorbis(target, MANY)
    assert os.path.getsize(target) == size
    assert decode_errors(bundled_ffmpeg(), target) == ""


@pytest.mark.parametrize("kind", ["ogg", "opus"])
def test_headers_over_many_pages_are_repacked_onto_as_many(tmp_path, clean, kind, ffmpeg_exe):
    """mutagen lays a long comment on ~4 KiB pages; the room goes on the same number of pages,
    filled up to 255 lacing values, with granule position -1 where no packet ends."""
    import mutagen
    from mutagen.ogg import OggPage

    source = str(tmp_path / f"lyrics.{kind}")
    shutil.copyfile(clean[kind], source)
    audio = mutagen.File(source)
    audio.tags["LYRICS"] = ["la " * 40_000]
    audio.save()

    def header_pages(data: bytes) -> list:
        stream, pages = BytesIO(data), []
        while not pages or pages[-1].position <= 0:
            pages.append(OggPage(stream))
        return pages[:-1]

    original = open(source, "rb").read()
    target = str(tmp_path / f"out.{kind}")
    copy_with_room(source, target, MANY)
    copied = open(target, "rb").read()
    old_pages, new_pages = header_pages(original), header_pages(copied)
    assert len(old_pages) == len(new_pages) > 20
    assert [page.sequence for page in new_pages] == [page.sequence for page in old_pages]
    assert -1 in [page.position for page in new_pages]
    write_vorbis(target, MANY)
    assert os.path.getsize(target) == len(copied)
    assert open(target, "rb").read()[audio_start(copied):] == original[audio_start(original):]
    assert decode_errors(ffmpeg_exe, target) == ""
    assert mutagen.File(target).tags["LYRICS"] == ["la " * 40_000]


def test_chained_and_multiplexed_ogg_are_copied_as_they_are(tmp_path, sources):
    chained = tmp_path / "chained.ogg"
    chained.write_bytes(open(sources["ogg"], "rb").read() + open(sources["opus"], "rb").read())
    muxed = str(tmp_path / "muxed.ogg")
    run_ffmpeg(bundled_ffmpeg(), "-i", sources["ogg"], "-i", sources["ogg"], "-map", "0:a", "-map", "1:a",
               "-c", "copy", muxed)
    for source in (str(chained), muxed):
        target = source + ".out.ogg"
        copy_with_room(source, target, MANY)
        assert open(target, "rb").read() == open(source, "rb").read()


def test_opus_data_to_preserve_after_the_comments_is_copied_as_it_is(tmp_path, sources):
    """RFC 7845 5.2: a first byte with its low bit set marks data editors keep; mutagen
    then adds no padding, so no room can be made."""
    from mutagen.ogg import OggPage

    data = open(sources["opus"], "rb").read()
    stream = BytesIO(data)
    OggPage(stream)
    tags = OggPage(stream)
    assert tags.complete and len(tags.packets) == 1
    fields_end = len(tags.packets[0].rstrip(b"\0"))
    tags.packets = [tags.packets[0][:fields_end] + b"\x01keep me"]
    source = tmp_path / "keep.opus"
    source.write_bytes(data[:tags.offset] + tags.write() + data[stream.tell():])
    copy_with_room(str(source), str(tmp_path / "out.opus"), MANY)
    assert (tmp_path / "out.opus").read_bytes() == source.read_bytes()


def test_copy_rest_copies_exactly_from_any_offset(tmp_path):
    import random

    from chapterkit.containers._mutagen import copy_rest

    data = random.Random(7).randbytes(300_000)
    (tmp_path / "src").write_bytes(data)
    for head, offset in [(0, 0), (4096 + 123, 123), (5000, 77), (70_000, 70_000 - 8192)]:
        with open(tmp_path / "src", "rb") as src, open(tmp_path / "dst", "wb") as dst:
            dst.write(bytes(head))
            src.seek(offset)
            copy_rest(src, dst)
        assert (tmp_path / "dst").read_bytes() == bytes(head) + data[offset:]


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(0, 70_000), min_size=1, max_size=3), pages=st.integers(1, 4))
def test_paginate_keeps_packets_and_page_count(sizes, pages):
    from mutagen.ogg import OggPage

    from chapterkit.containers.xiphcodec import paginate as _paginate

    packets = [bytes([i + 1]) * size for i, size in enumerate(sizes)]
    old = []
    for number in range(pages):
        page = OggPage()
        page.serial, page.sequence = 1234, number + 1
        old.append(page)
    segments = sum(size // 255 + 1 for size in sizes)
    new = _paginate(packets, old)
    if not pages <= segments <= 255 * pages:
        assert new is None
        return
    assert [(p.serial, p.sequence) for p in new] == [(1234, n + 1) for n in range(pages)]
    stream = BytesIO(b"".join(page.write() for page in new))
    parsed = [OggPage(stream) for _ in range(pages)]
    assert stream.read() == b""
    assert OggPage.to_packets(parsed, strict=True) == packets
    for page in parsed:
        ends = page.complete or len(page.packets) > 1
        assert page.position == (0 if ends else -1)


# -- copy_with_room: bad input -------------------------------------------------------------------


@pytest.mark.parametrize("name, content, reason", [
    ("png.ogg", b"\x89PNG\r\n\x1a\n" + bytes(600), "not an Ogg or FLAC file"),
    ("empty.flac", b"", "not an Ogg or FLAC file"),
    ("cut.flac", None, "FLAC metadata cut short"),
    ("cut.ogg", None, "Ogg headers cut short"),
    ("garbled.ogg", None, "not a readable Ogg file"),
    ("no-streaminfo.flac", b"fLaC\x84\x00\x00\x08" + bytes(8) + b"\xff\xf8", "no FLAC STREAMINFO"),
])
def test_copy_with_room_bad_input_raises_one_line_media_error(tmp_path, sources, name, content, reason):
    if name == "cut.flac":
        content = open(sources["flac"], "rb").read()[:200]
    elif name == "cut.ogg":
        data = open(sources["ogg"], "rb").read()
        content = data[:data.index(b"OggS", 4)]
    elif name == "garbled.ogg":
        data = open(sources["ogg"], "rb").read()
        second = data.index(b"OggS", 4)
        content = data[:second] + b"OggX" + data[second + 4:]
    source = tmp_path / name
    source.write_bytes(content)
    with pytest.raises(MediaError, match=reason) as caught:
        copy_with_room(str(source), str(tmp_path / "out"), MANY)
    assert "\n" not in str(caught.value) and str(caught.value).endswith(f"while copying {source}")


def test_copy_with_room_names_the_file_it_cannot_open(tmp_path, sources):
    with pytest.raises(MediaError, match="No such file") as caught:
        copy_with_room(str(tmp_path / "missing.ogg"), str(tmp_path / "out.ogg"), MANY)
    assert caught.value.path == str(tmp_path / "missing.ogg")
    target = str(tmp_path / "no-such-folder" / "out.ogg")
    with pytest.raises(MediaError, match="No such file") as caught:
        copy_with_room(sources["ogg"], target, MANY)
    assert caught.value.path == target and caught.value.verb == "copying the input to"


@pytest.mark.parametrize("kind", KINDS)
def test_copy_with_room_of_truncated_files_raises_nothing_but_media_error(tmp_path, sources, kind):
    data = open(sources[kind], "rb").read()
    for cut in (1, 4, 27, 28, 60, 100, 300, 1000, 5000, len(data) // 2):
        path = tmp_path / f"cut{cut}.{kind}"
        path.write_bytes(data[:cut])
        try:
            copy_with_room(str(path), str(tmp_path / "out"), MANY)
        except MediaError:
            pass
        else:
            assert (tmp_path / "out").stat().st_size >= cut
