"""Which files a batch works on: media found by content, each paired with its chapter source.

Discovery (no manifest) walks the folders given. A file is media when its first bytes
name a container (:func:`chapterkit.containers.sniff`), or when its extension is a media
extension (so a corrupt ``clip.mkv`` is still reported, not silently ignored). Sidecar
chapter sources are looked up by name, with the extensions every format in the registry
(:data:`chapterkit.formats.FORMATS`) declares, so a format added there joins discovery
without an edit here. For ``clip.mp4`` and a registry extension ``.x`` the candidates are,
in two tiers (the first tier with any hit wins)::

    1. clip.chapters.x
    2. clip.x  and  clip.mp4.x      (the full-name form some exporters write)

Two hits in the winning tier (``clip.txt`` and ``clip.json``) are an error for that file
naming both, never a guess. Names match case-insensitively.

A manifest (CSV with a header, or JSON: a list of objects) replaces discovery; columns
``media``, ``source`` and optional ``format`` and ``fps``; relative paths are relative to
the manifest's folder. ``--shard K/N`` keeps the jobs whose relative name hashes to K-1
modulo N (SHA-1: the same split on every machine and Python, and adding a file does not
move the others between shards).
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

from chapterkit.containers import CONTAINER_EXTENSIONS, _sniff_bytes
from chapterkit.errors import ChapterkitError, UsageError

MEDIA_SUFFIXES = frozenset(ext for exts in CONTAINER_EXTENSIONS.values() for ext in exts)
TEMP_PREFIX = ".chapterkit-"  # embed's temporary files


@dataclass(frozen=True, slots=True)
class Job:
    """One media file and its chapter source.

    ``source`` is None when there is none; ``candidates`` lists every source found when
    more than one competes (then ``source`` is None and the job is an error). ``name`` is
    the media path relative to the folder it was found in (unique within a run). ``text``
    is the source's text when it was read once for several files (``verify A B --chapters -``).
    """

    media: str
    source: str | None
    name: str
    candidates: tuple[str, ...] = ()
    format: str | None = None
    fps: str | None = None
    text: str | None = None   # the source's text when already read (stdin shared by several files)


def sidecar_extensions() -> tuple[str, ...]:
    """Every extension a registered chapter format reads, in registry order, once each."""
    from chapterkit.formats import FORMATS

    return tuple(dict.fromkeys(ext.lower() for fmt in FORMATS.values() for ext in fmt.extensions))


def sidecar_for(media_name: str, names_lower: dict[str, str]) -> tuple[str | None, tuple[str, ...]]:
    """The sidecar of ``media_name`` among a folder's names (lower -> real), and all rivals if ambiguous."""
    stem = os.path.splitext(media_name)[0]
    extensions = sidecar_extensions()
    tiers = ([f"{stem}.chapters{ext}" for ext in extensions],
             [n for ext in extensions for n in (f"{stem}{ext}", f"{media_name}{ext}")])
    for tier in tiers:
        hits = list(dict.fromkeys(names_lower[n.lower()] for n in tier if n.lower() in names_lower))
        if len(hits) == 1:
            return hits[0], ()
        if hits:
            return None, tuple(hits)
    return None, ()


def _is_media(path: str, name: str) -> bool:
    if name.startswith(TEMP_PREFIX) or name.startswith("."):
        return False
    if os.path.splitext(name)[1].lower() in MEDIA_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return _sniff_bytes(handle.read(64)) is not None
    except OSError:
        return False


def find_jobs(folders: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *, recursive: bool = False,
              include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Job]:
    """Every media file under ``folders`` paired with its sidecar, sorted by name.

    Hidden files and folders are skipped. Raises :class:`UsageError` for a path that is
    not a folder, and, without ``recursive``, when the only media are in subfolders.
    """
    roots = [os.fspath(folders)] if isinstance(folders, (str, os.PathLike)) else [os.fspath(f) for f in folders]
    jobs: list[Job] = []
    for root in roots:
        if not os.path.isdir(root):
            raise UsageError("not a folder", path=root, verb="listing")
        prefix = "" if len(roots) == 1 else os.path.basename(os.path.abspath(root)) + os.sep
        found = _walk(root, recursive, prefix)
        if not found and not recursive and _walk(root, True, prefix):
            raise UsageError("no media here, only in subfolders; add --recursive", path=root, verb="listing")
        jobs += found
    jobs = [job for job in jobs if _selected(job.name, include, exclude)]
    return sorted(jobs, key=lambda job: job.name)


def _walk(root: str, recursive: bool, prefix: str) -> list[Job]:
    jobs = []
    try:
        for directory, subdirs, files in os.walk(root, onerror=_raise):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".")) if recursive else []
            names_lower = {name.lower(): name for name in files}
            for name in sorted(files):
                path = os.path.join(directory, name)
                if not os.path.isfile(path) or not _is_media(path, name):
                    continue
                sidecar, rivals = sidecar_for(name, names_lower)
                jobs.append(Job(path, None if sidecar is None else os.path.join(directory, sidecar),
                                prefix + os.path.relpath(path, root),
                                tuple(os.path.join(directory, rival) for rival in rivals)))
    except OSError as exc:
        raise ChapterkitError(exc.strerror or str(exc), path=exc.filename or root, verb="listing") from None
    return jobs


def _raise(error: OSError) -> None:
    raise error


def _selected(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    def hit(pattern: str) -> bool:
        return fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(os.path.basename(name), pattern)

    return (not include or any(hit(p) for p in include)) and not any(hit(p) for p in exclude)


def read_manifest(path: str | os.PathLike[str]) -> list[Job]:
    """Jobs from a CSV or JSON manifest (see the module docstring); raises :class:`UsageError` when malformed."""
    from chapterkit.sources import read_text

    name = os.fspath(path)
    text = read_text(name)
    base = os.path.dirname(os.path.abspath(name))
    try:
        rows = json.loads(text) if text.lstrip().startswith(("[", "{")) else list(csv.DictReader(io.StringIO(text)))
    except json.JSONDecodeError as exc:
        raise UsageError(f"not valid JSON: {exc.msg} (line {exc.lineno})", path=name, verb="reading") from None
    if isinstance(rows, dict):
        rows = rows.get("files", [])
    jobs = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not row.get("media"):
            raise UsageError(f"entry {number} has no 'media'", path=name, verb="reading")
        media = os.path.join(base, str(row["media"]))
        source = os.path.join(base, str(row["source"])) if row.get("source") else None
        jobs.append(Job(media, source, os.path.normpath(str(row["media"])),
                        format=row.get("format") or None, fps=str(row["fps"]) if row.get("fps") else None))
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise UsageError("lists a media file twice", path=name, verb="reading")
    return jobs


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; raises :class:`UsageError` unless 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r} is not K/N (e.g. 1/4)") from None
    if not 1 <= k <= n:
        raise UsageError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def shard(jobs: Sequence[Job], k: int, n: int) -> list[Job]:
    """The stable K-th of N shares of ``jobs`` (by a hash of each name)."""
    def bucket(job: Job) -> int:
        return int.from_bytes(hashlib.sha1(job.name.replace(os.sep, "/").encode()).digest()[:8], "big") % n

    return [job for job in jobs if bucket(job) == k - 1]
