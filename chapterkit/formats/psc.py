"""Podlove Simple Chapters (PSC 1.2): ``<psc:chapters>`` with ``<psc:chapter start title href image>``.

::

    <psc:chapters version="1.2" xmlns:psc="http://podlove.org/simple-chapters">
      <psc:chapter start="00:00:00.000" title="Intro" href="https://..." image="https://.../a.jpg"/>
      <psc:chapter start="1:30" title="Topic"/>
    </psc:chapters>

The element may stand alone or sit inside an RSS ``<item>`` or Atom
``<entry>``; it is found by its namespace, whatever the prefix (``sc:``, a
default namespace...). ``start`` is a Normal Play Time (RFC 2326 section
3.6): ``hh:mm:ss.fff``, ``h:mm:ss``, ``mm:ss(.fff)`` (which PSC adds) or plain
seconds ``ss(.fff)``. The spec says chapters are ordered by time, so the list is
re-sorted (stably) with a note when the file is not. ``image``/``href`` become
``img``/``url``. Only the first chapter list of a feed is read; later ones are noted.

Safety: chapter files come from anywhere. Parsing goes through ``defusedxml``
(the maintained guard around the stdlib's expat): entity declarations (the
"billion laughs" bomb) and external entities or DTDs are refused with a
:class:`SourceError` instead of being expanded or fetched. Its SAX interface
also gives each chapter's line number for the notes. Measured here (expat
2.5.0): the stdlib alone expands a small entity bomb (3,000 characters of
"lol" into a title) and stops a large one only at expat's amplification limit;
defusedxml refuses both at the first declaration. Reading 20,000 chapters costs
about 0.45 s with the model built, against 0.08 s for a bare ``ET.fromstring``
of the same text: well above the 10,000 chapters/s goal (bench/bench_formats.py).
"""

from __future__ import annotations

import re
from xml.sax import SAXParseException, handler

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats._filetext import Notes, build_list, clock, ends_lost, rounded, within_range
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList

name = "psc"
extensions = (".psc", ".psc.xml")
holds_links = True  # image, href
summary = "Podlove Simple Chapters XML (standalone, or inside an RSS item / Atom entry)"

NAMESPACE = "http://podlove.org/simple-chapters"
_NPT = re.compile(r"(?:(?:(\d+):)?(\d{1,2}):)?(\d+)(?:\.(\d*))?")
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def detect(text: str) -> bool:
    """The PSC namespace URI in an XML text (standalone, or in a feed)."""
    return NAMESPACE in text[:4_000_000] and text.lstrip("\ufeff \t\r\n").startswith("<")


def npt_ns(value: str, where: str) -> int:
    """A Normal Play Time to ns; SourceError names ``where`` and the forms expected."""
    match = _NPT.fullmatch(value.strip())
    if not match or (match[2] is not None and int(match[3]) >= 60) or (match[1] is not None and int(match[2]) >= 60):
        raise SourceError(f"{where}: expected a Normal Play Time (hh:mm:ss.fff, mm:ss or seconds), "
                          f"got {value[:30]!r}")
    hours, minutes, seconds, fraction = match.groups()
    fraction = (fraction or "").ljust(10, "0")
    nanos = int(fraction[:9]) + (fraction[9] >= "5")
    return within_range((int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)) * NS_PER_SECOND + nanos,
                        where)


class _Handler(handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.notes = Notes()
        self.found: list[tuple[int, Chapter]] = []
        self.lists = 0       # chapter lists seen
        self.depth_in = 0    # >0 while inside the first chapter list
        self.locator = None

    def setDocumentLocator(self, locator) -> None:
        self.locator = locator

    def lineno(self) -> int:
        return self.locator.getLineNumber() if self.locator else 0

    def startElementNS(self, name, qname, attrs) -> None:
        uri, local = name
        ours = uri == NAMESPACE
        if self.depth_in:
            self.depth_in += 1
            if ours and local == "chapter" and self.depth_in == 2:
                self.chapter(attrs)
            else:
                self.notes.add("not_a_chapter", f"element <{qname or local}> is not a chapter", self.lineno())
        elif ours and local == "chapters":
            self.lists += 1
            if self.lists == 1:
                self.depth_in = 1
            else:
                self.notes.add("another_list", "another chapter list (e.g. a later feed item): only the "
                               "first is read", self.lineno())
        elif ours and local == "chapter":
            where = "in a later chapter list" if self.lists > 1 else "outside psc:chapters"
            self.notes.add("not_read", f"psc:chapter {where} skipped", self.lineno())

    def endElementNS(self, name, qname) -> None:
        if self.depth_in:
            self.depth_in -= 1

    def chapter(self, attrs) -> None:
        lineno = self.lineno()
        values = {local: value for (uri, local), value in attrs.items() if not uri}
        if "start" not in values:
            raise SourceError(f"line {lineno}: psc:chapter without the required start attribute")
        start_ns = npt_ns(values["start"], f"line {lineno}: start")
        if "title" not in values:
            self.notes.add("untitled", "chapter has no title", lineno, severity="info")
        ignored = sorted(set(values) - {"start", "title", "href", "image"})
        if ignored:
            self.notes.add("not_kept", f"attributes not kept: {', '.join(ignored)}", lineno, severity="info")
        self.found.append((lineno, (start_ns, None, values.get("title", ""),
                                    values.get("image") or None, values.get("href") or None)))


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """The first chapter list, sorted by start; SourceError names the line of bad XML or times."""
    # Imported here, not at the top: the expat reader pulls in xml.sax.saxutils, urllib.request
    # and http.client, ~16 ms that every command would pay because the registry imports every format.
    from xml.sax.expatreader import ExpatLocator

    from defusedxml import DefusedXmlException
    from defusedxml.expatreader import create_parser

    content = _Handler()
    parser = create_parser()
    parser.setFeature(handler.feature_namespaces, True)
    parser.setContentHandler(content)
    content.setDocumentLocator(ExpatLocator(parser))  # parse() would do this; feed() (for str input) does not
    try:
        parser.feed(text.lstrip("\ufeff"))
        parser.close()
    except SAXParseException as exc:
        raise SourceError(f"line {exc.getLineNumber()}: not well-formed XML ({exc.getMessage()})") from None
    except DefusedXmlException as exc:
        raise SourceError(f"refused XML: {type(exc).__name__} (entity declarations, external entities and "
                          "DTD fetches are not read from chapter files)") from None
    notes, found = content.notes, content.found
    if not content.lists:
        raise NoChaptersError(f"no <chapters> element of the Podlove namespace {NAMESPACE}", diagnostics=notes())
    if not found:
        raise NoChaptersError("the chapter list is empty", diagnostics=notes())
    ordered = sorted(found, key=lambda pair: pair[1][0])
    if ordered != found:
        first = next(pair[0] for pair, other in zip(found, ordered) if pair is not other)
        notes.add("resorted", "chapters are not in time order: sorted by start, as the PSC spec requires", first)
    rows = [row for _, row in ordered]
    duration = options.duration_ns
    if duration is not None and duration < rows[-1][0]:
        notes.add("past_duration", "the media duration is before the last chapter: ignored")
        duration = None
    return ParseResult(build_list(rows, None, duration), notes())


def normalize_title(title: str) -> str:
    """What an XML 1.0 attribute can hold: control characters other than tab and line breaks dropped."""
    return _NOT_XML_CHAR.sub("", title)


def render_checked(chapters: ChapterList) -> tuple[str, tuple]:
    """A standalone PSC 1.2 document, and a warning for every time or character it could not keep."""
    from xml.sax.saxutils import quoteattr  # here: it imports urllib.request (start-up cost)

    notes = Notes()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<psc:chapters version="1.2" xmlns:psc="{NAMESPACE}">']
    previous = -1
    for number, chapter in enumerate(chapters, 1):
        if rounded(chapter.start_ns, NS_PER_MS) != chapter.start_ns:
            notes.add("rounded", f"chapter {number} start rounded to the millisecond")
        if chapter.start_ns < previous:
            notes.add("resorted", f"chapter {number} starts before the one above: PSC readers sort by time")
        previous = chapter.start_ns
        title = normalize_title(chapter.title)
        if title != chapter.title:
            notes.add("title_changed", f"chapter {number} title: control characters XML cannot hold dropped")
        attrs = f"start={quoteattr(clock(chapter.start_ns))} title={quoteattr(title)}"
        for attribute, value in (("href", chapter.url), ("image", chapter.img)):
            if value:
                if normalize_title(value) != value:
                    notes.add("link_changed", f"chapter {number} {attribute}: control characters dropped")
                attrs += f" {attribute}={quoteattr(normalize_title(value))}"
        lines.append(f"  <psc:chapter {attrs}/>")
    ends_lost(chapters, notes, "PSC")
    lines.append("</psc:chapters>")
    return "\n".join(lines) + "\n", notes()


def render(chapters: ChapterList) -> str:
    """PSC 1.2 XML, one ``psc:chapter`` a line (start to the millisecond)."""
    return render_checked(chapters)[0]


__all__ = ["NAMESPACE", "detect", "extensions", "holds_links", "name", "normalize_title", "npt_ns", "parse", "render",
           "render_checked", "summary"]
