"""The ``chapterkit web`` page in headless Chromium, opened from ``file://`` with no server.

A copy of the page gets a small driver script that waits for the chapter track,
reads the cues Chromium parsed, clicks the third chapter in the list and waits for
the video to seek. The test checks the cues against the file's chapters, the
position against the chapter's start, the highlighted entry, that every chapter has
a thumbnail and that the page loads nothing from the network. A screenshot of the
page after the click is saved (``docs/web-preview.png`` is one, shown in the README).
"""

from __future__ import annotations

import html
import json
import os
import re
import struct
import subprocess

import pytest

from chapterkit.embed import embed
from chapterkit.model import NS_PER_SECOND, ChapterList
from chapterkit.players import check_players
from chapterkit.web import build
from conftest import make_media, require_tool

CHAPTERS = ChapterList.of([(0, "Opening <titles> & credits"), (NS_PER_SECOND, "Zwischenspiel ✨"),
                           (2_500_000_000, "Finale — 終わり"), (3_200_000_000, "Questions")])

DRIVER = """<pre id="result" style="display:none">pending</pre><script>
(async () => {
  const out = document.getElementById("result");
  try {
    const element = document.getElementById("chapters");
    element.track.mode = "hidden";
    if (element.readyState !== 2) {
      await new Promise((ok, fail) => {
        element.addEventListener("load", ok);
        element.addEventListener("error", () => fail("track error"));
      });
    }
    const video = document.getElementById("player");
    if (video.readyState < 1) await new Promise(ok => video.addEventListener("loadedmetadata", ok));
    const items = Array.from(document.querySelectorAll("#chapter-list li"));
    const seeked = new Promise(ok => video.addEventListener("seeked", ok, {once: true}));
    items[2].querySelector("button").click();
    await seeked;
    const resources = performance.getEntriesByType("resource").map(entry => entry.name);
    out.textContent = JSON.stringify({
      cues: Array.from(element.track.cues).map(cue => [cue.startTime, cue.endTime, cue.text]),
      time: video.currentTime,
      current: items.map(item => item.classList.contains("current")),
      thumbnails: items.map(item => {
        const img = item.querySelector("img");
        return !!img && img.complete && img.naturalWidth > 0;
      }),
      resources: resources});
  } catch (error) { out.textContent = "error: " + error; }
})();
</script>
"""


def _chromium(chromium: str, profile: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--hide-scrollbars",
                           f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def page(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.webm"), "webm", seconds=4, size="320x180")
    media = embed(clip, CHAPTERS, output=str(tmp_path / "talk.webm")).output
    result = build(media)  # the page and talk.chapters.vtt next to the media, where players look
    assert result.thumbnails == len(CHAPTERS)
    return result


def test_the_page_works_from_file_urls(page, tmp_path):
    chromium = require_tool("chromium")
    with open(page.page, encoding="utf-8") as handle:
        text = handle.read()
    assert "http://" not in text and "https://" not in text  # nothing to fetch from a network
    driven = os.path.join(os.path.dirname(page.page), "driven.html")
    with open(driven, "w", encoding="utf-8") as handle:
        handle.write(text.replace("</body>", DRIVER + "</body>"))
    done = _chromium(chromium, str(tmp_path / "profile"), "--dump-dom", f"file://{driven}")
    match = re.search(r'<pre id="result"[^>]*>(.*?)</pre>', done.stdout, re.S)
    assert match, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(html.unescape(match.group(1)))
    assert [text for _, _, text in result["cues"]] == list(CHAPTERS.titles)
    assert [start for start, _, _ in result["cues"]] == [0, 1, 2.5, 3.2]
    assert result["time"] == pytest.approx(2.5, abs=1e-3)
    assert result["current"] == [False, False, True, False]
    assert result["thumbnails"] == [True] * len(CHAPTERS)
    assert all(url.startswith(("file:", "data:")) for url in result["resources"]), result["resources"]
    row = check_players(os.path.join(os.path.dirname(page.page), "talk.webm"), CHAPTERS).row("browser")
    assert row.status == "ok" and row.count == len(result["cues"])  # players agrees with Chromium

    screenshot = tmp_path / "web-preview.png"
    shot = _chromium(chromium, str(tmp_path / "profile2"), f"--screenshot={screenshot}", "--window-size=900,420",
                     f"file://{driven}")
    assert screenshot.exists(), shot.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (900, 420)
    if os.environ.get("CHAPTERKIT_UPDATE_SCREENSHOT"):
        from conftest import ROOT

        (ROOT / "docs" / "web-preview.png").write_bytes(data)
