"""The two chapter lists of an MP4/MOV file, each read the way its players read it.

``quicktime`` reads the QuickTime chapter track (Apple QTFF "Chapter lists"):
a text track that another track points at with ``tref/chap``, one sample per
chapter. Apple players, FFmpeg, mpv and Kodi show this one; FFmpeg's demuxer
lets it override chpl (``mov.c`` ``mov_read_chapters``). ``nero`` reads the
Nero ``moov/udta/chpl`` atom through mutagen, as VLC and mutagen users see it.
FFmpeg writes both, and they can disagree (see research containers.md
sections 2.1 and 6), which is why they are separate readers.

Times are converted once, from integer ticks to integer nanoseconds, rounding
the exact rational half up (:func:`chapterkit.model.seconds_to_ns`): a tick of
a 1000 Hz track is exactly 1 000 000 ns; one of FFmpeg 9's automatic 4.41 MHz
timescale is 226.757... ns and lands on the nearest ns. Ends are computed from
the summed ticks, never by adding rounded durations, so a chapter ends exactly
where the next one starts.

``duration_ns`` is the movie duration, ``mvhd`` duration / timescale. That is
the length QuickTime shows and the ``format.duration`` ffprobe reports (it
already spans every track's edit list, so it is the longest track as
presented). A fragmented file has 0 there; then ``mvex/mehd`` is used, else
the latest end of any track's samples in its own timescale.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

from chapterkit.containers import ReadResult
from chapterkit.containers.mp4boxes import Box, BoxReader, SampleTable
from chapterkit.errors import MediaError
from chapterkit.model import Chapter, ChapterList, seconds_to_ns

#: Box types that may open an ISO BMFF / QuickTime file (14496-12 section 4.3 and
#: 8.16; QTFF "Atoms"). Anything else at offset 0 is not one of ours.
_FIRST_BOXES = frozenset({"ftyp", "styp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid", "sidx"})

#: Handler types of tracks whose samples are chapter titles: QuickTime text and
#: 3GPP timed text (``tx3g``, handler ``sbtl`` in QuickTime, ``text`` in FFmpeg).
_TEXT_HANDLERS = ("text", "sbtl")

#: A title is at most a u16 long (QTFF "Text sample data"); read no more than that.
_MAX_SAMPLE_READ = 2 + 0xFFFF


@dataclass(frozen=True, slots=True)
class Track:
    """One ``trak``: its box, ``tkhd`` id and enabled flag, ``hdlr`` type, media timescale, ``tref``."""

    box: Box
    track_id: int
    enabled: bool
    handler: str
    timescale: int
    references: dict[str, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Movie:
    """The ``moov`` box, its ``mvhd`` timescale and duration (ticks), its tracks and ``mvex`` (fragmented)."""

    moov: Box
    timescale: int
    duration_ticks: int
    tracks: tuple[Track, ...]
    mvex: Box | None


def read_quicktime(path: str | os.PathLike[str]) -> ReadResult:
    """The chapters of the QuickTime chapter track of ``path``, with their stored ends.

    A file with no chapter track gives an empty list. A corrupt, truncated or
    non-MP4 file raises :class:`~chapterkit.errors.MediaError`.
    """
    with open_mp4(path) as reader:
        movie = read_movie(reader)
        duration_ns = _duration_ns(reader, movie)
        track, notes = chapter_track(movie)
        if track is None:
            return ReadResult("quicktime", ChapterList(duration_ns=duration_ns), tuple(notes))
        table = track_samples(reader, movie, track)
        shift, edit_notes = _edit_shift(reader, movie, track)
        notes += edit_notes
        notes.append(f"chapter track {track.track_id}: {len(table.sizes)} samples, "
                     f"timescale {track.timescale}")
        chapters = []
        for index in range(len(table.sizes)):
            start = shift + Fraction(table.starts[index], track.timescale)
            end = start + Fraction(table.durations[index], track.timescale)
            title, note = _sample_title(reader, table, index)
            if note:
                notes.append(note)
            chapters.append(Chapter(seconds_to_ns(max(start, Fraction(0))),
                                    seconds_to_ns(max(end, Fraction(0))), title))
    return ReadResult("quicktime", ChapterList(tuple(chapters), duration_ns=duration_ns), tuple(notes))


def read_nero(path: str | os.PathLike[str]) -> ReadResult:
    """The chapters of the Nero ``chpl`` atom of ``path``, as mutagen reads them.

    chpl stores starts in 100 ns units and no ends, so every ``end_ns`` is
    derived (next start, or the movie duration for the last). mutagen gives
    float seconds; they are turned back into the exact 100 ns count.
    """
    name = os.fspath(path)
    with open_mp4(name) as reader:
        movie = read_movie(reader)
        duration_ns = _duration_ns(reader, movie)
        reader.check_tree(movie.moov)  # mutagen recurses and trusts sizes: bound both first
    import mutagen
    from mutagen.mp4 import MP4, MP4MetadataError

    try:
        chapters = MP4(name).chapters
    except MP4MetadataError as exc:
        if "title" in str(exc):
            # mutagen decodes chpl titles strictly, and FFmpeg cuts them at 255
            # bytes without regard for UTF-8 (movenc.c mov_write_chpl_tag).
            raise MediaError(f"mutagen cannot decode a chpl title ({exc}); FFmpeg cuts chpl titles "
                             "at 255 bytes, possibly inside a UTF-8 character",
                             path=name, verb="reading") from None
        raise MediaError(f"mutagen cannot read the MP4 metadata ({exc})", path=name, verb="reading") from None
    except (mutagen.MutagenError, OSError) as exc:
        raise MediaError(f"mutagen cannot read the file ({exc})", path=name, verb="reading") from None
    except RecursionError:  # nesting inside meta/ilst, which check_tree does not enter
        raise MediaError("metadata boxes nested too deep for mutagen", path=name, verb="reading") from None
    except (ValueError, OverflowError, struct.error) as exc:
        raise MediaError(f"mutagen cannot read the MP4 metadata ({exc})", path=name, verb="reading") from None
    found = []
    for chapter in chapters or ():
        units = chpl_units(chapter.start, mutagen.version, movie.timescale)
        found.append(Chapter(units * 100, None, chapter.title))
    result = ChapterList(tuple(found), duration_ns=duration_ns)
    return ReadResult("nero", result, (f"chpl: {len(found)} chapters",) if chapters else ())


def chpl_units(start: float, mutagen_version: tuple[int, ...], timescale: int) -> int:
    """The 100 ns count chpl stored, recovered exactly from mutagen's float seconds.

    mutagen >= 1.48 divides by 1e7 (correct); 1.47 and older divided by
    ``1e4 * mvhd timescale``, which is right only for timescale 1000 (mutagen
    NEWS 1.48.0). Either way the float is within far less than half a unit of
    the stored integer (up to 2**51 units, 7 years), so rounding recovers it.
    """
    exact = Fraction(start)
    scale = 10_000_000 if tuple(mutagen_version[:2]) >= (1, 48) else 10_000 * timescale
    return round(exact * scale)


@contextmanager
def open_mp4(path: str | os.PathLike[str]) -> Iterator[BoxReader]:
    """A :class:`BoxReader` over ``path``, once it looks like MP4/QuickTime; closed on exit.

    Public, with :func:`read_movie`, :func:`chapter_track` and :func:`track_samples`,
    because the keyframe index (:mod:`.keyframes`) and the player tests walk MP4
    files the same way the chapter readers do.
    """
    name = os.fspath(path)
    try:
        handle = open(name, "rb")
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=name, verb="reading") from None
    with handle:
        reader = BoxReader(handle, name)
        if reader.file_size == 0:
            raise reader.error("file is empty (0 bytes)")
        if reader.file_size < 8:
            raise reader.error(f"file is too short to be MP4 ({reader.file_size} bytes)")
        if reader.read_at(4, 4, "box header").decode("latin-1") not in _FIRST_BOXES:
            raise reader.error("not an MP4/QuickTime file (no box structure at offset 0)")
        yield reader


def read_movie(reader: BoxReader) -> Movie:
    """The ``moov`` box, movie timescale and duration, tracks and ``mvex`` of an open file."""
    # Walk every top-level box (headers only; mdat is skipped by seeking) so a
    # file cut short anywhere is reported, even when moov came first.
    top = list(reader.boxes())
    moov = next((box for box in top if box.name == "moov"), None)
    if moov is None:
        raise reader.error("no 'moov' box (an incomplete or non-MP4 file)")
    mvhd = reader.find(moov, "mvhd")
    if mvhd is None:
        raise reader.error(f"box 'moov' at offset {moov.offset} has no 'mvhd'")
    timescale, duration = reader.movie_header(mvhd)
    tracks = tuple(_read_track(reader, trak) for trak in reader.find_all(moov, "trak"))
    return Movie(moov, timescale, duration, tracks, reader.find(moov, "mvex"))


def _read_track(reader: BoxReader, trak: Box) -> Track:
    tkhd, mdhd, hdlr = (reader.find(trak, path) for path in ("tkhd", "mdia/mdhd", "mdia/hdlr"))
    if tkhd is None or mdhd is None:
        raise reader.error(f"track at offset {trak.offset} lacks {'tkhd' if tkhd is None else 'mdhd'}")
    track_id, flags = reader.track_header(tkhd)
    timescale, _ = reader.media_header(mdhd)
    tref = reader.find(trak, "tref")
    return Track(trak, track_id, bool(flags & 1), reader.handler_type(hdlr) if hdlr else "",
                  timescale, reader.track_references(tref) if tref else {})


def chapter_track(movie: Movie) -> tuple[Track | None, list[str]]:
    """The text track some track points at with ``tref/chap``, as FFmpeg and Apple pick it.

    A ``chap`` reference may also name a video track of chapter pictures
    (QTFF); only a text track carries titles. Apple honours the reference only
    from an enabled track, which FFmpeg's demuxer does not check: a note says so.
    """
    by_id = {track.track_id: track for track in movie.tracks}
    notes: list[str] = []
    referrers: dict[int, list[Track]] = {}
    for track in movie.tracks:
        for target in track.references.get("chap", ()):
            referrers.setdefault(target, []).append(track)
    for target, sources in referrers.items():
        track = by_id.get(target)
        if track is None:
            notes.append(f"track {sources[0].track_id} names chapter track {target}, which does not exist")
            continue
        if track.handler not in _TEXT_HANDLERS:
            continue
        if not any(source.enabled for source in sources):
            notes.append(f"chapter track {target} is referenced only by disabled tracks "
                         "(Apple players ignore it)")
        return track, notes
    return None, notes


def track_samples(reader: BoxReader, movie: Movie, track: Track) -> SampleTable:
    """Every sample of the chapter track ``track``: its ``stbl`` plus, when fragmented, its runs."""
    stbl = reader.find(track.box, "mdia/minf/stbl")
    if stbl is None:
        raise reader.error(f"chapter track {track.track_id} has no sample table")
    table = reader.sample_table(stbl)
    if movie.mvex is not None:
        # Fragmented: FFmpeg puts the chapter samples into the first moof
        # (frag_keyframe+empty_moov), leaving the moov tables empty.
        defaults = reader.track_defaults(movie.mvex)
        for run in reader.fragment_runs(defaults, {track.track_id: table.end}):
            if run.track_id == track.track_id:
                table = table + run.table
    return table


def _edit_shift(reader: BoxReader, movie: Movie, track: Track) -> tuple[Fraction, list[str]]:
    """Seconds to add to a sample's decode time to get its presentation time.

    14496-12 section 8.6.6: leading empty edits (media_time -1) delay the
    track by their duration in movie ticks; the first real edit starts the
    presentation at its media_time. FFmpeg writes a single edit with
    media_time 0 for its chapter tracks, so this is usually 0.
    """
    elst = reader.find(track.box, "edts/elst")
    if elst is None:
        return Fraction(0), []
    edits = reader.edit_list(elst)
    shift = Fraction(0)
    notes = []
    for index, edit in enumerate(edits):
        if edit.media_time == -1:
            shift += Fraction(edit.duration, movie.timescale)
            continue
        shift -= Fraction(edit.media_time, track.timescale)
        if index + 1 < len(edits):
            notes.append(f"chapter track {track.track_id} has {len(edits)} edits; "
                         "only the first non-empty one is applied")
        break
    return shift, notes


def _sample_title(reader: BoxReader, table: SampleTable, index: int) -> tuple[str, str | None]:
    """The title in a text sample: u16 byte length, then UTF-8 or BOM-led UTF-16 text.

    QTFF "Text sample data" and "Subtitle sample data"; atoms such as ``encd``
    may follow the text and are skipped. FFmpeg's demuxer decodes the same way.
    """
    size = table.sizes[index]
    if size < 2:
        return "", f"chapter sample {index} holds no text"
    data = reader.read_at(table.offsets[index], min(size, _MAX_SAMPLE_READ), f"chapter sample {index}")
    length = int.from_bytes(data[:2], "big")
    text = data[2:2 + length]
    note = None
    if length > len(text):
        note = f"chapter sample {index} claims {length} text bytes but holds {len(text)}"
    if text[:2] in (b"\xfe\xff", b"\xff\xfe"):
        encoding = "utf-16-be" if text[:2] == b"\xfe\xff" else "utf-16-le"
        return text[2:].decode(encoding, errors="replace"), note
    try:
        return text.decode("utf-8"), note
    except UnicodeDecodeError:
        return text.decode("utf-8", errors="replace"), f"chapter sample {index} title is not valid UTF-8"


def _duration_ns(reader: BoxReader, movie: Movie) -> int | None:
    if movie.duration_ticks or movie.mvex is None:
        return seconds_to_ns(Fraction(movie.duration_ticks, movie.timescale))
    mehd = reader.find(movie.mvex, "mehd")
    if mehd is not None:
        version, _, fields = reader.full_box(mehd)
        ticks = fields.u64() if version == 1 else fields.u32()
        if ticks:
            return seconds_to_ns(Fraction(ticks, movie.timescale))
    ends: dict[int, int] = {}
    for run in reader.fragment_runs(reader.track_defaults(movie.mvex)):
        ends[run.track_id] = max(ends.get(run.track_id, 0), run.table.end)
    scales = {track.track_id: track.timescale for track in movie.tracks}
    known = [Fraction(end, scales[track_id]) for track_id, end in ends.items() if track_id in scales]
    return seconds_to_ns(max(known)) if known else None
