"""Write a chapter list into a media file, prove it landed, and lose nothing on the way.

How each container gets its chapters (``containers.md`` in the project research):

- MP4 family (mp4, m4v, mov, m4a, m4b): FFmpeg stream copy, FFMETADATA as a second
  input and ``-map_chapters 1``. FFmpeg writes both the QuickTime chapter track and
  the Nero ``chpl`` atom. The old chapter track (demuxed as a ``bin_data`` data
  stream) is left out, or FFmpeg copies it as a stray track (and fails on MOV/M4A).
- Matroska/WebM: FFmpeg stream copy, one edition; attachments and subtitles kept
  (image attachments are attached again, or FFmpeg turns them into a video track).
- MP3: ID3v2.3 CHAP/CTOC frames written by mutagen on a copy. Never remuxed: every
  ``ffmpeg -c copy`` pass over an MP3 shifts chapters by the encoder delay.
- Ogg Vorbis/Opus, FLAC: ``CHAPTERnnn`` comments written by mutagen on a copy.
  FFmpeg writes none for Vorbis and FLAC, and rounds Opus starts by a second.

Two FFmpeg 5.1 faults are worked around by using the bundled FFmpeg when 5.1 was
merely found on PATH (and otherwise reported): Opus in Matroska loses sync on a
remux, and a MOV/MP4 of video and timecode loses its chapter-track reference.

Whatever the path, the result is written to a temporary file in the destination
folder, read back by every reader that applies (unless ``verify=False``), fsynced
and renamed into place. Any failure, Ctrl-C included, removes the temporary file and
leaves the input byte-identical.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, replace

from chapterkit import containers
from chapterkit import tempfiles
from chapterkit.errors import EXIT_ERROR, ChapterkitError, ChapterMismatchError, MediaError, UsageError
from chapterkit.model import NS_PER_MS, ChapterList, cut_utf8
from chapterkit.timecode import format_clock

#: FFmpeg muxer per output extension (``ffmpeg -h muxer=ipod``: m4a/m4b/m4v).
MUXERS = {".mp4": "mp4", ".m4v": "ipod", ".mov": "mov", ".m4a": "ipod", ".m4b": "ipod",
          ".mkv": "matroska", ".mka": "matroska", ".mk3d": "matroska", ".webm": "webm"}
#: chpl stores a u8 title length and a u8 count (movenc.c mov_write_chpl_tag).
CHPL_MAX_TITLE_BYTES = 255
CHPL_MAX_CHAPTERS = 255


@dataclass(frozen=True, slots=True)
class EmbedResult:
    """What ``embed`` did: where, how, the chapters written, and what to warn about."""

    source: str
    output: str
    container: str
    method: str                       # "in place", "clone", "copy" or "remux" (chapterkit.methods)
    chapters: ChapterList
    warnings: tuple[str, ...] = ()
    verified_by: tuple[str, ...] = ()

    def summary(self) -> str:
        how = f"verified by {', '.join(self.verified_by)}" if self.verified_by else "not verified"
        return f"{self.output}: {len(self.chapters)} chapters embedded ({self.container}, {self.method}; {how})"


def embed(media: str | os.PathLike[str], chapters: ChapterList, *, output: str | os.PathLike[str] | None = None,
          in_place: bool = False, title: str | None = None, verify: bool = True,
          ffmpeg: str | None = None, fsize_limit: int | None = None, method: str | None = None,
          keep_faststart: bool = False) -> EmbedResult:
    """Write ``chapters`` into a copy of ``media`` at ``output`` (or over it with ``in_place``).

    ``keep_faststart`` takes the remux path for an MP4 whose ``moov`` sits before its
    media data, which an in-place edit would move to the end. ``method`` forces one of ``methods.METHODS`` ("in place", "clone", "copy", "remux");
    by default the fastest safe one is chosen (:mod:`chapterkit.methods`) and an
    in-place edit the file's layout refuses falls back to the remux, with a warning.
    Raises :class:`ChapterMismatchError` (exit 1) for chapters at or past the media's
    end and for a read-back that does not match; :class:`MediaError`,
    :class:`UnsupportedContainerError` or :class:`FFmpegError` (exit 2) otherwise.
    ``fsize_limit`` caps the FFmpeg child's file size (RLIMIT_FSIZE), for disk-full tests.
    """
    from chapterkit import methods
    from chapterkit.inplace import CannotEditInPlace

    source = os.fspath(media)
    target = _target(source, output, in_place)
    container = containers.sniff(source)
    how = methods.choose(container, method, in_place=in_place, source=source, target=target)
    fallback: tuple[str, ...] = ()
    if how != methods.REMUX and container in ("mp4", "matroska"):
        try:
            return _embed_by_editing(source, target, container, chapters, how, in_place, title, verify, ffmpeg,
                                     keep_faststart)
        except CannotEditInPlace as exc:
            if method is not None:
                raise ChapterkitError(f"cannot edit in place: {exc.reason}", path=source,
                                      verb="embedding chapters into") from None
            fallback = (f"not edited in place ({exc.reason}); remuxed instead",)
        except ReadBackMismatch as exc:
            # The edit was rolled back (in place) or its copy removed: the input is as it was.
            # A layout the editor misjudged (e.g. a damaged chpl it kept) is FFmpeg's to rebuild.
            if method is not None:
                raise
            fallback = (f"the edited file did not read back as the list ({exc.reason}); remuxed instead",)
    result = _embed_by_rewriting(source, target, container, chapters, in_place, title, verify, ffmpeg, fsize_limit)
    return replace(result, warnings=fallback + result.warnings)


def _embed_by_editing(source: str, target: str, container: str, chapters: ChapterList, how: str,
                      in_place: bool, title: str | None, verify: bool, ffmpeg: str | None,
                      keep_faststart: bool = False) -> EmbedResult:
    """In place, or on a clone or copy edited in place and renamed into place once verified."""
    from chapterkit import methods

    from chapterkit.inplace import CannotEditInPlace

    if not in_place:
        wanted = _muxer_for(target, container)
        if wanted != MUXERS.get(os.path.splitext(source)[1].lower(), wanted):
            # .mp4 -> .m4a asks for FFmpeg's ipod muxer (brand, what it may hold): a copy keeps the input's.
            raise CannotEditInPlace("the output's extension asks for another brand of the container")
        if container == "matroska" and (os.path.splitext(target)[1].lower() == ".webm") != (
                _doc_type(source) == "webm"):
            raise CannotEditInPlace("the output's extension asks for the other of Matroska and WebM")
    planned, warnings = plan(chapters, container, _exact_duration(source, container, None), path=source)
    if title is not None:
        planned = planned.with_title(title)
    check = _checker(planned, container, ffmpeg, in_place) if verify else None
    if how == methods.IN_PLACE:
        verified_by, edited = methods.edit(target, container, planned, title=title, verify=check,
                                           keep_faststart=keep_faststart)
    else:
        temp = _temp_beside(target)
        try:
            methods.duplicate(source, temp, how)
            verified_by, edited = methods.edit(temp, container, planned, title=title, verify=check, locked=False,
                                               keep_faststart=keep_faststart)
            _finish(temp, target, keep_mode_of=source, keep_owner=in_place)
        except OSError as exc:
            _remove(temp)
            raise ChapterkitError(os_reason(exc), path=target, verb="writing") from None
        except BaseException as exc:
            _remove(temp)
            if isinstance(exc, ChapterkitError):
                _name_the_output(exc, temp, target)
            raise
    return EmbedResult(source, target, container, how, planned, tuple(warnings) + edited, verified_by)


class ReadBackMismatch(ChapterMismatchError):
    """An edited file's readers disagree with the list it was edited to hold."""


def os_reason(exc: OSError) -> str:
    """An OS error's reason as a user reads it; a full disk says so in words."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full (No space left on device)"
    return exc.strerror or str(exc)


def _doc_type(source: str) -> str:
    from chapterkit.containers.matroska import read_editions

    return read_editions(source).doc_type


def _checker(planned: ChapterList, container: str, ffmpeg: str | None, in_place: bool):
    """Verify with every reader; with no FFmpeg anywhere, with the container's own readers
    (an FFmpeg the user named that does not work is still an error)."""
    from chapterkit import muxer
    from chapterkit.verify import verify_file

    try:
        binary, readers = muxer.find_ffmpeg(ffmpeg), None
    except ChapterkitError:
        if ffmpeg is not None or os.environ.get("CHAPTERKIT_FFMPEG"):
            raise
        binary, readers = None, [r for r in containers.readers_for(container) if r != "libav"]
    undone = "the edit was rolled back, so the input was left untouched" if in_place else \
        "the input was left untouched"

    def check(path: str) -> tuple[str, ...]:
        report = verify_file(path, planned, readers=readers, tolerance_ns=NS_PER_MS, ffmpeg=binary)
        if not report.ok:
            raise ReadBackMismatch(f"chapters read back do not match: {report.headline()}; {undone}",
                                   path=path, verb="verifying")
        return tuple(reader.reader for reader in report.readers)
    return check


def _embed_by_rewriting(source: str, target: str, container: str, chapters: ChapterList, in_place: bool,
                        title: str | None, verify: bool, ffmpeg: str | None, fsize_limit: int | None) -> EmbedResult:
    """The remux (FFmpeg) or mutagen-copy path: a new file renamed over the target."""
    from chapterkit import muxer

    remux = container in ("mp4", "matroska")
    if remux:
        _muxer_for(target, container)  # refuse an output extension FFmpeg cannot write here
    binary = muxer.find_ffmpeg(ffmpeg)
    # FFmpeg's probe refuses truncated, stream-less and non-media input with its own reason
    # and lists the streams to copy; mutagen's containers are checked by their reader.
    info = muxer.probe(source, binary) if remux else None
    planned, warnings = plan(chapters, container, _exact_duration(source, container, info), path=source)
    if title is not None:
        planned = planned.with_title(title)

    if remux:
        binary, ffmpeg_warnings = _ffmpeg_for_file(binary, info, container)
        streams = _stream_plan(info, _muxer_for(target, container), source)
        warnings += ffmpeg_warnings + list(streams.warnings)

    temp = _temp_beside(target)
    tempfiles.sweep(os.path.dirname(os.path.abspath(target)))  # leftovers of killed runs
    tempfiles.sweep_scratch()
    try:
        if remux:
            method = "remux"
            binary, written = _remux(binary, source, temp, planned, container, target, streams, title, fsize_limit)
            warnings += written
        else:
            method = "copy"
            warnings += _write_with_mutagen(source, temp, planned, container, title)
        verified_by = _verify(temp, planned, container, binary) if verify else ()
        # The copy takes its input's mode (mkstemp made it 0600); the owner only in place.
        _finish(temp, target, keep_mode_of=source, keep_owner=in_place)
    except BaseException as exc:
        _remove(temp)
        if isinstance(exc, ChapterkitError):
            _name_the_output(exc, temp, target)
        raise
    return EmbedResult(source, target, container, method, planned, tuple(warnings), verified_by)


def _exact_duration(source: str, container: str, info) -> int | None:
    """The duration as the container stores it (FFmpeg's banner rounds it to 10 ms).

    Without a probe (``info`` None: MP3, Ogg, FLAC) the reader's error is the answer.
    """
    primary = containers.CONTAINER_READERS[container][0]
    try:
        duration = containers.reader_function(primary)(source).chapters.duration_ns
    except ChapterkitError:
        if info is None:
            raise
        duration = None
    return duration if duration is not None or info is None else info.duration_ns


def plan(chapters: ChapterList, container: str, duration_ns: int | None, *,
         path: str = "") -> tuple[ChapterList, list[str]]:
    """The list as it will be written to ``container``, and the warnings about it.

    Chapters at or past the duration are an error; the last chapter ends at the
    duration. MP4 titles are cut to 255 bytes on a UTF-8 boundary, since FFmpeg cuts
    the chpl title byte-wise and a split character makes mutagen refuse the file.
    """
    if not len(chapters):
        raise ChapterMismatchError("the chapter source holds no chapters", path=path)
    warnings: list[str] = []
    if duration_ns is not None:
        beyond = [f"{c.title!r} at {format_clock(c.start_ns)}" for c in chapters if c.start_ns >= duration_ns]
        if beyond:
            raise ChapterMismatchError(
                f"{len(beyond)} chapter(s) start at or past the media's end ({format_clock(duration_ns)}): "
                + "; ".join(beyond), path=path)
        chapters = _end_at(chapters, duration_ns)
    if container == "mp4":
        chapters, warnings = _fit_mp4(chapters)
    return chapters, warnings


def _end_at(chapters: ChapterList, duration_ns: int) -> ChapterList:
    items = list(chapters.without_ends()) if any(
        c.end_ns is not None and c.end_ns > duration_ns for c in chapters) else list(chapters)
    if items[-1].end_ns is None or items[-1].end_ns > duration_ns:
        items[-1] = replace(items[-1], end_ns=duration_ns)
    return ChapterList(tuple(items), chapters.title, duration_ns)


def _fit_mp4(chapters: ChapterList) -> tuple[ChapterList, list[str]]:
    warnings = []
    fitted = []
    for index, chapter in enumerate(chapters, 1):
        title = chapter.title
        if not title.strip():
            # An untitled chapter gets no QuickTime sample and shifts every later title (movenc.c).
            title = f"Chapter {index}"
            warnings.append(f"chapter {index} has no title; wrote {title!r} "
                            "(an empty title desynchronises MP4 readers)")
        cut = cut_utf8(title, CHPL_MAX_TITLE_BYTES)
        if cut != title:
            warnings.append(f"chapter {index} title cut to {CHPL_MAX_TITLE_BYTES} bytes (the MP4 chpl limit)")
        fitted.append(replace(chapter, title=cut))
    if len(chapters) > CHPL_MAX_CHAPTERS:
        warnings.append(f"{len(chapters)} chapters: chpl readers (VLC, mutagen) will see only the first "
                        f"{CHPL_MAX_CHAPTERS}; the QuickTime track keeps all")
    if chapters[0].start_ns > 0:
        warnings.append(f"the first chapter starts at {format_clock(chapters[0].start_ns)}: the QuickTime "
                        "chapter track cannot hold that, so Apple players and FFmpeg show it from 0:00")
    ends = [(i + 1, chapters[i].end_ns - chapters[i + 1].start_ns) for i in range(len(chapters) - 1)
            if chapters[i].end_ns is not None]
    gaps = [str(number) for number, past in ends if past < 0]
    overlaps = [str(number) for number, past in ends if past > 0]
    if gaps:
        warnings.append(f"chapter(s) {', '.join(gaps)} end before the next starts: the QuickTime "
                        "chapter track cannot hold gaps, so each runs to the next chapter there")
    if overlaps:
        warnings.append(f"chapter(s) {', '.join(overlaps)} end after the next starts: the QuickTime "
                        "chapter track cannot hold overlaps, so each ends where the next starts there")
    return chapters.replace_chapters(fitted), warnings


def _target(source: str, output: str | os.PathLike[str] | None, in_place: bool) -> str:
    if in_place:
        if output is not None and not _same_file(source, os.fspath(output)):
            raise UsageError("--in-place writes over the input; do not give -o as well")
        return os.path.realpath(source)  # through a symlink: replace the file, not the link
    if output is None:
        raise UsageError("give an output path (-o) or --in-place")
    target = os.fspath(output)
    if _same_file(source, target):
        raise UsageError(f"the output {target} is the input file (same path, link or inode); "
                         "use --in-place to replace the input")
    if os.path.isdir(target):
        raise UsageError(f"the output {target} is a folder")
    return target


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        first, second = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _muxer_for(target: str, container: str) -> str:
    extension = os.path.splitext(target)[1].lower()
    muxer_name = MUXERS.get(extension)
    wanted = containers.CONTAINER_EXTENSIONS[container]
    if muxer_name is None or extension not in wanted:
        raise UsageError(f"output {target} must keep the input's container ({', '.join(wanted)})")
    return muxer_name


def _temp_beside(target: str) -> str:
    folder = os.path.dirname(os.path.abspath(target))
    try:
        return tempfiles.create_beside(target)
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=folder, verb="creating a temporary file in") from None


def _name_the_output(exc: ChapterkitError, temp: str, target: str) -> None:
    """Errors name the output being written, never the temporary file, which is gone by now."""
    if exc.path == temp:
        exc.path = target
    if temp in exc.reason:
        exc.reason = exc.reason.replace(temp, target)


@dataclass(frozen=True, slots=True)
class _StreamPlan:
    """How the remux treats the input's streams beyond ``-map 0``."""

    drop: tuple[int, ...]           # input stream indexes left out (-map -0:N)
    reattach: tuple[object, ...]    # muxer.StreamInfo of Matroska image attachments to attach again
    attachments_kept: int           # attachment streams -map 0 copies (the re-attached ones follow)
    warnings: tuple[str, ...]


def _stream_plan(info, output_format: str, source: str) -> _StreamPlan:
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
    return _StreamPlan(tuple(drop), tuple(reattach), kept, tuple(warnings))


#: FFmpeg up to libavformat 59.30 (so 5.1; 6.0 ships 60.3) shifts every Matroska block
#: of every track by the Opus pre-skip (6.5 ms) on writing, as if negative timestamps
#: were not allowed, while the demuxer takes the Opus CodecDelay off again: a remux
#: moves video and subtitles about 7 ms later against the Opus audio, once more on every
#: pass. Measured on a WebM: 5.1.9 moves the first video frame from 7 to 14 ms (with or
#: without -copyts or -avoid_negative_ts), 9.0.2 keeps 7 ms. (The versions are those the
#: Ladybird browser names for files it repairs, LadybirdBrowser/ladybird#6685.)
_OPUS_SHIFT_FIXED = (6, 0)


def _ffmpeg_for_file(binary, info, container: str) -> tuple[object, list[str]]:
    """``binary``, or the bundled FFmpeg when the one found on PATH would desync this file."""
    from chapterkit import muxer

    version = binary.version_tuple
    opus = any(stream.codec == "opus" for stream in info.streams)
    others = any(stream.codec != "opus" and stream.kind in ("video", "audio", "subtitle")
                 for stream in info.streams)
    if container != "matroska" or version is None or version >= _OPUS_SHIFT_FIXED or not (opus and others):
        return binary, []
    harm = (f"FFmpeg {binary.version} moves video and subtitles about 7 ms against Opus audio when it remuxes "
            "Matroska (fixed in FFmpeg 6.0)")
    if binary.source == "path":
        bundled = muxer.find_bundled()
        if bundled is not None and (bundled.version_tuple is None or bundled.version_tuple >= _OPUS_SHIFT_FIXED):
            return bundled, [f"used the bundled FFmpeg {bundled.version}: {harm}"]
    return binary, [f"{harm}; choose a newer FFmpeg with --ffmpeg to keep the file in sync"]


def _remux(binary, source, temp, chapters, container, target, streams: _StreamPlan, title,
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


def _write_with_ffmpeg(binary, source, temp, chapters, container, target, streams: _StreamPlan, title,
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
            binary.path, source, meta, temp, output_format=_muxer_for(target, container),
            drop_streams=streams.drop, movie_timescale=1000 if container == "mp4" else None,
            metadata={"title": title} if title is not None else None, attachments=attachments,
            attachments_before=streams.attachments_kept)
        muxer.run(argv, path=source, verb="embedding chapters into", fsize_limit=fsize_limit)


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


def _finish(temp: str, target: str, keep_mode_of: str | None, keep_owner: bool = True) -> None:
    try:
        # fsync through a read-only descriptor (enough on POSIX), before the mode is copied:
        # a read-only input's mode would make a read-write open of the copy fail.
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        if keep_mode_of is not None:
            shutil.copymode(keep_mode_of, temp)
            if keep_owner:
                _keep_owner(keep_mode_of, temp)
        os.replace(temp, target)
        _fsync_folder(os.path.dirname(os.path.abspath(target)))
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=target, verb="writing") from None


def _keep_owner(original: str, temp: str) -> None:
    """Give the replacement the original's owner and group where we may (root, or same user)."""
    info = os.stat(original)
    try:
        os.chown(temp, info.st_uid, info.st_gid)
    except OSError:
        pass  # not permitted: the file becomes ours, as with any editor's save


def _fsync_folder(folder: str) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def doctor_report(ffmpeg: str | None = None) -> str:
    """Which FFmpeg is used, its version, and what each container will use."""
    from chapterkit import muxer

    lines = []
    try:
        binary = muxer.find_ffmpeg(ffmpeg)
        lines.append(f"ffmpeg: {binary.path}")
        lines.append(f"  found via: {binary.source}")
        lines.append(f"  version: {binary.version}")
        version = binary.version_tuple
        fallback = "; the bundled FFmpeg writes those files" if binary.source == "path" else ""
        if version is not None and version < _OPUS_SHIFT_FIXED:
            lines.append("  note: it moves video ~7 ms against Opus audio when remuxing Matroska (fixed in 6.0)"
                         + (fallback or "; such files get a warning"))
        if version is not None and version < (9, 0):
            lines.append("  note: a MOV/MP4 of video and timecode only can lose its chapter-track reference "
                         "(5.1 does, 9.0 does not); every file written is checked" + fallback)
    except ChapterkitError as exc:
        lines.append(f"ffmpeg: not usable: {exc}")
    lines.append("containers:")
    lines.append("  mp4, m4v, mov, m4a, m4b: FFmpeg stream copy (QuickTime chapter track + Nero chpl); "
                 "verified by quicktime, nero, libav")
    lines.append("  mkv, mka, webm: FFmpeg stream copy (one edition); verified by matroska, libav")
    lines.append("  mp3: mutagen, ID3v2.3 CHAP/CTOC in place on a copy; verified by id3, libav")
    lines.append("  ogg, opus, flac: mutagen, CHAPTERnnn comments on a copy; verified by vorbis, libav")
    lines.append(f"  anything else: refused (chapters need {containers.SUPPORTED})")
    from chapterkit.methods import doctor_lines

    lines += doctor_lines()
    return "\n".join(lines)


__all__ = ["EmbedResult", "cut_utf8", "doctor_report", "embed", "plan"]
