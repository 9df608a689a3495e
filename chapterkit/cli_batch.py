"""``chapterkit batch`` and ``chapterkit report merge``: the folder commands (thin, like cli.py).

Registered on the main group by :mod:`chapterkit.cli`; errors raised here reach its
single error handler. Everything heavy is imported inside the commands.
"""

from __future__ import annotations

import os

import click

from chapterkit.cli_options import chapter_source_options

REPORT_CHOICE = click.Choice(["text", "json", "junit", "github"])
COLOR_CHOICE = click.Choice(["auto", "always", "never"])


def deliver(document: dict, report_format: str, report_file: str | None, quiet: bool) -> None:
    """The report to ``--report-file`` or stdout, then the verdict line on stderr (always)."""
    from chapterkit.batch import report as reports
    from chapterkit.sources import write_text_atomic

    text = reports.render(document, report_format, summary_path=os.environ.get("GITHUB_STEP_SUMMARY")
                          if report_format == "github" else None)
    if report_file:
        write_text_atomic(report_file, text)
    elif not (quiet and report_format == "text"):
        click.echo(text, nl=False)
    click.echo(f"chapterkit: {reports.verdict(document)}", err=True)


def run_jobs(jobs, settings, *, workers, executor, quiet, color, shard_text=None):
    from chapterkit.batch import progress as progressing
    from chapterkit.batch import run

    bar = progressing.Progress(len(jobs), quiet=quiet, color=progressing.use_color(color))
    try:
        return run(jobs, settings, workers=workers, executor=executor, progress=bar, shard=shard_text)
    finally:
        bar.close()


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Write each chaptered file into this folder, under its own relative name.")
@click.option("--in-place", is_flag=True, help="Replace each media file atomically.")
@click.option("--check", is_flag=True, help="Write nothing: verify every file against its source (CI).")
@click.option("--dry-run", is_flag=True, help="Print the plan (write, up to date, refuse, why); touch nothing.")
@click.option("--recursive", is_flag=True, help="Also look in subfolders (not hidden ones).")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False),
              help="CSV or JSON list of media,source[,format,fps] instead of discovery.")
@click.option("--include", multiple=True, metavar="GLOB", help="Only media matching GLOB (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave out media matching GLOB (repeatable).")
@click.option("--shard", "shard_text", metavar="K/N", help="Only the K-th of N stable shares of the files.")
@click.option("-j", "--jobs", "workers", type=click.IntRange(min=1), default=lambda: os.cpu_count() or 1,
              show_default="CPU count", help="Files worked on at once.")
@click.option("--fail-fast", is_flag=True, help="Start no new file after the first failure.")
@click.option("--strict", is_flag=True, help="Warnings (skipped line, cut title, rounded time) are findings.")
@click.option("--force", is_flag=True, help="Replace an existing output that holds other chapters.")
@chapter_source_options
@click.option("--readers", help="--check: readers to use, comma-separated, or 'all' (default: the in-process ones).")
@click.option("--tolerance", help="--check: allowed drift (250ms, 0.25s, 2). Default: the source's precision.")
@click.option("--no-verify", is_flag=True, help="Skip reading each written file back.")
@click.option("--report", "report_format", type=REPORT_CHOICE, default="text", show_default=True,
              help="Report format (json: schema chapterkit.batch/2).")
@click.option("--report-file", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the problems and the verdict line.")
@click.option("--color", type=COLOR_CHOICE, default="auto", show_default=True,
              help="Colour on stderr (auto: a terminal and no NO_COLOR).")
@click.option("--ffmpeg", "ffmpeg_path", help="FFmpeg binary to use.")
@click.option("--executor", type=click.Choice(["process", "thread"]), default=None, hidden=True)
@click.pass_context
def batch(ctx, folders, out_dir, in_place, check, dry_run, recursive, manifest, include, exclude, shard_text,
          workers, fail_fast, strict, force, from_format, options, readers, tolerance, no_verify, report_format, report_file,
          quiet, color, ffmpeg_path, executor):
    """Chapter every media file in FOLDERS from its sidecar (clip.chapters.txt, clip.vtt, clip.mp4.json ...).

    The chapter-source options apply to every sidecar; --from reads every sidecar as that
    format (discovery still finds them by name). A --manifest row's format/fps win.
    """
    from chapterkit import batch as batching
    from chapterkit.batch.work import DEFAULT_EXECUTOR
    from chapterkit.errors import UsageError
    from chapterkit.verify import parse_tolerance

    if bool(folders) == bool(manifest):
        raise UsageError("give FOLDER(s) or --manifest, not both" if folders else "give a FOLDER or --manifest")
    jobs = (batching.read_manifest(manifest) if manifest
            else batching.find_jobs(folders, recursive=recursive, include=include, exclude=exclude))
    if manifest and (include or exclude):
        from chapterkit.batch.discover import _selected

        jobs = [job for job in jobs if _selected(job.name, include, exclude)]
    if shard_text:
        jobs = batching.shard(jobs, *batching.parse_shard(shard_text))
    names = None if readers is None else tuple(n.strip() for n in readers.split(",") if n.strip())
    if names and names != ("all",):
        from chapterkit.containers import READERS

        unknown = [name for name in names if name not in READERS]
        if unknown:
            raise UsageError(f"unknown reader {', '.join(unknown)} (known: all, {', '.join(READERS)})")
    settings = batching.Settings(
        mode="check" if check else "embed", out_dir=None if out_dir is None else os.path.abspath(out_dir),
        in_place=in_place, dry_run=dry_run, force=force, strict=strict, options=options,
        from_format=from_format, readers=names or None, tolerance_ns=parse_tolerance(tolerance) if tolerance else None,
        verify=not no_verify, ffmpeg=ffmpeg_path, fail_fast=fail_fast)
    report = run_jobs(jobs, settings, workers=workers, executor=executor or DEFAULT_EXECUTOR, quiet=quiet,
                      color=color, shard_text=shard_text)
    deliver(batching.to_document(report), report_format, report_file, quiet)
    ctx.exit(report.exit_code)


@click.group()
def report() -> None:
    """Work with JSON reports (schema chapterkit.batch/2)."""


@report.command()
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--report", "report_format", type=REPORT_CHOICE, default="json", show_default=True)
@click.option("--report-file", type=click.Path(dir_okay=False), help="Write the merged report here.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the problems and the verdict line.")
@click.pass_context
def merge(ctx, reports, report_format, report_file, quiet):
    """Combine the JSON reports of shards (--shard K/N) into one report and one exit code."""
    from chapterkit.batch import report as batch_reports

    document = batch_reports.merge([batch_reports.load(path) for path in reports])
    deliver(document, report_format, report_file, quiet)
    ctx.exit(document["exit_code"])


def verify_many(media, source, from_format, tolerance, readers, report_format, options, report_file, strict,
                quiet, ffmpeg_path, source_text=None) -> int:
    """``chapterkit verify A B C``: the batch check of those files (each with its sidecar, or ``source``).

    ``options`` (a ParseOptions) and ``from_format`` apply to every source; ``source_text``
    is ``source`` already read (standard input, which cannot be read once per file).
    """
    from chapterkit import batch as batching
    from chapterkit.batch.discover import Job, sidecar_for
    from chapterkit.verify import parse_tolerance

    jobs = []
    for path in media:
        if source is not None:
            jobs.append(Job(path, source, path, text=source_text))
            continue
        folder = os.path.dirname(path) or "."
        try:
            names = {name.lower(): name for name in os.listdir(folder)}
        except OSError:
            names = {}
        sidecar, rivals = sidecar_for(os.path.basename(path), names)
        jobs.append(Job(path, None if sidecar is None else os.path.join(folder, sidecar), path,
                        tuple(os.path.join(folder, rival) for rival in rivals)))
    names = tuple(n.strip() for n in readers.split(",") if n.strip()) if readers else ("all",)
    settings = batching.Settings(mode="check", strict=strict, options=options, from_format=from_format,
                                 readers=names, tolerance_ns=parse_tolerance(tolerance) if tolerance else None, ffmpeg=ffmpeg_path)
    report = run_jobs(jobs, settings, workers=1, executor="thread", quiet=True, color="never")
    deliver(batching.to_document(report, command="verify"), report_format, report_file, quiet)
    return report.exit_code
