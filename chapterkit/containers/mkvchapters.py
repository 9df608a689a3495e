"""Build a Matroska ``Chapters`` element from editions, atoms and displays.

The builder walks the same structure the reader returns (:class:`matroska.Edition`
-> :class:`matroska.Atom` -> children, each with its UID, flags and
:class:`matroska.Display` list), so a richer chapter model (several editions, nested
atoms, titles in several languages) plugs in by handing it editions; today
:func:`editions_from_list` makes one edition of flat atoms from a ``ChapterList``.

What is written follows RFC 9559 section 5.1.7 and what FFmpeg writes
(``matroskaenc.c`` ``mkv_write_chapters``, research containers.md 2.2): per chapter a
``ChapterAtom`` with ``ChapterUID`` (1..N), ``ChapterTimeStart`` and ``ChapterTimeEnd``
in ns, and a ``ChapterDisplay`` with ``ChapString`` and ``ChapLanguage`` "und".
Matroska gets ``EditionFlagDefault`` 1; WebM gets no edition flags (FFmpeg writes
none there and the WebM element list has none). Flags are written only when they
differ from the schema default, as mkvmerge does; an element whose value is the
default would only cost bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chapterkit.containers.ebml import encode_element, encode_uint
from chapterkit.containers.matroska import (
    CHAP_COUNTRY, CHAP_LANGUAGE, CHAP_LANGUAGE_IETF, CHAP_STRING, CHAPTER_ATOM, CHAPTER_DISPLAY,
    CHAPTER_FLAG_ENABLED, CHAPTER_FLAG_HIDDEN, CHAPTER_TIME_END, CHAPTER_TIME_START, CHAPTER_UID,
    CHAPTERS, EDITION_ENTRY, EDITION_FLAG_DEFAULT, EDITION_FLAG_HIDDEN, EDITION_FLAG_ORDERED, EDITION_UID,
    Atom, Display, Edition,
)
from chapterkit.model import ChapterList

#: FFmpeg's ChapLanguage for chapters it has no language for (matroskaenc.c).
UNDETERMINED = "und"


def editions_from_list(chapters: ChapterList, doc_type: str = "matroska") -> tuple[Edition, ...]:
    """One edition of flat atoms, as FFmpeg writes a chapter list (UIDs 1..N)."""
    atoms = tuple(Atom(uid=index, start_ns=chapter.start_ns, end_ns=chapter.end_ns,
                       displays=(Display(chapter.title, (UNDETERMINED,)),))
                  for index, chapter in enumerate(chapters, 1))
    return (Edition(uid=None, flag_default=doc_type != "webm", atoms=atoms),)


def chapters_payload(editions: Sequence[Edition], doc_type: str = "matroska") -> bytes:
    """The data of a Chapters element (its EditionEntry children), without the header."""
    return b"".join(_edition(edition, doc_type) for edition in editions)


def build_chapters(editions: Sequence[Edition], doc_type: str = "matroska") -> bytes:
    """A whole Chapters element."""
    return encode_element(CHAPTERS, chapters_payload(editions, doc_type))


def _edition(edition: Edition, doc_type: str) -> bytes:
    parts = []
    if edition.uid is not None:
        parts.append(encode_uint(EDITION_UID, edition.uid))
    if doc_type != "webm":  # WebM's element list has no edition flags
        parts += _flags(((EDITION_FLAG_HIDDEN, edition.flag_hidden, False),
                         (EDITION_FLAG_DEFAULT, edition.flag_default, False),
                         (EDITION_FLAG_ORDERED, edition.flag_ordered, False)))
    parts += [_atom(atom, doc_type) for atom in edition.atoms]
    return encode_element(EDITION_ENTRY, b"".join(parts))


def _atom(atom: Atom, doc_type: str) -> bytes:
    parts = []
    if atom.uid is not None:
        parts.append(encode_uint(CHAPTER_UID, atom.uid))
    parts.append(encode_uint(CHAPTER_TIME_START, atom.start_ns))
    if atom.end_ns is not None:
        parts.append(encode_uint(CHAPTER_TIME_END, atom.end_ns))
    parts += _flags(((CHAPTER_FLAG_HIDDEN, atom.flag_hidden, False),
                     (CHAPTER_FLAG_ENABLED, atom.flag_enabled, True)))
    parts += [_display(display) for display in atom.displays]
    parts += [_atom(child, doc_type) for child in atom.children]
    return encode_element(CHAPTER_ATOM, b"".join(parts))


def _display(display: Display) -> bytes:
    parts = [encode_element(CHAP_STRING, display.string.encode("utf-8"))]
    parts += _strings(CHAP_LANGUAGE, display.languages or (UNDETERMINED,))
    parts += _strings(CHAP_LANGUAGE_IETF, display.languages_ietf)
    parts += _strings(CHAP_COUNTRY, display.countries)
    return encode_element(CHAPTER_DISPLAY, b"".join(parts))


def _strings(element_id: int, values: Iterable[str]) -> list[bytes]:
    return [encode_element(element_id, value.encode("ascii", "replace")) for value in values]


def _flags(flags: Iterable[tuple[int, bool, bool]]) -> list[bytes]:
    return [encode_uint(element_id, int(value)) for element_id, value, default in flags if value != default]
