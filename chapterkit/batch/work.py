"""Doing one file, and running every file in parallel: embed, up-to-date detection, check.

:func:`process` never raises for a bad file: every failure becomes the :class:`Outcome`'s
status, exit code and one-line message, so one corrupt file never stops the others.

**Up to date** is decided by reading back what the file already holds (no database, no
mtimes): the chapters the source gives are planned for the container exactly as
:func:`chapterkit.embed.embed` would write them, and when every in-process reader of the
target (the output file, or the media itself with ``--in-place``) already shows that list
within 1 ms, the file is ``up to date`` and never opened for writing, so a second run
changes no byte and no mtime. FFmpeg's ``libav`` reader is left out of that test and out
of ``--check`` by default (``readers``): it costs a process start per file (about 40 ms,
see bench/RESULTS.md) and reads the same boxes and elements the in-process readers parse.

**Parallel work.** :func:`run` uses a thread pool or a process pool (``executor``). The
readers and the MP3/Ogg/FLAC writers are pure Python (mutagen and chapterkit's codecs), so
threads share one interpreter lock; MP4/Matroska writes are FFmpeg children. The measured
choice and figures are in bench/RESULTS.md (:data:`DEFAULT_EXECUTOR`).

**Ctrl-C.** No new file starts; files already running finish (each is written to a
temporary file and renamed, so a file is either complete or untouched, and embed removes
its temporary file on any failure); the others are ``not run``. The report says exactly
which files were written.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from chapterkit.batch.discover import Job
from chapterkit.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ChapterkitError, NoChaptersError, UsageError
from chapterkit.formats.base import ParseOptions

#: Measured with bench/bench_batch.py (bench/RESULTS.md): a file's work is a few ms of
#: parsing (check, up to date) or an FFmpeg child / mutagen file copy (embed), so a
#: process pool's fork and pickling cost as much as the lock it avoids; threads were as
#: fast or faster (check of 200 files, -j 2: 0.57 s best / 1.13 s median against 1.01 /
#: 1.35 s) and let Ctrl-C reach one process only.
DEFAULT_EXECUTOR = "thread"
EXIT_INTERRUPTED = 130
#: Statuses and what they mean for the exit code (strict warnings aside).
STATUS_EXIT = {"written": EXIT_OK, "up to date": EXIT_OK, "would write": EXIT_OK, "ok": EXIT_OK,
               "skipped": EXIT_OK, "not run": EXIT_OK, "findings": EXIT_FINDINGS, "error": EXIT_ERROR}
STATUSES = tuple(STATUS_EXIT)


@dataclass(frozen=True, slots=True)
class Settings:
    """What to do with every job. ``mode`` is ``embed`` or ``check``.

    ``options`` and ``from_format`` are how every chapter source is parsed (the CLI's
    chapter-source options); a manifest row's ``format``/``fps`` override them for its file.
    """

    mode: str = "embed"
    out_dir: str | None = None
    in_place: bool = False
    dry_run: bool = False
    force: bool = False
    strict: bool = False
    options: ParseOptions = ParseOptions()
    from_format: str | None = None
    readers: tuple[str, ...] | None = None   # --check: None = the in-process ones, ("all",) = every one
    tolerance_ns: int | None = None
    verify: bool = True
    ffmpeg: str | None = None
    fail_fast: bool = False

    def validate(self) -> None:
        if self.mode == "embed" and (self.out_dir is None) != self.in_place:
            raise UsageError("give exactly one of -o DIR, --in-place and --check")
        if self.mode == "check" and (self.out_dir is not None or self.in_place):
            raise UsageError("--check writes nothing: drop -o/--in-place")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one job (plain data: it crosses process boundaries and goes into reports)."""

    job: Job
    status: str
    message: str
    exit_code: int = EXIT_OK
    output: str | None = None
    written: bool = False
    method: str | None = None
    container: str | None = None
    chapters: int | None = None
    warnings: tuple[str, ...] = ()
    diagnostics: tuple[dict, ...] = ()   # Diagnostic.as_dict(), with source line numbers
    readers: tuple[dict, ...] = ()       # per-reader results as in the chapterkit.verify/1 JSON
    chapter_lines: tuple[int, ...] = ()  # the source line that defined chapter N (index N-1; 0 unknown)
    elapsed_ms: int = 0


@dataclass(frozen=True, slots=True)
class BatchReport:
    outcomes: tuple[Outcome, ...]
    settings: Settings
    elapsed_ms: int = 0
    workers: int = 1
    executor: str = DEFAULT_EXECUTOR
    interrupted: bool = False
    shard: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return max((outcome.exit_code for outcome in self.outcomes), default=EXIT_OK)

    @property
    def written(self) -> list[str]:
        return [o.job.name for o in self.outcomes if o.written]


# -- one file ------------------------------------------------------------------------------------


def native_readers(container: str) -> tuple[str, ...]:
    """The in-process readers of a container (every one but FFmpeg's)."""
    from chapterkit.containers import CONTAINER_READERS

    return tuple(name for name in CONTAINER_READERS[container] if name != "libav")


def process(job: Job, settings: Settings) -> Outcome:
    """Embed or check one job; every failure becomes the outcome (see the module docstring)."""
    started = time.perf_counter_ns()
    acc = _Acc()
    try:
        status, message = _process(job, settings, acc)
        code = STATUS_EXIT[status]
    except NoChaptersError as exc:
        acc.diagnostics += [d.as_dict() for d in exc.diagnostics]
        status, message, code = "findings", str(exc), exc.exit_code
    except ChapterkitError as exc:
        status, message, code = ("findings" if exc.exit_code == EXIT_FINDINGS else "error"), str(exc), exc.exit_code
    except OSError as exc:
        status, code = "error", EXIT_ERROR
        message = str(ChapterkitError(exc.strerror or str(exc), path=exc.filename, verb="writing"))
    except Exception as exc:  # a bug must not sink the other files; the report names it
        status, code = "error", EXIT_ERROR
        message = f"internal error ({type(exc).__name__}: {exc}) while processing {job.media}"
    warnings = tuple(acc.warnings) + tuple(f"line {d['lineno']}: {d['message']}" if d["lineno"] else d["message"]
                                           for d in acc.diagnostics if d["severity"] == "warning")
    if settings.strict and code == EXIT_OK and warnings and status != "skipped":
        code = EXIT_FINDINGS
        message += f" ({len(warnings)} warning(s) are findings under --strict)"
    return Outcome(job, status, " ".join(message.split()), code, acc.output, acc.written, acc.method,
                   acc.container, acc.chapters, warnings, tuple(acc.diagnostics), tuple(acc.readers),
                   tuple(acc.lines), (time.perf_counter_ns() - started) // 1_000_000)


@dataclass
class _Acc:
    """What :func:`process` learns on the way, kept when a later step fails."""

    output: str | None = None
    written: bool = False
    method: str | None = None
    container: str | None = None
    chapters: int | None = None
    warnings: list[str] = field(default_factory=list)
    diagnostics: list[dict] = field(default_factory=list)
    readers: list[dict] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _process(job: Job, s: Settings, acc: _Acc) -> tuple[str, str]:
    from chapterkit import containers

    if job.candidates:
        raise UsageError("two chapter sources: " + " and ".join(job.candidates)
                         + "; remove one or list the pair in a --manifest", path=job.media, verb="pairing")
    if job.source is None:
        return "skipped", "no chapter source"
    chapters = _load(job, s, acc)
    acc.container = container = containers.sniff(job.media)
    if s.mode == "check":
        return _check(job, chapters, container, s, acc)
    target = job.media if s.in_place else os.path.join(s.out_dir, job.name)
    acc.output = target
    if os.path.exists(target):
        try:
            current, planned_count = _up_to_date(target, chapters, container, acc)
        except ChapterkitError:
            if s.in_place:
                raise  # the media itself is unreadable: that is the file's outcome
            current, planned_count = False, 0  # an unreadable old output holds no usable chapters
        if current:
            acc.chapters = planned_count
            return "up to date", f"{planned_count} chapters already in {target}"
        if not s.in_place and not s.force:
            raise UsageError("exists and does not hold these chapters; --force replaces it", path=target,
                             verb="writing")
    if s.dry_run:
        return "would write", f"{len(chapters)} chapters would be written to {target}"
    from chapterkit.embed import embed

    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    result = embed(job.media, chapters, output=None if s.in_place else target, in_place=s.in_place,
                   verify=s.verify, ffmpeg=s.ffmpeg)
    acc.written, acc.method, acc.chapters = True, result.method, len(result.chapters)
    acc.warnings += result.warnings
    return "written", result.summary()


def _load(job: Job, s: Settings, acc: _Acc):
    from dataclasses import replace

    from chapterkit import sources
    from chapterkit.edits import parse_fps

    options = s.options
    if job.fps:
        try:
            options = replace(options, fps=parse_fps(job.fps))
        except UsageError:
            raise UsageError(f"fps {job.fps!r} is not a positive number", path=job.source) from None
    text = sources.read_text(job.source) if job.text is None else job.text
    parsed = sources.parse(text, job.source, job.format or s.from_format, options)
    acc.diagnostics += [d.as_dict() for d in parsed.diagnostics]
    acc.chapters = len(parsed.chapters)
    own = parsed.chapter_lines if len(parsed.chapter_lines) == len(parsed.chapters) else ()
    acc.lines = list(own)
    if not own or not all(own):  # the parser did not say for every chapter: find those by title
        found = chapter_lines(text, [c.title for c in parsed.chapters])
        acc.lines = [mine or guess for mine, guess in zip(own or found, found)]
    return parsed.chapters


def _up_to_date(target: str, chapters, container: str, acc: _Acc) -> tuple[bool, int]:
    """Whether ``target`` already holds ``chapters`` as embed would write them (module docstring)."""
    from chapterkit import containers
    from chapterkit.embed import plan
    from chapterkit.model import NS_PER_MS
    from chapterkit.verify import compare

    if containers.sniff(target) != container:
        return False, 0
    results = [containers.reader_function(name)(target) for name in native_readers(container)]
    planned, warnings = plan(chapters, container, results[0].chapters.duration_ns, path=target)
    current = all(compare(planned, _settled_end(planned, result), NS_PER_MS, container=container).ok
                  for result in results)
    if current:
        acc.warnings += warnings
    return current, len(planned)


def _settled_end(planned, result):
    """The reading with its last end taken as planned when they differ by less than the slack.

    embed ends the last chapter at the media's duration, and a remux can move that
    duration by a few frames (FFmpeg rewrote a Matroska Segment Duration from 3.021 s to
    3.029 s here); without this a second run would rewrite such files once more.
    """
    from dataclasses import replace

    from chapterkit.containers import ReadResult
    from chapterkit.verify import DURATION_SLACK_NS

    have = result.chapters
    if not len(have) or len(have) != len(planned) or planned[-1].end_ns is None or have[-1].end_ns is None:
        return result
    if abs(have[-1].end_ns - planned[-1].end_ns) > DURATION_SLACK_NS or have[-1].end_ns == planned[-1].end_ns:
        return result
    last = replace(have[-1], end_ns=planned[-1].end_ns)
    return ReadResult(result.reader, have.replace_chapters([*have[:-1], last]), result.notes)


def _check(job: Job, chapters, container: str, s: Settings, acc: _Acc) -> tuple[str, str]:
    from chapterkit.reports import _reader_json, verdict
    from chapterkit.verify import verify_file

    readers = None if s.readers == ("all",) else (s.readers or native_readers(container))
    report = verify_file(job.media, chapters, readers=readers, tolerance_ns=s.tolerance_ns, ffmpeg=s.ffmpeg)
    acc.readers += [_reader_json(reader) for reader in report.readers]
    acc.warnings += [w for r in report.readers for w in r.warnings]
    acc.warnings += [f"chapter {row.expected_index}: {w}" for r in report.readers for row in r.rows
                     for w in row.warnings]
    acc.warnings[:] = list(dict.fromkeys(acc.warnings))  # the same cut title, once, not per reader
    return ("ok" if report.ok else "findings"), verdict(report)


def chapter_lines(text: str, titles: Sequence[str]) -> list[int]:
    """The 1-based source line that defined each chapter, 0 when not found.

    The fallback where a parser leaves ``ParseResult.chapter_lines`` empty or 0 (the
    description and marker parsers fill it): the first line after the previous chapter's
    that carries the title (as written, or JSON-escaped); every text format here keeps a
    chapter's title on one line (FFMETADATA ``title=``, a WebVTT cue text, a JSON string).
    """
    lines = text.splitlines()
    found, position = [], 0
    for title in titles:
        needles = [n for n in {title.strip(), json.dumps(title)[1:-1]} if n]
        hit = next((i for i in range(position, len(lines)) if any(n in lines[i] for n in needles)), None)
        found.append(0 if hit is None else hit + 1)
        if hit is not None:
            position = hit + 1
    return found


# -- many files ----------------------------------------------------------------------------------


Progress = Callable[[Outcome], object]


def _ignore_sigint() -> None:
    # Process workers: Ctrl-C is the parent's to handle (it stops handing out files);
    # a worker finishes its current file so nothing is left half-done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run(jobs: Sequence[Job], settings: Settings, *, workers: int = 1, executor: str = DEFAULT_EXECUTOR,
        progress: Progress | None = None, shard: str | None = None) -> BatchReport:
    """Process every job with ``workers`` at once; ``progress(outcome)`` runs in the calling thread per file."""
    settings.validate()
    if workers < 1:
        raise UsageError(f"--jobs {workers} is not a positive number")
    if settings.out_dir is not None:
        _refuse_output_over_input(jobs, settings.out_dir)
    started = time.perf_counter_ns()
    outcomes: dict[int, Outcome] = {}
    interrupted = stopped = False

    def finish(index: int, outcome: Outcome) -> None:
        nonlocal stopped
        outcomes[index] = outcome
        if progress is not None:
            progress(outcome)
        if settings.fail_fast and outcome.exit_code not in (EXIT_OK,):
            stopped = True

    # Even one worker runs off the main thread: Ctrl-C reaches only the main thread, so the
    # file in progress always finishes (complete, or untouched when it failed) and the
    # report can say exactly what was written.
    pool = (ProcessPoolExecutor(workers, initializer=_ignore_sigint) if executor == "process"
            else ThreadPoolExecutor(workers, thread_name_prefix="chapterkit-batch"))
    pending: dict[Future, int] = {}
    queue = iter(enumerate(jobs))

    def refill() -> None:
        # One file per worker in flight: a stop (Ctrl-C, --fail-fast) then waits for the
        # files already running only, and nothing else was handed out.
        while not stopped and len(pending) < workers:
            item = next(queue, None)
            if item is None:
                return
            pending[pool.submit(process, item[1], settings)] = item[0]

    try:
        refill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                if not future.cancelled():
                    finish(index, _result(future, jobs[index]))
            if stopped:
                for future in [f for f in pending if f.cancel()]:
                    pending.pop(future)
            refill()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for future, index in pending.items():
            if future.done() and not future.cancelled():
                outcomes.setdefault(index, _result(future, jobs[index]))
    reason = "interrupted before it started" if interrupted else "not started after a failure (--fail-fast)"
    for index, job in enumerate(jobs):
        if index not in outcomes:
            outcomes[index] = Outcome(job, "not run", reason)
    elapsed_ms = (time.perf_counter_ns() - started) // 1_000_000
    return BatchReport(tuple(outcomes[i] for i in range(len(jobs))), settings, elapsed_ms, workers, executor,
                       interrupted, shard)


def _result(future: Future, job: Job) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # a worker process that died (killed, out of memory)
        return Outcome(job, "error", f"worker failed ({type(exc).__name__}: {exc}) on {job.media}", EXIT_ERROR)


def _refuse_output_over_input(jobs: Sequence[Job], out_dir: str) -> None:
    for job in jobs:
        target = os.path.join(out_dir, job.name)
        if os.path.realpath(target) == os.path.realpath(job.media):
            raise UsageError("the output folder is the input folder; give another or use --in-place",
                             path=out_dir)
