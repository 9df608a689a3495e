"""The ``libav`` reader: what FFmpeg's demuxers see, exact to the nanosecond.

Chapters go in through FFmpeg itself (hand-written FFMETADATA, stream copy), with
both FFmpeg builds, and must come back exactly: start time shifts (LAME MP3 delay,
FFmpeg 5.1's negative MKV start) must not leak into the times.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapterkit import containers, muxer
from chapterkit.containers.libav import read_libav
from chapterkit.errors import FFmpegError, MediaError
from chapterkit.model import Chapter
from conftest import bundled_ffmpeg, run_ffmpeg

MS = 1_000_000
SECOND = 1_000_000_000


def ffmetadata(chapters: list[tuple[int, int, str]]) -> str:
    """FFMETADATA for ``(start_ns, end_ns, title)``, escaped as ``ffmetaenc.c`` does."""
    lines = [";FFMETADATA1"]
    for start, end, title in chapters:
        escaped = "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in title)
        lines += ["[CHAPTER]", "TIMEBASE=1/1000000000", f"START={start}", f"END={end}", f"title={escaped}"]
    return "\n".join(lines) + "\n"


def embed(ffmpeg: str, source: str, output: str, chapters: list[tuple[int, int, str]], output_format: str) -> str:
    meta = output + ".ffmeta"
    with open(meta, "w", encoding="utf-8") as handle:
        handle.write(ffmetadata(chapters))
    timescale = 1000 if output_format in ("mp4", "mov", "ipod") else None
    argv = muxer.build_embed_argv(ffmpeg, source, meta, output, output_format=output_format,
                                  drop_streams=muxer.probe(source, ffmpeg).chapter_tracks, movie_timescale=timescale)
    muxer.run(argv, path=source, verb="embedding chapters into")
    return output


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, str]:
    """Two-second chapterless clips made by the bundled FFmpeg."""
    folder = tmp_path_factory.mktemp("libav")
    ffmpeg = bundled_ffmpeg()
    video = ["-f", "lavfi", "-i", "testsrc=s=32x18:r=25,format=yuv420p"]
    audio = ["-f", "lavfi", "-i", "sine=r=44100:d=2"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"]
    paths = {name: str(folder / name) for name in ("clip.mkv", "clip.mp4", "clip.mp3", "clip.opus", "clip.flac")}
    run_ffmpeg(ffmpeg, *video, *audio, "-t", "2", *x264, "-c:a", "aac", paths["clip.mkv"])
    run_ffmpeg(ffmpeg, *video, *audio, "-t", "2", *x264, "-c:a", "aac", paths["clip.mp4"])
    run_ffmpeg(ffmpeg, *audio, "-c:a", "libmp3lame", "-b:a", "32k", paths["clip.mp3"])
    run_ffmpeg(ffmpeg, *audio, "-c:a", "libopus", "-b:a", "16k", paths["clip.opus"])
    # FLAC chapters are CHAPTERnnn Vorbis comments; FFmpeg writes tags, never chapters, to FLAC.
    run_ffmpeg(ffmpeg, *audio, "-c:a", "flac", "-metadata", "CHAPTER000=00:00:00.000",
               "-metadata", "CHAPTER000NAME=Intro", "-metadata", "CHAPTER001=00:00:01.250",
               "-metadata", "CHAPTER001NAME=Song", paths["clip.flac"])
    paths["plain.flac"] = str(folder / "plain.flac")
    run_ffmpeg(ffmpeg, *audio, "-c:a", "flac", paths["plain.flac"])
    return paths


def test_matroska_chapters_are_exact_to_the_nanosecond(clips, tmp_path, ffmpeg_exe):
    written = [(0, 333_333_333, "Ünïcødé — 章节 🎬"), (333_333_333, 1_000_000_001, "Esc = ; # \\ back"),
               (1_000_000_001, 1_900_000_000, "Line1\nLine2")]
    out = embed(ffmpeg_exe, clips["clip.mkv"], str(tmp_path / "out.mkv"), written, "matroska")
    result = read_libav(out, ffmpeg_exe)
    assert result.reader == "libav"
    assert result.chapters.chapters == tuple(Chapter(*chapter) for chapter in written)
    assert result.chapters.duration_ns == muxer.probe(out, ffmpeg_exe).duration_ns


def test_negative_start_time_does_not_shift_chapters(clips, tmp_path, ffmpeg_exe):
    # FFmpeg 5.1 reads this MKV (AAC priming) with start -0.023 s; its CLI would then
    # dump every chapter 23 ms late, and a chapter at 0 as 23 ms.
    out = embed(bundled_ffmpeg(), clips["clip.mkv"], str(tmp_path / "out.mkv"),
                [(0, SECOND, "A"), (SECOND, 2 * SECOND, "B")], "matroska")
    info = muxer.probe(out, ffmpeg_exe)
    if muxer.find_ffmpeg(ffmpeg_exe).version_tuple == (5, 1):
        assert info.start_time_ns == -23 * MS
    assert read_libav(out, ffmpeg_exe).chapters.starts_ns == (0, SECOND)


def test_mp3_encoder_delay_does_not_shift_chapters(clips, tmp_path, ffmpeg_exe):
    # The LAME header makes start_time 0.025057 s; without -copyts FFmpeg dumps 1000 ms
    # as 975 and clamps 0 at 0, so adding the start time back would give 25.057 and 1000.057.
    out = embed(ffmpeg_exe, clips["clip.mp3"], str(tmp_path / "out.mp3"),
                [(0, SECOND, "Intro"), (SECOND, 1_500 * MS, "Verse")], "mp3")
    assert muxer.probe(out, ffmpeg_exe).start_time_ns == 25_057_000
    result = read_libav(out, ffmpeg_exe)
    assert result.chapters.chapters == (Chapter(0, SECOND, "Intro"), Chapter(SECOND, 1_500 * MS, "Verse"))
    assert any("0.025057 s" in note for note in result.notes)


def test_mp4_chapters_come_from_the_quicktime_track(clips, tmp_path, ffmpeg_exe):
    written = [(0, 500 * MS, "One"), (500 * MS, 1_250 * MS, "Two"), (1_250 * MS, 2 * SECOND, "Three")]
    out = embed(ffmpeg_exe, clips["clip.mp4"], str(tmp_path / "out.mp4"), written, "mp4")
    again = embed(ffmpeg_exe, out, str(tmp_path / "again.mp4"), written[:2], "mp4")
    assert read_libav(out, ffmpeg_exe).chapters.chapters == tuple(Chapter(*c) for c in written)
    assert read_libav(again, ffmpeg_exe).chapters.chapters == tuple(Chapter(*c) for c in written[:2])


def test_opus_and_flac_comments(clips, tmp_path, ffmpeg_exe):
    # Opus: FFmpeg writes CHAPTERnnn itself (starts only; a start with a fraction >= .5 s
    # would be written a second late, research/containers.md 2.4, so 1.25 s is used).
    out = embed(ffmpeg_exe, clips["clip.opus"], str(tmp_path / "out.opus"),
                [(0, 1_250 * MS, "Intro"), (1_250 * MS, 2 * SECOND, "Song")], "ogg")
    for path in (out, clips["clip.flac"]):
        chapters = read_libav(path, ffmpeg_exe).chapters
        assert [(c.start_ns, c.title) for c in chapters] == [(0, "Intro"), (1_250 * MS, "Song")]
        assert chapters[0].end_ns == 1_250 * MS


def test_no_chapters_is_an_empty_list_with_the_duration(clips, ffmpeg_exe):
    result = read_libav(clips["plain.flac"], ffmpeg_exe)
    assert len(result.chapters) == 0
    assert result.chapters.duration_ns == 2 * SECOND


@pytest.mark.parametrize("content", (b"", b"not media at all\n"))
def test_non_media_is_a_media_error(tmp_path, ffmpeg_exe, content):
    path = tmp_path / "notes.mkv"
    path.write_bytes(content)
    with pytest.raises(MediaError) as caught:
        read_libav(str(path), ffmpeg_exe)
    assert caught.value.path == str(path)


def test_ffmpeg_can_be_given_as_binary_path_or_not_at_all(clips):
    path = clips["clip.flac"]
    expected = read_libav(path).chapters
    assert read_libav(path, bundled_ffmpeg()).chapters == expected
    assert read_libav(path, muxer.find_ffmpeg(bundled_ffmpeg())).chapters == expected
    assert [r.reader for r in containers.read(path, ["libav"], ffmpeg=bundled_ffmpeg())] == ["libav"]
    with pytest.raises(FFmpegError, match="FFmpeg not found"):
        read_libav(path, "/nonexistent/ffmpeg")


_titles = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(1, 2 * SECOND - 1), min_size=1, max_size=6, unique=True),
       titles=st.lists(_titles, min_size=7, max_size=7))
def test_matroska_round_trip_is_exact(clips, tmp_path, cuts, titles):
    points = [0, *sorted(cuts), 2 * SECOND]
    # A value ending in a backslash cannot go through FFMETADATA: FFmpeg's reader takes
    # the newline after the escaped "\\\\" as escaped too (ffmetadec.c get_line looks
    # at the previous byte only) and swallows the next line, in 5.1 and 9.0 alike.
    written = [(points[i], points[i + 1], titles[i].strip().rstrip("\\") or "x") for i in range(len(points) - 1)]
    out = str(tmp_path / f"rt{len(os.listdir(tmp_path))}.mkv")
    embed(bundled_ffmpeg(), clips["clip.mkv"], out, written, "matroska")
    assert read_libav(out, bundled_ffmpeg()).chapters.chapters == tuple(Chapter(*c) for c in written)


def test_what_chapterkit_renders_reads_back_exactly(clips, tmp_path):
    # Through the project's own FFMETADATA writer, including the trailing-backslash case
    # that FFmpeg's reader gets wrong unless the writer works around it.
    from chapterkit.formats import ffmetadata as ffmeta
    from chapterkit.model import ChapterList

    chapters = ChapterList((Chapter(0, 700 * MS, "Ends in a backslash \\"), Chapter(700 * MS, SECOND, "Next")))
    meta = tmp_path / "c.ffmeta"
    meta.write_text(ffmeta.render(chapters), encoding="utf-8")
    out = str(tmp_path / "out.mkv")
    argv = muxer.build_embed_argv(bundled_ffmpeg(), clips["clip.mkv"], str(meta), out, output_format="matroska")
    muxer.run(argv, path=out, verb="writing")
    assert read_libav(out).chapters.chapters == chapters.chapters


def test_zero_length_chapters_stay_zero_length_as_ffprobe_shows_them(clips, tmp_path, ffmpeg_exe):
    """END == START in FFmpeg's dump is a real zero-length chapter, not "no end".

    FFmpeg writes such a chapter into Matroska as given (``ChapterTimeEnd`` equal to
    the start, containers.md §2.2), and ffprobe reports ``end == start``; the reader
    must not stretch it to the next chapter or the media's end.
    """
    import json
    import subprocess

    from conftest import require_tool

    written = [(0, SECOND, "Intro"), (SECOND, SECOND, "Marker = ;"), (1500 * MS, 1500 * MS, "Last")]
    out = embed(ffmpeg_exe, clips["clip.mkv"], str(tmp_path / "zero.mkv"), written, "matroska")
    got = [(c.start_ns, c.end_ns, c.title) for c in read_libav(out, ffmpeg_exe).chapters]
    assert got == written
    ffprobe = require_tool("ffprobe (Debian package)", "/usr/bin/ffprobe")
    done = subprocess.run([ffprobe, "-v", "error", "-show_chapters", "-of", "json", out],
                          capture_output=True, text=True, check=True)
    assert [(c["start"], c["end"], c["tags"]["title"]) for c in json.loads(done.stdout)["chapters"]] == got
