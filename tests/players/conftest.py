"""Chaptered clips for the player tests, made once per session: good, and broken in one list each."""

from __future__ import annotations

import pytest

from chapterkit.embed import embed
from chapterkit.model import ChapterList
from conftest import make_media

from . import breakage

#: Short titles (under chpl's 255 bytes) with non-ASCII text, starts on whole ms.
CHAPTERS = ChapterList.of([(0, "Intro ✨"), (1_250_000_000, "Zwischenspiel — 章"), (2_500_000_000, "Finale")])

CONTAINERS = ("mp4", "mov", "m4b", "mkv", "webm", "mp3", "ogg", "opus", "flac")

#: Per container, the broken variants: each wrong in exactly one chapter list.
BREAKAGES = {"mp4": ("wrong_chpl", "stale_quicktime"), "mov": ("wrong_chpl", "stale_quicktime"),
             "m4b": ("wrong_chpl", "stale_quicktime"), "mkv": ("wrong_matroska",), "webm": ("wrong_matroska",),
             "mp3": ("wrong_tags",), "ogg": ("wrong_tags",), "opus": ("wrong_tags",), "flac": ("wrong_tags",)}

CASES = [(container, variant) for container in CONTAINERS for variant in ("good", *BREAKAGES[container])]


@pytest.fixture(scope="session")
def chaptered(tmp_path_factory):
    """``chaptered(container, variant)``: a path to a 4 s clip with ``CHAPTERS``, good or broken."""
    folder = tmp_path_factory.mktemp("players")
    made: dict[tuple[str, str], str] = {}

    def make(container: str, variant: str = "good") -> str:
        key = (container, variant)
        if key not in made:
            extension = make_media.RECIPES[container][0]
            if variant == "good":
                clip = make_media.make_clip(str(folder / f"{container}-in{extension}"), container, seconds=4,
                                            sample_rate=44100)
                made[key] = embed(clip, CHAPTERS, output=str(folder / f"{container}{extension}")).output
            else:
                good = make(container)
                out = str(folder / f"{container}-{variant}{extension}")
                if variant == "wrong_tags":
                    made[key] = breakage.wrong_tags(good, out, container, CHAPTERS)
                else:
                    made[key] = getattr(breakage, variant)(good, out)
        return made[key]

    return make
