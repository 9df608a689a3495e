"""A small, safe XML element tree with line numbers, for the XML chapter formats.

Why not :mod:`xml.etree` directly: its elements carry no line numbers, and a
chapter file's errors must name the line. Why not defusedxml: chapter files come
from anywhere, so entity attacks matter, but measured here the bundled expat
2.5 already refuses a billion-laughs document (its amplification limit, in
0.09 s) and never loads external entities (``&e;`` from ``SYSTEM`` stays
undefined). This builder goes further at no cost, as defusedxml does: any entity
declaration or external DTD subset request is refused outright, since no chapter
format needs one. A plain ``<!DOCTYPE Chapters SYSTEM "matroskachapters.dtd">``
(mkvtoolnix's) is allowed; its DTD is never fetched.

``psc`` and ``fcpxml`` parse through ``defusedxml`` instead (SAX with namespace
URIs, and ElementTree). Both ways refuse the same attacks (entity bombs, external
and parameter entities: checked side by side in tests/formats/test_xml_safety.py);
defusedxml also refuses any external DTD reference, which this builder allows
for mkvtoolnix's DOCTYPE. Moving them here would need namespace URIs (PSC is
matched by its namespace) and a rewrite of fcpxml's ElementTree walk: not worth
it while both stay equally safe.
"""

from __future__ import annotations

from xml.parsers import expat

from chapterkit.errors import SourceError

#: Documents nested deeper than this are refused (a chapter file is a few levels deep).
MAX_DEPTH = 256


class Node:
    """One element: local tag name (namespace prefix removed), attributes, text, children, line.

    A plain slotted class (not a dataclass): building tens of thousands of them is the
    reader's main cost, and this ``__init__`` is the cheapest Python offers.
    """

    __slots__ = ("tag", "attrs", "lineno", "children", "parts")

    def __init__(self, tag: str, attrs: dict[str, str], lineno: int) -> None:
        self.tag = tag
        self.attrs = attrs
        self.lineno = lineno
        self.children: list[Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        """The element's own character data (not its children's), joined."""
        return "".join(self.parts)

    def __repr__(self) -> str:
        return f"<Node {self.tag} line {self.lineno}>"


def _local(tag: str, _cache: dict[str, str] = {}) -> str:  # noqa: B006 - a deliberate memo
    """``prefix:local`` -> ``local``: any namespace prefix is accepted (chapter files use few tags, so memoised)."""
    local = _cache.get(tag)
    if local is None:
        local = _cache[tag] = tag.rpartition(":")[2]
    return local


def parse(text: str) -> Node:
    """The root element of ``text``; raises :class:`SourceError` naming the line on bad XML."""
    parser = expat.ParserCreate()
    parser.buffer_text = True  # one CharacterData call per text run, not per line
    root: list[Node] = []
    stack: list[Node] = []

    def refuse_entities(*_args) -> None:
        raise SourceError(f"line {parser.CurrentLineNumber}: XML entity declarations are not allowed "
                          "in chapter files")

    def start(tag: str, attrs: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise SourceError(f"line {parser.CurrentLineNumber}: XML nested deeper than {MAX_DEPTH} levels")
        node = Node(_local(tag), {_local(k): v for k, v in attrs.items()} if attrs else {}, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def data(chunk: str) -> None:
        if stack:
            stack[-1].parts.append(chunk)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.EntityDeclHandler = refuse_entities
    parser.UnparsedEntityDeclHandler = refuse_entities
    parser.ExternalEntityRefHandler = refuse_entities
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(text.removeprefix("\ufeff"), True)
    except expat.ExpatError as exc:
        raise SourceError(f"line {exc.lineno}: not well-formed XML ({expat.ErrorString(exc.code)})") from None
    except RecursionError:
        raise SourceError("XML nested too deeply") from None
    if not root:
        raise SourceError("no XML root element")
    return root[0]


def looks_like_xml(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("<")
