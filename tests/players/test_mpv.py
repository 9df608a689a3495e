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
from chapterkit.players import check_players
from conftest import make_media, mpv_chapters

from .conftest import CASES
from .conftest import CHAPTERS as CHAPTERS_SHORT
from .listing import differences, mpv_list

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


#: Does mpv's list differ from the source on each broken file? (measured: FFmpeg's mov
#: demuxer lets the QuickTime chapter track override chpl, so a wrong chpl goes unseen)
MPV_DIFFERS = {"wrong_chpl": False, "stale_quicktime": True, "wrong_matroska": True, "wrong_tags": True}


@pytest.mark.parametrize("container,variant", CASES)
def test_mpv_lists_the_chapters_players_predicts(chaptered, container, variant):
    path = chaptered(container, variant)
    offset_ns = muxer.probe(path).start_time_ns if container == "mp3" else 0
    listed = mpv_list(path, offset_ns)
    found = differences(listed, CHAPTERS_SHORT)
    assert bool(found) == (variant != "good" and MPV_DIFFERS[variant]), (variant, listed)
    row = check_players(path, CHAPTERS_SHORT).row("ffmpeg")
    assert row.count == len(listed)
    assert row.status == ("ok" if not found else "differs"), row
