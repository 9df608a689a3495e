"""reports: text, JSON, JUnit and GitHub renderings of hand-built verify reports, and ``show`` tables."""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET

import pytest

from chapterkit.containers import ReadResult
from chapterkit.errors import ChapterkitError, UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from chapterkit.reports import (
    GITHUB_ANNOTATIONS,
    SCHEMA,
    format_time,
    render,
    render_github,
    render_json,
    render_junit,
    render_markdown,
    render_show,
    render_table,
    render_text,
)
from chapterkit.verify import VerifyReport, compare

S = NS_PER_SECOND
MS = NS_PER_MS
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SOURCE = ChapterList.of([(0, "Intro"), (10 * S, "Two 章节"), (20 * S, "Three"), (30 * S, "Four")],
                        duration_ns=40 * S)


def read(reader: str, items, duration_ns: int = 40 * S) -> ReadResult:
    return ReadResult(reader, ChapterList.of(items, duration_ns=duration_ns), (f"{reader} note",))


def good_report() -> VerifyReport:
    readers = tuple(compare(SOURCE, ReadResult(name, SOURCE), MS) for name in ("quicktime", "nero", "libav"))
    return VerifyReport("talk.mp4", SOURCE, MS, readers, "mp4")


def bad_report() -> VerifyReport:
    """quicktime ok; nero: chapter 2 late, chapter 3 missing; libav: a cut title (a warning) and an extra."""
    cut = ChapterList.of([(0, "Intro"), (10 * S, "Two 章节"), (20 * S, "Three"), (30 * S, "x" * 300)],
                         duration_ns=40 * S)
    readers = (
        compare(SOURCE, ReadResult("quicktime", SOURCE), MS, container="mp4"),
        compare(SOURCE, read("nero", [(0, "Intro"), (13 * S, "Two 章节"), (30 * S, "Four")]), MS, container="mp4"),
        compare(cut, read("libav", [(0, "Intro"), (10 * S, "Two 章节"), (20 * S, "Three"), (25 * S, "Stray"),
                                    (30 * S, "x" * 255)]), MS, container="mp4"),
    )
    return VerifyReport("talk.mp4", SOURCE, MS, readers, "mp4")


def test_format_time_is_exact():
    assert format_time(0) == "0:00:00.000"
    assert format_time(3_723_004_500_000) == "1:02:03.005"  # half a ms rounds up
    assert format_time(None) == "-"


# -- text ----------------------------------------------------------------------------------------


def test_text_report_of_a_match():
    text = render_text(good_report())
    assert text.splitlines()[-1] == "OK: 4 chapters match in 3 readers (max drift 0.000 s)"
    assert text.count("#  title") == 3  # one table per reader
    assert "Two 章节" in text and "0:00:10.000" in text and not ANSI.search(text)


def test_text_report_of_a_failure_names_each_problem():
    text = render_text(bad_report())
    assert text.splitlines()[-1].startswith("FAIL: 2 of 3 readers disagree with the source: nero (1 missing, 1 drift)")
    assert "! 2: starts at 0:00:13.000, expected 0:00:10.000 (+3.000 s)" in text
    assert "! 3: missing: 'Three' at 0:00:20.000" in text
    assert "! +4: extra: 'Stray' at 0:00:25.000 is not in the source" in text
    assert "~ 4: title cut to 255 of 300 bytes (limit 255)" in text
    assert "· nero note" in text


def test_table_columns_line_up_with_wide_characters():
    lines = render_text(good_report()).splitlines()
    header = next(line for line in lines if line.lstrip().startswith("#"))
    row = next(line for line in lines if "Two 章节" in line)
    before = row[:row.index("0:00:10.000")]
    columns = sum(2 if unicodedata.east_asian_width(c) == "W" else 1 for c in before)
    assert columns == header.index("expected")  # "章节" takes four columns, not two


def test_color_marks_only_problem_rows():
    plain = render_text(bad_report())
    colored = render_text(bad_report(), color=True)
    assert ANSI.sub("", colored) == plain
    painted = [ANSI.sub("", line) for line in colored.splitlines() if ANSI.search(line)]
    assert any("missing" in line for line in painted)
    assert not any(line.strip().startswith("1 ") for line in painted)  # ok rows stay plain


# -- JSON ----------------------------------------------------------------------------------------


def test_json_schema_keys_and_types():
    data = json.loads(render_json(bad_report()))
    assert data["schema"] == SCHEMA == "chapterkit.verify/1"
    assert data["ok"] is False and data["exit_code"] == 1 and data["tolerance_ns"] == MS
    assert data["media"] == "talk.mp4" and data["container"] == "mp4"
    assert data["verdict"].startswith("FAIL: ")
    assert data["expected"] == {"count": 4, "title": None, "duration_ns": 40 * S}
    assert [r["reader"] for r in data["readers"]] == ["quicktime", "nero", "libav"]
    for reader in data["readers"]:
        assert set(reader) >= {"reader", "summary", "status", "ok", "expected_count", "actual_count", "duration_ns",
                               "unit_ns", "max_drift_ns", "problems", "warnings", "notes", "chapters"}
        assert reader["status"] in ("ok", "fail") and isinstance(reader["ok"], bool)
        assert all(isinstance(reader[k], int) for k in ("expected_count", "actual_count", "unit_ns",
                                                         "max_drift_ns"))
        for row in reader["chapters"]:
            assert row["status"] in ("ok", "drift", "title", "missing", "extra", "beyond_duration", "warning")
            for side in ("expected", "actual"):
                if row[side] is not None:
                    assert isinstance(row[side]["start_ns"], int) and isinstance(row[side]["title"], str)
                    assert row[side]["end_ns"] is None or isinstance(row[side]["end_ns"], int)
            assert row["drift_ns"] is None or isinstance(row["drift_ns"], int)
            assert isinstance(row["problems"], list) and isinstance(row["warnings"], list)
    nero = data["readers"][1]
    assert nero["status"] == "fail" and nero["max_drift_ns"] == 3 * S
    assert [row["status"] for row in nero["chapters"]] == ["ok", "drift", "missing", "ok"]
    missing = nero["chapters"][2]
    assert missing["actual"] is None and missing["drift_ns"] is None and missing["expected"]["start_ns"] == 20 * S
    extra = data["readers"][2]["chapters"][3]
    assert extra["status"] == "extra" and extra["expected"] is None and extra["expected_index"] is None


def test_json_keeps_unicode_and_is_valid_for_a_match():
    text = render_json(good_report())
    assert "Two 章节" in text
    assert json.loads(text)["ok"] is True


# -- JUnit ---------------------------------------------------------------------------------------


def test_junit_counts_and_structure():
    root = ET.fromstring(render_junit(bad_report()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["chapterkit.verify.quicktime", "chapterkit.verify.nero",
                                               "chapterkit.verify.libav"]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("4", "0"), ("4", "2"), ("5", "1")]
    assert root.get("tests") == "13" and root.get("failures") == "3"
    for suite in suites:
        assert len(suite.findall("testcase")) == int(suite.get("tests"))
        assert len(suite.findall("testcase/failure")) == int(suite.get("failures"))
    failure = suites[1].find("testcase/failure")
    assert failure.get("type") == "drift" and "+3.000 s" in failure.get("message")
    warned = [case for case in suites[2].findall("testcase") if case.find("system-out") is not None]
    assert len(warned) == 1 and "title cut to 255" in warned[0].find("system-out").text
    assert "libav note" in suites[2].find("system-out").text


def test_junit_survives_titles_xml_cannot_hold():
    source = ChapterList.of([(0, "bell \x07 & <tag> \"q\""), (5 * S, "line\nbreak")])
    report = VerifyReport("a&b.mkv", source, MS, (compare(source, ReadResult("matroska", source), MS),))
    root = ET.fromstring(render_junit(report))
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == ["chapter 1: bell \\x07 & <tag> \"q\"", "chapter 2: line\\nbreak"]
    assert root.find("testsuite/testcase").get("file") == "a&b.mkv"


# -- GitHub --------------------------------------------------------------------------------------


def many_problems(count: int) -> VerifyReport:
    source = ChapterList.of([(n * S, f"C{n}") for n in range(count)])
    moved = read("matroska", [(n * S + 500 * MS, f"C{n}") for n in range(count)], (count + 1) * S)
    return VerifyReport("m.mkv", source, MS, (compare(source, moved, MS),))


def test_github_annotations_are_capped_with_a_count():
    lines = render_github(many_problems(25)).splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == GITHUB_ANNOTATIONS == 10
    assert errors[-1] == "::error::16 more problems not shown"
    assert errors[0].startswith("::error file=m.mkv,title=chapterkit verify (matroska)::chapter 1 'C0': starts at")
    assert lines[-1].startswith("FAIL: ")


def test_github_shows_all_when_few():
    lines = render_github(many_problems(GITHUB_ANNOTATIONS)).splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 10 and not any("more problems" in line for line in errors)


def test_github_warnings_are_capped_separately():
    source = ChapterList.of([(n * S, "t" * 300 + str(n)) for n in range(12)])
    cut = read("nero", [(n * S, "t" * 255) for n in range(12)], 13 * S)
    report = VerifyReport("m.mp4", source, MS, (compare(source, cut, MS),))
    lines = render_github(report).splitlines()
    assert not [line for line in lines if line.startswith("::error")]
    warnings = [line for line in lines if line.startswith("::warning")]
    assert len(warnings) == 10 and warnings[-1] == "::warning::3 more warnings not shown"
    assert lines[-1].startswith("OK: 12 chapters match in 1 reader")


def test_github_escapes_workflow_commands():
    source = ChapterList.of([(0, "100% sure\nreally\r")])
    got = read("matroska", [(2 * S, "100% sure\nreally\r")], 5 * S)
    report = VerifyReport("dir,x/a:b%.mkv", source, MS, (compare(source, got, MS),))
    line = next(line for line in render_github(report).splitlines() if line.startswith("::error"))
    assert line.startswith("::error file=dir%2Cx/a%3Ab%25.mkv,title=chapterkit verify (matroska)::")
    message = line.split("::", 2)[2]
    assert "\n" not in message and "\r" not in message
    assert "100%25 sure" in message


def test_workflow_command_escaping_rules():
    from chapterkit.reports import _escape_data, _escape_property

    assert _escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert _escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"


def test_github_step_summary_is_appended(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    render_github(bad_report(), str(summary))
    render_github(good_report(), str(summary))
    text = summary.read_text()
    assert text.startswith("# earlier step\n")
    assert "### ❌ chapterkit verify: talk.mp4" in text and "### ✅ chapterkit verify: talk.mp4" in text
    assert "| nero | fail | 4 / 3 | 3.000 s | 3 | 0 |" in text  # the count, a drift, a missing chapter
    assert "| nero | 3 | Three | 0:00:20.000 | - | - | missing |" in text


def test_markdown_cells_cannot_break_the_table():
    source = ChapterList.of([(0, "a | b <script>\nc")])
    report = VerifyReport("m.mkv", source, MS, (compare(source, read("matroska", [(S, "a | b <script>\nc")]), MS),))
    row = next(line for line in render_markdown(report).splitlines() if line.startswith("| matroska | 1 |"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 9  # eight cells, the title's pipe escaped
    assert "a \\| b &lt;script&gt;\\\\nc" in row  # shows as: a | b <script>\nc


def test_unwritable_step_summary_is_one_line(tmp_path):
    with pytest.raises(ChapterkitError) as caught:
        render_github(good_report(), str(tmp_path / "missing" / "summary.md"))
    assert "while appending the step summary to" in str(caught.value) and "\n" not in str(caught.value)


def test_render_dispatches_and_refuses_unknown_formats():
    report = good_report()
    assert render(report, "json") == render_json(report)
    assert render(report, "junit") == render_junit(report)
    assert render(report, "text", color=False) == render_text(report)
    with pytest.raises(UsageError):
        render(report, "yaml")


# -- show and parse tables -----------------------------------------------------------------------


def test_show_prints_one_table_when_readers_agree():
    results = [read("quicktime", [(0, "A"), (S, "B")]), read("nero", [(0, "A"), (S, "B")])]
    text = render_show(results)
    lines = text.splitlines()
    assert lines[0] == "2 chapters (quicktime and nero agree)"
    assert lines[1].split() == ["#", "start", "end", "title"]
    assert lines[2].split() == ["1", "0:00:00.000", "0:00:01.000", "A"]
    assert "media duration: 0:00:40.000" in text and "quicktime: quicktime note" in text


def test_show_puts_disagreeing_readers_side_by_side():
    results = [read("quicktime", [(0, "Alpha"), (S, "Bravo")], 2 * S),
               read("nero", [(0, "Omega"), (S, "Bravo"), (3 * S // 2, "Extra")], 3 * S)]
    lines = render_show(results).splitlines()
    assert lines[0].startswith("readers disagree")
    assert lines[1].split() == ["#", "quicktime", "nero"]
    assert lines[2].split() == ["*", "1", "0:00:00.000", "Alpha", "0:00:00.000", "Omega"]
    assert lines[3].split() == ["2", "0:00:01.000", "Bravo", "0:00:01.000", "Bravo"]
    assert lines[4].split() == ["*", "3", "-", "0:00:01.500", "Extra"]
    assert lines[5] == "media duration: 0:00:02.000 (quicktime), 0:00:03.000 (nero)"


def test_show_with_nothing():
    assert render_show([]) == "no reader applies\n"
    assert render_show([read("id3", [])]).startswith("0 chapters (id3)")


def test_render_table_of_a_chapter_list():
    chapters = ChapterList((Chapter(0, 90 * S, "Intro"), Chapter(631 * S, None, "Original Song")),
                           title="Talk").with_duration(700 * S)
    lines = render_table(chapters).splitlines()
    assert lines[:2] == ["title: Talk", "duration: 0:11:40.000"]
    assert lines[3].split() == ["1", "0:00:00.000", "0:01:30.000", "Intro"]
    assert lines[4].split() == ["2", "0:10:31.000", "0:11:40.000", "Original", "Song"]


def test_json_output_and_its_documented_schema_name_the_same_keys():
    """The schema in the reports module docstring is the contract: every key it names is
    emitted, and nothing is emitted that it does not name (new keys must be documented)."""
    import chapterkit.reports as reports

    documented = set(re.findall(r'"(\w+)":', reports.__doc__))
    data = json.loads(render_json(bad_report()))
    emitted = set(data) | set(data["expected"])
    for reader in data["readers"]:
        emitted |= set(reader)
        for row in reader["chapters"]:
            emitted |= set(row) | {key for side in ("expected", "actual") if row[side] for key in row[side]}
    assert emitted == documented
