"""The FFmpeg layer: finding FFmpeg, the exact argv, probing, running and failing.

Media is made once per module with the bundled FFmpeg (lavfi sources, 32x18, about
a second); every embed runs with both FFmpeg builds and is checked by reading back
what FFmpeg wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading

import pytest

from chapterkit import muxer
from chapterkit.errors import FFmpegError, MediaError
from conftest import DEBIAN_FFMPEG, SAMPLE_ASS as ASS, bundled_ffmpeg, require_tool, run_ffmpeg

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "51"]
AAC = ["-c:a", "aac", "-b:a", "16k"]
OLD_CHAPTERS = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=Old one\n" \
               "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Old two\n"
#: New chapters; the first is longer than 2**31 ticks of FFmpeg 9's automatic MP4
#: timescale for 29.97 fps + 44.1 kHz (4 410 000 Hz): only -movie_timescale keeps it whole.
NEW_CHAPTERS = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=600000\ntitle=Long \\= first\n" \
               "[CHAPTER]\nTIMEBASE=1/1000\nSTART=600000\nEND=601000\ntitle=Second\n"
#: output extension -> (FFmpeg muxer, movie_timescale)
EMBED = {".mp4": ("mp4", 1000), ".mov": ("mov", 1000), ".m4a": ("ipod", 1000), ".mkv": ("matroska", None),
         ".webm": ("webm", None)}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, str]:
    """One small file per case, made by the bundled FFmpeg."""
    folder = tmp_path_factory.mktemp("muxer")
    ffmpeg = bundled_ffmpeg()
    (folder / "old.ffmeta").write_text(OLD_CHAPTERS)
    (folder / "new.ffmeta").write_text(NEW_CHAPTERS)
    (folder / "subs.ass").write_text(ASS)
    (folder / "subs.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n\n")
    (folder / "font.ttf").write_bytes(b"\x00\x01\x00\x00" + b"not really a font" * 20)
    video = ["-f", "lavfi", "-i", "testsrc=s=32x18:r=30000/1001,format=yuv420p"]
    audio = ["-f", "lavfi", "-i", "sine=r=44100:d=1"]
    old = ["-f", "ffmetadata", "-i", str(folder / "old.ffmeta")]
    paths = {name: str(folder / name) for name in (
        "rich.mkv", "chaptered.mp4", "timecode.mov", "cover.m4a", "clip.webm", "clip.mp3", "clip.opus",
        "clip.flac", "cover.png")}
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", paths["cover.png"])
    run_ffmpeg(ffmpeg, *video, *audio, "-f", "lavfi", "-i", "sine=f=660:d=1", "-i", str(folder / "subs.ass"),
               "-i", str(folder / "subs.srt"), "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-map", "4",
               "-t", "1", *X264, *AAC, "-c:s", "copy", "-metadata:s:a:1", "language=fra",
               "-disposition:s:1", "forced", "-attach", str(folder / "font.ttf"),
               "-metadata:s:t", "mimetype=application/x-truetype-font", paths["rich.mkv"])
    run_ffmpeg(ffmpeg, *video, *audio, *old, "-map", "0", "-map", "1", "-map_chapters", "2", "-t", "1",
               *X264, *AAC, paths["chaptered.mp4"])
    run_ffmpeg(ffmpeg, *video, *audio, *old, "-map", "0", "-map", "1", "-map_chapters", "2", "-t", "1",
               *X264, *AAC, "-timecode", "01:00:00:00", paths["timecode.mov"])
    run_ffmpeg(ffmpeg, *audio, "-i", paths["cover.png"], *old, "-map", "0", "-map", "1", "-map_chapters", "2",
               *AAC, "-c:v", "png", "-disposition:v", "attached_pic", paths["cover.m4a"])
    run_ffmpeg(ffmpeg, *video, *audio, "-t", "1", "-c:v", "libvpx", "-b:v", "20k", "-deadline", "realtime",
               "-c:a", "libopus", "-b:a", "16k", paths["clip.webm"])
    run_ffmpeg(ffmpeg, *audio, "-c:a", "libmp3lame", "-b:a", "32k", paths["clip.mp3"])
    run_ffmpeg(ffmpeg, *audio, "-c:a", "libopus", "-b:a", "16k", paths["clip.opus"])
    run_ffmpeg(ffmpeg, *audio, "-c:a", "flac", paths["clip.flac"])
    paths["new.ffmeta"] = str(folder / "new.ffmeta")
    return paths


# -- find_ffmpeg --------------------------------------------------------------------------------


def test_find_ffmpeg_prefers_the_explicit_binary(monkeypatch):
    monkeypatch.setenv(muxer.ENV_VAR, "/nonexistent/ffmpeg")
    found = muxer.find_ffmpeg(bundled_ffmpeg())
    assert (found.path, found.source, found.version) == (bundled_ffmpeg(), "option", "9.0.2")
    assert found.version_tuple == (9, 0)


def test_find_ffmpeg_reads_the_debian_version():
    debian = require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)
    found = muxer.find_ffmpeg(debian)
    assert found.version.startswith("5.1.") and "deb" in found.version
    assert found.version_tuple == (5, 1)


def test_find_ffmpeg_order_env_then_path_then_bundled(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(muxer.ENV_VAR, raising=False)
    assert muxer.find_ffmpeg().source == "bundled"
    os.symlink(bundled_ffmpeg(), tmp_path / "ffmpeg")
    on_path = muxer.find_ffmpeg()
    assert (on_path.source, on_path.path) == ("path", str(tmp_path / "ffmpeg"))
    monkeypatch.setenv(muxer.ENV_VAR, bundled_ffmpeg())
    assert (muxer.find_ffmpeg().source, muxer.find_ffmpeg().path) == ("env", bundled_ffmpeg())


@pytest.mark.parametrize("how", ("option", "env"))
def test_a_named_ffmpeg_that_does_not_exist_is_an_error(monkeypatch, how):
    name = "/nonexistent/bin/ffmpeg"
    monkeypatch.setenv(muxer.ENV_VAR, name)
    with pytest.raises(FFmpegError) as caught:
        muxer.find_ffmpeg(name if how == "option" else None)
    assert str(caught.value) == f"FFmpeg not found ({muxer._ORIGINS[how]}) while looking for {name}"


def test_a_binary_that_is_not_ffmpeg_is_refused():
    echo = shutil.which("echo")
    with pytest.raises(FFmpegError, match="not an FFmpeg binary") as caught:
        muxer.find_ffmpeg(echo)
    assert caught.value.path == echo


def test_version_tuple_of_a_git_build_is_unknown():
    assert muxer.FFmpegBinary("ffmpeg", "path", "N-118000-g1234abcd").version_tuple is None
    assert muxer.FFmpegBinary("ffmpeg", "path", "7.1.1").version_tuple == (7, 1)


# -- argv builders ------------------------------------------------------------------------------


def test_embed_argv_is_exact():
    argv = muxer.build_embed_argv("ffmpeg", "in.mov", "ch.ffmeta", "out.mov", output_format="mov",
                                  drop_streams=(3,), movie_timescale=1000)
    assert argv == ["ffmpeg", "-i", "in.mov", "-f", "ffmetadata", "-i", "ch.ffmeta",
                    "-map", "0", "-map", "-0:3",
                    "-f", "mov", "-c", "copy", "-disposition:0", "+0", "-map_chapters", "1",
                    "-movie_timescale", "1000", "out.mov",
                    "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def test_embed_argv_without_drops_timescale_with_tags_and_odd_names():
    argv = muxer.build_embed_argv("/opt/ffmpeg", "-in:put.mkv", "/tmp/c.ffmeta", "a:b.mkv",
                                  output_format="matroska", metadata={"title": "T = 1", "artist": "A"})
    assert argv == ["/opt/ffmpeg", "-i", "file:-in:put.mkv", "-f", "ffmetadata", "-i", "/tmp/c.ffmeta",
                    "-map", "0", "-f", "matroska", "-c", "copy", "-disposition:0", "+0", "-map_chapters", "1",
                    "-metadata", "title=T = 1", "-metadata", "artist=A", "file:a:b.mkv",
                    "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def test_embed_argv_with_attachments_is_exact():
    """Re-attached Matroska images follow the attachments -map 0 copies (-metadata:s:t:N)."""
    argv = muxer.build_embed_argv("ffmpeg", "in.mkv", "ch.ffmeta", "out.mkv", output_format="matroska",
                                  drop_streams=(6,), attachments=[("/s/a0", {"filename": "cover.png",
                                                                             "mimetype": "image/png"}),
                                                                  ("/s/a:1", {"filename": "back.jpg"})],
                                  attachments_before=1)
    assert argv == ["ffmpeg", "-i", "in.mkv", "-f", "ffmetadata", "-i", "ch.ffmeta", "-map", "0", "-map", "-0:6",
                    "-f", "matroska", "-c", "copy", "-disposition:0", "+0", "-map_chapters", "1",
                    "-attach", "/s/a0", "-metadata:s:t:1", "filename=cover.png", "-metadata:s:t:1",
                    "mimetype=image/png", "-attach", "file:/s/a:1", "-metadata:s:t:2", "filename=back.jpg",
                    "out.mkv", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def test_extract_argv_is_exact():
    assert muxer.build_extract_argv("ffmpeg", "in.mkv", 6, "/s/a0") == [
        "ffmpeg", "-i", "in.mkv", "-f", "data", "-c", "copy", "-map", "0:6", "/s/a0",
        "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def test_extract_copies_an_image_attachment_byte_for_byte(media, tmp_path, ffmpeg_exe):
    mkv = str(tmp_path / "cover.mkv")
    run_ffmpeg(bundled_ffmpeg(), "-i", media["rich.mkv"], "-map", "0", "-c", "copy", "-attach", media["cover.png"],
               "-metadata:s:t:1", "mimetype=image/png", "-metadata:s:t:1", "filename=cover.png", mkv)
    cover = [s for s in muxer.probe(mkv, ffmpeg_exe).streams if "attached_pic" in s.disposition]
    assert [(s.kind, s.codec, s.get_tag("filename"), s.get_tag("MIMETYPE")) for s in cover] == [
        ("video", "png", "cover.png", "image/png")]
    out = str(tmp_path / "cover.bin")
    muxer.run(muxer.build_extract_argv(ffmpeg_exe, mkv, cover[0].index, out), path=mkv, verb="copying")
    assert open(out, "rb").read() == open(media["cover.png"], "rb").read()


def test_find_bundled():
    found = muxer.find_bundled()
    assert (found.path, found.source, found.version) == (bundled_ffmpeg(), "bundled", "9.0.2")


def test_dump_argv_is_exact():
    assert muxer.build_dump_argv("ffmpeg", "in.mp3") == [
        "ffmpeg", "-i", "in.mp3", "-f", "ffmetadata", "-",
        "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info", "-copyts"]


# -- probe --------------------------------------------------------------------------------------


def _kinds(info: muxer.MediaInfo) -> list[tuple]:
    return [(s.index, s.kind, s.codec, s.tag, s.language, s.disposition, s.is_chapter_track)
            for s in info.streams]


def test_probe_mp4_finds_the_chapter_track(media, ffmpeg_exe):
    info = muxer.probe(media["chaptered.mp4"], ffmpeg_exe)
    assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    assert info.duration_ns == 1_000_000_000 and info.start_time_ns == 0
    assert _kinds(info) == [(0, "video", "h264", "avc1", "und", ("default",), False),
                            (1, "audio", "aac", "mp4a", "und", ("default",), False),
                            (2, "data", "bin_data", "text", "eng", (), True)]
    assert info.chapter_tracks == (2,)


def test_probe_mkv_lists_every_stream(media, ffmpeg_exe):
    info = muxer.probe(media["rich.mkv"], ffmpeg_exe)
    assert info.format_name == "matroska,webm"
    assert [(s.kind, s.codec, s.language, s.disposition) for s in info.streams] == [
        ("video", "h264", None, ()), ("audio", "aac", None, ()), ("audio", "aac", "fra", ()),
        ("subtitle", "ass", None, ()), ("subtitle", "subrip", None, ("forced",)),
        ("attachment", "ttf", None, ())]
    assert not info.chapter_tracks


def test_probe_m4a_cover_and_mov_timecode(media, ffmpeg_exe):
    cover = muxer.probe(media["cover.m4a"], ffmpeg_exe)
    assert [(s.kind, s.codec, s.disposition) for s in cover.streams if not s.is_chapter_track] == [
        ("audio", "aac", ("default",)), ("video", "png", ("attached_pic",))]
    timecode = muxer.probe(media["timecode.mov"], ffmpeg_exe)
    assert sorted((s.kind, s.codec, s.tag, s.is_chapter_track) for s in timecode.streams if s.kind == "data") == [
        ("data", "bin_data", "text", True), ("data", "none", "tmcd", False)]
    assert len(timecode.chapter_tracks) == 1


def test_probe_reads_stream_tags(media, ffmpeg_exe):
    timecode = muxer.probe(media["timecode.mov"], ffmpeg_exe).streams
    assert timecode[0].get_tag("timecode") == "01:00:00:00" and timecode[0].get_tag("TIMECODE") == "01:00:00:00"
    assert ("handler_name", "VideoHandler") in timecode[0].tags
    assert [s.get_tag("timecode") for s in timecode if s.tag == "tmcd"] == ["01:00:00:00"]
    rich = muxer.probe(media["rich.mkv"], ffmpeg_exe).streams
    assert rich[2].language == "fra" and rich[2].get_tag("ENCODER").endswith(" aac")  # dump.c shows no "language"
    assert rich[0].get_tag("timecode") is None
    assert rich[-1].tags[:2] == (("filename", "font.ttf"), ("mimetype", "application/x-truetype-font"))


def test_stream_tags_with_several_lines_and_long_keys():
    """FFmpeg's dump.c continues a multi-line value under an empty key, and does not pad
    keys of 16 characters or more; "Side data" and the next stream end a block."""
    stderr = """Input #0, matroska,webm, from 'x.mkv':
  Metadata:
    title           : Global
  Duration: 00:00:01.00, start: 0.000000, bitrate: 10 kb/s
  Stream #0:0: Video: h264 (High), yuv420p, 32x18, 25 fps (default)
    Metadata:
      DESCRIPTION     : first line
                      : second line
      a_rather_long_key_name: value: with colons
    Side data:
      displaymatrix: rotation of -90.00 degrees
  Stream #0:1(eng): Audio: aac (LC), 48000 Hz, mono, fltp
"""
    streams = muxer.parse_input_summary(stderr, path="x.mkv").streams
    assert streams[0].tags == (("DESCRIPTION", "first line\nsecond line"),
                               ("a_rather_long_key_name", "value: with colons"))
    assert streams[1].tags == () and streams[1].language == "eng"


def test_probe_mp3_reports_the_encoder_delay_as_start(media, ffmpeg_exe):
    info = muxer.probe(media["clip.mp3"], ffmpeg_exe)
    assert (info.format_name, info.start_time_ns) == ("mp3", 25_057_000)  # 1105 samples at 44.1 kHz
    assert _kinds(info) == [(0, "audio", "mp3", None, None, (), False)]
    assert abs(info.duration_ns - 1_000_000_000) <= 50_000_000  # 5.1 and 9.0 estimate differently


@pytest.mark.parametrize("name, format_name, codec", [("clip.opus", "ogg", "opus"), ("clip.flac", "flac", "flac"),
                                                      ("clip.webm", "matroska,webm", "vp8")])
def test_probe_audio_and_webm(media, ffmpeg_exe, name, format_name, codec):
    info = muxer.probe(media[name], ffmpeg_exe)
    assert info.format_name == format_name and info.streams[0].codec == codec
    assert abs(info.duration_ns - 1_000_000_000) <= 20_000_000


def test_duration_is_rounded_to_10_ms(tmp_path):
    path = str(tmp_path / "d.flac")  # 2.006 s prints as 00:00:02.01: rounded, not cut
    run_ffmpeg(bundled_ffmpeg(), "-f", "lavfi", "-i", "sine=r=8000:d=2.006", "-c:a", "flac", path)
    assert muxer.probe(path, bundled_ffmpeg()).duration_ns == 2_010_000_000


def test_probe_handles_names_ffmpeg_would_misread(media, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(media["clip.flac"], tmp_path / "-odd:name.flac")
    assert muxer.probe("-odd:name.flac", bundled_ffmpeg()).streams[0].codec == "flac"


@pytest.mark.parametrize("case, message", [
    ("text", r"^FFmpeg cannot read it: Invalid data found when processing input while reading .*notes\.txt$"),
    ("empty", r"^file is empty \(0 bytes\) while reading .*notes\.mp4$"),
    ("truncated", r"^FFmpeg cannot read it: Invalid data found when processing input \(moov atom not found\) "
                  r"while reading .*notes\.mp4$"),
    ("missing", r"^No such file or directory while reading .*notes\.mp4$"),
    ("ffmetadata", r"^FFmpeg finds no streams in it \(read as ffmetadata\) while reading .*notes\.mp4$"),
])
def test_probe_refuses_what_is_not_media(media, tmp_path, ffmpeg_exe, case, message):
    path = tmp_path / "notes.mp4"
    if case == "text":  # named .txt: for a .mp4 name FFmpeg tries the mov demuxer and says "moov atom not found"
        path = tmp_path / "notes.txt"
        path.write_text("Chapter 1 - 0:00\n")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":  # moov is written last, so the head of the file has no index
        path.write_bytes(open(media["chaptered.mp4"], "rb").read()[:3000])
    elif case == "ffmetadata":
        path.write_text(OLD_CHAPTERS)
    with pytest.raises(MediaError, match=message):
        muxer.probe(str(path), ffmpeg_exe)


# -- run ----------------------------------------------------------------------------------------


def test_run_returns_stdout(media):
    argv = muxer.build_dump_argv(bundled_ffmpeg(), media["chaptered.mp4"])
    text = muxer.run(argv, path=media["chaptered.mp4"], verb="reading")
    assert text.startswith(";FFMETADATA1\n") and "title=Old two" in text


def test_run_failure_is_one_line_with_ffmpegs_reason(media, tmp_path, ffmpeg_exe):
    # Keeping the old chapter track of a MOV is the failure research/containers.md §5 describes.
    argv = muxer.build_embed_argv(ffmpeg_exe, media["timecode.mov"], media["new.ffmeta"], str(tmp_path / "o.mov"),
                                  output_format="mov")
    with pytest.raises(FFmpegError) as caught:
        muxer.run(argv, path=media["timecode.mov"], verb="embedding chapters into")
    error = caught.value
    assert re.fullmatch(r"FFmpeg failed \(exit \d+\): Tag text incompatible with output codec id '98314' "
                        r"\(\[0\]\[0\]\[0\]\[0\]\) while embedding chapters into .*timecode\.mov", str(error))
    assert error.returncode > 0 and error.argv == tuple(argv)
    assert "Tag text incompatible" in error.stderr_tail and len(error.stderr_tail.splitlines()) <= 10


def test_run_without_the_binary():
    with pytest.raises(FFmpegError, match=r"^FFmpeg not found: /nonexistent/ffmpeg while testing x$"):
        muxer.run(["/nonexistent/ffmpeg", "-version"], path="x", verb="testing")


def test_fsize_limit_reads_as_a_full_disk(media, tmp_path, ffmpeg_exe):
    out = str(tmp_path / "o.mkv")
    argv = muxer.build_embed_argv(ffmpeg_exe, media["rich.mkv"], media["new.ffmeta"], out,
                                  output_format="matroska")
    with pytest.raises(FFmpegError, match=r"^FFmpeg failed \((killed by SIGXFSZ|exit \d+)\): the disk or file "
                                          r"size limit was hit \(File too large\) while embedding"):
        muxer.run(argv, path=media["rich.mkv"], verb="embedding chapters into", fsize_limit=2048)
    assert os.path.getsize(out) <= 2048
    muxer.run(argv, path=media["rich.mkv"], verb="embedding chapters into")  # the same argv works unlimited


def _children() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid():
            found.add(int(entry))
    return found


def test_ctrl_c_kills_and_reaps_ffmpeg():
    endless = [bundled_ffmpeg(), "-nostdin", "-f", "lavfi", "-i", "sine=r=8000", "-f", "null", "-"]
    before = _children()
    timer = threading.Timer(0.5, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            muxer.run(endless, path="lavfi", verb="playing")
    finally:
        timer.cancel()
        leftovers = _children() - before
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
    assert not leftovers  # no FFmpeg left running, no zombie left unreaped


# -- end to end: the embed argv keeps every stream ----------------------------------------------


def _kept(info: muxer.MediaInfo) -> list[tuple]:
    return [(s.kind, s.codec, s.tag, s.language, s.disposition) for s in info.streams if not s.is_chapter_track]


def _chapters(text: str) -> list[tuple[str, str, str]]:
    return re.findall(r"\[CHAPTER\]\nTIMEBASE=(\S+)\nSTART=(\d+)\nEND=(\d+)\ntitle=(.*)\n", text)


@pytest.mark.parametrize("name", ("chaptered.mp4", "timecode.mov", "cover.m4a", "rich.mkv", "clip.webm"))
def test_embed_argv_replaces_chapters_and_keeps_streams(media, tmp_path, ffmpeg_exe, name):
    source = media[name]
    extension = os.path.splitext(name)[1]
    output_format, timescale = EMBED[extension]
    before = muxer.probe(source, ffmpeg_exe)
    out = str(tmp_path / f"out{extension}")
    argv = muxer.build_embed_argv(ffmpeg_exe, source, media["new.ffmeta"], out, output_format=output_format,
                                  drop_streams=before.chapter_tracks, movie_timescale=timescale)
    assert muxer.run(argv, path=source, verb="embedding chapters into") == ""
    after, text = muxer.probe_and_dump(out, ffmpeg_exe)
    assert _kept(after) == _kept(before)
    assert len(after.chapter_tracks) == (1 if extension in (".mp4", ".mov", ".m4a") else 0)
    scale = {"1/1000": 1, "1/1000000000": 1_000_000}
    chapters = [(int(start) // scale[base], int(end) // scale[base], title)
                for base, start, end, title in _chapters(text)]
    assert chapters == [(0, 600_000, "Long \\= first"), (600_000, 601_000, "Second")]


def test_embed_keeps_the_timecode(media, tmp_path, ffmpeg_exe):
    source = media["timecode.mov"]
    out = str(tmp_path / "out.mov")
    argv = muxer.build_embed_argv(ffmpeg_exe, source, media["new.ffmeta"], out, output_format="mov",
                                  drop_streams=muxer.probe(source).chapter_tracks, movie_timescale=1000)
    muxer.run(argv, path=source, verb="embedding chapters into")
    assert [s.tag for s in muxer.probe(out, ffmpeg_exe).streams if s.kind == "data"].count("tmcd") == 1
    summary = subprocess.run([ffmpeg_exe, "-hide_banner", "-i", out], capture_output=True, text=True).stderr
    assert re.search(r"timecode\s+: 01:00:00:00", summary)  # a stream tag: the ffmetadata dump has none


def test_embed_keeps_global_tags_and_sets_new_ones(media, tmp_path):
    source, out = media["cover.m4a"], str(tmp_path / "out.m4a")
    first = str(tmp_path / "tagged.m4a")
    argv = muxer.build_embed_argv(bundled_ffmpeg(), source, media["new.ffmeta"], first, output_format="ipod",
                                  drop_streams=muxer.probe(source).chapter_tracks, movie_timescale=1000,
                                  metadata={"artist": "Somebody"})
    muxer.run(argv, path=source, verb="tagging")
    argv = muxer.build_embed_argv(bundled_ffmpeg(), first, media["new.ffmeta"], out, output_format="ipod",
                                  drop_streams=muxer.probe(first).chapter_tracks, movie_timescale=1000,
                                  metadata={"title": "New"})
    muxer.run(argv, path=first, verb="tagging")
    head = muxer.dump_ffmetadata(out).split("[CHAPTER]")[0]
    assert "artist=Somebody\n" in head and "title=New\n" in head


def test_analysis_and_thumbnail_argv_are_built_by_ffmpeg_python():
    from chapterkit.ffanalysis import build_detect_argv, build_thumbnail_argv

    scenes = build_detect_argv("ffmpeg", "a:b.mp4", "scenes")
    assert scenes[:1] == ["ffmpeg"] and "file:a:b.mp4" in scenes and "-copyts" in scenes
    assert "[0:v]scdet=threshold=10.0[s0]" in scenes and scenes[scenes.index("-f") + 1] == "null"
    silence = build_detect_argv("ffmpeg", "a.mp3", "silence")
    assert any("silencedetect=d=0.3:n=-35.0dB" in arg for arg in silence)
    thumb = build_thumbnail_argv("ffmpeg", "v.mp4", 1_250_000_000, "t.jpg", width=160)
    assert thumb[thumb.index("-ss") + 1] == "1.250000000" and thumb.index("-ss") < thumb.index("-i")
    assert "scale=160:-2" in thumb and "-y" in thumb
