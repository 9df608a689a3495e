"""The matroska reader on real FFmpeg, mkvmerge and mkvpropedit files, and on built ones.

Files FFmpeg and mkvtoolnix never write (unknown-size Clusters, gigabyte gaps,
broken CRCs, odd sizes) are built with the EBML encoder; the gaps are sparse,
so a "1 GiB" file costs nothing on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chapterkit.containers import ReadResult, reader_function
from chapterkit.containers import matroska as mk
from chapterkit.containers.ebml import encode_element, encode_id, encode_size, encode_uint, parse_header
from chapterkit.containers.matroska import Atom, Display, Edition, read_editions, read_matroska
from chapterkit.errors import MediaError
from chapterkit.model import Chapter, ChapterList
from conftest import bundled_ffmpeg, fixture_path, make_media, require_tool, run_ffmpeg

GIB = 1 << 30
AB_META = (";FFMETADATA1\n"
           "[CHAPTER]\nTIMEBASE=1/1000000000\nSTART=0\nEND=1000123457\ntitle=A\n"
           "[CHAPTER]\nTIMEBASE=1/1000000000\nSTART=1000123457\nEND=1500000000\ntitle=Bé 章 = ; #\n"
           "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=1900\ntitle=Last\n")
AB_CHAPTERS = (Chapter(0, 1_000_123_457, "A"), Chapter(1_000_123_457, 1_500_000_000, "Bé 章 = ; #"),
               Chapter(1_500_000_000, 1_900_000_000, "Last"))


# -- media made with real tools, once per module ---------------------------------------

@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """make(ffmpeg, kind) -> path, each file built once per FFmpeg build."""
    folder = tmp_path_factory.mktemp("mkv")
    meta = folder / "ab.ffmeta"
    meta.write_text(AB_META, encoding="utf-8")
    cache: dict[tuple[str, str], Path] = {}

    def make(ffmpeg: str, kind: str) -> Path:
        key = (ffmpeg, kind)
        if key not in cache:
            tag = f"{len(cache)}-{kind}"
            container = "webm" if kind == "webm" else "mkv"
            clip = make_media.make_clip(str(folder / f"{tag}-clip.{container}"), container,
                                        seconds=2, ffmpeg=ffmpeg)
            out = folder / f"{tag}.{container}"
            args = ["-i", clip, "-f", "ffmetadata", "-i", str(meta), "-map", "0",
                    "-map_chapters", "1", "-c", "copy"]
            if kind == "plain":
                out = Path(clip)
            elif kind == "piped":  # unknown-size Segment, as when FFmpeg writes to a pipe
                with open(out, "wb") as sink:
                    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
                                           *args, "-f", "matroska", "-"], stdout=sink,
                                          stderr=subprocess.PIPE, text=True)
                assert done.returncode == 0, done.stderr
            else:
                run_ffmpeg(ffmpeg, *args, str(out))
            cache[key] = out
        return cache[key]

    return make


def _ffprobe_chapters(path: Path) -> list[Chapter]:
    ffprobe = require_tool("ffprobe (Debian package)", "/usr/bin/ffprobe")
    done = subprocess.run([ffprobe, "-v", "error", "-show_chapters", "-of", "json", str(path)],
                          capture_output=True, text=True, check=True)
    found = []
    for chapter in json.loads(done.stdout)["chapters"]:
        assert chapter["time_base"] == "1/1000000000"
        found.append(Chapter(chapter["start"], chapter["end"], chapter["tags"].get("title", "")))
    return found


def _xml_ns(stamp: str) -> int:
    hours, minutes, seconds = stamp.split(":")
    whole, _, fraction = seconds.partition(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(whole)) * 10**9 + int(fraction.ljust(9, "0"))


def _xml_atom(node: ET.Element) -> Atom:
    def flag(name: str, default: bool) -> bool:
        value = node.findtext(name)
        return default if value is None else value != "0"

    end = node.findtext("ChapterTimeEnd")
    uid = node.findtext("ChapterUID")
    displays = tuple(Display(d.findtext("ChapterString") or "",
                             tuple(x.text for x in d.findall("ChapterLanguage")),
                             tuple(x.text for x in d.findall("ChapLanguageIETF")),
                             tuple(x.text for x in d.findall("ChapterCountry")))
                     for d in node.findall("ChapterDisplay"))
    return Atom(None if uid is None else int(uid), _xml_ns(node.findtext("ChapterTimeStart")),
                None if end is None else _xml_ns(end), flag("ChapterFlagHidden", False),
                flag("ChapterFlagEnabled", True), displays,
                tuple(_xml_atom(child) for child in node.findall("ChapterAtom")))


def _mkvextract_editions(path: Path) -> tuple[Edition, ...]:
    """What mkvextract (libmatroska) says the Chapters hold, from its lossless XML."""
    mkvextract = require_tool("mkvextract")
    done = subprocess.run([mkvextract, str(path), "chapters", "-"], capture_output=True, check=True)
    if not done.stdout.strip():
        return ()
    root = ET.fromstring(done.stdout.decode("utf-8-sig"))
    editions = []
    for node in root.findall("EditionEntry"):
        uid = node.findtext("EditionUID")
        editions.append(Edition(None if uid is None else int(uid),
                                node.findtext("EditionFlagHidden", "0") != "0",
                                node.findtext("EditionFlagDefault", "0") != "0",
                                node.findtext("EditionFlagOrdered", "0") != "0",
                                tuple(_xml_atom(atom) for atom in node.findall("ChapterAtom"))))
    return tuple(editions)


# -- committed fixtures: no tool needed --------------------------------------------------

def test_registry_points_here():
    assert reader_function("matroska") is read_matroska


def test_two_editions_fixture_structure():
    found = read_editions(fixture_path("media", "mkv-two-editions-nested.mkv"))
    first, second = found.editions
    assert (first.uid, first.flag_default, second.uid, second.flag_default) == (111, False, 222, True)
    assert [(a.uid, a.start_ns, a.end_ns, a.title) for a in first.atoms] == [
        (11, 0, 500_000_000, "E1 first"), (12, 500_000_001, None, "E1 second")]
    intro, hidden, disabled, outro = second.atoms
    assert intro.displays == (Display("Intro", ("eng",), ("en-US",), ("us",)),
                              Display("Einleitung", ("ger",), ("de",)))
    assert intro.children == (Atom(211, 250_000_000, 750_000_000,
                                   displays=(Display("Intro nested", ("eng",), ("en",)),)),)
    assert (hidden.flag_hidden, hidden.flag_enabled, hidden.end_ns) == (True, True, None)
    assert (disabled.flag_hidden, disabled.flag_enabled, disabled.start_ns) == (False, False, 1_250_000_000)
    assert (outro.uid, outro.start_ns, outro.end_ns) == (24, 1_500_000_000, 2_000_000_000)
    assert found.default_edition is second
    assert (found.doc_type, found.duration_ns, found.chapters_via) == ("matroska", 2 * 10**9, "SeekHead")
    assert found.bytes_read < 1024 and found.notes == ()


def test_two_editions_fixture_player_view():
    result = read_matroska(fixture_path("media", "mkv-two-editions-nested.mkv"))
    assert result.chapters == ChapterList((Chapter(0, 10**9, "Intro"),
                                           Chapter(1_500_000_000, 2 * 10**9, "Outro")),
                                          None, 2 * 10**9)
    assert result.notes == (
        "2 editions; showing edition 2 (the default)",
        "edition 1 (UID 111, 2 chapters) not shown",
        "chapter 'Intro' at 0.000 s has 1 nested chapter(s), not shown "
        "(mpv and FFmpeg list top-level chapters only)",
        "chapter 'Intro' at 0.000 s is also titled 'Einleitung' [de]",
        "hidden chapter 'Hidden' at 1.000 s not shown",
        "disabled chapter 'Disabled' at 1.250 s not shown",
    )


def test_piped_live_fixture_has_unknown_size_segment_and_no_duration():
    path = fixture_path("media", "mkv-piped-live-unknown-size.mkv")
    data = path.read_bytes()
    segment = parse_header(data, parse_header(data).end)
    assert (segment.id, segment.size) == (mk.SEGMENT, None)
    result = read_matroska(path)
    assert result.chapters.duration_ns is None
    assert result.chapters.chapters == (Chapter(0, 1_000_123_457, "A"),
                                        Chapter(1_000_123_457, 2 * 10**9, "Bé 章"))


def test_webm_fixture_without_default_flag_shows_its_only_edition():
    found = read_editions(fixture_path("media", "webm-ffmpeg-two-chapters.webm"))
    assert found.doc_type == "webm"
    assert [e.flag_default for e in found.editions] == [False]  # FFmpeg writes no flag in WebM
    result = read_matroska(fixture_path("media", "webm-ffmpeg-two-chapters.webm"))
    assert result.chapters.titles == ("A", "Bé 章") and result.notes == ()


def test_mkvpropedit_fixture_chapters_at_end_of_file():
    path = fixture_path("media", "mkv-propedit-chapters-at-eof.mkv")
    found = read_editions(path)
    assert found.chapters_via == "SeekHead"
    assert found.chapters_offset > os.path.getsize(path) - 200  # appended at EOF
    # mkvpropedit writes no ChapterTimeEnd: ends follow the next start, the last the duration.
    assert read_matroska(path).chapters == ChapterList.of(
        [(0, "One"), (750_000_000, "Two"), (1_500_000_000, "Three")], duration_ns=2 * 10**9)


def test_no_chapters_gives_an_empty_list_with_the_duration():
    result = read_matroska(fixture_path("media", "mkv-no-chapters.mkv"))
    assert result == ReadResult("matroska", ChapterList((), None, 2 * 10**9), ())
    assert read_editions(fixture_path("media", "mkv-no-chapters.mkv")).chapters_via is None


# -- FFmpeg-made files, both builds ------------------------------------------------------

@pytest.mark.parametrize("kind", ["mkv", "webm", "piped"])
def test_ffmpeg_written_chapters_read_back_exactly(made, ffmpeg_exe, kind):
    path = made(ffmpeg_exe, kind)
    data = path.read_bytes()
    segment = parse_header(data, parse_header(data).end)
    assert (segment.size is None) == (kind == "piped")
    found = read_editions(path)
    assert found.doc_type == ("webm" if kind == "webm" else "matroska")
    assert found.chapters_via == "SeekHead"
    assert found.bytes_read < 2048
    result = read_matroska(path)
    assert result.chapters.chapters == AB_CHAPTERS
    assert abs(result.chapters.duration_ns - 2 * 10**9) < 50_000_000


def test_ffmpeg_file_without_chapters(made, ffmpeg_exe):
    result = read_matroska(made(ffmpeg_exe, "plain"))
    assert len(result.chapters) == 0 and result.chapters.duration_ns is not None


@pytest.mark.parametrize("kind", ["mkv", "piped"])
def test_agrees_with_ffprobe(made, kind):
    path = made(bundled_ffmpeg(), kind)
    assert list(read_matroska(path).chapters) == _ffprobe_chapters(path)


@pytest.mark.parametrize("kind", ["mkv", "webm", "piped"])
def test_agrees_with_mkvextract(made, ffmpeg_exe, kind):
    path = made(ffmpeg_exe, kind)
    assert read_editions(path).editions == _mkvextract_editions(path)


# -- mkvtoolnix-made files ---------------------------------------------------------------

@pytest.fixture(scope="module")
def mkvmerged(tmp_path_factory):
    mkvmerge = require_tool("mkvmerge")
    out = tmp_path_factory.mktemp("mkvmerge") / "editions.mkv"
    done = subprocess.run([mkvmerge, "-q", "-o", str(out), "--chapters",
                           str(fixture_path("media", "mkv-two-editions-nested.xml")),
                           str(fixture_path("media", "mkv-no-chapters.mkv"))], capture_output=True)
    assert done.returncode == 0, done.stdout
    return out


def test_mkvmerge_editions_agree_with_mkvextract(mkvmerged):
    found = read_editions(mkvmerged)
    assert len(found.editions) == 2
    assert found.editions == _mkvextract_editions(mkvmerged)
    assert read_matroska(mkvmerged).chapters.titles == ("Intro", "Outro")


@pytest.fixture(scope="module")
def propedited(tmp_path_factory):
    """A 3 MB FFmpeg MKV whose chapters mkvpropedit replaced: new Chapters at EOF."""
    mkvpropedit = require_tool("mkvpropedit")
    folder = tmp_path_factory.mktemp("propedit")
    path = folder / "big.mkv"
    run_ffmpeg(bundled_ffmpeg(), "-f", "lavfi", "-i", "sine=r=48000:d=30", "-c:a", "pcm_s16le",
               str(path))
    chapters = folder / "chapters.xml"
    shutil.copy(fixture_path("media", "mkv-two-editions-nested.xml"), chapters)
    done = subprocess.run([mkvpropedit, "-q", str(path), "--chapters", str(chapters)],
                          capture_output=True)
    assert done.returncode == 0, done.stdout
    return path


def test_mkvpropedit_chapters_found_through_the_seekhead_cheaply(propedited):
    size = os.path.getsize(propedited)
    found = read_editions(propedited)
    assert size > 2_800_000
    assert found.chapters_offset > size - 2000 and found.chapters_via == "SeekHead"
    assert found.bytes_read < 2048, f"read {found.bytes_read} of {size} bytes"
    assert found.editions == _mkvextract_editions(propedited)


# -- built files: layouts the tools above never write ------------------------------------

def el(element_id: int, *children: bytes, size_length: int | None = None) -> bytes:
    return encode_element(element_id, b"".join(children), size_length)


def utf8(element_id: int, value: str | bytes) -> bytes:
    return encode_element(element_id, value.encode() if isinstance(value, str) else value)


def atom(uid, start_ns, title, end_ns=None, *children, hidden=None, enabled=None,
         display_extra=b""):
    parts = [encode_uint(mk.CHAPTER_UID, uid), encode_uint(mk.CHAPTER_TIME_START, start_ns)]
    if end_ns is not None:
        parts.append(encode_uint(mk.CHAPTER_TIME_END, end_ns))
    if hidden is not None:
        parts.append(encode_uint(mk.CHAPTER_FLAG_HIDDEN, hidden))
    if enabled is not None:
        parts.append(encode_uint(mk.CHAPTER_FLAG_ENABLED, enabled))
    parts.append(el(mk.CHAPTER_DISPLAY, utf8(mk.CHAP_STRING, title), display_extra))
    return el(mk.CHAPTER_ATOM, *parts, *children)


def edition(*atoms, uid=None, default=None, hidden=None):
    parts = [] if uid is None else [encode_uint(mk.EDITION_UID, uid)]
    if default is not None:
        parts.append(encode_uint(mk.EDITION_FLAG_DEFAULT, default))
    if hidden is not None:
        parts.append(encode_uint(mk.EDITION_FLAG_HIDDEN, hidden))
    return el(mk.EDITION_ENTRY, *parts, *atoms)


def info(duration: bytes = b"\x40\x9f\x40\x00\x00\x00\x00\x00", scale: int | None = None) -> bytes:
    parts = [] if scale is None else [encode_uint(mk.TIMESTAMP_SCALE, scale)]
    return el(mk.INFO, *parts, encode_element(mk.DURATION, duration))  # default: 2000.0 ms


ONE_EDITION = el(mk.CHAPTERS, edition(atom(1, 0, "One"), atom(2, 10**9, "Two")))
EBML_HEAD = el(mk.EBML, utf8(mk.DOC_TYPE, "matroska"))


def hole(element_id: int, size: int) -> list:
    """An element whose data is a sparse gap of ``size`` bytes (never written, never read)."""
    return [encode_id(element_id) + encode_size(size, 8), size]


def seek_head(targets: dict[int, int]) -> bytes:
    return el(mk.SEEK_HEAD, *(el(mk.SEEK, encode_element(mk.SEEK_ID, encode_id(element_id)),
                                 encode_element(mk.SEEK_POSITION, position.to_bytes(8, "big")))
                              for element_id, position in targets.items()))


def length(pieces: list) -> int:
    return sum(piece if isinstance(piece, int) else len(piece) for piece in pieces)


def write(path: Path, body: list, *, unknown_segment: bool = False) -> Path:
    """EBML header + a Segment holding ``body`` (bytes and sparse gaps)."""
    pieces = [EBML_HEAD, encode_id(mk.SEGMENT) + encode_size(None if unknown_segment else length(body), 8),
              *body]
    with open(path, "wb") as out:
        for piece in pieces:
            if isinstance(piece, int):
                out.seek(piece, os.SEEK_CUR)
            else:
                out.write(piece)
        out.truncate()
    return path


def test_gigabyte_gaps_before_the_chapters_are_skipped_not_read(tmp_path):
    body = [info(), *hole(mk.VOID_ID, GIB), *hole(mk.CLUSTER, GIB), ONE_EDITION]
    path = write(tmp_path / "gaps.mkv", body)
    found = read_editions(path)
    assert os.path.getsize(path) > 2 * GIB
    assert found.chapters_via == "scan" and found.bytes_read < 512
    assert [a.title for a in found.editions[0].atoms] == ["One", "Two"]


def test_seekhead_jumps_over_a_gigabyte_cluster(tmp_path):
    rest = [info(), *hole(mk.CLUSTER, GIB), ONE_EDITION]
    head_size = len(seek_head({mk.INFO: 0, mk.CHAPTERS: 0}))
    body = [seek_head({mk.INFO: head_size, mk.CHAPTERS: head_size + length(rest[:-1])}), *rest]
    found = read_editions(write(tmp_path / "seek.mkv", body))
    assert (found.chapters_via, found.duration_ns, found.notes) == ("SeekHead", 2 * 10**9, ())
    assert found.bytes_read < 512


def test_unknown_size_clusters_are_skipped_block_by_block(tmp_path):
    cluster = [encode_id(mk.CLUSTER) + encode_size(None, 8), encode_uint(0xE7, 0)]
    for _ in range(5):
        cluster += hole(0xA3, 64 << 20)  # SimpleBlocks of 64 MiB each
    body = [info(), *cluster, ONE_EDITION, *cluster]
    path = write(tmp_path / "live.mkv", body, unknown_segment=True)
    found = read_editions(path)
    assert found.chapters_via == "scan"
    assert found.bytes_read < 1024, found.bytes_read
    result = read_matroska(path)
    assert len(result.chapters) == 0 and "players show no chapters" in result.notes[0]


def _unknown_size_clusters_and_chapters_at_eof(src: Path, dst: Path) -> None:
    """A real piped FFmpeg file with its Clusters made unknown-size and the Chapters moved
    past them (voided in place, SeekHead entry and SeekHead CRC voided)."""
    data = bytearray(src.read_bytes())

    def void(start: int, end: int) -> None:
        size_length = 1 if end - start - 2 < 127 else 8
        data[start:end] = encode_element(mk.VOID_ID, bytes(end - start - 1 - size_length), size_length)

    segment = parse_header(data, parse_header(data).end)
    pos, moved = segment.data_offset, b""
    while pos < len(data):
        header = parse_header(data, pos)
        if header.id == mk.CLUSTER:
            size_length = header.header_size - 4
            data[pos + 4:pos + header.header_size] = encode_size(None, size_length)
        elif header.id == mk.CHAPTERS:
            moved = bytes(data[pos:header.end])
            void(pos, header.end)
        elif header.id == mk.SEEK_HEAD:
            entry_pos = header.data_offset
            while entry_pos < header.end:
                entry = parse_header(data, entry_pos)
                if entry.id == 0xBF or mk.CHAPTERS.to_bytes(4, "big") in data[entry_pos:entry.end]:
                    void(entry_pos, entry.end)
                entry_pos = entry.end
        pos = header.end
    dst.write_bytes(bytes(data) + moved)


def test_real_file_with_unknown_size_clusters(tmp_path):
    piped, path, meta = tmp_path / "piped.mka", tmp_path / "relocated.mka", tmp_path / "ab.ffmeta"
    meta.write_text(AB_META, encoding="utf-8")
    with open(piped, "wb") as sink:  # 10 s of PCM: about 470 blocks, 960 KB
        subprocess.run([bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error",
                        "-f", "lavfi", "-i", "sine=r=48000:d=10", "-f", "ffmetadata", "-i", str(meta),
                        "-map", "0", "-map_chapters", "1", "-c:a", "pcm_s16le", "-f", "matroska", "-"],
                       stdout=sink, check=True)
    _unknown_size_clusters_and_chapters_at_eof(piped, path)
    size = os.path.getsize(path)
    found = read_editions(path)
    assert found.chapters_via == "scan" and found.chapters_offset > size - 300
    assert [a.title for a in found.editions[0].atoms] == [c.title for c in AB_CHAPTERS]
    assert found.bytes_read < size // 50, f"read {found.bytes_read} of {size} bytes"

    # Stopped mid-block, like an interrupted live recording: no chapters, no error.
    path.write_bytes(path.read_bytes()[:size // 2 + 5])
    found = read_editions(path)
    assert found.editions == () and found.chapters_via is None
    assert found.notes[-1].startswith("the file ends inside the media data at offset")


def test_second_seekhead_is_followed(tmp_path):
    second_at = len(seek_head({mk.SEEK_HEAD: 0})) + len(info())
    second = seek_head({mk.CHAPTERS: 0})
    body = [seek_head({mk.SEEK_HEAD: second_at}), info(), second, *hole(mk.CLUSTER, 1 << 20)]
    chapters_at = length(body)
    body[2] = seek_head({mk.CHAPTERS: chapters_at})
    found = read_editions(write(tmp_path / "two-heads.mkv", [*body, ONE_EDITION]))
    assert found.chapters_via == "SeekHead" and found.bytes_read < 512


def test_seekhead_pointing_nowhere_falls_back_to_walking(tmp_path):
    body = [seek_head({mk.CHAPTERS: 3}), info(), ONE_EDITION]
    found = read_editions(write(tmp_path / "stale.mkv", body))
    assert found.chapters_via == "walk" and len(found.editions) == 1
    assert found.notes[0].startswith("the SeekHead entry for Chapters points to offset")


@pytest.mark.parametrize(("editions", "shown"), [
    ([edition(atom(1, 0, "a"), uid=1), edition(atom(2, 0, "b"), uid=2, default=1)], "b"),
    ([edition(atom(1, 0, "a"), uid=1, default=1, hidden=1), edition(atom(2, 0, "b"), uid=2)], "b"),
    ([edition(atom(1, 0, "a"), uid=1), edition(atom(2, 0, "b"), uid=2)], "a"),
    ([edition(atom(1, 0, "a"), uid=1, hidden=1)], None),
])
def test_default_edition_follows_rfc_9559(tmp_path, editions, shown):
    path = write(tmp_path / "editions.mkv", [info(), el(mk.CHAPTERS, *editions)])
    result = read_matroska(path)
    assert result.chapters.titles == (() if shown is None else (shown,))
    if shown is None:
        assert result.notes == ("every edition is hidden, so players show no chapters",)


def test_eight_octet_sizes_crc32_and_void_everywhere(tmp_path):
    def big(element_id, *children):
        return el(element_id, *children, size_length=8)

    def with_crc(element_id, *children):
        import zlib
        data = b"".join(children)
        return big(element_id, encode_element(0xBF, zlib.crc32(data).to_bytes(4, "little")), data)

    display = big(mk.CHAPTER_DISPLAY, big(mk.CHAP_STRING, b"Eight"), big(mk.VOID_ID, b"\0" * 3))
    chapters = with_crc(mk.CHAPTERS, big(mk.VOID_ID), with_crc(mk.EDITION_ENTRY, big(
        mk.CHAPTER_ATOM, big(mk.CHAPTER_TIME_START, (7).to_bytes(8, "big")), display)))
    path = write(tmp_path / "eight.mkv", [with_crc(mk.INFO, encode_uint(mk.TIMESTAMP_SCALE, 1000)),
                                          chapters])
    found = read_editions(path)
    assert found.notes == () and found.timestamp_scale_ns == 1000 and found.duration_ns is None
    assert found.editions == (Edition(None, atoms=(Atom(None, 7, None, displays=(Display("Eight"),)),)),)

    damaged = bytearray(path.read_bytes())
    spot = damaged.index(b"Eight")
    damaged[spot] = ord("N")
    path.write_bytes(bytes(damaged))
    notes = read_editions(path).notes
    assert notes == ("Chapters fails its CRC-32 check: the element is damaged",
                     "EditionEntry fails its CRC-32 check: the element is damaged")


@pytest.mark.parametrize(("duration", "scale", "expected_ns"), [
    ((2000.0).hex(), None, 2 * 10**9),
    ("0x1.d4c0000000000p+20", 1000, 1_920_000_000),           # 1 920 000 µs ticks
    ("0x1.f400000000000p+9", 10**9 // 3, 333_333_333_000),   # 1000 ticks of 1/3 s, float32
])
def test_duration_is_ticks_times_timestamp_scale(tmp_path, duration, scale, expected_ns):
    import struct
    value = float.fromhex(duration)
    packed = struct.pack(">f", value) if scale == 10**9 // 3 else struct.pack(">d", value)
    path = write(tmp_path / "d.mkv", [info(packed, scale), ONE_EDITION])
    result = read_matroska(path)
    assert result.chapters.duration_ns == expected_ns
    assert result.chapters.starts_ns == (0, 10**9)  # chapter times ignore TimestampScale


def test_odd_atoms_are_reported_not_fatal(tmp_path):
    chapters = el(mk.CHAPTERS, edition(
        atom(1, 0, b"caf\xe9"),                                 # Latin-1, as FFmpeg copies it
        atom(2, 5 * 10**9, "Backwards", 4 * 10**9),
        el(mk.CHAPTER_ATOM, encode_uint(mk.CHAPTER_UID, 3)),    # no start, no display
        atom(4, 6 * 10**9, "Many", None, display_extra=utf8(mk.CHAP_LANGUAGE, "fre")),
    ))
    path = write(tmp_path / "odd.mkv", [info(), chapters])
    result = read_matroska(path)
    assert result.chapters.titles == ("caf\ufffd", "Backwards", "", "Many")
    assert read_editions(path).editions[0].atoms[3].displays[0].language == "fre"
    assert result.chapters[1].end_ns is None  # and the next start (0) cannot stand in
    assert "chapter title 'caf\ufffd' is not valid UTF-8 (invalid bytes shown as U+FFFD)" in result.notes
    assert "chapter UID 3 has no ChapterTimeStart; read as 0" in result.notes
    assert "chapter 'Backwards' at 5.000 s ends before it starts (4.000 s); end ignored" in result.notes


# -- broken input: one MediaError line, never a raw exception ---------------------------

def _expect_media_error(path, reason: str) -> MediaError:
    with pytest.raises(MediaError) as caught:
        read_matroska(path)
    message = str(caught.value)
    assert reason in message and "\n" not in message and str(path) in message
    return caught.value


def test_missing_empty_text_and_directory(tmp_path):
    _expect_media_error(tmp_path / "nope.mkv", "No such file")
    (tmp_path / "empty.mkv").write_bytes(b"")
    _expect_media_error(tmp_path / "empty.mkv", "file is empty (0 bytes) while reading")
    (tmp_path / "notes.mkv").write_text("0:00 Intro\n")
    _expect_media_error(tmp_path / "notes.mkv", "not a Matroska or WebM file")
    _expect_media_error(tmp_path, "directory")


def test_other_ebml_documents_are_refused(tmp_path):
    path = tmp_path / "x.mkv"
    path.write_bytes(el(mk.EBML, utf8(mk.DOC_TYPE, "dvb")) + el(mk.SEGMENT))
    _expect_media_error(path, "EBML document type 'dvb' is not Matroska or WebM")


def test_every_truncation_of_a_sized_file_is_a_media_error(tmp_path):
    data = fixture_path("media", "mkv-two-editions-nested.mkv").read_bytes()
    path = tmp_path / "cut.mkv"
    for cut in range(1, len(data), 97):
        path.write_bytes(data[:cut])
        error = _expect_media_error(path, "")
        assert "truncated" in error.reason or "no EBML header" in error.reason, (cut, error.reason)


@pytest.mark.parametrize(("body", "reason"), [
    ([encode_id(mk.INFO) + encode_size(None)], "Info at offset 28 has an unknown size"),
    ([encode_id(mk.CHAPTERS) + encode_size(1 << 40, 8)], "runs"),
    ([el(mk.CHAPTERS, el(mk.EDITION_ENTRY, b"\xec\x85\0"))], "overruns its parent"),
    ([b"\x00\x00\x00"], "VINT longer than 8 octets"),
])
def test_corrupt_structures(tmp_path, body, reason):
    _expect_media_error(write(tmp_path / "bad.mkv", body), reason)


def test_absurd_nesting_is_refused(tmp_path):
    nested = atom(1, 0, "deep")
    for _ in range(80):
        nested = el(mk.CHAPTER_ATOM, encode_uint(mk.CHAPTER_TIME_START, 0), nested)
    path = write(tmp_path / "deep.mkv", [el(mk.CHAPTERS, edition(nested))])
    _expect_media_error(path, "nested more than 64 levels deep")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 8392), st.integers(0, 255)), min_size=1, max_size=6))
def test_damaged_bytes_never_escape_as_raw_exceptions(tmp_path, damage):
    data = bytearray(fixture_path("media", "mkv-two-editions-nested.mkv").read_bytes())
    for offset, value in damage:
        data[offset % len(data)] = value
    path = tmp_path / "damaged.mkv"
    path.write_bytes(bytes(data))
    try:
        result = read_matroska(path)
    except MediaError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(result.chapters, ChapterList)
