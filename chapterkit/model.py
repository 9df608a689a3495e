"""The one chapter model every format, reader and writer speaks.

Times are integer nanoseconds (``*_ns``). Nanoseconds are the finest unit any
carrier stores (Matroska ``ChapterTimeStart`` is ns; MP4 ``chpl`` is 100 ns;
ID3 ``CHAP`` and Vorbis ``CHAPTERnnn`` are ms), so every container value fits
exactly and no float ever accumulates error. Helpers that convert to or from
seconds take and return :class:`fractions.Fraction` or integers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import overload

NS_PER_SECOND = 1_000_000_000
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Chapter:
    """One chapter: where it starts, where it ends (when known) and its title.

    ``img`` and ``url`` are a podcast chapter's artwork and link (Podcasting 2.0
    JSON chapters, Podlove ``image``/``href``); carriers without them drop them.
    """

    start_ns: int
    end_ns: int | None
    title: str
    img: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.start_ns, int) or isinstance(self.start_ns, bool):
            raise TypeError(f"start_ns must be an int, not {type(self.start_ns).__name__}")
        if self.end_ns is not None and (not isinstance(self.end_ns, int) or isinstance(self.end_ns, bool)):
            raise TypeError(f"end_ns must be an int or None, not {type(self.end_ns).__name__}")
        if not isinstance(self.title, str):
            raise TypeError(f"title must be a str, not {type(self.title).__name__}")
        if self.start_ns < 0:
            raise ValueError(f"chapter start {self.start_ns} ns is negative")
        if self.end_ns is not None and self.end_ns < self.start_ns:
            raise ValueError(f"chapter end {self.end_ns} ns is before its start {self.start_ns} ns")

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else self.end_ns - self.start_ns


@dataclass(frozen=True, slots=True)
class ChapterList(Sequence[Chapter]):
    """An ordered, immutable list of chapters plus list-level metadata.

    Missing ends are filled on construction, so two lists that describe the same
    chapters compare equal whatever the source spelled out: a chapter without an
    end ends where the next one starts, and the last one at ``duration_ns`` when
    that is known. An end the source gives is kept as given.

    ``chapters`` is the flat list a player shows. ``editions`` is the full
    Matroska structure behind it when the source had one (``mkvxml``, an MKV
    file): every edition, nested atom, display language, flag and UID, so
    ``mkvxml`` to ``mkvxml`` loses nothing. It is ``()`` for flat sources and is
    left out of equality, so a flat list from any source still equals the same
    list from another; compare ``a.editions == b.editions`` for the structure.
    Build a structured list with :meth:`from_editions`.
    """

    chapters: tuple[Chapter, ...] = ()
    title: str | None = None
    duration_ns: int | None = None
    editions: tuple[Edition, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        chapters = tuple(self.chapters)
        if self.duration_ns is not None:
            if not isinstance(self.duration_ns, int) or isinstance(self.duration_ns, bool):
                raise TypeError(f"duration_ns must be an int or None, not {type(self.duration_ns).__name__}")
            if self.duration_ns < 0:
                raise ValueError(f"duration {self.duration_ns} ns is negative")
        for index, chapter in enumerate(chapters):
            if not isinstance(chapter, Chapter):
                raise TypeError(f"chapter {index} is a {type(chapter).__name__}, not a Chapter")
        filled = []
        for index, chapter in enumerate(chapters):
            if chapter.end_ns is None:
                end = _natural_end(chapters, index, self.duration_ns)
                if end is not None:
                    chapter = replace(chapter, end_ns=end)
            filled.append(chapter)
        object.__setattr__(self, "chapters", tuple(filled))
        editions = tuple(self.editions)
        for index, edition in enumerate(editions):
            if not isinstance(edition, Edition):
                raise TypeError(f"edition {index} is a {type(edition).__name__}, not an Edition")
        object.__setattr__(self, "editions", editions)

    @classmethod
    def of(cls, items: Iterable[tuple[int, str]], *, title: str | None = None,
           duration_ns: int | None = None) -> ChapterList:
        """Build a list from ``(start_ns, title)`` pairs; ends follow the next start."""
        return cls(tuple(Chapter(start, None, name) for start, name in items), title, duration_ns)

    @classmethod
    def from_editions(cls, editions: Iterable[Edition], *, language: str | None = None,
                      title: str | None = None, duration_ns: int | None = None) -> ChapterList:
        """The flat list a player shows (see :func:`flat_chapters`), with the structure kept."""
        editions = tuple(editions)
        return cls(flat_chapters(editions, language), title, duration_ns, editions)

    @property
    def structure_losses(self) -> tuple[str, ...]:
        """What a flat format cannot keep of ``editions`` (empty for a flat list)."""
        return structure_losses(self.editions)

    @overload
    def __getitem__(self, index: int) -> Chapter: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Chapter]: ...
    def __getitem__(self, index: int | slice) -> Chapter | Sequence[Chapter]:
        return self.chapters[index]

    def __len__(self) -> int:
        return len(self.chapters)

    def __iter__(self) -> Iterator[Chapter]:
        return iter(self.chapters)

    @property
    def starts_ns(self) -> tuple[int, ...]:
        return tuple(c.start_ns for c in self.chapters)

    @property
    def titles(self) -> tuple[str, ...]:
        return tuple(c.title for c in self.chapters)

    def with_duration(self, duration_ns: int | None) -> ChapterList:
        """The same chapters against a known media duration.

        A last chapter whose end was unknown, or was the old duration, now ends at the new one.
        """
        chapters = self.chapters
        if chapters and self.duration_ns is not None and chapters[-1].end_ns == self.duration_ns:
            chapters = chapters[:-1] + (replace(chapters[-1], end_ns=None),)
        return ChapterList(chapters, self.title, duration_ns, self.editions)

    def with_title(self, title: str | None) -> ChapterList:
        return ChapterList(self.chapters, title, self.duration_ns, self.editions)

    def replace_chapters(self, chapters: Iterable[Chapter],
                         editions: Iterable[Edition] = ()) -> ChapterList:
        """New flat chapters; the structure is dropped unless ``editions`` (matching them) is given."""
        return ChapterList(tuple(chapters), self.title, self.duration_ns, tuple(editions))

    def without_ends(self) -> ChapterList:
        """Drop every end, so they are derived again from starts and duration."""
        return self.replace_chapters(replace(c, end_ns=None) for c in self.chapters)


def _natural_end(chapters: Sequence[Chapter], index: int, duration_ns: int | None) -> int | None:
    start = chapters[index].start_ns
    if index + 1 < len(chapters):
        following = chapters[index + 1].start_ns
        return following if following >= start else None
    if duration_ns is not None and duration_ns >= start:
        return duration_ns
    return None


def seconds_to_ns(seconds: Fraction | int | str) -> int:
    """Exact seconds (a Fraction, an int or a decimal string) to ns, halves rounded away from zero."""
    value = Fraction(seconds) * NS_PER_SECOND
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def ns_to_seconds(ns: int) -> Fraction:
    return Fraction(ns, NS_PER_SECOND)


def cut_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character.

    Carriers with byte limits (MP4 ``chpl``: 255) need it; a byte-wise cut, as FFmpeg
    makes, can split a character and make strict readers (mutagen) refuse the file.
    """
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


# -- the Matroska structure (RFC 9559 section 5.1.7, Chapters) -------------------------------
#
# Editions hold atoms, atoms hold displays and child atoms. These are the names
# and shapes of the Matroska elements, so a writer walks editions -> atoms ->
# children and writes each field as the element of the same name.


@dataclass(frozen=True, slots=True)
class Display:
    """One ChapterDisplay: a title and the languages it is in.

    ``languages`` are ChapLanguage values (ISO 639-2, what mkvmerge writes as
    ``ChapterLanguage``), ``languages_ietf`` ChapLanguageIETF (BCP 47, which
    overrides them when present), ``countries`` ChapCountry.
    """

    string: str
    languages: tuple[str, ...] = ()
    languages_ietf: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    @property
    def language(self) -> str:
        """The language to show: BCP 47 when given, else ISO 639-2, else the schema default ``eng``."""
        if self.languages_ietf:
            return self.languages_ietf[0]
        return self.languages[0] if self.languages else "eng"

    def speaks(self, language: str) -> bool:
        """True when ``language`` (``de``, ``ger``, ``en-US``) names one of this display's languages.

        A bare BCP 47 primary subtag also matches its regional forms (``en`` matches ``en-US``).
        ISO 639-2 and BCP 47 codes are not translated into each other (``de`` does not match
        a display that only says ``ger``); mkvmerge writes both for every display.
        """
        wanted = language.strip().lower()
        tags = [tag.lower() for tag in (*self.languages_ietf, *self.languages)] or ["eng"]
        return any(tag == wanted or tag.split("-")[0] == wanted for tag in tags)


@dataclass(frozen=True, slots=True)
class Atom:
    """One ChapterAtom; times are exact ns (ChapterTimeStart/End ignore TimestampScale).

    The optional fields after ``children`` are the rarer elements, kept so a
    structure read from Matroska XML is written back whole: ChapterStringUID,
    ChapterSegmentUUID (16 bytes), ChapterSegmentEditionUID, ChapterPhysicalEquiv,
    ChapterSkipType and the ChapterTrackNumber values of ChapterTrack.
    """

    uid: int | None
    start_ns: int
    end_ns: int | None
    flag_hidden: bool = False
    flag_enabled: bool = True
    displays: tuple[Display, ...] = ()
    children: tuple[Atom, ...] = ()
    string_uid: str | None = None
    segment_uuid: bytes | None = None
    segment_edition_uid: int | None = None
    physical_equiv: int | None = None
    skip_type: int | None = None
    tracks: tuple[int, ...] = ()

    @property
    def title(self) -> str:
        """The first ChapterDisplay string, as mpv shows it ("" when there is none)."""
        return self.displays[0].string if self.displays else ""

    @property
    def shown(self) -> bool:
        """Neither hidden nor disabled (RFC 9559: players SHOULD NOT show either)."""
        return self.flag_enabled and not self.flag_hidden

    def title_in(self, language: str | None) -> str:
        """The display in ``language`` when there is one, else the first one."""
        if language:
            for display in self.displays:
                if display.speaks(language):
                    return display.string
        return self.title

    def descendants(self) -> Iterator[Atom]:
        for child in self.children:
            yield child
            yield from child.descendants()


@dataclass(frozen=True, slots=True)
class EditionDisplay:
    """One EditionDisplay (Matroska v5): an edition's name and its BCP 47 languages."""

    string: str
    languages_ietf: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Edition:
    """One EditionEntry and its top-level atoms."""

    uid: int | None
    flag_hidden: bool = False
    flag_default: bool = False
    flag_ordered: bool = False
    atoms: tuple[Atom, ...] = ()
    displays: tuple[EditionDisplay, ...] = ()

    def all_atoms(self) -> Iterator[Atom]:
        """Every atom, depth-first in stored order."""
        for atom in self.atoms:
            yield atom
            yield from atom.descendants()


def default_edition(editions: Sequence[Edition]) -> Edition | None:
    """The edition players use (RFC 9559, "Default Edition").

    The first edition flagged default and not hidden; else the first one not
    hidden; None when every edition is hidden (then no chapter is visible).
    """
    visible = [edition for edition in editions if not edition.flag_hidden]
    return next((e for e in visible if e.flag_default), visible[0] if visible else None)


def shown_atoms(editions: Sequence[Edition]) -> tuple[Atom, ...]:
    """The atoms a player lists: the default edition's top-level atoms, hidden and disabled ones left out.

    Top level only, as measured with mpv 0.35 and FFmpeg (see
    :mod:`chapterkit.containers.matroska`): neither lists nested atoms, so a flat
    view holding them would disagree with every reader of the same file.
    """
    edition = default_edition(editions)
    return () if edition is None else tuple(atom for atom in edition.atoms if atom.shown)


def flat_chapters(editions: Sequence[Edition], language: str | None = None) -> tuple[Chapter, ...]:
    """The :class:`Chapter` of each shown atom, titled in ``language`` when an atom has it.

    An end before its start (a broken file) is dropped, so the flat list stays valid.
    """
    return tuple(Chapter(atom.start_ns, atom.end_ns if atom.end_ns is None or atom.end_ns >= atom.start_ns
                         else None, atom.title_in(language))
                 for atom in shown_atoms(editions))


def structure_losses(editions: Sequence[Edition]) -> tuple[str, ...]:
    """What a flat chapter list does not hold of ``editions``, one phrase each."""
    if not editions:
        return ()
    losses = []
    shown = default_edition(editions)
    if len(editions) > 1:
        losses.append(f"{len(editions) - 1} other edition(s)")
    if shown is not None:
        nested = sum(1 for atom in shown.atoms for _ in atom.descendants())
        hidden = sum(1 for atom in shown.atoms if atom.flag_hidden)
        disabled = sum(1 for atom in shown.atoms if not atom.flag_enabled and not atom.flag_hidden)
        extra = sum(max(0, len(atom.displays) - 1) for atom in shown.atoms if atom.shown)
        for count, what in ((nested, "nested chapter(s)"), (hidden, "hidden chapter(s)"),
                            (disabled, "disabled chapter(s)"), (extra, "title(s) in other languages")):
            if count:
                losses.append(f"{count} {what}")
        if shown.flag_ordered:
            losses.append("the ordered-edition flag")
        if any(atom.uid is not None for atom in shown.atoms) or shown.uid is not None:
            losses.append("UIDs")
    return tuple(losses)
