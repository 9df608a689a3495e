"""Ogg (Vorbis, Opus, FLAC-in-Ogg, Speex, Theora) and FLAC chapters: Vorbis comments via mutagen.

The Xiph "Chapter Extension" (wiki.xiph.org/Chapter_Extension) stores chapters as
Vorbis comments: ``CHAPTERxxx=H:M:DecimalSeconds`` with ``xxx`` from 000 to 999 and
``CHAPTERxxxNAME=title``. There is no end time; a chapter ends where the next one
starts, the last one at the end of the audio.

FFmpeg is a poor writer of these (research §2.4): only Ogg *Opus* gets chapters
at all, and its whole seconds are rounded to nearest while the milliseconds are
taken separately, so every start with a fraction of .5 s or more is written one
second late. So chapterkit writes the comments itself with mutagen, in the shape
FFmpeg's reader (``oggparsevorbis.c`` ``ogm_chapter``, also used for native FLAC)
accepts: ``CHAPTER`` plus exactly three digits, the time as
``%02d:%02d:%02d.%03d``, and each ``NAME`` after its time, because that reader
attaches a name only to a chapter it has already seen. VLC's reader likewise
attaches a name to the last time it read.
"""

from __future__ import annotations

import os
import re
import struct
from io import BytesIO
from collections.abc import Sequence
from fractions import Fraction

from chapterkit.containers import ReadResult
from chapterkit.containers._mutagen import (PAGE_BYTES, check_not_empty, clean_title,
                                            converted_errors, copy_rest, ns_to_ms)
from chapterkit.containers._truncation import flac_tail_problem, ogg_tail_problem
from chapterkit.errors import MediaError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList, seconds_to_ns

READER = "vorbis"

#: Three digits, 000-999 (Xiph Chapter Extension); FFmpeg's muxer caps at 1000 too.
MAX_CHAPTERS = 1000
#: FFmpeg parses hours with ``%02d``: from 100 h on the time no longer parses.
MAX_FFMPEG_HOURS = 99
#: Opus granule positions always count 48 kHz samples (RFC 7845, section 4).
OPUS_GRANULE_RATE = 48000

_CHAPTER_KEY = re.compile(r"CHAPTER(\d{3})(NAME)?", re.IGNORECASE)
#: Every key of the chapter extension: times, names, CHAPTERxxxURL, FFmpeg's CHAPTERxxx<KEY>.
_ANY_CHAPTER_KEY = re.compile(r"CHAPTER\d", re.IGNORECASE)
_NUMBERED_KEY = re.compile(r"CHAPTER\d+(NAME)?", re.IGNORECASE)
#: ``H:MM:SS[.fraction]``; an early draft of the extension appended ``-->`` and an end.
_TIME = re.compile(r"\s*(\d+):([0-5]?\d):([0-5]?\d(?:\.\d*)?)\s*")

_NUL_REASON = "FFmpeg would cut the title there"

#: Room left over once the chapters are written: for the ``TITLE`` that ``embed`` may
#: write next and for comments mutagen re-encodes a little longer. It stays below the
#: 10 KiB that mutagen's ``PaddingInfo.get_default_padding`` keeps as it is (more than
#: 10 KiB + 1 % of the audio is cut back to 1 KiB + 0.1 %, which moves the audio).
SPARE_BYTES = 4096
#: The fixed part of what mutagen keeps: existing padding up to this much is room enough.
_KEPT_PADDING = 10 * 1024
#: FLAC metadata block types (RFC 9639, section 8.1).
_STREAMINFO, _PADDING, _VORBIS_COMMENT = 0, 1, 4
_LAST_BLOCK = 0x80
#: A metadata block's length is 24 bits (RFC 9639, section 8.1).
_MAX_BLOCK_BYTES = (1 << 24) - 1
#: An Ogg page lists at most 255 lacing values (RFC 3533, section 6).
_MAX_SEGMENTS = 255
#: The largest Ogg page: header, 255 lacing values, 255 * 255 bytes of data.
_MAX_PAGE_BYTES = 27 + 255 + 255 * 255


def parse_chapter_time(text: str) -> tuple[int, int | None]:
    """``(start_ns, end_ns)`` from a ``CHAPTERxxx`` value, exactly; raises ValueError.

    Any number of decimals is read exactly (``00:01:30.5`` is 90.5 s, which FFmpeg
    misreads as 90.005 s). ``end_ns`` is None unless the value carries the early
    draft's ``start-->end`` form.
    """
    start, arrow, end = text.partition("-->")
    start_ns = _clock_ns(start)
    end_ns = _clock_ns(end) if arrow else None
    if start_ns is None or (arrow and end_ns is None):
        raise ValueError(f"not a chapter time: {text!r} (expected HH:MM:SS.mmm)")
    return start_ns, end_ns


def _clock_ns(text: str) -> int | None:
    match = _TIME.fullmatch(text)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return (int(hours) * 3600 + int(minutes) * 60) * NS_PER_SECOND + seconds_to_ns(seconds.rstrip("."))


def format_chapter_time(ms: int) -> str:
    """``HH:MM:SS.mmm``: two-digit hours (more when needed), always three ms digits."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def read_vorbis(path: str) -> ReadResult:
    """The ``CHAPTERxxx`` chapters in ``path``'s Vorbis comment, sorted by number.

    A time that does not parse skips its chapter with a note; a missing ``NAME``
    gives the title ``""`` and a note. Ends come from the next start and the
    audio's duration (see :class:`~chapterkit.model.ChapterList`).
    """
    name = os.fspath(path)
    audio = _load(name, verb="reading chapters from")
    problem = _check_whole(name, audio)
    notes: list[str] = []
    times: dict[int, tuple[int, int | None]] = {}
    titles: dict[int, str] = {}
    for key, value in list(audio.tags or ()):
        match = _CHAPTER_KEY.fullmatch(key)
        if not match:
            if _NUMBERED_KEY.fullmatch(key):
                notes.append(f"{key} ignored: chapter keys have exactly three digits (000-999)")
            continue
        number = int(match.group(1))
        label = f"CHAPTER{number:03d}{'NAME' if match.group(2) else ''}"
        if number in (titles if match.group(2) else times):
            notes.append(f"{label} appears more than once; the first is used")
        elif match.group(2):
            titles[number] = value
        else:
            try:
                times[number] = parse_chapter_time(value)
            except ValueError:
                notes.append(f"{label}={value!r} is not a time (HH:MM:SS.mmm); chapter skipped")
    chapters = []
    for number in sorted(times):
        start_ns, end_ns = times[number]
        if end_ns is not None and end_ns < start_ns:
            notes.append(f"CHAPTER{number:03d} ends before it starts; end ignored")
            end_ns = None
        if number not in titles:
            notes.append(f"CHAPTER{number:03d} has no CHAPTER{number:03d}NAME; title is empty")
        chapters.append(Chapter(start_ns, end_ns, titles.get(number, "")))
    for number in sorted(set(titles) - set(times)):
        notes.append(f"CHAPTER{number:03d}NAME has no CHAPTER{number:03d} time; ignored")
    starts = [chapter.start_ns for chapter in chapters]
    if starts != sorted(starts):
        notes.append("chapter numbers are not in start order; FFmpeg lists them as stored")
    duration_ns = _duration_ns(audio, notes)
    title = _first(audio.tags, "TITLE")
    return ReadResult(READER, ChapterList(tuple(chapters), title, duration_ns), tuple(notes),
                      problems=(problem,) if problem else ())


def write_vorbis(path: str, chapters: ChapterList) -> list[str]:
    """Replace every chapter comment in the file at ``path`` with ``chapters``, in place.

    Removes every old ``CHAPTER<digit>...`` comment, keeps all other comments in
    their order (and FLAC picture blocks / ``METADATA_BLOCK_PICTURE`` cover art),
    and appends ``CHAPTER000``, ``CHAPTER000NAME``, ``CHAPTER001``, ... Numbering
    starts at 000 as FFmpeg's muxer does; FFmpeg 5.1 and 9 and mpv read 000- and
    001-based lists alike (measured). Returns warnings about what the format loses:
    ends, sub-millisecond precision, chapters past the 1000th.
    """
    name = os.fspath(path)
    audio = _load(name, verb="writing chapters into")
    warnings: list[str] = []
    duration_ns = _duration_ns(audio, [])
    items = list(chapters)
    if len(items) > MAX_CHAPTERS:
        warnings.append(f"{len(items)} chapters: Vorbis comments number chapters 000-999, so only "
                        f"the first {MAX_CHAPTERS} are written")
        items = items[:MAX_CHAPTERS]
    entries = _entries(items, chapters.duration_ns or duration_ns, warnings)
    if audio.tags is None:
        audio.add_tags()  # a FLAC file without a VORBIS_COMMENT block
    kept = [(key, value) for key, value in audio.tags if not _ANY_CHAPTER_KEY.match(key)]
    audio.tags.clear()
    audio.tags.extend(kept + entries)
    _save(audio, name, verb="writing chapters into")
    return warnings


def copy_with_room(source: str, target: str, chapters: ChapterList) -> None:
    """Copy the Ogg or FLAC file ``source`` to ``target`` with room in its comments for ``chapters``.

    mutagen saves a Vorbis comment in place only when the new one is exactly as
    long as the old one plus its padding; otherwise it moves every byte after it
    (FLAC: the whole file; Ogg: the whole file, and every page is renumbered when
    the headers take more pages). Sizing the padding during the copy we make
    anyway keeps the :func:`write_vorbis` that follows to the header region: one
    copy of the file in all, the audio copied in the kernel (``copy_rest``).

    The room is the exact size the chapter comments will take, less the old chapter
    comments :func:`write_vorbis` removes, plus :data:`SPARE_BYTES`, rounded up so
    the header grows by whole 4 KiB pages (which keeps the kernel copy as fast as
    ``cp``, see ``copy_rest``); so the padding left after the write is one mutagen
    keeps as it is. A file that has that much room already is copied as it is.

    * FLAC: every metadata block is copied as it is except ``PADDING``: the padding
      becomes one last block of the needed size, as mutagen itself writes it.
    * Ogg Vorbis and Ogg Opus: the comment packet gets zero padding after its data
      (where mutagen keeps its own) and the header pages are rebuilt with the same
      serial, sequence numbers and count, so every later page is copied as it is.
      When the larger headers do not fit in as many pages (at most 65 025 bytes
      each), or the file holds more than one logical stream (multiplexed, chained),
      or it is another Ogg codec, the file is copied as it is: correct, but the
      chapter write then moves the audio.

    The audio moves as well when the old chapter comments are longer than the new
    ones by more than mutagen keeps as padding (10 KiB + 1 % of the audio).

    Raises :class:`MediaError` for a source that is neither Ogg nor FLAC, is cut
    short in its headers, or cannot be read, and for a target that cannot be written.
    """
    source, target = os.fspath(source), os.fspath(target)
    try:
        src = open(source, "rb")
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=source, verb="copying") from None
    with src:
        head = _head_with_room(src, source, chapters)
        try:
            with open(target, "wb") as dst:
                if head is None:
                    src.seek(0)
                else:
                    data, audio_offset = head
                    dst.write(data)
                    src.seek(audio_offset)
                copy_rest(src, dst)
        except OSError as exc:
            raise MediaError(exc.strerror or str(exc), path=target, verb="copying the input to") from None


def write_title(path: str, title: str) -> None:
    """Set the file's own ``TITLE`` comment; ``""`` removes it."""
    name = os.fspath(path)
    audio = _load(name, verb="writing the title into")
    if audio.tags is None:
        audio.add_tags()
    if "TITLE" in audio.tags:
        del audio.tags["TITLE"]
    title = clean_title(title, "the title", [], _NUL_REASON)
    if title:
        audio.tags["TITLE"] = [title]
    _save(audio, name, verb="writing the title into")


# -- writing ---------------------------------------------------------------------------------


def _entries(chapters: Sequence[Chapter], duration_ns: int | None,
             warnings: list[str]) -> list[tuple[str, str]]:
    entries = []
    rounded = 0
    lost_ends = []
    late = []
    starts = [chapter.start_ns for chapter in chapters]
    if starts != sorted(starts):
        warnings.append("chapters are not in start order; readers list them as numbered")
    for number, chapter in enumerate(chapters):
        ms = (chapter.start_ns + NS_PER_MS // 2) // NS_PER_MS
        rounded += ms * NS_PER_MS != chapter.start_ns
        if ms >= (MAX_FFMPEG_HOURS + 1) * 3600 * 1000:
            late.append(number + 1)
        natural_end = starts[number + 1] if number + 1 < len(chapters) else duration_ns
        if chapter.end_ns is not None and natural_end is not None \
                and ns_to_ms(chapter.end_ns) != ns_to_ms(natural_end):
            lost_ends.append(number + 1)
        title = clean_title(chapter.title, f"chapter {number + 1}", warnings, _NUL_REASON)
        entries += [(f"CHAPTER{number:03d}", format_chapter_time(ms)), (f"CHAPTER{number:03d}NAME", title)]
    if rounded:
        warnings.append(f"{rounded} chapter start(s) rounded to whole milliseconds "
                        "(CHAPTERxxx stores ms)")
    if lost_ends:
        warnings.append(f"end of chapter(s) {_numbers(lost_ends)} not stored: Vorbis comments have "
                        "no end times, readers end a chapter at the next start (the last at the end "
                        "of the audio)")
    if late:
        warnings.append(f"chapter(s) {_numbers(late)} start at {MAX_FFMPEG_HOURS + 1} h or later; "
                        "FFmpeg-based readers (ffprobe, mpv) parse two-digit hours and skip them")
    return entries


def _numbers(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:5]))
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


def _save(audio, name: str, verb: str) -> None:
    with converted_errors(name, verb):
        audio.save()


# -- copying with room ------------------------------------------------------------------------


def _head_with_room(src, name: str, chapters: ChapterList) -> tuple[bytes, int] | None:
    """The new bytes before the audio and the source offset the audio starts at, or None.

    None means: copy the file as it is.
    """
    entries = _entries(list(chapters)[:MAX_CHAPTERS], chapters.duration_ns, [])
    entry_bytes = sum(4 + len(key) + 1 + len(value.encode("utf-8")) for key, value in entries)
    with converted_errors(name, "copying", "not a readable Ogg file"):
        magic = src.read(4)
        src.seek(0)
        if magic == b"OggS":
            return _ogg_head(src, name, entry_bytes)
        if magic == b"fLaC" or magic[:3] == b"ID3":
            return _flac_head(src, name, entry_bytes)
    raise MediaError("not an Ogg or FLAC file", path=name, verb="copying")


def _comment_fields(data: bytes) -> tuple[int, list[bytes], int] | None:
    """Vendor length, raw ``KEY=value`` comments and end offset of a Vorbis comment (no magic).

    The layout is the Vorbis I spec's section 5.2.1 (FLAC and Opus use it as is):
    little-endian 32-bit lengths before the vendor string and each comment. None
    when the lengths run past ``data``.
    """
    try:
        (vendor_length,) = struct.unpack_from("<I", data, 0)
        (count,) = struct.unpack_from("<I", data, 4 + vendor_length)
        offset = 8 + vendor_length
        comments = []
        for _ in range(count):
            (length,) = struct.unpack_from("<I", data, offset)
            offset += 4
            if offset + length > len(data):
                return None
            comments.append(data[offset:offset + length])
            offset += length
    except struct.error:
        return None
    return vendor_length, comments, offset


def _comment_size_after(vendor_length: int, comments: list[bytes], entry_bytes: int) -> int:
    """The size :func:`write_vorbis` gives a comment: the same vendor, the chapters replaced."""
    kept = sum(4 + len(comment) for comment in comments
               if not _ANY_CHAPTER_KEY.match(comment.split(b"=", 1)[0].decode("ascii", "replace")))
    return 4 + vendor_length + 4 + kept + entry_bytes


def _flac_head(src, name: str, entry_bytes: int) -> tuple[bytes, int] | None:
    """FLAC: the metadata blocks with one last ``PADDING`` block sized for the chapters.

    mutagen's ``FLAC.save`` writes every block but ``PADDING``, then one ``PADDING``
    block, last, holding what is left of the old metadata region when that is
    between 0 and its default maximum; then the audio stays where it is.
    """
    data = src.read(10)
    start = 0
    if data[:3] == b"ID3":  # an ID3v2 tag before "fLaC": mutagen's FLAC skips it too
        start = 10 + ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7
                      | (data[9] & 0x7F))
    src.seek(start)
    if src.read(4) != b"fLaC":
        raise MediaError("not an Ogg or FLAC file", path=name, verb="copying")
    blocks = []
    while True:
        header = src.read(4)
        if len(header) < 4:
            raise MediaError("FLAC metadata cut short", path=name, verb="copying")
        kind, size = header[0] & 0x7F, int.from_bytes(header[1:], "big")
        body = src.read(size)
        if len(body) < size:
            raise MediaError("FLAC metadata cut short", path=name, verb="copying")
        if kind != _PADDING:
            blocks.append((kind, body))
        if header[0] & _LAST_BLOCK:
            break
    audio_offset = src.tell()
    if not blocks or blocks[0][0] != _STREAMINFO:
        raise MediaError("no FLAC STREAMINFO block", path=name, verb="copying")
    # A frame starts with the 14-bit sync code 0b11111111111110, a reserved 0 bit and
    # the blocking strategy (RFC 9639, section 9.1). Anything else means a block size
    # was wrong (mutagen re-parses VORBIS_COMMENT and PICTURE blocks for such files):
    # leave those to mutagen.
    if src.read(2) not in (b"\xff\xf8", b"\xff\xf9"):
        return None
    comments = [body for kind, body in blocks if kind == _VORBIS_COMMENT]
    if comments:
        fields = _comment_fields(comments[0])
        if fields is None:
            return None
        new_comment = 4 + _comment_size_after(fields[0], fields[1], entry_bytes)
        old_comment = 4 + len(comments[0])
    else:  # write_vorbis adds a block with mutagen's vendor string ("Mutagen 1.48.1")
        import mutagen

        new_comment = 4 + _comment_size_after(len(f"Mutagen {mutagen.version_string}"), [], entry_bytes)
        old_comment = 0
    blocks_bytes = sum(4 + len(body) for _, body in blocks)
    left = (audio_offset - start - 4) - (blocks_bytes - old_comment + new_comment + 4)
    if SPARE_BYTES <= left <= _KEPT_PADDING:
        return None  # room enough already
    padding = max(new_comment - old_comment + SPARE_BYTES, 0)
    # Grow by whole pages, so the copy of the frames stays as fast as cp (copy_rest).
    padding += (audio_offset - (start + 4 + blocks_bytes + 4 + padding)) % PAGE_BYTES
    padding = min(padding, _MAX_BLOCK_BYTES)
    src.seek(0)
    parts = [src.read(start), b"fLaC"]
    for kind, body in blocks:
        parts += [bytes([kind]), len(body).to_bytes(3, "big"), body]
    parts += [bytes([_LAST_BLOCK | _PADDING]), padding.to_bytes(3, "big"), bytes(padding)]
    return b"".join(parts), audio_offset


def _ogg_head(src, name: str, entry_bytes: int) -> tuple[bytes, int] | None:
    """Ogg Vorbis or Opus: the header pages rebuilt around a padded comment packet.

    mutagen's ``_inject`` (``oggvorbis.py``, ``oggopus.py``) keeps the zeros after
    the comment data as padding and, when the packet sizes do not change, lays the
    pages out exactly as they were (``OggPage._from_packets_try_preserve``): a save
    in place.
    """
    first = _next_page(src, name)
    if not first.first or not first.complete or len(first.packets) != 1:
        return None
    ident = first.packets[0]
    if ident.startswith(b"\x01vorbis"):
        magic, header_packets, framing = b"\x03vorbis", 3, True
    elif ident.startswith(b"OpusHead"):
        magic, header_packets, framing = b"OpusTags", 2, False
    else:  # Speex, Theora, FLAC in Ogg, or another stream first: mutagen rewrites those
        return None
    pages, packets, ended = [], [], 1
    while ended < header_packets:
        page = _next_page(src, name)
        if page.serial != first.serial or page.first:
            return None  # multiplexed: another stream's pages between the headers
        if page.continued and (not pages or pages[-1].complete):
            return None  # the comment starts a page (Vorbis I A.2, RFC 7845 3)
        for index, piece in enumerate(page.packets):
            if index == 0 and page.continued:
                packets[-1] += piece
            else:
                packets.append(piece)
            if index < len(page.packets) - 1 or page.complete:
                ended += 1
        pages.append(page)
    audio_offset = src.tell()
    # The last header ends its page and audio starts on a fresh one (Vorbis I A.2, RFC 7845 3).
    if ended != header_packets or len(packets) != header_packets - 1 or not pages[-1].complete:
        return None
    comment = packets[0]
    fields = _comment_fields(comment[len(magic):]) if comment.startswith(magic) else None
    if fields is None:
        return None
    data_end = len(magic) + fields[2] + framing
    if data_end > len(comment) or (framing and not comment[data_end - 1] & 1):
        return None  # no framing bit: mutagen refuses the file, and says so
    if not framing and data_end < len(comment) and comment[data_end] & 1:
        return None  # RFC 7845 5.2: data to preserve after the comments; mutagen adds no padding
    needed = len(magic) + _comment_size_after(*fields[:2], entry_bytes) + framing
    if needed + SPARE_BYTES <= len(comment) <= needed + _KEPT_PADDING:
        return None  # room enough already
    if not _last_page_is_ours(src, first.serial):
        return None
    size = max(data_end, needed + SPARE_BYTES)
    # Grow the headers by whole pages, so the copy after them stays as fast as cp
    # (copy_rest): the new header length is this constant plus n + n // 255 + 1 for
    # a comment of n bytes (its data and lacing values).
    fixed = (pages[0].offset + 27 * len(pages) - audio_offset
             + sum(len(packet) // 255 + 1 + len(packet) for packet in packets[1:]))
    aligned = next((n for n in range(size, size + 2 * PAGE_BYTES)
                    if (fixed + n + n // 255 + 1) % PAGE_BYTES == 0), size)
    for n in (aligned, size):
        new_pages = _paginate([comment[:data_end] + bytes(n - data_end), *packets[1:]], pages)
        if new_pages is not None:
            src.seek(0)
            head = src.read(pages[0].offset) + b"".join(page.write() for page in new_pages)
            return head, audio_offset
    return None


def _next_page(src, name: str):
    """The ``OggPage`` at ``src``'s position; a file that ends first is a MediaError."""
    from mutagen.ogg import OggPage

    try:
        return OggPage(src)
    except EOFError:
        raise MediaError("Ogg headers cut short", path=name, verb="copying") from None


def _paginate(packets: list[bytes], old_pages: list) -> list | None:
    """``packets`` on as many pages as ``old_pages``, packed from the front, or None.

    Each page takes up to 255 lacing values (RFC 3533, section 6): a packet of ``n``
    bytes takes ``n // 255`` values of 255 and one of ``n % 255``, and may continue
    on the next page. A page on which no packet ends has granule position -1
    (RFC 3533, section 6); the others keep the headers' granule position (0).
    Serial, sequence numbers and flags come from the old pages; ``OggPage.write``
    computes the CRC.
    """
    from mutagen.ogg import OggPage

    segments = []  # (packet index, start byte, length, last segment of its packet)
    for index, packet in enumerate(packets):
        for start in range(0, len(packet) // 255 * 255 + 1, 255):
            segments.append((index, start, min(255, len(packet) - start), start + 255 > len(packet)))
    count = len(old_pages)
    if not count <= len(segments) <= _MAX_SEGMENTS * count:
        return None
    pages, taken = [], 0
    for number, old in enumerate(old_pages):
        share = min(_MAX_SEGMENTS, len(segments) - taken - (count - number - 1))
        chunk, taken = segments[taken:taken + share], taken + share
        page = OggPage()
        page.serial, page.sequence, page.last = old.serial, old.sequence, old.last
        page.continued = chunk[0][1] > 0
        page.complete = chunk[-1][3]
        page.position = old_pages[-1].position if any(seg[3] for seg in chunk) else -1
        for index in sorted({seg[0] for seg in chunk}):
            starts = [seg[1] for seg in chunk if seg[0] == index]
            ends = [seg[1] + seg[2] for seg in chunk if seg[0] == index]
            page.packets.append(packets[index][min(starts):max(ends)])
        pages.append(page)
    return pages


def _last_page_is_ours(src, serial: int) -> bool:
    """Whether the file's last page belongs to ``serial``: no chained stream after it.

    A page is at most 65 307 bytes, so the last one starts in the file's last 64 KiB;
    it is the ``OggS`` there that parses as a page ending exactly at the end.
    """
    from mutagen.ogg import OggPage, error

    end = src.seek(0, os.SEEK_END)
    src.seek(max(0, end - _MAX_PAGE_BYTES))
    tail = src.read()
    at = len(tail)
    while (at := tail.rfind(b"OggS", 0, at)) >= 0:
        try:
            page = OggPage(BytesIO(tail[at:]))
        except (error, EOFError):
            continue
        if page.write() == tail[at:]:  # the whole rest, CRC included: a real last page
            return page.serial == serial
    return False


# -- reading ---------------------------------------------------------------------------------


def _first(tags, key: str) -> str | None:
    try:
        values = tags[key] if tags is not None else []
    except KeyError:
        return None
    return values[0] if values and values[0] else None


def _duration_ns(audio, notes: list[str]) -> int | None:
    """The audio length, exact when it is a whole number of samples.

    FLAC's STREAMINFO gives the sample count itself (0 means unknown). For Ogg,
    mutagen divides the last granule position (minus Opus pre-skip) by the rate,
    so rounding ``length * rate`` recovers the integer count exactly; Theora's
    frame-based length is rounded to whole milliseconds.
    """
    info = audio.info
    total = getattr(info, "total_samples", None)
    rate = int(getattr(info, "sample_rate", 0) or 0)
    if type(audio).__name__ == "OggOpus":
        rate = OPUS_GRANULE_RATE
    if total is not None and rate:
        if total == 0:
            notes.append("FLAC STREAMINFO does not give the number of samples; duration unknown")
            return None
        return (total * NS_PER_SECOND * 2 + rate) // (2 * rate)
    length = Fraction(float(info.length))
    if rate:
        samples = round(length * rate)
        if abs(length * rate - samples) < Fraction(1, 10**6):
            return (samples * NS_PER_SECOND * 2 + rate) // (2 * rate)
    return round(length * 1000) * NS_PER_MS


def _check_whole(name: str, audio) -> str | None:
    """Why a file is cut short, or None: its comments (and chapters) still read, its audio is gone.

    A problem beside the chapters, not an error: the chapters are there to show.

    Ogg: the last page must be whole and end the stream; FLAC: a frame near the end
    must finish the samples STREAMINFO counts (:mod:`chapterkit.containers._truncation`).
    """
    info = audio.info
    try:
        with open(name, "rb") as handle:
            if type(audio).__name__ == "FLAC":
                problem = flac_tail_problem(handle, int(info.total_samples), int(info.max_blocksize),
                                            int(info.max_framesize))
            else:
                problem = ogg_tail_problem(handle)
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb="reading chapters from") from None
    return problem


def _load(name: str, *, verb: str):
    """The mutagen file object for an Ogg or FLAC file, or a one-line :class:`MediaError`."""
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggspeex import OggSpeex
    from mutagen.oggtheora import OggTheora
    from mutagen.oggvorbis import OggVorbis

    check_not_empty(name, verb)
    with converted_errors(name, verb, "not a readable Ogg or FLAC file"):
        audio = mutagen.File(name, options=[OggVorbis, OggOpus, OggFLAC, OggSpeex, OggTheora, FLAC])
    if audio is None:
        raise MediaError("not an Ogg (Vorbis, Opus, FLAC, Speex, Theora) or FLAC file",
                         path=name, verb=verb)
    if audio.info.length < 0:  # Opus: last granule position before the pre-skip
        raise MediaError("no audio after the headers (truncated?)", path=name, verb=verb)
    return audio


__all__ = ["copy_with_room", "format_chapter_time", "parse_chapter_time", "read_vorbis",
           "write_title", "write_vorbis"]
