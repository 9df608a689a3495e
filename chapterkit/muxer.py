"""Every FFmpeg command chapterkit runs, built with ffmpeg-python in this one module.

Three jobs live here, and only here:

- **Which FFmpeg.** :func:`find_ffmpeg` looks in a fixed order (``--ffmpeg``,
  ``$CHAPTERKIT_FFMPEG``, ``ffmpeg`` on PATH, imageio-ffmpeg's bundled build) and
  says where it found the binary and which version it is.
- **What argv.** ``build_*_argv`` are pure functions; tests compare their lists
  with ``==``. ffmpeg-python builds them, with two of its gaps worked around in
  :func:`build_embed_argv` (see there).
- **Running it.** :func:`run` turns every way FFmpeg can fail (missing binary,
  non-zero exit, a full disk, Ctrl-C) into one :class:`~chapterkit.errors.FFmpegError`
  line with the evidence attached.

No ffprobe ships with imageio-ffmpeg, so :func:`probe` reads the input summary
FFmpeg prints on stderr. It runs the same cheap command as the chapter dump
(``-f ffmetadata`` reads headers only, no packets), so the ``libav`` reader gets
both from one process.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from chapterkit.errors import FFmpegError, MediaError
from chapterkit.model import NS_PER_SECOND, seconds_to_ns

ENV_VAR = "CHAPTERKIT_FFMPEG"
_ORIGINS = {"option": "given with --ffmpeg", "env": f"named by ${ENV_VAR}", "path": "found on PATH",
            "bundled": "bundled with imageio-ffmpeg"}
#: Global options of every command: never wait for a keypress, no banner.
_QUIET = ("-nostdin", "-hide_banner")


@dataclass(frozen=True, slots=True)
class FFmpegBinary:
    """An FFmpeg that runs: its path, how it was found (``option``/``env``/``path``/``bundled``), its version."""

    path: str
    source: str
    version: str

    @property
    def version_tuple(self) -> tuple[int, int] | None:
        """``(major, minor)``, or None for a build without a release number (``N-123-g…``)."""
        match = re.match(r"(\d+)\.(\d+)", self.version)
        return (int(match[1]), int(match[2])) if match else None


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
        """Indexes of QuickTime chapter tracks (what :func:`build_embed_argv` should drop)."""
        return tuple(stream.index for stream in self.streams if stream.is_chapter_track)


# -- finding FFmpeg ----------------------------------------------------------------------------


def find_ffmpeg(explicit: str | None = None) -> FFmpegBinary:
    """The FFmpeg to use: ``explicit``, ``$CHAPTERKIT_FFMPEG``, ``ffmpeg`` on PATH, else the bundled one.

    A binary named explicitly (option or environment) must work: there is no silent
    fallback past a name the user gave. Raises :class:`FFmpegError` naming it when it
    does not exist or does not run, and when no FFmpeg is found at all.
    """
    if explicit:
        return _checked(explicit, "option")
    named = os.environ.get(ENV_VAR)
    if named:
        return _checked(named, "env")
    on_path = shutil.which("ffmpeg")
    if on_path:
        return _checked(on_path, "path")
    try:
        import imageio_ffmpeg

        bundled = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise FFmpegError(f"FFmpeg not found: install it, or name one with --ffmpeg or ${ENV_VAR}") from None
    return _checked(bundled, "bundled")


def find_bundled() -> FFmpegBinary | None:
    """imageio-ffmpeg's bundled FFmpeg, or None when it is not installed or does not run."""
    try:
        import imageio_ffmpeg

        return _checked(imageio_ffmpeg.get_ffmpeg_exe(), "bundled")
    except (ImportError, RuntimeError, FFmpegError):
        return None


def _checked(name: str, source: str) -> FFmpegBinary:
    path = name if os.sep in name else shutil.which(name) or name
    if not os.path.isfile(path):
        raise FFmpegError(f"FFmpeg not found ({_ORIGINS[source]})", path=name, verb="looking for")
    return FFmpegBinary(path, source, _version(path))


@functools.lru_cache(maxsize=None)
def _version(path: str) -> str:
    """The release from ``ffmpeg -version``'s first line, run once per path.

    ``ffmpeg version n9.0.2-17-g2a571b6068-20260930`` (a git-describe build) gives
    ``9.0.2``; ``ffmpeg version 5.1.9-0+deb12u1`` (Debian) is kept as printed.
    """
    try:
        done = subprocess.run([path, "-hide_banner", "-version"], capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FFmpegError(f"FFmpeg cannot be run: {reason}", path=path, verb="running") from None
    first = done.stdout.decode("utf-8", "replace").partition("\n")[0].split()
    if done.returncode != 0 or first[:2] != ["ffmpeg", "version"] or len(first) < 3:
        raise FFmpegError("not an FFmpeg binary (`-version` does not say `ffmpeg version`)",
                          path=path, verb="running")
    version = re.sub(r"^n(?=\d)", "", first[2])
    return re.sub(r"^(\d+(?:\.\d+)+)-\d+-g[0-9a-f]+.*$", r"\1", version)


def _binary(ffmpeg: FFmpegBinary | str | None) -> FFmpegBinary:
    return ffmpeg if isinstance(ffmpeg, FFmpegBinary) else find_ffmpeg(ffmpeg)


# -- argv builders (pure) ------------------------------------------------------------------------


def _url(path: str) -> str:
    """``path`` as an FFmpeg URL: ``file:`` pins a local file when the name could read
    as a protocol (``name:…``) or as an option (``-name``).

    A name that is not UTF-8 (a lone surrogate in Python, PEP 383) is swapped for a
    stand-in that :func:`_compiled` swaps back: ffmpeg-python hashes its nodes'
    arguments as UTF-8 and raises UnicodeEncodeError on such a name, while the
    argv itself (``subprocess`` encodes with ``os.fsencode``) carries it fine.
    """
    url = f"file:{path}" if ":" in path or path.startswith("-") else path
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return _STAND_IN + os.fsencode(url).hex()
    return url


_STAND_IN = "chapterkit-undecodable-name:"


def _real(arg: str) -> str:
    """The name a stand-in from :func:`_url` stands for (any other argument unchanged)."""
    return os.fsdecode(bytes.fromhex(arg[len(_STAND_IN):])) if arg.startswith(_STAND_IN) else arg


def _compiled(graph, ffmpeg: str) -> list[str]:
    """``graph.compile``, with any stand-in names swapped back for the real ones."""
    return [_real(arg) for arg in graph.compile(cmd=ffmpeg)]


def build_embed_argv(ffmpeg: str, media: str, ffmetadata: str, output: str, *, output_format: str,
                     drop_streams: Sequence[int] = (), movie_timescale: int | None = None,
                     metadata: Mapping[str, str] | None = None,
                     attachments: Sequence[tuple[str, Mapping[str, str]]] = (),
                     attachments_before: int = 0) -> list[str]:
    """Stream-copy ``media`` to ``output`` with the chapters of the ``ffmetadata`` file.

    ``-map 0`` keeps every stream, attachments included (without it FFmpeg keeps one
    per type); ``-map -0:N`` then drops each of ``drop_streams`` (the old QuickTime
    chapter track). ``-map_chapters 1`` is a must: by default FFmpeg copies chapters
    from the first input that has any, i.e. the old ones. Global and stream tags keep
    coming from the media: ``-map_metadata 1`` would replace every global tag with
    the (empty) global set of the ffmetadata file. ``metadata`` sets global tags
    (``-metadata key=value``). ``movie_timescale`` is for the mov-family muxers:
    FFmpeg 9 picks a timescale from the streams (4 410 000 for 29.97 fps + 44.1 kHz),
    and then any chapter longer than 2**31 ticks (8.1 min there) is corrupted
    (``movenc.c``, "Packet duration out of range"); 1000 is FFmpeg 5.1's default.
    ``attachments`` are ``(file, tags)`` pairs added with ``-attach`` (Matroska); their
    tags go to output attachment streams ``attachments_before``, ``+1``… (``-metadata:s:t:N``),
    since the attachments ``-map 0`` copies come first.
    ``-y``: the caller writes to a fresh temporary file it has already created.
    Checked with FFmpeg 5.1 and 9.0: MKV with two audio tracks, ASS and SRT subtitles and
    a TTF attachment; MP4 re-embedded (one chapter track, no stale one); MOV with a
    timecode track (tmcd kept); M4A with cover art; WebM.
    """
    import ffmpeg as ffmpeg_python

    source = ffmpeg_python.input(_url(media))
    chapters = ffmpeg_python.input(_url(ffmetadata), f="ffmetadata")
    # "-disposition:0 +0" adds nothing to the first stream's copied disposition, but any
    # -disposition turns off the CLI's guess that marks the first of several audio or
    # subtitle streams "default" when none is (set_dispositions in ffmpeg_mux_init.c,
    # ffmpeg_opt.c in 5.1): dispositions then come through exactly as they were.
    options: dict[str, object] = {"f": output_format, "c": "copy", "map_chapters": 1, "disposition:0": "+0"}
    if movie_timescale is not None:
        options["movie_timescale"] = movie_timescale
    graph = (ffmpeg_python.output(source, chapters, _url(output), **options)
             .global_args(*_QUIET, "-loglevel", "error").overwrite_output())
    argv: list[str] = _compiled(graph, ffmpeg)
    # ffmpeg-python maps every input its output is given ("-map 0 -map 1") and leaves out
    # of argv any input that feeds no output, so the streamless ffmetadata input has to be
    # an output edge; FFmpeg then refuses its "-map 1" ("Stream map '1' matches no streams",
    # kkroening/ffmpeg-python#345). Its map is replaced by the negative maps, which
    # ffmpeg-python cannot express (one value per option key), as are repeated -metadata.
    at = _pair_index(argv, "-map", "1")
    argv[at:at + 2] = [arg for index in drop_streams for arg in ("-map", f"-0:{index}")]
    at = len(argv) - 1 - argv[::-1].index(_real(_url(output)))
    extra = [arg for key, value in (metadata or {}).items() for arg in ("-metadata", f"{key}={value}")]
    for number, (path, tags) in enumerate(attachments, attachments_before):
        extra += ["-attach", _url(path)]
        extra += [arg for key, value in tags.items() for arg in (f"-metadata:s:t:{number}", f"{key}={value}")]
    argv[at:at] = extra
    return argv


def build_extract_argv(ffmpeg: str, media: str, index: int, output: str) -> list[str]:
    """Copy the one packet of stream ``index`` (an image attachment) to ``output``, byte for byte.

    FFmpeg's ``data`` muxer writes packet payloads and nothing else; ``-dump_attachment``
    cannot be used, as it dumps extradata, and a Matroska image attachment is demuxed
    as an ``attached_pic`` video stream whose bytes are its packet.
    """
    import ffmpeg as ffmpeg_python

    graph = (ffmpeg_python.input(_url(media)).output(_url(output), map=f"0:{index}", c="copy", f="data")
             .global_args(*_QUIET, "-loglevel", "error").overwrite_output())
    return _compiled(graph, ffmpeg)


def build_dump_argv(ffmpeg: str, media: str) -> list[str]:
    """``ffmpeg -i media -f ffmetadata -``: global tags and chapters as FFMETADATA on stdout.

    ``-copyts`` keeps chapter times as the demuxer read them. Without it the CLI
    shifts them by the input's start time (``copy_chapters``: ``start - ts_off``,
    clamped at 0): a LAME MP3 (start 0.025057 s) dumps 1000 ms as 975 and 0 stays 0,
    and FFmpeg 5.1 reads an MKV with AAC priming as start −0.023 s, dumping 0 as 23 ms.
    Adding the start time back cannot undo the clamp or the ms rounding; ``-copyts``
    gives exactly ffprobe's values in both builds (MP3, MP4, M4A, MKV, Opus, FLAC,
    Vorbis checked). ``-loglevel info`` because :func:`probe` reads the input summary.
    """
    import ffmpeg as ffmpeg_python

    graph = (ffmpeg_python.input(_url(media)).output("-", f="ffmetadata")
             .global_args(*_QUIET, "-nostats", "-loglevel", "info", "-copyts"))
    return _compiled(graph, ffmpeg)


def build_thumbnail_argv(ffmpeg: str, media: str, at_ns: int, output: str, *, width: int = 160) -> list[str]:
    """One JPEG frame of ``media`` at ``at_ns``, ``width`` pixels wide, for a chapter's thumbnail.

    ``-ss`` before ``-i`` seeks the demuxer to the keyframe before ``at_ns`` and then
    decodes up to it (the CLI's accurate seek), so the frame is the one shown at the
    chapter's start, not the keyframe's. ``scale=W:-2`` keeps the aspect ratio with an
    even height, which the JPEG encoder's 4:2:0 needs.
    """
    import ffmpeg as ffmpeg_python

    seconds = f"{at_ns // NS_PER_SECOND}.{at_ns % NS_PER_SECOND:09d}"
    graph = (ffmpeg_python.input(_url(media), ss=seconds)
             .output(_url(output), vframes=1, vf=f"scale={width}:-2", f="image2", **{"q:v": 5})
             .global_args(*_QUIET, "-loglevel", "error").overwrite_output())
    return _compiled(graph, ffmpeg)


def build_detect_argv(ffmpeg: str, media: str, kind: str, *, scene_threshold: float = 10.0,
                      silence_db: float = -35.0, silence_seconds: float = 0.3) -> list[str]:
    """Decode ``media`` through FFmpeg's ``scdet`` (``kind="scenes"``, first video stream) or
    ``silencedetect`` (``kind="silence"``, first audio stream) filter, writing nothing.

    The filters log what they find on stderr at ``info`` level (``lavfi.scd.time: 2``;
    ``silence_end: 1.60005``). ``-copyts`` keeps the demuxer's timestamps, the timeline
    chapter times are in (see :func:`build_dump_argv`); ``-nostats`` keeps progress lines
    from gluing onto the filter's.
    """
    import ffmpeg as ffmpeg_python

    source = ffmpeg_python.input(_url(media))
    if kind == "scenes":
        stream = source.video.filter("scdet", threshold=scene_threshold)
    elif kind == "silence":
        stream = source.audio.filter("silencedetect", n=f"{silence_db}dB", d=silence_seconds)
    else:
        raise ValueError(f"unknown detection {kind!r}")
    graph = stream.output("-", f="null").global_args(*_QUIET, "-nostats", "-loglevel", "info", "-copyts")
    return _compiled(graph, ffmpeg)


def _pair_index(argv: list[str], option: str, value: str) -> int:
    return next(i for i in range(len(argv) - 1) if argv[i] == option and argv[i + 1] == value)


# -- running ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Done:
    returncode: int
    stdout: str
    stderr: str


def run(argv: Sequence[str], *, path: str, verb: str, fsize_limit: int | None = None) -> str:
    """Run FFmpeg and return its stdout (UTF-8, undecodable bytes replaced).

    Raises :class:`FFmpegError` "FFmpeg failed (exit N): <FFmpeg's own reason>", with
    ``.stderr_tail`` (its last 10 lines), ``.argv`` and ``.returncode``. ``fsize_limit``
    caps the child's file size (RLIMIT_FSIZE, bytes), which is how tests simulate a
    full disk. Ctrl-C kills FFmpeg, reaps it and re-raises ``KeyboardInterrupt``.
    """
    done = _execute(argv, path=path, verb=verb, fsize_limit=fsize_limit)
    if done.returncode != 0 or _UNFINISHED.search(done.stderr):
        raise _failure(argv, done, path=path, verb=verb)
    return done.stdout


def run_for_log(argv: Sequence[str], *, path: str, verb: str) -> str:
    """Run FFmpeg like :func:`run`, but return its stderr: where analysis filters log (scdet, silencedetect)."""
    done = _execute(argv, path=path, verb=verb)
    if done.returncode != 0:
        raise _failure(argv, done, path=path, verb=verb)
    return done.stderr

#: FFmpeg 5.1 exits 0 when the disk fills while it writes the Matroska trailer, after
#: logging "Error writing trailer of x.mkv: No space left on device" (measured on a full
#: tmpfs; FFmpeg 9 exits 228): the file is cut short, so that is a failure too.
_UNFINISHED = re.compile(r"Error (?:writing trailer|closing file)\b|No space left on device")


def _execute(argv: Sequence[str], *, path: str, verb: str, fsize_limit: int | None = None) -> _Done:
    limit = None if fsize_limit is None else functools.partial(_limit_file_size, fsize_limit)
    try:
        # restore_signals (the default) gives the child SIGXFSZ's default action back;
        # Python itself ignores it, which would turn the limit into EFBIG write errors.
        child = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, preexec_fn=limit)
    except FileNotFoundError:
        raise FFmpegError(f"FFmpeg not found: {argv[0]}", argv=argv, path=path, verb=verb) from None
    except OSError as exc:
        raise FFmpegError(f"FFmpeg cannot be run: {exc.strerror or exc}", argv=argv, path=path,
                          verb=verb) from None
    try:
        stdout, stderr = child.communicate()
    except BaseException:  # Ctrl-C included: no orphan writing on, no zombie
        child.kill()
        child.wait()
        raise
    return _Done(child.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


def _limit_file_size(limit: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


#: Lines FFmpeg's CLI prints around a lower-level error; the reason is in an earlier line.
_WRAPPERS = re.compile(
    r"^(Conversion failed!|Error initializing output stream .*--\s*|Error opening (input|output) files?\b.*"
    r"|Could not write header\b.*|Error (writing trailer|closing file)\b.*|Task finished with error code.*"
    r"|Terminating thread with return code.*|Last message repeated \d+ times|Exiting normally.*)$")
#: FFmpeg's log prefix "[matroska @ 0x55d0c0ffee00] " (5.1) or "[out#0/mov @ 0x…] " (9.0).
_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*")


def _clean_lines(stderr: str) -> list[str]:
    return [_PREFIX.sub("", line.strip()) for line in stderr.splitlines() if line.strip()]


def _reason(stderr: str) -> str:
    """The last line that says *why*, skipping the CLI's generic wrappers."""
    lines = _clean_lines(stderr)
    specific = [line for line in lines if not _WRAPPERS.match(line)]
    return (specific or lines or ["no error message"])[-1]


def _failure(argv: Sequence[str], done: _Done, *, path: str, verb: str) -> FFmpegError:
    tail = "\n".join(done.stderr.splitlines()[-10:])
    code = done.returncode
    status = (f"killed by {_signal_name(-code)}" if code < 0 else f"exit {code}" if code
              else "exit 0, but the file was not finished")
    if code == -signal.SIGXFSZ or "File too large" in done.stderr:
        reason = f"FFmpeg failed ({status}): the disk or file size limit was hit (File too large)"
    elif "No space left on device" in done.stderr:
        reason = f"FFmpeg failed ({status}): the disk is full (No space left on device)"
    elif code < 0:
        reason = f"FFmpeg was {status}"
    else:
        reason = f"FFmpeg failed ({status}): {_reason(done.stderr)}"
    return FFmpegError(reason, argv=argv, stderr_tail=tail, returncode=code, path=path, verb=verb)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# -- probing and dumping ------------------------------------------------------------------------


def probe(media: str, ffmpeg: FFmpegBinary | str | None = None) -> MediaInfo:
    """Format, duration, start time and streams of ``media``, as FFmpeg's input summary says.

    Raises :class:`MediaError` naming the file and FFmpeg's own reason for a missing,
    empty, non-media or truncated file, and for one with no streams.
    """
    return _probe_run(media, ffmpeg)[0]


def dump_ffmetadata(media: str, ffmpeg: FFmpegBinary | str | None = None) -> str:
    """Global tags and chapters of ``media`` as FFMETADATA text (see :func:`build_dump_argv`)."""
    return probe_and_dump(media, ffmpeg)[1]


def probe_and_dump(media: str, ffmpeg: FFmpegBinary | str | None = None) -> tuple[MediaInfo, str]:
    """:func:`probe` and :func:`dump_ffmetadata` from one FFmpeg run (about 10–50 ms)."""
    info, done, argv = _probe_run(media, ffmpeg)
    if done.returncode != 0:
        raise _failure(argv, done, path=os.fspath(media), verb="dumping the chapters of")
    return info, done.stdout


def _probe_run(media: str, ffmpeg: FFmpegBinary | str | None) -> tuple[MediaInfo, _Done, list[str]]:
    binary = _binary(ffmpeg)
    name = os.fspath(media)
    _check_file(name)
    argv = build_dump_argv(binary.path, name)
    done = _execute(argv, path=name, verb="reading")
    return parse_input_summary(done.stderr, path=name), done, argv


def _check_file(name: str) -> None:
    try:
        size = os.stat(name).st_size
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb="reading") from None
    if os.path.isdir(name):
        raise MediaError("is a folder, not a media file", path=name, verb="reading")
    if size == 0:
        raise MediaError("file is empty (0 bytes)", path=name, verb="reading")


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
    lines = _clean_lines(stderr)
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


__all__ = ["ENV_VAR", "FFmpegBinary", "MediaInfo", "StreamInfo", "build_dump_argv", "build_embed_argv",
           "build_extract_argv", "dump_ffmetadata", "find_bundled", "find_ffmpeg", "parse_input_summary", "probe",
           "probe_and_dump", "run",
           "build_detect_argv", "build_thumbnail_argv", "run_for_log"]
