"""Write a chapter list into a media file, prove it landed, and lose nothing on the way.

How each container gets its chapters (``containers.md`` in the project research):

- MP4 family (mp4, m4v, mov, m4a, m4b): FFmpeg stream copy, FFMETADATA as a second
  input and ``-map_chapters 1``. FFmpeg writes both the QuickTime chapter track and
  the Nero ``chpl`` atom. The old chapter track (demuxed as a ``bin_data`` data
  stream) is left out, or FFmpeg copies it as a stray track (and fails on MOV/M4A).
- Matroska/WebM: FFmpeg stream copy, one edition; attachments and subtitles kept.
- MP3: ID3v2.3 CHAP/CTOC frames written by mutagen on a copy. Never remuxed: every
  ``ffmpeg -c copy`` pass over an MP3 shifts chapters by the encoder delay.
- Ogg Vorbis/Opus, FLAC: ``CHAPTERnnn`` comments written by mutagen on a copy.
  FFmpeg writes none for Vorbis and FLAC, and rounds Opus starts by a second.

Whatever the path, the result is written to a temporary file in the destination
folder, read back by every reader that applies (unless ``verify=False``), fsynced
and renamed into place. Any failure, Ctrl-C included, removes the temporary file and
leaves the input byte-identical.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace

from chapterkit import containers
from chapterkit.errors import ChapterkitError, ChapterMismatchError, UsageError
from chapterkit.model import NS_PER_MS, ChapterList
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
    method: str                       # "ffmpeg" or "mutagen"
    chapters: ChapterList
    warnings: tuple[str, ...] = ()
    verified_by: tuple[str, ...] = ()

    def summary(self) -> str:
        how = f"verified by {', '.join(self.verified_by)}" if self.verified_by else "not verified"
        return f"{self.output}: {len(self.chapters)} chapters embedded ({self.container}, {self.method}; {how})"


def embed(media: str | os.PathLike[str], chapters: ChapterList, *, output: str | os.PathLike[str] | None = None,
          in_place: bool = False, title: str | None = None, verify: bool = True,
          ffmpeg: str | None = None, fsize_limit: int | None = None) -> EmbedResult:
    """Write ``chapters`` into a copy of ``media`` at ``output`` (or over it with ``in_place``).

    Raises :class:`ChapterMismatchError` (exit 1) for chapters at or past the media's
    end and for a read-back that does not match; :class:`MediaError`,
    :class:`UnsupportedContainerError` or :class:`FFmpegError` (exit 2) otherwise.
    ``fsize_limit`` caps the FFmpeg child's file size (RLIMIT_FSIZE), for disk-full tests.
    """
    from chapterkit import muxer

    source = os.fspath(media)
    target = _target(source, output, in_place)
    container = containers.sniff(source)
    if container == "mp4" or container == "matroska":
        _muxer_for(target, container)  # refuse an output extension FFmpeg cannot write here
    binary = muxer.find_ffmpeg(ffmpeg)
    remux = container in ("mp4", "matroska")
    # FFmpeg's probe refuses truncated, stream-less and non-media input with its own reason
    # and lists the streams to copy; mutagen's containers are checked by their reader.
    info = muxer.probe(source, binary) if remux else None
    planned, warnings = plan(chapters, container, _exact_duration(source, container, info), path=source)
    if title is not None:
        planned = planned.with_title(title)

    temp = _temp_beside(target)
    try:
        if remux:
            method = "ffmpeg"
            _write_with_ffmpeg(binary, source, temp, planned, container, target, info, title, fsize_limit)
        else:
            method = "mutagen"
            warnings += _write_with_mutagen(source, temp, planned, container, title)
        verified_by = _verify(temp, planned, container, binary) if verify else ()
        _finish(temp, target, keep_mode_of=source if in_place else None)
    except BaseException:
        _remove(temp)
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
            warnings.append(f"chapter {index} has no title; wrote {title!r} (an empty title desynchronises MP4 readers)")
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
    gaps = [i + 1 for i in range(len(chapters) - 1)
            if chapters[i].end_ns is not None and chapters[i].end_ns != chapters[i + 1].start_ns]
    if gaps:
        warnings.append(f"chapter(s) {', '.join(map(str, gaps))} end before the next starts: the QuickTime "
                        "chapter track cannot hold gaps, so each runs to the next chapter there")
    return chapters.replace_chapters(fitted), warnings


def cut_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


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
    suffix = os.path.splitext(target)[1]
    try:
        handle, temp = tempfile.mkstemp(prefix=".chapterkit-", suffix=suffix, dir=folder)
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=folder, verb="creating a temporary file in") from None
    os.close(handle)
    return temp


def _write_with_ffmpeg(binary, source, temp, chapters, container, target, info, title, fsize_limit) -> None:
    from chapterkit import muxer
    from chapterkit.formats import ffmetadata

    drop = [stream.index for stream in info.streams if stream.is_chapter_track]
    with tempfile.TemporaryDirectory(prefix="chapterkit-") as scratch:
        meta = os.path.join(scratch, "chapters.ffmeta")
        with open(meta, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(ffmetadata.render(chapters.with_title(None)))
        argv = muxer.build_embed_argv(
            binary.path, source, meta, temp, output_format=_muxer_for(target, container),
            drop_streams=drop, movie_timescale=1000 if container == "mp4" else None,
            metadata={"title": title} if title is not None else None)
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
        raise ChapterMismatchError(f"chapters read back do not match: {report.headline()}; "
                                   "the input was left untouched", path=temp, verb="verifying")
    return tuple(reader.reader for reader in report.readers)


def _finish(temp: str, target: str, keep_mode_of: str | None) -> None:
    try:
        if keep_mode_of is not None:
            shutil.copymode(keep_mode_of, temp)
            _keep_owner(keep_mode_of, temp)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
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
    except ChapterkitError as exc:
        lines.append(f"ffmpeg: not usable: {exc}")
    lines.append("containers:")
    lines.append("  mp4, m4v, mov, m4a, m4b: FFmpeg stream copy (QuickTime chapter track + Nero chpl); "
                 "verified by quicktime, nero, libav")
    lines.append("  mkv, mka, webm: FFmpeg stream copy (one edition); verified by matroska, libav")
    lines.append("  mp3: mutagen, ID3v2.3 CHAP/CTOC in place on a copy; verified by id3, libav")
    lines.append("  ogg, opus, flac: mutagen, CHAPTERnnn comments on a copy; verified by vorbis, libav")
    lines.append(f"  anything else: refused (chapters need {containers.SUPPORTED})")
    return "\n".join(lines)


__all__ = ["EmbedResult", "cut_utf8", "doctor_report", "embed", "plan"]
