"""The ``matroska`` reader: the Chapters element of MKV/MKA/WebM files, read directly.

Why our own reader. Measured here with the Python options on PyPI:

* enzyme 0.5.2 reads only the *first* EditionEntry (not the default one), only
  top-level atoms and the first ChapterDisplay; it truncates starts to whole µs
  (1.000123457 s came back as 1.000123 s) while ends stay int ns; it raised
  ``OSError: [Errno 22]`` on a file FFmpeg wrote to a pipe (unknown-size Segment).
* ebmlite 3.4.1 gives exact values and handles the piped file, but its bundled
  Matroska schema lacks ChapString, ChapLanguage and ChapLanguageIETF (they come
  back as UnknownElement bytes); it has no SeekHead navigation, and reached the
  Chapters of a 6 MB piped file only after reading 823 KB.
* python-ebml 0.2.1 (2014) does not import on Python 3 (``from StringIO import``).
* mutagen has no Matroska support; mkvinfo/pymkv wrap mkvtoolnix binaries.

So this module walks the file with :mod:`chapterkit.containers.ebml` (RFC 8794)
and the Matroska schema (RFC 9559), reading only element headers and the few
small elements it needs.

The walk that finds the Info and Chapters elements (SeekHead, Clusters, what it
costs) and the element IDs live in :mod:`chapterkit.containers.mkvwalk`; they are
re-exported here, so ``matroska.CHAPTERS`` and the like keep working.

What players show (``read_matroska``). mpv 0.35.1, measured on a two-edition
file: it uses the default edition and lists only its top-level atoms (nested
atoms are not listed) with the first ChapterDisplay string; FFmpeg's demuxer
(ffprobe, Kodi, Jellyfin) flattens all editions and also ignores nested atoms.
So the ChapterList is the default edition's top-level atoms in stored order,
without the hidden and disabled ones (RFC 9559 says players SHOULD NOT show
those; mpv still lists hidden ones); the notes name what was left out. Chapters
that only a walk past the Clusters finds (no SeekHead entry) are in
``read_editions`` but not in the player view: mpv, ffprobe and mkvextract all
missed them in a test, after sized and after unknown-size Clusters alike.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction

from chapterkit.containers import ReadResult
from chapterkit.containers.ebml import VOID_ID, EBMLError, Header, Source, float_, text, uint
# Re-exported: mkvlayout, mkvchapters, mkvedit and the tests import these from here.
from chapterkit.containers.mkvwalk import (  # noqa: F401
    ATTACHMENTS, CHAP_COUNTRY, CHAP_LANGUAGE, CHAP_LANGUAGE_IETF, CHAP_STRING,
    CHAPTER_ATOM, CHAPTER_DISPLAY, CHAPTER_FLAG_ENABLED, CHAPTER_FLAG_HIDDEN, CHAPTER_TIME_END,
    CHAPTER_TIME_START, CHAPTER_UID, CHAPTERS, CLUSTER, CUES, DOC_TYPE, DURATION, EBML, EDITION_ENTRY,
    EDITION_FLAG_DEFAULT, EDITION_FLAG_HIDDEN, EDITION_FLAG_ORDERED, EDITION_UID, INFO, SEEK, SEEK_HEAD,
    SEEK_ID, SEEK_POSITION, SEGMENT, TAGS, TIMESTAMP_SCALE, TITLE, TRACKS, _MAX_HEADER_BYTES,
    _MAX_SEEK_HEAD_BYTES, _MAX_SEEK_HEADS, _NAMES, _TOP_LEVEL, _Walk, _children, _doc_type, _end,
    _find_segment, _name,
)
from chapterkit.errors import MediaError
# Display, Atom and Edition are the model's: a file's structure is what ChapterList.editions carries.
from chapterkit.model import (
    NS_PER_MS, NS_PER_SECOND, Atom, Chapter, ChapterList, Display, Edition, default_edition,
)

_MAX_METADATA_BYTES = 16 << 20    # 300 chapters are 54 KB; refuse absurd claimed sizes
_MAX_ATOM_DEPTH = 64
_DEFAULT_TIMESTAMP_SCALE = 1_000_000


@dataclass(frozen=True, slots=True)
class MatroskaChapters:
    """Everything the Chapters and Info elements say, and what reading them cost."""

    doc_type: str                   # "matroska" or "webm"
    editions: tuple[Edition, ...]
    duration_ns: int | None         # Info Duration, rounded to ns
    timestamp_scale_ns: int
    segment_title: str | None
    chapters_offset: int | None     # file offset of the Chapters element, if any
    chapters_via: str | None        # "SeekHead", "walk" (before the Clusters) or "scan"
    bytes_read: int                 # bytes read from the file to learn all this
    notes: tuple[str, ...] = ()

    @property
    def default_edition(self) -> Edition | None:
        """The edition players use (RFC 9559, "Default Edition").

        The first edition flagged default and not hidden; else the first one not
        hidden; None when every edition is hidden (then no chapter is visible).
        """
        return default_edition(self.editions)


def read_editions(path: str | os.PathLike[str]) -> MatroskaChapters:
    """Every edition, atom and display in a Matroska/WebM file, plus its duration.

    Raises :class:`MediaError` (one line) for a missing, empty, truncated,
    corrupt or non-Matroska file.
    """
    name = os.fspath(path)
    try:
        with Source(name) as source:
            return _read(source)
    except EBMLError as exc:
        raise MediaError(str(exc), path=name, verb="reading") from None
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb="reading") from None


def read_matroska(path: str | os.PathLike[str]) -> ReadResult:
    """The chapters a player shows: the default edition's visible top-level atoms."""
    found = read_editions(path)
    notes = list(found.notes)
    edition = found.default_edition
    chapters: list[Chapter] = []
    if found.chapters_via == "scan":  # players do not find these; read_editions still shows them
        edition = None
    elif edition is None and found.editions:
        notes.append("every edition is hidden, so players show no chapters")
    if edition is not None:
        number = next(i for i, e in enumerate(found.editions, 1) if e is edition)
        notes.extend(_edition_notes(found.editions, edition, number))
        for atom in edition.atoms:
            label = f"chapter {atom.title!r} at {_seconds(atom.start_ns)}"
            if atom.flag_hidden or not atom.flag_enabled:
                notes.append(f"{'hidden' if atom.flag_hidden else 'disabled'} {label} not shown")
                continue
            nested = sum(1 for _ in atom.descendants())
            if nested:
                notes.append(f"{label} has {nested} nested chapter(s), not shown "
                             "(mpv and FFmpeg list top-level chapters only)")
            if len(atom.displays) > 1:
                others = ", ".join(f"{d.string!r} [{d.language}]" for d in atom.displays[1:])
                notes.append(f"{label} is also titled {others}")
            end_ns = atom.end_ns
            if end_ns is not None and end_ns < atom.start_ns:
                notes.append(f"{label} ends before it starts ({_seconds(end_ns)}); end ignored")
                end_ns = None
            chapters.append(Chapter(atom.start_ns, end_ns, atom.title))
    # The structure rides along (ChapterList.editions), so `show --to mkvxml` loses nothing.
    editions = found.editions if edition is not None else ()
    return ReadResult("matroska", ChapterList(tuple(chapters), None, found.duration_ns, editions), tuple(notes))


def _edition_notes(editions: tuple[Edition, ...], shown: Edition, number: int) -> list[str]:
    notes = []
    if len(editions) > 1:
        why = "the default" if shown.flag_default else "no edition is default, so the first visible"
        notes.append(f"{len(editions)} editions; showing edition {number} ({why})")
        for index, other in enumerate(editions, 1):
            if other is not shown:
                flags = "".join(f", {flag}" for flag, on in (
                    ("hidden", other.flag_hidden), ("ordered", other.flag_ordered)) if on)
                uid = "" if other.uid is None else f"UID {other.uid}, "
                notes.append(f"edition {index} ({uid}{len(other.atoms)} chapters{flags}) not shown")
    if shown.flag_ordered:
        notes.append(f"edition {number} is ordered: its chapters define the playback timeline")
    return notes


def _seconds(ns: int) -> str:
    return f"{ns // NS_PER_SECOND}.{ns % NS_PER_SECOND // NS_PER_MS:03d} s"


# -- locating the elements ---------------------------------------------------------------

def _read(source: Source) -> MatroskaChapters:
    if source.size == 0:
        raise EBMLError("file is empty (0 bytes)")
    if source.read_at(0, 4) != EBML.to_bytes(4, "big"):
        raise EBMLError("not a Matroska or WebM file (no EBML header)")
    head = source.header_at(0)
    if head is None:  # cannot happen: the file has at least the 4 magic bytes
        raise EBMLError("not a Matroska or WebM file (no EBML header)")
    doc_type = _doc_type(source.element_data(head, _MAX_HEADER_BYTES, "EBML header"))
    segment = _find_segment(source, _end(head))
    if segment.end is not None and segment.end > source.size:
        raise EBMLError(f"file is truncated: the Segment needs {segment.end} bytes, "
                        f"the file has {source.size}")
    walk = _Walk(source, segment)
    info, chapters, via = walk.locate()
    notes = walk.notes
    scale, duration_ns, title = _DEFAULT_TIMESTAMP_SCALE, None, None
    if info is not None:
        scale, duration_ns, title = _parse_info(
            source.element_data(info, _MAX_METADATA_BYTES, "Info"), notes)
    editions: tuple[Edition, ...] = ()
    if chapters is not None:
        editions = _parse_chapters(
            source.element_data(chapters, _MAX_METADATA_BYTES, "Chapters"), notes)
    return MatroskaChapters(doc_type, editions, duration_ns, scale, title,
                            None if chapters is None else chapters.offset, via,
                            source.bytes_read, tuple(notes))



# -- parsing the elements ----------------------------------------------------------------

def _parse_info(data: bytes, notes: list[str]) -> tuple[int, int | None, str | None]:
    scale, duration, title = _DEFAULT_TIMESTAMP_SCALE, None, None
    for child in _children(data, 0, len(data), "Info", notes):
        value = data[child.data_offset:child.end]
        if child.id == TIMESTAMP_SCALE:
            scale = uint(value) or _DEFAULT_TIMESTAMP_SCALE  # 0 is invalid ("not 0")
        elif child.id == DURATION:
            duration = float_(value)
        elif child.id == TITLE:
            title = text(value)[0]
    duration_ns = None
    if duration is not None:
        if math.isfinite(duration) and duration >= 0:
            # Duration is a float in Segment ticks of TimestampScale ns (RFC 9559 5.1.2.10);
            # Fraction keeps the float's exact value until the one rounding to ns.
            duration_ns = round(Fraction(duration) * scale)
        else:
            notes.append(f"the Segment Duration {duration!r} is not a usable number; ignored")
    return scale, duration_ns, title


def _parse_chapters(data: bytes, notes: list[str]) -> tuple[Edition, ...]:
    return tuple(_parse_edition(data, child, notes)
                 for child in _children(data, 0, len(data), "Chapters", notes)
                 if child.id == EDITION_ENTRY)


def _parse_edition(data: bytes, header: Header, notes: list[str]) -> Edition:
    uid, hidden, default, ordered, atoms = None, False, False, False, []
    for child in _children(data, header.data_offset, _end(header), "EditionEntry", notes):
        value = data[child.data_offset:child.end]
        if child.id == EDITION_UID:
            uid = uint(value)
        elif child.id == EDITION_FLAG_HIDDEN:
            hidden = uint(value) != 0
        elif child.id == EDITION_FLAG_DEFAULT:
            default = uint(value) != 0
        elif child.id == EDITION_FLAG_ORDERED:
            ordered = uint(value) != 0
        elif child.id == CHAPTER_ATOM:
            atoms.append(_parse_atom(data, child, notes, 1))
    return Edition(uid, hidden, default, ordered, tuple(atoms))


def _parse_atom(data: bytes, header: Header, notes: list[str], depth: int) -> Atom:
    if depth > _MAX_ATOM_DEPTH:
        raise EBMLError(f"chapters nested more than {_MAX_ATOM_DEPTH} levels deep")
    uid, start_ns, end_ns, hidden, enabled = None, None, None, False, True
    displays, children = [], []
    for child in _children(data, header.data_offset, _end(header), "ChapterAtom", notes):
        value = data[child.data_offset:child.end]
        if child.id == CHAPTER_UID:
            uid = uint(value)
        elif child.id == CHAPTER_TIME_START:
            start_ns = uint(value)
        elif child.id == CHAPTER_TIME_END:
            end_ns = uint(value)
        elif child.id == CHAPTER_FLAG_HIDDEN:
            hidden = uint(value) != 0
        elif child.id == CHAPTER_FLAG_ENABLED:
            enabled = uint(value) != 0
        elif child.id == CHAPTER_DISPLAY:
            displays.append(_parse_display(data, child, notes))
        elif child.id == CHAPTER_ATOM:
            children.append(_parse_atom(data, child, notes, depth + 1))
    if start_ns is None:  # mandatory, no default (RFC 9559 5.1.7.1.4.3)
        notes.append(f"chapter UID {uid} has no ChapterTimeStart; read as 0")
        start_ns = 0
    return Atom(uid, start_ns, end_ns, hidden, enabled, tuple(displays), tuple(children))


def _parse_display(data: bytes, header: Header, notes: list[str]) -> Display:
    string, languages, ietf, countries = "", [], [], []
    for child in _children(data, header.data_offset, _end(header), "ChapterDisplay", notes):
        value, clean = text(data[child.data_offset:child.end])
        if child.id == CHAP_STRING:
            string = value
            if not clean:
                notes.append(f"chapter title {value!r} is not valid UTF-8 "
                             "(invalid bytes shown as U+FFFD)")
        elif child.id == CHAP_LANGUAGE:
            languages.append(value)
        elif child.id == CHAP_LANGUAGE_IETF:
            ietf.append(value)
        elif child.id == CHAP_COUNTRY:
            countries.append(value)
    return Display(string, tuple(languages), tuple(ietf), tuple(countries))