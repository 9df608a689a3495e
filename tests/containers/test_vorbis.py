"""CHAPTERxxx Vorbis comments in Ogg Opus, Ogg Vorbis and FLAC: mutagen, ffprobe, both FFmpegs, mpv.

Media is made once per module with the bundled FFmpeg (libopus, libvorbis, flac; 3 s
of sine with an artist and a title) plus cover art added with mutagen, and copied
per test. Ends are not stored: every reader ends a chapter at the next start and
the last one at the end of the audio.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapterkit.containers.vorbis import (format_chapter_time, parse_chapter_time, read_vorbis,
                                          write_title, write_vorbis)
from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from conftest import bundled_ffmpeg, fixture_path, make_media, require_tool

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
    mpv = require_tool("mpv")
    write_vorbis(media, CHAPTERS)
    script = media + ".lua"
    with open(script, "w") as handle:
        handle.write('local u = require "mp.utils"\nmp.register_event("file-loaded", function()\n'
                     'local list = u.format_json(mp.get_property_native("chapter-list"))\n'
                     'io.write("CHAPTERS=" .. list .. "\\n")\n'
                     'mp.command("quit") end)\n')
    done = subprocess.run([mpv, "--no-config", "--vo=null", "--ao=null", "--really-quiet",
                           f"--script={script}", media], capture_output=True, text=True, timeout=60)
    listed = json.loads(done.stdout.split("CHAPTERS=", 1)[1].splitlines()[0])
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
