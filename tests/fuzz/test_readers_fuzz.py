"""Fuzz every container reader with structure-aware damage (issue 11).

Seeds are tiny chaptered files of every container, made here with FFmpeg and
``chapterkit.embed``. Each example cuts a file at a box, element, page or frame
boundary, or corrupts a size field there (``mutators.py``), optionally flips a
few bytes, and runs every reader that applies (``containers.CONTAINER_READERS``,
so readers other helpers add join automatically). A reader may return chapters
or raise a :class:`~chapterkit.errors.ChapterkitError` whose message is one line;
anything else, or a call over ``CALL_SECONDS``, fails.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit import containers
from chapterkit.containers import CONTAINER_READERS, ReadResult
from chapterkit.embed import embed
from chapterkit.errors import ChapterkitError
from chapterkit.model import NS_PER_MS, ChapterList
from conftest import bundled_ffmpeg, make_media
from fuzz.mutators import MUTATIONS, boundaries, mutate
from fuzz.settings import CALL_SECONDS, FUZZ, fewer

CHAPTERS = ChapterList.of([(0, "Intro"), (700 * NS_PER_MS, "Ünï 章"), (1_400 * NS_PER_MS, "Outro")])
KINDS = {"mp4": "mp4", "mkv": "matroska", "mp3": "mp3", "ogg": "ogg", "flac": "flac"}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    made = {}
    for kind in KINDS:
        extension = make_media.RECIPES[kind][0]
        clip = make_media.make_clip(str(folder / f"plain{extension}"), kind, seconds=2, ffmpeg=bundled_ffmpeg())
        out = folder / f"seed{extension}"
        embed(clip, CHAPTERS, output=str(out), ffmpeg=bundled_ffmpeg())
        made[kind] = out.read_bytes()
    assert set(KINDS.values()) == set(CONTAINER_READERS), "a container without a fuzz seed"
    return made


def damaged(data, draw) -> bytes:
    sites = boundaries(data)
    if sites:
        site = draw(st.sampled_from(sites))
        data = mutate(data, site, draw(st.sampled_from(MUTATIONS)), draw(st.floats(0, 1)))
    flips = draw(st.lists(st.tuples(st.integers(0, max(0, len(data) - 1)), st.integers(1, 255)), max_size=3))
    if data and flips:
        buffer = bytearray(data)
        for at, mask in flips:
            buffer[at] ^= mask
        data = bytes(buffer)
    return data


def check(reader: str, path: str) -> None:
    began = time.monotonic()
    try:
        result = containers.run_reader(reader, path, bundled_ffmpeg())
    except ChapterkitError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
    else:
        assert isinstance(result, ReadResult) and result.reader == reader
        assert all("\n" not in problem for problem in result.problems)
    assert time.monotonic() - began < CALL_SECONDS, (reader, path)


def _read_all(seeds, tmp_path, kind, data, readers) -> None:
    path = tmp_path / f"fuzz{make_media.RECIPES[kind][0]}"
    path.write_bytes(damaged(seeds[kind], data.draw))
    for reader in readers:
        check(reader, str(path))
    try:
        containers.read_each(str(path), ffmpeg=bundled_ffmpeg()) if "libav" in readers else None
    except ChapterkitError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_the_file_readers_take_damaged_files(seeds, tmp_path, kind, data):
    readers = [r for r in CONTAINER_READERS[KINDS[kind]] if r != "libav"]
    _read_all(seeds, tmp_path, kind, data, readers)


@pytest.mark.parametrize("kind", KINDS)
@fewer(5)
@given(data=st.data())
def test_ffmpegs_reader_takes_damaged_files(seeds, tmp_path, kind, data):
    _read_all(seeds, tmp_path, kind, data, ["libav"])


def test_the_mutator_reaches_every_level(seeds):
    """Boundaries come from the containers' own codecs, nested levels included."""
    assert len(boundaries(seeds["mp4"])) > 20 and len(boundaries(seeds["mkv"])) > 50
    assert any(site.kind == "ogg" for site in boundaries(seeds["ogg"]))
    assert len(boundaries(seeds["mp3"])) > 3  # the ID3 header and its frames
