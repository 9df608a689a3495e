"""The one chapter model every format, reader and writer speaks.

Times are integer nanoseconds (``*_ns``). Nanoseconds are the finest unit any
carrier stores (Matroska ``ChapterTimeStart`` is ns; MP4 ``chpl`` is 100 ns;
ID3 ``CHAP`` and Vorbis ``CHAPTERnnn`` are ms), so every container value fits
exactly and no float ever accumulates error. Helpers that convert to or from
seconds take and return :class:`fractions.Fraction` or integers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
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
    """

    chapters: tuple[Chapter, ...] = ()
    title: str | None = None
    duration_ns: int | None = None

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

    @classmethod
    def of(cls, items: Iterable[tuple[int, str]], *, title: str | None = None,
           duration_ns: int | None = None) -> ChapterList:
        """Build a list from ``(start_ns, title)`` pairs; ends follow the next start."""
        return cls(tuple(Chapter(start, None, name) for start, name in items), title, duration_ns)

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
        return ChapterList(chapters, self.title, duration_ns)

    def with_title(self, title: str | None) -> ChapterList:
        return ChapterList(self.chapters, title, self.duration_ns)

    def replace_chapters(self, chapters: Iterable[Chapter]) -> ChapterList:
        return ChapterList(tuple(chapters), self.title, self.duration_ns)

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
