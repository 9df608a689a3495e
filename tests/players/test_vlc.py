"""VLC (libVLC 3 through python-vlc) lists what chapterkit embeds, and reads the list ``players`` says.

Found by experiment (VLC 3.0.24, Debian 12), and what ``chapterkit.players.FAMILIES`` records:

- MP4, MOV, M4B: VLC shows the Nero ``chpl`` list. A wrong chpl shows; a stale
  QuickTime chapter track does not (``mp4.c`` ``LoadChapter`` takes chpl first).
- MKV, WebM: its own Matroska demuxer; each name is indented by its depth (one
  leading space at the top level).
- Ogg Vorbis, Opus, FLAC: the ``CHAPTERnnn`` comments.
- MP3: no chapters at all, good file or not (no ID3 ``CHAP`` support in VLC 3).

Every case also runs ``chapterkit.players`` on the same file: its VLC row must say
what VLC showed (same count, and ok exactly when VLC's list matches the source).
"""

from __future__ import annotations

import pytest

from chapterkit.players import check_players

from .conftest import CASES, CHAPTERS
from .listing import differences, vlc_chapters

#: (container, variant) -> does VLC's list differ from the source? (measured)
VLC_DIFFERS = {"wrong_chpl": True, "stale_quicktime": False, "wrong_matroska": True, "wrong_tags": True}


def _shown(path: str, container: str) -> list[tuple[int, str]]:
    listed = vlc_chapters(path)
    if container in ("mkv", "webm"):  # VLC indents Matroska chapter names by depth
        assert all(title.startswith(" ") for _, title in listed), listed
        listed = [(start, title[1:]) for start, title in listed]
    return listed


@pytest.mark.parametrize("container,variant", CASES)
def test_vlc_lists_the_chapters_players_predicts(chaptered, container, variant):
    path = chaptered(container, variant)
    listed = _shown(path, container)
    found = differences(listed, CHAPTERS)
    if container == "mp3":
        assert listed == []
    elif variant == "good":
        assert found == []
    else:
        assert bool(found) == VLC_DIFFERS[variant], (variant, listed)
    row = check_players(path, CHAPTERS).row("vlc")
    assert row.count == len(listed)
    assert (row.status == "ok") == (not found and bool(listed)), (row, listed)
    assert row.status == ("unsupported" if container == "mp3" else "ok" if not found else "differs")
