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

The byte-level work under :func:`copy_with_room` (Ogg header pages, FLAC metadata
blocks, the raw comment fields) is in :mod:`chapterkit.containers.xiphcodec`; this
module keeps what is about chapters.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from fractions import Fraction

from chapterkit.containers import ReadResult
from chapterkit.containers._mutagen import check_not_empty, clean_title, converted_errors, copy_rest, ns_to_ms
from chapterkit.containers._truncation import flac_tail_problem, ogg_tail_problem
from chapterkit.containers.xiphcodec import SPARE_BYTES, flac_head, ogg_head  # noqa: F401 (SPARE_BYTES re-exported)
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
            return ogg_head(src, name, entry_bytes, _ANY_CHAPTER_KEY.match)
        if magic == b"fLaC" or magic[:3] == b"ID3":
            return flac_head(src, name, entry_bytes, _ANY_CHAPTER_KEY.match)
    raise MediaError("not an Ogg or FLAC file", path=name, verb="copying")


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
