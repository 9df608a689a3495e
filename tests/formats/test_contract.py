"""The same contract for every registered format, over its golden files.

``fixtures/formats/<name>/<case>.<ext>`` is an input and ``<case>.expected.json``
what it parses to::

    {"options": {"duration": "9:00", "lenient": true, "fps": "25", "rules": "basic",
                 "language": "de", "timeline_start": "01:00:00:00", "marker_color": "Red"},
     "title": "list title", "duration": "212",
     "chapters": [{"start": "12.5", "end": "20" | null, "title": "...", "img": ..., "url": ...}],
     "diagnostics": [{"lineno": 3, "code": "..."}],
     "refused": null | "<first error code, or the exception type, or words of its message>",
     "message": "words the refusal's message holds",
     "detect": true, "detected": true, "why": "...",
     "editions": [...]}

``options``, ``detect`` (default true: the registry must pick this format for the
file, by content and then its extension; ``detected`` is the same key, with
``why`` saying why not), ``editions`` (the Matroska structure) and ``message``
are optional and compared when present. The list's ``title`` and ``duration``,
a chapter's ``end`` and ``img``/``url`` are compared whenever the parse has one;
a golden that writes a chapter key as null in any row compares it in every row.

``<ext>`` is the longest of the format's own extensions the file name ends with
(``basic.chapters.txt``, ``video.info.json``, a ``.fcpxmld`` bundle folder), else
its last suffix. Inputs are bytes as the tool wrote them (UTF-16, BOMs, CRLF),
read the way ``chapterkit`` reads files (:func:`chapterkit.sources.read_text`).
Every writable format must also round-trip its goldens: rendering is stable
(render, parse, render gives the same text), and when ``render_checked`` warns
of nothing the list reads back unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import UsageError
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList
from formats.goldens import EXPECTED, ROOT, comparable, load, options_from, outcome


def _ids(cases: list[tuple[str, Path]]) -> list[str]:
    return [f"{name}/{path.name.removesuffix(EXPECTED)}" for name, path in cases]


def _cases() -> list[tuple[str, Path]]:
    found = []
    for name in formats.FORMATS:
        for expected in sorted((ROOT / name).glob("*" + EXPECTED)):
            found.append((name, expected))
    return found


CASES = _cases()


def test_every_registered_format_has_goldens():
    missing = [name for name in formats.FORMATS if not list((ROOT / name).glob("*.expected.json"))]
    assert not missing, f"formats without goldens in fixtures/formats/: {missing}"


@pytest.mark.parametrize(("name", "expected_path"), CASES, ids=_ids(CASES))
def test_golden_parses_as_expected(name, expected_path):
    expected, text, _source = load(name, expected_path)
    got = outcome(name, text, options_from(expected.get("options", {})), expected)
    assert got == comparable(expected)


@pytest.mark.parametrize(("name", "expected_path"), CASES, ids=_ids(CASES))
def test_detection_claims_its_goldens(name, expected_path):
    expected, text, source = load(name, expected_path)
    if expected.get("detect", expected.get("detected", True)):
        assert formats.detect(text, source).name == name


WRITABLE = [(name, path) for name, path in CASES if name in formats.writable()]


@pytest.mark.parametrize(("name", "expected_path"), WRITABLE, ids=_ids(WRITABLE))
def test_writable_formats_round_trip_their_goldens(name, expected_path):
    expected, text, _source = load(name, expected_path)
    if expected.get("refused"):
        return
    options = options_from(expected.get("options", {}))
    parsed = formats.parse(text, name, options).chapters
    written, warnings = formats.render_checked(parsed, name)
    back = formats.parse(written, name, options).chapters
    assert formats.render(back, name) == written
    assert formats.detect(written).name == name
    if not warnings:
        assert (back.starts_ns, back.titles) == (parsed.starts_ns, parsed.titles)
    if parsed.editions and getattr(formats.get_format(name), "holds_editions", False):
        assert back.editions == parsed.editions


# -- every writable format, on lists any chapter format can hold ---------------------------------

_WORD = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)


@st.composite
def plain_lists(draw):
    """Whole-second starts from 0, 10 s or more apart, plain titles: YouTube's rules hold, frames and CD sectors fit."""
    gaps = draw(st.lists(st.integers(10, 5000), min_size=3, max_size=12))
    starts = [0]
    for gap in gaps[:-1]:
        starts.append(starts[-1] + gap)
    titles = draw(st.lists(st.lists(_WORD, min_size=1, max_size=4).map(" ".join), min_size=len(starts),
                           max_size=len(starts)))
    return ChapterList.of(((s * NS_PER_SECOND, t) for s, t in zip(starts, titles)),
                          duration_ns=(starts[-1] + gaps[-1]) * NS_PER_SECOND)


@settings(max_examples=60, deadline=None)
@given(plain_lists())
def test_every_writable_format_round_trips_what_it_can_hold_and_warns_otherwise(chapters):
    for name in formats.writable():
        text, warnings = formats.render_checked(chapters, name)
        back = formats.parse(text, name, ParseOptions(duration_ns=chapters.duration_ns)).chapters
        if not warnings:
            assert (back.starts_ns, back.titles) == (chapters.starts_ns, chapters.titles), name


@st.composite
def any_lists(draw):
    """Sorted nanosecond starts (equal ones too), any printable titles (empty too), ends from the next start."""
    starts = sorted(draw(st.lists(st.integers(0, 10**13), min_size=1, max_size=8)))
    titles = draw(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
                           min_size=len(starts), max_size=len(starts)))
    return ChapterList.of(zip(starts, titles), duration_ns=starts[-1] + draw(st.integers(1, 10**11)))


@settings(max_examples=150, deadline=None)
@given(any_lists())
def test_every_writable_format_warns_of_what_it_rounds_or_rewrites(chapters):
    """Frames, milliseconds, CD sectors, characters: a writer that changes a start or a title says so."""
    for name in formats.writable():
        try:
            text, warnings = formats.render_checked(chapters, name)
        except UsageError:
            continue  # the target needs what the list lacks (named in the message)
        if not warnings:
            back = formats.parse(text, name, ParseOptions(duration_ns=chapters.duration_ns)).chapters
            assert (back.starts_ns, back.titles) == (chapters.starts_ns, chapters.titles), name


@pytest.mark.parametrize("name", formats.writable())
def test_every_writable_format_keeps_the_list_title_and_links_or_warns(name):
    """The list's title and a chapter's img/url read back, or a warning names them (holds_title, holds_links)."""
    second = NS_PER_SECOND
    chapters = ChapterList((Chapter(0, 10 * second, "Intro", "https://example.com/a.jpg", "https://example.com/a"),
                            Chapter(10 * second, 20 * second, "Middle"), Chapter(20 * second, 30 * second, "End")),
                           "The Show", 30 * second)
    text, warnings = formats.render_checked(chapters, name)
    back = formats.parse(text, name, ParseOptions(duration_ns=chapters.duration_ns)).chapters
    said = " ".join(warnings)
    assert back.title == chapters.title or "the list title 'The Show' is not kept" in said
    assert ((back[0].img, back[0].url) == (chapters[0].img, chapters[0].url)
            or "1 chapter image/link URL(s) not kept" in said)
    if not warnings:
        assert back == chapters
