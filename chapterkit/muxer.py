"""Every FFmpeg command chapterkit runs, built with ffmpeg-python in this module (and, for the
decoding analysis commands players and editors need, in its sibling :mod:`chapterkit.ffanalysis`,
which reuses the URL quoting and runner below).

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
FFmpeg prints on stderr (parsed in :mod:`chapterkit.ffsummary`, text only, re-exported
here). It runs the same cheap command as the chapter dump (``-f ffmetadata`` reads
headers only, no packets), so the ``libav`` reader gets both from one process.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chapterkit.errors import FFmpegError, MediaError
from chapterkit.ffsummary import MediaInfo, StreamInfo, failure_reason, parse_input_summary

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
        reason = f"FFmpeg failed ({status}): {failure_reason(done.stderr)}"
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


__all__ = ["ENV_VAR", "FFmpegBinary", "MediaInfo", "StreamInfo", "build_dump_argv", "build_embed_argv",
           "build_extract_argv", "dump_ffmetadata", "find_bundled", "find_ffmpeg", "parse_input_summary", "probe",
           "probe_and_dump", "run"]
