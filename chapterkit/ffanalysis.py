"""FFmpeg commands that analyse media for players and editors: thumbnails, scene and silence detection.

They decode (the embed, extract and dump commands in :mod:`chapterkit.muxer` only
copy packets or read headers), their results are files or log lines rather than a
remuxed output, and only the web page (:mod:`chapterkit.web`) and chapter snapping
(:mod:`chapterkit.snap`) use them, so they live here, next to the muxer and built the
same way: with ffmpeg-python, through the muxer's URL quoting, quiet global options
and process runner, so FFmpeg command lines are still built in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

from chapterkit.model import NS_PER_SECOND
from chapterkit.muxer import _QUIET, _compiled, _execute, _failure, _url


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
    chapter times are in (see :func:`chapterkit.muxer.build_dump_argv`); ``-nostats`` keeps progress lines
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


def run_for_log(argv: Sequence[str], *, path: str, verb: str) -> str:
    """Run FFmpeg like :func:`chapterkit.muxer.run`, but return its stderr: where analysis filters log
    (scdet, silencedetect)."""
    done = _execute(argv, path=path, verb=verb)
    if done.returncode != 0:
        raise _failure(argv, done, path=path, verb=verb)
    return done.stderr


__all__ = ["build_detect_argv", "build_thumbnail_argv", "run_for_log"]
