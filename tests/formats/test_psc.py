"""Podlove Simple Chapters: golden files (standalone, RSS, Atom), every NPT form, XML attacks refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from chapterkit import formats
from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import psc
from chapterkit.model import NS_PER_MS, Chapter, ChapterList
from formats.goldens import ROOT, S, chapter_lists, check_golden, golden_params, lost


@pytest.mark.parametrize("path", golden_params("psc"))
def test_golden(path):
    check_golden("psc", path)


def test_goldens_cover_the_named_edge_cases():
    names = {p.name.split(".")[0] for p in (ROOT / "psc").iterdir()}
    assert {"standalone", "rss_item", "atom_entry", "billion_laughs", "external_entity", "crlf_bom",
            "utf16", "bad_npt"} <= names


@pytest.mark.parametrize(("npt", "ns"), [
    ("0", 0), ("12", 12 * S), ("12.5", 12 * S + S // 2), ("12.", 12 * S), ("1:30", 90 * S),
    ("01:30.250", 90 * S + S // 4), ("1:02:03", 3723 * S), ("01:02:03.004", 3723 * S + 4 * NS_PER_MS),
    ("100:00:00", 360_000 * S), ("0.0000000005", 1), (" 7 ", 7 * S),
])
def test_normal_play_time_forms(npt, ns):
    assert psc.npt_ns(npt, "start") == ns


@pytest.mark.parametrize("npt", ["", "1:60", "1:61:00", "a", "-1", "1::2", "1:2:3:4", "1e3"])
def test_bad_normal_play_times(npt):
    with pytest.raises(SourceError, match="Normal Play Time"):
        psc.npt_ns(npt, "start")


def test_attacks_are_refused_without_expansion():
    for case in ("billion_laughs", "external_entity"):
        with pytest.raises(SourceError, match="refused XML"):
            psc.parse((ROOT / "psc" / f"{case}.psc").read_text("utf-8"))


def test_no_chapter_list():
    with pytest.raises(NoChaptersError, match="no <chapters> element"):
        psc.parse("<rss><channel/></rss>")


def test_render_is_a_standalone_document_with_links():
    chapters = ChapterList((Chapter(0, None, 'A & "B"', "https://i", "https://u"), Chapter(90 * S, None, "C")))
    text, warnings = psc.render_checked(chapters)
    assert text.splitlines()[2] == ("  <psc:chapter start=\"00:00:00.000\" title='A &amp; \"B\"' "
                                    "href=\"https://u\" image=\"https://i\"/>")
    assert warnings == ()
    assert psc.parse(text).chapters == chapters


@settings(max_examples=200, deadline=None)
@given(chapter_lists(links=True, sorted_starts=False))
def test_round_trip(chapters):
    text, warnings = psc.render_checked(chapters)
    back = psc.parse(text).chapters

    def norm(value):
        return None if value is None else (psc.normalize_title(value) or None)
    rows = [Chapter((c.start_ns + NS_PER_MS // 2) // NS_PER_MS * NS_PER_MS, None, psc.normalize_title(c.title),
                    norm(c.img), norm(c.url)) for c in chapters]
    assert back == ChapterList(tuple(sorted(rows, key=lambda c: c.start_ns)))
    if lost(chapters, back):
        assert warnings


def test_cli_convert_rss_item_to_audacity():
    done = CliRunner().invoke(cli, ["convert", str(ROOT / "psc" / "rss_item.xml"), "--to", "audacity"])
    assert done.exit_code == 0, done.output
    assert formats.parse(done.stdout, "audacity").chapters.starts_ns[:3] == (0, 12 * S, 90 * S)
    assert "resorted" in done.stderr
