"""Golden files of the editors' marker exports: ``fixtures/formats/<format>/<case>.<ext>``.

Each input has ``<case>.expected.json`` (schema: tests/formats/test_contract.py), e.g.
``{"options": {"fps": "30000/1001", "timeline_start": "01:00:10:00", "marker_color": "blue"},
"chapters": [{"start": "12.5", "end": "20", "title": ...}], "diagnostics": [{"lineno": N,
"code": ...}], "refused": null | "<code>"}``. Times are exact decimal seconds (rounded
to the nanosecond, as the model stores them); ``end`` is omitted when the chapter has none.
Inputs are read by :func:`chapterkit.sources.read_text`, as a file would be (a ``.fcpxmld``
bundle is a folder); :func:`formats.goldens.check_golden` does the reading and comparing.
"""

from __future__ import annotations

from pathlib import Path

from conftest import FIXTURES
from formats.goldens import check_golden


def cases(format_name: str) -> list[Path]:
    """Every input file of a format's goldens (the files beside an ``.expected.json``)."""
    folder = FIXTURES / "formats" / format_name
    return sorted(p for p in folder.iterdir() if not p.name.endswith((".json", ".md")))  # a .fcpxmld is a folder


def expected_path(path: Path) -> Path:
    return path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")


def check(format_name: str, path: Path) -> None:
    """The file parses to its golden (read as the contract test reads every golden)."""
    check_golden(format_name, path)
