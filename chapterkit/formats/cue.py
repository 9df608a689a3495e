"""CUE sheets: tracks of one disc image or album file, read as chapters.

A chapter is a ``TRACK``: it starts at its ``INDEX 01`` (``mm:ss:ff``, 75
frames a second, minutes may pass 99: a cue for a long mix says ``120:00:00``)
and its title is the track's ``TITLE``. The rest of the sheet is not a chapter
and is noted: ``INDEX 00`` (the pregap before the track), ``INDEX 02``..``99``
(sub-indexes), ``PREGAP``/``POSTGAP`` (silence a burner adds), ``REM``,
``FLAGS``, ``ISRC``, ``CATALOG``, ``SONGWRITER``, ``CDTEXTFILE``.

Decisions:

- Title: the track ``TITLE`` alone, as players show a chapter. A track
  ``PERFORMER`` is not folded into it (that would change the title on every
  round trip); it is reported as an info note so nothing goes unseen. A track
  without ``TITLE`` gets an empty title and a note.
- The sheet's own ``TITLE`` (before the first ``TRACK``) is the list's title.
- Several ``FILE`` entries: the times of each count from the start of its own
  file, whose length the sheet does not give, so only the first file's tracks
  are chapters; each later ``FILE`` and each track under it gets a warning.

No maintained Python CUE library reads all of this and reports what it skips,
so this is a line parser. The writer keeps what a CUE sheet can: starts to the
frame, 99 tracks, titles without double quotes or line breaks; every loss is a
warning. It names the audio ``FILE "media.wav" WAVE`` since a chapter list does
not know its media; edit that line for tools that open the audio.
"""

from __future__ import annotations

import re

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats._filetext import (Notes, build_list, check_sorted, ends_lost, numbered_lines, one_line,
                                          within_range)
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, ChapterList

name = "cue"
extensions = (".cue",)
holds_title = True  # the sheet's TITLE
summary = "CUE sheets: TRACK TITLE and INDEX 01 mm:ss:ff (75 frames a second)"

FRAMES = 75
MAX_TRACKS = 99
MEDIA_FILE = 'FILE "media.wav" WAVE'
_TIME = re.compile(r"(\d+):([0-5]\d):(\d\d)")
_DETECT_INDEX = re.compile(r"^[ \t]*INDEX[ \t]+\d{1,2}[ \t]+\d+:\d\d:\d\d[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)
_DETECT_TRACK = re.compile(r"^[ \t]*TRACK[ \t]+\d{1,2}[ \t]+\S+", re.MULTILINE | re.IGNORECASE)
_NOT_CHAPTERS = {"REM", "FLAGS", "ISRC", "CATALOG", "SONGWRITER", "CDTEXTFILE", "PREGAP", "POSTGAP"}


def detect(text: str) -> bool:
    """A ``TRACK nn TYPE`` line and an ``INDEX nn mm:ss:ff`` line: what no other format holds."""
    return bool(_DETECT_TRACK.search(text) and _DETECT_INDEX.search(text))


def _words(rest: str) -> str:
    """A CUE value: the text between the first and last double quote, else the bare word(s)."""
    rest = rest.strip()
    if rest.startswith('"'):
        end = rest.rfind('"')
        return rest[1:end] if end > 0 else rest[1:]
    return rest


def _frames_ns(text: str, lineno: int) -> int:
    match = _TIME.fullmatch(text)
    if not match or int(match[3]) >= FRAMES:
        raise SourceError(f"line {lineno}: expected a time mm:ss:ff (frames 00-74), got {text[:30]!r}")
    frames = (int(match[1]) * 60 + int(match[2])) * FRAMES + int(match[3])
    within_range(frames * (NS_PER_SECOND // FRAMES), f"line {lineno}")
    return frames * NS_PER_SECOND // FRAMES + (frames * NS_PER_SECOND % FRAMES * 2 >= FRAMES)


class _Track:
    __slots__ = ("lineno", "number", "start_ns", "title", "performer")

    def __init__(self, lineno: int, number: int) -> None:
        self.lineno, self.number = lineno, number
        self.start_ns: int | None = None
        self.title: str | None = None
        self.performer: str | None = None


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Tracks of the first FILE as chapters; SourceError names a malformed TRACK or INDEX line."""
    notes, tracks = Notes(), []
    sheet_title = None
    files = 0
    track: _Track | None = None
    for lineno, line in numbered_lines(text):
        parts = line.split(None, 1)
        if not parts:
            continue
        command, rest = parts[0].upper(), parts[1] if len(parts) > 1 else ""
        if command == "FILE":
            files += 1
            track = None
            if files > 1:
                notes.add("later_file", "a second FILE: its tracks' times count from that file's start, "
                          "which the sheet does not give; its tracks are skipped", lineno, line)
        elif command == "TRACK":
            fields = rest.split()
            if len(fields) != 2 or not fields[0].isdigit():
                raise SourceError(f"line {lineno}: expected 'TRACK nn TYPE', got {line.strip()[:60]!r}")
            track = _Track(lineno, int(fields[0]))
            if files > 1:
                notes.add("later_file_track", "track under a later FILE skipped", lineno, line)
            else:
                tracks.append(track)
        elif command == "INDEX":
            fields = rest.split()
            if len(fields) != 2 or not fields[0].isdigit():
                raise SourceError(f"line {lineno}: expected 'INDEX nn mm:ss:ff', got {line.strip()[:60]!r}")
            start_ns = _frames_ns(fields[1], lineno)
            if track is None:
                notes.add("index_outside_track", "INDEX before any TRACK skipped", lineno, line)
            elif int(fields[0]) != 1:
                kind = "pregap start (INDEX 00)" if int(fields[0]) == 0 else "sub-index"
                notes.add("not_a_chapter", f"{kind}: not a chapter start", lineno, line, severity="info")
            elif track.start_ns is not None:
                notes.add("duplicate_index", "a second INDEX 01 in this track skipped", lineno, line)
            else:
                track.start_ns = start_ns
        elif command in ("TITLE", "PERFORMER"):
            value = _words(rest)
            if track is None:
                if command == "TITLE":
                    sheet_title = value
                else:
                    notes.add("not_kept", "the sheet's PERFORMER is not kept", lineno, line, severity="info")
            elif command == "TITLE":
                if track.title is not None:
                    notes.add("duplicate_title", "track has two TITLEs: the last one wins", lineno, line)
                track.title = value
            else:
                notes.add("not_kept", "track PERFORMER is not part of the chapter title", lineno, line,
                          severity="info")
        elif command in _NOT_CHAPTERS:
            notes.add("not_a_chapter", f"{command} is not a chapter", lineno, line, severity="info")
        else:
            notes.add("unknown_command", f"unknown CUE command {command[:20]!r} skipped", lineno, line)
    chapters, linenos = [], []
    for item in tracks:
        if item.start_ns is None:
            notes.add("no_index_01", "track has no INDEX 01: no start, skipped", item.lineno)
            continue
        if item.title is None:
            notes.add("untitled", "track has no TITLE", item.lineno, severity="info")
        chapters.append((item.start_ns, None, item.title or ""))
        linenos.append(item.lineno)
    if not chapters:
        raise NoChaptersError("no TRACK with an INDEX 01 found", diagnostics=notes())
    check_sorted(chapters, linenos, notes)
    duration = options.duration_ns
    if duration is not None and duration < max(row[0] for row in chapters):
        duration = None
        notes.add("past_duration", "the media duration is before the last track: ignored")
    return ParseResult(build_list(chapters, sheet_title, duration), notes())


def normalize_title(title: str) -> str:
    """What a CUE TITLE can hold: one line, no double quotes (written as ``'``)."""
    return one_line(title).replace('"', "'")


def frame_ns(ns: int) -> int:
    """``ns`` at the nearest CUE frame (1/75 s), halves up, as ns again."""
    frames = (ns * FRAMES + NS_PER_SECOND // 2) // NS_PER_SECOND
    return frames * NS_PER_SECOND // FRAMES + (frames * NS_PER_SECOND % FRAMES * 2 >= FRAMES)


def _stamp(ns: int) -> str:
    frames = (ns * FRAMES + NS_PER_SECOND // 2) // NS_PER_SECOND
    seconds, frame = divmod(frames, FRAMES)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes:02d}:{seconds:02d}:{frame:02d}"


def render_checked(chapters: ChapterList) -> tuple[str, tuple]:
    """The sheet, and a warning for every track, frame or character it could not keep."""
    notes = Notes()
    lines = []
    if chapters.title is not None:
        lines.append(f'TITLE "{normalize_title(chapters.title)}"')
    lines.append(MEDIA_FILE)
    kept = list(chapters)[:MAX_TRACKS]
    if len(chapters) > MAX_TRACKS:
        lost = ", ".join(repr(c.title[:30]) for c in list(chapters)[MAX_TRACKS:MAX_TRACKS + 3])
        notes.add("too_many_tracks", f"a CUE sheet holds {MAX_TRACKS} tracks: {len(chapters) - MAX_TRACKS} "
                  f"chapter(s) not written ({lost}{', ...' if len(chapters) > MAX_TRACKS + 3 else ''})")
    for number, chapter in enumerate(kept, 1):
        if frame_ns(chapter.start_ns) != chapter.start_ns:
            notes.add("rounded", f"track {number} start rounded to a CUE frame (1/75 s)")
        title = normalize_title(chapter.title)
        if title != chapter.title:
            notes.add("title_changed", f"track {number} title: line breaks or double quotes replaced")
        lines += [f"  TRACK {number:02d} AUDIO", f'    TITLE "{title}"', f"    INDEX 01 {_stamp(chapter.start_ns)}"]
    ends_lost(ChapterList(tuple(kept), duration_ns=chapters.duration_ns), notes, "CUE")
    return "\n".join(lines) + "\n", notes()


def render(chapters: ChapterList) -> str:
    """A CUE sheet with one AUDIO track per chapter (see the module doc for what is lost)."""
    return render_checked(chapters)[0]


__all__ = ["detect", "extensions", "frame_ns", "holds_title", "name", "normalize_title", "parse", "render",
           "render_checked", "summary"]
