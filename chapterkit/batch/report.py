"""Batch (and multi-file verify) reports: one JSON document, rendered as text, JUnit or GitHub.

Every renderer takes the JSON document (:func:`to_document`), so ``chapterkit report
merge`` output renders in every format exactly like a single run. Every file is in
every format: written, up to date, skipped, refused, failed with exit 2, not run.

Schema ``chapterkit.batch/2`` (version 1 had no diagnostics, readers, method or
statuses beyond ok/findings/error/skipped). Times in ms::

    {"schema": "chapterkit.batch/2", "command": "batch" | "verify",
     "mode": "embed" | "check", "dry_run": bool, "strict": bool,
     "exit_code": 0 | 1 | 2 | 130, "interrupted": bool, "elapsed_ms": int,
     "workers": int, "executor": "process" | "thread", "shard": "K/N" | null,
     "out_dir": str | null, "in_place": bool,
     "counts": {"total": int, "<status>": int, ...},     # every status below
     "written": [name, ...],                              # files this run wrote, exactly
     "files": [{
        "name": str,                  # media path relative to the folder (unique)
        "media": str, "source": str | null, "candidates": [str],   # rival sources
        "output": str | null,         # the file written, or that would be / is up to date
        "status": "written" | "up to date" | "would write" | "ok" | "findings" | "error"
                  | "skipped" | "not run",
        "exit_code": 0 | 1 | 2, "written": bool, "message": str,
        "method": str | null,         # as chapterkit.embed returns it (EmbedResult.method)
        "container": str | null, "chapters": int | null,
        "warnings": [str],
        "diagnostics": [{"code", "message", "lineno", "line", "suggestion", "severity"}],
        "chapter_lines": [int],       # source line of chapter N at index N-1 (0 unknown)
        "readers": [...],             # --check: per-reader results, as chapterkit.verify/1 "readers"
        "elapsed_ms": int}]}

New keys may be added within version 2; anything else bumps the version.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from chapterkit.batch.work import EXIT_INTERRUPTED, STATUSES, BatchReport
from chapterkit.errors import ChapterkitError, UsageError

SCHEMA = "chapterkit.batch/2"
GITHUB_ANNOTATIONS = 10
REPORT_FORMATS = ("text", "json", "junit", "github")


def to_document(report: BatchReport, command: str = "batch") -> dict:
    s = report.settings
    files = [{
        "name": o.job.name, "media": o.job.media, "source": o.job.source, "candidates": list(o.job.candidates),
        "output": o.output, "status": o.status, "exit_code": o.exit_code, "written": o.written,
        "message": o.message, "method": o.method, "container": o.container, "chapters": o.chapters,
        "warnings": list(o.warnings), "diagnostics": list(o.diagnostics), "chapter_lines": list(o.chapter_lines),
        "readers": list(o.readers), "elapsed_ms": o.elapsed_ms,
    } for o in report.outcomes]
    return _finish({"schema": SCHEMA, "command": command, "mode": s.mode, "dry_run": s.dry_run, "strict": s.strict,
                    "exit_code": report.exit_code, "interrupted": report.interrupted,
                    "elapsed_ms": report.elapsed_ms, "workers": report.workers, "executor": report.executor,
                    "shard": report.shard, "out_dir": s.out_dir, "in_place": s.in_place}, files)


def _finish(head: dict, files: list[dict]) -> dict:
    counts = {"total": len(files), **{status: sum(f["status"] == status for f in files) for status in STATUSES}}
    return {**head, "counts": counts, "written": [f["name"] for f in files if f["written"]], "files": files}


def merge(documents: Sequence[dict]) -> dict:
    """One report from the JSON reports of shards: files by name, counts and exit code recomputed."""
    if not documents:
        raise UsageError("report merge needs at least one report")
    for document in documents:
        if document.get("schema") != SCHEMA:
            raise UsageError(f"not a {SCHEMA} report (schema {document.get('schema')!r})")
    modes = {(d["mode"], d["dry_run"]) for d in documents}
    if len(modes) > 1:
        raise UsageError("the reports come from different modes (embed, check, dry run); merge like with like")
    files = sorted((f for d in documents for f in d["files"]), key=lambda f: f["name"])
    names = [f["name"] for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"{len(twice)} file(s) are in more than one report (first: {twice[0]}); "
                         "were the shards overlapping?")
    interrupted = any(d["interrupted"] for d in documents)
    exit_code = EXIT_INTERRUPTED if interrupted else max((f["exit_code"] for f in files), default=0)
    first = documents[0]
    head = {key: first[key] for key in ("schema", "command", "mode", "dry_run", "strict", "out_dir", "in_place")}
    head.update(exit_code=exit_code, interrupted=interrupted,
                elapsed_ms=max(d["elapsed_ms"] for d in documents),
                workers=sum(d["workers"] for d in documents), executor=first["executor"], shard=None)
    return _finish(head, files)


def load(path: str) -> dict:
    from chapterkit.sources import read_text

    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ChapterkitError(f"not a JSON report: {exc.msg} (line {exc.lineno})", path=path,
                              verb="reading") from None


def render(document: dict, report_format: str, *, summary_path: str | None = None) -> str:
    if report_format == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if report_format == "junit":
        return render_junit(document)
    if report_format == "github":
        return render_github(document, summary_path)
    if report_format == "text":
        return render_text(document)
    raise UsageError(f"unknown report format {report_format!r} (known: {', '.join(REPORT_FORMATS)})")


# -- text ----------------------------------------------------------------------------------------


def counts_line(document: dict) -> str:
    """``24 files: 10 written, 3 up to date, 1 findings, 1 error, 2 skipped`` (statuses present only)."""
    counts = document["counts"]
    parts = [f"{counts[status]} {status}" for status in STATUSES if counts.get(status)]
    return f"{counts['total']} file{'s' * (counts['total'] != 1)}: {', '.join(parts) or 'nothing to do'}"


def verdict(document: dict) -> str:
    """The one line on stderr: OK/FAIL/INTERRUPTED, the counts, the time; who was written when stopped."""
    code = document["exit_code"]
    word = {0: "OK", EXIT_INTERRUPTED: "INTERRUPTED"}.get(code, "FAIL")
    ms = document["elapsed_ms"]
    line = f"{word}: {counts_line(document)} in {ms // 1000}.{ms % 1000 // 100} s (exit {code})"
    if document["interrupted"]:
        written = document["written"]
        line += (f"; written before the stop: {', '.join(written)}" if written
                 else "; no file was written")
    return line


def render_text(document: dict) -> str:
    """Every file with its status, then the problems' details (warnings marked ``~``)."""
    width = max((len(f["status"]) for f in document["files"]), default=0)
    lines = []
    for f in document["files"]:
        detail = f["message"] if f["status"] not in ("written",) else f"{f['chapters']} chapters ({f['method']})"
        lines.append(f"{f['status']:<{width}}  {f['name']}: {detail}")
        lines += [f"{'':<{width}}  ~ {warning}" for warning in f["warnings"]]
    lines.append(counts_line(document))
    return "\n".join(lines) + "\n"


# -- JUnit ---------------------------------------------------------------------------------------


def render_junit(document: dict) -> str:
    """A ``testsuite`` per media file (named by its unique relative name) with its real time.

    Its testcase fails (``failure``) for findings, errors (``error``) for exit 2, and is
    ``skipped`` for a file without a source or not run; per-reader results are listed in
    the failure text.
    """
    from chapterkit.reports import _xml

    files = document["files"]
    root = ET.Element("testsuites", name=f"chapterkit {document['command']}", tests=str(len(files)),
                      failures=str(sum(f["exit_code"] == 1 for f in files)),
                      errors=str(sum(f["exit_code"] == 2 for f in files)),
                      time=_seconds(document["elapsed_ms"]))
    for f in files:
        failed, errored = f["exit_code"] == 1, f["exit_code"] == 2
        skipped = f["status"] in ("skipped", "not run")
        suite = ET.SubElement(root, "testsuite", name=_xml(f["name"]), tests="1", failures=str(int(failed)),
                              errors=str(int(errored)), skipped=str(int(skipped)), time=_seconds(f["elapsed_ms"]))
        case = ET.SubElement(suite, "testcase", classname=_xml(f"chapterkit.{document['mode']}"),
                             name=_xml(f"{f['name']}: {f['status']}"), file=_xml(f["source"] or f["media"]),
                             time=_seconds(f["elapsed_ms"]))
        detail = [f"{r['reader']}: {r['status']}; " + "; ".join(
            r["problems"] + [p for row in r["chapters"] for p in row["problems"]]) for r in f["readers"]]
        detail += [f"line {d['lineno']}: {d['severity']}: {d['message']}" for d in f["diagnostics"]]
        detail += [f"warning: {w}" for w in f["warnings"]]
        if failed or errored:
            element = ET.SubElement(case, "failure" if failed else "error", message=_xml(f["message"]),
                                    type=f["status"])
            element.text = _xml("\n".join([f["message"], *detail]))
        elif skipped:
            ET.SubElement(case, "skipped", message=_xml(f["message"]))
        if detail and not (failed or errored):
            ET.SubElement(case, "system-out").text = _xml("\n".join(detail))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"


# -- GitHub Actions ------------------------------------------------------------------------------


def annotations(document: dict) -> tuple[list[tuple], list[tuple]]:
    """(errors, warnings) as ``(file, line, title, message)``: one per problem, not per reader.

    A problem in the chapter source (a refused or skipped line, the drift of chapter N)
    points at the source file and line (chapter N's line); the rest at the media file.
    """
    errors: list[tuple] = []
    warnings: list[tuple] = []
    for f in document["files"]:
        media, source, title = f["media"], f["source"], f"chapterkit: {f['name']}"
        lines = f["chapter_lines"]
        if f["status"] == "error" or (f["exit_code"] == 2):
            errors.append((media, 0, title, f["message"]))
        elif f["status"] == "findings":
            found = _row_problems(f)
            refusals = [d for d in f["diagnostics"] if d["severity"] == "error"]
            for d in refusals:
                errors.append((source, d["lineno"], title, d["message"]))
            for key, (index, text, readers) in found.items():
                line = lines[index - 1] if index and index <= len(lines) else 0
                where = source if line else media
                errors.append((where, line, title, f"{text} ({', '.join(readers)})"))
            if not found and not refusals:
                errors.append((media, 0, title, f["message"]))
        seen = set()
        for d in f["diagnostics"]:
            if d["severity"] == "warning":
                seen.add(d["message"])
                warnings.append((source, d["lineno"], title, d["message"]))
        for warning in f["warnings"]:
            if not any(message in warning for message in seen):
                warnings.append((media, 0, title, warning))
    return errors, warnings


def _row_problems(f: dict) -> dict:
    """Problems per chapter row merged across readers: key -> (chapter number, text, readers)."""
    found: dict = {}
    for reader in f["readers"]:
        for problem in reader["problems"]:
            found.setdefault(("list", problem), (0, problem, []))[2].append(reader["reader"])
        for row in reader["chapters"]:
            if row["ok"]:
                continue
            number = row["expected_index"]
            label = f"chapter {number}" if number is not None else f"extra chapter {row['actual_index']}"
            key = (number if number is not None else f"+{row['actual_index']}", row["status"])
            text = f"{label}: {'; '.join(row['problems'])}"
            found.setdefault(key, (number or 0, text, []))[2].append(reader["reader"])
    return found


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _commands(kind: str, items: list[tuple], what: str) -> list[str]:
    # GitHub shows at most 10 annotations of a kind per step and drops the rest silently.
    shown = items if len(items) <= GITHUB_ANNOTATIONS else items[:GITHUB_ANNOTATIONS - 1]
    lines = []
    for file, line, title, message in shown:
        where = f"file={_escape_property(file)}" + (f",line={line}" if line else "")
        lines.append(f"::{kind} {where},title={_escape_property(title)}::{_escape_data(message)}")
    if len(shown) < len(items):
        lines.append(f"::{kind}::{len(items) - len(shown)} more {what} not shown (see the step summary)")
    return lines


def render_github(document: dict, summary_path: str | None = None) -> str:
    """Workflow commands (at most 10 errors and 10 warnings, the 10th a count), then the verdict.

    With ``summary_path`` (``$GITHUB_STEP_SUMMARY``) a table of every file is appended there.
    """
    errors, warnings = annotations(document)
    lines = _commands("error", errors, "problems") + _commands("warning", warnings, "warnings")
    lines.append(verdict(document))
    if summary_path:
        from chapterkit.reports import _append_summary

        _append_summary(summary_path, render_markdown(document))
    return "\n".join(lines) + "\n"


def render_markdown(document: dict) -> str:
    from chapterkit.reports import _md

    mark = "✅" if document["exit_code"] == 0 else "❌"
    lines = [f"### {mark} chapterkit {document['command']}: {_md(counts_line(document))}", "",
             "| file | status | source | chapters | detail |", "|---|---|---|---|---|"]
    for f in document["files"]:
        lines.append(f"| {_md(f['name'])} | {f['status']} | {_md(f['source'] or '-')} | "
                     f"{'-' if f['chapters'] is None else f['chapters']} | {_md(f['message'])} |")
    return "\n".join(lines) + "\n\n"
