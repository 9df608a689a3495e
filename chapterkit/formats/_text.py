"""Description text to logical lines: HTML show notes, markdown links, line ends, bidi marks.

A description arrives as plain text, as HTML show notes (an RSS feed's
``<description>``, sometimes escaped twice) or with markdown links around its
stamps. :func:`logical_lines` turns all of them into numbered plain lines, so
the line classifier (:mod:`._lines`) never sees a tag, an entity, or a time
that only a link's target held. :func:`clean_title` is the one rule for padding.
"""

from __future__ import annotations

import html
import re

BIDI_MARKS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF])
_EDGE_JUNK = " \u200b\u2060"  # zero-width spaces are not whitespace to str.strip()

_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_HTML_HINT = re.compile(r"<(?:br|p|div|li|ul|ol|h[1-6]|span|a|strong|em|b|i)\b[^<>]*>"
                        r"|</(?:p|div|li|ul|ol|h[1-6]|span|a|strong|em|b|i)\s*>", re.IGNORECASE)
# The same tags escaped once more: a <description> copied out of an RSS feed's XML.
_ESCAPED_HTML_HINT = re.compile(r"&lt;/?(?:br|p|div|li|ul|ol|h[1-6])\b", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|<[A-Za-z/!][^<>]*>", re.DOTALL)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|table|blockquote|pre|hr|section)\b",
                        re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\[\]\n]*(?:\[[^\[\]\n]*\][^\[\]\n]*)?)\]\((?:https?://|www\.|/|#)[^()\s]*\)")


def logical_lines(text: str) -> list[tuple[int, str]]:
    """``(lineno, line)`` pairs: HTML made into lines, markdown links unwrapped, bidi marks gone.

    ``lineno`` is the 1-based source line where the logical line starts; in HTML
    show notes, where ``<br />``-separated lines often share one physical line,
    it is the 1-based number of the logical line among the non-empty ones. CR, CRLF and U+2028 all end lines. Markdown links keep their text (``[(0:00) Intro](url)``
    is ``(0:00) Intro``), so a time inside the URL is never read. HTML escaped
    twice (``&lt;p&gt;``, as in an RSS feed's XML source) is unescaped once first.
    """
    if not _HTML_HINT.search(text) and _ESCAPED_HTML_HINT.search(text):
        text = html.unescape(text)
    if _HTML_HINT.search(text):
        # Tags leave empty logical lines ("<p>" opens one): they carry nothing to number.
        kept = [line for _, line in _html_lines(text) if line.strip()]
        lines = list(enumerate(kept, start=1))
    else:
        lines = _plain_lines(text)
    return [(lineno, _MD_LINK.sub(r"\1", line).translate(BIDI_MARKS)) for lineno, line in lines]


def _plain_lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(_LINE_BREAK.split(text), start=1))


def _html_lines(text: str) -> list[tuple[int, str]]:
    """Tags dropped (with any stamp in their attributes), block tags and ``<br>`` break lines."""
    lines: list[tuple[int, str]] = []
    buffer: list[str] = []
    source_line = start_line = 1

    def feed(chunk: str) -> None:
        nonlocal source_line, start_line
        for index, piece in enumerate(_LINE_BREAK.split(chunk)):
            if index:
                lines.append((start_line, "".join(buffer)))
                buffer.clear()
                source_line += 1
                start_line = source_line
            buffer.append(html.unescape(piece))

    position = 0
    for tag in _TAG.finditer(text):
        feed(text[position:tag.start()])
        source_line += len(_LINE_BREAK.findall(tag.group()))
        if _BLOCK_TAG.match(tag.group()):
            lines.append((start_line, "".join(buffer)))
            buffer.clear()
            start_line = source_line
        position = tag.end()
    feed(text[position:])
    lines.append((start_line, "".join(buffer)))
    return lines


def clean_title(text: str) -> str:
    """A title without padding: whitespace (NBSP too) and zero-width spaces at either end."""
    previous = None
    while previous != text:
        previous, text = text, text.strip().strip(_EDGE_JUNK)
    return text
