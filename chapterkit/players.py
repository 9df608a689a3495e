"""Which chapters each player family shows for a file, and how to fix the ones that differ.

A file carries up to three chapter lists and every player family reads exactly
one of them, so "does it have chapters?" has one answer per family. The mapping
family -> reader is written down once, here, in :data:`FAMILIES`, with where each
fact comes from (player source files, and what the real players listed in
``tests/players/``: mpv, VLC through libVLC, GStreamer, Chromium):

- **apple** (QuickTime Player, iOS/iPadOS, Apple Books, AVFoundation apps): the
  QuickTime chapter text track only (Apple QTFF "Chapter lists"; ``tref/chap``).
- **vlc** (VLC desktop/iOS/Android, libVLC 3): MP4: the Nero ``chpl`` list when it
  holds a chapter, else the QuickTime track (``modules/demux/mp4/mp4.c``
  ``LoadChapter``: chpl, then GoPro HMMT, then the first chapter text track);
  Matroska: its own demuxer (``modules/demux/mkv``); Ogg and FLAC: ``CHAPTERnnn``
  comments (``modules/demux/xiph_metadata.c``). MP3: none; VLC 3.0.24 lists no
  ID3 ``CHAP`` chapter (measured, research players-and-tools.md).
- **podcast** (AntennaPod and its forks): ID3 ``CHAP`` (``parser/media/id3/ChapterReader``),
  ``CHAPTERnnn`` comments (``parser/media/vorbis/VorbisCommentChapterReader``) and
  the MP4 ``chpl`` list (``MP4Chapter``, mp4parser's ``ChapterListBox``).
- **ffmpeg** (mpv, Kodi, Plex, Jellyfin, ffprobe, anything on libavformat): what
  FFmpeg's demuxers return; on MP4 the QuickTime track overrides chpl
  (``libavformat/mov.c`` ``mov_read_chapters``). The ``libav`` reader *is* FFmpeg.
- **gstreamer** (GNOME Videos/Totem, other GStreamer players): Matroska/WebM
  only; ``matroskademux`` posts a TOC, while ``qtdemux``, ``id3demux``, ``oggdemux``
  and ``flacparse`` post none for chaptered files (GStreamer 1.22, ``gst-discoverer-1.0 -c``).
- **browser** (``<video>`` in every browser): no embedded chapters at all; only a
  WebVTT ``<track kind="chapters">``, looked for next to the file.

Each family's row compares its reading with the source through
:func:`chapterkit.verify.compare`, the same rules ``verify`` uses. A reader that
fails becomes that row's error; the other rows still report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from chapterkit import containers, verify
from chapterkit.containers import ReadResult
from chapterkit.errors import EXIT_FINDINGS, EXIT_OK, ChapterkitError
from chapterkit.containers.keyframes import KeyframeGap
from chapterkit.model import ChapterList
from chapterkit.timecode import format_clock

Status = Literal["ok", "differs", "missing", "unsupported", "no sidecar", "error"]

#: Sidecar names a page or a player looks for next to ``<stem>.<ext>``, in order.
WEBVTT_SIDECARS = (".chapters.vtt", ".vtt")


@dataclass(frozen=True, slots=True)
class Family:
    """A player family: which reader it uses per container (first with chapters wins)."""

    name: str
    players: str
    readers: dict[str, tuple[str, ...]]
    sources: tuple[str, ...]
    unsupported: dict[str, str] = field(default_factory=dict)   # container -> why none show


FAMILIES: tuple[Family, ...] = (
    Family("apple", "QuickTime Player, iOS, Apple Books, AVFoundation apps", {"mp4": ("quicktime",)},
           ("Apple QuickTime File Format: Chapter lists (tref 'chap' to a text track)",),
           {"matroska": "Apple players do not open Matroska/WebM",
            "mp3": "Apple players read chapters only from an MP4/M4A/M4B/MOV chapter track",
            "ogg": "Apple players do not open Ogg", "flac": "Apple players show no FLAC chapters"}),
    Family("vlc", "VLC (desktop, iOS, Android), libVLC 3",
           {"mp4": ("nero", "quicktime"), "matroska": ("matroska",), "ogg": ("vorbis",), "flac": ("vorbis",)},
           ("videolan/vlc modules/demux/mp4/mp4.c LoadChapter (chpl first, else the chapter track)",
            "videolan/vlc modules/demux/mkv/chapters.cpp", "videolan/vlc modules/demux/xiph_metadata.c",
            "tests/players/test_vlc.py (libVLC 3.0.24 lists no ID3 CHAP chapters)"),
           {"mp3": "VLC 3 lists no ID3 CHAP chapters (measured with libVLC 3.0.24)"}),
    Family("podcast", "Android podcast apps (AntennaPod and forks)",
           {"mp3": ("id3",), "mp4": ("nero",), "ogg": ("vorbis",), "flac": ("vorbis",)},
           ("AntennaPod parser/media/id3/ChapterReader.java (ID3 CHAP)",
            "AntennaPod parser/media/vorbis/VorbisCommentChapterReader.java (CHAPTERnnn)",
            "AntennaPod ChapterUtils MP4Chapter (mp4parser ChapterListBox, 'chpl')"),
           {"matroska": "podcast apps read no Matroska chapters"}),
    Family("ffmpeg", "mpv, Kodi, Plex, Jellyfin, ffprobe (FFmpeg's demuxers)",
           {name: ("libav",) for name in containers.CONTAINER_READERS},
           ("FFmpeg libavformat/mov.c mov_read_chapters (the chapter track overrides chpl)",
            "FFmpeg libavformat/matroskadec.c, id3v2.c (CHAP), oggparsevorbis.c and flacdec.c (CHAPTERnnn)",
            "tests/players/test_mpv.py")),
    Family("gstreamer", "GNOME Videos (Totem) and other GStreamer players", {"matroska": ("matroska",)},
           ("GStreamer 1.22 matroskademux posts a TOC; qtdemux, id3demux, oggdemux, flacparse do not "
            "(gst-discoverer-1.0 -c; tests/players/test_gstreamer.py)",),
           {"mp4": "GStreamer's qtdemux exposes no chapters", "mp3": "GStreamer's id3demux exposes no chapters",
            "ogg": "GStreamer exposes no Ogg chapters", "flac": "GStreamer exposes no FLAC chapters"}),
    Family("browser", "web browsers (<video> with <track kind=\"chapters\">)", {},
           ("HTML Standard: the track element; W3C WebVTT section 4 (chapter cues)",
            "tests/players/test_browser.py (headless Chromium)")),
)


@dataclass(frozen=True, slots=True)
class PlayerRow:
    """What one player family shows for the file."""

    family: str
    players: str
    status: Status
    carrier: str | None                 # the reader name, or the sidecar path for browsers
    count: int
    differences: tuple[str, ...] = ()
    fix: str | None = None
    report: verify.ReaderReport | None = None

    @property
    def shows_chapters(self) -> bool:
        return self.count > 0


@dataclass(frozen=True, slots=True)
class KeyframeReport:
    """Where a chapter seek lands: the video keyframe at or before each start (``containers.keyframes``)."""

    source: str                         # the index it came from: "stss", "Cues", ...
    gaps: tuple[KeyframeGap, ...]
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"index": self.source, "error": self.error, "chapters": [
            {"index": gap.index, "title": gap.title, "start_ns": gap.start_ns, "keyframe_ns": gap.keyframe_ns,
             "distance_ns": gap.distance_ns} for gap in self.gaps]}

    def lines(self) -> list[str]:
        if self.error:
            return [f"keyframes: cannot read them ({self.error})"]
        early = [gap for gap in self.gaps if gap.distance_ns]
        head = (f"keyframes ({self.source}): a chapter seek lands on the keyframe at or before the start; "
                f"{len(early)} of {len(self.gaps)} chapters land early")
        rows = []
        for gap in self.gaps:
            if gap.keyframe_ns is None:
                where = "no keyframe before it"
            else:
                where = (f"lands {verify.format_drift(gap.distance_ns or 0, signed=False)} early, "
                         f"at {format_clock(gap.keyframe_ns)}") if gap.distance_ns else "on a keyframe"
            rows.append(f"  #{gap.index} {format_clock(gap.start_ns)} {gap.title!r}: {where}")
        fix = ["  fix: chapterkit embed ... --snap keyframes (or re-encode with a keyframe at each start)"] \
            if early else []
        return [head, *rows, *fix]


def keyframe_report(media: str, chapters: ChapterList) -> KeyframeReport | None:
    """The keyframe report for ``media`` (None without video); a reading error is kept, not raised."""
    from chapterkit.containers import keyframes

    try:
        found = keyframes.read_keyframes(media)
    except ChapterkitError as exc:
        return KeyframeReport("", (), str(exc))
    if found is None:
        return None
    return KeyframeReport(found.source, tuple(keyframes.gaps(chapters, found)))


def add_keyframes(text: str, report_format: str, media: str, chapters: ChapterList) -> str:
    """``verify --keyframes``: the keyframe table after a text report, or a ``keyframes`` key in JSON."""
    report = keyframe_report(media, chapters)
    if report_format == "json":
        data = json.loads(text)
        data["keyframes"] = None if report is None else report.to_json()
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    lines = ["keyframes: none (no video track)"] if report is None else report.lines()
    return text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class PlayersReport:
    media: str
    container: str
    expected: ChapterList
    reference: str                      # "the source" or the reader the file was compared with
    rows: tuple[PlayerRow, ...]
    keyframes: KeyframeReport | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if any(row.status in ("differs", "missing", "error") for row in self.rows) else EXIT_OK

    def row(self, family: str) -> PlayerRow:
        return next(row for row in self.rows if row.family == family)


def check_players(media: str | os.PathLike[str], expected: ChapterList | None = None, *,
                  ffmpeg: object | None = None, source_name: str | None = None) -> PlayersReport:
    """One row per family in :data:`FAMILIES` for ``media``.

    Without ``expected`` the file is compared with its own most authoritative
    list (``containers.CONTAINER_READERS``' first reader), so the rows still show
    which players disagree with it. Raises :class:`~chapterkit.errors.MediaError`
    only for a file no reader can open as a container.
    """
    name = os.fspath(media)
    container = containers.sniff(name)
    readings: dict[str, ReadResult | ChapterkitError] = {}

    def reading(reader: str) -> ReadResult | ChapterkitError:
        if reader not in readings:
            function = containers.reader_function(reader)
            try:
                readings[reader] = function(name, ffmpeg=ffmpeg) if reader == "libav" else function(name)
            except ChapterkitError as exc:
                readings[reader] = exc
        return readings[reader]

    reference = source_name or "the source"
    if expected is None:
        native = containers.CONTAINER_READERS[container][0]
        first = reading(native)
        if isinstance(first, ChapterkitError):
            raise first
        expected, reference = first.chapters, f"the {native} list"
    command = f"chapterkit embed {name} --chapters {source_name or 'SOURCE'} -o OUT"
    rows = []
    for family in FAMILIES:
        if family.name == "browser":
            rows.append(_browser_row(family, name, expected, container))
            continue
        chain = family.readers.get(container)
        if not chain:
            why = family.unsupported.get(container, f"no {container} chapters")
            rows.append(PlayerRow(family.name, family.players, "unsupported", None, 0, (why,)))
            continue
        rows.append(_embedded_row(family, [(reader, reading(reader)) for reader in chain], expected,
                                  container, command))
    return PlayersReport(name, container, expected, reference, tuple(rows), keyframe_report(name, expected))


def _embedded_row(family: Family, chain: Sequence[tuple[str, ReadResult | ChapterkitError]],
                  expected: ChapterList, container: str, command: str) -> PlayerRow:
    reader, result = chain[0]
    for candidate, candidate_result in chain:  # the first reader that finds chapters is the one shown
        if isinstance(candidate_result, ReadResult) and len(candidate_result.chapters):
            reader, result = candidate, candidate_result
            break
    if isinstance(result, ChapterkitError):
        return PlayerRow(family.name, family.players, "error", reader, 0, (str(result),),
                         "the file may be damaged: embed again from the original")
    report = verify.compare(expected, result, verify.default_tolerance_ns(expected), container=container)
    count = len(result.chapters)
    if report.ok:
        return PlayerRow(family.name, family.players, "ok", reader, count, report=report)
    status: Status = "missing" if count == 0 and len(expected) else "differs"
    return PlayerRow(family.name, family.players, status, reader, count, _differences(report),
                     f"embed again: {command}", report)


def _browser_row(family: Family, media: str, expected: ChapterList, container: str) -> PlayerRow:
    stem = os.path.splitext(media)[0]
    write = f"chapterkit web {media}   (or: chapterkit show {media} --to webvtt > {stem}.chapters.vtt)"
    sidecar = next((stem + suffix for suffix in WEBVTT_SIDECARS if os.path.isfile(stem + suffix)), None)
    if sidecar is None:
        return PlayerRow(family.name, family.players, "no sidecar", None, 0,
                         (f"no {stem}.chapters.vtt next to the file; browsers read no embedded chapters",),
                         f"write the sidecar: {write}")
    from chapterkit import sources

    try:
        chapters = sources.load(sidecar, "webvtt").chapters
    except ChapterkitError as exc:
        return PlayerRow(family.name, family.players, "error", sidecar, 0, (str(exc),),
                         f"write the sidecar again: {write}")
    report = verify.compare(expected, ReadResult("webvtt", chapters), verify.default_tolerance_ns(expected))
    if report.ok:
        return PlayerRow(family.name, family.players, "ok", sidecar, len(chapters), report=report)
    return PlayerRow(family.name, family.players, "differs", sidecar, len(chapters), _differences(report),
                     f"write the sidecar again: {write}", report)


def _differences(report: verify.ReaderReport, limit: int = 6) -> tuple[str, ...]:
    found = list(report.problems)
    for row in report.rows:
        found.extend(f"#{row.expected_index or row.actual_index}: {problem}" for problem in row.problems)
    return tuple(found[:limit]) + ((f"... and {len(found) - limit} more",) if len(found) > limit else ())


# -- rendering ----------------------------------------------------------------------------------


def render_text(report: PlayersReport) -> str:
    lines = [f"{report.media}: {report.container}, {len(report.expected)} chapters in {report.reference}", ""]
    width = max(len(row.family) for row in report.rows)
    for row in report.rows:
        shows = f"{row.count} chapters" if row.count else "no chapters"
        via = f" via {row.carrier}" if row.carrier else ""
        lines.append(f"{row.family:<{width}}  {row.status.upper():<11} {shows}{via}  [{row.players}]")
        lines.extend(f"{'':<{width}}    {text}" for text in row.differences)
        if row.fix:
            lines.append(f"{'':<{width}}    fix: {row.fix}")
    if report.keyframes is not None:
        lines += ["", *report.keyframes.lines()]
    return "\n".join(lines) + "\n"


def render_json(report: PlayersReport) -> str:
    data = {"schema": "chapterkit.players/1", "media": report.media, "container": report.container,
            "reference": report.reference, "expected_count": len(report.expected), "rows": [
                {"family": row.family, "players": row.players, "status": row.status, "carrier": row.carrier,
                 "shows_chapters": row.shows_chapters, "count": row.count, "differences": list(row.differences),
                 "fix": row.fix, "sources": list(next(f for f in FAMILIES if f.name == row.family).sources)}
                for row in report.rows],
            "keyframes": None if report.keyframes is None else report.keyframes.to_json()}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


__all__ = ["FAMILIES", "Family", "PlayerRow", "PlayersReport", "check_players", "render_json", "render_text"]
