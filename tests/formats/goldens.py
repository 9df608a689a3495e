"""Golden files: ``fixtures/formats/<format>/<case>.<ext>`` beside ``<case>.expected.json``.

One reading of every golden, shared by the contract test (tests/formats/test_contract.py,
whose docstring gives the schema) and the per-format tests: :func:`load` finds the input
by the format's own extensions and reads it as chapterkit reads files, :func:`outcome`
parses it into the goldens' shape, :func:`comparable` is the golden less the keys that
steer the test (``options``, ``detect``/``detected``, ``why``). Starts and ends are exact
decimal seconds; the BOM and UTF-16 cases go the way a user's file does.
"""

from __future__ import annotations

import json
from pathlib import Path

from chapterkit import formats, sources
from chapterkit.cli_options import build_options
from chapterkit.errors import ChapterkitError
from chapterkit.formats.base import ParseOptions
from chapterkit.model import Atom, Edition
from chapterkit.timecode import format_seconds, parse_clock
from conftest import FIXTURES

ROOT = FIXTURES / "formats"
#: The tool-written formats (their per-format tests share the helpers below).
MINE = ("mp4chaps", "podcast", "psc", "cue", "audacity", "youtube-dl-json")


def inputs(fmt: str) -> list[Path]:
    """Every input file of ``fmt``'s goldens."""
    return sorted(p for p in (ROOT / fmt).iterdir() if not p.name.endswith(".expected.json"))


def case_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def expectation(path: Path) -> dict:
    return json.loads((path.parent / f"{case_of(path)}.expected.json").read_text("utf-8"))


EXPECTED = ".expected.json"
#: Keys of a golden that steer the test rather than describe the parse.
STEERING = ("options", "detect", "detected", "why")


def case_name(name: str, path: Path) -> str:
    """``path``'s name less the longest of format ``name``'s extensions it ends with, else less its last suffix."""
    lowered = path.name.lower()
    own = [ext for ext in formats.get_format(name).extensions if lowered.endswith(ext.lower())]
    return path.name[:-len(max(own, key=len))] if own else path.name[:-len(path.suffix) or None]


def input_of(name: str, expected: Path) -> Path:
    case = expected.name.removesuffix(EXPECTED)
    inputs = [p for p in expected.parent.iterdir()
              if not p.name.endswith((EXPECTED, ".md")) and case_name(name, p) == case]
    assert len(inputs) == 1, f"{expected}: expected one input file {case}.<ext>, found {inputs}"
    return inputs[0]


def options_from(spec: dict) -> ParseOptions:
    """The golden's ``options`` as the CLI's options make them (``"29.97"`` is 30000/1001)."""
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
    """The golden's expectation, the input's text as chapterkit reads files, and the input's path."""
    expected = json.loads(expected_path.read_text("utf-8"))
    source = input_of(name, expected_path)
    return expected, sources.read_text(source), source


def comparable(expected: dict) -> dict:
    """The golden less the keys that steer the test."""
    return {key: value for key, value in expected.items() if key not in STEERING}


# -- shared by the per-format tests ------------------------------------------------------------

import pytest  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from chapterkit.model import Chapter, ChapterList  # noqa: E402

S = 1_000_000_000


def golden_params(fmt: str) -> list:
    return [pytest.param(path, id=path.name) for path in inputs(fmt)]


def check_golden(fmt: str, path: Path) -> None:
    """The file parses to its expectation, and the format's detection claims its content unless told."""
    expected, text, source = load(fmt, path.parent / f"{case_of(path)}{EXPECTED}")
    assert source == path
    assert outcome(fmt, text, options_from(expected.get("options", {})), expected) == comparable(expected)
    if expected.get("detect", expected.get("detected", True)):
        assert formats.get_format(fmt).detect(text), path
        assert formats.detect(text).name == fmt


@st.composite
def chapter_lists(draw, *, links: bool = False, max_size: int = 8, sorted_starts: bool = True,
                  titles=st.text(max_size=30)) -> ChapterList:
    """Lists with explicit or derived ends, optional list title and duration, optional img/url."""
    starts = draw(st.lists(st.integers(0, 10**13), min_size=1, max_size=max_size))
    if sorted_starts:
        starts.sort()
    chapters = []
    for start in starts:
        end = draw(st.one_of(st.none(), st.integers(0, 10**11).map(lambda length, s=start: s + length)))
        link = st.one_of(st.none(), st.text(min_size=1, max_size=20)) if links else st.none()
        chapters.append(Chapter(start, end, draw(titles), draw(link), draw(link)))
    last = max(c.end_ns or c.start_ns for c in chapters)
    duration = draw(st.one_of(st.none(), st.integers(last, last + 10**11)))
    return ChapterList(tuple(chapters), draw(st.one_of(st.none(), st.text(max_size=20))), duration)


def lost(original: ChapterList, back: ChapterList) -> bool:
    """Whether starts, titles, img or url differ (ends are checked by the formats' own end warnings)."""
    def key(chapters):
        return [(c.start_ns, c.title, c.img, c.url) for c in chapters]
    return key(original) != key(back)
