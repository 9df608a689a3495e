"""``chapterkit convert`` between formats with edits, and the options every chapter-source command shares."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from chapterkit import formats
from chapterkit.cli import cli
from conftest import fixture_path

DESCRIPTION = "0:00 Intro\n0:30 Sponsor\n1:00 Talk\n5:00 Outro\n"


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_convert_between_any_two_writable_formats():
    for source_format in formats.writable():
        text = invoke("convert", "-", "--to", source_format, "--duration", "6:00", input=DESCRIPTION).stdout
        for target in formats.writable():
            done = invoke("convert", "-", "--from", source_format, "--to", target, "--duration", "6:00", input=text)
            assert done.exit_code == 0, (source_format, target, done.output)
            back = formats.parse(done.stdout, target).chapters
            assert back.titles == ("Intro", "Sponsor", "Talk", "Outro"), (source_format, target)


def test_convert_edits_with_notes_on_stderr():
    done = invoke("convert", "-", "--to", "ogm", "--drop", "spon*", "--shift", "-30", "--rename", "3=Q&A",
                  input=DESCRIPTION)
    assert done.exit_code == 0, done.output
    assert done.stdout == ("CHAPTER01=00:00:00.000\nCHAPTER01NAME=Intro\nCHAPTER02=00:00:30.000\nCHAPTER02NAME=Q&A\n"
                           "CHAPTER03=00:04:30.000\nCHAPTER03NAME=Outro\n")
    assert "note: chapter 2 'Sponsor' at 0:00:30.000 dropped: --drop 'spon*'" in done.stderr


def test_convert_to_webvtt_takes_duration_after_the_edits():
    done = invoke("convert", "-", "--to", "webvtt", "--clip", "0:30-4:00", "--duration", "3:00", input=DESCRIPTION)
    assert done.exit_code == 0, done.output
    assert "00:00:30.000 --> 00:03:00.000\nTalk" in done.stdout
    assert "'Outro'" in done.stderr  # outside the clip: a note, never silent


def test_scale_and_fill_titles():
    done = invoke("convert", "-", "--from", "ogm", "--to", "ogm", "--scale", "25:24000/1001", "--fill-titles",
                  "Chapter {n}", input="CHAPTER01=00:00:00.000\nCHAPTER01NAME=\nCHAPTER02=00:01:00.000\n"
                  "CHAPTER02NAME=B\n")
    assert done.exit_code == 0, done.output
    assert done.stdout == "CHAPTER01=00:00:00.000\nCHAPTER01NAME=Chapter 1\nCHAPTER02=00:01:02.563\nCHAPTER02NAME=B\n"


def test_writing_a_flat_format_from_mkvxml_warns_what_is_not_kept_and_mkvxml_keeps_it_all():
    source = str(fixture_path("media", "mkv-two-editions-nested.xml"))
    done = invoke("convert", source, "--to", "ogm")
    assert done.exit_code == 0 and done.stdout.count("NAME=") == 2
    assert "warning: ogm holds only the chapters a player shows; not kept: 1 other edition(s)" in done.stderr
    again = invoke("convert", source, "--to", "mkvxml")
    assert again.exit_code == 0 and "warning" not in again.stderr
    assert formats.parse(again.stdout, "mkvxml").chapters.editions == formats.parse(
        fixture_path("media", "mkv-two-editions-nested.xml").read_text("utf-8"), "mkvxml").chapters.editions
    german = invoke("parse", source, "--language", "de")
    assert "Einleitung" in german.stdout


def test_rules_basic_reads_a_podcast_list_youtube_would_refuse_and_youtube_output_warns():
    text = "0:05 Opening credits\n0:09 Episode\n"
    assert invoke("parse", "-", input=text).exit_code == 1
    done = invoke("convert", "-", "--rules", "basic", "--to", "youtube", input=text)
    assert done.exit_code == 0
    assert done.stdout == "0:05 Opening credits\n0:09 Episode\n"
    assert "warning: youtube: first chapter at 0:05; YouTube needs 0:00" in done.stderr
    assert "line 1: warning: first chapter starts at 0:05" in done.stderr


def test_help_lists_the_format_names_and_to_lists_only_writable_ones():
    for command in ("parse", "convert", "verify", "embed"):
        text = invoke(command, "--help").stdout
        for option in ("--from", "--fps", "--duration", "--rules", "--lenient", "--language", "--timeline-start",
                       "--marker-color"):
            assert option in text, (command, option)
        assert "ogm|mkvxml" in text
    assert "--to [" in invoke("convert", "--help").stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--shift", "soon"], "--shift 'soon'"), (["--scale", "25"], "give FROM:TO"), (["--clip", "9-3"], "--clip end"),
    (["--rename", "x"], "give N=TITLE"), (["--rename", "9=x"], "there are chapters 1 to 4"),
    (["--fill-titles", "Chapter"], "has no {n}"), (["--fps", "0"], "--fps '0' is not a positive number"),
])
def test_bad_edit_options_are_usage_errors(args, message):
    done = CliRunner().invoke(cli, ["convert", "-", "--to", "json", *args], input=DESCRIPTION)
    assert done.exit_code == 2 and message in done.output


def test_an_ambiguous_file_names_the_candidates_and_from(tmp_path, monkeypatch):
    import types

    ogm = formats.FORMATS["ogm"]
    monkeypatch.setitem(formats.FORMATS, "twin", types.SimpleNamespace(
        name="twin", extensions=(".txt",), summary="t", detect=ogm.detect, parse=ogm.parse, render=None))
    source = tmp_path / "chapters.txt"
    source.write_text("CHAPTER01=00:00:00.000\nCHAPTER01NAME=A\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["parse", str(source)])
    assert done.exit_code == 2
    assert "could be any of ogm, twin; name one with --from" in done.output


def test_show_exports_an_mkv_files_whole_structure_as_mkvxml():
    media = str(fixture_path("media", "mkv-two-editions-nested.mkv"))
    done = invoke("show", media, "--reader", "matroska", "--to", "mkvxml")
    assert done.exit_code == 0 and "warning" not in done.stderr
    exported = formats.parse(done.stdout, "mkvxml").chapters
    # What mkvextract writes for the same file (mkvmerge added eng/en and the US country on muxing).
    extracted = fixture_path("formats", "mkvxml", "mkvextract_two_editions_nested.xml").read_bytes().decode("utf-8-sig")
    assert exported.editions == formats.parse(extracted, "mkvxml").chapters.editions


def test_rules_basic_with_lenient_sorts_but_drops_nothing():
    text = "0:00 Intro\n0:05 Short\n0:03 Earlier\n0:03 Same start\n"
    done = invoke("parse", "-", "--rules", "basic", "--lenient", "--to", "json", input=text)
    assert done.exit_code == 0, done.output
    assert formats.parse(done.stdout, "json").chapters.titles == ("Intro", "Earlier", "Same start", "Short")
    assert "moved into place" in done.stderr
    assert invoke("parse", "-", "--rules", "basic", input=text).exit_code == 1  # out of order: not YouTube's rule
