"""Our ``ogm`` and ``mkvxml`` against the tools that define them: mkvmerge reads them, mkvextract writes them.

Each test muxes a tiny committed MKV (``fixtures/media/mkv-no-chapters.mkv``, 2 s) with
``mkvmerge --chapters OUR_FILE``, extracts the chapters again with ``mkvextract``
(XML, and ``--simple`` for OGM) and reads that back with our parsers; our own
Matroska reader must see the same flat list in the file.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from chapterkit import formats
from chapterkit.containers.matroska import read_editions, read_matroska
from chapterkit.model import Atom, ChapterList, Display, Edition
from conftest import fixture_path, require_tool

S = 1_000_000_000
MS = 1_000_000


def mux(tmp_path, chapter_text: str, suffix: str):
    mkvmerge = require_tool("mkvmerge")
    source = tmp_path / f"chapters{suffix}"
    source.write_text(chapter_text, encoding="utf-8")
    out = tmp_path / "out.mkv"
    done = subprocess.run([mkvmerge, "-q", "-o", str(out), "--chapters", str(source),
                           str(fixture_path("media", "mkv-no-chapters.mkv"))], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def extract(media, *simple: str) -> str:
    mkvextract = require_tool("mkvextract")
    done = subprocess.run([mkvextract, str(media), "chapters", *simple, "-"], capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("utf-8")


FLAT = ChapterList.of([(0, "Intro"), (250 * MS, "Ça & <ça> = là"), (750 * MS, "章 three"),
                       (1500 * MS, "  leading blanks")], duration_ns=2 * S)


def test_mkvmerge_takes_our_ogm_and_mkvextract_gives_our_list_back_in_both_forms(tmp_path):
    media = mux(tmp_path, formats.render(FLAT, "ogm"), ".txt")
    simple = extract(media, "--simple")
    assert formats.detect(simple, "x.txt").name == "ogm"
    assert formats.parse(simple, "ogm").chapters.with_duration(2 * S) == FLAT
    assert formats.parse(extract(media), "mkvxml").chapters.without_ends().with_duration(2 * S) == FLAT
    assert read_matroska(media).chapters.without_ends().with_duration(2 * S) == FLAT


def test_ogm_numbers_past_99_go_through_mkvmerge(tmp_path):
    chapters = ChapterList.of([(i * 10 * MS, f"Part {i + 1}") for i in range(120)])
    media = mux(tmp_path, formats.render(chapters, "ogm"), ".txt")
    simple = extract(media, "--simple")
    assert "CHAPTER120=00:00:01.190\nCHAPTER120NAME=Part 120\n" in simple
    assert formats.parse(simple, "ogm").chapters == chapters


def _display(text: str, iso: str, ietf: str) -> Display:
    # Complete as mkvmerge stores them, so nothing is added on the way (it adds eng/en where absent).
    return Display(text, (iso,), (ietf,))


STRUCTURE = (
    Edition(111, flag_default=False, atoms=(
        Atom(11, 0, 500 * MS, displays=(_display("E1 first", "eng", "en"),)),
        Atom(12, 500 * MS + 1, None, displays=(_display("E1 second", "eng", "en"),)),
    )),
    Edition(222, flag_default=True, flag_ordered=False, atoms=(
        Atom(21, 0, S, displays=(_display("Intro", "eng", "en"), _display("Einleitung", "ger", "de")), children=(
            Atom(211, 250 * MS, 750 * MS, displays=(_display("Nested", "eng", "en"),), children=(
                Atom(2111, 300 * MS, 400 * MS, displays=(_display("Deeper", "eng", "en"),)),)),)),
        Atom(22, S, None, flag_hidden=True, displays=(_display("Hidden", "eng", "en"),)),
        Atom(23, 1250 * MS, None, flag_enabled=False, displays=(_display("Disabled", "eng", "en"),)),
        Atom(24, 1500 * MS, 2 * S, displays=(_display("Outro & <end>", "eng", "en"),)),
    )),
)


def test_mkvmerge_takes_our_mkvxml_and_mkvextract_gives_back_the_same_editions_and_nesting(tmp_path):
    chapters = ChapterList.from_editions(STRUCTURE)
    media = mux(tmp_path, formats.render(chapters, "mkvxml"), ".xml")
    back = formats.parse(extract(media), "mkvxml").chapters
    assert back.editions == STRUCTURE
    assert back == chapters and back.titles == ("Intro", "Outro & <end>")
    # Our container reader sees the same structure and the same player view in the file.
    assert read_editions(media).editions == STRUCTURE
    assert read_matroska(media).chapters.chapters == chapters.chapters
    # --simple is mkvextract's flat view: every edition's shown top-level chapters, by start.
    simple = formats.parse(extract(media, "--simple"), "ogm").chapters
    assert simple.titles == ("E1 first", "Intro", "E1 second", "Outro & <end>")


def test_what_mkvextract_writes_for_the_committed_two_edition_file_reads_whole(tmp_path):
    require_tool("mkvextract")
    media = fixture_path("media", "mkv-two-editions-nested.mkv")
    xml = formats.parse(extract(media), "mkvxml").chapters
    assert xml.titles == ("Intro", "Outro") and len(xml.editions) == 2
    assert xml.editions[1].atoms[0].children[0].title == "Intro nested"
    assert [a.uid for a in xml.editions[1].atoms] == [21, 22, 23, 24]
    # Written again by us and muxed again by mkvmerge: the same structure comes out.
    again = formats.parse(extract(mux(tmp_path, formats.render(xml, "mkvxml"), ".xml")), "mkvxml").chapters
    assert again.editions == xml.editions
    simple = formats.parse(extract(media, "--simple"), "ogm").chapters
    assert simple.titles == ("E1 first", "Intro", "E1 second", "Outro")


@pytest.mark.parametrize("name", ["ogm", "mkvxml"])
def test_conversion_through_the_cli_feeds_mkvmerge(tmp_path, name):
    source = tmp_path / "in.txt"
    source.write_text("0:00 Intro\n0:15 Middle part\n1:30 Outro\n", encoding="utf-8")
    out = tmp_path / f"out.{name}"
    done = subprocess.run([sys.executable, "-m", "chapterkit", "convert", str(source), "--to", name, "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    media = mux(tmp_path, out.read_text("utf-8"), ".xml" if name == "mkvxml" else ".txt")
    assert read_matroska(media).chapters.titles == ("Intro", "Middle part", "Outro")
