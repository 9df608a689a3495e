"""``chapterkit embed`` and ``chapterkit doctor`` as real processes, on real files.

What issue 4 asks of the command line itself: which FFmpeg is used and how it was
found, one-line errors with exit 2 for a bad ``--ffmpeg`` and for FFmpeg's own
failures (its reason reaching the user), the output-is-the-input refusals,
``--title``/``--keep-title`` on every container, warnings on stderr, a read-back
that disagrees (exit 1) and ``--no-verify``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import mutagen
import pytest

from chapterkit import muxer
from conftest import DEBIAN_FFMPEG, bundled_ffmpeg, ffmpeg_for, make_media, require_tool

CONTAINERS = ("mp4", "mkv", "mp3", "ogg", "opus", "flac")


def run(*args: str, env: dict[str, str] | None = None, bundled: bool = True) -> subprocess.CompletedProcess:
    """``python -m chapterkit ARGS``; with ``bundled``, $CHAPTERKIT_FFMPEG names the bundled build."""
    full_env = {key: value for key, value in os.environ.items() if key != muxer.ENV_VAR}
    if bundled:
        full_env[muxer.ENV_VAR] = bundled_ffmpeg()
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "chapterkit", *args], capture_output=True, text=True,
                          env=full_env)


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".chapterkit-")]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, str]:
    """A 3 s clip per container with a title and an artist, and a JSON chapter source."""
    folder = tmp_path_factory.mktemp("cli-embed")
    made = {}
    for container in CONTAINERS:
        extension = make_media.RECIPES[container][0]
        made[container] = make_media.make_clip(
            str(folder / f"in{extension}"), container, seconds=3, ffmpeg=bundled_ffmpeg(),
            extra=["-metadata", "title=Original title", "-metadata", "artist=Somebody"])
    source = folder / "chapters.json"
    source.write_text(json.dumps({"chapters": [{"start": 0, "title": "Intro"}, {"start": 1.25, "title": "Ünï"},
                                               {"start": 2, "title": "End"}]}, ensure_ascii=False))
    made["source"] = str(source)
    return made


# -- which FFmpeg -----------------------------------------------------------------------------------


def test_doctor_names_the_ffmpeg_of_each_way_to_find_it(tmp_path):
    bundled = bundled_ffmpeg()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "ffmpeg").symlink_to(bundled)
    no_ffmpeg_path = os.path.dirname(sys.executable)
    cases = [
        (["doctor", "--ffmpeg", bundled], {muxer.ENV_VAR: "/nonexistent/ffmpeg"}, bundled, "option"),
        (["doctor"], {muxer.ENV_VAR: bundled, "PATH": str(tmp_path / "bin")}, bundled, "env"),
        (["doctor"], {"PATH": f"{tmp_path / 'bin'}:{no_ffmpeg_path}"}, str(tmp_path / "bin" / "ffmpeg"), "path"),
        (["doctor"], {"PATH": no_ffmpeg_path}, bundled, "bundled"),
    ]
    for args, env, path, how in cases:
        done = run(*args, env=env, bundled=False)
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[:3] == [f"ffmpeg: {path}", f"  found via: {how}", "  version: 9.0.2"], (how, done.stdout)
        assert "  mp3: mutagen, ID3v2.3 CHAP/CTOC in place on a copy; verified by id3, libav" in lines
        assert any(line.startswith("  anything else: refused") for line in lines)


def test_doctor_shows_the_debian_version_and_its_faults(tmp_path):
    debian = require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)
    lines = run("doctor", "--ffmpeg", debian).stdout.splitlines()
    assert lines[2].startswith("  version: 5.1.")
    assert lines[3] == ("  note: it moves video ~7 ms against Opus audio when remuxing Matroska (fixed in 6.0); "
                        "such files get a warning")
    assert lines[4].startswith("  note: a MOV/MP4 of video and timecode only can lose its chapter-track reference")
    (tmp_path / "ffmpeg").symlink_to(debian)
    lines = run("doctor", env={"PATH": f"{tmp_path}:{os.path.dirname(sys.executable)}"}, bundled=False).stdout
    assert "found via: path" in lines and lines.count("; the bundled FFmpeg writes those files") == 2
    assert "note:" not in run("doctor").stdout  # the bundled 9.0 has neither fault


def test_doctor_says_when_the_named_ffmpeg_is_unusable():
    done = run("doctor", "--ffmpeg", "/nonexistent/ffmpeg")
    assert done.stdout.splitlines()[0] == (
        "ffmpeg: not usable: FFmpeg not found (given with --ffmpeg) while looking for /nonexistent/ffmpeg")


@pytest.mark.parametrize("how, expected", [
    ("option", "FFmpeg not found (given with --ffmpeg) while looking for /nonexistent/ffmpeg"),
    ("env", "FFmpeg not found (named by $CHAPTERKIT_FFMPEG) while looking for /nonexistent/ffmpeg"),
    ("echo", "not an FFmpeg binary (`-version` does not say `ffmpeg version`) while running "),
])
def test_a_bad_ffmpeg_is_one_line_exit_2(tmp_path, clips, how, expected):
    out = str(tmp_path / "out.mkv")
    args = ["embed", clips["mkv"], "--chapters", clips["source"], "-o", out]
    if how == "option":
        done = run(*args, "--ffmpeg", "/nonexistent/ffmpeg")
    elif how == "env":
        done = run(*args, env={muxer.ENV_VAR: "/nonexistent/ffmpeg"})
    else:
        done = run(*args, "--ffmpeg", "/bin/echo")
    assert done.returncode == 2
    assert one_line(done).startswith(f"chapterkit: error: {expected}")
    assert os.listdir(tmp_path) == []


# -- FFmpeg's own reason ------------------------------------------------------------------------------


@pytest.mark.parametrize("build", ("bundled", "debian"))
def test_ffmpegs_reason_reaches_the_user_in_one_line(tmp_path, clips, build):
    """An H.264 MKV written to .webm: FFmpeg's WebM muxer refuses the codec, and says why."""
    before = open(clips["mkv"], "rb").read()
    done = run("embed", clips["mkv"], "--chapters", clips["source"], "-o", str(tmp_path / "out.webm"),
               "--ffmpeg", ffmpeg_for(build))
    assert done.returncode == 2
    line = one_line(done)
    assert line.startswith("chapterkit: error: FFmpeg failed (exit ")
    assert "Only VP8 or VP9 or AV1 video and Vorbis or Opus audio and WebVTT subtitles are supported for WebM" in line
    assert line.endswith(f"while embedding chapters into {clips['mkv']}")
    assert open(clips["mkv"], "rb").read() == before and os.listdir(tmp_path) == []


# -- where the output goes ----------------------------------------------------------------------------


def test_an_output_that_is_the_input_is_refused(tmp_path, clips):
    clip = str(tmp_path / "in.mkv")
    with open(clips["mkv"], "rb") as source, open(clip, "wb") as copy:
        copy.write(source.read())
    os.symlink(clip, tmp_path / "link.mkv")
    os.link(clip, tmp_path / "hard.mkv")
    for target in (clip, str(tmp_path / "link.mkv"), str(tmp_path / "hard.mkv")):
        done = run("embed", clip, "--chapters", clips["source"], "-o", target)
        assert done.returncode == 2
        assert "is the input file (same path, link or inode); use --in-place" in one_line(done)
    done = run("embed", clip, "--chapters", clips["source"], "--in-place")
    assert done.returncode == 0, done.stderr
    # Edited in place (tests/test_methods.py): the symlink stays a link and the hard link stays shared.
    assert os.path.islink(tmp_path / "link.mkv") and os.stat(tmp_path / "hard.mkv").st_nlink == 2
    assert leftovers(tmp_path) == []


# -- titles ---------------------------------------------------------------------------------------------


def global_tag(path: str, key: str) -> list[str]:
    """A global tag as FFmpeg's ffmetadata muxer prints it, unescaped (ffmetaenc.c escapes = ; # \\)."""
    head = muxer.dump_ffmetadata(path).split("[CHAPTER]")[0]
    return [re.sub(r"\\(.)", r"\1", line.split("=", 1)[1]) for line in head.splitlines()
            if line.lower().startswith(f"{key}=")]


def file_title(path: str) -> list[str]:
    tags = mutagen.File(path).tags if not path.endswith((".mkv", ".mp4")) else None
    if path.endswith(".mp3"):
        return [str(tags["TIT2"])] if "TIT2" in tags else []
    if tags is not None:
        return list(tags.get("title", []))
    return global_tag(path, "title")


def file_artist(path: str) -> list[str]:
    if path.endswith(".mp3"):
        return [str(mutagen.File(path).tags["TPE1"])]
    if path.endswith((".mkv", ".mp4")):
        return global_tag(path, "artist")
    return list(mutagen.File(path).tags.get("artist", []))


@pytest.mark.parametrize("container", CONTAINERS)
def test_title_and_keep_title_on_every_container(tmp_path, clips, container):
    extension = make_media.RECIPES[container][0]
    titled, kept = str(tmp_path / f"titled{extension}"), str(tmp_path / f"kept{extension}")
    done = run("embed", clips[container], "--chapters", clips["source"], "-o", titled, "--title", "Neuer Titel ✨")
    assert done.returncode == 0, done.stderr
    assert file_title(titled) == ["Neuer Titel ✨"] and file_artist(titled) == ["Somebody"]
    done = run("embed", clips[container], "--chapters", clips["source"], "-o", kept, "--keep-title")
    assert done.returncode == 0, done.stderr
    assert file_title(kept) == ["Original title"] and file_artist(kept) == ["Somebody"]
    assert file_title(clips[container]) == ["Original title"]


@pytest.mark.parametrize("container", ("mp4", "mkv"))
def test_title_with_debian_ffmpeg(tmp_path, clips, container):
    out = str(tmp_path / f"out.{container}")
    done = run("embed", clips[container], "--chapters", clips["source"], "-o", out, "--title", "T = 1; #2",
               "--ffmpeg", ffmpeg_for("debian"))
    assert done.returncode == 0, done.stderr
    assert file_title(out) == ["T = 1; #2"]


def test_title_and_keep_title_exclude_each_other(tmp_path, clips):
    done = run("embed", clips["mp3"], "--chapters", clips["source"], "-o", str(tmp_path / "o.mp3"),
               "--title", "X", "--keep-title")
    assert done.returncode == 2 and "--keep-title and --title exclude each other" in one_line(done)


# -- warnings, verification ------------------------------------------------------------------------------


def test_warnings_go_to_stderr_and_the_summary_to_stdout(tmp_path, clips):
    source = tmp_path / "long.json"
    source.write_text(json.dumps({"chapters": [{"start": 0, "title": "A" * 300}, {"start": 1, "title": "B"}]}))
    done = run("embed", clips["mp4"], "--chapters", str(source), "-o", str(tmp_path / "out.mp4"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "chapterkit: warning: chapter 1 title cut to 255 bytes (the MP4 chpl limit)"]
    assert done.stdout == (f"{tmp_path / 'out.mp4'}: 2 chapters embedded (mp4, copy; "
                           "verified by quicktime, nero, libav)\n")


def test_a_read_back_that_disagrees_is_exit_1_and_changes_nothing(tmp_path, clips):
    source = tmp_path / "twice.json"  # two chapters at 1 s: FFmpeg's Matroska demuxer keeps one
    source.write_text(json.dumps({"chapters": [{"start": 0, "title": "A"}, {"start": 1, "title": "B"},
                                               {"start": 1, "title": "C"}]}))
    done = run("embed", clips["mkv"], "--chapters", str(source), "-o", str(tmp_path / "out.mkv"))
    assert done.returncode == 1
    assert "chapters read back do not match" in one_line(done) and "the input was left untouched" in done.stderr
    assert sorted(os.listdir(tmp_path)) == ["twice.json"]
    done = run("embed", clips["mkv"], "--chapters", str(source), "-o", str(tmp_path / "out.mkv"), "--no-verify")
    assert done.returncode == 0 and re.search(r"\(matroska, (copy|clone); not verified\)\n$", done.stdout)


def test_in_place_through_the_cli_keeps_the_mode(tmp_path, clips):
    clip = str(tmp_path / "in.flac")
    with open(clips["flac"], "rb") as source, open(clip, "wb") as copy:
        copy.write(source.read())
    os.chmod(clip, 0o604)
    done = run("embed", clip, "--chapters", clips["source"], "--in-place")
    assert done.returncode == 0, done.stderr
    assert os.stat(clip).st_mode & 0o777 == 0o604 and leftovers(tmp_path) == []
    assert mutagen.File(clip).tags["CHAPTER001NAME"] == ["Ünï"]
