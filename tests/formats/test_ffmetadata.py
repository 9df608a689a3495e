"""FFMETADATA1: golden fixtures, the renderer's choices, the parser's findings, and
FFmpeg's own demuxer (both builds) reading what we write."""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import ffmetadata
from chapterkit.formats.base import ParseOptions
from chapterkit.model import Chapter, ChapterList
from conftest import FIXTURES, fixture_path, require_tool

S = 1_000_000_000
MS = 1_000_000
CASES = sorted(path.name.removesuffix(".ffmeta") for path in (FIXTURES / "ffmetadata").glob("*.ffmeta"))
FFMPEG_HYPOTHESIS = settings(max_examples=30, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


def load_case(case: str) -> tuple[str, dict]:
    text = fixture_path("ffmetadata", f"{case}.ffmeta").read_bytes().decode("utf-8")
    expected = json.loads(fixture_path("ffmetadata", f"{case}.expected.json").read_text(encoding="utf-8"))
    return text, expected


def chapter_list(rows: list[dict], title: str | None = None) -> ChapterList:
    return ChapterList(tuple(Chapter(r["start_ns"], r["end_ns"], r["title"]) for r in rows), title)


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def ffmpeg_reads(ffmpeg: str, path) -> str:
    """What FFmpeg's ffmetadata demuxer reads from ``path``, written back by its muxer."""
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "ffmetadata",
                           "-i", str(path), "-f", "ffmetadata", "-"], capture_output=True)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done.stdout.decode("utf-8")


def expected_after_render(chapters: ChapterList) -> ChapterList:
    """What ``parse(render(chapters))`` documents: normalised titles, END == START read as no end,
    no duration (FFMETADATA has none)."""
    kept = tuple(Chapter(c.start_ns, None if c.end_ns == c.start_ns else c.end_ns,
                         ffmetadata.normalize_value(c.title)) for c in chapters)
    title = None if chapters.title is None else ffmetadata.normalize_value(chapters.title)
    return ChapterList(kept, title)


# -- fixtures ----------------------------------------------------------------------------------


def test_every_required_case_has_a_fixture():
    assert {"basic", "escaped-titles", "no-timebase", "missing-end", "comments", "crlf"} <= set(CASES)
    assert b"\r\n" in fixture_path("ffmetadata", "crlf.ffmeta").read_bytes()  # not normalised away


@pytest.mark.parametrize("case", CASES)
def test_fixture_parses_as_expected(case):
    text, expected = load_case(case)
    result = ffmetadata.parse(text)
    assert result.chapters == chapter_list(expected["chapters"], expected["title"])
    assert codes(result) == expected["diagnostics"]
    assert ffmetadata.detect(text)


@pytest.mark.parametrize("case", CASES)
def test_ffmpeg_reads_each_fixture_as_documented(case, ffmpeg_exe):
    _, expected = load_case(case)
    dumped = ffmpeg_reads(ffmpeg_exe, fixture_path("ffmetadata", f"{case}.ffmeta"))
    wanted = expected.get("ffmpeg", expected)["chapters"]
    assert ffmetadata.parse(dumped).chapters.chapters == chapter_list(wanted).chapters


# -- render ------------------------------------------------------------------------------------


def test_render_writes_header_title_and_fixed_key_order():
    chapters = ChapterList((Chapter(0, 90_500 * MS, "Intro"), Chapter(90_500 * MS, 120 * S, "Outro")),
                           title="Album")
    assert ffmetadata.render(chapters) == (
        ";FFMETADATA1\ntitle=Album\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=90500\ntitle=Intro\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=90500\nEND=120000\ntitle=Outro\n")


def test_render_omits_the_global_title_when_there_is_none_and_writes_no_bom():
    text = ffmetadata.render(ChapterList.of([(0, "A")]))
    assert text.startswith(";FFMETADATA1\n[CHAPTER]\n")
    assert "\ufeff" not in text


@pytest.mark.parametrize(("start_ns", "timebase", "start_text"), [
    (5 * S, "1/1000", "START=5000"),
    (1_500 * 1000, "1/1000000", "START=1500"),  # 1.5 ms: not whole ms
    (1_000_000_001, "1/1000000000", "START=1000000001"),
])
def test_render_picks_the_coarsest_exact_timebase_for_the_whole_list(start_ns, timebase, start_text):
    text = ffmetadata.render(ChapterList((Chapter(0, 10 * S, "a"), Chapter(start_ns, 20 * S, "b"))))
    assert text.count(f"TIMEBASE={timebase}\n") == 2
    assert f"\n{start_text}\n" in text


def test_unknown_end_is_written_as_start_and_read_back_as_none():
    chapters = ChapterList.of([(0, "A"), (30 * S, "B")])  # no duration: B's end is unknown
    text = ffmetadata.render(chapters)
    assert text.endswith("START=30000\nEND=30000\ntitle=B\n")
    assert ffmetadata.parse(text).chapters == chapters
    assert ffmetadata.parse(text).chapters[1].end_ns is None


def test_a_zero_length_chapter_reads_back_as_open_ended():
    text = ffmetadata.render(ChapterList((Chapter(0, 0, "blink"), Chapter(5 * S, 6 * S, "next"))))
    assert "START=0\nEND=0\n" in text
    assert ffmetadata.parse(text).chapters[0] == Chapter(0, 5 * S, "blink")


@pytest.mark.parametrize(("title", "line"), [
    ("a=b;c#d\\e", "title=a\\=b\\;c\\#d\\\\e"),
    ("two\nlines", "title=two\\\nlines"),
    ("cr\r\nlf and\rcr", "title=cr\\\nlf and\\\ncr"),
    ("nul\x00byte", "title=nulbyte"),
    ("ends in \\", "title=ends in \\\\\x00"),
    ("  spaces kept  ", "title=  spaces kept  "),
])
def test_render_escapes_titles(title, line):
    text = ffmetadata.render(ChapterList((Chapter(0, S, title),)))
    assert text.endswith(line + "\n")


# -- parse -------------------------------------------------------------------------------------


def parse(text: str, **options):
    return ffmetadata.parse(";FFMETADATA1\n" + text, ParseOptions(**options))


def test_detect_needs_the_magic_at_the_very_start():
    assert ffmetadata.detect(";FFMETADATA1\n")
    assert ffmetadata.detect("\ufeff;FFMETADATA1\n")
    assert not ffmetadata.detect("\n;FFMETADATA1\n")
    assert not ffmetadata.detect("0:00 Intro\n")
    assert not ffmetadata.detect('{"chapters": []}')


def test_parse_without_header_is_read_with_a_note():
    result = ffmetadata.parse("[CHAPTER]\nSTART=0\nEND=5\ntitle=x\n")
    assert result.chapters.titles == ("x",)
    assert codes(result) == ["missing_header"]


def test_global_title_key_is_case_insensitive_and_stream_tags_are_ignored():
    result = parse("TITLE=Global\n[STREAM]\ntitle=stream title\n[CHAPTER]\nSTART=0\nEND=5\nTitle=c\n")
    assert result.chapters.title == "Global"
    assert result.chapters.titles == ("c",)
    assert "stream_section" in codes(result)


def test_timebase_is_exact_with_a_fraction():
    result = parse("[CHAPTER]\nTIMEBASE=1001/24000\nSTART=1\nEND=24\ntitle=frames\n")
    assert result.chapters[0].start_ns == 41_708_333  # 1001/24000 s, rounded to the ns
    assert result.chapters[0].end_ns == 1_001_000_000


def test_crlf_and_lone_cr_end_lines():
    result = parse("[CHAPTER]\r\nSTART=0\rEND=5\r\ntitle=a\\\r\nb\r\n")
    assert result.chapters[0] == Chapter(0, 5, "a\nb")


def test_escaped_equals_in_key_and_first_unescaped_equals_splits():
    result = parse("[CHAPTER]\nSTART=0\nEND=5\ntitle=a=b\\=c\nti\\=tle=not a title\n")
    assert result.chapters[0].title == "a=b=c"
    assert "ignored_keys" in codes(result)


def test_the_trailing_nul_of_a_backslash_title_ends_the_value():
    result = parse("[CHAPTER]\nSTART=0\nEND=5\ntitle=a\\\\\x00\n[CHAPTER]\nSTART=5\nEND=6\ntitle=b\n")
    assert result.chapters.titles == ("a\\", "b")
    assert result.diagnostics == ()


def test_missing_end_keeps_the_title_and_warns_that_ffmpeg_would_not():
    result = parse("[CHAPTER]\nSTART=0\ntitle=kept\n[CHAPTER]\nSTART=7\nEND=9\ntitle=b\n")
    assert result.chapters[0] == Chapter(0, 7, "kept")
    finding = result.diagnostics[0]
    assert (finding.code, finding.lineno, finding.severity) == ("missing_end", 2, "warning")


def test_missing_start_begins_at_the_previous_end_as_in_ffmpeg():
    result = parse("[CHAPTER]\nSTART=0\nEND=40\ntitle=a\n[CHAPTER]\nEND=90\ntitle=b\n")
    assert result.chapters[1] == Chapter(40, 90, "b")
    assert codes(result) == ["missing_start"]


def test_end_before_start_is_refused_like_ffmpeg_unless_lenient():
    text = "[CHAPTER]\nSTART=50\nEND=10\ntitle=a\n"
    with pytest.raises(NoChaptersError) as caught:
        parse(text)
    assert "line 4" in str(caught.value) and "\n" not in str(caught.value)
    assert [d.severity for d in caught.value.diagnostics] == ["error"]
    lenient = parse(text, lenient=True)
    assert lenient.chapters[0] == Chapter(50, None, "a")
    assert codes(lenient) == ["end_before_start"]


def test_negative_start_is_clamped_to_zero():
    result = parse("[CHAPTER]\nSTART=-25\nEND=100\ntitle=a\n")
    assert result.chapters[0] == Chapter(0, 100, "a")
    assert codes(result) == ["negative_start"]


def test_no_chapters_at_all():
    with pytest.raises(NoChaptersError, match="no chapters found"):
        parse("title=only a global title\n")


def test_text_of_another_format_is_named_as_not_ffmetadata():
    with pytest.raises(NoChaptersError) as caught:
        ffmetadata.parse('{"chapters": [{"start": 0, "title": "Intro"}]}\n')
    assert str(caught.value) == "no [CHAPTER] sections and no ;FFMETADATA1 header: this is not FFMETADATA"


@pytest.mark.parametrize(("text", "reason"), [
    ("[CHAPTER]\nTIMEBASE=1/0\nSTART=0\nEND=5\n", "TIMEBASE on line 3"),
    ("[CHAPTER]\nTIMEBASE=one/1000\nSTART=0\nEND=5\n", "TIMEBASE on line 3"),
    ("[CHAPTER]\nSTART=1.5\nEND=5\n", "START on line 3"),
    ("[CHAPTER]\nSTART=0\nEND=99999999999999999999\n", "END on line 4"),
    ("[CHAPTER]\nSTART=0\nTIMEBASE=1/1000\nEND=5\n", "TIMEBASE= on line 4 is out of place"),
    ("[CHAPTER]\nSTART=0\ntitle=x\nEND=5\n", "END= on line 5 is out of place"),
    ("[CHAPTER]\nstart=0\nEND=5\n", "start= on line 3 is out of place"),
])
def test_malformed_header_lines_are_source_errors_naming_the_line(text, reason):
    with pytest.raises(SourceError) as caught:
        parse(text)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_oddities_are_reported_not_fatal():
    result = parse("[CHAPTER] \nSTART=10\nEND=15\ntitle=a\ntitle=b\n[chapter]\n  title=spaced\n"
                   "[CHAPTER]\nSTART=1\nEND=2\n")
    by_code = {d.code: d for d in result.diagnostics}
    assert by_code["section_spaces"].suggestion == "[CHAPTER]"
    assert by_code["not_a_tag"].suggestion == "[CHAPTER]"
    assert by_code["spaced_key"].suggestion == "title=spaced"
    assert {"duplicate_title", "untitled", "unsorted"} <= set(by_code)
    assert result.chapters.titles == ("b", "")


def test_comment_lines_are_skipped_even_inside_the_chapter_header():
    result = parse("[CHAPTER]\n# c\nTIMEBASE=1/1000\n; c\nSTART=1\n\nEND=2\n#title=no\ntitle=yes\n")
    assert result.chapters[0] == Chapter(MS, 2 * MS, "yes")


def test_duration_drops_and_clips_chapters_past_the_media_end():
    text = "[CHAPTER]\nSTART=0\nEND=8\ntitle=a\n[CHAPTER]\nSTART=8\nEND=20\ntitle=b\n[CHAPTER]\nSTART=30\nEND=40\n"
    result = parse(text, duration_ns=10)
    assert result.chapters == ChapterList((Chapter(0, 8, "a"), Chapter(8, 10, "b")), duration_ns=10)
    assert "past_duration" in codes(result)


# -- round trips -------------------------------------------------------------------------------


def times_ns():
    return st.one_of(st.integers(0, 10 ** 7).map(lambda ms: ms * MS),
                     st.integers(0, 10 ** 10).map(lambda us: us * 1000),
                     st.integers(0, 10 ** 14))


@st.composite
def chapter_lists(draw, titles=st.text()):
    chapters = []
    for start_ns in draw(st.lists(times_ns(), max_size=6)):
        end_ns = draw(st.one_of(st.none(), times_ns().map(lambda length, s=start_ns: s + length)))
        chapters.append(Chapter(start_ns, end_ns, draw(titles)))
    return ChapterList(tuple(chapters), draw(st.none() | titles), draw(st.none() | times_ns()))


@given(chapter_lists().filter(len))
def test_any_chapter_list_round_trips(chapters):
    assert ffmetadata.parse(ffmetadata.render(chapters)).chapters == expected_after_render(chapters)


@st.composite
def sorted_lists(draw, titles):
    starts = sorted(set(draw(st.lists(times_ns(), min_size=1, max_size=3))))
    last_end = starts[-1] + draw(st.integers(1, 10 ** 12))
    ends = [*starts[1:], last_end]
    chapters = tuple(Chapter(s, e, draw(titles)) for s, e in zip(starts, ends))
    return ChapterList(chapters, draw(st.none() | titles))


#: Titles built from the pieces that could break a line-based format.
TRICKY = st.lists(st.sampled_from(["\\", "=", ";", "#", "\n", "\r", "\r\n", "\x00", "[CHAPTER]", "[STREAM]",
                                   "START=0", "END=1", "TIMEBASE=1/1", "title=", " ", "é", "🎬", "x"]),
                  max_size=10).map("".join)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("ffmetadata")


def test_ffmpeg_reads_the_known_traps_exactly(ffmpeg_exe, scratch):
    chapters = ChapterList((Chapter(0, S, "ends in \\"), Chapter(S, 2 * S, "x\n[CHAPTER]\nSTART=0\\"),
                            Chapter(2 * S, 3 * S, "a\r\nb=c;d#e"), Chapter(3 * S, 4 * S, "")), title="G\\")
    meta = scratch / "traps.ffmeta"
    meta.write_bytes(ffmetadata.render(chapters).encode("utf-8"))
    read = ffmetadata.parse(ffmpeg_reads(ffmpeg_exe, meta)).chapters
    assert read.title == "G\\"
    assert read.titles == ("ends in \\", "x\n[CHAPTER]\nSTART=0\\", "a\nb=c;d#e", "")
    assert read.starts_ns == (0, S, 2 * S, 3 * S)


@FFMPEG_HYPOTHESIS
@given(sorted_lists(st.text() | TRICKY))
def test_ffmpeg_reads_every_title_and_time_we_write(ffmpeg_exe, scratch, chapters):
    meta = scratch / "meta.ffmeta"
    meta.write_bytes(ffmetadata.render(chapters).encode("utf-8"))
    assert ffmetadata.parse(ffmpeg_reads(ffmpeg_exe, meta)).chapters == expected_after_render(chapters)


@FFMPEG_HYPOTHESIS
@given(sorted_lists(TRICKY))
def test_no_title_can_inject_keys_or_chapters(scratch, chapters):
    """ffprobe's own JSON (not our parser) sees exactly our chapters, each with one title tag."""
    ffprobe = require_tool("ffprobe (Debian package)", "/usr/bin/ffprobe")
    meta = scratch / "inject.ffmeta"
    meta.write_bytes(ffmetadata.render(chapters).encode("utf-8"))
    done = subprocess.run([ffprobe, "-v", "error", "-f", "ffmetadata", "-i", str(meta), "-show_chapters",
                           "-show_format", "-of", "json"], capture_output=True)
    assert done.returncode == 0, done.stderr
    probed = json.loads(done.stdout)
    expected = expected_after_render(chapters)
    assert [(c["start"], c["end"], c.get("tags")) for c in probed["chapters"]] == [
        (_ticks(c.start_ns, expected), _ticks(c.end_ns, expected), {"title": c.title}) for c in expected]
    tags = probed["format"].get("tags", {})
    assert set(tags) <= {"title", "encoder"}
    assert tags.get("title") == expected.title


def _ticks(ns: int, chapters: ChapterList) -> int:
    """``ns`` in the timebase render chose for ``chapters`` (the same rule, restated)."""
    times = [t for c in chapters for t in (c.start_ns, c.end_ns)]
    for unit in (MS, 1000, 1):
        if all(t % unit == 0 for t in times):
            return ns // unit
    raise AssertionError("unreachable")


def test_header_keys_after_a_complete_header_are_chapter_tags_as_in_ffmpeg():
    """FFmpeg keeps a later START=/END= line as a plain chapter tag (ffmetadec.c); its own dump
    can contain one, so the libav reader must not refuse a playable file over it."""
    text = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=5000\ntitle=A\nEND=whatever\n" \
           "[CHAPTER]\nTIMEBASE=1/1000\nSTART=5000\nEND=9000\ntitle=B\n"
    result = ffmetadata.parse(text)
    assert result.chapters.titles == ("A", "B")
    assert result.chapters.starts_ns == (0, 5_000_000_000)
    assert any(d.code == "misplaced_header_key" and d.lineno == 7 for d in result.diagnostics)
