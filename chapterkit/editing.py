"""The editing path of ``embed``: in place, or on a clone or copy edited in place.

MP4 and Matroska files can take new chapters without a remux (:mod:`chapterkit.methods`
plans and applies the edit). This module wraps that in what ``embed`` promises: the
output's extension must ask for the input's own brand, the list is fitted first
(:func:`chapterkit.embedplan.plan`), every reader checks the result before it counts
(:class:`ReadBackMismatch` when they disagree, after the edit was rolled back or its
copy removed), and a clone or copy is renamed over the target only once verified.
``embed`` catches :class:`~chapterkit.inplace.CannotEditInPlace` and
:class:`ReadBackMismatch` from here to fall back to the remux.
"""

from __future__ import annotations

import os

from chapterkit import containers
from chapterkit.embedplan import exact_duration, plan
from chapterkit.errors import ChapterkitError, ChapterMismatchError
from chapterkit.model import NS_PER_MS, ChapterList
from chapterkit.outputs import MUXERS, finish, muxer_for, name_the_output, os_reason, remove, temp_beside


def embed_by_editing(source: str, target: str, container: str, chapters: ChapterList, how: str,
                     in_place: bool, title: str | None, verify: bool, ffmpeg: str | None,
                     keep_faststart: bool = False) -> tuple[str, ChapterList, tuple[str, ...], tuple[str, ...]]:
    """In place, or on a clone or copy edited in place and renamed into place once verified.

    Returns the method, the chapters written, the warnings and the readers that verified.
    """
    from chapterkit import methods

    from chapterkit.inplace import CannotEditInPlace

    if not in_place:
        wanted = muxer_for(target, container)
        if wanted != MUXERS.get(os.path.splitext(source)[1].lower(), wanted):
            # .mp4 -> .m4a asks for FFmpeg's ipod muxer (brand, what it may hold): a copy keeps the input's.
            raise CannotEditInPlace("the output's extension asks for another brand of the container")
        if container == "matroska" and (os.path.splitext(target)[1].lower() == ".webm") != (
                _doc_type(source) == "webm"):
            raise CannotEditInPlace("the output's extension asks for the other of Matroska and WebM")
    planned, warnings = plan(chapters, container, exact_duration(source, container, None), path=source)
    if title is not None:
        planned = planned.with_title(title)
    check = _checker(planned, container, ffmpeg, in_place) if verify else None
    if how == methods.IN_PLACE:
        verified_by, edited = methods.edit(target, container, planned, title=title, verify=check,
                                           keep_faststart=keep_faststart)
    else:
        temp = temp_beside(target)
        try:
            methods.duplicate(source, temp, how)
            verified_by, edited = methods.edit(temp, container, planned, title=title, verify=check, locked=False,
                                               keep_faststart=keep_faststart)
            finish(temp, target, keep_mode_of=source, keep_owner=in_place)
        except OSError as exc:
            remove(temp)
            raise ChapterkitError(os_reason(exc), path=target, verb="writing") from None
        except BaseException as exc:
            remove(temp)
            if isinstance(exc, ChapterkitError):
                name_the_output(exc, temp, target)
            raise
    return how, planned, tuple(warnings) + edited, verified_by


class ReadBackMismatch(ChapterMismatchError):
    """An edited file's readers disagree with the list it was edited to hold."""


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


__all__ = ["ReadBackMismatch", "embed_by_editing"]
