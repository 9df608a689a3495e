"""The rewriting path of ``embed``: a new file, by FFmpeg remux or a mutagen copy.

Every container can take its chapters this way: MP4 and Matroska by the FFmpeg
remux (:mod:`chapterkit.remux`), MP3, Ogg and FLAC by mutagen writing tags on a
copy (never remuxed: see :mod:`chapterkit.embed`). Either way the new file is a
temporary one beside the target, read back by every reader that applies, then
renamed into place (:mod:`chapterkit.outputs`); a failure removes it.
"""

from __future__ import annotations

import os

from chapterkit import tempfiles
from chapterkit.embedplan import exact_duration, plan
from chapterkit.errors import EXIT_ERROR, ChapterkitError, ChapterMismatchError, MediaError
from chapterkit.model import NS_PER_MS, ChapterList
from chapterkit.outputs import finish, muxer_for, name_the_output, remove, temp_beside
from chapterkit.remux import ffmpeg_for_file, remux_file, stream_plan


def embed_by_rewriting(source: str, target: str, container: str, chapters: ChapterList, in_place: bool,
                       title: str | None, verify: bool, ffmpeg: str | None, fsize_limit: int | None
                       ) -> tuple[str, ChapterList, tuple[str, ...], tuple[str, ...]]:
    """The remux (FFmpeg) or mutagen-copy path: a new file renamed over the target.

    Returns the method, the chapters written, the warnings and the readers that verified.
    """
    from chapterkit import muxer

    remux = container in ("mp4", "matroska")
    if remux:
        muxer_for(target, container)  # refuse an output extension FFmpeg cannot write here
    binary = muxer.find_ffmpeg(ffmpeg)
    # FFmpeg's probe refuses truncated, stream-less and non-media input with its own reason
    # and lists the streams to copy; mutagen's containers are checked by their reader.
    info = muxer.probe(source, binary) if remux else None
    planned, warnings = plan(chapters, container, exact_duration(source, container, info), path=source)
    if title is not None:
        planned = planned.with_title(title)

    if remux:
        binary, ffmpeg_warnings = ffmpeg_for_file(binary, info, container)
        streams = stream_plan(info, muxer_for(target, container), source)
        warnings += ffmpeg_warnings + list(streams.warnings)

    temp = temp_beside(target)
    tempfiles.sweep(os.path.dirname(os.path.abspath(target)))  # leftovers of killed runs
    tempfiles.sweep_scratch()
    try:
        if remux:
            method = "remux"
            binary, written = remux_file(binary, source, temp, planned, container, target, streams, title, fsize_limit)
            warnings += written
        else:
            method = "copy"
            warnings += _write_with_mutagen(source, temp, planned, container, title)
        verified_by = _verify(temp, planned, container, binary) if verify else ()
        # The copy takes its input's mode (mkstemp made it 0600); the owner only in place.
        finish(temp, target, keep_mode_of=source, keep_owner=in_place)
    except BaseException as exc:
        remove(temp)
        if isinstance(exc, ChapterkitError):
            name_the_output(exc, temp, target)
        raise
    return method, planned, tuple(warnings), verified_by


def _write_with_mutagen(source, temp, chapters, container, title) -> list[str]:
    if container == "mp3":
        from chapterkit.containers import id3

        id3.copy_with_room(source, temp, chapters)
        warnings = id3.write_id3(temp, chapters)
        if title is not None:
            id3.write_title(temp, title)
    else:
        from chapterkit.containers import vorbis

        vorbis.copy_with_room(source, temp, chapters)
        warnings = vorbis.write_vorbis(temp, chapters)
        if title is not None:
            vorbis.write_title(temp, title)
    return list(warnings)


def _verify(temp: str, planned: ChapterList, container: str, binary) -> tuple[str, ...]:
    from chapterkit.verify import verify_file

    # 1 ms: every carrier stores ms or finer (ID3 and Vorbis ms; chapterkit writes the
    # QuickTime track with -movie_timescale 1000), so more drift than that is a fault.
    report = verify_file(temp, planned, tolerance_ns=NS_PER_MS, ffmpeg=binary)
    if not report.ok:
        # A reader that cannot read the new file at all is an I/O fault (2), not drift (1).
        error = MediaError if report.exit_code == EXIT_ERROR else ChapterMismatchError
        raise error(f"chapters read back do not match: {report.headline()}; "
                    "the input was left untouched", path=temp, verb="verifying")
    return tuple(reader.reader for reader in report.readers)


__all__ = ["embed_by_rewriting"]
