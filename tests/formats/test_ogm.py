"""The ``ogm`` format (mkvextract --simple): grammar edges, limits on write, hypothesis round trip.

Goldens (mkvextract's own output included) are in ``fixtures/formats/ogm/`` and run in
``test_contract.py``; these tests cover what a golden cannot show on its own.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import ogm
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_MS, Chapter, ChapterList, Display, Edition, Atom

S = 1_000_000_000


def test_numbers_grow_past_99_without_a_fixed_width():
    chapters = ChapterList.of([(i * S, f"C{i}") for i in range(101)])
    text = ogm.render(chapters)
    assert "CHAPTER01=00:00:00.000\nCHAPTER01NAME=C0\n" in text
    assert "CHAPTER100=00:01:39.000\nCHAPTER100NAME=C99\nCHAPTER101=00:01:40.000\n" in text
    assert ogm.parse(text).chapters == chapters


def test_a_title_is_everything_after_the_first_equals_sign():
    result = ogm.parse("CHAPTER01=00:00:00.000\nCHAPTER01NAME==a=b==\n")
    assert result.chapters.titles == ("=a=b==",)


def test_hours_past_99_and_nanoseconds_are_read_exactly():
    result = ogm.parse("CHAPTER01=100:00:00.000000001\nCHAPTER01NAME=Late\n")
    assert result.chapters.starts_ns == (360_000 * S + 1,)
    assert ogm.render(result.chapters).startswith("CHAPTER01=100:00:00.000\n")


def test_errors_name_the_line_and_what_was_expected():
    with pytest.raises(SourceError, match=r"line 2: CHAPTER01= given twice \(first on line 1\)"):
        ogm.parse("CHAPTER01=00:00:00.000\nCHAPTER01=00:00:01.000\n")
    with pytest.raises(SourceError, match=r"line 3: CHAPTER01NAME given twice"):
        ogm.parse("CHAPTER01=00:00:00.000\nCHAPTER01NAME=a\nCHAPTER01NAME=b\n")
    with pytest.raises(NoChaptersError, match="no CHAPTERnn= lines"):
        ogm.parse("\n\n")


def test_duration_drops_late_chapters_with_a_warning_and_ends_the_last():
    text = "CHAPTER01=00:00:00.000\nCHAPTER01NAME=a\nCHAPTER02=00:01:00.000\nCHAPTER02NAME=b\n"
    result = ogm.parse(text, ParseOptions(duration_ns=30 * S))
    assert result.chapters.titles == ("a",) and result.chapters[0].end_ns == 30 * S
    assert [d.code for d in result.diagnostics] == ["past_duration"]


def test_detect_needs_the_first_line_to_be_a_chapter_line():
    assert ogm.detect("\ufeff\r\nCHAPTER01=00:00:00.000\r\n")
    assert not ogm.detect("0:00 Intro\nCHAPTER01=00:00:00.000\n")
    assert not ogm.detect("")


def test_write_warns_about_what_it_cannot_keep():
    chapters = ChapterList((Chapter(0, 5 * S, "Intro  "), Chapter(10 * S + 1, None, "two\nlines", url="https://x")),
                           "A title", 60 * S)
    text, warnings = formats.render_checked(chapters, "ogm")
    assert text == "CHAPTER01=00:00:00.000\nCHAPTER01NAME=Intro\nCHAPTER02=00:00:10.000\nCHAPTER02NAME=two lines\n"
    joined = " | ".join(warnings)
    for phrase in ("1 start(s) rounded to the millisecond", "1 end(s) not kept", "1 title(s) had line breaks",
                   "1 title(s) end in blanks", "the list title 'A title' is not kept", "1 chapter image/link URL(s)"):
        assert phrase in joined


def test_writing_a_structured_list_warns_that_only_the_shown_chapters_are_kept():
    shown = Atom(1, 0, None, displays=(Display("Shown"),), children=(Atom(2, S, None, displays=(Display("in"),)),))
    hidden = Atom(3, 2 * S, None, flag_hidden=True, displays=(Display("Hidden"),))
    chapters = ChapterList.from_editions([Edition(9, flag_default=True, atoms=(shown, hidden)), Edition(10)])
    text, warnings = formats.render_checked(chapters, "ogm")
    assert text == "CHAPTER01=00:00:00.000\nCHAPTER01NAME=Shown\n"
    assert warnings[0] == ("ogm holds only the chapters a player shows; not kept: 1 other edition(s), "
                           "1 nested chapter(s), 1 hidden chapter(s), UIDs")


_titles = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def chapter_lists(draw):
    starts = sorted(draw(st.lists(st.integers(0, 400_000 * S), min_size=1, max_size=12)))
    titles = draw(st.lists(_titles, min_size=len(starts), max_size=len(starts)))
    return ChapterList.of(zip(starts, titles))


@settings(max_examples=300, deadline=None)
@given(chapter_lists())
def test_round_trip_equal_up_to_what_ogm_holds_and_the_rest_is_a_warning(chapters):
    text, warnings = formats.render_checked(chapters, "ogm")
    back = formats.parse(text, "ogm").chapters
    assert formats.detect(text).name == "ogm"
    if not warnings:
        assert back == chapters
    # What the warnings name is exactly what differs: ms rounding and one-line, right-trimmed titles.
    rounded = [((c.start_ns + NS_PER_MS // 2) // NS_PER_MS * NS_PER_MS, " ".join(c.title.splitlines()).rstrip())
               for c in chapters]
    assert back == ChapterList.of(rounded)
    assert any("rounded" in w for w in warnings) == any(c.start_ns % NS_PER_MS for c in chapters)
    assert any("title" in w for w in warnings) == any(t != c.title for (_, t), c in zip(rounded, chapters))


@pytest.mark.parametrize("line", ["CHAPTER01=" + "9" * 5000 + ":00:00.000", "CHAPTER" + "1" * 5000 + "=00:00:00.000",
                                  "CHAPTER01=1000000:00:00.000"])
def test_absurd_numbers_are_errors_naming_the_line_not_crashes(line):
    with pytest.raises(SourceError, match="line 1: "):
        ogm.parse(line + "\nCHAPTER01NAME=x\n")
