"""Reading what FFmpeg prints on stderr: the input summary and the reason a run failed.

FFmpeg's CLI is the only reader chapterkit can count on (imageio-ffmpeg ships no
ffprobe), so the stream list, duration and start time come from the ``Input #0``
block ``libavformat/dump.c`` prints, and a failure's reason from the last log line
that is not one of the CLI's generic wrappers. This is text parsing with no process
and no argv in it, which is why it lives apart from :mod:`chapterkit.muxer` (which
builds and runs the commands and re-exports :class:`MediaInfo`, :class:`StreamInfo`
and :func:`parse_input_summary` from here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_SECOND, seconds_to_ns


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One ``Stream #0:N`` line of FFmpeg's input summary.

    ``disposition`` holds FFmpeg's ``-disposition`` flag names (``default``,
    ``attached_pic``, ``forced``…). ``tags`` are the stream's metadata as FFmpeg
    prints them under it (``dump.c`` ``dump_metadata``: ``key : value``, a
    multi-line value continued under an empty key). ``is_chapter_track``: the QuickTime chapter text
    track, which FFmpeg's mov demuxer exposes as a discarded ``bin_data`` data stream
    (``mov.c`` ``mov_read_chapters``); remuxing it copies a stale track (MP4) or fails
    outright (MOV, M4A), so embedding drops it.
    """

    index: int
    kind: str          # video | audio | subtitle | data | attachment
    codec: str
    tag: str | None    # the codec tag (fourcc) when FFmpeg prints one, e.g. "avc1", "text"
    language: str | None
    disposition: tuple[str, ...]
    is_chapter_track: bool
    tags: tuple[tuple[str, str], ...] = ()

    def get_tag(self, key: str) -> str | None:
        """The value of tag ``key`` (case-insensitive, as ``av_dict_get`` looks up), or None."""
        return next((value for name, value in self.tags if name.lower() == key.lower()), None)


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What FFmpeg says about an input before reading any packet.

    ``duration_ns`` is FFmpeg's ``Duration:`` line, which ``libavformat/dump.c`` prints
    rounded to the nearest 10 ms (it adds 5000 µs before cutting to centiseconds):
    exact to ±5 ms, and None when FFmpeg prints ``N/A``. Exact durations would need
    a full ``-f null`` pass over the packets, too slow for a probe. ``start_time_ns``
    (``start:``, printed in µs) is the stream start FFmpeg's CLI subtracts from
    chapter times unless ``-copyts`` is given (25.057 ms on a LAME MP3).
    """

    format_name: str
    duration_ns: int | None
    start_time_ns: int
    streams: tuple[StreamInfo, ...]

    @property
    def chapter_tracks(self) -> tuple[int, ...]:
        """Indexes of QuickTime chapter tracks (what :func:`~chapterkit.muxer.build_embed_argv` drops)."""
        return tuple(stream.index for stream in self.streams if stream.is_chapter_track)


#: Lines FFmpeg's CLI prints around a lower-level error; the reason is in an earlier line.
_WRAPPERS = re.compile(
    r"^(Conversion failed!|Error initializing output stream .*--\s*|Error opening (input|output) files?\b.*"
    r"|Could not write header\b.*|Error (writing trailer|closing file)\b.*|Task finished with error code.*"
    r"|Terminating thread with return code.*|Last message repeated \d+ times|Exiting normally.*)$")
#: FFmpeg's log prefix "[matroska @ 0x55d0c0ffee00] " (5.1) or "[out#0/mov @ 0x…] " (9.0).
_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*")


def clean_lines(stderr: str) -> list[str]:
    return [_PREFIX.sub("", line.strip()) for line in stderr.splitlines() if line.strip()]


def failure_reason(stderr: str) -> str:
    """The last line that says *why*, skipping the CLI's generic wrappers."""
    lines = clean_lines(stderr)
    specific = [line for line in lines if not _WRAPPERS.match(line)]
    return (specific or lines or ["no error message"])[-1]


_INPUT = re.compile(r"^Input #0, (?P<format>.*?), from '")
_DURATION = re.compile(r"^\s+Duration: (?:N/A|(?P<h>\d+):(?P<m>\d\d):(?P<s>\d\d)\.(?P<cs>\d\d))"
                       r"(?:, start: (?P<start>-?\d+\.\d+))?")
_STREAM = re.compile(r"^\s+Stream #0:(?P<index>\d+)(?:\[0x[0-9a-fA-F]+\])?(?:\((?P<lang>[^)]+)\))?: "
                     r"(?P<kind>Video|Audio|Subtitle|Data|Attachment|Unknown): (?P<rest>.*)$")
_END_OF_INPUT = re.compile(r"^(Output #|Stream mapping:|At least one output|Press \[q\])")
_TAG = re.compile(r"\((?P<tag>[^()]+?) / 0x[0-9A-Fa-f]+\)")
_METADATA = re.compile(r"^(\s+)Metadata:\s*$")
#: "      handler_name    : VideoHandler" (key padded to 16) or "compatible_brands: qt  " (longer key).
_TAG_LINE = re.compile(r"^(?P<indent>\s+)(?P<key>\S.*?|)\s*: (?P<value>.*)$")
#: Disposition names as ``libavformat/dump.c`` prints them, after the stream's parameters.
_DISPOSITIONS = ("default", "dub", "original", "comment", "lyrics", "karaoke", "forced", "hearing impaired",
                 "visual impaired", "clean effects", "attached pic", "timed thumbnails", "non-diegetic",
                 "captions", "descriptions", "metadata", "dependent", "still image", "multilayer")
_TRAILING_DISPOSITION = re.compile(r"\s*\((" + "|".join(_DISPOSITIONS) + r")\)$")


def parse_input_summary(stderr: str, *, path: str) -> MediaInfo:
    """A :class:`MediaInfo` from the ``Input #0`` block FFmpeg prints on stderr.

    FFmpeg 9 nests streams under ``Stream group`` lines and may list them out of
    order, so streams are sorted by index. Raises :class:`MediaError` when there is no
    input block (FFmpeg's reason is taken from stderr) or it lists no stream.
    """
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if _INPUT.match(line)), None)
    if start is None:
        raise MediaError(f"FFmpeg cannot read it: {_open_error(stderr)}", path=path, verb="reading")
    format_name = _INPUT.match(lines[start])["format"]
    duration_ns, start_ns, streams = None, 0, {}
    tags: dict[int, list[list[str]]] = {}
    current, metadata_indent = None, None   # the stream whose "Metadata:" block is being read
    for line in lines[start + 1:]:
        if _END_OF_INPUT.match(line):
            break
        if match := _DURATION.match(line):
            duration_ns = _clock_ns(match) if match["h"] else None
            start_ns = seconds_to_ns(match["start"]) if match["start"] else 0
        elif match := _STREAM.match(line):
            stream = _stream(match, format_name)
            streams[stream.index] = stream
            current, metadata_indent = stream.index, None
            tags[current] = []
        elif current is not None and (match := _METADATA.match(line)):
            metadata_indent = len(match[1])
        elif (metadata_indent is not None and (match := _TAG_LINE.match(line))
              and len(match["indent"]) > metadata_indent):
            if match["key"] or not tags[current]:
                tags[current].append([match["key"], match["value"]])
            else:  # a continuation line of a multi-line value
                tags[current][-1][1] += "\n" + match["value"]
        else:  # "Side data:", a "Stream group" line or anything else ends the block
            metadata_indent = None
    if not streams:
        raise MediaError(f"FFmpeg finds no streams in it (read as {format_name})", path=path, verb="reading")
    return MediaInfo(format_name, duration_ns, start_ns, tuple(
        replace(streams[i], tags=tuple((key, value) for key, value in tags[i])) for i in sorted(streams)))


def _clock_ns(match: re.Match[str]) -> int:
    seconds = int(match["h"]) * 3600 + int(match["m"]) * 60 + int(match["s"])
    return seconds * NS_PER_SECOND + seconds_to_ns(Fraction(int(match["cs"]), 100))


def _stream(match: re.Match[str], format_name: str) -> StreamInfo:
    rest = match["rest"].rstrip()
    disposition: list[str] = []
    while found := _TRAILING_DISPOSITION.search(rest):
        disposition.insert(0, found[1].replace(" ", "_"))
        rest = rest[:found.start()]
    kind = match["kind"].lower()
    kind = "data" if kind == "unknown" else kind
    codec = re.match(r"[^\s,(]*", rest)[0] or "none"
    tag_match = _TAG.search(rest.split(",")[0])
    tag = tag_match["tag"] if tag_match else None
    chapter_track = (format_name.startswith("mov,") and kind == "data" and codec == "bin_data"
                     and tag == "text")
    return StreamInfo(int(match["index"]), kind, codec, tag, match["lang"], tuple(disposition), chapter_track)


def _open_error(stderr: str) -> str:
    """FFmpeg's errno text for an input it cannot open, plus the demuxer's detail.

    5.1 prints ``<file>: Invalid data found when processing input``; 9.0 prints
    ``Error opening input: Invalid data…``; the demuxer may say more before it
    (``moov atom not found`` for a truncated MP4).
    """
    lines = clean_lines(stderr)
    cause = ""
    for line in reversed(lines):
        if match := re.match(r"^(?:Error opening input|.+?): (.+)$", line):
            cause = match[1].strip()
            break
    details = [line for line in lines if not _WRAPPERS.match(line) and not line.endswith(f": {cause}")
               and "misdetection possible" not in line and not line.startswith("Error opening input")]
    if not cause:
        return details[-1] if details else "no reason given"
    return f"{cause} ({details[-1]})" if details else cause


__all__ = ["MediaInfo", "StreamInfo", "clean_lines", "failure_reason", "parse_input_summary"]
