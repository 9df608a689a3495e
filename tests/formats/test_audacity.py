"""Audacity label tracks: golden files, point and region labels, spectral lines, a round trip."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from chapterkit import formats
from chapterkit.cli import cli
from chapterkit.errors import SourceError
from chapterkit.formats import audacity
from chapterkit.model import Chapter, ChapterList
from formats.goldens import ROOT, S, chapter_lists, check_golden, golden_params, lost

US = 1000


@pytest.mark.parametrize("path", golden_params("audacity"))
def test_golden(path):
    check_golden("audacity", path)


def test_goldens_cover_the_named_edge_cases():
    names = {p.name.split(".")[0] for p in (ROOT / "audacity").iterdir()}
    assert {"labels", "as_written", "crlf_bom", "utf16", "bad_line", "end_before_start"} <= names


def test_point_label_has_no_end_and_region_label_keeps_it():
    result = audacity.parse("1.000000\t1.000000\tpoint\n2.000000\t7.500000\tregion\n")
    assert result.chapters[0] == Chapter(S, 2 * S, "point")  # no end of its own: ends at the next start
    assert result.chapters[1] == Chapter(2 * S, 7 * S + S // 2, "region")


def test_spectral_line_is_noted_not_read():
    result = audacity.parse("0.000000\t1.000000\tA\n\\\t100.000000\t8000.000000\n")
    assert len(result.chapters) == 1
    assert [(d.lineno, d.code) for d in result.diagnostics] == [(2, "spectral")]


def test_stray_bom_and_crlf_in_text():
    assert audacity.parse("\ufeff0.000000\t0.000000\tA\r\n").chapters.titles == ("A",)


def test_bad_lines_name_the_line():
    with pytest.raises(SourceError, match="line 2: expected 'start<TAB>end<TAB>label'"):
        audacity.parse("0\t0\ta\nx\ty\tz\n")
    with pytest.raises(SourceError, match="line 1: expected a spectral line"):
        audacity.parse("\\\tlow\thigh\n")


def test_render_writes_six_decimals_and_point_labels():
    chapters = ChapterList((Chapter(0, None, "Intro"), Chapter(12_500_000_000, None, "Talk")))
    text, warnings = audacity.render_checked(chapters)
    assert text == "0.000000\t12.500000\tIntro\n12.500000\t12.500000\tTalk\n"
    assert warnings == ()


def test_render_warns_for_what_it_cannot_keep():
    _, warnings = audacity.render_checked(ChapterList((Chapter(1, 1, "a\tb"),)))
    assert {w.code for w in warnings} == {"rounded", "zero_length", "title_changed"}


@settings(max_examples=200, deadline=None)
@given(chapter_lists())
def test_round_trip(chapters):
    text, warnings = audacity.render_checked(chapters)
    back = audacity.parse(text).chapters

    def us(ns):
        return (ns + US // 2) // US * US
    expected = []
    for chapter in chapters:
        end = chapter.start_ns if chapter.end_ns is None else chapter.end_ns
        expected.append(Chapter(us(chapter.start_ns), None if us(end) == us(chapter.start_ns) else us(end),
                                audacity.normalize_title(chapter.title)))
    assert back == ChapterList(tuple(expected))
    if lost(chapters, back) or any(c.end_ns is not None and b.end_ns != c.end_ns for c, b in zip(chapters, back)):
        assert warnings


def test_cli_convert_labels_to_cue(tmp_path):
    source = ROOT / "audacity" / "labels.txt"
    done = CliRunner().invoke(cli, ["convert", str(source), "--from", "audacity", "--to", "cue"])
    assert done.exit_code == 0, done.output
    assert formats.parse(done.stdout).chapters.titles == ("Intro", "Interview part one", "Point with tab", "")
    assert "title_changed" in done.stderr and "end_not_kept" in done.stderr
