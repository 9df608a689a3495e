"""Nothing lost: every stream, disposition and tag of a rich input survives an embed.

Inputs carry two audio tracks, subtitles, cover art, an attachment (MKV) and a
timecode track (MOV); the stream lists before and after must be the same, with
both FFmpeg builds. Only chapters (and the title, when asked) may change.
"""

from __future__ import annotations

import pytest

from chapterkit import muxer
from chapterkit.embed import embed
from chapterkit.model import NS_PER_SECOND, ChapterList
from conftest import ffmpeg_for, make_media, run_ffmpeg

CHAPTERS = ChapterList.of([(0, "Start"), (NS_PER_SECOND, "Middle"), (2 * NS_PER_SECOND, "End")])
SRT = "1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,500 --> 00:00:02,500\nWorld\n"
ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,Bonjour
"""


def streams(path: str) -> list[tuple]:
    return [(s.kind, s.codec, s.language, tuple(sorted(s.disposition)))
            for s in muxer.probe(path).streams if not s.is_chapter_track]


def tags(path: str, ffmpeg: str) -> list[str]:
    """Global and per-stream tags as FFmpeg's ffmetadata muxer prints them, minus chapters."""
    text = muxer.dump_ffmetadata(path, muxer.find_ffmpeg(ffmpeg))
    head = text.split("[CHAPTER]")[0]
    return sorted(line for line in head.splitlines()
                  if line and not line.startswith((";", "encoder=")))


@pytest.fixture(scope="module")
def rich_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rich")
    ffmpeg = make_media.find_ffmpeg()
    (folder / "subs.srt").write_text(SRT)
    (folder / "subs.ass").write_text(ASS)
    (folder / "font.ttf").write_bytes(b"\x00\x01\x00\x00" + b"not really a font" * 20)
    cover = str(folder / "cover.png")
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", cover)
    video = ["-f", "lavfi", "-i", "testsrc=s=32x18:r=25,format=yuv420p"]
    two_audio = ["-f", "lavfi", "-i", "sine=f=440:d=3", "-f", "lavfi", "-i", "sine=f=660:d=3"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"]
    tagged = ["-metadata", "title=Rich input", "-metadata", "artist=Somebody",
              "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
              "-metadata:s:a:1", "title=Commentary"]
    paths = {}

    paths["mkv"] = str(folder / "rich.mkv")
    run_ffmpeg(ffmpeg, *video, *two_audio, "-i", str(folder / "subs.ass"), "-i", str(folder / "subs.srt"),
               "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map", "4", "-t", "3", *x264,
               "-c:a", "aac", "-c:s:0", "ass", "-c:s:1", "srt", *tagged, "-metadata:s:s:1", "language=deu",
               "-disposition:s:1", "forced",
               "-attach", str(folder / "font.ttf"), "-metadata:s:t", "mimetype=application/x-truetype-font",
               paths["mkv"])

    paths["mp4"] = str(folder / "rich.mp4")
    run_ffmpeg(ffmpeg, *video, *two_audio, "-i", str(folder / "subs.srt"), "-i", cover,
               "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map", "4", "-t", "3", *x264,
               "-c:a", "aac", "-c:s", "mov_text", "-c:v:1", "png", "-disposition:v:1", "attached_pic",
               *tagged, paths["mp4"])

    paths["mov"] = str(folder / "rich.mov")
    run_ffmpeg(ffmpeg, *video, *two_audio, "-map", "0", "-map", "1", "-map", "2", "-t", "3", *x264,
               "-c:a", "aac", "-timecode", "01:00:00:00", *tagged, paths["mov"])

    paths["m4a"] = str(folder / "rich.m4a")
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "sine=d=3", "-i", cover, "-map", "0", "-map", "1",
               "-c:a", "aac", "-c:v", "png", "-disposition:v", "attached_pic",
               "-metadata", "title=Song", "-metadata", "album=Album", paths["m4a"])
    return paths


@pytest.mark.parametrize("build", ("bundled", "debian"))
@pytest.mark.parametrize("container", ("mkv", "mp4", "mov", "m4a"))
def test_every_stream_and_tag_survives(tmp_path, rich_inputs, build, container):
    ffmpeg = ffmpeg_for(build)
    source = rich_inputs[container]
    out = str(tmp_path / f"out.{container}")
    embed(source, CHAPTERS, output=out, ffmpeg=ffmpeg)
    assert streams(out) == streams(source)
    assert tags(out, ffmpeg) == tags(source, ffmpeg)
    again = str(tmp_path / f"again.{container}")
    embed(out, CHAPTERS, output=again, ffmpeg=ffmpeg)  # re-embedding keeps no stale chapter track
    assert streams(again) == streams(source)
    assert sum(s.is_chapter_track for s in muxer.probe(again).streams) <= 1


def test_timecode_track_is_kept(tmp_path, rich_inputs):
    out = str(tmp_path / "out.mov")
    embed(rich_inputs["mov"], CHAPTERS, output=out)
    timecode = [s for s in muxer.probe(out).streams if "tmcd" in (s.codec, s.tag)]
    assert len(timecode) == 1, muxer.probe(out).streams


def test_title_can_be_set(tmp_path, rich_inputs):
    out = str(tmp_path / "out.mkv")
    embed(rich_inputs["mkv"], CHAPTERS, output=out, title="New title")
    text = muxer.dump_ffmetadata(out)
    assert "title=New title" in text.split("[")[0]
    assert "artist=somebody" in text.lower()
