"""CUE sheets: golden files from the CUE command set, the writer's limits, cuebreakpoints reading ours."""

from __future__ import annotations

import subprocess

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import cue
from chapterkit.model import ChapterList
from conftest import require_tool
from formats.goldens import ROOT, S, chapter_lists, check_golden, golden_params, lost


@pytest.mark.parametrize("path", golden_params("cue"))
def test_golden(path):
    check_golden("cue", path)


def test_goldens_cover_the_named_edge_cases():
    names = {p.name.split(".")[0] for p in (ROOT / "cue").iterdir()}
    assert {"album", "long_mix", "two_files", "as_written", "crlf_bom", "utf16", "bad_frames"} <= names


def test_a_cue_sheet_is_no_longer_read_as_a_description():
    text = (ROOT / "cue" / "album.cue").read_text("utf-8")
    assert formats.detect(text).name == "cue"
    assert "INDEX 01" not in formats.parse(text).chapters.titles


def test_frames_are_75_a_second_and_minutes_pass_99():
    result = cue.parse('FILE "a" WAVE\nTRACK 1 AUDIO\nINDEX 01 100:00:01\n')
    assert result.chapters.starts_ns == (6000 * S + S // 75,)


def test_malformed_lines_name_the_line():
    with pytest.raises(SourceError, match="line 3: expected a time mm:ss:ff"):
        cue.parse('FILE "a" WAVE\nTRACK 01 AUDIO\nINDEX 01 0:00\n')
    with pytest.raises(NoChaptersError):
        cue.parse('FILE "a" WAVE\nTRACK 01 AUDIO\nINDEX 00 00:00:00\n')


def test_render_rounds_to_frames_and_keeps_99_tracks_with_warnings():
    chapters = ChapterList.of((index * S + 1, f"T{index}") for index in range(120))
    text, warnings = cue.render_checked(chapters)
    assert text.count("TRACK ") == 99
    codes = [w.code for w in warnings]
    assert codes.count("too_many_tracks") == 1 and "rounded" in codes
    assert "21 chapter(s) not written" in next(w.message for w in warnings if w.code == "too_many_tracks")


def test_render_replaces_double_quotes_with_a_warning():
    text, warnings = cue.render_checked(ChapterList.of([(0, 'a "b"')], title="Disc"))
    assert 'TITLE "a \'b\'"' in text and text.startswith('TITLE "Disc"\n')
    assert [w.code for w in warnings] == ["title_changed"]


@settings(max_examples=200, deadline=None)
@given(chapter_lists(max_size=6))
def test_round_trip(chapters):
    text, warnings = cue.render_checked(chapters)
    back = cue.parse(text).chapters
    expected = ChapterList.of(((cue.frame_ns(c.start_ns), cue.normalize_title(c.title)) for c in chapters),
                              title=None if chapters.title is None else cue.normalize_title(chapters.title))
    assert back == expected
    if lost(chapters, back):
        assert warnings


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(0, 10**13), min_size=2, max_size=12, unique=True).map(sorted))
def test_cuebreakpoints_reads_our_starts(tmp_path_factory, starts):
    tool = require_tool("cuebreakpoints")
    path = tmp_path_factory.mktemp("cue") / "list.cue"
    path.write_text(cue.render(ChapterList.of((s, f"t{i}") for i, s in enumerate(starts))), encoding="utf-8")
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True)
    # cuebreakpoints prints every track start but the first, as m:ss.ff (ff in frames), and no
    # breakpoint at 0:00.00 (a track that starts there splits nothing).
    frames = []
    for line in done.stdout.split():
        minutes, rest = line.split(":")
        seconds, frame = rest.split(".")
        frames.append((int(minutes) * 60 + int(seconds)) * 75 + int(frame))
    ours = [round(s * 75 / S) for s in starts[1:]]
    assert frames == [f for f in ours if f > 0]


def test_cli_convert_cue_to_podcast(tmp_path):
    source = ROOT / "cue" / "album.cue"
    done = CliRunner().invoke(cli, ["convert", str(source), "--to", "podcast", "-o", str(tmp_path / "c.json")])
    assert done.exit_code == 0, done.output
    back = formats.parse((tmp_path / "c.json").read_text("utf-8"))
    assert back.chapters.titles == ("First Song", "Second Song", "Third Song")
    assert back.chapters.starts_ns == cue.parse(source.read_text("utf-8")).chapters.starts_ns


def test_cli_warns_on_stderr_for_what_cue_cannot_hold(tmp_path):
    source = tmp_path / "long.chapters.json"
    source.write_text(formats.render(ChapterList.of((i * S, f"T{i}") for i in range(120)), "podcast"))
    for command in ("convert", "parse"):
        done = CliRunner().invoke(cli, [command, str(source), "--to", "cue"])
        assert done.exit_code == 0, done.output
        assert done.stdout.count("TRACK ") == 99
        assert "warning: cue: a CUE sheet holds 99 tracks: 21 chapter(s) not written" in done.stderr


def test_render_checked_of_a_format_without_limits_has_no_warnings():
    text, warnings = formats.render_checked(ChapterList.of([(0, "a")]), "json")
    assert warnings == () and text == formats.render(ChapterList.of([(0, "a")]), "json")
