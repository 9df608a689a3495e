"""WebVTT chapter tracks: written for browsers, read back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats import webvtt
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList

SEED = ChapterList.of([(0, "Intro"), (40 * NS_PER_SECOND, "The Right Kind of Fan"),
                       (631 * NS_PER_SECOND, "Original Song")], duration_ns=660 * NS_PER_SECOND)


def test_render_the_seed_tail():
    text = webvtt.render(SEED)
    assert text.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:40.000\nIntro\n")
    assert "3\n00:10:31.000 --> 00:11:00.000\nOriginal Song\n" in text


def test_titles_are_escaped_and_kept_on_one_line():
    chapters = ChapterList((Chapter(0, NS_PER_SECOND, "A <b> & c --> d\nline two"),))
    text = webvtt.render(chapters)
    assert "A <b> & c -> d line two" in text  # chapter title text: plain, never markup
    assert webvtt.parse(text).chapters[0].title == "A <b> & c -> d line two"


def test_an_open_last_chapter_needs_the_duration():
    with pytest.raises(UsageError, match="duration"):
        webvtt.render(SEED.with_duration(None))


def test_parse_cue_settings_identifiers_crlf_and_bom():
    text = "\ufeffWEBVTT - chapters\r\n\r\nNOTE made by hand\r\n\r\nintro\r\n00:00.000 --> 01:00.500 align:start\r\nIntro\r\n\r\n01:00.500 --> 01:02:00.000\r\nLong part\r\n"
    result = webvtt.parse(text)
    assert result.chapters.starts_ns == (0, 60_500 * NS_PER_MS)
    assert result.chapters[1].end_ns == 3_720 * NS_PER_SECOND
    assert result.chapters.titles == ("Intro", "Long part")


def test_detect_and_registry():
    assert webvtt.detect("WEBVTT\n") and not webvtt.detect("WEBVTTX\n") and not webvtt.detect("0:00 Intro")
    assert formats.detect("WEBVTT\n\n00:00.000 --> 00:10.000\n0:00 looks like a stamp\n") is webvtt
    assert formats.format_for_path("x.vtt") is webvtt


def test_refusals():
    with pytest.raises(SourceError):
        webvtt.parse("0:00 Intro")
    with pytest.raises(NoChaptersError):
        webvtt.parse("WEBVTT\n\nno cues here\n")
    with pytest.raises(SourceError, match="ends before"):
        webvtt.parse("WEBVTT\n\n00:10.000 --> 00:05.000\nBack\n")


titles = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40) \
    .map(lambda t: " ".join(t.split()).replace("-->", "->")).filter(bool)


@given(st.lists(st.tuples(st.integers(1, 10**7), titles), min_size=1, max_size=20))
def test_round_trip_at_millisecond_precision(steps):
    start, items = 0, []
    for gap_ms, title in steps:
        items.append(Chapter(start * NS_PER_MS, (start + gap_ms) * NS_PER_MS, title))
        start += gap_ms
    chapters = ChapterList(tuple(items))
    assert webvtt.parse(webvtt.render(chapters)).chapters == chapters
