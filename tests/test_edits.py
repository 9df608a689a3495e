"""chapterkit.edits: shift, scale, clip, drop, rename, fill titles; flat lists and the Matroska structure."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import edits
from chapterkit.edits import EditPlan
from chapterkit.errors import UsageError
from chapterkit.model import Atom, Chapter, ChapterList, Display, Edition

S = 1_000_000_000
LIST = ChapterList.of([(0, "Intro"), (30 * S, "Sponsor"), (60 * S, "Talk"), (300 * S, "")], duration_ns=600 * S)


def test_shift_back_after_trimming_an_intro_drops_what_ended_before_zero_with_a_note():
    moved, notes = edits.shift(LIST, -30 * S)
    assert moved.starts_ns == (0, 30 * S, 270 * S) and moved.titles == ("Sponsor", "Talk", "")
    assert moved.duration_ns == 570 * S
    assert notes == ("chapter 1 'Intro' at 0:00:00.000 dropped: shifted by -0:00:30",)


def test_shift_that_cuts_into_a_chapter_starts_it_at_zero():
    moved, notes = edits.shift(LIST, -45 * S)
    assert moved.starts_ns[:2] == (0, 15 * S) and moved[0].title == "Sponsor" and len(notes) == 1


def test_scale_converts_frame_rates_exactly():
    scaled = edits.scale(LIST, Fraction(25), Fraction(24000, 1001))
    assert scaled.starts_ns[1] == 31_281_250_000  # 30 s * 25 / (24000/1001), exact
    back = edits.scale(scaled, Fraction(24000, 1001), Fraction(25))
    assert back == LIST


def test_clip_keeps_a_window_moved_to_zero_and_notes_what_fell_outside():
    clipped, notes = edits.clip(LIST, 45 * S, 400 * S)
    assert clipped.starts_ns == (0, 15 * S, 255 * S) and clipped.titles == ("Sponsor", "Talk", "")
    assert clipped.duration_ns == 355 * S and clipped[-1].end_ns == 355 * S
    assert len(notes) == 1 and "'Intro'" in notes[0] and "outside --clip" in notes[0]
    with pytest.raises(UsageError):
        edits.clip(LIST, 10 * S, 5 * S)


def test_drop_rename_and_fill_titles():
    dropped, notes = edits.drop(LIST, "spon*")
    assert dropped.titles == ("Intro", "Talk", "") and "'Sponsor'" in notes[0]
    assert dropped[0].end_ns == 60 * S  # Intro covers the sponsor's time now
    assert edits.drop(LIST, "nothing")[1] == ("--drop 'nothing' matched no chapter",)
    assert edits.rename(LIST, 3, "Interview").titles[2] == "Interview"
    with pytest.raises(UsageError, match="--rename 9: there are chapters 1 to 4"):
        edits.rename(LIST, 9, "x")
    assert edits.fill_titles(LIST, "Chapter {n}").titles == ("Intro", "Sponsor", "Talk", "Chapter 4")
    with pytest.raises(UsageError):
        edits.fill_titles(LIST, "Chapter")


def test_apply_runs_the_plan_in_its_documented_order():
    plan = EditPlan(rename=((2, "Ad"),), drop=("ad",), shift_ns=-30 * S, fill_titles="Part {n}", duration_ns=200 * S)
    result, notes = edits.apply(LIST, plan)
    # Intro took over the dropped Ad's time (0-60 s), then everything moved 30 s back.
    assert result.titles == ("Intro", "Talk") and result.starts_ns == (0, 30 * S) and result[0].end_ns == 30 * S
    assert result.duration_ns == 200 * S and result[-1].end_ns == 200 * S
    assert any("--drop 'ad'" in note for note in notes) and any("at or after the duration" in note for note in notes)
    with pytest.raises(UsageError, match="no chapters"):
        edits.apply(LIST, EditPlan(drop=("*",)))


@pytest.mark.parametrize(("text", "value"), [("-30", -30 * S), ("+1:30", 90 * S), ("0:00:05.5", 5_500_000_000)])
def test_parse_shift(text, value):
    assert edits.parse_shift(text) == value


def test_option_texts():
    assert edits.parse_scale("25:24000/1001") == (Fraction(25), Fraction(24000, 1001))
    assert edits.parse_rate("29.97") == Fraction(2997, 100)
    assert edits.parse_clip("1:00-5:00") == (60 * S, 300 * S) and edits.parse_clip("30-") == (30 * S, None)
    assert edits.parse_rename("3=A = B") == (3, "A = B")
    for bad in (lambda: edits.parse_scale("25"), lambda: edits.parse_rate("0"), lambda: edits.parse_rate("1/0"),
                lambda: edits.parse_clip("5"), lambda: edits.parse_rename("x=y"), lambda: edits.parse_shift("soon")):
        with pytest.raises(UsageError):
            bad()


STRUCTURED = ChapterList.from_editions([
    Edition(1, atoms=(Atom(10, 0, None, displays=(Display("Other edition"),)),)),
    Edition(2, flag_default=True, atoms=(
        Atom(20, 0, 30 * S, displays=(Display("Intro", ("eng",)), Display("Einleitung", ("ger",))),
             children=(Atom(21, 10 * S, 20 * S, displays=(Display("Nested"),)),)),
        Atom(22, 30 * S, None, flag_hidden=True, displays=(Display("Hidden"),)),
        Atom(23, 40 * S, 90 * S, displays=(Display("Sponsor"),)),
        Atom(24, 90 * S, None, displays=(Display(""),)),
    ))])


def test_edits_keep_the_structure_in_step():
    moved, _ = edits.shift(STRUCTURED, 5 * S)
    intro = moved.editions[1].atoms[0]
    assert (intro.start_ns, intro.end_ns, intro.children[0].start_ns) == (5 * S, 35 * S, 15 * S)
    assert moved.editions[0].atoms[0].start_ns == 5 * S
    dropped, _ = edits.drop(STRUCTURED, "sponsor")
    assert [a.uid for a in dropped.editions[1].atoms] == [20, 22, 24]  # the hidden atom stays
    assert ChapterList.from_editions(dropped.editions) == dropped
    renamed = edits.rename(edits.fill_titles(STRUCTURED, "Chapter {n}"), 1, "Start")
    assert renamed.titles == ("Start", "Sponsor", "Chapter 3")
    atoms = renamed.editions[1].atoms
    assert [d.string for d in atoms[0].displays] == ["Start", "Einleitung"] and atoms[3].title == "Chapter 3"
    assert ChapterList.from_editions(renamed.editions) == renamed


@st.composite
def lists(draw):
    starts = sorted(set(draw(st.lists(st.integers(0, 10**13), min_size=1, max_size=10))))
    duration = draw(st.one_of(st.none(), st.integers(starts[-1] + 1, starts[-1] + 10**12)))
    return ChapterList.of(((s, f"c{i}") for i, s in enumerate(starts)), duration_ns=duration)


@settings(max_examples=200, deadline=None)
@given(lists(), st.integers(0, 10**12))
def test_shifting_forward_and_back_is_the_identity(chapters, delta):
    forward, notes = edits.shift(chapters, delta)
    assert notes == ()
    assert edits.shift(forward, -delta) == (chapters, ())


@settings(max_examples=200, deadline=None)
@given(lists(), st.integers(-10**13, 10**13))
def test_a_shift_never_loses_a_chapter_without_a_note(chapters, delta):
    moved, notes = edits.shift(chapters, delta)
    assert len(moved) + len(notes) == len(chapters)
    assert all(c.start_ns >= 0 for c in moved)


@settings(max_examples=200, deadline=None)
@given(lists(), st.integers(0, 10**13), st.integers(1, 10**13))
def test_clip_keeps_only_the_window_and_notes_the_rest(chapters, start, length):
    clipped, notes = edits.clip(chapters, start, start + length)
    assert len(clipped) + len(notes) == len(chapters)
    assert all(0 <= c.start_ns < length and (c.end_ns is None or c.end_ns <= length) for c in clipped)


@settings(max_examples=200, deadline=None)
@given(lists(), st.sampled_from([(25, Fraction(24000, 1001)), (Fraction(30000, 1001), 25), (24, 25)]))
def test_scale_there_and_back_is_within_a_nanosecond(chapters, rates):
    there = edits.scale(chapters, Fraction(rates[0]), Fraction(rates[1]))
    back = edits.scale(there, Fraction(rates[1]), Fraction(rates[0]))
    assert all(abs(a - b) <= 1 for a, b in zip(back.starts_ns, chapters.starts_ns))
    assert back.titles == chapters.titles


def test_chapter_lists_stay_valid_after_edits():
    with_end = ChapterList((Chapter(0, 10 * S, "a"), Chapter(20 * S, 25 * S, "b")))
    clipped, _ = edits.clip(with_end, 5 * S, 22 * S)
    assert [(c.start_ns, c.end_ns) for c in clipped] == [(0, 5 * S), (15 * S, 17 * S)]
