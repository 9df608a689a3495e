"""Matroska XML chapters: what ``mkvextract chapters`` writes and ``mkvmerge --chapters`` reads.

The document is ``Chapters`` > ``EditionEntry`` > ``ChapterAtom`` (nested atoms
inside atoms), with the element names mkvtoolnix uses (RFC 9559 section 5.1.7 for
their meaning; mkvtoolnix 74 accepted and wrote back every element below)::

    <Chapters>
      <EditionEntry>
        <EditionUID>5</EditionUID>  <EditionFlagDefault>1</EditionFlagDefault>
        <ChapterAtom>
          <ChapterUID>7</ChapterUID>
          <ChapterTimeStart>00:00:00.000000000</ChapterTimeStart>
          <ChapterDisplay>
            <ChapterString>Intro</ChapterString>
            <ChapterLanguage>eng</ChapterLanguage> <ChapLanguageIETF>en</ChapLanguageIETF>
          </ChapterDisplay>
        </ChapterAtom>
      </EditionEntry>
    </Chapters>

Everything is kept in :attr:`ChapterList.editions <chapterkit.model.ChapterList.editions>`
(editions and their flags and displays, nested atoms, every display language,
hidden/enabled flags, UIDs, segment links, skip types, tracks), so reading and
writing again loses nothing; ``ChapterList.chapters`` is the flat list a player
shows. ``ChapterProcess`` (DVD-menu codec commands) is not kept, and says so.
mkvmerge itself adds ``ChapterLanguage eng`` / ``ChapLanguageIETF en`` to a
display without languages and a random UID where none is given.

Times are ``HH:MM:SS.nnnnnnnnn``, exact to the nanosecond. The XML is read with
:mod:`._xmltree` (entity declarations refused; errors name the line).
"""

from __future__ import annotations

import re

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import _xmltree
from chapterkit.formats._filetext import clock
from chapterkit.formats._xmltree import Node
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, Atom, ChapterList, Display, Edition, EditionDisplay

name = "mkvxml"
extensions = (".xml",)
summary = "Matroska XML chapters (mkvextract/mkvmerge): editions, nested atoms, languages, flags, UIDs"
#: The registry warns about editions and nesting only for formats that cannot hold them.
holds_editions = True

_TIME = re.compile(r"\s*(?:(\d{1,6}):)?([0-5]?\d):([0-5]?\d)(?:\.(\d{1,9}))?\s*")  # mkvmerge: the hour may be left out
_ROOT = re.compile(r"<(?:[\w.-]+:)?Chapters[\s>/]")
#: XML 1.0 cannot hold these characters at all, not even as references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_KEPT = {"ChapterProcess": "ChapterProcess (chapter codec commands)",
             "EditionManaged": "EditionManaged"}


def detect(text: str) -> bool:
    """XML whose root element is ``Chapters`` (a prolog, comments and a DOCTYPE may come first)."""
    if not _xmltree.looks_like_xml(text):
        return False
    match = _ROOT.search(text, 0, 4096)
    if not match:
        return False
    prolog = text[:match.start()]
    # Only declarations, comments and a DOCTYPE before <Chapters>: no other element opened first.
    return re.search(r"<(?![?!])", prolog) is None


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Every edition and atom, plus the flat view in ``options.language`` when a display has it."""
    root = _xmltree.parse(text)
    if root.tag != "Chapters":
        raise SourceError(f"line {root.lineno}: root element is <{root.tag}>, expected <Chapters> "
                          "(Matroska XML chapters)")
    reader = _Reader(options)
    editions = []
    for node in root.children:
        if node.tag == "EditionEntry":
            editions.append(reader.edition(node))
        else:
            reader.not_kept(node)
    if not any(edition.atoms for edition in editions):
        raise NoChaptersError("no ChapterAtom in any EditionEntry", diagnostics=reader.diagnostics)
    chapters = ChapterList.from_editions(editions, language=options.language, duration_ns=options.duration_ns)
    if not chapters:
        raise NoChaptersError("no chapter is shown: the default edition's chapters are all hidden or "
                              "disabled (or every edition is hidden)", diagnostics=reader.diagnostics)
    if options.duration_ns is not None:
        late = [c for c in chapters if c.start_ns >= options.duration_ns]
        if late:
            reader.diagnostics.append(Diagnostic("past_duration", f"{len(late)} chapter(s) start at or after "
                                                 "the media's end"))
    return ParseResult(chapters, tuple(reader.diagnostics))


class _Reader:
    def __init__(self, options: ParseOptions) -> None:
        self.options = options
        self.diagnostics: list[Diagnostic] = []

    def not_kept(self, node: Node) -> None:
        what = _NOT_KEPT.get(node.tag, f"<{node.tag}>")
        self.diagnostics.append(Diagnostic("not_kept", f"{what} is not kept", node.lineno, f"<{node.tag}>"))

    def edition(self, node: Node) -> Edition:
        fields: dict[str, object] = {"uid": None}
        atoms, displays = [], []
        for child in node.children:
            if child.tag == "EditionUID":
                fields["uid"] = _uint(child)
            elif child.tag in ("EditionFlagHidden", "EditionFlagDefault", "EditionFlagOrdered"):
                fields["flag_" + child.tag.removeprefix("EditionFlag").lower()] = _flag(child)
            elif child.tag == "EditionDisplay":
                displays.append(self.edition_display(child))
            elif child.tag == "ChapterAtom":
                atoms.append(self.atom(child, 1))
            else:
                self.not_kept(child)
        return Edition(atoms=tuple(atoms), displays=tuple(displays), **fields)

    def edition_display(self, node: Node) -> EditionDisplay:
        string, languages = "", []
        for child in node.children:
            if child.tag == "EditionString":
                string = child.text
            elif child.tag == "EditionLanguageIETF":
                languages.append(child.text.strip())
            else:
                self.not_kept(child)
        return EditionDisplay(string, tuple(languages))

    def atom(self, node: Node, depth: int) -> Atom:
        fields: dict[str, object] = {"uid": None}
        start_ns = end_ns = None
        end_node = None
        displays, children, tracks = [], [], []
        for child in node.children:
            tag = child.tag
            if tag in _ATOM_FIELDS:
                field, read = _ATOM_FIELDS[tag]
                fields[field] = read(child)
            elif tag == "ChapterTimeStart":
                start_ns = _time(child)
            elif tag == "ChapterTimeEnd":
                end_ns, end_node = _time(child), child
            elif tag == "ChapterTrack":
                tracks += [_uint(n) if n.tag == "ChapterTrackNumber" else self.not_kept(n) for n in child.children]
            elif tag == "ChapterDisplay":
                displays.append(self.display(child))
            elif tag == "ChapterAtom":
                if depth >= _xmltree.MAX_DEPTH // 2:
                    raise SourceError(f"line {child.lineno}: chapters nested deeper than {depth} levels")
                children.append(self.atom(child, depth + 1))
            else:
                self.not_kept(child)
        if start_ns is None:
            raise SourceError(f"line {node.lineno}: ChapterAtom has no ChapterTimeStart")
        if end_ns is not None and end_ns < start_ns:
            message = f"ChapterTimeEnd is before ChapterTimeStart on line {end_node.lineno}"
            if not self.options.lenient:
                raise SourceError(f"line {end_node.lineno}: {message.partition(' on line')[0]}")
            self.diagnostics.append(Diagnostic("end_before_start", message + "; end dropped", end_node.lineno))
            end_ns = None
        return Atom(start_ns=start_ns, end_ns=end_ns, displays=tuple(displays), children=tuple(children),
                    tracks=tuple(t for t in tracks if t is not None), **fields)

    def display(self, node: Node) -> Display:
        string = None
        languages, ietf, countries = [], [], []
        for child in node.children:
            if child.tag in ("ChapterString", "ChapString"):
                string = child.text
            elif child.tag in ("ChapterLanguage", "ChapLanguage"):
                languages.append(child.text.strip())
            elif child.tag == "ChapLanguageIETF":
                ietf.append(child.text.strip())
            elif child.tag in ("ChapterCountry", "ChapCountry"):
                countries.append(child.text.strip())
            else:
                self.not_kept(child)
        if string is None:
            self.diagnostics.append(Diagnostic("untitled", "ChapterDisplay has no ChapterString", node.lineno,
                                               severity="info"))
        return Display(string or "", tuple(languages), tuple(ietf), tuple(countries))


def _uint(node: Node) -> int:
    value = node.text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 20 or int(value) >= 2 ** 64:
        raise SourceError(f"line {node.lineno}: <{node.tag}> needs an unsigned 64-bit integer, "
                          f"not {value[:40]!r}")
    return int(value)


def _flag(node: Node) -> bool:
    value = node.text.strip()
    if value not in ("0", "1"):
        raise SourceError(f"line {node.lineno}: <{node.tag}> needs 0 or 1, not {value[:40]!r}")
    return value == "1"


def _hex(node: Node) -> bytes:
    value = re.sub(r"\s+", "", node.text).removeprefix("0x")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise SourceError(f"line {node.lineno}: <{node.tag}> needs hex bytes, not {value[:40]!r}") from None


def _time(node: Node) -> int:
    match = _TIME.fullmatch(node.text)
    if not match:
        raise SourceError(f"line {node.lineno}: <{node.tag}> needs a time HH:MM:SS.nnnnnnnnn, "
                          f"not {node.text.strip()[:40]!r}")
    hours, minutes, seconds, fraction = match.groups()
    whole = (int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)
    return whole * NS_PER_SECOND + int((fraction or "").ljust(9, "0"))


# -- rendering ---------------------------------------------------------------------------------


def render(chapters: ChapterList) -> str:
    """The XML for ``chapters.editions``, or for one plain edition holding the flat list."""
    editions = chapters.editions or (Edition(None, atoms=tuple(
        Atom(None, c.start_ns, c.end_ns, displays=(Display(c.title),)) for c in chapters)),)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<!-- <!DOCTYPE Chapters SYSTEM \"matroskachapters.dtd\"> -->",
           "<Chapters>"]
    for edition in editions:
        out.append("  <EditionEntry>")
        _element(out, 2, "EditionUID", edition.uid)
        for tag, on in (("EditionFlagHidden", edition.flag_hidden), ("EditionFlagDefault", edition.flag_default),
                        ("EditionFlagOrdered", edition.flag_ordered)):
            if on:
                _element(out, 2, tag, 1)
        for display in edition.displays:
            out.append("    <EditionDisplay>")
            _element(out, 3, "EditionString", display.string)
            for language in display.languages_ietf:
                _element(out, 3, "EditionLanguageIETF", language)
            out.append("    </EditionDisplay>")
        for atom in edition.atoms:
            _atom(out, 2, atom)
        out.append("  </EditionEntry>")
    out.append("</Chapters>")
    return "\n".join(out) + "\n"


def _atom(out: list[str], level: int, atom: Atom) -> None:
    pad = "  " * level
    out.append(f"{pad}<ChapterAtom>")
    _element(out, level + 1, "ChapterUID", atom.uid)
    _element(out, level + 1, "ChapterStringUID", atom.string_uid)
    _element(out, level + 1, "ChapterTimeStart", _stamp(atom.start_ns))
    _element(out, level + 1, "ChapterTimeEnd", None if atom.end_ns is None else _stamp(atom.end_ns))
    if atom.flag_hidden:
        _element(out, level + 1, "ChapterFlagHidden", 1)
    if not atom.flag_enabled:
        _element(out, level + 1, "ChapterFlagEnabled", 0)
    if atom.segment_uuid is not None:
        out.append(f'{pad}  <ChapterSegmentUID format="hex">{atom.segment_uuid.hex()}</ChapterSegmentUID>')
    _element(out, level + 1, "ChapterSegmentEditionUID", atom.segment_edition_uid)
    _element(out, level + 1, "ChapterPhysicalEquiv", atom.physical_equiv)
    _element(out, level + 1, "ChapterSkipType", atom.skip_type)
    if atom.tracks:
        out.append(f"{pad}  <ChapterTrack>")
        for track in atom.tracks:
            _element(out, level + 2, "ChapterTrackNumber", track)
        out.append(f"{pad}  </ChapterTrack>")
    for display in atom.displays:
        out.append(f"{pad}  <ChapterDisplay>")
        _element(out, level + 2, "ChapterString", display.string)
        for tag, values in (("ChapterLanguage", display.languages), ("ChapLanguageIETF", display.languages_ietf),
                            ("ChapterCountry", display.countries)):
            for value in values:
                _element(out, level + 2, tag, value)
        out.append(f"{pad}  </ChapterDisplay>")
    for child in atom.children:
        _atom(out, level + 1, child)
    out.append(f"{pad}</ChapterAtom>")


def _element(out: list[str], level: int, tag: str, value: object) -> None:
    if value is not None:
        out.append(f"{'  ' * level}<{tag}>{_text(str(value))}</{tag}>")


def _text(value: str) -> str:
    # Imported here: xml.sax.saxutils pulls in urllib.request and http.client (~16 ms of
    # start-up for every command, since the registry imports every format).
    from xml.sax.saxutils import escape

    # CR is escaped: an XML reader turns a literal CR or CRLF into LF (XML 1.0 section 2.11).
    return escape(_NOT_XML.sub("", value)).replace("\r", "&#13;")


def _stamp(ns: int) -> str:
    return clock(ns, 9)  # mkvextract writes nanoseconds


def render_losses(chapters: ChapterList) -> tuple[str, ...]:
    """What :func:`render` cannot keep of ``chapters``, one phrase each (the registry warns)."""
    losses = []
    texts = [d.string for e in chapters.editions for a in e.all_atoms() for d in a.displays]
    texts += [] if chapters.editions else list(chapters.titles)
    bad = sum(1 for text in texts if _NOT_XML.search(text))
    if bad:
        losses.append(f"{bad} title(s) had control characters XML cannot hold; removed")
    return tuple(losses)


#: The scalar ChapterAtom children: XML tag -> (Atom field, how its text is read).
_ATOM_FIELDS = {
    "ChapterUID": ("uid", _uint),
    "ChapterStringUID": ("string_uid", lambda node: node.text),
    "ChapterFlagHidden": ("flag_hidden", _flag),
    "ChapterFlagEnabled": ("flag_enabled", _flag),
    "ChapterSegmentUID": ("segment_uuid", _hex),
    "ChapterSegmentEditionUID": ("segment_edition_uid", _uint),
    "ChapterPhysicalEquiv": ("physical_equiv", _uint),
    "ChapterSkipType": ("skip_type", _uint),
}


__all__ = ["detect", "extensions", "holds_editions", "name", "parse", "render", "render_losses", "summary"]
