"""Embed chapters into a whole folder of media, in parallel, past every bad file.

An editor's output folder holds media next to *sidecar* chapter files of the same
stem. :func:`find_jobs` pairs them; the first sidecar that exists wins, in this order
(most specific first, so ``clip.chapters.txt`` beats a ``clip.txt`` that may be notes)::

    <stem>.chapters.txt  <stem>.chapters.ffmeta  <stem>.chapters.json  <stem>.chapters.vtt
    <stem>.txt  <stem>.ffmeta  <stem>.json  <stem>.vtt  <stem>.description

Extensions match case-insensitively. Media without a sidecar become skipped jobs.
:func:`run` embeds every job with :func:`chapterkit.embed.embed` in a thread pool
(the work is FFmpeg subprocesses and file I/O, so threads are enough) and records
one :class:`Outcome` per job; a failing file never stops the others.

Statuses and the batch exit code: ``ok``; ``findings`` (an exit-1 error: no valid
chapter list, chapters past the end, a read-back mismatch); ``error`` (exit 2:
unreadable or corrupt media, FFmpeg failure); ``skipped`` (no chapter file, never a
failure). ``BatchReport.exit_code`` is 2 if any error, else 1 if any findings, else 0.

:func:`render_json` writes schema ``chapterkit.batch/1``::

    {"schema": "chapterkit.batch/1", "exit_code": 2, "elapsed_ms": 3412, "workers": 2,
     "out_dir": "/out" | null, "in_place": false,
     "counts": {"total": 12, "ok": 10, "findings": 1, "error": 1, "skipped": 0},
     "files": [{"media": "/in/a.mp4", "name": "a.mp4", "source": "/in/a.txt" | null,
                "output": "/out/a.mp4" | null, "status": "ok", "exit_code": 0,
                "message": "one line", "warnings": ["..."], "chapters": 11 | null,
                "elapsed_ms": 812}, ...]}

``output`` is null unless the status is ok; ``files`` keep the order of the jobs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from chapterkit.containers import CONTAINER_EXTENSIONS
from chapterkit.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ChapterkitError, UsageError

SCHEMA = "chapterkit.batch/1"
SIDECAR_SUFFIXES = (".chapters.txt", ".chapters.ffmeta", ".chapters.json", ".chapters.vtt",
                    ".txt", ".ffmeta", ".json", ".vtt", ".description")
MEDIA_SUFFIXES = frozenset(ext for exts in CONTAINER_EXTENSIONS.values() for ext in exts)
STATUSES = ("ok", "findings", "error", "skipped")
_TEMP_PREFIX = ".chapterkit-"  # embed's temporary files (a killed run may leave one)


@dataclass(frozen=True, slots=True)
class Job:
    """One media file, its sidecar (None: skipped) and its path relative to the scanned folder."""

    media: str
    source: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one job; ``output`` is set only when the status is ok."""

    job: Job
    status: str
    message: str
    output: str | None = None
    warnings: tuple[str, ...] = ()
    chapters: int | None = None
    elapsed_ms: int = 0

    @property
    def exit_code(self) -> int:
        return {"findings": EXIT_FINDINGS, "error": EXIT_ERROR}.get(self.status, EXIT_OK)


@dataclass(frozen=True, slots=True)
class BatchReport:
    outcomes: tuple[Outcome, ...]
    elapsed_ms: int
    workers: int
    out_dir: str | None
    in_place: bool

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def exit_code(self) -> int:
        return max((outcome.exit_code for outcome in self.outcomes), default=EXIT_OK)

    def summary(self) -> str:
        """``12 files: 10 ok, 1 findings, 1 error, 0 skipped in 3.4 s``."""
        counts = ", ".join(f"{self.count(status)} {status}" for status in STATUSES)
        seconds = f"{self.elapsed_ms // 1000}.{self.elapsed_ms % 1000 // 100}"
        return f"{len(self.outcomes)} files: {counts} in {seconds} s"


def find_jobs(folder: str | os.PathLike[str], *, recursive: bool = False) -> list[Job]:
    """Every media file under ``folder`` (by extension) paired with its sidecar, sorted by name.

    Hidden folders are not entered, and embed's ``.chapterkit-`` temporary files are ignored.
    """
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise UsageError("not a folder", path=root, verb="listing")
    jobs = []
    try:
        for directory, subdirs, files in os.walk(root, onerror=_raise):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".")) if recursive else []
            by_lower = {name.lower(): name for name in files}
            for name in files:
                stem, extension = os.path.splitext(name)
                if extension.lower() not in MEDIA_SUFFIXES or name.startswith(_TEMP_PREFIX):
                    continue
                media = os.path.join(directory, name)
                if not os.path.isfile(media):
                    continue
                sidecar = next((by_lower[key] for key in (f"{stem}{s}".lower() for s in SIDECAR_SUFFIXES)
                                if key in by_lower), None)
                source = None if sidecar is None else os.path.join(directory, sidecar)
                jobs.append(Job(media, source, os.path.relpath(media, root)))
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=exc.filename or root, verb="listing") from None
    return sorted(jobs, key=lambda job: job.name)


def _raise(error: OSError) -> None:
    raise error


Progress = Callable[[int, int, Job, Outcome], object]


def run(jobs: Sequence[Job], *, out_dir: str | os.PathLike[str] | None = None, in_place: bool = False,
        workers: int = 1, lenient: bool = False, verify: bool = True, ffmpeg: str | None = None,
        progress: Progress | None = None) -> BatchReport:
    """Embed every job; ``progress(done, total, job, outcome)`` is called once per job, in the calling thread.

    Give exactly one of ``out_dir`` (each output keeps the job's relative name there)
    and ``in_place``. Raises :class:`UsageError` up front, before any file is touched,
    for a bad combination or an ``out_dir`` that would overwrite an input.
    """
    if (out_dir is None) != in_place:
        raise UsageError("give exactly one of an output folder (-o) and --in-place")
    if workers < 1:
        raise UsageError(f"--jobs {workers} is not a positive number")
    target_dir = None if out_dir is None else os.path.abspath(os.fspath(out_dir))
    for job in jobs:
        if target_dir is not None and _same_path(os.path.join(target_dir, job.name), job.media):
            raise UsageError("the output folder is the input folder; give another or use --in-place",
                             path=target_dir)
    started = time.perf_counter_ns()
    outcomes: dict[int, Outcome] = {}

    def finish(index: int, outcome: Outcome) -> None:
        outcomes[index] = outcome
        if progress is not None:
            progress(len(outcomes), len(jobs), outcome.job, outcome)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chapterkit-batch") as pool:
        futures = {}
        for index, job in enumerate(jobs):
            if job.source is None:
                finish(index, Outcome(job, "skipped", "no chapter file"))
            else:
                output = None if target_dir is None else os.path.join(target_dir, job.name)
                futures[pool.submit(_embed_one, job, output, lenient, verify, ffmpeg)] = index
        try:
            for future in as_completed(futures):
                finish(futures[future], future.result())
        except BaseException:
            # Ctrl-C: start nothing new; running embeds remove their own temporary files.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    elapsed_ms = (time.perf_counter_ns() - started) // 1_000_000
    return BatchReport(tuple(outcomes[i] for i in range(len(jobs))), elapsed_ms, workers, target_dir, in_place)


def _embed_one(job: Job, output: str | None, lenient: bool, verify: bool, ffmpeg: str | None) -> Outcome:
    """One job, never raising for a bad file: any failure becomes the outcome's status and message."""
    from chapterkit import sources
    from chapterkit.embed import embed
    from chapterkit.formats.base import ParseOptions

    started = time.perf_counter_ns()
    warnings: list[str] = []
    try:
        parsed = sources.load(job.source, None, ParseOptions(lenient=lenient))
        warnings += [f"{os.path.basename(job.source)}: {d}" for d in parsed.diagnostics]
        if output is not None:
            os.makedirs(os.path.dirname(output), exist_ok=True)
        result = embed(job.media, parsed.chapters, output=output, in_place=output is None,
                       verify=verify, ffmpeg=ffmpeg)
        warnings += result.warnings
        status, message, written, count = "ok", result.summary(), result.output, len(result.chapters)
    except ChapterkitError as exc:
        status = "findings" if exc.exit_code == EXIT_FINDINGS else "error"
        message, written, count = str(exc), None, None
    except OSError as exc:  # makedirs of the output folder
        status, written, count = "error", None, None
        message = str(ChapterkitError(exc.strerror or str(exc), path=exc.filename, verb="creating"))
    except Exception as exc:  # a bug must not sink the other files; the report names it
        status, written, count = "error", None, None
        message = f"internal error ({type(exc).__name__}: {exc}) while embedding chapters into {job.media}"
    elapsed_ms = (time.perf_counter_ns() - started) // 1_000_000
    return Outcome(job, status, " ".join(message.split()), written, tuple(warnings), count, elapsed_ms)


def _same_path(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def cli_progress(done: int, total: int, job: Job, outcome: Outcome) -> str:
    """One progress line: ``[3/12] ok       clip3.mp4 (11 chapters)``, or the reason when not ok."""
    if outcome.status == "ok":
        detail = f" ({outcome.chapters} chapters)"
    elif outcome.status == "skipped":
        detail = f" ({outcome.message})"
    else:
        detail = f": {outcome.message}"
    return f"[{done}/{total}] {outcome.status:<8} {job.name}{detail}"


def render_text(report: BatchReport) -> str:
    """Every file that was not ok, then the summary line."""
    lines = [f"{o.status}: {o.job.name}: {o.message}" for o in report.outcomes if o.status in ("findings", "error")]
    return "\n".join(lines + [report.summary()]) + "\n"


def render_json(report: BatchReport) -> str:
    """The report as schema ``chapterkit.batch/1`` (see the module docstring)."""
    counts = {"total": len(report.outcomes), **{status: report.count(status) for status in STATUSES}}
    files = [{"media": o.job.media, "name": o.job.name, "source": o.job.source, "output": o.output,
              "status": o.status, "exit_code": o.exit_code, "message": o.message,
              "warnings": list(o.warnings), "chapters": o.chapters, "elapsed_ms": o.elapsed_ms}
             for o in report.outcomes]
    document = {"schema": SCHEMA, "exit_code": report.exit_code, "elapsed_ms": report.elapsed_ms,
                "workers": report.workers, "out_dir": report.out_dir, "in_place": report.in_place,
                "counts": counts, "files": files}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
