"""The e2e editor's folder: two dozen media in every container, several sidecar forms and formats.

Clips are generated once per test session (:func:`make_clips`, tiny: 3 s, or 32 s audio for
YouTube-style lists, whose chapters must be at least 10 s long); :func:`build` copies them into
a fresh folder. ``EXPECTED_*`` are the exact outcomes the tests assert.
"""

from __future__ import annotations

import os
import shutil

from chapterkit import formats
from chapterkit.model import ChapterList
from conftest import make_media

SHORT = ChapterList.of([(0, "Intro"), (1_250_000_000, "Middle ✨"), (2_000_000_000, "End")])
OLD = ChapterList.of([(0, "Intro"), (1_000_000_000, "Middle ✨"), (2_000_000_000, "End")])
YOUTUBE = "Chapters:\n0:00 Intro\n0:11 Main part\n0:22 Outro\n"
TYPO = "0:00 Intro\n0:11 Main part\n1:5045 Typo\n0:22 Outro\n"  # line 3 is skipped (a warning)
PAST = "0:00 Intro\n0:10 Later\n0:20 Much later\n"              # past the 3 s clip's end: findings

# media name -> (clip kind, {sidecar name: (format or None for raw text, text)})
LONG = {"e.m4b": "m4b", "i.mp3": "mp3", "warned.opus": "opus"}


def _render(fmt: str) -> str:
    return formats.render(SHORT.with_duration(3_000_000_000) if fmt == "webvtt" else SHORT, fmt)


PAIRS: dict[str, dict[str, str]] = {
    "a.mp4": {"a.chapters.txt": _render("ffmetadata")},
    "b.m4v": {"b.ffmeta": _render("ffmetadata")},
    "c.mov": {"c.mov.vtt": _render("webvtt")},            # the full-name form
    "d.m4a": {"d.json": _render("json")},
    "e.m4b": {"e.txt": YOUTUBE},
    "f.mkv": {"f.chapters.ffmeta": _render("ffmetadata"), "f.txt": "notes, not chapters\n"},
    "g.mka": {"g.vtt": _render("webvtt")},
    "h.webm": {"h.json": _render("json")},
    "i.mp3": {"i.txt": YOUTUBE},
    "j.ogg": {"j.ffmeta": _render("ffmetadata")},
    "k.opus": {"k.vtt": _render("webvtt")},
    "l.flac": {"l.json": _render("json")},
    "m.mp4": {"m.json": _render("json")},
    "n.mkv": {"n.vtt": _render("webvtt")},
    "o.mp3": {"o.chapters.json": _render("json")},
    "take7.dat": {"take7.ffmeta": _render("ffmetadata")},  # FLAC found by content
    os.path.join("sub", "deep.webm"): {os.path.join("sub", "deep.json"): _render("json")},
    "corrupt.mkv": {"corrupt.ffmeta": _render("ffmetadata")},
    "lonely.mp3": {},
    "twosrc.flac": {"twosrc.json": _render("json"), "twosrc.vtt": _render("webvtt")},
    "current.m4a": {"current.json": _render("json")},
    "drifted.mp4": {"drifted.ffmeta": _render("ffmetadata")},
    "past.ogg": {"past.txt": PAST},
    "warned.opus": {"warned.txt": TYPO},
}
KIND = {"take7.dat": "flac", "corrupt.mkv": "mkv"}

WRITTEN = sorted(["a.mp4", "b.m4v", "c.mov", "d.m4a", "e.m4b", "f.mkv", "g.mka", "h.webm", "i.mp3", "j.ogg", "k.opus",
                  "l.flac", "m.mp4", "n.mkv", "o.mp3", "take7.dat", os.path.join("sub", "deep.webm"),
                  "drifted.mp4", "warned.opus"])
EXPECTED_EMBED = {**{name: "written" for name in WRITTEN}, "corrupt.mkv": "error", "lonely.mp3": "skipped",
                  "twosrc.flac": "error", "current.m4a": "up to date", "past.ogg": "findings"}
EXPECTED_DRY = {**EXPECTED_EMBED, **{name: "would write" for name in WRITTEN}}
EXPECTED_SECOND = {**EXPECTED_EMBED, **{name: "up to date" for name in WRITTEN}}
#: --check on the untouched folder: only current.m4a holds its chapters; drifted.mp4 holds others.
EXPECTED_CHECK_BEFORE = {**{name: "findings" for name in EXPECTED_EMBED}, "corrupt.mkv": "error",
                         "lonely.mp3": "skipped", "twosrc.flac": "error", "current.m4a": "ok"}
EXPECTED_CHECK_AFTER = {**EXPECTED_CHECK_BEFORE, **{name: "ok" for name in WRITTEN}}


def make_clips(folder: str) -> dict[str, str]:
    """One clip per container kind (3 s) plus 32 s audio ones for the YouTube-style lists."""
    from chapterkit.embed import embed

    kinds = sorted({name.rsplit(".", 1)[1] for name in PAIRS if name not in KIND} | set(KIND.values()))
    clips = {kind: make_media.make_clip(os.path.join(folder, f"clip.{kind}"), kind, seconds=3) for kind in kinds}
    for name, kind in LONG.items():
        clips[name] = make_media.make_clip(os.path.join(folder, f"long.{kind}"), kind, seconds=32)
    clips["current.m4a"] = embed(clips["m4a"], SHORT, output=os.path.join(folder, "current.m4a")).output
    clips["drifted.mp4"] = embed(clips["mp4"], OLD, output=os.path.join(folder, "drifted.mp4")).output
    return clips


def build(folder: str, clips: dict[str, str]) -> None:
    os.makedirs(os.path.join(folder, "sub"))
    for name, sidecars in PAIRS.items():
        target = os.path.join(folder, name)
        kind = KIND.get(name, name.rsplit(".", 1)[1])
        source = clips.get(name) or clips[kind]
        if name == "corrupt.mkv":
            data = open(clips["mkv"], "rb").read()
            with open(target, "wb") as out:
                out.write(data[:40] + bytes(200))
        else:
            shutil.copyfile(source, target)
        for sidecar, text in sidecars.items():
            with open(os.path.join(folder, sidecar), "w", encoding="utf-8") as out:
                out.write(text)
    with open(os.path.join(folder, "readme.md"), "w") as out:
        out.write("not media\n")
