"""The ``chapterkit`` command: a thin layer over the library.

Each command parses its options, makes one library call and prints the result.
Errors are raised as :class:`~chapterkit.errors.ChapterkitError` and turned into
one line on stderr and an exit code in exactly one place (:class:`_Group.invoke`).

Exit codes: 0 ok; 1 findings (no valid chapter list, drift, missing chapters,
chapters past the media's end); 2 usage or I/O error (unreadable or corrupt
file, FFmpeg failure, unwritable folder, disk full); 130 interrupted.

Heavy modules (mutagen, ffmpeg-python, the readers) are imported inside the
commands so ``chapterkit --help`` starts fast.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from chapterkit import __version__
from chapterkit.errors import EXIT_ERROR, ChapterkitError, UsageError, shown_name

EXIT_INTERRUPTED = 130


class _Failure(click.ClickException):
    """A library error as click shows it: ``chapterkit: error: <one line>``."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"chapterkit: error: {self.format_message()}", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        quiet = _command_signals()  # KeyboardInterrupt while a command runs: it cleans up
        try:
            return super().invoke(ctx)
        except ChapterkitError as exc:
            raise _Failure(str(exc), exc.exit_code) from None
        except click.UsageError as exc:
            # One line, like every other error; click's default adds a usage block.
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            raise _Failure(f"{exc.format_message()} (see '{where} --help')", exc.exit_code) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("chapterkit: interrupted; nothing was changed", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:  # last line of defence: never a traceback
            if os.environ.get("CHAPTERKIT_DEBUG"):
                raise
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise _Failure(f"internal error ({type(exc).__name__}): {reason}", EXIT_ERROR) from None
        finally:
            if quiet:
                from chapterkit._entry import install

                install()


def _command_signals() -> bool:
    """Under the console entry's quiet start-up handlers, make SIGINT and SIGTERM raise
    KeyboardInterrupt in the command (its cleanup needs it); True when it did, so the
    quiet ones come back after. Elsewhere (the library, CliRunner) signals are left alone."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    from chapterkit._entry import quit_now

    if signal.getsignal(signal.SIGINT) is not quit_now:
        return False
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    return True


class _Duration(click.ParamType):
    """Seconds (``90.5``) or a clock (``1:02:03.5``) as integer ns."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from chapterkit.timecode import parse_clock

        try:
            return parse_clock(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _format_choice() -> click.Choice:
    from chapterkit.formats import FORMATS

    return click.Choice(list(FORMATS))


def _parse_options(duration_ns, lenient, fps=None, split_flattened=False):
    from fractions import Fraction

    from chapterkit.formats.base import ParseOptions

    rate = None
    if fps:
        try:
            rate = Fraction(fps)
            if rate <= 0:
                raise ValueError
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"--fps {fps!r} is not a positive number (e.g. 25, 29.97, 30000/1001)") from None
    return ParseOptions(duration_ns=duration_ns, lenient=lenient, fps=rate, split_flattened=split_flattened)


def _load(source: str, from_format: str | None, options):
    """Parse a chapter source and print its diagnostics on stderr."""
    from chapterkit import sources
    from chapterkit.errors import NoChaptersError

    try:
        result = sources.load(source, from_format, options)
    except NoChaptersError as exc:
        # The refusal itself is the error line; the rest say what else was skipped.
        for diagnostic in exc.diagnostics:
            if not (diagnostic.severity == "error" and diagnostic.message in exc.reason):
                click.echo(f"{shown_name(source)}: {diagnostic}", err=True)
        raise
    for diagnostic in result.diagnostics:
        click.echo(f"{shown_name(source)}: {diagnostic}", err=True)
    return result.chapters


def _emit(text: str, output: str | None) -> None:
    from chapterkit.sources import write_text_atomic

    if output and output != "-":
        write_text_atomic(output, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chapterkit")
def cli() -> None:
    """Put chapters into video and audio files, and prove they landed."""


@cli.command()
@click.argument("source")
@click.option("--to", "to_format", default=None, help="Output format (default: a readable table).")
@click.option("--from", "from_format", default=None, help="Input format (default: detected).")
@click.option("--duration", type=_Duration(), help="Media duration (seconds or H:MM:SS).")
@click.option("--lenient", is_flag=True, help="Repair the list instead of refusing it.")
@click.option("--fps", help="Frame rate for HH:MM:SS:FF stamps (25, 29.97, 30000/1001).")
@click.option("--split-flattened", is_flag=True, help="Accept several stamps on one line.")
@click.option("-o", "--output", help="Write here instead of stdout.")
def parse(source, to_format, from_format, duration, lenient, fps, split_flattened, output):
    """Parse a chapter list (a path, or - for stdin) and print it."""
    chapters = _load(source, from_format, _parse_options(duration, lenient, fps, split_flattened))
    if to_format:
        from chapterkit import formats

        _emit(formats.render(chapters, to_format), output)
    else:
        from chapterkit.reports import render_table

        _emit(render_table(chapters), output)


@cli.command()
@click.argument("source")
@click.option("--to", "to_format", required=True, help="Output format.")
@click.option("--from", "from_format", default=None, help="Input format (default: detected).")
@click.option("-o", "--output", help="Write here instead of stdout.")
def convert(source, to_format, from_format, output):
    """Convert a chapter list from one format to another."""
    from chapterkit import formats

    formats.get_format(to_format)  # fail on a bad name before reading anything
    chapters = _load(source, from_format, _parse_options(None, lenient=False))
    _emit(formats.render(chapters, to_format), output)


@cli.command()
@click.argument("media")
@click.option("--chapters", "source", required=True, help="The chapter source to compare with.")
@click.option("--from", "from_format", default=None, help="Format of the chapter source.")
@click.option("--tolerance", help="Allowed drift: 250ms, 0.25s or 2 (seconds). Default: the source's precision.")
@click.option("--readers", help="Comma-separated readers to use (default: all that apply).")
@click.option("--report", "report_format", type=click.Choice(["text", "json", "junit", "github"]), default="text")
@click.option("--lenient", is_flag=True, help="Parse the source leniently.")
@click.option("-o", "--output", help="Write the report here instead of stdout.")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary for the libav reader.")
@click.pass_context
def verify(ctx, media, source, from_format, tolerance, readers, report_format, lenient, output, ffmpeg_path):
    """Check that MEDIA carries the chapters of a source; exit 1 on any drift."""
    from chapterkit import reports
    from chapterkit.verify import parse_tolerance, verify_file

    expected = _load(source, from_format, _parse_options(None, lenient))
    report = verify_file(media, expected, readers=_split(readers),
                         tolerance_ns=parse_tolerance(tolerance) if tolerance else None,
                         ffmpeg=ffmpeg_path)
    _emit(reports.render(report, report_format, color=output is None and sys.stdout.isatty(),
                         summary_path=os.environ.get("GITHUB_STEP_SUMMARY")), output)
    ctx.exit(report.exit_code)


@cli.command()
@click.argument("media")
@click.option("--reader", "reader", help="Show only this reader's view.")
@click.option("--to", "to_format", default=None, help="Export through a chapter format (e.g. youtube).")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary for the libav reader.")
def show(media, reader, to_format, ffmpeg_path):
    """Show the chapters of MEDIA as each reader sees them.

    Every reader runs; one that fails is a warning when another found chapters.
    --to exports the first reader, in the container's order (quicktime, nero,
    libav; matroska, libav; id3, libav; vorbis, libav), that found chapters.
    """
    from chapterkit import containers, formats, reports
    from chapterkit.errors import ChapterMismatchError, MediaError

    if to_format:
        formats.get_format(to_format)  # fail on a bad name before reading anything
    results = containers.read_each(media, [reader] if reader else None, ffmpeg=ffmpeg_path)
    chosen = containers.best(results)
    failed = [result for result in results if result.error is not None]
    if failed and len(failed) == len(results):  # no reader reads it: one line, as for non-media
        raise MediaError(failed[0].error or "unreadable")
    if to_format:
        for result in results:
            for problem in ((result.error,) if result.error else result.problems):
                click.echo(f"chapterkit: warning: {result.reader}: {problem}", err=True)
        if chosen is None:
            raise ChapterMismatchError(f"no chapters (readers {', '.join(r.reader for r in results)})", path=media)
        if any(other.chapters != chosen.chapters for other in results if other.error is None):
            click.echo(f"chapterkit: note: readers disagree; exported what {chosen.reader} sees "
                       "(--reader picks another)", err=True)
        _emit(formats.render(chosen.chapters, to_format), None)
    else:
        _emit(reports.render_show_all(results), None)


@cli.command()
@click.argument("media")
@click.option("--chapters", "source", required=True, help="The chapter source to embed.")
@click.option("--from", "from_format", default=None, help="Format of the chapter source.")
@click.option("-o", "--output", help="Write the chaptered file here.")
@click.option("--in-place", is_flag=True, help="Replace MEDIA atomically.")
@click.option("--lenient", is_flag=True, help="Repair the chapter list instead of refusing it.")
@click.option("--keep-title", is_flag=True, help="Keep the file's title (the default).")
@click.option("--title", help="Set the file's title.")
@click.option("--no-verify", is_flag=True, help="Skip reading the result back.")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary to use.")
def embed(media, source, from_format, output, in_place, lenient, keep_title, title, no_verify, ffmpeg_path):
    """Write the chapters of a source into MEDIA (stream copy, nothing else changes)."""
    from chapterkit.embed import embed as embed_chapters
    from chapterkit.errors import UsageError as Usage

    if bool(output) == in_place:
        raise Usage("give exactly one of -o OUT and --in-place")
    if keep_title and title is not None:
        raise Usage("--keep-title and --title exclude each other")
    chapters = _load(source, from_format, _parse_options(None, lenient))
    result = embed_chapters(media, chapters, output=output, in_place=in_place, title=title,
                            verify=not no_verify, ffmpeg=ffmpeg_path)
    for warning in result.warnings:
        click.echo(f"chapterkit: warning: {warning}", err=True)
    click.echo(result.summary())


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--out-dir", help="Write each chaptered file here, under its own name.")
@click.option("--in-place", is_flag=True, help="Replace each media file atomically.")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), default=lambda: min(4, os.cpu_count() or 1),
              show_default="min(4, CPUs)", help="Files embedded at once.")
@click.option("--recursive", is_flag=True, help="Also look in subfolders (not hidden ones).")
@click.option("--lenient", is_flag=True, help="Repair chapter lists instead of refusing them.")
@click.option("--no-verify", is_flag=True, help="Skip reading each result back.")
@click.option("--report", "report_format", type=click.Choice(["text", "json"]), default="text",
              help="Summary on stdout: text, or JSON (schema chapterkit.batch/1).")
@click.option("--report-file", help="Also write the JSON report to this file.")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary to use.")
@click.pass_context
def batch(ctx, folder, out_dir, in_place, workers, recursive, lenient, no_verify, report_format, report_file,
          ffmpeg_path):
    """Embed each media file's sidecar chapters (clip.chapters.txt, clip.ffmeta, ...) in FOLDER."""
    from chapterkit import batch as batching
    from chapterkit.sources import write_text_atomic

    jobs = batching.find_jobs(folder, recursive=recursive)
    report = batching.run(jobs, out_dir=out_dir, in_place=in_place, workers=workers, lenient=lenient,
                          verify=not no_verify, ffmpeg=ffmpeg_path,
                          progress=lambda *args: click.echo(batching.cli_progress(*args), err=True))
    if report_file:
        write_text_atomic(report_file, batching.render_json(report))
    click.echo(batching.render_json(report) if report_format == "json" else batching.render_text(report), nl=False)
    ctx.exit(report.exit_code)


@cli.command()
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary to check.")
def doctor(ffmpeg_path):
    """Show which FFmpeg is used and how each container gets its chapters."""
    from chapterkit.embed import doctor_report
    from chapterkit.muxer import find_ffmpeg

    click.echo(doctor_report(ffmpeg_path))
    find_ffmpeg(ffmpeg_path)  # an unusable FFmpeg: the report above, then exit 2 with the reason


def _split(value: str | None) -> list[str] | None:
    """``--readers a,b``: the names once each, in order; an empty list is a usage error."""
    if value is None:
        return None
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not names:
        raise UsageError("--readers needs at least one reader name")
    return names


def main() -> None:
    """Run the CLI: Ctrl-C and SIGTERM end quietly with 130, and in a command remove its temp files."""
    from chapterkit._entry import install

    install()
    cli(prog_name="chapterkit")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":  # pragma: no cover
    main()
