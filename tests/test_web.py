"""chapterkit.web: the preview page's HTML, the sidecar, and the ``web`` command."""

from __future__ import annotations

import subprocess
import sys

from chapterkit import formats, sources
from chapterkit.embed import embed
from chapterkit.model import ChapterList
from chapterkit.web import build, render_page
from conftest import make_media

CHAPTERS = ChapterList.of([(0, "A <b> & \"c\""), (1_500_000_000, "Zwei")], duration_ns=3_000_000_000)


def test_the_page_escapes_titles_and_inlines_the_track():
    vtt = formats.render(CHAPTERS, "webvtt")
    page = render_page("t<i>", "my%20clip.mp4", vtt, CHAPTERS, ["data:image/jpeg;base64,AAAA", None])
    assert "A &lt;b&gt; &amp; &quot;c&quot;" in page and "<b>" not in page
    assert '<track id="chapters" kind="chapters"' in page and 'src="data:text/vtt;charset=utf-8;base64,' in page
    assert 'data-start="1.5"' in page and '<span class="time">0:01.5</span>' in page
    assert 'src="my%20clip.mp4"' in page and "<title>t&lt;i&gt;: chapters</title>" in page
    assert "http" not in page


def test_web_on_audio_writes_the_sidecar_and_an_audio_page(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mp3"), "mp3", seconds=3)
    media = embed(clip, CHAPTERS.with_duration(None), output=str(tmp_path / "pod cast.mp3")).output
    result = build(media)
    assert result.thumbnails == 0
    assert result.sidecar == str(tmp_path / "pod cast.chapters.vtt")
    assert sources.load(result.sidecar).chapters.titles == CHAPTERS.titles
    page = open(result.page, encoding="utf-8").read()
    assert '<audio id="player"' in page and 'src="pod%20cast.mp3"' in page


def test_cli_web_without_chapters_is_a_finding(tmp_path):
    clip = make_media.make_clip(str(tmp_path / "in.mkv"), "mkv", seconds=2)
    done = subprocess.run([sys.executable, "-m", "chapterkit", "web", clip, "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "no chapters" in done.stderr and "Traceback" not in done.stderr
    missing = subprocess.run([sys.executable, "-m", "chapterkit", "web", str(tmp_path / "none.mkv")],
                             capture_output=True, text=True)
    assert missing.returncode == 2
