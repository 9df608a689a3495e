"""The ISO BMFF box reader, on crafted byte strings (14496-12 layouts)."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit.containers.mp4boxes import BoxReader, Edit, TrackDefaults
from chapterkit.errors import MediaError


def box(name: str, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), name.encode("latin-1")) + payload


def full(name: str, version: int, flags: int, body: bytes) -> bytes:
    return box(name, bytes([version]) + flags.to_bytes(3, "big") + body)


def reader(data: bytes) -> BoxReader:
    return BoxReader(io.BytesIO(data), "crafted.mp4")


def names(r: BoxReader, parent=None) -> list[tuple[str, int, int, int]]:
    return [(b.name, b.offset, b.size, b.header_size) for b in r.boxes(parent)]


# -- headers -------------------------------------------------------------------------------

def test_plain_boxes_in_file_order():
    data = box("ftyp", b"isom\0\0\0\0") + box("free") + box("moov", box("mvhd", b"x" * 4))
    assert names(reader(data)) == [("ftyp", 0, 16, 8), ("free", 16, 8, 8), ("moov", 24, 20, 8)]


def test_64_bit_largesize():
    # size 1: the real size follows as a u64 (section 4.2); FFmpeg writes mdat so past 4 GiB.
    big = struct.pack(">I4sQ", 1, b"mdat", 16 + 5) + b"hello"
    data = big + box("moov")
    r = reader(data)
    assert names(r) == [("mdat", 0, 21, 16), ("moov", 21, 8, 8)]
    mdat = next(r.boxes())
    assert (mdat.payload_offset, mdat.payload_size) == (16, 5)


def test_size_zero_runs_to_the_end_of_the_file():
    data = box("ftyp", b"isom") + struct.pack(">I4s", 0, b"mdat") + b"\0" * 100
    assert names(reader(data))[-1] == ("mdat", 12, 108, 8)


def test_size_zero_inside_a_parent_runs_to_the_parent_end():
    inner = box("mvhd", b"a" * 4) + struct.pack(">I4s", 0, b"udta") + b"b" * 6
    data = box("moov", inner) + box("free")
    r = reader(data)
    moov = r.find(None, "moov")
    assert names(r, moov) == [("mvhd", 8, 12, 8), ("udta", 20, 14, 8)]
    assert names(r)[-1] == ("free", 34, 8, 8)


def test_uuid_box_header_includes_the_extended_type():
    data = box("uuid", b"U" * 16 + b"body")
    (uuid,) = reader(data).boxes()
    assert (uuid.header_size, uuid.payload_size) == (24, 4)


@pytest.mark.parametrize(("data", "message"), [
    (box("moov", b"x" * 20)[:-3], "truncated box 'moov' at offset 0"),
    (box("ftyp", b"isom") + box("moov", b"x" * 20)[:-1], "truncated box 'moov' at offset 12"),
    (box("ftyp", b"isom") + b"\0\0\0", "truncated box header at offset 12"),
    (struct.pack(">I4s", 1, b"mdat") + b"\0\0\0", "truncated box 'mdat' at offset 0"),
    (struct.pack(">I4sQ", 1, b"mdat", 1 << 40), "truncated box 'mdat' at offset 0"),
    (struct.pack(">I4s", 4, b"moov"), "box 'moov' at offset 0 has an impossible size 4"),
    (struct.pack(">I4sQ", 1, b"mdat", 12), "box 'mdat' at offset 0 has an impossible size 12"),
])
def test_bad_headers_are_media_errors_naming_box_and_offset(data, message):
    with pytest.raises(MediaError) as caught:
        list(reader(data).boxes())
    assert str(caught.value) == f"{message} while reading crafted.mp4"


def test_child_that_overruns_its_parent_is_truncated():
    data = box("moov", struct.pack(">I4s", 50, b"trak") + b"x" * 4)
    r = reader(data)
    with pytest.raises(MediaError, match="truncated box 'trak' at offset 8"):
        list(r.boxes(r.find(None, "moov")))


def test_find_walk_and_find_all():
    trak = box("trak", box("tkhd") + box("mdia", box("mdhd")))
    data = box("moov", box("mvhd") + trak + trak + box("udta", box("chpl")))
    r = reader(data)
    moov = r.find(None, "moov")
    assert r.find(None, "moov/udta/chpl").offset == moov.offset + 8 + 8 + 2 * 32 + 8
    assert r.find(None, "moov/udta/name") is None
    assert [b.offset for b in r.find_all(moov, "trak")] == [16, 48]
    walked = [(depth, b.name) for depth, b in r.walk()]
    assert walked[:6] == [(0, "moov"), (1, "mvhd"), (1, "trak"), (2, "tkhd"), (2, "mdia"), (3, "mdhd")]
    assert walked[-2:] == [(1, "udta"), (2, "chpl")]


def test_payload_refuses_implausibly_large_boxes(tmp_path):
    path = tmp_path / "huge.mp4"
    with open(path, "wb") as handle:  # a sparse 70 MB file: the size is real, the bytes free
        handle.write(struct.pack(">I4s", 70_000_000, b"stts"))
        handle.truncate(70_000_000)
    with open(path, "rb") as handle:
        r = BoxReader(handle, str(path))
        (stts,) = r.boxes()
        with pytest.raises(MediaError, match="implausibly large"):
            r.payload(stts)


# -- full boxes ------------------------------------------------------------------------------

def test_movie_and_media_headers_versions_0_and_1():
    v0 = full("mvhd", 0, 0, struct.pack(">IIII", 1, 2, 600, 1234) + b"\0" * 80)
    v1 = full("mdhd", 1, 0, struct.pack(">QQIQ", 1, 2, 4_410_000, 5_733_000_000) + b"\0" * 4)
    unknown = full("mdhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 0xFFFFFFFF) + b"\0" * 4)
    r = reader(v0 + v1 + unknown)
    boxes = list(r.boxes())
    assert r.movie_header(boxes[0]) == (600, 1234)
    assert r.media_header(boxes[1]) == (4_410_000, 5_733_000_000)
    assert r.media_header(boxes[2]) == (1000, 0)


def test_timescale_zero_is_refused():
    r = reader(full("mdhd", 0, 0, struct.pack(">IIII", 0, 0, 0, 10) + b"\0" * 4))
    with pytest.raises(MediaError, match="box 'mdhd' at offset 0 has timescale 0"):
        r.media_header(next(r.boxes()))


def test_short_full_box_is_truncated():
    r = reader(full("mvhd", 0, 0, b"\0" * 10))
    with pytest.raises(MediaError, match="truncated box 'mvhd' at offset 0 while reading crafted.mp4"):
        r.movie_header(next(r.boxes()))


def test_track_header_hdlr_tref_stsd():
    tkhd0 = full("tkhd", 0, 2, struct.pack(">IIII", 0, 0, 7, 0) + b"\0" * 64)
    tkhd1 = full("tkhd", 1, 3, struct.pack(">QQI", 0, 0, 9) + b"\0" * 64)
    hdlr = full("hdlr", 0, 0, b"\0" * 4 + b"text" + b"\0" * 13)
    tref = box("tref", box("chap", struct.pack(">II", 3, 4)) + box("tmcd", struct.pack(">I", 5)))
    stsd = full("stsd", 0, 0, struct.pack(">I", 2) + box("text", b"\0" * 10) + box("tx3g", b"\0" * 2))
    r = reader(tkhd0 + tkhd1 + hdlr + tref + stsd)
    b = list(r.boxes())
    assert r.track_header(b[0]) == (7, 2)
    assert r.track_header(b[1]) == (9, 3)
    assert r.handler_type(b[2]) == "text"
    assert r.track_references(b[3]) == {"chap": (3, 4), "tmcd": (5,)}
    assert r.sample_entry_names(b[4]) == ("text", "tx3g")


def test_edit_lists_v0_and_v1():
    v0 = full("elst", 0, 0, struct.pack(">IIiiIii", 2, 500, -1, 0x10000, 1900, 250, 0x10000))
    v1 = full("elst", 1, 0, struct.pack(">IQqi", 1, 1 << 33, 1 << 32, 0x10000))
    r = reader(v0 + v1)
    first, second = r.boxes()
    assert r.edit_list(first) == (Edit(500, -1, 0x10000), Edit(1900, 250, 0x10000))
    assert r.edit_list(second) == (Edit(1 << 33, 1 << 32, 0x10000),)


# -- sample tables -----------------------------------------------------------------------------

def stbl(durations, sizes, chunk_counts, chunk_offsets, *, wide=False, fixed_size=False) -> bytes:
    """An stbl for the given samples; ``chunk_counts`` is samples per chunk."""
    runs = []
    for duration in durations:
        if runs and runs[-1][1] == duration:
            runs[-1][0] += 1
        else:
            runs.append([1, duration])
    stts = full("stts", 0, 0, struct.pack(">I", len(runs)) + b"".join(struct.pack(">II", *r) for r in runs))
    if fixed_size:
        stsz = full("stsz", 0, 0, struct.pack(">II", sizes[0], len(sizes)))
    else:
        stsz = full("stsz", 0, 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes))
    entries = []
    for index, count in enumerate(chunk_counts):
        if not entries or entries[-1][1] != count:
            entries.append((index + 1, count, 1))
    stsc = full("stsc", 0, 0, struct.pack(">I", len(entries)) + b"".join(struct.pack(">III", *e) for e in entries))
    code = "Q" if wide else "I"
    stco = full("co64" if wide else "stco", 0, 0,
                struct.pack(f">I{len(chunk_offsets)}{code}", len(chunk_offsets), *chunk_offsets))
    return box("stbl", full("stsd", 0, 0, b"\0" * 4) + stts + stsz + stsc + stco)


def table_of(data: bytes):
    r = reader(data)
    return r.sample_table(next(r.boxes()))


def test_sample_table_places_samples_in_chunks():
    table = table_of(stbl([400, 600, 900], [19, 44, 18], [2, 1], [1000, 5000]))
    assert table.starts == (0, 400, 1000)
    assert table.durations == (400, 600, 900)
    assert table.offsets == (1000, 1019, 5000)
    assert table.end == 1900


def test_co64_and_fixed_sample_size():
    table = table_of(stbl([10] * 3, [7, 7, 7], [1, 2], [1 << 33, (1 << 33) + 100], wide=True, fixed_size=True))
    assert table.sizes == (7, 7, 7)
    assert table.offsets == (1 << 33, (1 << 33) + 100, (1 << 33) + 107)


@pytest.mark.parametrize(("width", "packed", "expected"), [
    (16, struct.pack(">3H", 300, 2, 65535), (300, 2, 65535)),
    (8, bytes([5, 255, 0]), (5, 255, 0)),
    (4, bytes([0x3F, 0x10]), (3, 15, 1)),
])
def test_compact_sample_sizes(width, packed, expected):
    stz2 = full("stz2", 0, 0, b"\0\0\0" + bytes([width]) + struct.pack(">I", 3) + packed)
    stts = full("stts", 0, 0, struct.pack(">III", 1, 3, 1))
    stsc = full("stsc", 0, 0, struct.pack(">IIII", 1, 1, 3, 1))
    stco = full("stco", 0, 0, struct.pack(">II", 1, 100))
    table = table_of(box("stbl", stts + stz2 + stsc + stco))
    assert table.sizes == expected
    assert table.offsets[1] == 100 + expected[0]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda b: b.replace(b"stco", b"xxxx"), "lacks stco"),
    (lambda b: b.replace(b"stts", b"xxxx").replace(b"stsc", b"yyyy"), "lacks stts, stsc"),
    (lambda b: b.replace(struct.pack(">II", 2, 10), struct.pack(">II", 3, 10)), "times 4 samples but sizes 3"),
])
def test_inconsistent_tables_are_media_errors(mutate, message):
    data = mutate(stbl([10, 10, 20], [1, 2, 3], [3], [64]))
    with pytest.raises(MediaError, match=message):
        table_of(data)


def test_stsc_naming_a_missing_chunk_is_refused():
    data = stbl([10, 10], [1, 1], [1, 1], [64, 65])
    data = data.replace(struct.pack(">I2I", 2, 64, 65), struct.pack(">I2I", 1, 64, 65)[:8] + b"\0" * 4)
    with pytest.raises(MediaError, match="stsc"):
        table_of(data)


def test_absurd_sample_count_is_refused_before_allocating():
    stsz = full("stsz", 0, 0, struct.pack(">II", 4, 0xFFFFFFF0))
    stts = full("stts", 0, 0, struct.pack(">III", 1, 1, 1))
    stsc = full("stsc", 0, 0, struct.pack(">IIII", 1, 1, 1, 1))
    stco = full("stco", 0, 0, struct.pack(">II", 1, 0))
    with pytest.raises(MediaError, match="claims 4294967280 samples"):
        table_of(box("stbl", stts + stsz + stsc + stco))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 70_000)), max_size=40),
       st.data())
def test_sample_tables_round_trip(samples, data):
    durations = [d for d, _ in samples]
    sizes = [s for _, s in samples]
    chunk_counts = []
    left = len(samples)
    while left:
        take = data.draw(st.integers(1, left))
        chunk_counts.append(take)
        left -= take
    starts = sorted(data.draw(st.lists(st.integers(0, 2**40), min_size=len(chunk_counts),
                                       max_size=len(chunk_counts), unique=True)))
    wide = max(starts, default=0) >= 2**32
    table = table_of(stbl(durations, sizes, chunk_counts, starts, wide=wide))
    expected_offsets, expected_starts, now, sample = [], [], 0, 0
    for chunk, count in enumerate(chunk_counts):
        position = starts[chunk]
        for _ in range(count):
            expected_offsets.append(position)
            position += sizes[sample]
            sample += 1
    for duration in durations:
        expected_starts.append(now)
        now += duration
    assert table.durations == tuple(durations)
    assert table.sizes == tuple(sizes)
    assert table.offsets == tuple(expected_offsets)
    assert table.starts == tuple(expected_starts)


# -- fragments -----------------------------------------------------------------------------------

def trun(flags: int, samples: list[tuple[int, ...]], data_offset: int | None = None) -> bytes:
    body = struct.pack(">I", len(samples))
    if data_offset is not None:
        body += struct.pack(">i", data_offset)
    for sample in samples:
        body += struct.pack(f">{len(sample)}I", *sample)
    return full("trun", 0, flags | (1 if data_offset is not None else 0), body)


def test_fragment_runs_follow_tfhd_defaults_and_tfdt():
    # track 1: default-base-is-moof, tfdt v1, per-sample durations and sizes, explicit data offset.
    traf1 = box("traf", full("tfhd", 0, 0x20000, struct.pack(">I", 1))
                + full("tfdt", 1, 0, struct.pack(">Q", 5000))
                + trun(0x300, [(400, 19), (600, 44)], data_offset=200))
    # track 2: sizes and durations from trex, no tfdt, no data offset: continues after
    # the previous track fragment's data (section 8.8.7.1).
    traf2 = box("traf", full("tfhd", 0, 0, struct.pack(">I", 2)) + trun(0, [(), (), ()]))
    moof = box("moof", full("mfhd", 0, 0, struct.pack(">I", 1)) + traf1 + traf2)
    # a second fragment for track 2 with an explicit base offset and its own default duration.
    traf3 = box("traf", full("tfhd", 0, 0x9, struct.pack(">IQI", 2, 10_000, 7)) + trun(0x200, [(3,)]))
    data = moof + box("mdat", b"\0" * 16) + box("moof", traf3)
    r = reader(data)
    runs = list(r.fragment_runs({2: TrackDefaults(duration=1024, size=10)}, {2: 100}))
    assert [run.track_id for run in runs] == [1, 2, 2]
    assert runs[0].table.starts == (5000, 5400)
    assert runs[0].table.offsets == (200, 219)
    assert runs[1].table.starts == (100, 1124, 2148)
    assert runs[1].table.offsets == (263, 273, 283)
    assert runs[2].table.starts == (3172,)
    assert runs[2].table.durations == (7,)
    assert runs[2].table.offsets == (10_000,)


def test_track_defaults_from_trex():
    trex = full("trex", 0, 0, struct.pack(">IIIII", 3, 1, 48000, 23, 0))
    r = reader(box("mvex", trex))
    assert r.track_defaults(next(r.boxes())) == {3: TrackDefaults(duration=48000, size=23)}


def test_track_fragment_without_tfhd_is_refused():
    r = reader(box("moof", box("traf", trun(0, [()]))))
    with pytest.raises(MediaError, match="has no 'tfhd'"):
        list(r.fragment_runs({}))
