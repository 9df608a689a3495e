"""Golden files of the editors' marker exports: ``fixtures/formats/<format>/<case>.<ext>``.

Each input has ``<case>.expected.json``, shaped like the description fixtures:
``{"options": {"fps": "30000/1001", "timeline_start": "01:00:10:00", "marker_color": "blue"},
"chapters": [{"start": "12.5", "end": "20", "title": ...}], "diagnostics": [{"lineno": N,
"code": ...}], "refused": null | "<code>"}``. Times are exact decimal seconds (rounded
to the nanosecond, as the model stores them); ``end`` is omitted when the chapter has none.
Inputs are read by :func:`chapterkit.sources.read_text`, as a file would be (a ``.fcpxmld``
bundle is a folder).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from chapterkit import formats, sources
from chapterkit.errors import NoChaptersError
from chapterkit.formats.base import ParseOptions
from chapterkit.timecode import format_seconds
from conftest import FIXTURES


def cases(format_name: str) -> list[Path]:
    """Every input file of a format's goldens (the files beside an ``.expected.json``)."""
    folder = FIXTURES / "formats" / format_name
    return sorted(p for p in folder.iterdir() if not p.name.endswith((".json", ".md")))  # a .fcpxmld is a folder


def expected_path(path: Path) -> Path:
    return path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")


def options_from(spec: dict) -> ParseOptions:
    return ParseOptions(fps=Fraction(spec["fps"]) if "fps" in spec else None,
                        timeline_start=spec.get("timeline_start"), marker_color=spec.get("marker_color"))


def outcome(format_name: str, path: Path, options: ParseOptions) -> dict:
    """What parsing the file gives, in the goldens' schema (minus ``options``)."""
    text = sources.read_text(path)
    try:
        result = formats.get_format(format_name).parse(text, options)
    except NoChaptersError as exc:
        refused = next(d.code for d in exc.diagnostics if d.severity == "error")
        chapters, diagnostics = [], exc.diagnostics
    else:
        refused, diagnostics = None, result.diagnostics
        chapters = []
        for chapter in result.chapters:
            item = {"start": format_seconds(chapter.start_ns)}
            if chapter.end_ns is not None:
                item["end"] = format_seconds(chapter.end_ns)
            item["title"] = chapter.title
            chapters.append(item)
    return {"chapters": chapters, "diagnostics": [{"lineno": d.lineno, "code": d.code} for d in diagnostics],
            "refused": refused}


def check(format_name: str, path: Path) -> None:
    expected = json.loads(expected_path(path).read_text("utf-8"))
    got = outcome(format_name, path, options_from(expected.get("options", {})))
    assert got == {k: expected[k] for k in ("chapters", "diagnostics", "refused")}
