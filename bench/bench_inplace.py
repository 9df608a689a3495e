"""In-place chapter edits against mkvpropedit and cp (issue 8).

    python bench/bench_inplace.py [--big-gb 2] [--files 40] [--copy-mb 200]

1. ``embed(..., in_place=True)`` on a 20 MB and a ``--big-gb`` GB MKV: median seconds
   and the ratio big/small (goal <= 1.2). The big file is the 20 MB one followed by a
   sparse Void of the missing size (Matroska allows a Void anywhere; the file costs
   20 MB of disk), so the edit has to reach the end of a 2 GB file like any other.
2. ``chapterkit embed --in-place`` as one command (Python start-up included) against
   ``mkvpropedit FILE --chapters chapters.xml`` (goal: within 3x).
3. ``--files`` copies of the 20 MB file edited in one process against one mkvpropedit
   run per file (goal: faster per file).
4. ``-o OUT`` on a ``--copy-mb`` MB file: clone (XFS with reflink on a loop mount, root
   only) and copy (this folder's file system) against ``cp`` (``--reflink=never`` and
   GNU cp's default ``auto``).
Every file is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from common import OUT, big_file

from chapterkit.containers.ebml import encode_size, parse_header
from chapterkit.embed import embed
from chapterkit.model import NS_PER_SECOND, ChapterList

XML = """<?xml version="1.0"?>
<Chapters><EditionEntry>{}</EditionEntry></Chapters>
"""


def chapters(tag: str, count: int = 8) -> ChapterList:
    return ChapterList.of([(i * 2 * NS_PER_SECOND, f"{tag} {i + 1}") for i in range(count)])


def xml_for(path: str, tag: str, count: int = 8) -> None:
    atoms = "".join(f"<ChapterAtom><ChapterTimeStart>00:00:{2 * i:02d}.000</ChapterTimeStart>"
                    f"<ChapterDisplay><ChapterString>{tag} {i + 1}</ChapterString></ChapterDisplay></ChapterAtom>"
                    for i in range(count))
    with open(path, "w") as handle:
        handle.write(XML.format(atoms))


def median(action, runs: int = 7) -> float:
    times = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def grow_sparse(source: str, target: str, size: int) -> None:
    """``source`` plus a Void that makes it ``size`` bytes; the Void is a hole on disk."""
    shutil.copyfile(source, target)
    data = open(source, "rb").read(64)
    segment = parse_header(data, parse_header(data, 0).end)
    extra = size - os.path.getsize(source)
    with open(target, "r+b") as handle:
        handle.seek(0, os.SEEK_END)
        handle.write(b"\xec" + encode_size(extra - 9, 8))
        handle.truncate(size)
        handle.seek(segment.offset + 4)
        handle.write(encode_size(segment.size + extra, segment.header_size - 4))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-gb", type=float, default=2)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--copy-mb", type=int, default=200)
    args = parser.parse_args()
    mkvpropedit = shutil.which("mkvpropedit")
    small_source = big_file(".mkv", 20)
    work = tempfile.mkdtemp(prefix="inplace-", dir=OUT)
    try:
        small = os.path.join(work, "small.mkv")
        big = os.path.join(work, "big.mkv")
        shutil.copyfile(small_source, small)
        grow_sparse(small_source, big, int(args.big_gb * (1 << 30)))
        print(f"files: {os.path.getsize(small) / 1e6:.1f} MB and {os.path.getsize(big) / 1e9:.2f} GB "
              f"({os.stat(big).st_blocks * 512 / 1e6:.1f} MB on disk)")
        for verify in (False, True):
            def edit(path):
                return lambda run: embed(path, chapters(f"run {run}"), in_place=True, verify=verify)
            first = embed(small, chapters("warm"), in_place=True, verify=False)
            assert first.method == "in place", first.warnings
            embed(big, chapters("warm"), in_place=True, verify=False)
            t_small, t_big = median(edit(small)), median(edit(big))
            print(f"in place (library, verify={verify}): 20 MB {t_small * 1e3:.2f} ms, "
                  f"{args.big_gb:g} GB {t_big * 1e3:.2f} ms, ratio big/small {t_big / t_small:.2f}")
        meta = os.path.join(work, "ch.ffmeta")
        with open(meta, "w") as handle:
            handle.write(";FFMETADATA1\n" + "".join(
                f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={2000 * i}\nEND={2000 * i + 2000}\ntitle=CLI {i + 1}\n"
                for i in range(8)))
        xml = os.path.join(work, "ch.xml")
        xml_for(xml, "mkvpropedit")
        # Bytecode cached as on any installed system (this machine sets PYTHONDONTWRITEBYTECODE,
        # which would add ~120 ms of compiling to every run); one warm-up run writes it.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([sys.executable, "-m", "chapterkit", "embed", small, "--chapters", meta, "--in-place"],
                       check=True, capture_output=True, env=env)
        for path, label in ((small, "20 MB"), (big, f"{args.big_gb:g} GB")):
            for flags, name in ((["--no-verify"], "no verify"), ([], "verified")):
                ours = median(lambda run: subprocess.run(
                    [sys.executable, "-m", "chapterkit", "embed", path, "--chapters", meta, "--in-place", *flags],
                    check=True, capture_output=True, env=env), runs=5)
                line = f"one command on {label} ({name}): chapterkit {ours * 1e3:.0f} ms"
                if mkvpropedit:
                    theirs = median(lambda run: subprocess.run([mkvpropedit, path, "--chapters", xml], check=True,
                                                               capture_output=True), runs=5)
                    line += f", mkvpropedit {theirs * 1e3:.0f} ms, ratio {ours / theirs:.2f}"
                print(line)
        copies = []
        for number in range(args.files):
            copy = os.path.join(work, f"many-{number}.mkv")
            shutil.copyfile(small, copy)
            copies.append(copy)
        start = time.perf_counter()
        for copy in copies:
            embed(copy, chapters("batch"), in_place=True, verify=False)
        ours = (time.perf_counter() - start) / len(copies)
        line = f"{len(copies)} files in one process: chapterkit {ours * 1e3:.2f} ms per file"
        if mkvpropedit:
            start = time.perf_counter()
            for copy in copies:
                subprocess.run([mkvpropedit, copy, "--chapters", xml], check=True, capture_output=True)
            theirs = (time.perf_counter() - start) / len(copies)
            line += f", mkvpropedit {theirs * 1e3:.2f} ms per file, ratio {ours / theirs:.2f}"
        print(line)
        for copy in copies:
            os.unlink(copy)
        copy_bench(work, args.copy_mb)
    finally:
        shutil.rmtree(work)


def copy_bench(work: str, megabytes: int) -> None:
    source = big_file(".mkv", megabytes)
    folders = [(work, "this disk")]
    mount = None
    if os.geteuid() == 0 and shutil.which("mkfs.xfs"):
        image = os.path.join(work, "xfs.img")
        with open(image, "wb") as handle:
            handle.truncate(max(1 << 30, 3 * megabytes << 20))
        subprocess.run(["mkfs.xfs", "-q", "-m", "reflink=1", image], check=True)
        mount = os.path.join(work, "xfs")
        os.mkdir(mount)
        if subprocess.run(["mount", "-o", "loop", image, mount]).returncode == 0:
            folders.append((mount, "XFS reflink"))
        else:
            mount = None
    try:
        for folder, label in folders:
            media = os.path.join(folder, "media.mkv")
            shutil.copyfile(source, media)
            embed(media, chapters("base"), in_place=True, verify=False)
            out = os.path.join(folder, "out.mkv")

            def ours(method):
                def action(run):
                    result = embed(media, chapters(f"o {run}"), output=out, verify=False, method=method)
                    assert result.method == method
                    os.sync()
                    os.unlink(out)
                return action

            def cp(flag):
                def action(run):
                    subprocess.run(["cp", flag, media, out], check=True)
                    os.sync()
                    os.unlink(out)
                return action
            line = f"-o on {megabytes} MB ({label}):"
            reference = median(cp("--reflink=never"), runs=5)
            auto = median(cp("--reflink=auto"), runs=5)
            line += f" cp --reflink=never {reference * 1e3:.0f} ms, cp (auto) {auto * 1e3:.0f} ms"
            copy = median(ours("copy"), runs=5)
            line += f"; embed copy {copy * 1e3:.0f} ms ({copy / reference:.2f}x cp)"
            if label == "XFS reflink":
                clone = median(ours("clone"), runs=5)
                line += f", embed clone {clone * 1e3:.0f} ms ({clone / reference:.3f}x cp)"
            print(line + " (each followed by sync)")
            os.unlink(media)
    finally:
        if mount:
            subprocess.run(["umount", mount], check=True)


if __name__ == "__main__":
    main()
