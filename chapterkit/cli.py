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
from chapterkit.cli_options import chapter_source_options, edit_options, to_option
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


def _load(source: str, from_format: str | None, options, text: str | None = None):
    """Parse a chapter source (or its already read ``text``) and print its diagnostics on stderr."""
    from chapterkit import sources
    from chapterkit.errors import NoChaptersError

    try:
        result = (sources.load(source, from_format, options) if text is None
                  else sources.parse(text, source, from_format, options))
    except NoChaptersError as exc:
        # The refusal itself is the error line; the rest say what else was skipped.
        for diagnostic in exc.diagnostics:
            if not (diagnostic.severity == "error" and diagnostic.message in exc.reason):
                click.echo(f"{shown_name(source)}: {diagnostic}", err=True)
        raise
    for diagnostic in result.diagnostics:
        click.echo(f"{shown_name(source)}: {diagnostic}", err=True)
    return result.chapters


def _refuse_existing(output: str | None, force: bool) -> None:
    """An existing output file is replaced only with --force (a report file is always replaced)."""
    if output and output != "-" and not force and os.path.lexists(output):
        raise UsageError("exists; --force replaces it", path=output, verb="writing")


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
@click.argument("source", type=click.Path(allow_dash=True))
@to_option(help_text="Output format (default: a readable table)")
@chapter_source_options
@click.option("--split-flattened", is_flag=True, help="Accept several stamps on one line.")
@click.option("-o", "--output", type=click.Path(allow_dash=True), help="Write here instead of stdout.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def parse(source, to_format, from_format, options, output, force):
    """Parse a chapter list (a path, or - for stdin) and print it."""
    _refuse_existing(output, force)
    chapters = _load(source, from_format, options)
    if to_format:
        _emit(_render(chapters, to_format), output)
    else:
        from chapterkit.reports import render_table

        _emit(render_table(chapters), output)


@cli.command()
@click.argument("source", type=click.Path(allow_dash=True))
@to_option(required=True)
@chapter_source_options
@edit_options
@click.option("-o", "--output", type=click.Path(allow_dash=True), help="Write here instead of stdout.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def convert(source, to_format, from_format, options, plan, output, force):
    """Convert a chapter list from one format to another, editing it on the way."""
    from dataclasses import replace

    from chapterkit import edits

    _refuse_existing(output, force)
    # Time edits come first, so --duration applies to the edited list (see chapterkit.edits).
    if plan.moves_times:
        plan, options = replace(plan, duration_ns=options.duration_ns), replace(options, duration_ns=None)
    chapters, notes = edits.apply(_load(source, from_format, options), plan)
    for note in notes:
        click.echo(f"chapterkit: note: {note}", err=True)
    _emit(_render(chapters, to_format), output)


def _render(chapters, to_format: str) -> str:
    """The chapters in ``to_format``; what the format cannot keep is a warning on stderr."""
    from chapterkit import formats

    text, warnings = formats.render_checked(chapters, to_format)
    for warning in warnings:
        click.echo(f"chapterkit: warning: {warning}", err=True)
    return text


@cli.command()
@click.argument("media", nargs=-1, required=True, type=click.Path())
@click.option("--chapters", "source", type=click.Path(allow_dash=True),
              help="The chapter source to compare with (default: each file's sidecar, as batch finds it).")
@chapter_source_options
@click.option("--tolerance", help="Allowed drift: 250ms, 0.25s or 2 (seconds). Default: the source's precision.")
@click.option("--readers", help="Comma-separated readers to use (default: all that apply).")
@click.option("--report", "report_format", type=click.Choice(["text", "json", "junit", "github"]), default="text")
@click.option("--report-file", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@click.option("-o", "legacy_output", hidden=True, type=click.Path(dir_okay=False),
              help="Deprecated spelling of --report-file.")
@click.option("--strict", is_flag=True, help="Several files: warnings are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Several files: only the problems and the verdict line.")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary for the libav reader.")
@click.option("--keyframes", is_flag=True, help="Also show how far before each start a chapter seek lands.")
@click.pass_context
def verify(ctx, media, source, from_format, options, tolerance, readers, report_format, report_file, legacy_output,
           strict, quiet, ffmpeg_path, keyframes):
    """Check that each MEDIA carries the chapters of its source; exit 1 on any drift."""
    from chapterkit import reports
    from chapterkit.sources import read_text
    from chapterkit.verify import parse_tolerance, verify_file

    if legacy_output:
        click.echo("chapterkit: warning: verify -o is deprecated; use --report-file", err=True)
        report_file = report_file or legacy_output
    if keyframes and (report_format not in ("text", "json") or len(media) > 1):
        raise UsageError("--keyframes works on one file with --report text or json")
    # Standard input can be read only once: read it here and give that text to every file.
    stdin_text = read_text(source) if source == "-" else None
    many = (media, source, from_format, tolerance, readers, report_format, options, report_file,
            strict, quiet, ffmpeg_path, stdin_text)
    if len(media) > 1 or source is None:
        from chapterkit.cli_batch import verify_many

        ctx.exit(verify_many(*many))
    try:
        expected = _load(source, from_format, options, stdin_text)
        report = verify_file(media[0], expected, readers=_split(readers),
                             tolerance_ns=parse_tolerance(tolerance) if tolerance else None,
                             ffmpeg=ffmpeg_path)
    except ChapterkitError as exc:
        if report_format == "text" or isinstance(exc, UsageError):
            raise
        # A machine report must still name the file: the batch report (chapterkit.batch/2) has
        # an entry for a refused source or an unreadable file; chapterkit.verify/1 has none.
        from chapterkit.cli_batch import verify_many

        ctx.exit(verify_many(*many))
    text = reports.render(report, report_format, color=report_file is None and sys.stdout.isatty()
                          and not os.environ.get("NO_COLOR"),
                          summary_path=os.environ.get("GITHUB_STEP_SUMMARY"))
    if keyframes:
        from chapterkit.players import add_keyframes

        text = add_keyframes(text, report_format, media[0], expected)
    _emit(text, report_file)
    if report_file or report_format != "text":  # the text report on stdout ends with it already
        click.echo(f"chapterkit: {reports.verdict(report)}", err=True)
    ctx.exit(report.exit_code)


@cli.command()
@click.argument("media", type=click.Path())
@click.option("--reader", "reader", help="Show only this reader's view.")
@to_option(help_text="Export through a chapter format (e.g. youtube)")
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
        _emit(_render(chosen.chapters, to_format), None)
    else:
        _emit(reports.render_show_all(results), None)


@cli.command()
@click.argument("media", type=click.Path())
@click.option("--chapters", "source", required=True, type=click.Path(allow_dash=True),
              help="The chapter source to embed.")
@chapter_source_options
@click.option("-o", "--output", type=click.Path(), help="Write the chaptered file here.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--in-place", is_flag=True, help="Edit MEDIA itself (crash-safe; remuxed and replaced atomically "
              "where it cannot be edited).")
@click.option("--keep-title", is_flag=True, help="Keep the file's title (the default).")
@click.option("--title", help="Set the file's title.")
@click.option("--no-verify", is_flag=True, help="Skip reading the result back.")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary to use.")
@click.option("--method", type=click.Choice(["in-place", "clone", "copy", "remux"]),
              help="Force how the file is written (default: the fastest safe one).")
@click.option("--keep-faststart", is_flag=True,
              help="MP4 with moov before the media: remux rather than move moov to the end.")
@click.option("--sidecars", help="Also write sidecars next to the output: webvtt,ffmetadata,json,youtube.")
@click.option("--snap", type=click.Choice(["keyframes", "scenes"]), help="Move starts onto keyframes or scene cuts.")
@click.option("--snap-window", default="2s", show_default=True, help="How far --snap may move a start.")
def embed(media, source, from_format, options, output, force, in_place, keep_title, title, no_verify, ffmpeg_path,
          method, keep_faststart, sidecars, snap, snap_window):
    """Write the chapters of a source into MEDIA (stream copy, nothing else changes)."""
    from chapterkit.embed import embed as embed_chapters
    from chapterkit.errors import UsageError as Usage

    if bool(output) == in_place:
        raise Usage("give exactly one of -o OUT and --in-place")
    if output and not (os.path.exists(output) and os.path.samefile(media, output)):  # that one embed refuses
        _refuse_existing(output, force)
    if keep_title and title is not None:
        raise Usage("--keep-title and --title exclude each other")
    from chapterkit.sidecars import parse_kinds, write_sidecars

    kinds = parse_kinds(sidecars)
    chapters = _load(source, from_format, options)
    if snap:
        from chapterkit.snap import snap as snap_starts
        from chapterkit.verify import parse_tolerance

        chapters, notes = snap_starts(media, chapters, snap, window_ns=parse_tolerance(snap_window), ffmpeg=ffmpeg_path)
        for note in notes:
            click.echo(f"chapterkit: snap: {note}", err=True)
    result = embed_chapters(media, chapters, output=output, in_place=in_place, title=title,
                            verify=not no_verify, ffmpeg=ffmpeg_path,
                            method=None if method is None else method.replace("-", " "),
                            keep_faststart=keep_faststart)
    for warning in result.warnings:
        click.echo(f"chapterkit: warning: {warning}", err=True)
    click.echo(result.summary())
    for path in write_sidecars(result.output, result.chapters, kinds):
        click.echo(f"{path}: sidecar written")


@cli.command()
@click.argument("media", type=click.Path())
@click.option("--chapters", "source", type=click.Path(allow_dash=True),
              help="The chapter source to compare with (default: the file's own list).")
@chapter_source_options
@click.option("--report", "report_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary for the FFmpeg family.")
@click.pass_context
def players(ctx, media, source, from_format, options, report_format, ffmpeg_path):
    """Which chapters each player family (Apple, VLC, mpv/FFmpeg, browsers...) shows for MEDIA."""
    from chapterkit import players as families

    expected = _load(source, from_format, options) if source else None
    report = families.check_players(media, expected, ffmpeg=ffmpeg_path, source_name=source)
    click.echo(families.render_json(report) if report_format == "json" else families.render_text(report), nl=False)
    ctx.exit(report.exit_code)


@cli.command()
@click.argument("media", type=click.Path())
@click.option("-o", "--out-dir", type=click.Path(file_okay=False),
              help="Folder for the page and the sidecar (default: the media's folder).")
@click.option("--chapters", "source", type=click.Path(allow_dash=True),
              help="Chapter source to show (default: the file's own chapters).")
@chapter_source_options
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary for the thumbnails.")
def web(media, out_dir, source, from_format, options, ffmpeg_path):
    """Write a WebVTT chapters sidecar and an HTML preview page (works from file://)."""
    from chapterkit import web as pages

    chapters = _load(source, from_format, options) if source else None
    result = pages.build(media, out_dir, chapters=chapters, ffmpeg=ffmpeg_path)
    click.echo(f"{result.page}: {len(result.chapters)} chapters, {result.thumbnails} thumbnails; "
               f"sidecar {result.sidecar}")


@cli.command()
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary to check.")
def doctor(ffmpeg_path):
    """Show which FFmpeg is used and how each container gets its chapters."""
    from chapterkit.embed import doctor_report
    from chapterkit.muxer import find_ffmpeg

    click.echo(doctor_report(ffmpeg_path))
    find_ffmpeg(ffmpeg_path)  # an unusable FFmpeg: the report above, then exit 2 with the reason


from chapterkit.cli_batch import batch, report  # noqa: E402  (the folder commands)

cli.add_command(batch)
cli.add_command(report)


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
