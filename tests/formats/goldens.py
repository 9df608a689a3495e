"""Golden files of the tool-written formats: ``fixtures/formats/<format>/<case>.<ext>``
beside ``<case>.expected.json``.

The expectation is shaped like ``fixtures/descriptions/*.expected.json``::

    {"chapters": [{"start": "12.5", "end": "20", "title": "...", "img": "...", "url": "..."}],
     "title": "list title" (optional), "duration": "212" (optional),
     "diagnostics": [{"lineno": 3, "code": "..."}],
     "refused": null | "SourceError" | "NoChaptersError", "message": "text the error holds" (optional),
     "detected": false (optional: the format's detection need not claim this case; "why" says why)}

Starts and ends are exact decimal seconds (``end`` omitted when the model has
none). Inputs are decoded as chapter files are (:func:`chapterkit.sources.decode`),
so the BOM and UTF-16 cases go the way a user's file does.
"""

from __future__ import annotations

import json
from pathlib import Path

from chapterkit import formats
from chapterkit.errors import ChapterkitError
from chapterkit.sources import decode
from chapterkit.timecode import format_seconds
from conftest import FIXTURES

ROOT = FIXTURES / "formats"
MINE = ("mp4chaps", "podcast", "psc", "cue", "audacity", "youtube-dl-json")


def inputs(fmt: str) -> list[Path]:
    """Every input file of ``fmt``'s goldens."""
    return sorted(p for p in (ROOT / fmt).iterdir() if not p.name.endswith(".expected.json"))


def case_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def expectation(path: Path) -> dict:
    return json.loads((path.parent / f"{case_of(path)}.expected.json").read_text("utf-8"))


def text_of(path: Path) -> str:
    return decode(path.read_bytes(), path=str(path))


def outcome(fmt: str, path: Path) -> dict:
    """What parsing the file as ``fmt`` gives, in the expectation's schema."""
    expected = expectation(path)
    got: dict = {}
    try:
        result = formats.get_format(fmt).parse(text_of(path))
    except ChapterkitError as exc:
        got = {"chapters": [], "diagnostics": [{"lineno": d.lineno, "code": d.code}
                                               for d in getattr(exc, "diagnostics", ())],
               "refused": type(exc).__name__}
        if "message" in expected:
            got["message"] = expected["message"] if expected["message"] in str(exc) else str(exc)
        return got
    rows = []
    for chapter in result.chapters:
        row = {"start": format_seconds(chapter.start_ns)}
        if chapter.end_ns is not None:
            row["end"] = format_seconds(chapter.end_ns)
        row["title"] = chapter.title
        for key in ("img", "url"):
            if getattr(chapter, key) is not None:
                row[key] = getattr(chapter, key)
        rows.append(row)
    got = {"chapters": rows}
    if result.chapters.title is not None:
        got["title"] = result.chapters.title
    if result.chapters.duration_ns is not None:
        got["duration"] = format_seconds(result.chapters.duration_ns)
    got["diagnostics"] = [{"lineno": d.lineno, "code": d.code} for d in result.diagnostics]
    got["refused"] = None
    return got


def comparable(expected: dict) -> dict:
    return {key: value for key, value in expected.items() if key not in ("detected", "why")}


# -- shared by the per-format tests ------------------------------------------------------------

import pytest  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from chapterkit.model import Chapter, ChapterList  # noqa: E402

S = 1_000_000_000


def golden_params(fmt: str) -> list:
    return [pytest.param(path, id=path.name) for path in inputs(fmt)]


def check_golden(fmt: str, path: Path) -> None:
    """The file parses to its expectation, and the format's detection claims it unless told."""
    expected = expectation(path)
    assert outcome(fmt, path) == comparable(expected)
    if expected.get("detected", True):
        assert formats.get_format(fmt).detect(text_of(path)), path
        assert formats.detect(text_of(path)).name == fmt


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
