"""Embedding over the container x frame rate x sample rate matrix, with both FFmpeg builds.

Every case makes a real clip with FFmpeg's lavfi sources, embeds a list with
fractional starts, Unicode and a 300-byte title, lets ``embed`` verify it with
every reader of the container, and then checks the readers again here: drift
under 1 ms on every container, titles exact (or cut as documented for chpl).
"""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

from chapterkit import containers
from chapterkit.embed import cut_utf8, embed
from chapterkit.errors import ChapterMismatchError, UnsupportedContainerError, UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, ChapterList
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


@pytest.mark.parametrize("build, container, fps_name, rate", list(matrix()))
def test_embed_matrix(tmp_path, build, container, fps_name, rate):
    ffmpeg = ffmpeg_for(build)
    extension = make_media.RECIPES[container][0]
    fps = make_media.FRAME_RATES[fps_name] if fps_name else Fraction(25)
    clip = make_media.make_clip(str(tmp_path / f"in{extension}"), container, seconds=24, fps=fps,
                                sample_rate=rate)
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
    folder = tmp_path_factory.mktemp("long")
    clips = {}
    for container, extension in (("mp4", ".mp4"), ("mkv", ".mkv"), ("mp3", ".mp3"), ("opus", ".opus")):
        path = str(folder / f"hour{extension}")
        rate = 48000 if container == "opus" else 44100
        video = container in ("mp4", "mkv")
        argv = []
        if video:
            argv += ["-f", "lavfi", "-i", "color=s=16x16:r=30000/1001,format=yuv420p"]
        argv += ["-f", "lavfi", "-i", f"anullsrc=r={rate}:cl=mono", "-t", "3610"]
        if video:
            argv += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"]
        argv += make_media.RECIPES[container][2] + [path]
        run_ffmpeg(make_media.find_ffmpeg(), *argv)
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
    embed(clip, CHAPTERS_SHORT, in_place=True)
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
