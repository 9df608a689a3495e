"""GStreamer shows Matroska chapters as a TOC, and none for the other containers.

``gst-discoverer-1.0 -c`` prints the TOC a demuxer posts (GStreamer 1.22, Debian 12):
``matroskademux`` posts one for MKV and WebM; ``qtdemux`` (MP4, MOV, M4B),
``id3demux`` (MP3), ``oggdemux`` (Vorbis, Opus) and ``flacparse`` post none, even
for files every other player shows chapters in. ``chapterkit.players``' gstreamer
row must agree on every file, broken ones included.
"""

from __future__ import annotations

import pytest

from chapterkit.players import check_players

from .conftest import CASES, CHAPTERS
from .listing import differences, gst_chapters


@pytest.mark.parametrize("container,variant", CASES)
def test_gstreamer_lists_the_chapters_players_predicts(chaptered, container, variant):
    path = chaptered(container, variant)
    listed = gst_chapters(path)
    found = differences(listed, CHAPTERS)
    if container in ("mkv", "webm"):
        assert bool(found) == (variant != "good"), listed
    else:
        assert listed == []
    row = check_players(path, CHAPTERS).row("gstreamer")
    assert row.count == len(listed)
    assert row.status == ("unsupported" if not listed else "ok" if not found else "differs"), row
