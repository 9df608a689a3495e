"""yt-dlp's ``.info.json`` (``--write-info-json``): the chapters of a downloaded video.

``chapters`` is a list of ``{"start_time", "end_time", "title"}`` (seconds as
JSON numbers) or null when the video has none; the top level's ``duration`` is
the video's length. yt-dlp writes chapters as the site lists them (YouTube's
rules were applied by YouTube), so they are read as written. Read only: a
chapter list is not an info.json. The file is mostly formats and thumbnails
and may be several MB; it is decoded once by the C JSON decoder (:mod:`._jsondoc`).
"""

from __future__ import annotations

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import _jsondoc
from chapterkit.formats._filetext import Notes, build_list, check_sorted, number_ns
from chapterkit.formats.base import ParseOptions, ParseResult

name = "youtube-dl-json"
extensions = (".info.json",)
summary = "yt-dlp's .info.json (read only): chapters[].start_time/end_time/title and duration"
render = None  # read only


def detect(text: str) -> bool:
    """An object whose chapters have ``start_time``, or an info.json (``extractor`` and ``id``)."""
    if '"start_time"' not in text and '"extractor"' not in text:
        return False
    document = _jsondoc.load_object(text)
    if document is None:
        return False
    items = document.get("chapters")
    if isinstance(items, list) and any(isinstance(item, dict) and "start_time" in item for item in items):
        return True
    return "extractor" in document and "id" in document


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Chapters in file order with their ends; the list's duration is ``duration`` (or ``options``)."""
    document = _jsondoc.load(text)
    if not isinstance(document, dict):
        raise SourceError("expected a yt-dlp info.json object")
    items = document.get("chapters")
    if items is None:
        raise NoChaptersError("this info.json has no chapters (\"chapters\" is missing or null)")
    if not isinstance(items, list):
        raise SourceError("chapters: expected a list")
    notes, chapters = Notes(), []
    for index, item in enumerate(items):
        where = f"chapters[{index}]"
        if not isinstance(item, dict) or "start_time" not in item:
            raise SourceError(f"{where}: expected an object with start_time")
        start_ns = number_ns(item["start_time"], f"{where}.start_time")
        end_ns = None if item.get("end_time") is None else number_ns(item["end_time"], f"{where}.end_time")
        if end_ns is not None and end_ns < start_ns:
            raise SourceError(f"{where}: end_time {item['end_time']} is before start_time {item['start_time']}")
        title = item.get("title")
        if title is not None and not isinstance(title, str):
            raise SourceError(f"{where}.title: expected a string")
        if not title:
            notes.add("untitled", f"{where} has no title", severity="info")
        chapters.append((start_ns, end_ns, title or ""))
    if not chapters:
        raise NoChaptersError("this info.json's chapters list is empty")
    check_sorted(chapters, [0] * len(chapters), notes)
    duration = options.duration_ns
    if duration is None and document.get("duration") is not None:
        try:
            duration = number_ns(document["duration"], "duration")
        except SourceError as exc:
            notes.add("bad_duration", f"{exc}: ignored")
    title = document.get("title") if isinstance(document.get("title"), str) else None
    return ParseResult(build_list(chapters, title, duration), notes())


__all__ = ["detect", "extensions", "name", "parse", "render", "summary"]
