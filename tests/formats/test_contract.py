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

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats, sources
from chapterkit.cli_options import build_options
from chapterkit.errors import ChapterkitError, UsageError
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_SECOND, Atom, Chapter, ChapterList, Edition
from chapterkit.timecode import format_seconds, parse_clock
from conftest import FIXTURES

ROOT = FIXTURES / "formats"


EXPECTED = ".expected.json"
#: Keys of a golden that steer the test rather than describe the parse.
STEERING = ("options", "detect", "detected", "why")


def _cases() -> list[tuple[str, Path]]:
    found = []
    for name in formats.FORMATS:
        for expected in sorted((ROOT / name).glob("*" + EXPECTED)):
            found.append((name, expected))
    return found


CASES = _cases()


def case_name(name: str, path: Path) -> str:
    """``path``'s name less the longest of format ``name``'s extensions it ends with, else less its last suffix."""
    lowered = path.name.lower()
    own = [ext for ext in formats.get_format(name).extensions if lowered.endswith(ext.lower())]
    return path.name[:-len(max(own, key=len))] if own else path.name[:-len(path.suffix) or None]


def _input(name: str, expected: Path) -> Path:
    case = expected.name.removesuffix(EXPECTED)
    inputs = [p for p in expected.parent.iterdir()
              if not p.name.endswith((EXPECTED, ".md")) and case_name(name, p) == case]
    assert len(inputs) == 1, f"{expected}: expected one input file {case}.<ext>, found {inputs}"
    return inputs[0]


def options_from(spec: dict) -> ParseOptions:
    return build_options(duration_ns=parse_clock(spec["duration"]) if "duration" in spec else None,
                         lenient=spec.get("lenient", False), fps=spec.get("fps"), rules=spec.get("rules", "youtube"),
                         language=spec.get("language"), timeline_start=spec.get("timeline_start"),
                         marker_color=spec.get("marker_color"), split_flattened=spec.get("split_flattened", False))


def _time(ns: int | None) -> str | None:
    return None if ns is None else format_seconds(ns)


def editions_json(editions: tuple[Edition, ...]) -> list[dict]:
    """The Matroska structure in the goldens' shape (defaults left out, so goldens stay short)."""
    def atom(item: Atom) -> dict:
        out: dict = {"start": _time(item.start_ns), "end": _time(item.end_ns)}
        for key, value, default in (("uid", item.uid, None), ("hidden", item.flag_hidden, False),
                                    ("enabled", item.flag_enabled, True), ("string_uid", item.string_uid, None),
                                    ("segment_uuid", item.segment_uuid and item.segment_uuid.hex(), None),
                                    ("segment_edition_uid", item.segment_edition_uid, None),
                                    ("physical_equiv", item.physical_equiv, None), ("skip_type", item.skip_type, None),
                                    ("tracks", list(item.tracks), [])):
            if value != default:
                out[key] = value
        out["displays"] = [{"string": d.string, "languages": list(d.languages), "ietf": list(d.languages_ietf),
                            "countries": list(d.countries)} for d in item.displays]
        if item.children:
            out["children"] = [atom(child) for child in item.children]
        return out

    return [{"uid": e.uid, "hidden": e.flag_hidden, "default": e.flag_default, "ordered": e.flag_ordered,
             "displays": [{"string": d.string, "ietf": list(d.languages_ietf)} for d in e.displays],
             "atoms": [atom(a) for a in e.atoms]} for e in editions]


def outcome(name: str, text: str, options: ParseOptions, expected: dict) -> dict:
    """What parsing gives, in the goldens' shape, keeping only the optional keys the golden uses."""
    try:
        result = formats.parse(text, name, options)
    except ChapterkitError as exc:
        errors = [d.code for d in getattr(exc, "diagnostics", ()) if d.severity == "error"]
        refused = expected.get("refused")
        if refused not in (errors[:1] + [type(exc).__name__]) and not (refused and refused in str(exc)):
            refused = errors[0] if errors else f"{type(exc).__name__}: {exc}"
        got = {"chapters": [], "diagnostics": [{"lineno": d.lineno, "code": d.code}
                                               for d in getattr(exc, "diagnostics", ())], "refused": refused}
        if "message" in expected:
            got["message"] = expected["message"] if expected["message"] in str(exc) else str(exc)
        return got
    wanted = expected.get("chapters") or []
    # A key written as null in any row is compared in every row; otherwise it is there when the chapter has it.
    every = {key for item in wanted for key in ("end", "img", "url") if key in item and item[key] is None}
    chapters = []
    for chapter in result.chapters:
        row: dict = {"start": _time(chapter.start_ns)}
        if "end" in every or chapter.end_ns is not None:
            row["end"] = _time(chapter.end_ns)
        row["title"] = chapter.title
        for key in ("img", "url"):
            if key in every or getattr(chapter, key) is not None:
                row[key] = getattr(chapter, key)
        chapters.append(row)
    got = {"chapters": chapters, "diagnostics": [{"lineno": d.lineno, "code": d.code} for d in result.diagnostics],
           "refused": None}
    if "title" in expected or result.chapters.title is not None:
        got["title"] = result.chapters.title
    if "duration" in expected or result.chapters.duration_ns is not None:
        got["duration"] = _time(result.chapters.duration_ns)
    if "editions" in expected:
        got["editions"] = editions_json(result.chapters.editions)
    return got


def load(name: str, expected_path: Path) -> tuple[dict, str, Path]:
    expected = json.loads(expected_path.read_text("utf-8"))
    source = _input(name, expected_path)
    return expected, sources.read_text(source), source


def test_every_registered_format_has_goldens():
    missing = [name for name in formats.FORMATS if not list((ROOT / name).glob("*.expected.json"))]
    assert not missing, f"formats without goldens in fixtures/formats/: {missing}"


@pytest.mark.parametrize(("name", "expected_path"), CASES, ids=[f"{n}/{p.name.removesuffix(EXPECTED)}" for n, p in CASES])
def test_golden_parses_as_expected(name, expected_path):
    expected, text, _source = load(name, expected_path)
    got = outcome(name, text, options_from(expected.get("options", {})), expected)
    want = {key: value for key, value in expected.items() if key not in STEERING}
    assert got == want


@pytest.mark.parametrize(("name", "expected_path"), CASES, ids=[f"{n}/{p.name.removesuffix(EXPECTED)}" for n, p in CASES])
def test_detection_claims_its_goldens(name, expected_path):
    expected, text, source = load(name, expected_path)
    if expected.get("detect", expected.get("detected", True)):
        assert formats.detect(text, source).name == name


WRITABLE = [(name, path) for name, path in CASES if name in formats.writable()]


@pytest.mark.parametrize(("name", "expected_path"), WRITABLE, ids=[f"{n}/{p.name.removesuffix(EXPECTED)}" for n, p in WRITABLE])
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
