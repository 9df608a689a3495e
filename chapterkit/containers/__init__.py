"""Media containers: which one a file is, and the chapter readers that apply to it.

No single reader tells the truth about a file's chapters: an MP4 carries two
chapter lists (the QuickTime text track that Apple and FFmpeg read, and the
Nero ``chpl`` atom that VLC and mutagen read) and they can disagree. So every
way players read chapters is a separate, named reader, and ``verify`` compares
each with the source. A container's default set is every reader that applies.

Readers are looked up by name in ``READERS``; each is ``(path) -> ReadResult``
and is imported only when called, so ``chapterkit --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chapterkit.errors import ChapterkitError, MediaError, UnsupportedContainerError, UsageError
from chapterkit.model import ChapterList


@dataclass(frozen=True, slots=True)
class ReaderInfo:
    """What a reader is and what its carrier can hold (used to tell limits from drift)."""

    name: str
    module: str          # chapterkit.containers.<module>
    function: str        # the function in that module: (path) -> ReadResult
    summary: str
    stores_ends: bool    # the carrier stores chapter ends (else they are derived)
    precision_ns: int    # the carrier's time unit
    max_title_bytes: int | None = None
    max_chapters: int | None = None


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The chapters one reader found in one file.

    ``chapters.duration_ns`` is the media duration when the reader knows it.
    ``notes`` are facts worth showing (e.g. "chapter track has 3 samples, chpl 4").
    ``problems`` are findings about the file that did not stop the reader (audio
    cut short while the tag is whole): ``verify`` fails on them, ``show`` warns.
    ``error`` is set, with no chapters, when the reader could not read the file at
    all (:func:`read_each` only): one reader's failure must not hide the others.
    """

    reader: str
    chapters: ChapterList
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    error: str | None = None


READERS: dict[str, ReaderInfo] = {info.name: info for info in (
    ReaderInfo("quicktime", "mp4", "read_quicktime",
               "MP4/MOV QuickTime chapter text track (Apple players, FFmpeg, mpv, Kodi)",
               stores_ends=True, precision_ns=1),
    ReaderInfo("nero", "mp4", "read_nero",
               "MP4 Nero chpl atom through mutagen (VLC, mutagen, Android)",
               stores_ends=False, precision_ns=100, max_title_bytes=255, max_chapters=255),
    ReaderInfo("matroska", "matroska", "read_matroska",
               "Matroska/WebM Chapters element (mkvtoolnix, VLC, mpv)",
               stores_ends=True, precision_ns=1),
    ReaderInfo("id3", "id3", "read_id3",
               "MP3 ID3v2 CHAP/CTOC frames through mutagen",
               stores_ends=True, precision_ns=1_000_000),
    ReaderInfo("vorbis", "vorbis", "read_vorbis",
               "CHAPTERnnn comments in Ogg Vorbis/Opus and FLAC through mutagen",
               stores_ends=False, precision_ns=1_000_000, max_chapters=1000),
    ReaderInfo("libav", "libav", "read_libav",
               "what FFmpeg's demuxers see (mpv, Plex, Jellyfin, ffprobe)",
               stores_ends=True, precision_ns=1),
)}

#: Container id -> the readers that apply, most authoritative first.
CONTAINER_READERS: dict[str, tuple[str, ...]] = {
    "mp4": ("quicktime", "nero", "libav"),
    "matroska": ("matroska", "libav"),
    "mp3": ("id3", "libav"),
    "ogg": ("vorbis", "libav"),
    "flac": ("vorbis", "libav"),
}

#: File extensions per container, for messages and for choosing an output muxer.
CONTAINER_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "mp4": (".mp4", ".m4v", ".mov", ".m4a", ".m4b", ".3gp"),
    "matroska": (".mkv", ".mka", ".mk3d", ".webm"),
    "mp3": (".mp3",),
    "ogg": (".ogg", ".oga", ".opus", ".ogv"),
    "flac": (".flac",),
}

SUPPORTED = "MP4/MOV/M4A/M4B, MKV/MKA/WebM, MP3, Ogg/Opus and FLAC"


def sniff(path: str | os.PathLike[str]) -> str:
    """The container id of ``path`` from its first bytes (not its name).

    Raises :class:`MediaError` for a missing, unreadable or empty file and
    :class:`UnsupportedContainerError` for media that cannot carry chapters.
    """
    from chapterkit._files import open_regular

    name = os.fspath(path)
    try:
        with open_regular(name) as handle:  # a FIFO would block every reader's open()
            head = handle.read(64)
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb="reading") from None
    except ValueError as exc:
        raise MediaError(str(exc), path=name, verb="reading") from None
    if not head:
        raise MediaError("file is empty (0 bytes)", path=name, verb="reading")
    kind = _sniff_bytes(head)
    if kind is None:
        raise UnsupportedContainerError(
            f"not a container that can hold chapters (supported: {SUPPORTED})", path=name, verb="reading")
    return kind


def _sniff_bytes(head: bytes) -> str | None:
    # ISO BMFF: a box header whose type is ftyp (or an old-style moov/mdat/free/wide first).
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML magic (RFC 8794 section 8)
        return "matroska"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return "mp3"  # ID3v2 tag, or an MPEG audio frame sync (layer bits 00 is ADTS AAC, not MP3)
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    return None


def readers_for(container: str, wanted: Sequence[str] | None = None) -> tuple[str, ...]:
    """The reader names to run on a container; ``wanted`` narrows (and is checked)."""
    default = CONTAINER_READERS[container]
    if not wanted:
        return default
    unknown = [name for name in wanted if name not in READERS]
    if unknown:
        raise UsageError(f"unknown reader {', '.join(unknown)} (known: {', '.join(READERS)})")
    chosen = tuple(name for name in wanted if name in default)
    if not chosen:
        raise UsageError(f"none of the readers {', '.join(wanted)} applies to {container} "
                         f"(applicable: {', '.join(default)})")
    return chosen


def reader_function(name: str) -> Callable[[str], ReadResult]:
    info = READERS[name]
    module = importlib.import_module(f"chapterkit.containers.{info.module}")
    return getattr(module, info.function)


def read(path: str | os.PathLike[str], wanted: Sequence[str] | None = None, *,
         ffmpeg: object | None = None) -> list[ReadResult]:
    """Run every applicable reader (or the ``wanted`` ones) over ``path``.

    ``ffmpeg`` (a path or a ``muxer.FFmpegBinary``) goes to the ``libav`` reader only.
    """
    name = os.fspath(path)
    return [run_reader(reader, name, ffmpeg) for reader in readers_for(sniff(name), wanted)]


def run_reader(reader: str, path: str, ffmpeg: object | None = None) -> ReadResult:
    """One reader over ``path``; its errors propagate."""
    function = reader_function(reader)
    return function(path, ffmpeg=ffmpeg) if reader == "libav" else function(path)  # type: ignore[call-arg]


def read_each(path: str | os.PathLike[str], wanted: Sequence[str] | None = None, *,
              ffmpeg: object | None = None) -> list[ReadResult]:
    """Like :func:`read`, but a reader that fails gives a result with ``error`` set.

    Players use different readers, so a file that one of them cannot read (FFmpeg
    refusing an Ogg page with a bad CRC) may still show its chapters in the others.
    Only a file no reader can open (missing, empty, not a container) raises.
    """
    name = os.fspath(path)
    results = []
    for reader in readers_for(sniff(name), wanted):
        try:
            results.append(run_reader(reader, name, ffmpeg))
        except ChapterkitError as exc:
            results.append(ReadResult(reader, ChapterList(), error=str(exc)))
    return results


def best(results: Sequence[ReadResult]) -> ReadResult | None:
    """The result ``show --to`` exports when no reader is named.

    The first of a container's readers, in ``CONTAINER_READERS`` order (the file's
    own chapter lists before FFmpeg's view: quicktime, nero, libav for MP4), that
    read the file and found chapters.
    """
    return next((result for result in results if result.error is None and len(result.chapters)), None)
