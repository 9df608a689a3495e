"""The Matroska structure on ChapterList: the flat view, equality, what a flat format loses."""

from __future__ import annotations

from chapterkit.model import (
    Atom, Chapter, ChapterList, Display, Edition, default_edition, flat_chapters, shown_atoms, structure_losses,
)

S = 1_000_000_000


def _atom(uid, start, title, **flags):
    return Atom(uid, start, None, displays=(Display(title),), **flags)


EDITIONS = (
    Edition(1, atoms=(_atom(10, 0, "First edition"),)),
    Edition(2, flag_default=True, atoms=(
        Atom(20, 0, 10 * S, displays=(Display("Intro", ("eng",), ("en-US",)), Display("Einleitung", ("ger",), ("de",))),
             children=(_atom(21, 2 * S, "Nested"),)),
        _atom(22, 10 * S, "Hidden", flag_hidden=True),
        _atom(23, 12 * S, "Disabled", flag_enabled=False),
        _atom(24, 20 * S, "Outro"),
    )),
)


def test_the_flat_view_is_what_a_player_shows():
    chapters = ChapterList.from_editions(EDITIONS)
    assert chapters.titles == ("Intro", "Outro")
    assert chapters.starts_ns == (0, 20 * S) and chapters[0].end_ns == 10 * S
    assert ChapterList.from_editions(EDITIONS, language="de").titles == ("Einleitung", "Outro")
    assert ChapterList.from_editions(EDITIONS, language="en").titles == ("Intro", "Outro")
    assert [a.uid for a in shown_atoms(EDITIONS)] == [20, 24]


def test_default_edition_follows_rfc_9559():
    hidden_default = (Edition(1, flag_hidden=True, flag_default=True), Edition(2), Edition(3, flag_default=True))
    assert default_edition(hidden_default).uid == 3
    assert default_edition((Edition(1), Edition(2))).uid == 1
    assert default_edition((Edition(1, flag_hidden=True),)) is None
    assert flat_chapters((Edition(1, flag_hidden=True, atoms=(_atom(1, 0, "x"),)),)) == ()


def test_structure_is_left_out_of_equality_so_flat_lists_from_any_source_still_compare_equal():
    structured = ChapterList.from_editions(EDITIONS)
    flat = ChapterList((Chapter(0, 10 * S, "Intro"), Chapter(20 * S, None, "Outro")))
    assert structured == flat and hash(structured) == hash(flat)
    assert structured.editions == EDITIONS and flat.editions == ()


def test_list_methods_keep_the_structure_unless_the_chapters_are_replaced():
    chapters = ChapterList.from_editions(EDITIONS)
    assert chapters.with_duration(30 * S).editions == EDITIONS
    assert chapters.with_title("T").editions == EDITIONS
    assert chapters.replace_chapters(chapters.chapters).editions == ()
    assert chapters.without_ends().editions == ()


def test_structure_losses_name_what_a_flat_format_cannot_hold():
    assert structure_losses(EDITIONS) == ("1 other edition(s)", "1 nested chapter(s)", "1 hidden chapter(s)",
                                          "1 disabled chapter(s)", "1 title(s) in other languages", "UIDs")
    assert ChapterList.of([(0, "a")]).structure_losses == ()
    plain = (Edition(None, atoms=(Atom(None, 0, None, displays=(Display("a"),)),)),)
    assert structure_losses(plain) == ()


def test_display_language_matching():
    display = Display("x", ("ger",), ("de-CH",))
    assert display.speaks("de") and display.speaks("de-ch") and display.speaks("ger") and not display.speaks("en")
    assert Display("x").speaks("eng") and Display("x").language == "eng"
