"""The FFmpeg remux: which streams to copy, which FFmpeg to run, and a check of what it wrote.

MP4 and Matroska files that cannot be edited in place get their chapters by an
FFmpeg stream copy with FFMETADATA as a second input (command lines built by
:mod:`chapterkit.muxer`, the only module that does). A plain ``-map 0 -c copy``
damages some inputs, so :func:`stream_plan` says which streams to leave out or
attach again; two FFmpeg 5.1 faults make :func:`ffmpeg_for_file` and
:func:`remux_file` prefer the bundled FFmpeg over one merely found on PATH. Kept
apart from the rest of ``embed`` because it is all about FFmpeg's behaviour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from chapterkit import tempfiles
from chapterkit.errors import UsageError
from chapterkit.outputs import muxer_for


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """How the remux treats the input's streams beyond ``-map 0``."""

    drop: tuple[int, ...]           # input stream indexes left out (-map -0:N)
    reattach: tuple[object, ...]    # muxer.StreamInfo of Matroska image attachments to attach again
    attachments_kept: int           # attachment streams -map 0 copies (the re-attached ones follow)
    warnings: tuple[str, ...]


def stream_plan(info, output_format: str, source: str) -> StreamPlan:
    """Which input streams a plain ``-map 0 -c copy`` would damage, and what to do instead.

    - The old QuickTime chapter track always goes (see ``muxer.StreamInfo``).
    - Matroska image attachments (a cover) are demuxed as ``attached_pic`` video
      streams, and FFmpeg 5.1 and 9.0 alike copy them back as a one-frame PNG/JPEG
      *video track* (the ``MPNG`` track mkvmerge then lists). They are left out of
      the map and attached again, as attachments, from their own bytes.
    - A timecode track (a ``tmcd`` data stream) is copied as it is into MOV, but
      FFmpeg's mp4 muxer has no tag for it ("Could not find tag for codec none", 5.1
      and 9.0) and instead re-creates one per video stream with a ``timecode`` tag
      (``movenc.c`` ``mov_init``, ``nb_meta_tmcd``), after the other tracks. So for
      MP4 the copies are dropped; a timecode track tied to no such video stream
      cannot be kept there, which is a warning. The ipod muxer (m4a, m4b, m4v)
      writes no timecode track at all, so that output is refused.
    """
    drop = [stream.index for stream in info.streams if stream.is_chapter_track]
    warnings: list[str] = []
    reattach = []
    if output_format in ("matroska", "webm"):
        reattach = [stream for stream in info.streams if "attached_pic" in stream.disposition]
        drop += [stream.index for stream in reattach]
    timecodes = [stream for stream in info.streams if stream.kind == "data" and stream.tag == "tmcd"]
    if timecodes and output_format == "ipod":
        raise UsageError("the input's timecode track cannot be kept in .m4a, .m4b or .m4v "
                         "(FFmpeg's ipod muxer writes none); write .mp4 or .mov",
                         path=source, verb="embedding chapters into")
    if timecodes and output_format == "mp4":
        drop += [stream.index for stream in timecodes]
        remade = sum(1 for stream in info.streams if stream.kind == "video"
                     and "attached_pic" not in stream.disposition and stream.get_tag("timecode"))
        # Cover art is no track in MP4 (a 'covr' tag FFmpeg lists last), so it does not count.
        tracks = [stream for stream in info.streams
                  if not stream.is_chapter_track and "attached_pic" not in stream.disposition]
        if remade < len(timecodes):
            warnings.append(f"{len(timecodes) - remade} of the input's {len(timecodes)} timecode tracks belong to "
                            "no video track and are left out (FFmpeg's mp4 muxer cannot copy them; .mov keeps them)")
        elif tracks[-len(timecodes):] != timecodes:
            warnings.append("the timecode track moves after the other tracks: FFmpeg's mp4 muxer re-creates it "
                            "from the video's timecode instead of copying it")
    kept = sum(1 for stream in info.streams if stream.kind == "attachment" and stream.index not in drop)
    return StreamPlan(tuple(drop), tuple(reattach), kept, tuple(warnings))


#: FFmpeg up to libavformat 59.30 (so 5.1; 6.0 ships 60.3) shifts every Matroska block
#: of every track by the Opus pre-skip (6.5 ms) on writing, as if negative timestamps
#: were not allowed, while the demuxer takes the Opus CodecDelay off again: a remux
#: moves video and subtitles about 7 ms later against the Opus audio, once more on every
#: pass. Measured on a WebM: 5.1.9 moves the first video frame from 7 to 14 ms (with or
#: without -copyts or -avoid_negative_ts), 9.0.2 keeps 7 ms. (The versions are those the
#: Ladybird browser names for files it repairs, LadybirdBrowser/ladybird#6685.)
OPUS_SHIFT_FIXED = (6, 0)


def ffmpeg_for_file(binary, info, container: str) -> tuple[object, list[str]]:
    """``binary``, or the bundled FFmpeg when the one found on PATH would desync this file."""
    from chapterkit import muxer

    version = binary.version_tuple
    opus = any(stream.codec == "opus" for stream in info.streams)
    others = any(stream.codec != "opus" and stream.kind in ("video", "audio", "subtitle")
                 for stream in info.streams)
    if container != "matroska" or version is None or version >= OPUS_SHIFT_FIXED or not (opus and others):
        return binary, []
    harm = (f"FFmpeg {binary.version} moves video and subtitles about 7 ms against Opus audio when it remuxes "
            "Matroska (fixed in FFmpeg 6.0)")
    if binary.source == "path":
        bundled = muxer.find_bundled()
        if bundled is not None and (bundled.version_tuple is None or bundled.version_tuple >= OPUS_SHIFT_FIXED):
            return bundled, [f"used the bundled FFmpeg {bundled.version}: {harm}"]
    return binary, [f"{harm}; choose a newer FFmpeg with --ffmpeg to keep the file in sync"]


def remux_file(binary, source, temp, chapters, container, target, streams: StreamPlan, title,
               fsize_limit) -> tuple[object, list[str]]:
    """Write ``temp`` with FFmpeg; for MP4, check that players can find the chapter track.

    Apple players follow ``tref/chap`` only from an enabled track (QTFF "Chapter
    lists"), FFmpeg's demuxer from any track. FFmpeg 5.1's mov muxer has one reference
    slot per track, and a video track with a timecode gets ``tmcd`` there instead of
    ``chap`` (``movenc.c`` 5.1.9 ``mov_write_moov``; research containers.md 2.1);
    FFmpeg 9.0 writes both. An audio or subtitle track still carries ``chap``; without
    one, a MOV's chapter track is named only by the disabled timecode track (Apple
    players show nothing), and an MP4's by no track at all (Apple players show
    nothing, FFmpeg lists the track as a mov_text subtitle that the next embed would
    copy, and only chpl carries the chapters). When that FFmpeg was merely found on PATH, the bundled one writes the
    file again; a binary the user named is kept, with a warning or, for the MP4 case
    where the QuickTime track is lost, an error.
    """
    from chapterkit import muxer
    from chapterkit.errors import FFmpegError

    _write_with_ffmpeg(binary, source, temp, chapters, container, target, streams, title, fsize_limit)
    referrers = _chapter_track_referrers(temp) if container == "mp4" else [True]
    if any(referrers):
        return binary, []
    cause = (f"FFmpeg {binary.version} gave the video track's only track reference to its timecode track "
             "instead of the chapter track (FFmpeg 9 writes both)")
    bundled = muxer.find_bundled() if binary.source == "path" else None
    if bundled is not None and bundled.path != binary.path:
        _write_with_ffmpeg(bundled, source, temp, chapters, container, target, streams, title, fsize_limit)
        if any(_chapter_track_referrers(temp)):
            return bundled, [f"used the bundled FFmpeg {bundled.version}: {cause}"]
    if not referrers:
        raise FFmpegError(f"no track points at the chapter track, so Apple players would show no chapters and "
                          f"FFmpeg would list the track as a subtitle: {cause}; choose a newer FFmpeg with --ffmpeg",
                          path=source, verb="embedding chapters into")
    return binary, [f"only the disabled timecode track points at the chapter track, so Apple players will not "
                    f"show the chapters (FFmpeg, mpv and VLC do): {cause}; choose a newer FFmpeg with --ffmpeg"]


def _chapter_track_referrers(path: str) -> list[bool]:
    """For each track whose ``tref`` names a ``chap`` track: whether it is enabled (``tkhd`` flag 1)."""
    from chapterkit.containers.mp4boxes import BoxReader

    referrers = []
    with open(path, "rb") as handle:
        reader = BoxReader(handle, path)
        moov = next((box for box in reader.boxes() if box.name == "moov"), None)
        for trak in reader.find_all(moov, "trak") if moov else ():
            tkhd, tref = reader.find(trak, "tkhd"), reader.find(trak, "tref")
            if tkhd is not None and tref is not None and reader.track_references(tref).get("chap"):
                referrers.append(bool(reader.track_header(tkhd)[1] & 1))
    return referrers


def _write_with_ffmpeg(binary, source, temp, chapters, container, target, streams: StreamPlan, title,
                       fsize_limit) -> None:
    from chapterkit import muxer
    from chapterkit.formats import ffmetadata

    with tempfiles.scratch_folder() as scratch:
        meta = os.path.join(scratch, "chapters.ffmeta")
        with open(meta, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(ffmetadata.render(chapters.with_title(None)))
        attachments = []
        for number, stream in enumerate(streams.reattach):
            saved = os.path.join(scratch, f"attachment-{number}")
            muxer.run(muxer.build_extract_argv(binary.path, source, stream.index, saved),
                      path=source, verb="copying an attachment of", fsize_limit=fsize_limit)
            attachments.append((saved, dict(stream.tags)))
        argv = muxer.build_embed_argv(
            binary.path, source, meta, temp, output_format=muxer_for(target, container),
            drop_streams=streams.drop, movie_timescale=1000 if container == "mp4" else None,
            metadata={"title": title} if title is not None else None, attachments=attachments,
            attachments_before=streams.attachments_kept)
        muxer.run(argv, path=source, verb="embedding chapters into", fsize_limit=fsize_limit)


__all__ = ["OPUS_SHIFT_FIXED", "StreamPlan", "ffmpeg_for_file", "remux_file", "stream_plan"]
