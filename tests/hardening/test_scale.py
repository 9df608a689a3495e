"""Issue 11, huge counts: every chapter read, in bounded memory (the time goals live in bench/).

The files are built here: 70,000 CHAP frames, a 100,000-chapter description, a
20 MB chapter title in a Vorbis comment, 100,000 Vorbis comments. Memory is the
Python heap's peak (tracemalloc); the speed figures are bench/bench_hostile.py's.
"""

from __future__ import annotations

import shutil
import tracemalloc

import pytest

from chapterkit import containers
from chapterkit.containers.libav import MAX_FFMPEG_COMMENTS
from chapterkit.embed import embed
from chapterkit.errors import MediaError
from chapterkit.formats import description
from chapterkit.formats._stamps import format_stamp
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import bundled_ffmpeg, make_media
from hardening.helpers import chap, id3_tag, mp3_audio, title

MB = 1 << 20
pytestmark = pytest.mark.slow  # tracemalloc over 100,000 chapters: a minute under load
THREE = ChapterList.of([(0, "Intro"), (1_000 * NS_PER_MS, "Middle"), (2_000 * NS_PER_MS, "Outro")])


def peak(call):
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    made = {}
    for kind in ("mp3", "ogg"):
        extension = make_media.RECIPES[kind][0]
        clip = make_media.make_clip(str(folder / f"plain{extension}"), kind, seconds=3, ffmpeg=bundled_ffmpeg())
        made[kind] = str(folder / f"chaptered{extension}")
        embed(clip, THREE, output=made[kind], ffmpeg=bundled_ffmpeg())
    made["folder"] = folder
    return made


def test_70000_chap_frames(media):
    count = 70_000
    frames = b"".join(chap(f"c{i}".encode(), i * 10, i * 10 + 10, title(f"Chapter {i}")) for i in range(count))
    path = media["folder"] / "many.mp3"
    path.write_bytes(id3_tag(frames) + mp3_audio(media["mp3"]))
    result, used = peak(lambda: containers.run_reader("id3", str(path)))
    assert len(result.chapters) == count and result.chapters[-1].title == f"Chapter {count - 1}"
    assert used < 200 * MB


def test_a_100000_chapter_description():
    count = 100_000
    text = "".join(f"{format_stamp(i * 10 ** 10)} Chapter {i}\n" for i in range(count))
    result, used = peak(lambda: description.parse(text))
    assert len(result.chapters) == count
    assert used < 200 * MB


def test_a_20_mb_title_in_a_vorbis_comment(media):
    from mutagen.oggvorbis import OggVorbis

    path = str(media["folder"] / "long-title.ogg")
    shutil.copy(media["ogg"], path)
    audio = OggVorbis(path)
    audio.tags["CHAPTER001NAME"] = ["x" * (20 * MB)]
    audio.save()
    result, used = peak(lambda: containers.run_reader("libav", path, bundled_ffmpeg()))
    assert len(result.chapters[1].title) == 20 * MB
    assert used < 400 * MB  # the dump and the title are 20 MB each; was 2.8 GB


def test_100000_vorbis_comments(media):
    from mutagen.oggvorbis import OggVorbis

    path = str(media["folder"] / "many-comments.ogg")
    shutil.copy(media["ogg"], path)
    audio = OggVorbis(path)
    for index in range(100_000):
        audio.tags.append((f"NOTE{index}", "y"))
    audio.save()
    result, used = peak(lambda: containers.run_reader("vorbis", path))
    assert result.chapters.titles == THREE.titles and used < 200 * MB
    with pytest.raises(MediaError, match=rf"more than {MAX_FFMPEG_COMMENTS}"):
        containers.run_reader("libav", path, bundled_ffmpeg())
    shown = [r for r in containers.read_each(path, ffmpeg=bundled_ffmpeg())]
    assert shown[0].chapters.titles == THREE.titles and shown[1].error
