"""Podcasting 2.0 JSON chapters (the ``<podcast:chapters type="application/json+chapters">`` file).

::

    {"version": "1.2.0",
     "chapters": [{"startTime": 0, "title": "Intro", "img": "https://...", "url": "https://..."},
                  {"startTime": 93.5, "title": "Sponsor", "toc": false},
                  {"startTime": 120, "endTime": 600, "title": "Interview"}]}

Per the Podcast Namespace's JSON chapters spec: ``version`` and ``chapters``
are required, each chapter has ``startTime`` (seconds, a number) and may have
``endTime``, ``title``, ``img``, ``url``, ``toc`` and ``location``. ``toc:
false`` marks a chapter apps should not list (an ad marker, a pure artwork
change): it is not a chapter here, and a note says so. ``img``/``url`` are kept
in the model and written back; ``location`` and other keys are noted as not kept.

Detection looks for ``startTime`` in the chapter objects (or, with no chapters,
``version``), so chapterkit's own ``json`` (``start``) and yt-dlp's info.json
(``start_time``) are never taken for it. Times are read exactly from the
number's text (see :mod:`._jsondoc`) and written as exact decimals.
"""

from __future__ import annotations

import json

from chapterkit.errors import NoChaptersError, SourceError
from chapterkit.formats import _jsondoc
from chapterkit.formats._filetext import Notes, build_list, check_sorted, number_ns
from chapterkit.formats.base import ParseOptions, ParseResult
from chapterkit.model import ChapterList
from chapterkit.timecode import format_seconds

name = "podcast"
extensions = (".chapters.json",)
holds_title = True
holds_links = True  # img, url
summary = "Podcasting 2.0 JSON chapters: {version, chapters: [{startTime, title, img, url, toc}]}"

VERSION = "1.2.0"
_KNOWN = {"startTime", "endTime", "title", "img", "url", "toc"}


def detect(text: str) -> bool:
    """A JSON object whose chapters have ``startTime``, or that has ``version`` and no chapter yet."""
    if '"startTime"' not in text and '"version"' not in text:
        return False  # cheap refusal before a full parse
    document = _jsondoc.load_object(text)
    if document is None or not isinstance(document.get("chapters"), list):
        return False
    items = document["chapters"]
    if not items:
        return "version" in document
    return any(isinstance(item, dict) and "startTime" in item for item in items)


def _string(item: dict, key: str, where: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise SourceError(f"{where}.{key}: expected a string, not {json.dumps(value)[:40]}")
    return value


def parse(text: str, options: ParseOptions = ParseOptions()) -> ParseResult:
    """The listed chapters (``toc: false`` ones noted and left out), in file order."""
    document = _jsondoc.load(text)
    if not isinstance(document, dict) or not isinstance(document.get("chapters"), list):
        raise SourceError("expected a JSON object with a \"chapters\" list (Podcasting 2.0 chapters)")
    notes, chapters, linenos = Notes(), [], []
    if "version" not in document:
        notes.add("no_version", "no \"version\" (the spec requires it)", severity="info")
    ignored: set[str] = set()
    for index, item in enumerate(document["chapters"]):
        where = f"chapters[{index}]"
        if not isinstance(item, dict):
            raise SourceError(f"{where}: expected an object with startTime and title")
        if "startTime" not in item:
            raise SourceError(f"{where}: expected a startTime (seconds)")
        start_ns = number_ns(item["startTime"], f"{where}.startTime")
        end_ns = None if item.get("endTime") is None else number_ns(item["endTime"], f"{where}.endTime")
        if end_ns is not None and end_ns < start_ns:
            raise SourceError(f"{where}: endTime {item['endTime']} is before startTime {item['startTime']}")
        title = _string(item, "title", where)
        img, url = _string(item, "img", where), _string(item, "url", where)
        if item.get("toc") is False:
            notes.add("toc_false", f"{where} has toc: false (not listed as a chapter): left out")
            continue
        if title is None:
            notes.add("untitled", f"{where} has no title", severity="info")
        ignored.update(key for key in item if key not in _KNOWN)
        chapters.append((start_ns, end_ns, title or "", img or None, url or None))
        linenos.append(0)
    if ignored:
        notes.add("not_kept", f"chapter keys not kept: {', '.join(sorted(ignored))}", severity="info")
    if not chapters:
        raise NoChaptersError("no listed chapters found", diagnostics=notes())
    check_sorted(chapters, linenos, notes)
    title = document.get("title") if isinstance(document.get("title"), str) else None
    return ParseResult(build_list(chapters, title, options.duration_ns), notes())


def render_checked(chapters: ChapterList) -> tuple[str, tuple]:
    """The JSON document; nothing of the model is lost, so no warnings."""
    rows = []
    for index, chapter in enumerate(chapters):
        following = chapters[index + 1].start_ns if index + 1 < len(chapters) else None
        parts = [f'"startTime": {format_seconds(chapter.start_ns)}']
        if chapter.end_ns is not None and chapter.end_ns != following:
            parts.append(f'"endTime": {format_seconds(chapter.end_ns)}')
        parts.append(f'"title": {json.dumps(chapter.title, ensure_ascii=False)}')
        for key in ("img", "url"):
            if getattr(chapter, key):
                parts.append(f'"{key}": {json.dumps(getattr(chapter, key), ensure_ascii=False)}')
        rows.append("    {" + ", ".join(parts) + "}")
    head = [f'  "version": "{VERSION}",']
    if chapters.title is not None:
        head.append(f'  "title": {json.dumps(chapters.title, ensure_ascii=False)},')
    body = ['  "chapters": [', ",\n".join(rows), "  ]"] if rows else ['  "chapters": []']
    return "\n".join(["{", *head, *body, "}"]) + "\n", ()


def render(chapters: ChapterList) -> str:
    """Podcasting 2.0 chapters JSON, one chapter a line; ``endTime`` only where it is not the next start."""
    return render_checked(chapters)[0]


__all__ = ["detect", "extensions", "holds_links", "holds_title", "name", "parse", "render", "render_checked", "summary"]
