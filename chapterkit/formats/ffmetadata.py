"""FFmpeg's FFMETADATA1 text: what ``-f ffmetadata`` reads and writes.

The grammar is FFmpeg's own (``libavformat/ffmetadec.c``, ``ffmetaenc.c``,
``doc/metadata.texi``), as measured with FFmpeg 5.1 and 9.0::

    ;FFMETADATA1
    title=Global title
    [CHAPTER]
    TIMEBASE=1/1000
    START=0
    END=90500
    title=Intro

Lines starting with ``;`` or ``#`` are comments. ``\\`` escapes the next
character anywhere, so ``\\=``, ``\\;``, ``\\#``, ``\\\\`` are literal and an
escaped newline continues the value. After ``[CHAPTER]`` FFmpeg reads, in this
fixed order, an optional ``TIMEBASE=num/den`` (default 1/1000000000), ``START=``
and ``END=``; any other order or a missing line makes it misread the chapter.

Three decisions keep :func:`render` exact through FFmpeg's reader:

- ``END`` is always written, because a missing one makes FFmpeg swallow the next
  line (the title). An unknown end is written as ``END=START``, and :func:`parse`
  reads ``END == START`` back as "no end" (``None``) so round trips hold; a
  zero-length chapter therefore cannot be expressed in this format.
- Titles are normalised: CR and CRLF become ``\\n`` (FFmpeg ends a line at an
  unescaped CR, and its writer does not escape CR), and NUL is dropped (FFmpeg
  keeps tags as C strings).
- A value ending in a backslash is followed by a NUL byte before its newline.
  ``ffmetadec.c`` decides whether a newline is escaped by looking only at the
  byte before it, so ``title=a\\\\`` + newline would swallow the next line (a
  whole chapter). The NUL ends the C string there, and the title reads back as
  ``a\\`` in FFmpeg 5.1 and 9.0 alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList, seconds_to_ns

name = "ffmetadata"
extensions = (".ffmeta", ".ffmetadata", ".meta")
holds_title = True
summary = "FFmpeg's FFMETADATA1 text (what `ffmpeg -i media -f ffmetadata -` prints)"

HEADER = ";FFMETADATA1"
#: Timebases render chooses from, coarsest first (1/1000 s, 1/1000000 s, 1/1e9 s).
_DENOMINATORS = (1000, 1_000_000, 1_000_000_000)
_INT64 = 2 ** 63 - 1
#: A logical line: escape pairs or plain characters, a dangling backslash, then its end.
#: NUL ends a line as a newline does (``read_line_to_bprint_escaped``).
# Runs of plain characters, possessively (Python 3.11): one repetition per character
# kept a backtracking frame each, 2.8 GB for one 20 MB title. Same matches as before,
# since an escape and a plain character never start alike.
_LOGICAL = re.compile(r"((?:[^\\\n\x00]++|\\[\s\S])*+)(\\?)(\n|\x00|\Z)")
_TAG = re.compile(r"((?:[^\\=]++|\\[\s\S])*+)=([\s\S]*)")
_ESCAPED = re.compile(r"\\([\s\S])")
_SPECIAL = re.compile(r"([\\=;#\n])")
_HEADER_KEYS = ("TIMEBASE", "START", "END")


def detect(text: str) -> bool:
    """FFmpeg's probe: the text starts with ``;FFMETADATA`` (a BOM is skipped here)."""
    return text.removeprefix("\ufeff").startswith(";FFMETADATA")


# -- rendering ---------------------------------------------------------------------------------


def render(chapters: ChapterList) -> str:
    """FFMETADATA1 text for ``chapters`` (one timebase for the whole list, see the module doc)."""
    ends_ns = [c.start_ns if c.end_ns is None else c.end_ns for c in chapters]
    denominator = _coarsest_denominator([*chapters.starts_ns, *ends_ns])
    unit_ns = NS_PER_SECOND // denominator
    lines = [HEADER]
    if chapters.title is not None:
        lines.append("title=" + escape(chapters.title))
    for chapter, end_ns in zip(chapters, ends_ns):
        lines += ["[CHAPTER]", f"TIMEBASE=1/{denominator}", f"START={chapter.start_ns // unit_ns}",
                  f"END={end_ns // unit_ns}", "title=" + escape(chapter.title)]
    return "\n".join(lines) + "\n"


def render_losses(chapters: ChapterList) -> tuple[str, ...]:
    """What :func:`render` cannot keep of ``chapters`` (the normalisations in the module doc), for the registry."""
    losses = []
    changed = sum(1 for c in chapters if normalize_value(c.title) != c.title)
    if changed or (chapters.title is not None and normalize_value(chapters.title) != chapters.title):
        losses.append(f"{changed} chapter title(s) or the list title changed: CR becomes a line break, NUL is dropped")
    zero = sum(1 for c in chapters if c.end_ns is not None and c.end_ns == c.start_ns)
    if zero:
        losses.append(f"{zero} zero-length chapter end(s) not kept: END=START reads back as no end")
    return tuple(losses)


def _coarsest_denominator(times_ns: list[int]) -> int:
    for denominator in _DENOMINATORS:
        unit_ns = NS_PER_SECOND // denominator
        if all(time % unit_ns == 0 for time in times_ns):
            return denominator
    return _DENOMINATORS[-1]


def normalize_value(value: str) -> str:
    """The text a value keeps through FFMETADATA: CR/CRLF become newlines, NUL is dropped."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def escape(value: str) -> str:
    """``value`` escaped as ``ffmetaenc.c`` does (``= ; # \\`` and newline), made safe for its reader."""
    value = normalize_value(value)
    escaped = _SPECIAL.sub(r"\\\1", value)
    # The reader would take "\\" + newline for an escaped newline; a NUL ends the value first.
    return escaped + "\x00" if value.endswith("\\") else escaped


# -- parsing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    lineno: int  # the physical line where this logical line starts
    raw: str     # escapes still in place


def _logical_lines(text: str) -> list[_Line]:
    """Non-empty, non-comment lines with escaped newlines joined, as ``ffmetadec.c`` reads them.

    CR and CRLF are read as newlines first; unlike FFmpeg this also lets a
    backslash before CRLF continue a value, as its author meant.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines, position, lineno = [], 0, 1
    while position < len(text):
        match = _LOGICAL.match(text, position)
        body, _dangling, end = match.groups()  # a dangling backslash at the very end is dropped
        if body and body[0] not in ";#":
            lines.append(_Line(lineno, body))
        lineno += body.count("\n") + (end == "\n")
        position = match.end()
    return lines


def _unescape(raw: str) -> str:
    """``\\x`` -> ``x``; an escaped NUL ends the text, since FFmpeg keeps tags as C strings."""
    return _ESCAPED.sub(r"\1", raw).partition("\x00")[0]


class _Parser:
    """One pass over the logical lines; collects chapters, the global title and diagnostics."""

    def __init__(self, text: str, options: ParseOptions) -> None:
        self.options = options
        self.lines = _logical_lines(text)
        self.index = 0
        self.diagnostics: list[Diagnostic] = []
        self.chapters: list[Chapter] = []
        self.title: str | None = None
        self.ignored_keys: dict[str, int] = {}
        self.header_complete = False  # the current chapter had START and END where FFmpeg wants them
        if not detect(text):
            self.note("missing_header", f"no {HEADER} header: FFmpeg reads this only with -f ffmetadata",
                      1, severity="info")

    def note(self, code: str, message: str, lineno: int = 0, line: str = "", *,
             severity: str = "warning", suggestion: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, lineno, line, suggestion, severity))

    def run(self) -> ParseResult:
        section = "global"
        pending: tuple[_Line, int, int | None] | None = None
        chapter_title: str | None = None
        while self.index < len(self.lines):
            line = self.lines[self.index]
            self.index += 1
            if line.raw.rstrip() == "[CHAPTER]":
                if pending:
                    self.add_chapter(pending, chapter_title)
                if line.raw != "[CHAPTER]":
                    self.note("section_spaces", "text after [CHAPTER]: FFmpeg 8 and later ignore this "
                              "header and lose the chapter", line.lineno, line.raw, suggestion="[CHAPTER]")
                section, pending, chapter_title = "chapter", self.chapter_header(line), None
            elif line.raw == "[STREAM]":
                if pending:
                    self.add_chapter(pending, chapter_title)
                section, pending = "stream", None
                self.note("stream_section", "[STREAM] tags are ignored", line.lineno, line.raw, severity="info")
            elif section != "stream":
                value = self.tag(line, section)
                if value is not None and section == "chapter":
                    if chapter_title is not None:
                        self.note("duplicate_title", "chapter has two titles; the last one wins (as in FFmpeg)",
                                  line.lineno, line.raw)
                    chapter_title = value
                elif value is not None:
                    self.title = value
        if pending:
            self.add_chapter(pending, chapter_title)
        if self.ignored_keys:
            keys = ", ".join(self.ignored_keys)
            self.note("ignored_keys", f"keys other than title are ignored: {keys}",
                      min(self.ignored_keys.values()), severity="info")
        return self.result()

    def tag(self, line: _Line, section: str) -> str | None:
        """The title a ``key=value`` line sets, or None (other keys are noted and ignored)."""
        match = _TAG.fullmatch(line.raw)
        if not match:
            upper = line.raw.strip().upper()
            suggestion = "[CHAPTER]" if upper == "[CHAPTER]" else "[STREAM]" if upper == "[STREAM]" else None
            self.note("not_a_tag", "line ignored: not key=value (FFmpeg ignores it too)", line.lineno,
                      line.raw, suggestion=suggestion)
            return None
        key = _unescape(match[1])
        if key.lower() == "title":
            return _unescape(match[2])
        if section == "chapter" and key.upper() in _HEADER_KEYS and not self.header_complete:
            raise SourceError(f"{key}= on line {line.lineno} is out of place: FFmpeg reads only "
                              "TIMEBASE=, START=, END= in that order right after [CHAPTER]")
        if section == "chapter" and key.upper() in _HEADER_KEYS:
            # After a complete header, FFmpeg reads the header keys only right after [CHAPTER]; later ones are plain
            # chapter tags (ffmetadec.c read_chapter, then read_tag). Its own dump writes such a
            # line after a title ending in a backslash, so refusing it would refuse a playable file.
            self.note("misplaced_header_key", f"{key}= here is a chapter tag to FFmpeg, not the chapter's "
                      f"{key.upper()}", line.lineno, line.raw)
            return None
        if key.strip().lower() == "title":
            self.note("spaced_key", "spaces around the key: FFmpeg does not read this as the title",
                      line.lineno, line.raw, suggestion="title=" + match[2])
        else:
            self.ignored_keys.setdefault(key, line.lineno)
        return None

    def header_value(self, key: str) -> tuple[_Line, str] | None:
        """The next line's ``KEY=`` value text when it starts with ``KEY=`` (consumed)."""
        if self.index < len(self.lines) and self.lines[self.index].raw.startswith(key + "="):
            line = self.lines[self.index]
            self.index += 1
            return line, line.raw[len(key) + 1:]
        return None

    def chapter_header(self, section: _Line) -> tuple[_Line, int, int | None]:
        """``TIMEBASE``/``START``/``END`` after ``[CHAPTER]``, in FFmpeg's fixed order, as ns."""
        timebase = Fraction(1, NS_PER_SECOND)
        if found := self.header_value("TIMEBASE"):
            timebase = _timebase(*found)
        start_found = bool(found := self.header_value("START"))
        if found:
            start_ns = _ticks_ns(*found, timebase)
        else:
            previous = self.chapters[-1].end_ns if self.chapters else None
            start_ns = previous or 0
            self.note("missing_start", "chapter has no START; FFmpeg starts it where the previous one ends",
                      section.lineno, section.raw)
        end_ns = None
        self.header_complete = False
        if found := self.header_value("END"):
            self.header_complete = start_found
            end_ns = _ticks_ns(*found, timebase)
            if end_ns < start_ns:
                end_ns = self.end_before_start(found[0])
        else:
            self.note("missing_end", "chapter has no END: FFmpeg would read the next line as END and "
                      "lose it", section.lineno, section.raw)
        if start_ns < 0:
            self.note("negative_start", "negative START read as 0 (as the ffmpeg CLI does)",
                      section.lineno, section.raw)
            start_ns, end_ns = 0, None if end_ns is None else max(end_ns, 0)
        if end_ns == start_ns:
            end_ns = None  # how render writes "no end" (see the module doc)
        return section, start_ns, end_ns

    def end_before_start(self, line: _Line) -> None:
        message = "END is before START (FFmpeg refuses the whole file)"
        if not self.options.lenient:
            self.note("end_before_start", message, line.lineno, line.raw, severity="error")
            raise NoChaptersError(f"chapter END on line {line.lineno} is before its START",
                                  diagnostics=self.diagnostics)
        self.note("end_before_start", message + "; END dropped", line.lineno, line.raw)
        return None

    def add_chapter(self, header: tuple[_Line, int, int | None], title: str | None) -> None:
        section, start_ns, end_ns = header
        if title is None:
            self.note("untitled", "chapter has no title", section.lineno, section.raw, severity="info")
        if self.chapters and start_ns < self.chapters[-1].start_ns:
            self.note("unsorted", "chapter starts before the previous one", section.lineno, section.raw)
        self.chapters.append(Chapter(start_ns, end_ns, title or ""))

    def result(self) -> ParseResult:
        chapters, duration_ns = self.chapters, self.options.duration_ns
        if duration_ns is not None:
            chapters = _clip(chapters, duration_ns, self.diagnostics)
        if not chapters:
            reason = "no chapters found"
            if any(d.code == "missing_header" for d in self.diagnostics):
                # Usually --from ffmetadata on another format: say so rather than "no chapters".
                reason = f"no [CHAPTER] sections and no {HEADER} header: this is not FFMETADATA"
            raise NoChaptersError(reason, diagnostics=self.diagnostics)
        return ParseResult(ChapterList(tuple(chapters), self.title, duration_ns), tuple(self.diagnostics))


def _timebase(line: _Line, text: str) -> Fraction:
    match = re.fullmatch(r"\s*(\d+)/(\d+)\s*", text)
    if not match or int(match[1]) == 0 or int(match[2]) == 0:
        raise SourceError(f"TIMEBASE on line {line.lineno} is not a positive num/den: {text.strip()!r}")
    return Fraction(int(match[1]), int(match[2]))


def _ticks_ns(line: _Line, text: str, timebase: Fraction) -> int:
    match = re.fullmatch(r"\s*([+-]?\d+)\s*", text)
    key = line.raw.partition("=")[0]
    if not match or abs(int(match[1])) > _INT64:
        raise SourceError(f"{key} on line {line.lineno} is not a 64-bit integer: {text.strip()!r}")
    return seconds_to_ns(int(match[1]) * timebase)


def _clip(chapters: list[Chapter], duration_ns: int, diagnostics: list[Diagnostic]) -> list[Chapter]:
    """Drop chapters that start at or after the media's end; end the others by it."""
    kept = [c for c in chapters if c.start_ns < duration_ns]
    if len(kept) < len(chapters):
        diagnostics.append(Diagnostic("past_duration", f"{len(chapters) - len(kept)} chapter(s) start at or "
                                      "after the media's end and were dropped"))
    return [Chapter(c.start_ns, min(c.end_ns, duration_ns), c.title) if c.end_ns is not None else c
            for c in kept]


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Chapters and global title of FFMETADATA text.

    Raises :class:`SourceError` (with the line number) for a malformed
    ``TIMEBASE``/``START``/``END`` and :class:`NoChaptersError` when there is no
    chapter, or an ``END`` before its ``START`` (unless ``options.lenient``).
    """
    return _Parser(text, options).run()


__all__ = ["HEADER", "detect", "escape", "extensions", "holds_title", "name", "normalize_value", "parse", "render",
           "render_losses", "summary"]
