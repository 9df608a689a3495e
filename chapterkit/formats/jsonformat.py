"""chapterkit's JSON: the model itself, for scripts and other tools.

::

    {
      "title": "Concert",
      "duration": 600,
      "chapters": [
        {"start": 0, "end": 90.5, "title": "Intro"},
        {"start": 90.5, "end": null, "title": "Song"}
      ]
    }

Times are seconds as JSON numbers, written as exact decimals of the integer
nanoseconds (``1.000000001``, never ``1.0000000010000001``) and read back
exactly through :class:`decimal.Decimal`, so a round trip loses nothing.
``end`` null (or absent) means "until the next chapter", ``title`` and
``duration`` may be null or absent. Keys chapterkit does not know are ignored.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from chapterkit.diagnostics import Diagnostic
from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import _jsondoc
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import NS_PER_SECOND, Chapter, ChapterList

name = "json"
extensions = (".json",)
holds_title = True
summary = "JSON: {title, duration, chapters: [{start, end, title}]}, exact decimal seconds"

_CHAPTER_KEYS = ("start", "end", "title")
_LIST_KEYS = ("title", "duration", "chapters")
_NS = Decimal("1e-9")
#: 2**63 ns, the int64 range every container time fits in (about 292 years).
_MAX_SECONDS = Decimal(2 ** 63) / NS_PER_SECOND


def detect(text: str) -> bool:
    """A JSON object with a ``chapters`` key whose entries have ``start``.

    Podcasting 2.0 chapters (``startTime``) and yt-dlp's info.json (``start_time``)
    also have a ``chapters`` list; they are their own formats (``podcast``,
    ``youtube-dl-json``), so an entry keyed otherwise, or an empty list beside
    their ``version``/``extractor`` key, is not claimed here.
    """
    document = _jsondoc.load_object(text)  # shared with the other JSON formats' detection
    if document is None or "chapters" not in document:
        return False
    items = document["chapters"]
    if isinstance(items, list) and items:
        return any(isinstance(item, dict) and "start" in item for item in items)
    return "version" not in document and "extractor" not in document


# -- rendering ---------------------------------------------------------------------------------


def render(chapters: ChapterList) -> str:
    """The JSON document for ``chapters``, one chapter per line."""
    lines = ["{", f'  "title": {_string(chapters.title)},', f'  "duration": {_seconds(chapters.duration_ns)},']
    rows = [f'    {{"start": {_seconds(c.start_ns)}, "end": {_seconds(c.end_ns)}, "title": {_string(c.title)}}}'
            for c in chapters]
    if rows:
        lines += ['  "chapters": [', ",\n".join(rows), "  ]"]
    else:
        lines.append('  "chapters": []')
    return "\n".join([*lines, "}"]) + "\n"


def _seconds(ns: int | None) -> str:
    """Exact decimal seconds from integer ns (no float on the way): 90500000000 -> ``90.5``."""
    if ns is None:
        return "null"
    whole, fraction = divmod(ns, NS_PER_SECOND)
    return f"{whole}.{fraction:09d}".rstrip("0") if fraction else str(whole)


def _string(text: str | None) -> str:
    return "null" if text is None else json.dumps(text, ensure_ascii=False)


# -- parsing -----------------------------------------------------------------------------------


def _reject_constant(constant: str) -> None:
    raise SourceError(f"{constant} is not a time (JSON numbers only)")


def _loads(text: str) -> object:
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise SourceError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer literal beyond Python's 4300-digit limit
        raise SourceError(f"not valid JSON: {exc}") from None


def _time_ns(value: object, where: str, *, nullable: bool) -> int | None:
    """Seconds to ns, exactly: rounded half up to the ns from the decimal text itself."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        kind = "a number or null" if nullable else "a number"
        raise SourceError(f"{where} must be {kind} of seconds, not {json.dumps(value, default=str)[:40]}")
    if value < 0:
        raise SourceError(f"{where} is negative: {value}")
    if value >= _MAX_SECONDS:  # checked before scaling, so 1e999999999 cannot exhaust memory
        raise SourceError(f"{where} is too large: {value} s")
    return int(Decimal(value).quantize(_NS, rounding=ROUND_HALF_UP).scaleb(9))


def _check_unicode(text: str, where: str) -> None:
    """JSON's ``\\ud800`` escapes can spell a lone surrogate, which no file can store as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SourceError(f"{where} is not valid Unicode: a lone surrogate "
                          f"\\u{ord(text[exc.start]):04x} at character {exc.start + 1}") from None


def _chapter(item: object, index: int, options: ParseOptions, diagnostics: list[Diagnostic],
             unknown: set[str]) -> Chapter:
    where = f"chapters[{index}]"
    if not isinstance(item, dict):
        raise SourceError(f"{where} must be an object with start, end and title")
    if "start" not in item:
        raise SourceError(f"{where} has no start")
    start_ns = _time_ns(item["start"], f"{where}.start", nullable=False)
    end_ns = _time_ns(item.get("end"), f"{where}.end", nullable=True)
    title = item.get("title")
    if title is None:
        diagnostics.append(Diagnostic("untitled", f"{where} has no title", severity="info"))
        title = ""
    elif not isinstance(title, str):
        raise SourceError(f"{where}.title must be a string")
    _check_unicode(title, f"{where}.title")
    if end_ns is not None and end_ns < start_ns:
        message = f"{where} ends before it starts"
        if not options.lenient:
            diagnostics.append(Diagnostic("end_before_start", message, severity="error"))
            raise NoChaptersError(message, diagnostics=diagnostics)
        diagnostics.append(Diagnostic("end_before_start", message + "; end dropped"))
        end_ns = None
    unknown.update(key for key in item if key not in _CHAPTER_KEYS)
    return Chapter(start_ns, end_ns, title)


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """The chapter list of a chapterkit JSON document.

    ``options.duration_ns`` (the media's duration) replaces the document's own
    ``duration``, drops chapters starting at or after it and ends the rest by it.
    Raises :class:`SourceError` naming the offending field (``chapters[2].start``)
    and :class:`NoChaptersError` for an empty list or an end before its start.
    """
    document = _loads(text)
    if not isinstance(document, dict):
        raise SourceError("JSON chapters must be an object with a chapters list")
    items = document.get("chapters")
    if not isinstance(items, list):
        raise SourceError("chapters must be a list" if "chapters" in document else "no chapters key")
    title = document.get("title")
    if title is not None and not isinstance(title, str):
        raise SourceError("title must be a string or null")
    if title is not None:
        _check_unicode(title, "title")
    duration_ns = _time_ns(document.get("duration"), "duration", nullable=True)
    diagnostics: list[Diagnostic] = []
    unknown = {key for key in document if key not in _LIST_KEYS}
    chapters = [_chapter(item, index, options, diagnostics, unknown) for index, item in enumerate(items)]
    if unknown:
        diagnostics.append(Diagnostic("ignored_keys", f"keys ignored: {', '.join(sorted(unknown))}",
                                      severity="info"))
    if options.duration_ns is not None:
        duration_ns = options.duration_ns
        kept = [c for c in chapters if c.start_ns < duration_ns]
        if len(kept) < len(chapters):
            diagnostics.append(Diagnostic("past_duration", f"{len(chapters) - len(kept)} chapter(s) start at "
                                          "or after the media's end and were dropped"))
        chapters = [c if c.end_ns is None else Chapter(c.start_ns, min(c.end_ns, duration_ns), c.title)
                    for c in kept]
    if not chapters:
        raise NoChaptersError("no chapters found", diagnostics=diagnostics)
    return ParseResult(ChapterList(tuple(chapters), title, duration_ns), tuple(diagnostics))


__all__ = ["detect", "extensions", "holds_title", "name", "parse", "render", "summary"]
