"""The format registry: its shape, lookups by name and extension, and detection order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import EXIT_ERROR, ChapterkitError, UsageError
from chapterkit.formats.base import ParseOptions
from chapterkit.model import ChapterList

S = 1_000_000_000
#: A list every format can carry (YouTube's rules: first at 0:00, three or more, 10 s or longer).
SAMPLE = ChapterList.of([(0, "0:00 Intro"), (15 * S, "Verse 1:30"), (75 * S, "Outro")], duration_ns=120 * S)


def test_formats_are_keyed_by_name_with_the_free_text_fallback_last():
    assert list(formats.FORMATS)[-1] == formats.FALLBACK == "youtube"
    assert {"ffmetadata", "json", "youtube"} <= set(formats.FORMATS)
    for key, fmt in formats.FORMATS.items():
        assert fmt.name == key


@pytest.mark.parametrize("name", list(formats.FORMATS))
def test_every_format_has_the_module_shape(name):
    fmt = formats.FORMATS[name]
    assert isinstance(fmt.summary, str) and fmt.summary and "\n" not in fmt.summary
    assert isinstance(fmt.extensions, tuple) and fmt.extensions
    for extension in fmt.extensions:
        assert extension.startswith(".") and extension == extension.lower()
    assert all(callable(getattr(fmt, function)) for function in ("detect", "parse"))
    assert fmt.render is None or callable(fmt.render)  # None: read only (editors' marker exports)


def test_no_extension_is_claimed_twice():
    claimed = [ext for fmt in formats.FORMATS.values() for ext in fmt.extensions]
    assert len(claimed) == len(set(claimed))


def test_get_format_by_name_and_unknown_names():
    assert formats.get_format("json").name == "json"
    with pytest.raises(UsageError) as caught:
        formats.get_format("srt")
    message = str(caught.value)
    assert message.startswith("unknown chapter format 'srt'") and "ffmetadata, json, webvtt, " in message
    assert all(name in message for name in formats.FORMATS) and message.endswith("youtube)")
    assert caught.value.exit_code == EXIT_ERROR


@pytest.mark.parametrize(("path", "name"), [
    ("chapters.ffmeta", "ffmetadata"), ("a/b/CHAPTERS.FFMETA", "ffmetadata"), ("x.ffmetadata", "ffmetadata"),
    ("x.meta", "ffmetadata"), (Path("list.json"), "json"), ("LIST.JSON", "json"),
    ("movie.mkv", None), ("no_extension", None), ("archive.json.gz", None),
])
def test_format_for_path(path, name):
    found = formats.format_for_path(path)
    assert (found.name if found else None) == name


FFMETA_WITH_STAMPS = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=15000\ntitle=0:00 Intro\n" \
                     "[CHAPTER]\nTIMEBASE=1/1000\nSTART=15000\nEND=30000\ntitle=0:15 Verse\n"
JSON_WITH_STAMPS = '{"chapters": [{"start": 0, "title": "0:00 Intro"}, {"start": 15, "title": "0:15 Two"}]}'


@pytest.mark.parametrize(("text", "name"), [
    (FFMETA_WITH_STAMPS, "ffmetadata"),
    ("\ufeff" + FFMETA_WITH_STAMPS, "ffmetadata"),
    (JSON_WITH_STAMPS, "json"),
    ("0:00 Intro\n0:15 Two\n0:40 Three\n", "youtube"),
    ('{"no": "chapters key"}\n0:00 Intro', "youtube"),
    ("", "youtube"),
])
def test_detect_prefers_specific_formats_over_free_text(text, name):
    assert formats.detect(text).name == name


def test_parse_detects_and_reads_the_titles_unchanged():
    result = formats.parse(FFMETA_WITH_STAMPS)
    assert result.chapters.titles == ("0:00 Intro", "0:15 Verse")
    assert formats.parse(JSON_WITH_STAMPS).chapters.starts_ns == (0, 15 * S)


WRITABLE = [name for name, fmt in formats.FORMATS.items() if fmt.render is not None]


@pytest.mark.parametrize("name", WRITABLE)
def test_each_format_reads_back_what_it_writes_and_detects_it(name):
    text = formats.render(SAMPLE, name)
    assert formats.detect(text).name == name
    back = formats.parse(text, name).chapters
    assert back.titles == SAMPLE.titles
    assert back.starts_ns == SAMPLE.starts_ns


def test_render_with_an_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError):
        formats.render(SAMPLE, "xml")


def test_the_registry_imports_no_heavy_module():
    code = ("import sys, chapterkit.formats; "
            "print(sorted(m for m in ('mutagen', 'ffmpeg', 'imageio_ffmpeg') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- fuzz: every format, detected or named ---------------------------------------------------

#: Pieces of each grammar, so random text reaches deep into every parser, not just its first check.
_PIECES = st.sampled_from([
    ";FFMETADATA1\n", "[CHAPTER]\n", "[STREAM]\n", "TIMEBASE=", "START=", "END=", "title=", "\\", "\n", "\r",
    "=", "#", ";", "1/1000", "1/0", "-5", "9" * 25, "0", "{", "}", "[", "]", '"chapters"', '"start"', '"end"',
    '"title"', '"duration"', ":", ",", "1e400", "-0.5", "null", "true", '"x"', "0:00 ", "1:30 ", "\x00", "é"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(_PIECES, max_size=40).map("".join)),
       st.sampled_from([None, *formats.FORMATS]), st.booleans(),
       st.one_of(st.none(), st.integers(0, 10 ** 13)))
def test_any_text_in_any_format_raises_only_chapterkit_errors(text, name, lenient, duration_ns):
    try:
        result = formats.parse(text, name, ParseOptions(lenient=lenient, duration_ns=duration_ns))
    except ChapterkitError as exc:
        assert "\n" not in str(exc)
        return
    assert len(result.chapters) >= 1
    for other in WRITABLE:
        try:
            assert isinstance(formats.render(result.chapters, other), str)
        except ChapterkitError as exc:  # e.g. WebVTT needs every end, and says so
            assert "\n" not in str(exc)
