"""What every chapter text format provides, and the values parsers exchange.

How to add a format:

1. Write ``chapterkit/formats/<name>.py`` with module-level ``name``,
   ``extensions``, ``summary`` and three pure functions: ``detect(text) -> bool``,
   ``parse(text, options) -> ParseResult`` and ``render(chapters) -> str``.
   Parsers take text and return the model; they never open files or run
   processes. A parser that cannot read its input raises
   :class:`~chapterkit.errors.SourceError`; one whose input holds no usable
   chapter list raises :class:`~chapterkit.errors.NoChaptersError` with the
   diagnostics.
   A read-only format sets ``render = None``. A writable one may define
   ``render_losses(chapters) -> tuple[str, ...]``, one phrase per thing its
   ``render`` cannot keep (the CLI prints them as warnings); a format that
   writes ``ChapterList.editions`` whole sets ``holds_editions = True``, one that
   writes the list's title ``holds_title = True``, one that writes chapter
   ``img``/``url`` ``holds_links = True`` (the registry warns of the rest).
2. Add the module to ``FORMATS`` in ``chapterkit/formats/__init__.py``.
3. Add golden files ``fixtures/formats/<name>/<case>.<ext>`` with
   ``<case>.expected.json`` (``tests/formats/test_contract.py`` runs them all),
   and ``tests/formats/test_<name>.py`` with a hypothesis round trip.

A format with limits may instead provide ``render_checked(chapters) -> (text,
warnings)`` itself (CUE: 99 tracks, 1/75 s); :func:`chapterkit.formats.render_checked`
uses it when present, else ``render`` plus ``render_losses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from chapterkit.diagnostics import Diagnostic
from chapterkit.model import ChapterList


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """Knobs a parser may honour; a format ignores those that do not apply to it.

    ``duration_ns``: the media duration when known (drops chapters past it, ends the
    last chapter). ``lenient``: repair instead of refusing. ``fps``: frame rate for
    SMPTE ``HH:MM:SS:FF`` stamps. ``split_flattened``: accept several stamps on one line.
    ``rules``: ``youtube`` (YouTube's description rules refuse) or ``basic`` (they warn);
    only description text applies them. ``timeline_start``: an editor timeline's start
    timecode as written (``01:00:00:00``), subtracted from marker times; None lets the
    format decide. ``marker_color``: keep only editor markers of this colour.
    ``language``: the display language a flat view prefers (Matroska ``ChapString``).
    """

    duration_ns: int | None = None
    lenient: bool = False
    fps: Fraction | None = None
    split_flattened: bool = False
    rules: str = "youtube"
    timeline_start: str | None = None
    marker_color: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The chapters a parser found and what it said about the lines it read.

    ``chapter_lines``: the 1-based source line that defined chapter N, at index N-1, so a
    report can point at it (GitHub annotations); empty where the format does not say
    (then chapterkit.batch finds the line by the title).
    """

    chapters: ChapterList
    diagnostics: tuple[Diagnostic, ...] = ()
    chapter_lines: tuple[int, ...] = ()


class ChapterFormat(Protocol):
    """The shape of a format module (checked by ``tests/formats/test_registry.py``)."""

    name: str
    extensions: tuple[str, ...]
    summary: str

    def detect(self, text: str) -> bool: ...
    def parse(self, text: str, options: ParseOptions = ...) -> ParseResult: ...
    def render(self, chapters: ChapterList) -> str: ...
