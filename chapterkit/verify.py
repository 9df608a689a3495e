"""Compare the chapters each reader finds in a file with the list they came from.

:func:`verify_file` runs every reader that applies to a file (or the ones asked
for) and :func:`compare` checks one reading against the source, chapter by
chapter. Nothing here prints or exits: the result is a :class:`VerifyReport`,
and :mod:`chapterkit.reports` renders it; the CLI turns ``exit_code`` into the
process status (0 every reader within tolerance, 1 any failure).

The comparison rules (what is checked, the documented container limits, how rows
align) are :mod:`chapterkit.compare`'s; the report model, tolerances and units are
:mod:`chapterkit.verdicts`'s. This module runs the readers and re-exports both, so
callers keep importing everything from ``chapterkit.verify``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from chapterkit import containers
# Everything callers imported from here before the split (constants and types included)
# is still imported here, from the modules that now define it.
from chapterkit.compare import DURATION_SLACK_NS, MAX_ALIGN_CELLS, compare
from chapterkit.containers import READERS
from chapterkit.errors import ChapterkitError, UsageError
from chapterkit.model import ChapterList
from chapterkit.verdicts import (
    NS_PER_US,
    ChapterCheck,
    ReaderReport,
    Status,
    VerifyReport,
    default_tolerance_ns,
    format_drift,
    format_unit,
    parse_tolerance,
)


def verify_file(path: str | os.PathLike[str], expected: ChapterList, *, readers: Sequence[str] | None = None,
                tolerance_ns: int | None = None, ffmpeg: object | None = None) -> VerifyReport:
    """Read ``path`` with every applicable reader (or ``readers``) and compare each with ``expected``.

    ``tolerance_ns`` defaults to :func:`default_tolerance_ns`. ``ffmpeg`` (a path
    or a ``muxer.FFmpegBinary``) goes to the ``libav`` reader only. A reader that
    fails gives a report with ``error`` set, so the others still report. Raises
    :class:`~chapterkit.errors.MediaError` when no reader can open the file (missing,
    not a container) and :class:`UsageError` for an unknown or inapplicable reader.
    """
    name = os.fspath(path)
    tolerance = default_tolerance_ns(expected) if tolerance_ns is None else tolerance_ns
    if tolerance < 0:
        raise UsageError(f"tolerance {tolerance} ns is negative")
    container = containers.sniff(name)
    reports = []
    errors = []
    for reader in containers.readers_for(container, readers):
        try:
            result = containers.run_reader(reader, name, ffmpeg)
        except ChapterkitError as exc:
            errors.append(exc)
            reports.append(ReaderReport(reader, (), tolerance, READERS[reader].precision_ns, len(expected), 0,
                                        None, (f"cannot read: {exc}",), error=str(exc)))
            continue
        reports.append(compare(expected, result, tolerance, container=container))
    if errors and len(errors) == len(reports):
        raise errors[0]  # no reader could read it: one line, as for a file that is not media
    return VerifyReport(name, expected, tolerance, tuple(reports), container)


__all__ = ["ChapterCheck", "ReaderReport", "VerifyReport", "compare", "default_tolerance_ns",
           "format_drift", "format_unit", "parse_tolerance", "verify_file"]
