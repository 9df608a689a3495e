"""Issue 11, hostile inputs: each ends in exit 0, 1 or 2 with one line naming the input, fast.

Every hostile file is built here, programmatically and small (deep nesting,
impossible sizes, odd names); nothing large is committed.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from chapterkit import containers
from chapterkit.embed import embed
from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import bundled_ffmpeg, make_media
from hardening.helpers import (append_to_moov, chap, cli, ctoc, huge_chpl, id3_tag, mp3_audio, nested_udta,
                               one_line_error, title)

MS = NS_PER_MS
THREE = ChapterList.of([(0, "Intro"), (1_000 * MS, "Middle"), (2_000 * MS, "Outro")])


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for kind in ("mp4", "mp3", "mkv"):
        extension = make_media.RECIPES[kind][0]
        clip = make_media.make_clip(str(folder / f"plain{extension}"), kind, seconds=3, ffmpeg=bundled_ffmpeg())
        files[kind] = str(folder / f"chaptered{extension}")
        embed(clip, THREE, output=files[kind], ffmpeg=bundled_ffmpeg())
    return files


def copy(made, kind: str, folder, name: str) -> str:
    path = str(folder / name)
    with open(made[kind], "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
    return path


def quick(*args, limit: float = 10.0, **kwargs):
    began = time.monotonic()
    done = cli(*args, **kwargs)
    assert time.monotonic() - began < limit
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


# -- deep nesting --------------------------------------------------------------------------------


def test_1200_nested_udta_boxes(made, tmp_path):
    path = copy(made, "mp4", tmp_path, "deep.mp4")
    append_to_moov(path, nested_udta(1200))
    for command in (["show", path], ["verify", path, "--chapters", _source(tmp_path)]):
        done = quick(*command)
        assert done.returncode in (0, 1, 2), done.stderr
        text = done.stdout + done.stderr
        assert "nested" in text and "deep" in text, text


def _mp3_with_tag(made, folder, name: str, frames: bytes) -> str:
    path = folder / name
    path.write_bytes(id3_tag(frames) + mp3_audio(made["mp3"]))
    return str(path)


def test_a_ctoc_chain_1100_deep(made, tmp_path):
    depth = 1100
    frames = b"".join(ctoc(f"t{i}".encode(), [f"t{i + 1}".encode()], top=i == 0) for i in range(depth))
    frames += ctoc(f"t{depth}".encode(), [b"c0"]) + chap(b"c0", 0, 1000, title("Only"))
    path = _mp3_with_tag(made, tmp_path, "ctoc.mp3", frames)
    try:
        result = containers.run_reader("id3", path)
    except MediaError as exc:
        assert "deep" in str(exc) and path in str(exc)
    else:
        assert any("deep" in note for note in result.notes)
    done = quick("show", path, "--reader", "id3")
    assert done.returncode in (0, 2)


def test_chap_sub_frames_1100_deep(made, tmp_path):
    inner = title("Deepest")
    for i in range(1100):
        inner = chap(f"n{i}".encode(), 0, 1000, inner)
    path = _mp3_with_tag(made, tmp_path, "chapdeep.mp3", inner)
    # Only a CHAP's TIT2 sub-frame is read, never a nested CHAP: no depth to exhaust.
    result = containers.run_reader("id3", path)
    assert [c.title for c in result.chapters] == [""]
    assert any("'n1099' has no TIT2" in note for note in result.notes)
    done = quick("show", path, "--reader", "id3")
    assert done.returncode == 0, done.stderr


# -- impossible sizes ----------------------------------------------------------------------------


def test_chpl_with_a_64_bit_size_of_2_63(made, tmp_path):
    path = copy(made, "mp4", tmp_path, "huge-chpl.mp4")
    append_to_moov(path, huge_chpl())
    with pytest.raises(MediaError, match="chpl|udta|box"):
        containers.run_reader("nero", path)
    shown = quick("show", path, "--reader", "nero")
    assert shown.returncode == 2 and path in one_line_error(shown)
    checked = quick("verify", path, "--chapters", _source(tmp_path))
    assert checked.returncode == 2
    out = str(tmp_path / "out.mp4")
    embedded = quick("embed", path, "--chapters", _source(tmp_path), "-o", out)
    # FFmpeg remuxes the file without the broken box: a verified output, or one line.
    assert embedded.returncode in (0, 2), (embedded.stdout, embedded.stderr)
    if embedded.returncode == 0:
        assert quick("verify", out, "--chapters", _source(tmp_path)).returncode == 0
    else:
        assert not os.path.exists(out) and path in one_line_error(embedded)


def _source(folder) -> str:
    path = folder / "source.json"
    path.write_text(json.dumps({"chapters": [{"start": c.start_ns / 1e9, "title": c.title} for c in THREE]}))
    return str(path)
