"""A real browser shows the chapters of chapterkit's WebVTT sidecar.

Browsers expose no chapters embedded in MP4 or MKV; web players get them from a
``<track kind="chapters">``. This serves a WebM clip, a page and the sidecar
``chapterkit show clip.webm --to webvtt`` printed on loopback, loads the page in
headless Chromium, and reads the cues the browser parsed (``TextTrack.cues``).
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import subprocess
import sys
import threading

import pytest

from chapterkit.embed import embed
from chapterkit.model import NS_PER_SECOND, ChapterList
from conftest import make_media, require_tool

PAGE = """<!doctype html><html><head><title>pending</title></head><body>
<video id="v" src="clip.webm" preload="auto" muted>
  <track id="t" kind="chapters" src="clip.chapters.vtt" srclang="en" default>
</video>
<pre id="out">pending</pre>
<script>
const track = document.getElementById("t");
track.track.mode = "hidden";
function report() {
  const cues = Array.from(track.track.cues || []).map(c => [c.startTime, c.endTime, c.text]);
  document.getElementById("out").textContent = JSON.stringify(cues);
}
track.addEventListener("load", report);
track.addEventListener("error", () => { document.getElementById("out").textContent = "track error"; });
</script></body></html>
"""

CHAPTERS = ChapterList.of([(0, "Opening <titles> & credits"), (NS_PER_SECOND, "Zwischenspiel ✨"),
                           (2_500_000_000, "Finale — 終わり")])


@pytest.fixture
def site(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "source.webm"), "webm", seconds=4)
    embed(clip, CHAPTERS, output=str(tmp_path / "clip.webm"))
    vtt = subprocess.run([sys.executable, "-m", "chapterkit", "show", str(tmp_path / "clip.webm"),
                          "--reader", "matroska", "--to", "webvtt"], capture_output=True, text=True)
    assert vtt.returncode == 0, vtt.stderr
    (tmp_path / "clip.chapters.vtt").write_text(vtt.stdout, encoding="utf-8")
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".vtt": "text/vtt",
                      ".webm": "video/webm"}

    def log_message(self, *args):
        pass


def test_chromium_reads_the_webvtt_chapter_track(site, tmp_path):
    chromium = require_tool("chromium")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=10000", "--dump-dom", site],
                          capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert match, done.stdout[-2000:] + done.stderr[-2000:]
    cues = json.loads(html.unescape(match.group(1)))
    assert [text for _, _, text in cues] == list(CHAPTERS.titles)
    assert [start for start, _, _ in cues] == [0, 1, 2.5]
    assert cues[-1][1] == pytest.approx(4, abs=0.1)  # the last cue ends at the media's end
