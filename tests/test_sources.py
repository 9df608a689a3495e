"""Reading chapter files (encodings, format choice) and writing them atomically."""

from __future__ import annotations

import codecs
import io
import os
import sys

import pytest

from chapterkit import sources
from chapterkit.errors import ChapterkitError, NoChaptersError, SourceError
from conftest import fixture_path

FFMETA = fixture_path("ffmetadata", "basic.ffmeta").read_text(encoding="utf-8")
TITLES = ("Intro", "First Song", "Encore")


# -- decode ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    "Ünïcødé 🎬".encode("utf-8"),
    codecs.BOM_UTF8 + "Ünïcødé 🎬".encode("utf-8"),
    codecs.BOM_UTF16_LE + "Ünïcødé 🎬".encode("utf-16-le"),
    codecs.BOM_UTF16_BE + "Ünïcødé 🎬".encode("utf-16-be"),
], ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"])
def test_decode_reads_the_encodings_chapter_files_come_in(data):
    assert sources.decode(data) == "Ünïcødé 🎬"


def test_invalid_utf8_is_refused_in_one_line_naming_file_and_offset():
    with pytest.raises(SourceError) as caught:
        sources.decode(b"0:00 Caf\xe9\n0:10 Next\n", path="list.txt")
    assert str(caught.value) == "text is not valid utf-8 (bad byte at offset 8) while reading list.txt"


def test_broken_utf16_is_refused_naming_utf16():
    with pytest.raises(SourceError, match=r"not valid utf-16 .* while reading -"):
        sources.decode(codecs.BOM_UTF16_LE + "\ud800".encode("utf-16-le", "surrogatepass"))


# -- read_text and load --------------------------------------------------------------------------


def test_read_text_of_missing_file_and_of_a_folder(tmp_path):
    with pytest.raises(SourceError) as caught:
        sources.read_text(tmp_path / "nope.txt")
    assert str(caught.value) == f"No such file or directory while reading {tmp_path / 'nope.txt'}"
    with pytest.raises(SourceError, match="while reading"):
        sources.read_text(tmp_path)


def test_read_text_reads_stdin_bytes(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(codecs.BOM_UTF8 + b";FFMETADATA1\n")))
    assert sources.read_text("-") == ";FFMETADATA1\n"


def test_load_uses_the_extension_even_without_a_header(tmp_path):
    path = tmp_path / "chapters.ffmeta"
    path.write_text(FFMETA.replace(";FFMETADATA1\n", ""), encoding="utf-8")
    result = sources.load(path)
    assert result.chapters.titles == TITLES
    assert "missing_header" in [d.code for d in result.diagnostics]


def test_load_detects_the_format_when_the_extension_says_nothing(tmp_path):
    path = tmp_path / "chapters"
    path.write_text(FFMETA, encoding="utf-8")
    assert sources.load(path).chapters.titles == TITLES


def test_load_detects_ffmetadata_in_a_txt_file(tmp_path):
    path = tmp_path / "chapters.txt"
    path.write_text(FFMETA, encoding="utf-8")
    assert sources.load(path).chapters.titles == TITLES


def test_load_reads_utf16_with_bom_and_honours_a_named_format(tmp_path):
    path = tmp_path / "premiere-export.dat"
    path.write_bytes(codecs.BOM_UTF16_LE + FFMETA.encode("utf-16-le"))
    assert sources.load(path, "ffmetadata").chapters.titles == TITLES


def test_load_errors_name_the_file_and_the_verb(tmp_path):
    path = tmp_path / "empty.ffmeta"
    path.write_text(";FFMETADATA1\ntitle=nothing else\n", encoding="utf-8")
    with pytest.raises(NoChaptersError) as caught:
        sources.load(path)
    assert str(caught.value) == f"no chapters found while parsing {path}"
    assert caught.value.exit_code == 1


# -- write_text_atomic ---------------------------------------------------------------------------


def test_write_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "out.ffmeta"
    target.write_text("old", encoding="utf-8")
    sources.write_text_atomic(target, "new é\nline\n")
    assert target.read_bytes() == "new é\nline\n".encode("utf-8")
    assert os.listdir(tmp_path) == ["out.ffmeta"]


def test_write_to_a_missing_folder_or_through_a_file_is_a_chapterkit_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for target, reason in ((tmp_path / "missing" / "out.txt", "No such file or directory"),
                           (blocker / "out.txt", "Not a directory")):
        with pytest.raises(ChapterkitError) as caught:
            sources.write_text_atomic(target, "text")
        assert str(caught.value) == f"{reason} while writing {target}"
    assert sorted(os.listdir(tmp_path)) == ["a-file"]


def test_write_failing_at_the_rename_removes_its_temporary_file(tmp_path):
    folder_in_the_way = tmp_path / "out.txt"
    folder_in_the_way.mkdir()
    with pytest.raises(ChapterkitError, match="while writing"):
        sources.write_text_atomic(folder_in_the_way, "text")
    assert os.listdir(tmp_path) == ["out.txt"]


def test_write_dash_goes_to_stdout(capsys):
    sources.write_text_atomic("-", "to stdout\n")
    assert capsys.readouterr().out == "to stdout\n"
