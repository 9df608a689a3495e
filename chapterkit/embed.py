"""Write a chapter list into a media file, prove it landed, and lose nothing on the way.

How each container gets its chapters (``containers.md`` in the project research):

- MP4 family and Matroska/WebM: edited in place by the project's own writers
  (:mod:`chapterkit.containers.mp4edit`, :mod:`chapterkit.containers.mkvedit`) where
  the layout allows a crash-safe edit, on the file itself (``--in-place``) or on a
  clone or in-kernel copy (``-o``); see :mod:`chapterkit.methods` for the choice.
  Otherwise (fragmented MP4, a layout the editor refuses, ``--title`` on Matroska,
  another MP4 brand asked for by the output's extension, an edit that did not read
  back) an FFmpeg remux: stream copy with FFMETADATA as a second input and
  ``-map_chapters 1``, which writes the QuickTime chapter track and ``chpl`` (the old
  chapter track is left out, or FFmpeg copies it as a stray track), or one Matroska
  edition with attachments and subtitles kept.
- MP3: ID3v2.3 CHAP/CTOC frames written by mutagen on a copy. Never remuxed: every
  ``ffmpeg -c copy`` pass over an MP3 shifts chapters by the encoder delay.
- Ogg Vorbis/Opus, FLAC: ``CHAPTERnnn`` comments written by mutagen on a copy.
  FFmpeg writes none for Vorbis and FLAC, and rounds Opus starts by a second.

Two FFmpeg 5.1 faults are worked around by using the bundled FFmpeg when 5.1 was
merely found on PATH (and otherwise reported): Opus in Matroska loses sync on a
remux, and a MOV/MP4 of video and timecode loses its chapter-track reference.

A new file is written to a temporary file in the destination folder, read back by
every reader that applies (unless ``verify=False``), fsynced and renamed into place;
any failure, Ctrl-C included, removes the temporary file and leaves the input
byte-identical. An in-place edit is ordered so a crash leaves the old or the new
chapters, and rolled back when the readers disagree (:mod:`chapterkit.inplace`).

This module is the public face (``embed``, ``EmbedResult``, ``plan``,
``doctor_report``); the work is split by concern so each part stays small:
:mod:`chapterkit.embedplan` fits the list to the container,
:mod:`chapterkit.editing` edits in place or on a clone/copy
(:mod:`chapterkit.methods`), :mod:`chapterkit.rewrite` writes a new file by the
remux (:mod:`chapterkit.remux`: FFmpeg stream plan and FFmpeg choice) or a mutagen
copy, and :mod:`chapterkit.outputs` holds the output checks and the temporary file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from chapterkit import containers
# CHPL_MAX_*, MUXERS, ReadBackMismatch and os_reason are imported for callers of the
# embed.py that defined them before the split.
from chapterkit.editing import ReadBackMismatch, embed_by_editing
from chapterkit.embedplan import CHPL_MAX_CHAPTERS, CHPL_MAX_TITLE_BYTES, plan
from chapterkit.errors import ChapterkitError
from chapterkit.model import ChapterList, cut_utf8
from chapterkit.outputs import MUXERS, os_reason, resolve_target
from chapterkit.rewrite import embed_by_rewriting


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
    target = resolve_target(source, output, in_place)
    container = containers.sniff(source)
    how = methods.choose(container, method, in_place=in_place, source=source, target=target)
    fallback: tuple[str, ...] = ()
    if how != methods.REMUX and container in ("mp4", "matroska"):
        try:
            return EmbedResult(source, target, container,
                               *embed_by_editing(source, target, container, chapters, how, in_place, title,
                                                 verify, ffmpeg, keep_faststart))
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
    method_used, planned, warnings, verified_by = embed_by_rewriting(
        source, target, container, chapters, in_place, title, verify, ffmpeg, fsize_limit)
    return EmbedResult(source, target, container, method_used, planned, fallback + warnings, verified_by)


def doctor_report(ffmpeg: str | None = None) -> str:
    """Which FFmpeg is used, its version, and what each container will use."""
    from chapterkit import muxer
    from chapterkit.remux import OPUS_SHIFT_FIXED

    lines = []
    try:
        binary = muxer.find_ffmpeg(ffmpeg)
        lines.append(f"ffmpeg: {binary.path}")
        lines.append(f"  found via: {binary.source}")
        lines.append(f"  version: {binary.version}")
        version = binary.version_tuple
        fallback = "; the bundled FFmpeg writes those files" if binary.source == "path" else ""
        if version is not None and version < OPUS_SHIFT_FIXED:
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
