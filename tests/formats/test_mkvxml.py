"""The ``mkvxml`` format (Matroska XML chapters): structure kept whole, safety, limits, hypothesis round trip.

Goldens (mkvextract's own output included) are in ``fixtures/formats/mkvxml/``; the
real mkvmerge/mkvextract round trips are in ``test_mkvtoolnix_interop.py``.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import SourceError
from chapterkit.formats import mkvxml
from chapterkit.formats.base import ParseOptions
from chapterkit.model import Atom, Chapter, ChapterList, Display, Edition, EditionDisplay
from conftest import fixture_path

S = 1_000_000_000


def test_the_media_fixture_xml_reads_whole_and_writes_back_identically():
    text = fixture_path("media", "mkv-two-editions-nested.xml").read_text("utf-8")
    chapters = mkvxml.parse(text).chapters
    assert chapters.titles == ("Intro", "Outro")
    default = chapters.editions[1]
    assert default.flag_default and default.uid == 222
    intro = default.atoms[0]
    assert [d.language for d in intro.displays] == ["en-US", "de"]
    assert intro.children[0].title == "Intro nested" and intro.children[0].start_ns == S // 4
    assert [a.flag_hidden for a in default.atoms] == [False, True, False, False]
    assert [a.flag_enabled for a in default.atoms] == [True, True, False, True]
    again = mkvxml.parse(mkvxml.render(chapters)).chapters
    assert again.editions == chapters.editions and again == chapters
    assert mkvxml.render(again) == mkvxml.render(chapters)


def test_language_picks_the_display_for_the_flat_view():
    text = fixture_path("media", "mkv-two-editions-nested.xml").read_text("utf-8")
    for language in ("de", "ger", "DE"):
        assert mkvxml.parse(text, ParseOptions(language=language)).chapters.titles == ("Einleitung", "Outro")
    assert mkvxml.parse(text, ParseOptions(language="en")).chapters.titles == ("Intro", "Outro")
    assert mkvxml.parse(text, ParseOptions(language="fr")).chapters.titles == ("Intro", "Outro")


def test_a_flat_list_is_written_as_one_edition_with_ends():
    chapters = ChapterList.of([(0, "A & <B>"), (90 * S + 5, "C\r\nD")], duration_ns=100 * S)
    text = mkvxml.render(chapters)
    assert "<ChapterString>A &amp; &lt;B&gt;</ChapterString>" in text
    assert "<ChapterTimeEnd>00:01:40.000000000</ChapterTimeEnd>" in text
    back = mkvxml.parse(text).chapters
    assert back.titles == chapters.titles and back.starts_ns == chapters.starts_ns
    assert [c.end_ns for c in back] == [c.end_ns for c in chapters]


def test_entity_declarations_are_refused_quickly_naming_the_line():
    laughs = "".join(f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    text = f'<?xml version="1.0"?>\n<!DOCTYPE Chapters [<!ENTITY l0 "lol">{laughs}]>\n<Chapters>&l9;</Chapters>'
    started = time.perf_counter()
    with pytest.raises(SourceError, match="line 2: XML entity declarations are not allowed"):
        mkvxml.parse(text)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(("text", "message"), [
    ("<Chapters><EditionEntry><ChapterAtom>\n<ChapterTimeStart>1:00:00.0</ChapterTimeStart>\n"
     "<ChapterFlagHidden>yes</ChapterFlagHidden></ChapterAtom></EditionEntry></Chapters>",
     r"line 3: <ChapterFlagHidden> needs 0 or 1, not 'yes'"),
    ("<Chapters><EditionEntry>\n<ChapterAtom><ChapterUID>-4</ChapterUID></ChapterAtom></EditionEntry></Chapters>",
     r"line 2: <ChapterUID> needs an unsigned 64-bit integer"),
    ("<Chapters><EditionEntry>\n<ChapterAtom><ChapterUID>4</ChapterUID></ChapterAtom></EditionEntry></Chapters>",
     r"line 2: ChapterAtom has no ChapterTimeStart"),
    ("<Chapters>\n<EditionEntry>\n<ChapterAtom>\n</EditionEntry></Chapters>", r"line 4: not well-formed XML"),
    ("<Chapters><EditionEntry/></Chapters>", r"no ChapterAtom"),
])
def test_errors_name_the_line_and_what_was_expected(text, message):
    with pytest.raises(Exception, match=message):
        mkvxml.parse(text)


def test_unknown_elements_are_noted_never_silently_dropped():
    text = ("<Chapters><EditionEntry><Surprise/>\n<ChapterAtom><ChapterTimeStart>0:00:00</ChapterTimeStart>\n"
            "<Extra>x</Extra></ChapterAtom></EditionEntry></Chapters>")
    result = mkvxml.parse(text)
    assert [(d.lineno, d.code, d.line) for d in result.diagnostics] == [
        (1, "not_kept", "<Surprise>"), (3, "not_kept", "<Extra>")]


def test_write_warns_about_what_xml_cannot_hold():
    chapters = ChapterList((Chapter(0, None, "bell\x07", img="https://x/i.png"),), "Show")
    text, warnings = formats.render_checked(chapters, "mkvxml")
    assert "<ChapterString>bell</ChapterString>" in text
    assert any("control characters" in w for w in warnings)
    assert any("the list title 'Show'" in w for w in warnings)
    assert any("image/link" in w for w in warnings)


def test_detect_wants_a_chapters_root():
    assert mkvxml.detect('\ufeff<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE Chapters SYSTEM "x.dtd">\n<Chapters>')
    assert not mkvxml.detect("<Tags><Chapters/></Tags>")
    assert not mkvxml.detect("CHAPTER01=00:00:00.000")


# -- hypothesis: any structure, written and read back, is the same structure ------------------

_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff",
                                  max_codepoint=0x2FFFF).filter(lambda c: c >= " " or c in "\t\n\r"), max_size=20)
_LANG = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=2, max_size=8)
_UID = st.one_of(st.none(), st.integers(1, 2**64 - 1))
_TIME = st.integers(0, 10**15)
_MOSTLY_FALSE = st.sampled_from([False, False, False, True])


@st.composite
def _atom(draw, depth=0):
    start = draw(_TIME)
    end = draw(st.one_of(st.none(), st.integers(start, start + 10**12)))
    displays = draw(st.lists(st.builds(Display, _XML_TEXT, st.lists(_LANG, max_size=2).map(tuple),
                                       st.lists(_LANG, max_size=2).map(tuple), st.lists(_LANG, max_size=1).map(tuple)),
                             max_size=3))
    children = draw(st.lists(_atom(depth + 1), max_size=2)) if depth < 1 else []
    return Atom(draw(_UID), start, end, draw(_MOSTLY_FALSE), not draw(_MOSTLY_FALSE), tuple(displays), tuple(children),
                draw(st.one_of(st.none(), _XML_TEXT)), draw(st.one_of(st.none(), st.binary(min_size=16, max_size=16))),
                draw(st.one_of(st.none(), st.integers(0, 2**64 - 1))), draw(st.one_of(st.none(), st.integers(0, 70))),
                draw(st.one_of(st.none(), st.integers(0, 6))), tuple(draw(st.lists(st.integers(1, 99), max_size=2))))


_EDITION = st.builds(Edition, _UID, _MOSTLY_FALSE, st.booleans(), st.booleans(),
                     st.lists(_atom(), min_size=1, max_size=3).map(tuple),
                     st.lists(st.builds(EditionDisplay, _XML_TEXT, st.lists(_LANG, max_size=2).map(tuple)),
                              max_size=2).map(tuple))


@settings(max_examples=100, deadline=None)
@given(st.lists(_EDITION, min_size=1, max_size=2), st.one_of(st.none(), _LANG))
def test_round_trip_keeps_every_edition_atom_display_flag_and_uid(editions, language):
    chapters = ChapterList.from_editions(editions, language=language)
    assume(len(chapters) > 0)
    text, warnings = formats.render_checked(chapters, "mkvxml")
    assert warnings == ()
    back = formats.parse(text, "mkvxml", ParseOptions(language=language)).chapters
    assert back.editions == chapters.editions
    assert back == chapters
    assert formats.detect(text, "x.xml").name == "mkvxml"


@pytest.mark.parametrize("element", ["<ChapterUID>" + "9" * 5000 + "</ChapterUID>",
                                     "<ChapterTimeStart>" + "9" * 5000 + ":00:00</ChapterTimeStart>"])
def test_absurd_numbers_are_errors_naming_the_line_not_crashes(element):
    text = f"<Chapters><EditionEntry><ChapterAtom>\n{element}</ChapterAtom></EditionEntry></Chapters>"
    with pytest.raises(SourceError, match="line 2: "):
        mkvxml.parse(text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**14), st.text(st.characters(blacklist_categories=("Cs",)), max_size=15)),
                min_size=1, max_size=8),
       st.one_of(st.none(), st.text(max_size=5)))
def test_flat_round_trip_is_exact_except_what_a_warning_names(items, title):
    chapters = ChapterList.of(sorted(items), title=title)
    text, warnings = formats.render_checked(chapters, "mkvxml")
    back = formats.parse(text, "mkvxml").chapters
    cleaned = [mkvxml._NOT_XML.sub("", c.title) for c in chapters]
    assert back.titles == tuple(cleaned) and back.starts_ns == chapters.starts_ns
    assert [c.end_ns for c in back] == [c.end_ns for c in chapters]
    assert any("control characters" in w for w in warnings) == (list(chapters.titles) != cleaned)
    assert any("list title" in w for w in warnings) == bool(title)
