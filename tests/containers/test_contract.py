"""The reader contract: on every container, every reader agrees with the reference tools.

mutagen-style, the same tests run over every case: container (mp4, mov, m4a,
m4b, mkv, webm, mp3, Ogg Vorbis, Opus, FLAC) x FFmpeg build that made the clip
(bundled 9.0.2, Debian 5.1) x writer of the chapters:

- ``chapterkit``: :func:`chapterkit.embed.embed`, as ``chapterkit embed`` writes
  them (FFmpeg stream copy for MP4 and Matroska, mutagen for MP3, Ogg and FLAC);
- ``ffmpeg``: FFmpeg itself, ``-map_chapters`` from FFMETADATA, where it writes
  chapters at all (not Ogg Vorbis nor FLAC, ``containers.md`` §2.4);
- ``mkvmerge``: ``mkvmerge --chapters`` with an XML chapter file (MKV, WebM).

Each file is then read by every reader that applies and compared with
``ffprobe -show_chapters`` (Debian's, libavformat 59) and with the container's
own reference: ``mkvextract chapters`` for Matroska, mutagen for MP4 ``chpl``,
ID3 ``CHAP`` and Vorbis comments. Times must agree within what the carrier
stores (:data:`UNIT_NS`), titles exactly, ends wherever the carrier stores them.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from chapterkit import containers
from chapterkit.embed import embed
from chapterkit.formats import ffmetadata
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, ChapterList, seconds_to_ns
from chapterkit.verify import default_tolerance_ns, verify_file
from conftest import ffmpeg_for, make_media, require_tool, run_ffmpeg

#: Case name -> make_media recipe; the container id is what ``containers.sniff`` says.
CONTAINERS = {"mp4": "mp4", "mov": "mp4", "m4a": "mp4", "m4b": "mp4", "mkv": "matroska",
              "webm": "matroska", "mp3": "mp3", "ogg": "ogg", "opus": "ogg", "flac": "flac"}
#: Where FFmpeg writes chapters itself: Ogg Vorbis and FLAC get none (oggenc.c, flacenc.c).
FFMPEG_WRITES = ("mp4", "mov", "m4a", "m4b", "mkv", "webm", "mp3", "opus")
BUILDS = ("bundled", "debian")

#: The coarsest unit a reader of the container may round to. MP4: the QuickTime track is
#: in ms (chapterkit and FFmpeg 5.1 write -movie_timescale 1000) while chpl keeps 100 ns;
#: every other carrier gives all its readers the same integers (ns in Matroska, ms in
#: ID3 CHAP and CHAPTERnnn), so they must agree exactly.
UNIT_NS = {"mp4": NS_PER_MS, "matroska": 0, "mp3": 0, "ogg": 0, "flac": 0}
#: How far readers' media durations may differ from ffprobe's: FFmpeg counts Opus
#: pre-skip (6.5 ms measured) and MP3 priming differently, and rounds to 10 ms or 1 µs.
DURATION_SLACK_NS = 50 * NS_PER_MS
SECONDS = 3

S = NS_PER_SECOND
#: What chapterkit writes: FFMETADATA escapes, a line break, 4-byte UTF-8, a sub-ms start,
#: and 313 bytes of title, which MP4 cuts to 253 (the 255-byte chpl limit falls inside a 章).
CHAPTERKIT_SOURCE = ChapterList.of([
    (0, "Intro = ; # \\ back"),
    (1_234_567_891, "Line1\nLine2 🎬"),
    (2_200_000_000, "Ünïcødé: " + "章" * 100),
])
#: What FFmpeg and mkvmerge write: titles under 126 bytes (FFmpeg's own ID3v2.4 frames lose
#: longer ones, §2.3) and no line break (mkvmerge's XML would keep it, FFmpeg's MP3 too).
TOOL_SOURCE = ChapterList.of([
    (0, "Intro = ; # \\"),
    (1_234_567_891, "Zwei — 章节 🎬"),
    (2_200_000_000, "Three"),
], duration_ns=SECONDS * NS_PER_SECOND)  # so the last chapter has a real end (not END=START)


def _cases():
    for case in CONTAINERS:
        writers = ["chapterkit"] + ["ffmpeg"] * (case in FFMPEG_WRITES) + ["mkvmerge"] * (case in ("mkv", "webm"))
        for writer in writers:
            for build in BUILDS:
                yield pytest.param(case, build, writer, id=f"{case}-{build}-{writer}")


CASES = list(_cases())
each_case = pytest.mark.parametrize("case, build, writer", CASES)
chapterkit_cases = pytest.mark.parametrize("case, build, writer", [p for p in CASES if p.values[2] == "chapterkit"])


class Made:
    """One chaptered file and what every tool reads in it (read once, on first use)."""

    def __init__(self, case: str, build: str, writer: str, path: str, expected: ChapterList | None) -> None:
        self.case, self.build, self.writer, self.path = case, build, writer, path
        self.container = CONTAINERS[case]
        self.expected = expected  # what chapterkit planned to write; None for the other writers
        self._readings: dict | None = None
        self._ffprobe: tuple[list, int] | None = None

    @property
    def readings(self) -> dict[str, containers.ReadResult]:
        if self._readings is None:
            results = containers.read(self.path, ffmpeg=ffmpeg_for(self.build))
            self._readings = {result.reader: result for result in results}
        return self._readings

    @property
    def ffprobe(self) -> tuple[list[tuple[int, int, str]], int]:
        """``([(start_ns, end_ns, title)], duration_ns)`` from ffprobe's integers and time bases."""
        if self._ffprobe is None:
            tool = require_tool("ffprobe (Debian package)", "/usr/bin/ffprobe")
            done = subprocess.run([tool, "-v", "error", "-show_chapters", "-show_entries", "format=duration",
                                   "-of", "json", self.path], capture_output=True, text=True, check=True)
            data = json.loads(done.stdout)
            found = []
            for chapter in data["chapters"]:
                base = Fraction(chapter["time_base"])
                found.append((seconds_to_ns(chapter["start"] * base), seconds_to_ns(chapter["end"] * base),
                              chapter.get("tags", {}).get("title", "")))
            self._ffprobe = found, seconds_to_ns(data["format"]["duration"])
        return self._ffprobe


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """(case, build, writer) -> :class:`Made`, built once per module on first use."""
    folder = tmp_path_factory.mktemp("contract")
    clips: dict[tuple[str, str], str] = {}
    cache: dict[tuple[str, str, str], Made] = {}

    def clip(case: str, build: str) -> str:
        if (case, build) not in clips:
            extension = make_media.RECIPES[case][0]
            clips[case, build] = make_media.make_clip(str(folder / f"{case}-{build}-plain{extension}"), case,
                                                      seconds=SECONDS, ffmpeg=ffmpeg_for(build))
        return clips[case, build]

    def get(case: str, build: str, writer: str) -> Made:
        key = (case, build, writer)
        if key not in cache:
            ffmpeg = ffmpeg_for(build)
            source = clip(case, build)
            out = str(folder / f"{case}-{build}-{writer}{make_media.RECIPES[case][0]}")
            expected = None
            if writer == "chapterkit":
                expected = embed(source, CHAPTERKIT_SOURCE, output=out, ffmpeg=ffmpeg, verify=False).chapters
            elif writer == "ffmpeg":
                meta = folder / f"{case}-{build}.ffmeta"
                meta.write_text(ffmetadata.render(TOOL_SOURCE), encoding="utf-8")
                run_ffmpeg(ffmpeg, "-i", source, "-i", str(meta), "-map", "0", "-map_chapters", "1",
                           "-c", "copy", out)
            else:
                _mkvmerge(source, out, folder / f"{case}-{build}.xml")
            cache[key] = Made(case, build, writer, out, expected)
        return cache[key]

    return get


def _mkvmerge(source: str, out: str, xml_path) -> None:
    mkvmerge = require_tool("mkvmerge")
    chapters = ET.Element("Chapters")
    edition = ET.SubElement(chapters, "EditionEntry")
    for chapter in TOOL_SOURCE:
        atom = ET.SubElement(edition, "ChapterAtom")
        ET.SubElement(atom, "ChapterTimeStart").text = _xml_time(chapter.start_ns)
        ET.SubElement(atom, "ChapterTimeEnd").text = _xml_time(chapter.end_ns)
        display = ET.SubElement(atom, "ChapterDisplay")
        ET.SubElement(display, "ChapterString").text = chapter.title
        ET.SubElement(display, "ChapterLanguage").text = "eng"
    ET.ElementTree(chapters).write(xml_path, encoding="utf-8", xml_declaration=True)
    argv = [mkvmerge, "-q", "-o", out, "--chapters", str(xml_path), source]
    if out.endswith(".webm"):
        argv.insert(1, "--webm")
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: warnings only


def _xml_time(ns: int) -> str:
    seconds, rest = divmod(ns, S)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{rest:09d}"


def _stores_ends(reader: str, container: str) -> bool:
    """Whether the reader's ends come from the file (libav: where the container stores them)."""
    if reader == "libav":
        reader = containers.CONTAINER_READERS[container][0]
    return containers.READERS[reader].stores_ends


def _assert_same(reader: str, got: list[tuple[int, int, str]], want: list[tuple[int, int, str]],
                 unit_ns: int, ends: bool, what: str) -> None:
    assert [t for _, _, t in got] == [t for _, _, t in want], f"{reader} titles differ from {what}"
    for number, ((start, end, _), (w_start, w_end, _)) in enumerate(zip(got, want), 1):
        assert abs(start - w_start) <= unit_ns, f"{reader} chapter {number} starts at {start}, {what} {w_start}"
        # Derived ends (chpl, CHAPTERnnn) are the next start, or each tool's own idea of
        # the media's end for the last chapter (compared in the duration test instead).
        if ends or number < len(got):
            assert abs(end - w_end) <= unit_ns, f"{reader} chapter {number} ends at {end}, {what} {w_end}"


def _triples(result: containers.ReadResult) -> list[tuple[int, int, str]]:
    return [(c.start_ns, c.end_ns, c.title) for c in result.chapters]


# -- the contract -----------------------------------------------------------------------------------


@each_case
def test_every_applicable_reader_runs(made, case, build, writer):
    item = made(case, build, writer)
    assert containers.sniff(item.path) == item.container
    assert tuple(item.readings) == containers.CONTAINER_READERS[item.container]
    for result in item.readings.values():
        assert len(result.chapters) == 3, (result.reader, result.notes)


@each_case
def test_every_reader_agrees_with_ffprobe(made, case, build, writer):
    item = made(case, build, writer)
    probed, _ = item.ffprobe
    for reader, result in item.readings.items():
        _assert_same(reader, _triples(result), probed, UNIT_NS[item.container],
                     _stores_ends(reader, item.container), "ffprobe")


@each_case
def test_readers_agree_with_each_other(made, case, build, writer):
    item = made(case, build, writer)
    (first, reference), *others = item.readings.items()
    for reader, result in others:
        _assert_same(reader, _triples(result), _triples(reference), UNIT_NS[item.container],
                     _stores_ends(reader, item.container) and _stores_ends(first, item.container), first)


@each_case
def test_durations_agree_with_ffprobe(made, case, build, writer):
    item = made(case, build, writer)
    _, probed = item.ffprobe
    assert abs(probed - SECONDS * S) <= DURATION_SLACK_NS
    for reader, result in item.readings.items():
        assert result.chapters.duration_ns is not None, reader
        assert abs(result.chapters.duration_ns - probed) <= DURATION_SLACK_NS, reader
        assert abs(result.chapters[-1].end_ns - probed) <= DURATION_SLACK_NS, reader


@each_case
def test_native_reader_agrees_with_its_reference_tool(made, case, build, writer):
    """mkvextract for Matroska; mutagen for chpl, ID3 CHAP and CHAPTERnnn comments."""
    item = made(case, build, writer)
    reader = containers.CONTAINER_READERS[item.container][0]
    ours = _triples(item.readings[reader])
    if item.container == "matroska":
        assert ours == _mkvextract(item.path)
    elif item.container == "mp4":
        from mutagen.mp4 import MP4

        chpl = [(round(Fraction(c.start) * 10**7) * 100, c.title) for c in MP4(item.path).chapters]
        assert [(start, title) for start, _, title in _triples(item.readings["nero"])] == chpl
    elif item.container == "mp3":
        from mutagen.id3 import ID3

        frames = sorted(ID3(item.path).getall("CHAP"), key=lambda frame: frame.start_time)
        assert ours == [(f.start_time * NS_PER_MS, f.end_time * NS_PER_MS, str(f.sub_frames["TIT2"].text[0]))
                        for f in frames]
    else:
        import mutagen

        tags = mutagen.File(item.path).tags
        numbers = sorted({key[7:10] for key, _ in tags if key.upper().startswith("CHAPTER")})
        comments = [(tags[f"CHAPTER{n}"][0], tags[f"CHAPTER{n}NAME"][0]) for n in numbers]
        assert [(f"{start // 3_600_000_000_000:02d}:{start // 60_000_000_000 % 60:02d}:"
                 f"{start // S % 60:02d}.{start // NS_PER_MS % 1000:03d}", title)
                for start, _, title in ours] == comments


def _mkvextract(path: str) -> list[tuple[int, int | None, str]]:
    """The one edition's atoms as mkvextract's lossless XML gives them."""
    tool = require_tool("mkvextract")
    done = subprocess.run([tool, path, "chapters", "-"], capture_output=True, check=True)
    root = ET.fromstring(done.stdout.decode("utf-8-sig"))
    (edition,) = root.findall("EditionEntry")
    return [(_xml_ns(atom.findtext("ChapterTimeStart")), _xml_ns(atom.findtext("ChapterTimeEnd")),
             atom.findtext("ChapterDisplay/ChapterString")) for atom in edition.findall("ChapterAtom")]


def _xml_ns(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    whole, _, fraction = seconds.partition(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(whole)) * S + int(fraction.ljust(9, "0"))


# -- and chapterkit's own files say what the source said ------------------------------------------------


@chapterkit_cases
def test_what_chapterkit_wrote_verifies_with_the_default_tolerance(made, case, build, writer):
    item = made(case, build, writer)
    assert default_tolerance_ns(CHAPTERKIT_SOURCE) == 1_000  # the source has a ns start: 1 µs
    report = verify_file(item.path, CHAPTERKIT_SOURCE, ffmpeg=ffmpeg_for(build))
    assert report.ok, report.headline()
    assert [r.reader for r in report.readers] == list(containers.CONTAINER_READERS[item.container])
    for reader in report.readers:
        # ns-exact carriers match exactly; the others differ only by the rounding of their unit
        assert reader.max_drift_ns < max(reader.unit_ns, 1), reader.reader
        assert [row.actual.title for row in reader.rows] == list(item.expected.titles)
    # ...and against the planned list (MP4 titles cut to 255 bytes) no warning is left but rounding.
    planned = verify_file(item.path, item.expected, tolerance_ns=NS_PER_MS, ffmpeg=ffmpeg_for(build))
    assert planned.ok and all(row.status == "ok" for r in planned.readers for row in r.rows), planned.headline()


def test_the_matrix_covers_every_container_build_and_writer():
    ids = {param.id for param in CASES}
    assert len(ids) == len(CASES) == 2 * (len(CONTAINERS) + len(FFMPEG_WRITES) + 2)
    assert {param.values[0] for param in CASES} == set(CONTAINERS)
    assert set(CONTAINERS.values()) == set(containers.CONTAINER_READERS)  # no container left out
