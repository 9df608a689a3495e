"""Render verify results and chapter lists for people, scripts and CI systems.

Every ``render_*`` is a pure function of its input that returns text (only
:func:`render_github` also appends to the step summary file it is given). The
CLI picks one with :func:`render`.

``render_json`` schema, ``"schema": "chapterkit.verify/1"``. Times are integer
nanoseconds in keys ending ``_ns`` (exact, and JSON numbers hold them exactly up
to 2**53 ns, 104 days); ``null`` where unknown::

    {
      "schema": "chapterkit.verify/1",
      "media": str, "container": str | null,
      "ok": bool, "exit_code": 0 | 1 | 2,     # 2: a reader could not read the file
      "tolerance_ns": int, "max_drift_ns": int,
      "verdict": str,                          # the one-line verdict of render_text
      "expected": {"count": int, "title": str | null, "duration_ns": int | null},
      "readers": [{
        "reader": str, "summary": str, "status": "ok" | "fail", "ok": bool,
        "expected_count": int, "actual_count": int,
        "duration_ns": int | null,             # the media duration this reader reports
        "unit_ns": int,                        # the carrier's time unit (see chapterkit.verify)
        "max_drift_ns": int,
        "problems": [str], "warnings": [str], "notes": [str],   # about the whole list
        "error": str | null,                   # why this reader could not read the file at all
        "chapters": [{
          "expected_index": int | null, "actual_index": int | null,   # 1-based, by start
          "status": "ok" | "drift" | "title" | "missing" | "extra" | "beyond_duration" | "warning",
          "ok": bool,
          "expected": {"start_ns": int, "end_ns": int | null, "title": str} | null,
          "actual":   {"start_ns": int, "end_ns": int | null, "title": str} | null,
          "drift_ns": int | null,              # actual start - expected start
          "problems": [str], "warnings": [str]
        }]
      }]
    }

A consumer may rely on these keys and types for schema version 1; new keys may
be added, and anything else bumps the version.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from chapterkit.containers import ReadResult
from chapterkit.errors import ChapterkitError, UsageError
from chapterkit.model import Chapter, ChapterList
from chapterkit.timecode import format_clock
from chapterkit.verify import ChapterCheck, ReaderReport, VerifyReport, format_drift, format_unit

SCHEMA = "chapterkit.verify/1"
#: GitHub shows at most 10 error and 10 warning annotations per step and drops the
#: rest silently (ecosystem.md: community discussion 68471), so past 10 the 10th
#: becomes a count of what is not shown.
GITHUB_ANNOTATIONS = 10
#: Problem rows listed in the step summary (the file is capped at 1 MiB).
SUMMARY_ROWS = 200
TITLE_COLUMNS = 40

# -- shared text helpers -------------------------------------------------------------------------


def format_time(ns: int | None) -> str:
    """``H:MM:SS.mmm`` (exact integer arithmetic, rounded half up), ``-`` for None."""
    return "-" if ns is None else format_clock(ns)


def _clean(text: str) -> str:
    """One display line: control characters (newlines included) become visible escapes."""
    if text.isprintable():  # no Cc character: the common case, without a call per character
        return text
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in text)


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _clip(text: str, columns: int = TITLE_COLUMNS) -> str:
    text = _clean(text)
    if _width(text) <= columns:
        return text
    out = ""
    for char in text:
        if _width(out + char) > columns - 1:
            break
        out += char
    return out + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Left-aligned columns, two spaces apart; cells are padded by display width."""
    widths = [max(_width(cell) for cell in column) for column in zip(header, *rows)]
    lines = []
    for row in (header, *rows):
        cells = [cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _quoted(title: str, limit: int = TITLE_COLUMNS) -> str:
    """A title quoted and escaped for a one-line message (as verify quotes them)."""
    return repr(title if len(title) <= limit else title[:limit - 1] + "…")


def _number(row: ChapterCheck) -> str:
    return str(row.expected_index) if row.expected_index is not None else f"+{row.actual_index}"


# -- chapter lists -------------------------------------------------------------------------------


def render_table(chapters: ChapterList) -> str:
    """A chapter list as a readable table (``chapterkit parse`` without ``--to``)."""
    lines = []
    if chapters.title:
        lines.append(f"title: {_clean(chapters.title)}")
    if chapters.duration_ns is not None:
        lines.append(f"duration: {format_time(chapters.duration_ns)}")
    rows = [(str(n), format_time(c.start_ns), format_time(c.end_ns), _clean(c.title))
            for n, c in enumerate(chapters, 1)]
    lines += _table(("#", "start", "end", "title"), rows)
    return "\n".join(lines) + "\n"


def render_show(results: list[ReadResult]) -> str:
    """The chapters as each reader sees them (``chapterkit show``).

    One table when every reader agrees on starts and titles; otherwise one table
    with a column per reader, rows by position (as players list them) and ``*``
    on the rows where they differ. Durations and reader notes follow.
    """
    if not results:
        return "no reader applies\n"
    names = [result.reader for result in results]
    lines = []
    if _agree(results):
        first = results[0].chapters
        who = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]} agree"
        lines.append(f"{len(first)} chapter{'s' * (len(first) != 1)} ({who})")
        rows = [(str(n), format_time(c.start_ns), format_time(c.end_ns), _clean(c.title))
                for n, c in enumerate(first, 1)]
        lines += _table(("#", "start", "end", "title"), rows)
    else:
        lines.append("readers disagree (rows by position, as players list them; * marks a difference)")
        count = max(len(result.chapters) for result in results)
        rows = []
        for index in range(count):
            seen = [r.chapters[index] if index < len(r.chapters) else None for r in results]
            keys = {None if c is None else (c.start_ns, unicodedata.normalize("NFC", c.title)) for c in seen}
            cells = ["-" if c is None else f"{format_time(c.start_ns)} {_clip(c.title, 32)}" for c in seen]
            rows.append(("*" if len(keys) > 1 else "", str(index + 1), *cells))
        lines += _table(("", "#", *names), rows)
    durations = {result.chapters.duration_ns for result in results}
    if len(durations) == 1:
        lines.append(f"media duration: {format_time(durations.pop())}")
    else:
        lines.append("media duration: " + ", ".join(
            f"{format_time(r.chapters.duration_ns)} ({r.reader})" for r in results))
    for result in results:
        lines += [f"{result.reader}: {_clean(note)}" for note in result.notes]
    return "\n".join(lines) + "\n"


def render_show_all(results: list[ReadResult]) -> str:
    """``render_show`` of the readers that read the file, then one line per reader problem or error."""
    read = [result for result in results if result.error is None]
    text = render_show(read) if read else ""
    lines = [f"{result.reader}: problem: {_clean(problem)}" for result in read for problem in result.problems]
    lines += [f"{result.reader}: error: {_clean(result.error)}" for result in results if result.error is not None]
    return text + "".join(f"{line}\n" for line in lines)


def _agree(results: Sequence[ReadResult]) -> bool:
    def key(result: ReadResult) -> list[tuple[int, str]]:
        return [(c.start_ns, unicodedata.normalize("NFC", c.title)) for c in result.chapters]

    first = key(results[0])
    return all(key(result) == first for result in results[1:])


# -- verify reports ------------------------------------------------------------------------------


def render(report: VerifyReport, report_format: str, *, color: bool = False,
           summary_path: str | None = None) -> str:
    """The report in ``text``, ``json``, ``junit`` or ``github`` form."""
    if report_format == "text":
        return render_text(report, color=color)
    if report_format == "json":
        return render_json(report)
    if report_format == "junit":
        return render_junit(report)
    if report_format == "github":
        return render_github(report, summary_path)
    raise UsageError(f"unknown report format {report_format!r} (known: text, json, junit, github)")


def verdict(report: VerifyReport) -> str:
    """``OK: 11 chapters match in 3 readers (max drift 0.000 s)`` or ``FAIL: …``."""
    return f"{'OK' if report.ok else 'FAIL'}: {report.headline()}"


def render_text(report: VerifyReport, color: bool = False) -> str:
    """A table per reader (#, title, expected, actual, drift, status), then the verdict.

    Only problems stand out: with ``color`` failing rows are red and warnings
    yellow (click.style); without it, the status column and the ``!``/``~``
    lines below each table carry the same information. ``#`` is the chapter's
    position in the source; ``+N`` is the reader's Nth chapter, which the source lacks.
    """
    paint = _painter(color)
    lines = [f"{report.media}: tolerance {format_unit(report.tolerance_ns)}", ""]
    for reader in report.readers:
        head = f"{reader.reader}: {reader.status}"
        lines.append(paint(head, None if reader.ok else "red") + f" — {reader.summary}")
        rows = [(_number(row), _clip(row.title), format_time(row.expected.start_ns if row.expected else None),
                 format_time(row.actual.start_ns if row.actual else None),
                 "-" if row.drift_ns is None else format_drift(row.drift_ns), row.status)
                for row in reader.rows]
        table = _table(("#", "title", "expected", "actual", "drift", "status"), rows)
        lines.append(table[0])
        for row, line in zip(reader.rows, table[1:]):
            lines.append(paint(line, None if row.status == "ok" else "yellow" if row.ok else "red"))
        for problem in reader.problems:
            lines.append(paint(f"  ! {_clean(problem)}", "red"))
        for warning in reader.warnings:
            lines.append(paint(f"  ~ {_clean(warning)}", "yellow"))
        for row in reader.rows:
            lines += [paint(f"  ! {_number(row)}: {_clean(text)}", "red") for text in row.problems]
            lines += [paint(f"  ~ {_number(row)}: {_clean(text)}", "yellow") for text in row.warnings]
        lines += [f"  · {_clean(note)}" for note in reader.notes]
        lines.append("")
    lines.append(paint(verdict(report), "green" if report.ok else "red"))
    return "\n".join(lines) + "\n"


def _painter(color: bool):
    if not color:
        return lambda text, fg: text
    import click

    return lambda text, fg: click.style(text, fg=fg) if fg else text


def render_json(report: VerifyReport) -> str:
    """The report as JSON in the ``chapterkit.verify/1`` schema (module docstring)."""
    data = {
        "schema": SCHEMA,
        "media": report.media,
        "container": report.container,
        "ok": report.ok,
        "exit_code": report.exit_code,
        "tolerance_ns": report.tolerance_ns,
        "max_drift_ns": report.max_drift_ns,
        "verdict": verdict(report),
        "expected": {"count": len(report.expected), "title": report.expected.title,
                     "duration_ns": report.expected.duration_ns},
        "readers": [_reader_json(reader) for reader in report.readers],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _reader_json(reader: ReaderReport) -> dict[str, object]:
    return {
        "reader": reader.reader, "summary": reader.summary, "status": reader.status, "ok": reader.ok,
        "expected_count": reader.expected_count, "actual_count": reader.actual_count,
        "duration_ns": reader.duration_ns, "unit_ns": reader.unit_ns, "max_drift_ns": reader.max_drift_ns,
        "problems": list(reader.problems), "warnings": list(reader.warnings), "notes": list(reader.notes),
        "error": reader.error,
        "chapters": [{
            "expected_index": row.expected_index, "actual_index": row.actual_index,
            "status": row.status, "ok": row.ok,
            "expected": _chapter_json(row.expected), "actual": _chapter_json(row.actual),
            "drift_ns": row.drift_ns, "problems": list(row.problems), "warnings": list(row.warnings),
        } for row in reader.rows],
    }


def _chapter_json(chapter: Chapter | None) -> dict[str, object] | None:
    if chapter is None:
        return None
    return {"start_ns": chapter.start_ns, "end_ns": chapter.end_ns, "title": chapter.title}


# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda m: repr(m[0])[1:-1], text)


def render_junit(report: VerifyReport) -> str:
    """JUnit XML: a ``testsuite`` per reader, a ``testcase`` per chapter row.

    A failing row gets a ``failure`` (``type`` is its status); warnings go to the
    testcase's ``system-out``; reader-level findings and notes to the suite's.
    """
    failures = sum(not row.ok for reader in report.readers for row in reader.rows)
    tests = sum(len(reader.rows) for reader in report.readers)
    root = ET.Element("testsuites", name="chapterkit verify", tests=str(tests), failures=str(failures),
                      errors="0", time="0")
    for reader in report.readers:
        suite = ET.SubElement(root, "testsuite", name=f"chapterkit.verify.{reader.reader}",
                              tests=str(len(reader.rows)), failures=str(sum(not r.ok for r in reader.rows)),
                              errors="0", skipped="0", time="0")
        for row in reader.rows:
            name = (f"chapter {row.expected_index}" if row.expected_index is not None
                    else f"extra chapter {row.actual_index}")
            case = ET.SubElement(suite, "testcase", classname=f"chapterkit.verify.{reader.reader}",
                                 name=_xml(f"{name}: {_clean(row.title)}"), file=_xml(report.media), time="0")
            if not row.ok:
                failure = ET.SubElement(case, "failure", type=row.status, message=_xml(_clean(row.problems[0])))
                failure.text = _xml("\n".join(row.problems))
            if row.warnings:
                ET.SubElement(case, "system-out").text = _xml("\n".join(f"warning: {w}" for w in row.warnings))
        findings = ([f"problem: {p}" for p in reader.problems] + [f"warning: {w}" for w in reader.warnings]
                    + [f"note: {n}" for n in reader.notes])
        if findings:
            ET.SubElement(suite, "system-out").text = _xml("\n".join(findings))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- GitHub Actions ------------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    # Workflow command escaping (actions/toolkit packages/core/src/command.ts escapeData).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: VerifyReport, summary_path: str | None = None) -> str:
    """``::error``/``::warning`` workflow commands, then the verdict line.

    At most :data:`GITHUB_ANNOTATIONS` of each kind: past that, the last one says
    how many are not shown. With ``summary_path`` (``$GITHUB_STEP_SUMMARY``) a
    Markdown summary is appended to that file.
    """
    errors: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    for reader in report.readers:
        title = f"chapterkit verify ({reader.reader})"
        errors += [(title, problem) for problem in reader.problems]
        warnings += [(title, warning) for warning in reader.warnings]
        for row in reader.rows:
            where = f"chapter {_number(row)} {_quoted(row.title)}: "
            if row.problems:
                errors.append((title, where + "; ".join(row.problems)))
            if row.warnings:
                warnings.append((title, where + "; ".join(row.warnings)))
    file = _escape_property(report.media)
    lines = _annotations("error", errors, file, "problems") + _annotations("warning", warnings, file, "warnings")
    lines.append(verdict(report))
    if summary_path:
        _append_summary(summary_path, render_markdown(report))
    return "\n".join(lines) + "\n"


def _annotations(kind: str, items: list[tuple[str, str]], file: str, what: str) -> list[str]:
    shown = items if len(items) <= GITHUB_ANNOTATIONS else items[:GITHUB_ANNOTATIONS - 1]
    lines = [f"::{kind} file={file},title={_escape_property(title)}::{_escape_data(message)}"
             for title, message in shown]
    if len(shown) < len(items):
        lines.append(f"::{kind}::{len(items) - len(shown)} more {what} not shown")
    return lines


def render_markdown(report: VerifyReport) -> str:
    """The GitHub step summary: the verdict, a line per reader, then the rows with findings."""
    mark = "✅" if report.ok else "❌"
    lines = [f"### {mark} chapterkit verify: {_md(report.media)}", "", _md(verdict(report)), "",
             "| reader | status | chapters (source / read) | max drift | problems | warnings |",
             "|---|---|---|---|---|---|"]
    for r in report.readers:
        problems = len(r.problems) + sum(not row.ok for row in r.rows)
        warnings = len(r.warnings) + sum(bool(row.warnings) for row in r.rows)
        lines.append(f"| {r.reader} | {r.status} | {r.expected_count} / {r.actual_count} | "
                     f"{format_drift(r.max_drift_ns, signed=False)} | {problems} | {warnings} |")
    found = [(r.reader, row) for r in report.readers for row in r.rows if row.status != "ok"]
    if found:
        lines += ["", "| reader | # | title | expected | actual | drift | status | detail |",
                  "|---|---|---|---|---|---|---|---|"]
        for reader, row in found[:SUMMARY_ROWS]:
            detail = "; ".join(row.problems + row.warnings)
            lines.append(
                f"| {reader} | {_number(row)} | {_md(_clip(row.title))} | "
                f"{format_time(row.expected.start_ns if row.expected else None)} | "
                f"{format_time(row.actual.start_ns if row.actual else None)} | "
                f"{'-' if row.drift_ns is None else format_drift(row.drift_ns)} | {row.status} | {_md(detail)} |")
        if len(found) > SUMMARY_ROWS:
            lines.append(f"\n{len(found) - SUMMARY_ROWS} more rows not shown")
    return "\n".join(lines) + "\n\n"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no newlines, no HTML."""
    return _clean(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _append_summary(path: str, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=path, verb="appending the step summary to") from None


__all__ = ["SCHEMA", "format_drift", "format_time", "render", "render_github", "render_json", "render_junit",
           "render_markdown", "render_show", "render_table", "render_text", "verdict"]
