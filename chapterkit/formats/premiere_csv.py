"""Premiere Pro's marker export (read only): *File > Export > Markers*, CSV.

Premiere writes UTF-16 LE with a BOM and, despite the ``.csv`` name, tab-separated
cells with a tab at the end of every row (:mod:`chapterkit.sources` decodes the
UTF-16). The header is ``Marker Name, Description, In, Out, Duration, Marker Type``;
timecodes are ``HH:MM:SS:FF`` in the sequence's frame rate, written ``00;00;05;12``
(``;`` throughout) in a drop-frame sequence. Hand-made and re-saved copies come as
UTF-8 and comma-separated, with quoted cells that may hold commas and line breaks,
so rows are read with :mod:`csv` and columns found by their header name.

Every marker type (Comment, Chapter, Segmentation, Web Link, Flash Cue Point) is a
chapter. The title is the Marker Name, or the Description when the name is empty.
A marker with a Duration above zero is a range: its chapter ends at Out. The file
does not state the frame rate, so ``--fps`` is required; the export does not record
marker colours, so ``--marker-color`` cannot select and is refused. The sequence
start is ``00:00:00:00`` (Premiere's default) unless ``--timeline-start`` says otherwise.
"""

from __future__ import annotations

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import SourceError, UsageError
from chapterkit.formats._markers import Marker, finish, require_rate, timecode_option
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.timecode import SmpteClock

name = "premiere-csv"
extensions = (".csv",)
summary = "Premiere Pro marker export (File > Export > Markers; UTF-16 tab or UTF-8 comma; read only; needs --fps)"
render = None  # read only: Premiere imports markers from XMP, not from this export

COLUMNS = ("Marker Name", "Description", "In", "Out", "Duration", "Marker Type")


def detect(text: str) -> bool:
    """The header row names ``Marker Name``, ``In`` and ``Out``."""
    header = _header_line(text)
    if header is None:
        return False
    cells = {cell.strip().strip('"').lower() for cell in header.split("\t" if "\t" in header else ",")}
    return {"marker name", "in", "out"} <= cells


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """One chapter per row, in time order (see the module docstring)."""
    if options.marker_color:
        raise UsageError("Premiere's marker export does not record colours: --marker-color cannot select")
    rate = require_rate(options, "Premiere marker")
    clock = SmpteClock(rate)
    text = text.lstrip("\ufeff")
    header = _header_line(text)
    if header is None:
        raise SourceError("empty file: expected Premiere's header row (" + ", ".join(COLUMNS) + ")")
    import csv  # imported here: start-up stays light
    import io

    delimiter = "\t" if "\t" in header else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    markers: list[Marker] = []
    diagnostics: list[Diagnostic] = []
    columns: dict[str, int] | None = None
    any_drop = False
    previous_end = 0
    try:
        for row in reader:
            lineno, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _columns(row, lineno)
                continue
            line = (delimiter.join(row))[:200]
            cell = lambda key: (row[columns[key]].strip()  # noqa: E731
                                if key in columns and columns[key] < len(row) else "")
            start_tc = cell("in")
            if not start_tc:
                raise SourceError(f"line {lineno}: no In timecode; expected HH:MM:SS:FF in column In")
            start = _frames(start_tc, clock, lineno)
            any_drop |= ";" in start_tc
            title = cell("marker name") or " ".join(cell("description").split())
            if not title:
                diagnostics.append(Diagnostic("untitled", "marker has neither a name nor a description",
                                              lineno, line, severity="info"))
            end = None
            duration_tc, out_tc = cell("duration"), cell("out")
            if duration_tc and _frames(duration_tc, clock, lineno, drop=False) > 0:
                end = _frames(out_tc, clock, lineno) if out_tc else start + _frames(duration_tc, clock, lineno, False)
                if end < start:
                    raise SourceError(f"line {lineno}: Out {out_tc} is before In {start_tc}")
            markers.append(Marker(lineno, line, start, title, end))
    except csv.Error as exc:
        raise SourceError(f"line {reader.line_num}: {exc}") from None
    start = timecode_option(options.timeline_start, clock, any_drop) if options.timeline_start else 0
    return finish(markers, diagnostics, options, start, "Premiere", unit=1 / rate)


def _header_line(text: str) -> str | None:
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            return line
    return None


def _columns(row: list[str], lineno: int) -> dict[str, int]:
    columns = {cell.strip().lower(): index for index, cell in reversed(list(enumerate(row))) if cell.strip()}
    if "in" not in columns or not ({"marker name", "description"} & columns.keys()):
        raise SourceError(f"line {lineno}: expected Premiere's header row ({', '.join(COLUMNS)})")
    return columns


def _frames(tc: str, clock: SmpteClock, lineno: int, drop: bool | None = None) -> int:
    try:
        return clock.frames(tc, drop)
    except ValueError as exc:
        raise SourceError(f"line {lineno}: {exc}; expected HH:MM:SS:FF at the sequence's frame rate") from None
