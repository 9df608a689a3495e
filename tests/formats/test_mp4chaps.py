"""mp4chaps: golden files written from mp4v2's chapter text rules, the writer's limits, a round trip."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import mp4chaps
from chapterkit.model import NS_PER_MS, Chapter, ChapterList
from formats.goldens import ROOT, S, chapter_lists, check_golden, golden_params, lost


@pytest.mark.parametrize("path", golden_params("mp4chaps"))
def test_golden(path):
    check_golden("mp4chaps", path)


def test_goldens_cover_the_named_edge_cases():
    names = {p.name.split(".")[0] for p in (ROOT / "mp4chaps").iterdir()}
    assert {"header_2_1", "crlf_bom", "utf16", "as_written", "one_chapter", "skipped_lines", "bad_time"} <= names


def test_comment_header_and_inner_spaces():
    result = mp4chaps.parse("## total-duration: 00:01:00.000\n00:00:00.000 a  b\t c \n# 00:00:30.000 not one\n")
    assert result.chapters.titles == ("a  b\t c",)
    assert result.chapters.duration_ns == 60 * S


def test_stray_bom_and_crlf_in_text():
    text = "\ufeff00:00:00.000 A\r\n00:00:01.500 B\r\n"
    assert mp4chaps.detect(text)
    assert mp4chaps.parse(text).chapters.starts_ns == (0, 1500 * NS_PER_MS)


def test_bad_time_names_the_line():
    with pytest.raises(SourceError, match="line 2: expected 'HH:MM:SS.mmm Title'"):
        mp4chaps.parse("00:00:00.000 A\n1:2:3 B\n")
    with pytest.raises(NoChaptersError):
        mp4chaps.parse("# nothing\n")


def test_description_stamps_are_not_claimed():
    assert not mp4chaps.detect("00:00 Intro\n01:30 Verse\n")
    assert not mp4chaps.detect("00:00:00 Intro\n00:01:30 Verse\n")


def test_render_writes_ms_and_the_duration_header():
    chapters = ChapterList((Chapter(0, None, "Intro"), Chapter(72_709 * NS_PER_MS, None, "Second  song")),
                           duration_ns=2_317_034 * NS_PER_MS)
    text, warnings = mp4chaps.render_checked(chapters)
    assert text == "## total-duration: 00:38:37.034\n00:00:00.000 Intro\n00:01:12.709 Second  song\n"
    assert warnings == ()


def test_render_warns_for_what_it_cannot_keep():
    chapters = ChapterList((Chapter(1, 5 * S, " two\nlines "), Chapter(10 * S, None, "x" * 2000)))
    _, warnings = mp4chaps.render_checked(chapters)
    assert {w.code for w in warnings} == {"rounded", "title_changed", "end_not_kept"}
    assert all(w.severity == "warning" for w in warnings)


@settings(max_examples=200, deadline=None)
@given(chapter_lists())
def test_round_trip(chapters):
    text, warnings = mp4chaps.render_checked(chapters)
    back = mp4chaps.parse(text).chapters
    rounded = [(c.start_ns + NS_PER_MS // 2) // NS_PER_MS * NS_PER_MS for c in chapters]
    duration = None if chapters.duration_ns is None else \
        (chapters.duration_ns + NS_PER_MS // 2) // NS_PER_MS * NS_PER_MS
    if duration is not None and duration < max(rounded):
        duration = None
    expected = ChapterList.of(zip(rounded, (mp4chaps.normalize_title(c.title) for c in chapters)),
                              duration_ns=duration)
    assert back == expected
    if lost(chapters, back):
        assert warnings


def test_cli_convert_cue_to_mp4chaps(tmp_path):
    source = tmp_path / "album.cue"
    source.write_text('FILE "a.wav" WAVE\n  TRACK 01 AUDIO\n    TITLE "One"\n    INDEX 01 00:00:00\n'
                      '  TRACK 02 AUDIO\n    TITLE "Two"\n    INDEX 01 01:30:37\n')
    done = CliRunner().invoke(cli, ["convert", str(source), "--to", "mp4chaps"])
    assert done.exit_code == 0, done.output
    assert done.stdout == "00:00:00.000 One\n00:01:30.493 Two\n"
    assert "rounded" in done.stderr  # 37 frames is not a whole millisecond
