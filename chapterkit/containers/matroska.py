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

Cost. The Info and Chapters elements are found through the SeekHead (following
a second SeekHead when the first points to one, as mkvpropedit leaves them
when it appends Chapters at the end of the file), so a 10 GB file costs the
same few kilobytes as a 10 MB one. Without a SeekHead entry, the top-level
elements before the first Cluster are walked by their sizes (where FFmpeg puts
Chapters, also when it writes to a pipe). Only when the Chapters are still not
found are the Clusters walked too: one 12-byte header read per Cluster when
their sizes are known, and one per block inside an unknown-size (live-stream)
Cluster, since such a Cluster ends only where a top-level element begins
(RFC 8794 section 6.2). Media data is never read. ``bytes_read`` says what it cost.

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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from chapterkit.containers import ReadResult
from chapterkit.containers.ebml import (
    CRC32_ID, VOID_ID, EBMLError, Header, Source, TruncatedError, float_, iter_children, text, uint,
)
from chapterkit.errors import MediaError
# Display, Atom and Edition are the model's: a file's structure is what ChapterList.editions carries.
from chapterkit.model import (
    NS_PER_MS, NS_PER_SECOND, Atom, Chapter, ChapterList, Display, Edition, default_edition,
)

# Element IDs (RFC 8794 section 11.2 for the EBML header; RFC 9559 section 5.1, IANA
# "Matroska Element IDs" registry for the rest).
EBML = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
SEEK_HEAD, SEEK, SEEK_ID, SEEK_POSITION = 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
INFO, TIMESTAMP_SCALE, DURATION, TITLE = 0x1549A966, 0x2AD7B1, 0x4489, 0x7BA9
CLUSTER, TRACKS, CUES, ATTACHMENTS, TAGS = 0x1F43B675, 0x1654AE6B, 0x1C53BB6B, 0x1941A469, 0x1254C367
CHAPTERS = 0x1043A770
EDITION_ENTRY, EDITION_UID = 0x45B9, 0x45BC
EDITION_FLAG_HIDDEN, EDITION_FLAG_DEFAULT, EDITION_FLAG_ORDERED = 0x45BD, 0x45DB, 0x45DD
CHAPTER_ATOM, CHAPTER_UID, CHAPTER_TIME_START, CHAPTER_TIME_END = 0xB6, 0x73C4, 0x91, 0x92
CHAPTER_FLAG_HIDDEN, CHAPTER_FLAG_ENABLED = 0x98, 0x4598
CHAPTER_DISPLAY, CHAP_STRING, CHAP_LANGUAGE, CHAP_LANGUAGE_IETF, CHAP_COUNTRY = (
    0x80, 0x85, 0x437C, 0x437D, 0x437E)

#: Elements that end an unknown-size Cluster: the Segment's children, or a new EBML
#: document (RFC 8794 section 6.2: an unknown-size element ends at a non-child).
_TOP_LEVEL = frozenset({SEEK_HEAD, INFO, CLUSTER, TRACKS, CUES, ATTACHMENTS, CHAPTERS, TAGS,
                        EBML, SEGMENT})
_NAMES = {SEEK_HEAD: "SeekHead", INFO: "Info", CLUSTER: "Cluster", TRACKS: "Tracks",
          CUES: "Cues", ATTACHMENTS: "Attachments", CHAPTERS: "Chapters", TAGS: "Tags",
          SEGMENT: "Segment", EBML: "EBML header", VOID_ID: "Void"}

_MAX_HEADER_BYTES = 4096          # the EBML header is a few dozen bytes
_MAX_SEEK_HEAD_BYTES = 1 << 20
_MAX_METADATA_BYTES = 16 << 20    # 300 chapters are 54 KB; refuse absurd claimed sizes
_MAX_SEEK_HEADS = 16
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


def _end(header: Header) -> int:
    if header.end is None:
        raise EBMLError(f"{_name(header.id)} at offset {header.offset} has an unknown size")
    return header.end


def _name(element_id: int) -> str:
    return _NAMES.get(element_id, f"element 0x{element_id:X}")


def _doc_type(data: bytes) -> str:
    doc_type = "matroska"  # the DocType default (RFC 8794 section 11.2.6)
    for child in iter_children(data, 0, len(data)):
        if child.id == DOC_TYPE:
            doc_type = text(data[child.data_offset:child.end])[0]
    if doc_type not in ("matroska", "webm"):
        raise EBMLError(f"EBML document type {doc_type!r} is not Matroska or WebM")
    return doc_type


def _find_segment(source: Source, pos: int) -> Header:
    for _ in range(64):  # Void or unknown root elements may precede it
        header = source.header_at(pos)
        if header is None:
            raise EBMLError("file is truncated: no Segment after the EBML header")
        if header.id == SEGMENT:
            return header
        pos = _end(header)
    raise EBMLError("no Segment after the EBML header")


class _Walk:
    """Finds the Info and Chapters elements of one Segment, reading headers only."""

    def __init__(self, source: Source, segment: Header) -> None:
        self.source = source
        self.start = segment.data_offset
        self.end = source.size if segment.end is None else segment.end
        self.found: dict[int, Header] = {}    # the first Info and Chapters walked over
        self.seek: dict[int, list[int]] = {}  # element ID -> file offsets from SeekHeads
        self.seek_heads_read: set[int] = set()
        self.notes: list[str] = []

    def locate(self) -> tuple[Header | None, Header | None, str | None]:
        """The Info and Chapters headers, and how the Chapters were found."""
        first_cluster = self.scan(self.start, through_clusters=False)
        self.follow_seek_heads()
        (info, _), (chapters, via) = self.pick(INFO), self.pick(CHAPTERS)
        if (info is None or chapters is None) and first_cluster is not None:
            self.scan(first_cluster, through_clusters=True)
            info = info or self.found.get(INFO)
            if chapters is None and CHAPTERS in self.found:
                chapters, via = self.found[CHAPTERS], "scan"
                # Measured: mpv 0.35.1, ffprobe 5.1 and mkvextract 74 all miss such
                # Chapters, after both sized and unknown-size Clusters.
                self.notes.append("the Chapters element was found only by walking past the "
                                  "Clusters (no SeekHead entry points to it): mpv, FFmpeg and "
                                  "mkvextract do not look there, so players show no chapters")
        return info, chapters, via

    def scan(self, pos: int, *, through_clusters: bool) -> int | None:
        """Walk the Segment's children by their sizes, noting SeekHead, Info and Chapters.

        Without ``through_clusters`` it stops at the first Cluster and returns its
        offset; otherwise it walks to the end and returns None.
        """
        while pos < self.end:
            header = self.header(pos, tolerate_truncation=through_clusters)
            if header is None or header.id in (EBML, SEGMENT):  # end of file, or a chained Segment
                return None
            if header.id == CLUSTER:
                if not through_clusters:
                    return pos
                if header.size is None:
                    pos = self.skip_unknown_size_cluster(header)
                    continue
                if _end(header) > self.source.size:
                    self.note_interrupted(pos)
                    return None
            end = _end(header)
            if end > self.end:
                raise EBMLError(f"{_name(header.id)} at offset {pos} runs {end - self.end} bytes "
                                "past the end of the Segment (truncated or corrupt file)")
            if header.id == SEEK_HEAD:
                self.read_seek_head(header)
            elif header.id in (INFO, CHAPTERS):
                self.found.setdefault(header.id, header)
            pos = end
        return None

    def skip_unknown_size_cluster(self, cluster: Header) -> int:
        """Where an unknown-size Cluster ends: at the next top-level ID (RFC 8794 6.2)."""
        pos = cluster.data_offset
        while pos < self.end:
            child = self.header(pos, tolerate_truncation=True)
            if child is None or child.id in _TOP_LEVEL:
                return self.end if child is None else pos
            if _end(child) > self.end:
                self.note_interrupted(pos)
            pos = _end(child)
        return self.end

    def header(self, pos: int, *, tolerate_truncation: bool) -> Header | None:
        """The header at ``pos``; past the media, a cut-off one just ends the walk."""
        try:
            return self.source.header_at(pos)
        except TruncatedError:
            if not tolerate_truncation:
                raise
            self.note_interrupted(pos)
            return None

    def note_interrupted(self, pos: int) -> None:
        # Live recordings (unknown-size Segment) that were stopped end mid-block;
        # players play them, so this is a note, not an error.
        self.notes.append(f"the file ends inside the media data at offset {pos} "
                          "(an interrupted recording?)")

    def read_seek_head(self, header: Header) -> None:
        if header.offset in self.seek_heads_read or len(self.seek_heads_read) >= _MAX_SEEK_HEADS:
            return
        self.seek_heads_read.add(header.offset)
        data = self.source.element_data(header, _MAX_SEEK_HEAD_BYTES, "SeekHead")
        for entry in _children(data, 0, len(data), "SeekHead", self.notes):
            if entry.id != SEEK:
                continue
            target = position = None
            for child in _children(data, entry.data_offset, _end(entry), "Seek", self.notes):
                value = data[child.data_offset:child.end]
                if child.id == SEEK_ID:
                    target = int.from_bytes(value, "big")
                elif child.id == SEEK_POSITION:
                    position = uint(value)
            if target is not None and position is not None:
                # SeekPosition counts from the first byte of the Segment's data (RFC 9559 16.1).
                self.seek.setdefault(target, []).append(self.start + position)

    def follow_seek_heads(self) -> None:
        """Read the further SeekHeads a SeekHead points to (mkvmerge writes two)."""
        tried: set[int] = set()
        for offset in self.seek.get(SEEK_HEAD, []):  # the list grows as we read
            if offset in tried or offset in self.seek_heads_read:
                continue
            if len(tried) >= _MAX_SEEK_HEADS:
                break
            tried.add(offset)
            header = self.header_or_none(offset)
            if header is not None and header.id == SEEK_HEAD:
                self.read_seek_head(header)

    def header_or_none(self, offset: int) -> Header | None:
        try:
            return self.source.header_at(offset)
        except EBMLError:
            return None

    def pick(self, element_id: int) -> tuple[Header | None, str | None]:
        """The element a SeekHead points to, else the one the walk met, and which it was."""
        for offset in self.seek.get(element_id, []):
            header = self.header_or_none(offset)
            if header is not None and header.id == element_id:
                return header, "SeekHead"
            self.notes.append(f"the SeekHead entry for {_name(element_id)} points to offset "
                              f"{offset}, which holds no {_name(element_id)}")
        header = self.found.get(element_id)
        return header, None if header is None else "walk"


# -- parsing the elements ----------------------------------------------------------------

def _children(data: bytes, start: int, end: int, where: str, notes: list[str]) -> Iterator[Header]:
    """A master element's children, minus Void; a leading CRC-32 is checked, not yielded.

    The CRC-32 element, when present, is the first child and holds the IEEE
    CRC-32 of the parent's remaining data, little-endian (RFC 8794 section 11.3.1).
    """
    first = True
    for child in iter_children(data, start, end):
        if child.id == CRC32_ID and first and child.size == 4:
            stored = int.from_bytes(data[child.data_offset:child.end], "little")
            if zlib.crc32(memoryview(data)[_end(child):end]) != stored:
                notes.append(f"{where} fails its CRC-32 check: the element is damaged")
        elif child.id not in (VOID_ID, CRC32_ID):
            yield child
        first = False


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
