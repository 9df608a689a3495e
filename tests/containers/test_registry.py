"""The container registry: sniffing by content, and which readers apply."""

from __future__ import annotations

import pytest

from chapterkit import containers
from chapterkit.errors import MediaError, UnsupportedContainerError, UsageError
from conftest import make_media, run_ffmpeg


@pytest.mark.parametrize("container, expected", [
    ("mp4", "mp4"), ("mov", "mp4"), ("m4a", "mp4"), ("m4b", "mp4"), ("mkv", "matroska"),
    ("webm", "matroska"), ("mka", "matroska"), ("mp3", "mp3"), ("ogg", "ogg"), ("opus", "ogg"),
    ("flac", "flac"),
])
def test_sniff_reads_content_not_names(tmp_path, container, expected):
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"clip{extension}"), container, seconds=1)
    renamed = tmp_path / "no-extension"
    renamed.write_bytes(open(clip, "rb").read())
    assert containers.sniff(str(renamed)) == expected


@pytest.mark.parametrize("args, extension", [
    (["-c:a", "aac", "-f", "adts"], ".aac"),      # ADTS frames sync like MPEG audio: not an MP3
    (["-c:a", "mp2", "-f", "mpegts"], ".ts"),
    (["-c:a", "pcm_s16le", "-f", "wav"], ".wav"),
])
def test_containers_without_chapters_are_refused_naming_the_supported_ones(tmp_path, args, extension):
    path = str(tmp_path / f"x{extension}")
    run_ffmpeg(make_media.find_ffmpeg(), "-f", "lavfi", "-i", "sine=d=1", *args, path)
    with pytest.raises(UnsupportedContainerError, match="MP4/MOV"):
        containers.sniff(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(MediaError, match="No such file"):
        containers.sniff(str(tmp_path / "missing.mp4"))
    (tmp_path / "empty.mkv").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        containers.sniff(str(tmp_path / "empty.mkv"))


def test_readers_for_defaults_and_narrowing():
    assert containers.readers_for("mp4") == ("quicktime", "nero", "libav")
    assert containers.readers_for("mp4", ["nero"]) == ("nero",)
    with pytest.raises(UsageError, match="unknown reader"):
        containers.readers_for("mp4", ["bogus"])
    with pytest.raises(UsageError, match="applicable: matroska, libav"):
        containers.readers_for("matroska", ["id3"])


def test_every_reader_is_importable_and_named_in_a_container():
    named = {reader for readers in containers.CONTAINER_READERS.values() for reader in readers}
    assert named == set(containers.READERS)
    for name in containers.READERS:
        assert callable(containers.reader_function(name))
