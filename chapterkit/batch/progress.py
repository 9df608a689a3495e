"""Progress on stderr: a tqdm bar on a terminal, plain lines elsewhere, nothing with ``-q``.

tqdm (import ~30 ms measured here, like rich.progress; tqdm is the smaller package) is
imported only when a bar is drawn, so ``chapterkit --help`` and CI runs never load it.
The bar shows files done / total, the file last finished and an ETA; a file that is not
fine is printed above the bar so it stays visible. Without a terminal, or with ``CI``
set (CI logs keep every carriage-return redraw), each file is one plain line.
Colour follows ``--color``; ``auto`` means a terminal without ``NO_COLOR``.
"""

from __future__ import annotations

import os
import sys

import click

from chapterkit.batch.work import Outcome

_COLORS = {"written": "green", "ok": "green", "up to date": None, "would write": "cyan",
           "findings": "yellow", "error": "red", "skipped": None, "not run": None}


def use_color(choice: str, stream=None) -> bool:
    """``--color auto|always|never``: auto is a terminal and no ``NO_COLOR`` (https://no-color.org)."""
    stream = stream or sys.stderr
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


def want_bar(stream=None) -> bool:
    stream = stream or sys.stderr
    return stream.isatty() and not os.environ.get("CI")


def line(done: int, total: int, outcome: Outcome, color: bool = False) -> str:
    """``[3/12] written    clip3.mp4: 11 chapters``, or the reason when the file is not fine."""
    status = f"{outcome.status:<11}"
    if color and _COLORS.get(outcome.status):
        status = click.style(status, fg=_COLORS[outcome.status])
    detail = f"{outcome.chapters} chapters" if outcome.status in ("written", "up to date", "ok") else outcome.message
    return f"[{done}/{total}] {status} {outcome.job.name}: {detail}"


class Progress:
    """Call with each finished outcome; :meth:`close` when the run ends."""

    def __init__(self, total: int, *, quiet: bool = False, color: bool = False, bar: bool | None = None) -> None:
        self.total, self.done, self.quiet, self.color = total, 0, quiet, color
        self.bar = None
        if not quiet and total and (want_bar() if bar is None else bar):
            from tqdm import tqdm

            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError):
                width = 0
            # A terminal that reports no size (a bare pseudo-terminal) would get an empty bar.
            sized = {"dynamic_ncols": True} if width else {"ncols": int(os.environ.get("COLUMNS") or 80)}
            self.bar = tqdm(total=total, unit="file", file=sys.stderr, **sized,
                            colour="green" if color else None, leave=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} files [{elapsed}<{remaining}]")

    def __call__(self, outcome: Outcome) -> None:
        self.done += 1
        bad = outcome.exit_code != 0 or outcome.status in ("findings", "error")
        if self.bar is not None:
            if bad:
                self.bar.write(line(self.done, self.total, outcome, self.color), file=sys.stderr)
            self.bar.set_description_str(outcome.job.name, refresh=False)
            self.bar.update(1)
        elif not self.quiet:
            click.echo(line(self.done, self.total, outcome, self.color), err=True)
        elif bad:
            click.echo(f"{outcome.status}: {outcome.job.name}: {outcome.message}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
