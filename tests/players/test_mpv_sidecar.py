"""mpv reads the FFMETADATA sidecar ``embed --sidecars ffmetadata`` writes (``--chapters-file``)."""

from __future__ import annotations

from chapterkit.sidecars import write_sidecars
from conftest import make_media

from .conftest import CHAPTERS
from .listing import differences, mpv_chapters_file, mpv_list


def test_mpv_shows_the_ffmetadata_sidecar_of_a_file_without_chapters(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "talk.mp4"), "mp4", seconds=4)
    assert mpv_list(clip) == []
    [sidecar] = write_sidecars(clip, CHAPTERS.with_duration(4_000_000_000), ["ffmetadata"])
    assert sidecar.endswith("talk.chapters.ffmeta")
    assert differences(mpv_chapters_file(clip, sidecar), CHAPTERS) == []
