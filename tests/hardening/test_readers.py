"""Issue 11, readers: one reader's failure must not hide the others.

Each file is made by the test: a tiny clip chaptered by ``chapterkit.embed``, then
damaged the way real files are (audio cut short, an empty chapter track, a bad
Ogg page CRC). ``show`` must show what the readers that can read it see, and
``verify`` must report each reader's problem or error as its own entry.
"""

from __future__ import annotations

import json

import pytest

from chapterkit import containers
from chapterkit.embed import embed
from chapterkit.model import NS_PER_MS, ChapterList
from chapterkit.verify import verify_file
from conftest import bundled_ffmpeg, make_media
from hardening.helpers import cli, empty_chapter_track, one_line_error

MS = NS_PER_MS
THREE = ChapterList.of([(0, "Intro"), (1_000 * MS, "Middle"), (2_000 * MS, "Outro")])


def chaptered(folder, kind: str, chapters: ChapterList = THREE) -> str:
    extension = make_media.RECIPES[kind][0]
    clip = make_media.make_clip(str(folder / f"plain{extension}"), kind, seconds=3, ffmpeg=bundled_ffmpeg())
    out = str(folder / f"chaptered{extension}")
    embed(clip, chapters, output=out, ffmpeg=bundled_ffmpeg())
    return out


def source(folder, chapters: ChapterList = THREE) -> str:
    path = folder / "source.json"
    path.write_text(json.dumps({"chapters": [{"start": c.start_ns / 1e9, "title": c.title} for c in chapters]}))
    return str(path)


def test_cut_mp3_shows_its_chapters_and_verify_reports_the_cut(tmp_path):
    path = chaptered(tmp_path, "mp3")
    data = open(path, "rb").read()
    with open(path, "wb") as out:
        out.write(data[:-1500])
    id3 = containers.run_reader("id3", path)
    assert id3.chapters.titles == THREE.titles
    assert len(id3.problems) == 1 and "truncated" in id3.problems[0]

    shown = cli("show", path)
    assert shown.returncode == 0, shown.stderr
    assert "Middle" in shown.stdout and "id3: problem:" in shown.stdout and "truncated" in shown.stdout

    report = verify_file(path, THREE, ffmpeg=bundled_ffmpeg())
    by_reader = {reader.reader: reader for reader in report.readers}
    assert any("truncated" in problem for problem in by_reader["id3"].problems)
    assert all(row.ok for row in by_reader["id3"].rows)  # the chapters themselves match
    checked = cli("verify", path, "--chapters", source(tmp_path), "--report", "json")
    assert checked.returncode == 1, checked.stderr
    entry = next(r for r in json.loads(checked.stdout)["readers"] if r["reader"] == "id3")
    assert any("truncated" in problem for problem in entry["problems"]) and entry["error"] is None


def test_empty_quicktime_track_with_a_112_entry_nero_list(tmp_path):
    many = ChapterList.of([(index * 20 * MS, f"Chapter {index + 1}") for index in range(112)])
    path = chaptered(tmp_path, "mp4", many)
    empty_chapter_track(path)
    results = {result.reader: result for result in containers.read_each(path, ffmpeg=bundled_ffmpeg())}
    assert len(results["nero"].chapters) == 112

    shown = cli("show", path)
    assert shown.returncode == 0, shown.stderr
    assert "Chapter 112" in shown.stdout

    exported = cli("show", path, "--to", "ffmetadata")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.count("[CHAPTER]") == 112


def test_show_to_on_a_nero_only_mp4_exports_the_nero_list(tmp_path):
    path = chaptered(tmp_path, "m4a")
    empty_chapter_track(path)  # the QuickTime list is empty; only chpl holds chapters
    quicktime = containers.run_reader("quicktime", path)
    assert len(quicktime.chapters) == 0 and any("0 samples" in note for note in quicktime.notes)
    exported = cli("show", path, "--to", "youtube")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[1:] == ["0:01 Middle", "0:02 Outro"]
    assert "exported what nero sees" in exported.stderr
    named = cli("show", path, "--to", "youtube", "--reader", "quicktime")
    assert named.returncode == 1 and "no chapters" in one_line_error(named)


def test_ogg_with_a_bad_page_crc(tmp_path):
    path = chaptered(tmp_path, "ogg")
    data = bytearray(open(path, "rb").read())
    second = data.find(b"OggS", 1)
    data[second + 30] ^= 0x01  # inside the comment header page: FFmpeg refuses the CRC
    open(path, "wb").write(bytes(data))

    shown = cli("show", path)
    assert shown.returncode == 0, shown.stderr
    assert "Middle" in shown.stdout
    assert "libav: error:" in shown.stdout and "\nlibav: error:" in "\n" + shown.stdout

    checked = cli("verify", path, "--chapters", source(tmp_path), "--report", "json")
    readers = {r["reader"]: r for r in json.loads(checked.stdout)["readers"]}
    assert readers["vorbis"]["ok"] and readers["libav"]["error"]
    assert readers["libav"]["problems"] and not readers["libav"]["ok"]
    assert checked.returncode == 2, checked.stderr  # the worst: a reader could not read it
    text = cli("verify", path, "--chapters", source(tmp_path))
    assert "libav" in text.stdout and "cannot read" in text.stdout


def test_show_exits_2_with_one_line_when_no_reader_reads_the_file(tmp_path):
    path = chaptered(tmp_path, "ogg")
    data = bytearray(open(path, "rb").read())
    data[:4] = b"OggS"
    data[60:200] = bytes(140)  # the headers are gone: neither mutagen nor FFmpeg reads it
    open(path, "wb").write(bytes(data))
    shown = cli("show", path)
    assert shown.returncode == 2
    assert path in one_line_error(shown)


@pytest.mark.parametrize("reader", ["nero", "quicktime"])
def test_show_reader_is_still_one_reader(tmp_path, reader):
    path = chaptered(tmp_path, "mp4")
    shown = cli("show", path, "--reader", reader, "--to", "youtube")
    assert shown.returncode == 0 and "Middle" in shown.stdout
