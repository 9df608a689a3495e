"""Ask real players which chapters they list, headlessly, the way a user can on their machine.

- **VLC**: libVLC through ``python-vlc``, in a child process (a libVLC crash must
  not take pytest down): play the media with the dummy interface, video and audio
  outputs, wait for *Playing*, then read ``get_full_chapter_descriptions(-1)``
  (after checking ``get_chapter_count()``: python-vlc 3.0.21203 raises on a count of 0).
- **GStreamer**: ``gst-discoverer-1.0 -c`` prints the TOC the demuxer posts.
- **mpv**: ``conftest.mpv_chapters`` (its ``chapter-list`` property).

Each returns ``[(start_ns, title)]`` exactly as the player shows it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from chapterkit.model import NS_PER_MS, NS_PER_SECOND, ChapterList
from conftest import mpv_chapters, require_tool

#: VLC and mpv report times in ms or as floats; 1 ms is the finest either shows.
TOLERANCE_NS = NS_PER_MS

_VLC_SCRIPT = r"""
import json, sys, time, vlc
instance = vlc.Instance(["--intf=dummy", "--vout=dummy", "--aout=dummy", "--quiet", "--no-video-title-show"])
player = instance.media_player_new()
player.set_media(instance.media_new_path(sys.argv[1]))
player.play()
deadline = time.monotonic() + 20
while player.get_state() not in (vlc.State.Playing, vlc.State.Ended, vlc.State.Error):
    if time.monotonic() > deadline:
        break
    time.sleep(0.02)
state = str(player.get_state())
count = player.get_chapter_count()
chapters = []
if count > 0:
    chapters = [[d.time_offset, d.name.decode("utf-8") if d.name else ""]
                for d in player.get_full_chapter_descriptions(-1)]
print("VLC=" + json.dumps({"state": state, "chapters": chapters}))
player.stop()
"""


def vlc_chapters(path: str) -> list[tuple[int, str]]:
    """The chapters libVLC lists for ``path``: ``[(offset_ns, name)]``."""
    require_tool("vlc (Debian package)", "/usr/bin/cvlc")
    try:
        import vlc  # noqa: F401  (python-vlc, the test extra; it loads Debian's libvlc.so)
    except (ImportError, OSError) as exc:
        import pytest

        pytest.fail(f"python-vlc cannot load libVLC: {exc}")
    env = {**os.environ, "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR") or "/tmp"}
    done = subprocess.run([sys.executable, "-c", _VLC_SCRIPT, path], capture_output=True, text=True,
                          timeout=60, env=env)
    line = next((line for line in done.stdout.splitlines() if line.startswith("VLC=")), None)
    assert line, done.stderr[-2000:]
    found = json.loads(line[4:])
    assert found["state"] == "State.Playing", found
    return [(offset * NS_PER_MS, name) for offset, name in found["chapters"]]


_GST_CHAPTER = re.compile(r"^\s+chapter: start: (\d+):(\d\d):(\d\d)\.(\d{9}) stop:")
_GST_TITLE = re.compile(r"^\s+title: (.*)$")


def gst_chapters(path: str) -> list[tuple[int, str]]:
    """The chapters of the TOC GStreamer's demuxer posts, from ``gst-discoverer-1.0 -c``."""
    discoverer = require_tool("gst-discoverer-1.0")
    done = subprocess.run([discoverer, "-c", path], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Done discovering" in done.stdout, done.stdout + done.stderr
    chapters: list[tuple[int, str]] = []
    for line in done.stdout.splitlines():
        if match := _GST_CHAPTER.match(line):
            h, m, s, ns = (int(group) for group in match.groups())
            chapters.append(((h * 3600 + m * 60 + s) * NS_PER_SECOND + ns, ""))
        elif (match := _GST_TITLE.match(line)) and chapters and not chapters[-1][1]:
            chapters[-1] = (chapters[-1][0], match.group(1))
    return chapters


def mpv_list(path: str, offset_ns: int = 0) -> list[tuple[int, str]]:
    """mpv's chapter list; ``offset_ns`` adds back the start time mpv rebases by (MP3)."""
    return [(round(item["time"] * 1e9) + offset_ns, item.get("title", "")) for item in mpv_chapters(path)]


def differences(listed: list[tuple[int, str]], expected: ChapterList) -> list[str]:
    """How a player's list differs from the source (empty when it matches)."""
    found = []
    if len(listed) != len(expected):
        found.append(f"{len(listed)} chapters listed, {len(expected)} expected")
    for index, ((start, title), chapter) in enumerate(zip(listed, expected), 1):
        if abs(start - chapter.start_ns) > TOLERANCE_NS:
            found.append(f"#{index} starts at {start} ns, expected {chapter.start_ns}")
        if title != chapter.title:
            found.append(f"#{index} is titled {title!r}, expected {chapter.title!r}")
    return found


def mpv_chapters_file(path: str, chapters_file: str) -> list[tuple[int, str]]:
    """mpv's chapter list for ``path`` played with ``--chapters-file`` (the Lua script of conftest)."""
    import tempfile

    from conftest import _MPV_SCRIPT

    mpv = require_tool("mpv")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_MPV_SCRIPT)
    try:
        done = subprocess.run([mpv, "--no-config", "--vo=null", "--ao=null", "--really-quiet",
                               f"--chapters-file={chapters_file}", f"--script={script.name}", path],
                              capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(script.name)
    assert "CHAPTERS=" in done.stdout, done.stderr
    listed = json.loads(done.stdout.split("CHAPTERS=", 1)[1].splitlines()[0]) or []
    return [(round(item["time"] * 1e9), item.get("title", "")) for item in listed]
