"""The Chapters element builder: what the reader parses back is what was built, for
editions, nested atoms, flags and displays in several languages."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit.containers.ebml import parse_header
from chapterkit.containers.matroska import CHAPTERS, Atom, Display, Edition, _parse_chapters
from chapterkit.containers.mkvchapters import build_chapters, editions_from_list
from chapterkit.model import ChapterList

languages = st.lists(st.sampled_from(["und", "eng", "ger", "fre", "jpn"]), min_size=1, max_size=2).map(tuple)
# EBML strings end at the first NUL (RFC 8794 7.4), so titles hold none.
titles = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
displays = st.builds(Display, titles, languages,
                     st.lists(st.sampled_from(["en", "de-CH", "ja"]), max_size=1).map(tuple),
                     st.lists(st.sampled_from(["us", "ch"]), max_size=1).map(tuple))


def atoms(depth: int):
    children = st.just(()) if depth == 0 else st.lists(atoms(depth - 1), max_size=2).map(tuple)
    start = st.integers(0, 10**13)
    return st.builds(lambda uid, s, length, hidden, enabled, shown, kids: Atom(
        uid, s, None if length is None else s + length, hidden, enabled, shown, kids),
        st.integers(1, 2**64 - 1), start, st.none() | st.integers(0, 10**12), st.booleans(), st.booleans(),
        st.lists(displays, min_size=1, max_size=3).map(tuple), children)


editions = st.lists(st.builds(Edition, st.none() | st.integers(1, 2**64 - 1), st.booleans(), st.booleans(),
                              st.booleans(), st.lists(atoms(1), max_size=3).map(tuple)), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(editions)
def test_what_is_built_parses_back_the_same(built):
    element = build_chapters(built)
    header = parse_header(element)
    assert header.id == CHAPTERS and header.end == len(element)
    notes: list[str] = []
    assert _parse_chapters(element[header.data_offset:], notes) == tuple(built)
    assert notes == []


def test_a_chapter_list_becomes_one_default_edition_as_ffmpeg_writes_it():
    chapters = ChapterList.of([(0, "Intro"), (5_000_000_000, "Zwei")], duration_ns=9_000_000_000)
    (edition,) = editions_from_list(chapters)
    assert edition.flag_default and [a.uid for a in edition.atoms] == [1, 2]
    assert [(a.start_ns, a.end_ns, a.title, a.displays[0].languages) for a in edition.atoms] == [
        (0, 5_000_000_000, "Intro", ("und",)), (5_000_000_000, 9_000_000_000, "Zwei", ("und",))]
    (webm,) = editions_from_list(chapters, "webm")
    assert not webm.flag_default
    # WebM gets no edition flags at all (FFmpeg writes none there).
    assert b"\x45\xdb" not in build_chapters((webm,), "webm")
