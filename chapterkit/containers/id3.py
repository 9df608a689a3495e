"""MP3 chapters: ID3v2 ``CHAP`` frames, ordered by ``CTOC`` frames, through mutagen.

The ID3v2 Chapter Frame Addendum 1.0 (mutagen-specs.readthedocs.io, "id3v2-chapters-1.0")
defines two frames. ``CHAP`` holds one chapter: an element id, start and end in
milliseconds (unsigned 32-bit), byte offsets (0xFFFFFFFF when unused) and
sub-frames such as ``TIT2`` for the title. ``CTOC`` is a table of contents: an
element id, flags (top-level, ordered) and a one-byte count of child element
ids, which may name ``CHAP`` frames or further ``CTOC`` frames.

Readers disagree on which of the two is authoritative, and this module is written
around that:

* mutagen (and Apple-style podcast players) follow the ``CTOC``;
* FFmpeg's ``ff_id3v2_parse_chapters`` ignores ``CTOC`` and lists every ``CHAP``
  in **file order** without sorting (ffprobe, Kodi, Jellyfin); mpv sorts them.

So :func:`write_id3` writes one top-level ordered ``CTOC`` *and* stores the ``CHAP``
frames in chapter order, which mutagen alone does not do (it sorts frames by size,
see :func:`_ordered_id3`). It writes ID3v2.3 because in v2.4 FFmpeg reads the
plain 32-bit ``CHAP`` size as if the ``TIT2`` inside were sized the same way and
drops chapters whose ``TIT2`` is 128 bytes or longer (research pitfall 9).

Reading (table-of-contents order, duration, truncation) lives in
:mod:`chapterkit.containers.id3read` and is re-exported here; this module is
the writing side and its mutagen boundary.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from chapterkit.containers._mutagen import (check_not_empty, clean_title, converted_errors, copy_rest,
                                            ns_to_ms)
# Re-exported: the READERS registry ("id3", "read_id3") and callers import these from here.
from chapterkit.containers.id3read import (  # noqa: F401
    MAX_TOC_DEPTH, READER, _check_whole, _chapter, _duration_ns, _read, _text, _toc_order, read_id3,
)
from chapterkit.errors import ChapterMismatchError, MediaError
from chapterkit.model import NS_PER_MS, Chapter, ChapterList

#: ``CHAP`` times are unsigned 32-bit milliseconds: about 49.7 days.
MAX_TIME_MS = 0xFFFFFFFF
#: A ``CTOC`` counts its children in one byte; more need nested tables.
MAX_CTOC_CHILDREN = 255
#: "The byte offset ... or 0xFFFFFFFF if unused" (addendum, section 3.1).
NO_OFFSET = 0xFFFFFFFF
TOC_ID = "toc"

#: ID3v2.4-only frames kept as they are when the tag is saved as v2.3. mutagen's
#: ``update_to_v23`` would delete them; iTunes and others write the sort-order and
#: similar text frames into v2.3 tags too, so keeping them loses nothing. (mutagen
#: converts TDRC, TDOR, TIPL and TMCL itself; ASPI, SEEK and SIGN describe the old
#: byte layout and are stale after any rewrite, so they go.)
_KEEP_V24_FRAMES = ("EQU2", "RVA2", "TDEN", "TDRL", "TDTG", "TMOO", "TPRO",
                    "TSOA", "TSOP", "TSOT", "TSST")

_NUL_REASON = "ID3 uses NUL to separate values"


def write_id3(path: str, chapters: ChapterList) -> list[str]:
    """Replace every chapter in the MP3 at ``path`` with ``chapters``, in place.

    Writes a ``CTOC`` ``toc`` (top-level, ordered) listing ``ch0..chN-1``, one
    ``CHAP`` per chapter with start and end in ms and a ``TIT2``, and saves the tag
    as ID3v2.3. Every other frame (text, cover art, ...) is kept. A chapter without
    an end ends at the next start, the last one at the audio's end. Returns
    warnings about what the format or its readers will lose.
    """
    from mutagen.id3 import CHAP, CTOC, TIT2, CTOCFlags, Encoding

    name = os.fspath(path)
    audio = _load(name, verb="writing chapters into", ordered=True)
    warnings: list[str] = []
    duration_ns = _duration_ns(audio.info, name, [])
    plan = _plan(chapters, duration_ns, warnings, name)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    tags.delall("CTOC")
    tags.delall("CHAP")
    _update_to_v23(tags)

    ids = [f"ch{index}" for index in range(len(plan))]
    ordered = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    if len(ids) <= MAX_CTOC_CHILDREN:
        tags.add(CTOC(element_id=TOC_ID, flags=ordered, child_element_ids=ids, sub_frames=[]))
    else:
        groups = [ids[i:i + MAX_CTOC_CHILDREN] for i in range(0, len(ids), MAX_CTOC_CHILDREN)]
        if len(groups) > MAX_CTOC_CHILDREN:
            raise ChapterMismatchError(
                f"{len(ids)} chapters are more than an ID3 table of contents can list "
                f"({MAX_CTOC_CHILDREN ** 2})", path=name, verb="writing chapters into")
        parts = [f"{TOC_ID}{index}" for index in range(len(groups))]
        tags.add(CTOC(element_id=TOC_ID, flags=ordered, child_element_ids=parts, sub_frames=[]))
        for part, group in zip(parts, groups):
            tags.add(CTOC(element_id=part, flags=CTOCFlags.ORDERED, child_element_ids=group,
                          sub_frames=[]))
        warnings.append(f"{len(ids)} chapters: a CTOC lists at most {MAX_CTOC_CHILDREN}, so the "
                        f"table of contents is split into {len(groups)} nested CTOC frames; "
                        "players that read only the top-level table may not show them")
    for element_id, (start_ms, end_ms, title) in zip(ids, plan):
        # ASCII as Latin-1 keeps short titles short; anything else as UTF-16 with a
        # BOM, the only Unicode encoding ID3v2.3 has (UTF-8 is v2.4 only).
        encoding = Encoding.LATIN1 if title.isascii() else Encoding.UTF16
        sub_frames = [TIT2(encoding=encoding, text=[title])] if title else []
        tags.add(CHAP(element_id=element_id, start_time=start_ms, end_time=end_ms,
                      start_offset=NO_OFFSET, end_offset=NO_OFFSET, sub_frames=sub_frames))
    _save(tags, name, verb="writing chapters into")
    return warnings


def write_title(path: str, title: str) -> None:
    """Set the MP3's own title (``TIT2``), keeping its chapters in order; ``""`` removes it."""
    from mutagen.id3 import TIT2, Encoding

    name = os.fspath(path)
    audio = _load(name, verb="writing the title into", ordered=True)
    if audio.tags is None:
        audio.add_tags()
    audio.tags.delall("TIT2")
    title = clean_title(title, "the title", [], _NUL_REASON)
    if title:
        encoding = Encoding.LATIN1 if title.isascii() else Encoding.UTF16
        audio.tags.add(TIT2(encoding=encoding, text=[title]))
    _update_to_v23(audio.tags)
    _save(audio.tags, name, verb="writing the title into")


def copy_with_room(source: str, target: str, chapters: ChapterList) -> None:
    """Copy the MP3 ``source`` to ``target``, with room in its ID3v2 tag for ``chapters``.

    mutagen rewrites a tag in place when the new one fits the old tag plus its
    padding, and otherwise inserts bytes, moving all the audio after it (an FFmpeg
    MP3 starts with a 34-byte tag and no padding). Growing the padding during the
    copy we make anyway keeps the chapter write that follows to the tag region:
    one copy of the file in all. The padding is zeros (ID3v2.3 section 3.3, v2.4
    section 3.3); a v2.4 tag with a footer may not have padding, so it is copied
    as it is.
    """
    room = 4096 + sum(64 + len(chapter.title.encode("utf-16")) for chapter in chapters)
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            head = src.read(10)
            tag_size = _tag_size(head)
            # Grow the file by whole 4 KiB pages: copy_file_range is ~40% slower when the
            # destination offset is not page-aligned with the source's (Linux 6.18, ext4).
            if tag_size is None:  # no tag, or one we leave alone: a tag of padding only goes first
                room += (-(10 + room)) % 4096
                dst.write(b"ID3\x03\x00\x00" + _synchsafe(room) + bytes(room))
                src.seek(0)
            else:
                room += (-room) % 4096
                body = src.read(tag_size)
                dst.write(head[:6] + _synchsafe(tag_size + room) + body + bytes(room))
            copy_rest(src, dst)
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=target, verb="copying the input to") from None


def _tag_size(head: bytes) -> int | None:
    """The size field of an ID3v2.3/2.4 header without a footer, or None."""
    if len(head) < 10 or head[:3] != b"ID3" or head[3] not in (3, 4) or head[5] & 0x10:
        return None
    if any(byte & 0x80 for byte in head[6:10]):
        return None  # not synchsafe: not a tag we understand
    return (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]


def _synchsafe(value: int) -> bytes:
    return bytes(((value >> 21) & 0x7F, (value >> 14) & 0x7F, (value >> 7) & 0x7F, value & 0x7F))


# -- writing ---------------------------------------------------------------------------------


def _plan(chapters: Sequence[Chapter], duration_ns: int | None, warnings: list[str],
          name: str) -> list[tuple[int, int, str]]:
    """``(start_ms, end_ms, title)`` per chapter, with what rounding and filling cost."""
    plan = []
    rounded = 0
    starts = [chapter.start_ns for chapter in chapters]
    if starts != sorted(starts):
        warnings.append("chapters are not in start order; FFmpeg-based readers list them as "
                        "written, mpv sorts them")
    for index, chapter in enumerate(chapters):
        end_ns = chapter.end_ns
        if end_ns is None:
            following = chapters[index + 1].start_ns if index + 1 < len(chapters) else duration_ns
            end_ns = following if following is not None and following >= chapter.start_ns \
                else chapter.start_ns
        start_ms, end_ms = ns_to_ms(chapter.start_ns), ns_to_ms(end_ns)
        # The media's own length (the last end, filled from the audio) is no time the user
        # gave: rounding it is no news, so whole-second lists stay silent.
        rounded += (start_ms * NS_PER_MS != chapter.start_ns) + (end_ms * NS_PER_MS != end_ns
                                                                   and end_ns != duration_ns)
        if end_ms > MAX_TIME_MS:
            raise ChapterMismatchError(
                f"chapter {index + 1} ends at {end_ms} ms, beyond the 32-bit ms of ID3 CHAP "
                "(49.7 days)", path=name, verb="writing chapters into")
        title = clean_title(chapter.title, f"chapter {index + 1}", warnings, _NUL_REASON)
        if not title:
            warnings.append(f"chapter {index + 1} has no title; FFmpeg-based readers show its "
                            f"element id 'ch{index}'")
        plan.append((start_ms, end_ms, title))
    if rounded:
        warnings.append(f"{rounded} chapter time(s) rounded to whole milliseconds "
                        "(ID3 CHAP stores ms)")
    return plan


def _update_to_v23(tags) -> None:
    """mutagen's v2.3 conversion (dates to TYER/TDAT/TIME), keeping v2.4-only text frames."""
    kept = [frame for frame_id in _KEEP_V24_FRAMES for frame in tags.getall(frame_id)]
    tags.update_to_v23()
    for frame in kept:
        tags.add(frame)


def _save(tags, name: str, verb: str) -> None:
    with converted_errors(name, verb):
        tags.save(name, v2_version=3)


# -- loading ---------------------------------------------------------------------------------


def _load(name: str, *, verb: str, ordered: bool = False):
    """``mutagen.mp3.MP3`` for ``name``, or a one-line :class:`MediaError`."""
    from mutagen.mp3 import MP3

    check_not_empty(name, verb)
    with converted_errors(name, verb, "not a readable MP3 file"):
        return MP3(name, ID3=_ordered_id3()) if ordered else MP3(name)


@functools.cache
def _ordered_id3():
    """An ``ID3`` that writes ``CTOC`` and ``CHAP`` frames last, in the order they were added.

    mutagen's ``ID3Tags._write`` sorts frames by importance, then by *size*, then by
    hash key, so chapters land in an order unrelated to time. FFmpeg lists ``CHAP``
    frames in file order (measured: three chapters written by mutagen read back by
    ffprobe 5.1 as 1 s, 2 s, 0 s). This subclass lets mutagen write every other frame
    as usual and then appends the chapter frames itself, ``CTOC`` first as FFmpeg's
    own muxer does. It relies on two private mutagen names (``_write`` and
    ``mutagen.id3._tags.save_frame``, stable since 1.22); the tests read the order
    back through ffprobe so a change there fails loudly.
    """
    from mutagen.id3 import ID3
    from mutagen.id3._tags import save_frame

    class OrderedID3(ID3):
        __module__ = __name__

        def _write(self, config):
            keys = [key for key in self if key.startswith(("CTOC:", "CHAP:"))]
            frames = [self.pop(key) for key in keys]
            try:
                data = super()._write(config)
            finally:
                for frame in frames:
                    self.add(frame)
            frames.sort(key=lambda frame: frame.FrameID != "CTOC")  # stable: CTOCs, then CHAPs
            return data + b"".join(save_frame(frame, config=config) for frame in frames)

    return OrderedID3


__all__ = ["read_id3", "write_id3", "write_title"]
