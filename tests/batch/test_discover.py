"""batch.discover: media by content, sidecars by registry extension in two tiers, manifests, shards."""

from __future__ import annotations

import os

import pytest

from chapterkit import formats
from chapterkit.batch import discover
from chapterkit.errors import UsageError

FLAC_HEAD = b"fLaC" + bytes(60)


def names(jobs):
    return {job.name: (job.source and os.path.basename(job.source),
                       tuple(os.path.basename(c) for c in job.candidates)) for job in jobs}


def test_tiers_full_name_form_and_rivals(tmp_path):
    for name in ("x.MP4", "x.txt", "x.chapters.VTT", "y.mkv", "y.description", "y.json", "z.flac",
                 "w.mp3", "w.mp3.txt", ".chapterkit-abc.mp4", ".hidden.mp4", "notes.md"):
        (tmp_path / name).write_bytes(b"")
    found = names(discover.find_jobs(tmp_path))
    assert found == {"x.MP4": ("x.chapters.VTT", ()),        # clip.chapters.* beats clip.txt
                     "y.mkv": (None, ("y.json", "y.description")),  # two sources: an error naming both
                     "z.flac": (None, ()),
                     "w.mp3": ("w.mp3.txt", ())}             # the full-name form


def test_media_found_by_content_not_only_extension(tmp_path):
    (tmp_path / "take7.dat").write_bytes(FLAC_HEAD)
    (tmp_path / "take7.json").write_text("{}")
    (tmp_path / "table.dat").write_bytes(b"plain numbers\n")
    assert names(discover.find_jobs(tmp_path)) == {"take7.dat": ("take7.json", ())}


def test_sidecar_extensions_come_from_the_registry(tmp_path, monkeypatch):
    class Fake:
        name, extensions, summary = "fake", (".chap",), "a format another helper adds"

    monkeypatch.setitem(formats.FORMATS, "fake", Fake)
    assert ".chap" in discover.sidecar_extensions()
    (tmp_path / "a.mkv").write_bytes(b"")
    (tmp_path / "a.chap").write_text("x")
    assert names(discover.find_jobs(tmp_path)) == {"a.mkv": ("a.chap", ())}
    assert set(discover.sidecar_extensions()) >= {ext for f in formats.FORMATS.values() for ext in f.extensions}


def test_recursive_hint_include_exclude_and_missing_folder(tmp_path):
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "a.mp3").write_bytes(b"")
    (tmp_path / "day1" / "b.mp3").write_bytes(b"")
    with pytest.raises(UsageError, match="only in subfolders; add --recursive"):
        discover.find_jobs(tmp_path)
    deep = discover.find_jobs(tmp_path, recursive=True, exclude=["b.*"])
    assert [job.name for job in deep] == [os.path.join("day1", "a.mp3")]
    assert [j.name for j in discover.find_jobs(tmp_path, recursive=True, include=["day1/b*"])] == \
        [os.path.join("day1", "b.mp3")]
    with pytest.raises(UsageError, match="not a folder while listing"):
        discover.find_jobs(tmp_path / "nope")


def test_manifest_csv_and_json(tmp_path):
    (tmp_path / "m.csv").write_text("media,source,format,fps\nv/a.mp4,c/a.cfg,ffmetadata,25\nv/b.mp4,,,\n")
    jobs = discover.read_manifest(tmp_path / "m.csv")
    assert [(j.name, j.source, j.format, j.fps) for j in jobs] == [
        (os.path.join("v", "a.mp4"), str(tmp_path / "c/a.cfg"), "ffmetadata", "25"),
        (os.path.join("v", "b.mp4"), None, None, None)]
    (tmp_path / "m.json").write_text('[{"media": "a.mp4", "source": "a.txt"}, {"media": "a.mp4"}]')
    with pytest.raises(UsageError, match="lists a media file twice"):
        discover.read_manifest(tmp_path / "m.json")
    (tmp_path / "bad.json").write_text('[{"source": "a.txt"}]')
    with pytest.raises(UsageError, match="entry 1 has no 'media'"):
        discover.read_manifest(tmp_path / "bad.json")


def test_shards_are_a_stable_partition():
    jobs = [discover.Job(f"/m/{n}.mp4", None, f"{n}.mp4") for n in range(200)]
    parts = [discover.shard(jobs, k, 4) for k in range(1, 5)]
    assert sorted(j.name for part in parts for j in part) == sorted(j.name for j in jobs)
    assert all(30 < len(part) < 70 for part in parts)
    # adding files does not move the others between shards
    more = jobs + [discover.Job("/m/new.mp4", None, "new.mp4")]
    assert set(discover.shard(jobs, 2, 4)) <= set(discover.shard(more, 2, 4))
    assert discover.parse_shard("2/4") == (2, 4)
    for bad in ("0/4", "5/4", "x", "1/0"):
        with pytest.raises(UsageError):
            discover.parse_shard(bad)
