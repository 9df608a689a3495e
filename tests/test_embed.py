"""Embedding over the container x frame rate x sample rate matrix, with both FFmpeg builds.

Every case makes a real clip with FFmpeg's lavfi sources, embeds a list with
fractional starts, Unicode and a 300-byte title, lets ``embed`` verify it with
every reader of the container, and then checks the readers again here: drift
under 1 ms on every container, titles exact (or cut as documented for chpl).
"""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction

import pytest

from chapterkit import containers
from chapterkit.embed import cut_utf8, embed, plan
from chapterkit.errors import ChapterMismatchError, UnsupportedContainerError, UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from conftest import ffmpeg_for, make_media, run_ffmpeg

LONG_TITLE = "Long " + "x" * 295  # 300 bytes
CHAPTERS = ChapterList.of([
    (0, "Intro ✨ Ünïcødé — 章节二 🎬"),
    (7_500_000_000, LONG_TITLE),
    (12_345_000_000, "Esc = ; # \\ back"),
    (20_001_000_000, "Last"),
])
VIDEO = ("mp4", "m4v", "mov", "mkv", "webm")
AUDIO = ("m4a", "m4b", "mka", "mp3", "ogg", "opus", "flac")
BUILDS = ("bundled", "debian")


def matrix():
    for build in BUILDS:
        for rate in make_media.SAMPLE_RATES:
            for container in VIDEO:
                for fps_name in make_media.FRAME_RATES:
                    yield pytest.param(build, container, fps_name, rate,
                                       id=f"{build}-{container}-{fps_name}fps-{rate}Hz")
            for container in AUDIO:
                if container == "opus" and rate == 44100:
                    continue  # Opus has no 44.1 kHz mode (RFC 6716): libopus resamples to 48 kHz
                yield pytest.param(build, container, None, rate, id=f"{build}-{container}-{rate}Hz")


def expected_titles(container: str, reader: str) -> tuple[str, ...]:
    if reader in ("nero", "quicktime", "libav") and container in ("mp4", "m4v", "mov", "m4a", "m4b"):
        return tuple(cut_utf8(title, 255) for title in CHAPTERS.titles)
    return CHAPTERS.titles


def assert_lands(path: str, container: str) -> None:
    for result in containers.read(path):
        got = result.chapters
        assert len(got) == len(CHAPTERS), (result.reader, got)
        for want, have in zip(CHAPTERS, got):
            assert abs(have.start_ns - want.start_ns) < NS_PER_MS, (result.reader, want, have)
        assert got.titles == expected_titles(container, result.reader), result.reader


@pytest.fixture(scope="module")
def matrix_clip(tmp_path_factory):
    """Each (container, frame rate, sample rate) clip made once, for both FFmpeg builds."""
    folder = tmp_path_factory.mktemp("matrix")
    made: dict[tuple, str] = {}

    def clip(container: str, fps_name: str | None, rate: int) -> str:
        key = (container, fps_name, rate)
        if key not in made:
            extension = make_media.RECIPES[container][0]
            fps = make_media.FRAME_RATES[fps_name] if fps_name else Fraction(25)
            name = f"{container}-{fps_name}-{rate}{extension}"
            made[key] = make_media.make_clip(str(folder / name), container, seconds=24, fps=fps, sample_rate=rate)
        return made[key]

    return clip


@pytest.mark.parametrize("build, container, fps_name, rate", list(matrix()))
def test_embed_matrix(tmp_path, matrix_clip, build, container, fps_name, rate):
    ffmpeg = ffmpeg_for(build)
    extension = make_media.RECIPES[container][0]
    clip = matrix_clip(container, fps_name, rate)
    before = open(clip, "rb").read()
    out = str(tmp_path / f"out{extension}")
    result = embed(clip, CHAPTERS, output=out, ffmpeg=ffmpeg)
    assert result.verified_by, "embed must read its output back"
    assert open(clip, "rb").read() == before, "the input must never change"
    assert_lands(out, container)
    assert [p for p in os.listdir(tmp_path) if p.startswith(".chapterkit-")] == []


LONG = ChapterList.of([
    (0, "Opening"),
    (601_500_000_000, "Eleven minutes in"),     # chapters over ten minutes long
    (1_234_567_000_000, "Twenty minutes"),
    (3_599_250_000_000, "At the hour"),
])


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("container", ("mp4", "mkv", "mp3", "opus"))
def test_hour_long_media_with_long_chapters(tmp_path, long_clips, build, container):
    """29.97 fps + 44.1 kHz is where FFmpeg 9's automatic MP4 timescale corrupts chapters
    longer than about 8 minutes (movenc.c packet duration check); we pass -movie_timescale."""
    ffmpeg = ffmpeg_for(build)
    clip = long_clips[container]
    out = str(tmp_path / ("out" + os.path.splitext(clip)[1]))
    embed(clip, LONG, output=out, ffmpeg=ffmpeg)
    for result in containers.read(out):
        assert result.chapters.titles == LONG.titles, result.reader
        drift = [abs(a - b) for a, b in zip(result.chapters.starts_ns, LONG.starts_ns)]
        assert max(drift) < NS_PER_MS, (result.reader, drift)


@pytest.fixture(scope="module")
def long_clips(tmp_path_factory):
    """Clips of an hour and 10 s: a 61 s encode, stream-copied 60 times over (-stream_loop).

    Encoding an hour of Opus alone takes half a minute here; the copy takes under one
    second and gives the same kind of file (continuous timestamps, real packets).
    """
    folder = tmp_path_factory.mktemp("long")
    ffmpeg = make_media.find_ffmpeg()
    clips = {}
    for container, extension in (("mp4", ".mp4"), ("mkv", ".mkv"), ("mp3", ".mp3"), ("opus", ".opus")):
        segment, path = str(folder / f"minute{extension}"), str(folder / f"hour{extension}")
        rate = 48000 if container == "opus" else 44100
        video = container in ("mp4", "mkv")
        argv = []
        if video:
            argv += ["-f", "lavfi", "-i", "color=s=16x16:r=30000/1001,format=yuv420p"]
        argv += ["-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=mono", "-t", "61"]
        if video:
            argv += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"]
        run_ffmpeg(ffmpeg, *argv, *make_media.RECIPES[container][2], segment)
        run_ffmpeg(ffmpeg, "-stream_loop", "60", "-i", segment, "-map", "0", "-c", "copy", "-t", "3610", path)
        clips[container] = path
    return clips


def test_chapters_past_the_end_are_an_error_naming_them(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=5)
    late = ChapterList.of([(0, "A"), (3 * NS_PER_SECOND, "B"), (9 * NS_PER_SECOND, "Too late")])
    with pytest.raises(ChapterMismatchError, match="Too late") as caught:
        embed(clip, late, output=str(tmp_path / "out.mkv"))
    assert caught.value.exit_code == 1
    assert not (tmp_path / "out.mkv").exists()


def test_last_chapter_ends_at_the_duration(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=6)
    result = embed(clip, ChapterList.of([(0, "A"), (2 * NS_PER_SECOND, "B")]), output=str(tmp_path / "o.mkv"))
    (matroska, *_) = containers.read(str(tmp_path / "o.mkv"), ["matroska"])
    assert matroska.chapters[-1].end_ns == result.chapters.duration_ns
    assert abs(matroska.chapters[-1].end_ns - 6 * NS_PER_SECOND) < 50 * NS_PER_MS


def test_refuses_output_that_is_the_input(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mp4"), "mp4", seconds=2)
    os.symlink(clip, tmp_path / "link.mp4")
    os.link(clip, tmp_path / "hard.mp4")
    before = open(clip, "rb").read()
    for target in (clip, str(tmp_path / "link.mp4"), str(tmp_path / "hard.mp4"),
                   str(tmp_path / "." / "in.mp4")):
        with pytest.raises(UsageError, match="is the input"):
            embed(clip, CHAPTERS_SHORT, output=target)
    assert open(clip, "rb").read() == before


CHAPTERS_SHORT = ChapterList.of([(0, "One"), (NS_PER_SECOND // 2, "Two")])


def test_in_place_replaces_atomically_and_keeps_mode(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=2)
    os.chmod(clip, 0o640)
    inode = os.stat(clip).st_ino
    embed(clip, CHAPTERS_SHORT, in_place=True, method="remux")  # the remux path (in place: tests/test_methods.py)
    assert os.stat(clip).st_mode & 0o777 == 0o640
    assert os.stat(clip).st_ino != inode, "replaced by rename, not rewritten in place"
    (matroska, *_) = containers.read(clip, ["matroska"])
    assert matroska.chapters.titles == ("One", "Two")


def test_embedding_twice_is_idempotent(tmp_path):
    from chapterkit import muxer

    clip = make_media.make_clip(str(tmp_path / "in.mov"), "mov", seconds=2)
    first, second = str(tmp_path / "one.mov"), str(tmp_path / "two.mov")
    embed(clip, CHAPTERS_SHORT, output=first)
    embed(first, CHAPTERS_SHORT, output=second)
    describe = lambda path: [(s.kind, s.codec) for s in muxer.probe(path).streams]  # noqa: E731
    assert describe(first) == describe(second)
    assert [r.chapters for r in containers.read(first)] == [r.chapters for r in containers.read(second)]


def test_refuses_containers_without_chapters(tmp_path):
    clip = str(tmp_path / "in.ts")
    run_ffmpeg(make_media.find_ffmpeg(), "-f", "lavfi", "-i", "sine=d=1", "-c:a", "mp2", clip)
    with pytest.raises(UnsupportedContainerError, match="MKV"):
        embed(clip, CHAPTERS_SHORT, output=str(tmp_path / "out.ts"))


def test_in_place_through_a_symlink_replaces_the_file_not_the_link(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "real.mkv"), "mkv", seconds=2)
    link = tmp_path / "link.mkv"
    os.symlink(clip, link)
    embed(str(link), CHAPTERS_SHORT, in_place=True)
    assert os.path.islink(link)
    (matroska, *_) = containers.read(clip, ["matroska"])
    assert matroska.chapters.titles == ("One", "Two")


# -- what plan() warns about, and cuts -----------------------------------------------------------


def test_titles_are_cut_to_255_bytes_on_a_character_boundary():
    title = "x" * 254 + "é" + "y"                   # the é straddles byte 255
    emoji = "🎬" * 70                                # 280 bytes, 4 per character
    planned, warnings = plan(ChapterList.of([(0, title), (NS_PER_SECOND, emoji)]), "mp4", 2 * NS_PER_SECOND)
    assert planned.titles == ("x" * 254, "🎬" * 63)
    assert [len(t.encode()) for t in planned.titles] == [254, 252]
    assert warnings == ["chapter 1 title cut to 255 bytes (the MP4 chpl limit)",
                        "chapter 2 title cut to 255 bytes (the MP4 chpl limit)"]
    for container in ("matroska", "mp3", "ogg", "flac"):  # the other carriers keep whole titles
        assert plan(ChapterList.of([(0, title)]), container, NS_PER_SECOND) == (
            ChapterList.of([(0, title)], duration_ns=NS_PER_SECOND), [])


def test_mp4_warnings_for_what_the_quicktime_track_cannot_hold():
    many = ChapterList.of([(i * 10 * NS_PER_MS, f"C{i}") for i in range(300)])
    _, warnings = plan(many, "mp4", 4 * NS_PER_SECOND)
    assert warnings == ["300 chapters: chpl readers (VLC, mutagen) will see only the first 255; "
                        "the QuickTime track keeps all"]
    late = ChapterList.of([(2 * NS_PER_SECOND, "A"), (3 * NS_PER_SECOND, "B")])
    assert "the first chapter starts at 0:00:02.000" in plan(late, "mp4", 5 * NS_PER_SECOND)[1][0]
    gap = ChapterList((Chapter(0, NS_PER_SECOND, "A"), Chapter(2 * NS_PER_SECOND, None, "B")))
    assert plan(gap, "mp4", 5 * NS_PER_SECOND)[1] == [
        "chapter(s) 1 end before the next starts: the QuickTime chapter track cannot hold gaps, "
        "so each runs to the next chapter there"]
    overlap = ChapterList((Chapter(0, 3 * NS_PER_SECOND, "A"), Chapter(2 * NS_PER_SECOND, None, "B")))
    assert plan(overlap, "mp4", 5 * NS_PER_SECOND)[1] == [
        "chapter(s) 1 end after the next starts: the QuickTime chapter track cannot hold overlaps, "
        "so each ends where the next starts there"]
    untitled = ChapterList.of([(0, "A"), (NS_PER_SECOND, " ")])
    planned, warnings = plan(untitled, "mp4", 5 * NS_PER_SECOND)
    assert planned.titles == ("A", "Chapter 2") and "chapter 2 has no title" in warnings[0]
    for chapters in (many, late, gap, overlap):  # Matroska holds all of these as they are
        assert plan(chapters, "matroska", 5 * NS_PER_SECOND)[1] == []


@pytest.mark.parametrize("build", BUILDS)
def test_300_chapters_and_a_split_character_in_mp4(tmp_path, build):
    """The 255 limits as the readers see them: chpl keeps 255 chapters, the QuickTime track
    all 300; the title cut before its é leaves a file mutagen still opens."""
    many = ChapterList.of([(i * 10 * NS_PER_MS, "x" * 254 + "é" if i == 7 else f"Chapter {i}") for i in range(300)])
    clip = make_media.make_clip(str(tmp_path / "in.m4a"), "m4a", seconds=4)
    out = str(tmp_path / "out.m4a")
    result = embed(clip, many, output=out, ffmpeg=ffmpeg_for(build))
    assert result.warnings == ("chapter 8 title cut to 255 bytes (the MP4 chpl limit)",
                               "300 chapters: chpl readers (VLC, mutagen) will see only the first 255; "
                               "the QuickTime track keeps all")
    seen = {r.reader: r.chapters for r in containers.read(out)}
    assert (len(seen["quicktime"]), len(seen["nero"]), len(seen["libav"])) == (300, 255, 300)
    assert seen["nero"].titles[7] == seen["quicktime"].titles[7] == "x" * 254


# -- verify after write ----------------------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("in_place", (False, True), ids=("output", "in-place"))
def test_a_read_back_that_disagrees_aborts_and_keeps_the_input(tmp_path, build, in_place):
    """A real disagreement: Matroska holds two chapters at one start, but FFmpeg's demuxer
    (so mpv, Plex, Jellyfin) drops the second (matroskadec.c), so the libav reader
    misses one. The embed must stop before the rename."""
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=3)
    before, inode = open(clip, "rb").read(), os.stat(clip).st_ino
    twice = ChapterList.of([(0, "A"), (NS_PER_SECOND, "B"), (NS_PER_SECOND, "C")])
    output = None if in_place else str(tmp_path / "out.mkv")
    with pytest.raises(ChapterMismatchError, match=r"libav .*missing: 'C'.*input was left untouched") as caught:
        embed(clip, twice, output=output, in_place=in_place, ffmpeg=ffmpeg_for(build))
    assert caught.value.exit_code == 1
    assert open(clip, "rb").read() == before and os.stat(clip).st_ino == inode
    assert sorted(os.listdir(tmp_path)) == ["in.mkv"]
    # --no-verify writes it anyway: the check above is what stopped it
    result = embed(clip, twice, output=str(tmp_path / "unchecked.mkv"), verify=False, ffmpeg=ffmpeg_for(build))
    assert result.verified_by == () and "not verified" in result.summary()


# -- the audio containers: no remux ----------------------------------------------------------------


def test_mp3_is_tagged_as_id3v23_and_its_audio_is_not_touched(tmp_path):
    from mutagen.id3 import ID3

    clip = make_media.make_clip(str(tmp_path / "in.mp3"), "mp3", seconds=3)
    out = str(tmp_path / "out.mp3")
    result = embed(clip, CHAPTERS_SHORT, output=out)
    assert result.method == "copy"
    tags_in, tags_out = ID3(clip), ID3(out)
    assert tags_out.version == (2, 3, 0)
    audio_in, audio_out = open(clip, "rb").read()[tags_in.size:], open(out, "rb").read()[tags_out.size:]
    assert audio_out == audio_in, "every MPEG frame (Xing header included) byte for byte"


@pytest.mark.parametrize("container", ("ogg", "opus", "flac"))
def test_ogg_and_flac_get_comments_from_mutagen_and_keep_their_audio(tmp_path, container):
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"in{extension}"), container, seconds=3)
    out = str(tmp_path / f"out{extension}")
    result = embed(clip, CHAPTERS_SHORT, output=out)
    assert result.method == "copy" and result.verified_by == ("vorbis", "libav")
    ffmpeg = make_media.find_ffmpeg()
    hashes = [subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i", path, "-map", "0:a", "-c", "copy",
                              "-f", "streamhash", "-"], capture_output=True, text=True, check=True).stdout
              for path in (clip, out)]
    assert hashes[0] == hashes[1] and hashes[0].strip()


@pytest.mark.parametrize("container", ("mp4", "mp3", "ogg", "flac", "opus"))
def test_chapters_past_the_end_are_refused_in_every_container(tmp_path, container):
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"in{extension}"), container, seconds=2)
    late = ChapterList.of([(0, "A"), (NS_PER_SECOND, "B"), (2 * NS_PER_SECOND + 500 * NS_PER_MS, "Too late")])
    with pytest.raises(ChapterMismatchError, match=r"1 chapter\(s\) start at or past the media's end .*'Too late'"):
        embed(clip, late, output=str(tmp_path / f"out{extension}"))
    assert sorted(os.listdir(tmp_path)) == [f"in{extension}"]


def test_avi_is_refused_naming_the_containers_that_can(tmp_path):
    clip = str(tmp_path / "in.avi")
    run_ffmpeg(make_media.find_ffmpeg(), "-f", "lavfi", "-i", "sine=d=1", clip)
    with pytest.raises(UnsupportedContainerError, match="MP4/MOV/M4A/M4B, MKV/MKA/WebM, MP3, Ogg/Opus and FLAC"):
        embed(clip, CHAPTERS_SHORT, output=str(tmp_path / "out.avi"))
    assert sorted(os.listdir(tmp_path)) == ["in.avi"]


@pytest.mark.parametrize("container", ("mp4", "mp3", "flac"))
def test_in_place_keeps_the_mode_of_every_kind_of_file(tmp_path, container):
    """0o444 too: the copy is fsynced before it gets the read-only mode (a read-write
    open of it would fail for a non-root user)."""
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"in{extension}"), container, seconds=2)
    for mode in (0o751, 0o444):
        os.chmod(clip, mode)
        embed(clip, CHAPTERS_SHORT, in_place=True)
        assert os.stat(clip).st_mode & 0o777 == mode
        assert containers.read(clip)[0].chapters.titles == ("One", "Two")
    assert sorted(os.listdir(tmp_path)) == [f"in{extension}"]
