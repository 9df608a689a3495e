"""mpv (and so every libavformat-based player: Kodi, Plex, Jellyfin) shows what chapterkit embeds.

``conftest.mpv_chapters`` asks mpv for its own ``chapter-list`` property. mpv rebases
times by the demuxer's start time, so MP3's encoder delay (1105 samples, 25.057 ms at
44.1 kHz) is added back before comparing.
"""

from __future__ import annotations

import pytest

from chapterkit import muxer
from chapterkit.embed import cut_utf8, embed
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import make_media, mpv_chapters

CHAPTERS = ChapterList.of([(0, "Intro ✨"), (1_250_000_000, "Zwischenspiel — 章"), (2_500_000_000, "L" * 300)])


@pytest.mark.parametrize("container", ["mp4", "mov", "m4b", "mkv", "webm", "mp3", "ogg", "opus", "flac"])
def test_mpv_lists_the_embedded_chapters(tmp_path, container):
    extension = make_media.RECIPES[container][0]
    clip = make_media.make_clip(str(tmp_path / f"in{extension}"), container, seconds=4, sample_rate=44100)
    out = str(tmp_path / f"out{extension}")
    embed(clip, CHAPTERS, output=out)
    listed = mpv_chapters(out)
    titles = CHAPTERS.titles
    if container in ("mp4", "mov", "m4b"):
        titles = tuple(cut_utf8(title, 255) for title in titles)  # embed cuts MP4 titles (chpl limit)
    assert [chapter["title"] for chapter in listed] == list(titles)
    offset_ns = muxer.probe(out).start_time_ns if container == "mp3" else 0
    for shown, expected in zip(listed, CHAPTERS.starts_ns):
        shown_ns = round(shown["time"] * 1e9) + offset_ns
        assert abs(shown_ns - expected) <= NS_PER_MS, listed
