"""The chapter model: validation, derived ends, equality, and exact time conversions."""

from __future__ import annotations

import pickle
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList, ns_to_seconds, seconds_to_ns

S = NS_PER_SECOND


# -- Chapter -----------------------------------------------------------------------------------


def test_chapter_duration():
    assert Chapter(2 * S, 5 * S, "x").duration_ns == 3 * S
    assert Chapter(2 * S, None, "x").duration_ns is None


@pytest.mark.parametrize(("start", "end", "error", "words"), [
    (1.5, None, TypeError, "start_ns must be an int, not float"),
    (True, None, TypeError, "start_ns must be an int, not bool"),
    (0, 2.0, TypeError, "end_ns must be an int or None, not float"),
    (0, False, TypeError, "end_ns must be an int or None, not bool"),
    (-1, None, ValueError, "chapter start -1 ns is negative"),
    (10, 9, ValueError, "chapter end 9 ns is before its start 10 ns"),
])
def test_chapter_refuses_bad_times(start, end, error, words):
    with pytest.raises(error, match=words):
        Chapter(start, end, "x")


def test_chapter_is_frozen_and_allows_zero_length():
    chapter = Chapter(5, 5, "blink")
    assert chapter.duration_ns == 0
    with pytest.raises(AttributeError):
        chapter.start_ns = 1  # type: ignore[misc]


def test_chapter_refuses_a_non_string_title():
    with pytest.raises(TypeError):
        Chapter(0, None, 5)  # type: ignore[arg-type]


# -- ChapterList: derived ends ------------------------------------------------------------------


def test_missing_ends_follow_the_next_start_and_the_duration():
    chapters = ChapterList.of([(0, "a"), (10 * S, "b"), (25 * S, "c")], title="t", duration_ns=60 * S)
    assert [c.end_ns for c in chapters] == [10 * S, 25 * S, 60 * S]
    assert chapters.title == "t"


def test_without_duration_the_last_end_stays_unknown():
    assert ChapterList.of([(0, "a"), (10, "b")])[-1].end_ns is None


def test_given_ends_are_kept_even_when_they_leave_gaps_or_overlap():
    chapters = ChapterList((Chapter(0, 5, "gap"), Chapter(10, 30, "overlap"), Chapter(20, None, "c")), duration_ns=40)
    assert [c.end_ns for c in chapters] == [5, 30, 40]


def test_an_unsorted_next_start_gives_no_end():
    chapters = ChapterList.of([(50, "late"), (10, "early")], duration_ns=100)
    assert [c.end_ns for c in chapters] == [None, 100]


def test_a_duration_before_the_last_start_gives_no_end():
    assert ChapterList.of([(0, "a"), (90, "b")], duration_ns=80)[-1].end_ns is None


def test_lists_that_say_the_same_thing_compare_equal_and_hash_alike():
    spelled = ChapterList((Chapter(0, 10, "a"), Chapter(10, 20, "b")), duration_ns=20)
    derived = ChapterList.of([(0, "a"), (10, "b")], duration_ns=20)
    assert spelled == derived and hash(spelled) == hash(derived)
    assert spelled != derived.with_title("other")


def test_refuses_what_is_not_a_chapter_and_negative_durations():
    with pytest.raises(TypeError, match="chapter 1 is a tuple, not a Chapter"):
        ChapterList((Chapter(0, 5, "a"), (5, "b")))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duration -1 ns is negative"):
        ChapterList(duration_ns=-1)


def test_refuses_a_non_chapter_after_an_open_ended_one():
    with pytest.raises(TypeError, match="chapter 1 is a tuple"):
        ChapterList((Chapter(0, None, "a"), (5, "b")))  # type: ignore[arg-type]


@pytest.mark.parametrize("duration", [1.5, True])
def test_refuses_a_non_integer_duration(duration):
    with pytest.raises(TypeError):
        ChapterList(duration_ns=duration)


# -- ChapterList: a sequence ---------------------------------------------------------------------


def test_behaves_as_an_immutable_sequence():
    chapters = ChapterList.of([(0, "a"), (10, "b"), (20, "c")], duration_ns=30)
    assert len(chapters) == 3 and chapters[1].title == "b" and chapters[-1].end_ns == 30
    assert chapters[1:] == chapters.chapters[1:]
    assert [c.title for c in reversed(chapters)] == ["c", "b", "a"]
    assert chapters[1] in chapters and chapters.index(chapters[2]) == 2
    assert chapters.starts_ns == (0, 10, 20) and chapters.titles == ("a", "b", "c")
    assert not ChapterList() and isinstance(ChapterList([Chapter(0, None, "a")]).chapters, tuple)
    with pytest.raises(AttributeError):
        chapters.title = "x"  # type: ignore[misc]


def test_survives_pickling_for_worker_processes():
    chapters = ChapterList.of([(0, "a"), (10, "b")], title="t", duration_ns=30)
    assert pickle.loads(pickle.dumps(chapters)) == chapters


def test_with_duration_fills_only_an_unknown_last_end():
    open_ended = ChapterList.of([(0, "a"), (10, "b")])
    assert open_ended.with_duration(30)[-1].end_ns == 30
    given_end = ChapterList((Chapter(0, None, "a"), Chapter(10, 15, "b")))
    assert given_end.with_duration(30)[-1].end_ns == 15


def test_with_duration_moves_an_end_derived_from_the_old_duration():
    items = [(0, "a"), (10, "b")]
    assert ChapterList.of(items, duration_ns=20).with_duration(40) == ChapterList.of(items, duration_ns=40)


def test_without_ends_and_replace_chapters_and_with_title():
    chapters = ChapterList((Chapter(0, 5, "a"), Chapter(10, 12, "b")), title="t", duration_ns=20)
    assert [c.end_ns for c in chapters.without_ends()] == [10, 20]
    replaced = chapters.replace_chapters([Chapter(1, None, "z")])
    assert (replaced.titles, replaced.title, replaced.duration_ns, replaced[0].end_ns) == (("z",), "t", 20, 20)
    assert chapters.with_title(None).title is None and chapters.with_title(None).chapters == chapters.chapters


# -- time conversions --------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "ns"), [
    (Fraction(3, 2), 1_500_000_000),
    (90, 90 * S),
    ("1.000000001", S + 1),
    ("0.0000000005", 1),          # half a ns rounds up
    ("0.00000000049", 0),
    (Fraction(1001, 24000), 41_708_333),
    (Fraction(-3, 2 * S), -2),    # -1.5 ns: halves go away from zero on the negative side
])
def test_seconds_to_ns_is_exact_and_rounds_halves_up(seconds, ns):
    assert seconds_to_ns(seconds) == ns


def test_unit_constants():
    assert NS_PER_SECOND == 1000 * NS_PER_MS == 10 ** 9


@given(st.integers(-(2 ** 70), 2 ** 70))
def test_ns_to_seconds_and_back_is_lossless(ns):
    assert seconds_to_ns(ns_to_seconds(ns)) == ns
    assert ns_to_seconds(ns) == Fraction(ns, S)


@st.composite
def chapter_lists(draw):
    starts = draw(st.lists(st.integers(0, 10 ** 12), max_size=8))
    chapters = [Chapter(s, draw(st.none() | st.integers(s, 10 ** 12 + 1)), draw(st.text(max_size=5))) for s in starts]
    return ChapterList(tuple(chapters), draw(st.none() | st.text()), draw(st.none() | st.integers(0, 10 ** 12)))


@given(chapter_lists())
def test_filling_is_idempotent_and_never_invents_a_backwards_end(chapters):
    assert ChapterList(chapters.chapters, chapters.title, chapters.duration_ns) == chapters
    for index, chapter in enumerate(chapters):
        assert chapter.end_ns is None or chapter.end_ns >= chapter.start_ns
        if chapter.end_ns is None:  # left open only when nothing later can end it
            following = chapters[index + 1].start_ns if index + 1 < len(chapters) else chapters.duration_ns
            assert following is None or following < chapter.start_ns
