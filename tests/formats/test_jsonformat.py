"""chapterkit's JSON format: exact decimal seconds both ways, and one-line schema errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import jsonformat
from chapterkit.formats.base import ParseOptions
from chapterkit.model import Chapter, ChapterList
from conftest import fixture_path

S = 1_000_000_000
MS = 1_000_000


def test_fixture_parses_exactly():
    result = jsonformat.parse(fixture_path("json", "basic.json").read_text(encoding="utf-8"))
    assert result.chapters == ChapterList((
        Chapter(0, 90_500 * MS, "Intro"),
        Chapter(90_500 * MS, None, "Ünïcødé — 章节 🎬"),
        Chapter(245 * S + 1, None, "Nanosecond start, no end key"),
        Chapter(540 * S, 600_250 * MS, "Encore"),
    ), "Concert at the Roundhouse", 600_250 * MS)
    assert result.chapters[1].end_ns == 245 * S + 1  # filled from the next start
    [note] = result.diagnostics
    assert (note.code, note.severity) == ("ignored_keys", "info")
    assert "generator" in note.message and "url" in note.message


def test_render_writes_exact_decimals_one_chapter_per_line():
    chapters = ChapterList((Chapter(0, 90_500 * MS, "Intro"), Chapter(90_500 * MS, S + 1 + 90 * S, "ns")),
                           title="T", duration_ns=None)
    assert jsonformat.render(chapters) == (
        '{\n  "title": "T",\n  "duration": null,\n  "chapters": [\n'
        '    {"start": 0, "end": 90.5, "title": "Intro"},\n'
        '    {"start": 90.5, "end": 91.000000001, "title": "ns"}\n  ]\n}\n')


def test_render_keeps_unicode_readable_and_escapes_what_json_must():
    text = jsonformat.render(ChapterList((Chapter(0, None, 'é 🎬 "q" \\ \n\x00'),)))
    assert 'é 🎬 \\"q\\" \\\\ \\n\\u0000' in text
    assert json.loads(text)["chapters"][0]["end"] is None


def test_render_of_an_empty_list_is_still_valid_json():
    assert json.loads(jsonformat.render(ChapterList())) == {"title": None, "duration": None, "chapters": []}


@pytest.mark.parametrize(("number", "ns"), [
    ("1.000000001", S + 1),
    ("0.0000000005", 1),          # half a ns rounds up
    ("0.00000000049", 0),
    ("1e-999999999", 0),          # no 10**999999999 is ever built
    ("12345678.123456789", 12_345_678_123_456_789),
    ("3E1", 30 * S),
])
def test_numbers_are_read_exactly(number, ns):
    result = jsonformat.parse(f'{{"chapters": [{{"start": {number}, "title": "x"}}]}}')
    assert result.chapters[0].start_ns == ns


def test_detect_wants_an_object_with_chapters():
    assert jsonformat.detect('{"chapters": []}')
    assert jsonformat.detect('\ufeff  {"title": null, "chapters": [{"start": 0, "title": "0:00 Intro"}]}')
    assert not jsonformat.detect('{"title": "no chapters key"}')
    assert not jsonformat.detect('[{"chapters": []}]')
    assert not jsonformat.detect("{not json")
    assert not jsonformat.detect(";FFMETADATA1\n")
    assert not jsonformat.detect("0:00 Intro")


@pytest.mark.parametrize(("text", "reason"), [
    ("{", "not valid JSON: Expecting property name enclosed in double quotes (line 1 column 2)"),
    ("[]", "must be an object"),
    ('{"title": "x"}', "no chapters key"),
    ('{"chapters": {}}', "chapters must be a list"),
    ('{"chapters": [3]}', "chapters[0] must be an object"),
    ('{"chapters": [{"title": "a"}]}', "chapters[0] has no start"),
    ('{"chapters": [{"start": 0}, {"start": "1:00"}]}', 'chapters[1].start must be a number of seconds, not "1:00"'),
    ('{"chapters": [{"start": true}]}', "chapters[0].start must be a number"),
    ('{"chapters": [{"start": -1}]}', "chapters[0].start is negative"),
    ('{"chapters": [{"start": 1e400}]}', "chapters[0].start is too large"),
    ('{"chapters": [{"start": NaN}]}', "NaN is not a time"),
    ('{"chapters": [{"start": 0, "end": "x"}]}', "chapters[0].end must be a number or null"),
    ('{"chapters": [{"start": 0, "title": 5}]}', "chapters[0].title must be a string"),
    ('{"chapters": [{"start": 0}], "title": 1}', "title must be a string or null"),
    ('{"chapters": [{"start": 0}], "duration": "long"}', "duration must be a number or null"),
    ('{"chapters": [{"start": 1' + "0" * 5000 + '}]}', "not valid JSON"),
])
def test_schema_errors_are_one_line_source_errors(text, reason):
    with pytest.raises(SourceError) as caught:
        jsonformat.parse(text)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_empty_list_has_no_chapters():
    with pytest.raises(NoChaptersError, match="no chapters found"):
        jsonformat.parse('{"chapters": []}')


def test_end_before_start_is_refused_unless_lenient():
    text = '{"chapters": [{"start": 10, "end": 5, "title": "a"}]}'
    with pytest.raises(NoChaptersError, match=r"chapters\[0\] ends before it starts") as caught:
        jsonformat.parse(text)
    assert caught.value.diagnostics[-1].severity == "error"
    result = jsonformat.parse(text, ParseOptions(lenient=True))
    assert result.chapters[0] == Chapter(10 * S, None, "a")


def test_missing_title_is_empty_with_a_note():
    result = jsonformat.parse('{"chapters": [{"start": 0}]}')
    assert result.chapters.titles == ("",)
    assert [d.code for d in result.diagnostics] == ["untitled"]


def test_media_duration_overrides_drops_and_clips():
    text = '{"duration": 100, "chapters": [{"start": 0, "end": 8}, {"start": 8, "end": 20}, {"start": 30}]}'
    result = jsonformat.parse(text, ParseOptions(duration_ns=10 * S))
    assert result.chapters == ChapterList((Chapter(0, 8 * S, ""), Chapter(8 * S, 10 * S, "")), duration_ns=10 * S)
    assert "past_duration" in [d.code for d in result.diagnostics]


# -- round trip ----------------------------------------------------------------------------------


times_ns = st.integers(0, 2 ** 63 - 1)


@st.composite
def chapter_lists(draw):
    chapters = []
    for start_ns in draw(st.lists(times_ns, min_size=1, max_size=6)):
        end_ns = draw(st.none() | st.integers(start_ns, 2 ** 63 - 1))
        chapters.append(Chapter(start_ns, end_ns, draw(st.text())))
    return ChapterList(tuple(chapters), draw(st.none() | st.text()), draw(st.none() | times_ns))


@given(chapter_lists())
def test_any_chapter_list_round_trips_exactly(chapters):
    text = jsonformat.render(chapters)
    assert jsonformat.parse(text).chapters == chapters
    assert jsonformat.detect(text)
