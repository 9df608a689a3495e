"""Final Cut Pro XML chapter markers (read only): ``<chapter-marker>`` on a project's timeline.

FCPXML stores every time as rational seconds (``1001/30000s``, ``3600s``). A marker's
``start`` is in the local time of the clip that holds it, so its place on the timeline
is found by walking up the story: each element maps a local time ``t`` to its parent's
time as ``offset + (t - start)`` (``start`` defaults to 0; a secondary storyline,
``<spine lane=...>``, counts its children from 0 and sits at its ``offset``). Connected
clips (``lane``) are children of the clip they hang from and map the same way. The
sequence's own time begins at ``tcStart`` (``3600s`` in Resolve-made files), which is
subtracted; ``--timeline-start`` overrides it. The walk goes through spines, gaps and
every clip kind (``asset-clip``, ``clip``, ``ref-clip``, ``mc-clip``, ``sync-clip``,
``title``, ``video``, ``audio``).

Not chapters, each with a note naming its line: plain ``<marker>`` elements (to-dos and
notes in FCP, which exports only chapter markers as chapters); chapter markers outside
their clip's used range (``start`` to ``start + duration``: trimmed away, FCP hides
them); chapter markers inside a compound or multicam clip's own media in
``<resources>``, on browser clips in an event, or in a project other than the first (as
MarkersExtractor, only the main timeline is read). The frame rate comes from the
sequence's ``<format frameDuration>``, so ``--fps`` is not needed (and, if given, is
ignored with a note). A chapter marker longer than one frame is a range and its chapter
ends where the range ends. FCPXML has no marker colours, so ``--marker-color`` is refused.

A ``.fcpxmld`` bundle (FCP 10.6+) is a folder holding ``Info.fcpxml``; :mod:`chapterkit.sources`
reads that file when given the folder.

XML safety: parsed with ``defusedxml``, which refuses any entity declaration (billion
laughs, quadratic blow-up, external and parameter entities) whatever the expat version.
Python 3.11's expat 2.5 already stops the blow-ups and does not fetch external entities,
but parameter entities still pass it, older expat builds are open to all of them, and a
chapter file has no use for a DTD's entities: measured 2026-12-03, bench/RESULTS.md.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import SourceError, UsageError
from chapterkit.formats._markers import Marker, finish, timecode_option
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.timecode import SmpteClock

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

name = "fcpxml"
extensions = (".fcpxml", ".fcpxmld")
summary = "Final Cut Pro XML <chapter-marker>s mapped to the project timeline (.fcpxml, .fcpxmld; read only)"
render = None  # read only

_TIME = re.compile(r"^\s*(-?\d+)(?:/(\d+))?s\s*$")
_STORY = frozenset({"spine", "gap", "asset-clip", "clip", "ref-clip", "mc-clip", "sync-clip", "title",
                    "video", "audio", "live-drawing", "transition"})


def detect(text: str) -> bool:
    """An ``<fcpxml`` root element near the top."""
    return re.search(r"<fcpxml[\s>]", text[:4096]) is not None


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Every chapter marker of the first project's timeline, in time order."""
    if options.marker_color:
        raise UsageError("FCPXML markers have no colours: --marker-color cannot select")
    root, lines = _parse_xml(text)
    if root.tag != "fcpxml":
        raise SourceError(f"line {lines.get(root, 1)}: root element is <{root.tag}>, expected <fcpxml>")
    reader = _Reader(lines, text.splitlines())
    formats = {f.get("id"): f for f in root.iter("format")}
    projects = [p for p in root.iter("project") if p.find("sequence") is not None]
    if not projects:
        raise SourceError("no <project> with a <sequence> (expected a project or timeline export)")
    sequence = projects[0].find("sequence")
    rate = reader.rate(formats.get(sequence.get("format")))
    if options.fps is not None and rate is not None:
        reader.note("fps_ignored", f"--fps is ignored: the file states its frame rate ({rate} fps)", 0)
    reader.frame = 1 / rate if rate else None
    tc_start = reader.time(sequence, "tcStart", Fraction(0))
    reader.walk(sequence, Fraction(0))
    taken = set(reader.visited)
    for element in root.iter():
        if element.tag == "marker" and element not in taken:
            reader.note("not_a_chapter", "a plain marker, not a chapter marker", lines.get(element, 0))
        elif element.tag == "chapter-marker" and element not in taken:
            reader.note("not_on_timeline", f"chapter marker {element.get('value', '')!r} is not on the first "
                        "project's timeline (compound or multicam media, a browser clip or another project)",
                        lines.get(element, 0))
    if options.timeline_start is not None:
        if rate is None:
            raise UsageError("--timeline-start needs the sequence's frame rate, which this file does not state")
        tc_start = timecode_option(options.timeline_start, SmpteClock(rate), sequence.get("tcFormat") == "DF") / rate
    return finish(reader.markers, reader.diagnostics, options, tc_start, "FCPXML chapter")


class _Reader:
    """The walk down one sequence, collecting markers and notes."""

    def __init__(self, lines: dict[Element, int], text_lines: list[str]) -> None:
        self.lines = lines
        self.text_lines = text_lines
        self.markers: list[Marker] = []
        self.diagnostics: list[Diagnostic] = []
        self.visited: list[Element] = []
        self.frame: Fraction | None = None
        self.cache: dict[str, Fraction] = {}

    def line(self, lineno: int) -> str:
        return self.text_lines[lineno - 1][:200] if 0 < lineno <= len(self.text_lines) else ""

    def note(self, code: str, message: str, lineno: int) -> None:
        self.diagnostics.append(Diagnostic(code, message, lineno, self.line(lineno), severity="info"))

    def time(self, element: Element, attribute: str, default: Fraction | None) -> Fraction | None:
        value = element.get(attribute)
        if value is None:
            return default
        known = self.cache.get(value)
        if known is not None:
            return known
        match = _TIME.match(value)
        if not match or match.group(2) == "0":
            raise SourceError(f"line {self.lines.get(element, 0)}: <{element.tag} {attribute}={value!r}>: "
                              "expected rational seconds such as 1001/30000s or 3600s")
        time = self.cache[value] = Fraction(int(match.group(1)), int(match.group(2) or 1))
        return time

    def rate(self, fmt: Element | None) -> Fraction | None:
        duration = None if fmt is None else self.time(fmt, "frameDuration", None)
        if duration is not None and duration <= 0:
            raise SourceError(f"line {self.lines.get(fmt, 0)}: frameDuration must be positive")
        return None if duration is None else 1 / duration

    def walk(self, element: Element, shift: Fraction) -> None:
        """Markers of ``element``, then its story. ``shift`` maps its local time to sequence time.

        Every level maps ``t`` to ``offset + (t - start)``, a translation, so the whole chain
        is one sum: sequence time = local time + shift.
        """
        start = self.time(element, "start", Fraction(0))
        duration = self.time(element, "duration", None)
        used = None if duration is None else (start, start + duration)
        for child in element:
            if child.tag == "chapter-marker":
                self.visited.append(child)
                self.marker(child, element, used, shift)
            elif child.tag == "marker":
                continue  # noted once, after the walk
            elif child.tag in _STORY:
                offset = self.time(child, "offset", Fraction(0))
                local_start = Fraction(0) if child.tag == "spine" else self.time(child, "start", Fraction(0))
                self.walk(child, shift + offset - local_start)

    def marker(self, element: Element, holder: Element, used, shift: Fraction) -> None:
        lineno = self.lines.get(element, 0)
        at = self.time(element, "start", None)
        if at is None:
            raise SourceError(f"line {lineno}: <chapter-marker> has no start")
        title = element.get("value", "")
        if used is not None and not used[0] <= at < used[1]:
            self.diagnostics.append(Diagnostic(
                "outside_clip", f"chapter marker {title!r} is outside the used part of its <{holder.tag}> "
                f"(trimmed away): left out", lineno, self.line(lineno)))
            return
        length = self.time(element, "duration", Fraction(0))
        if length < 0:
            raise SourceError(f"line {lineno}: <chapter-marker> duration is negative")
        end = at + length + shift if self.frame is not None and length > self.frame else None
        self.markers.append(Marker(lineno, self.line(lineno), at + shift, title, end))


def _parse_xml(text: str) -> tuple[Element, dict[Element, int]]:
    """The tree and each element's line; entity declarations are refused (see the docstring)."""
    from xml.etree.ElementTree import ParseError, TreeBuilder  # imported here: start-up stays light

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    lines: dict[Element, int] = {}

    class Builder(TreeBuilder):
        def start(self, tag, attrs):
            element = super().start(tag, attrs)
            lines[element] = parser.parser.CurrentLineNumber
            return element

    parser = DefusedXMLParser(target=Builder(), encoding="utf-8")
    try:
        # Fed as UTF-8 whatever the declaration says: the text is already decoded.
        parser.feed(text.lstrip("\ufeff").encode("utf-8"))
        root = parser.close()
    except ParseError as exc:
        raise SourceError(f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise SourceError(f"refused: the XML declares entities ({type(exc).__name__}); "
                          "an FCPXML file never needs them") from None
    return root, lines
