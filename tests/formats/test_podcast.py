"""Podcasting 2.0 JSON chapters: golden files, toc:false, img/url kept, detection against json and yt-dlp."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from chapterkit import formats
from chapterkit.cli import cli
from chapterkit.errors import SourceError
from chapterkit.formats import jsonformat, podcast, ytdlp
from chapterkit.model import Chapter, ChapterList
from conftest import fixture_path
from formats.goldens import ROOT, S, chapter_lists, check_golden, golden_params


@pytest.mark.parametrize("path", golden_params("podcast"))
def test_golden(path):
    check_golden("podcast", path)


def test_goldens_cover_the_named_edge_cases():
    names = {p.name.split(".")[0] for p in (ROOT / "podcast").iterdir()}
    assert {"full", "as_written", "crlf_bom", "utf16", "only_toc_false", "bad_start"} <= names


def test_detection_keeps_json_ytdlp_and_podcast_apart():
    ours = (ROOT / "podcast" / "full.json").read_text("utf-8")
    chapterkit_json = fixture_path("json", "basic.json").read_text("utf-8")
    info = (ROOT / "youtube-dl-json" / "video.info.json").read_text("utf-8")
    assert [podcast.detect(ours), jsonformat.detect(ours), ytdlp.detect(ours)] == [True, False, False]
    assert [podcast.detect(chapterkit_json), jsonformat.detect(chapterkit_json)] == [False, True]
    assert [podcast.detect(info), jsonformat.detect(info), ytdlp.detect(info)] == [False, False, True]
    assert podcast.detect('{"version": "1.2.0", "chapters": []}')
    assert not jsonformat.detect('{"version": "1.2.0", "chapters": []}')
    assert jsonformat.detect('{"chapters": []}') and not podcast.detect('{"chapters": []}')


def test_img_url_and_end_are_written_back():
    chapters = ChapterList((Chapter(0, None, "A", "https://i/a.jpg", "https://u/a"), Chapter(10 * S, 20 * S, "B")),
                           title="Ep")
    text = podcast.render(chapters)
    document = json.loads(text)
    assert document["version"] == "1.2.0" and document["title"] == "Ep"
    assert document["chapters"] == [{"startTime": 0, "title": "A", "img": "https://i/a.jpg", "url": "https://u/a"},
                                    {"startTime": 10, "endTime": 20, "title": "B"}]
    assert podcast.parse(text).chapters == chapters


def test_type_errors_name_the_entry():
    with pytest.raises(SourceError, match=r"chapters\[1\]\.title: expected a string"):
        podcast.parse('{"version": "1", "chapters": [{"startTime": 0}, {"startTime": 1, "title": 5}]}')
    with pytest.raises(SourceError, match=r"chapters\[0\]: expected a startTime"):
        podcast.parse('{"version": "1", "chapters": [{"title": "x"}]}')
    with pytest.raises(SourceError, match="negative"):
        podcast.parse('{"version": "1", "chapters": [{"startTime": -1}]}')


@settings(max_examples=200, deadline=None)
@given(chapter_lists(links=True))
def test_round_trip_is_lossless(chapters):
    text, warnings = podcast.render_checked(chapters)
    back = podcast.parse(text).chapters
    assert warnings == ()
    assert back.chapters == chapters.chapters
    assert back.title == chapters.title


def test_cli_convert_podcast_to_psc_keeps_links(tmp_path):
    done = CliRunner().invoke(cli, ["convert", str(ROOT / "podcast" / "full.json"), "--from", "podcast",
                                    "--to", "psc"])
    assert done.exit_code == 0, done.output
    back = formats.parse(done.stdout)
    assert back.chapters[0].img == "https://example.com/intro.jpg"
    assert back.chapters[0].url == "https://example.com/"
    assert "toc: false" in done.stderr


def test_a_podcast_chapters_json_is_read_by_content_not_extension(tmp_path):
    source = tmp_path / "chapters.json"  # what podcast hosts name it
    source.write_bytes((ROOT / "podcast" / "full.json").read_bytes())
    done = CliRunner().invoke(cli, ["convert", str(source), "--to", "cue"])
    assert done.exit_code == 0, done.output
    assert formats.parse(done.stdout).chapters.titles == ("Intro", "Interview", "Where we recorded", "")
