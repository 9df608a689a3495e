"""Shared test helpers: where fixtures live, which FFmpeg builds exist, tool gates.

Tools pip cannot install (Debian's FFmpeg 5.1, mkvtoolnix, mpv) make their tests
skip with the tool's name when absent, except under ``CI=true``: ``.ci/run``
installs them, so there a missing tool is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
IN_CI = os.environ.get("CI", "").lower() == "true"
DEBIAN_FFMPEG = "/usr/bin/ffmpeg"


def fixture_path(*parts: str) -> Path:
    """The one way tests find committed fixtures."""
    path = FIXTURES.joinpath(*parts)
    assert path.exists(), f"missing fixture {path}"
    return path


def require_tool(name: str, path: str | None = None) -> str:
    """The tool's path; skips the test when absent (fails instead under CI=true)."""
    found = path if path and os.path.exists(path) else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed"
    if IN_CI:
        pytest.fail(f"{message}, but .ci/run installs it")
    pytest.skip(message)


def require_root(what: str) -> None:
    """Skip a test that mounts a file system when not root (CI runs as root: there it fails)."""
    if os.geteuid() == 0:
        return
    message = f"{what} needs root (mount)"
    if IN_CI:
        pytest.fail(f"{message}, and CI runs as root")
    pytest.skip(message)


def bundled_ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_builds() -> list[pytest.param]:
    """The FFmpeg builds to run container tests with: the bundled one and Debian's."""
    return [pytest.param("bundled", id="ffmpeg-bundled"),
            pytest.param("debian", id="ffmpeg-debian")]


@pytest.fixture(params=ffmpeg_builds())
def ffmpeg_exe(request) -> str:
    """Each FFmpeg build in turn (Debian's skips when not installed outside CI)."""
    if request.param == "bundled":
        return bundled_ffmpeg()
    return require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)


def run_ffmpeg(ffmpeg: str, *args: str) -> None:
    """Run a test-side FFmpeg command (fixture generation), failing loudly."""
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _load_make_media():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_media", FIXTURES / "make_media.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: fixtures/make_media.py, the one script that makes test media from lavfi sources.
make_media = _load_make_media()


def ffmpeg_for(build: str) -> str:
    """The FFmpeg binary of a build name used in parametrised tests ("bundled" or "debian")."""
    return bundled_ffmpeg() if build == "bundled" else require_tool("ffmpeg (Debian package)", DEBIAN_FFMPEG)


_MPV_SCRIPT = """local u = require "mp.utils"
mp.register_event("file-loaded", function()
  io.write("CHAPTERS=" .. u.format_json(mp.get_property_native("chapter-list")) .. "\\n")
  mp.command("quit")
end)
"""


def mpv_chapters(path: str) -> list[dict]:
    """mpv's own ``chapter-list`` for ``path`` (``[{"time": s, "title": str}]``).

    A Lua script prints the property once the file is loaded (research containers.md
    section 3: ``--frames=0`` prints nothing; a script on ``file-loaded`` works).
    """
    import json
    import tempfile

    mpv = require_tool("mpv")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_MPV_SCRIPT)
    try:
        done = subprocess.run([mpv, "--no-config", "--vo=null", "--ao=null", "--really-quiet",
                               f"--script={script.name}", path], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(script.name)
    assert "CHAPTERS=" in done.stdout, done.stderr
    return json.loads(done.stdout.split("CHAPTERS=", 1)[1].splitlines()[0]) or []


#: A minimal ASS subtitle script for tests that need a second subtitle codec.
SAMPLE_ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,Bonjour
"""
