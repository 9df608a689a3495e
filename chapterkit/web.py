"""A WebVTT chapters sidecar and a self-contained HTML page to preview chapters in a browser.

Browsers show no chapters embedded in MP4 or MKV (``players.FAMILIES``: only a
``<track kind="chapters">``), so a web viewer's experience can only be previewed
with a page. :func:`build` writes two files into one folder:

- ``<stem>.chapters.vtt``: the WebVTT sidecar (``formats/webvtt.py``), for any web player;
- ``<stem>.html``: a ``<video>`` with the chapter track, a list with one thumbnail per
  chapter that seeks on click, and the current chapter highlighted while playing.

The page must work opened from disk (``file://``), with no server and no network:
every style, script, thumbnail and the track itself are inside the page. The track is
a ``data:`` URL because a ``<track>`` is fetched in same-origin mode and a ``file://``
page's origin is opaque, so Chromium refuses a sibling ``.vtt`` file ("Unsafe attempt
to load URL"), while ``data:`` URLs are fetched whatever the mode (Fetch standard,
main fetch step "scheme is data"). Only the media is referenced, by a relative URL.
Thumbnails are frames FFmpeg decodes at each chapter's start (``ffanalysis.build_thumbnail_argv``).
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
import urllib.parse
from dataclasses import dataclass

from chapterkit import containers, ffanalysis, formats, muxer
from chapterkit.errors import ChapterMismatchError, MediaError
from chapterkit.model import ChapterList
from chapterkit.sources import write_text_atomic
from chapterkit.timecode import format_clock

THUMBNAIL_WIDTH = 160


@dataclass(frozen=True, slots=True)
class WebResult:
    page: str
    sidecar: str
    chapters: ChapterList
    thumbnails: int


def file_chapters(media: str, ffmpeg: object | None = None) -> tuple[ChapterList, str]:
    """The chapters of ``media`` from the first reader (most authoritative first) that finds any."""
    container = containers.sniff(media)
    for reader in containers.CONTAINER_READERS[container]:
        function = containers.reader_function(reader)
        result = function(media, ffmpeg=ffmpeg) if reader == "libav" else function(media)
        if len(result.chapters):
            return result.chapters, reader
    raise ChapterMismatchError("no chapters to preview (give --chapters SOURCE)", path=media)


def build(media: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None, *,
          chapters: ChapterList | None = None, ffmpeg: object | None = None) -> WebResult:
    """Write the sidecar and the page for ``media`` into ``out_dir`` (default: the media's folder)."""
    name = os.fspath(media)
    folder = os.fspath(out_dir) if out_dir else os.path.dirname(os.path.abspath(name))
    binary = muxer.find_ffmpeg(ffmpeg if isinstance(ffmpeg, str) else None) \
        if not isinstance(ffmpeg, muxer.FFmpegBinary) else ffmpeg
    info = muxer.probe(name, binary)
    if chapters is None:
        chapters, _ = file_chapters(name, binary)
    if chapters.duration_ns is None or chapters[-1].end_ns is None:
        chapters = chapters.with_duration(info.duration_ns)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc), path=folder, verb="creating") from None
    stem = os.path.splitext(os.path.basename(name))[0]
    vtt = formats.render(chapters, "webvtt")
    sidecar = os.path.join(folder, f"{stem}.chapters.vtt")
    write_text_atomic(sidecar, vtt)
    has_video = any(s.kind == "video" and "attached_pic" not in s.disposition for s in info.streams)
    thumbnails = _thumbnails(binary, name, chapters) if has_video else [None] * len(chapters)
    media_url = urllib.parse.quote(os.path.relpath(os.path.abspath(name), os.path.abspath(folder))
                                   .replace(os.sep, "/"))
    page = os.path.join(folder, f"{stem}.html")
    write_text_atomic(page, render_page(stem, media_url, vtt, chapters, thumbnails, video=has_video))
    return WebResult(page, sidecar, chapters, sum(t is not None for t in thumbnails))


def _thumbnails(binary: muxer.FFmpegBinary, media: str, chapters: ChapterList) -> list[str | None]:
    """A ``data:image/jpeg`` URL per chapter (None where FFmpeg gives no frame, e.g. past the end)."""
    found: list[str | None] = []
    with tempfile.TemporaryDirectory(prefix="chapterkit-web-") as scratch:
        for index, chapter in enumerate(chapters):
            target = os.path.join(scratch, f"{index}.jpg")
            muxer.run(ffanalysis.build_thumbnail_argv(binary.path, media, chapter.start_ns, target,
                                                      width=THUMBNAIL_WIDTH), path=media, verb="extracting a frame of")
            if os.path.exists(target) and os.path.getsize(target):
                with open(target, "rb") as handle:
                    found.append("data:image/jpeg;base64," + base64.b64encode(handle.read()).decode("ascii"))
            else:
                found.append(None)
    return found


_STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f4f6;color:#222}
main{display:flex;gap:16px;padding:16px;align-items:flex-start;flex-wrap:wrap}
video{width:480px;max-width:100%;background:#000}
ol{list-style:none;margin:0;padding:0;min-width:260px;flex:1}
li button{display:flex;gap:10px;align-items:center;width:100%;border:2px solid transparent;background:#fff;
 padding:6px;margin:0 0 6px;text-align:left;font:inherit;cursor:pointer;border-radius:6px}
li button:hover{border-color:#bbb}
li.current button{border-color:#2563eb;background:#e8efff}
img{width:96px;height:54px;object-fit:cover;background:#ccc;flex:none}
.time{font-variant-numeric:tabular-nums;color:#555;min-width:5.5em}
h1{font-size:18px;margin:16px 16px 0}
"""

_SCRIPT = """
const video = document.getElementById("player");
const items = Array.from(document.querySelectorAll("#chapter-list li"));
function highlight() {
  const now = video.currentTime + 1e-6;
  let current = -1;
  items.forEach((item, index) => { if (Number(item.dataset.start) <= now) current = index; });
  items.forEach((item, index) => {
    item.classList.toggle("current", index === current);
    if (index === current) item.setAttribute("aria-current", "true"); else item.removeAttribute("aria-current");
  });
}
items.forEach(item => item.querySelector("button").addEventListener("click", () => {
  video.currentTime = Number(item.dataset.start);
  highlight();
}));
["timeupdate", "seeked", "loadedmetadata"].forEach(name => video.addEventListener(name, highlight));
highlight();
"""


def _clock(ns: int) -> str:
    """``1:02:03.5`` / ``2:03`` style: hours only when needed, decimals only when present."""
    text = format_clock(ns)
    text = text.rstrip("0").rstrip(".") if "." in text else text
    if text.startswith("0:"):  # under an hour: M:SS
        text = text[2:]
        text = text[1:] if text.startswith("0") and text[1] != ":" else text
    return text


def render_page(title: str, media_url: str, vtt: str, chapters: ChapterList, thumbnails: list[str | None], *,
                video: bool = True) -> str:
    """The page's HTML; pure, so tests can check it without FFmpeg."""
    track = "data:text/vtt;charset=utf-8;base64," + base64.b64encode(vtt.encode("utf-8")).decode("ascii")
    rows = []
    for chapter, thumbnail in zip(chapters, thumbnails):
        start = f"{chapter.start_ns / 1e9:.9f}".rstrip("0").rstrip(".")
        image = f'<img src="{thumbnail}" alt="">' if thumbnail else ('<img alt="">' if video else "")
        rows.append(f'<li data-start="{start}"><button type="button">{image}'
                    f'<span class="time">{_clock(chapter.start_ns)}</span>'
                    f'<span class="title">{html.escape(chapter.title)}</span></button></li>')
    element = "video" if video else "audio"
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}: chapters</title><style>{_STYLE}</style></head>\n<body>"
            f"<h1>{html.escape(title)}</h1><main>\n"
            f'<{element} id="player" controls preload="auto" src="{html.escape(media_url)}">'
            f'<track id="chapters" kind="chapters" label="Chapters" srclang="en" default src="{track}">'
            f"</{element}>\n"
            f'<ol id="chapter-list">\n' + "\n".join(rows) + "\n</ol></main>\n"
            f"<script>{_SCRIPT}</script>\n</body></html>\n")


__all__ = ["WebResult", "build", "file_chapters", "render_page"]
