"""The EBML primitives: VINTs, headers, values and counted reads (RFC 8794)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit.containers.ebml import (
    EBMLError, Header, Source, decode_id, decode_size, encode_element, encode_id, encode_size,
    float_, iter_children, parse_header, text, uint,
)


@pytest.mark.parametrize(("octets", "expected"), [
    (b"\x81", (1, 1)),
    (b"\x40\x01", (1, 2)),                      # the same value, in two octets (RFC 8794 4.4)
    (b"\x20\x00\x01", (1, 3)),
    (b"\x10\x00\x00\x01", (1, 4)),
    (b"\x01\x00\x00\x00\x00\x00\x00\x41", (65, 8)),  # FFmpeg's 8-octet EditionEntry size
    (b"\xfe", (126, 1)),                        # the largest 1-octet size
    (b"\xff", (None, 1)),                       # all value bits set: unknown size
    (b"\x7f\xff", (None, 2)),
    (b"\x01\xff\xff\xff\xff\xff\xff\xff", (None, 8)),
])
def test_decode_size_known_vectors(octets, expected):
    assert decode_size(octets) == expected


@pytest.mark.parametrize(("octets", "reason"), [
    (b"\x00\x81", "longer than 8 octets"),
    (b"\x40", "cut off"),
    (b"", "cut off"),
])
def test_decode_size_rejects(octets, reason):
    with pytest.raises(EBMLError, match=reason):
        decode_size(octets)


@pytest.mark.parametrize(("octets", "expected"), [
    (b"\x1a\x45\xdf\xa3", (0x1A45DFA3, 4)),     # EBML
    (b"\x18\x53\x80\x67", (0x18538067, 4)),     # Segment
    (b"\x43\x7d", (0x437D, 2)),                 # ChapLanguageIETF
    (b"\x80", (0x80, 1)),                       # ChapterDisplay: re-allowed by RFC 9559
])
def test_decode_id_known_vectors(octets, expected):
    assert decode_id(octets) == expected


@pytest.mark.parametrize("octets", [b"\xff", b"\x7f\xff", b"\x40\x00", b"\x08\x00\x00\x00\x01"])
def test_decode_id_rejects_reserved_and_long_ids(octets):
    with pytest.raises(EBMLError):
        decode_id(octets)


@given(st.integers(min_value=1, max_value=8).flatmap(
    lambda length: st.tuples(st.integers(0, (1 << (7 * length)) - 2), st.just(length))))
def test_size_round_trip(value_and_length):
    value, length = value_and_length
    octets = encode_size(value, length)
    assert len(octets) == length
    assert decode_size(octets + b"tail") == (value, length)


@given(st.integers(0, (1 << 56) - 2))
def test_size_uses_fewest_octets(value):
    octets = encode_size(value)
    assert decode_size(octets) == (value, len(octets))
    if len(octets) > 1:  # one octet fewer could not have held it
        assert value >= (1 << (7 * (len(octets) - 1))) - 1


@given(st.integers(1, 8))
def test_unknown_size_round_trip(length):
    assert decode_size(encode_size(None, length)) == (None, length)


#: Valid element IDs: 1 to 4 octets, marker kept, value bits neither all 0 nor all 1.
element_ids = st.integers(1, 4).flatmap(lambda n: st.integers(1, (1 << (7 * n)) - 2).map(
    lambda payload: (1 << (7 * n)) | payload))


@given(element_ids)
def test_id_round_trip(element_id):
    octets = encode_id(element_id)
    assert decode_id(octets) == (element_id, len(octets))


@given(element_ids, st.binary(max_size=300), st.integers(2, 8))
def test_element_header_round_trip(element_id, data, size_length):
    element = encode_element(element_id, data, size_length)
    header = parse_header(element)
    assert (header.id, header.size, header.end) == (element_id, len(data), len(element))
    assert element[header.data_offset:header.end] == data


def test_encode_rejects_what_cannot_be_written():
    with pytest.raises(ValueError):
        encode_size(127, 1)           # 127 is the unknown-size marker in one octet
    with pytest.raises(ValueError):
        encode_id(0x7F)               # not a valid ID (marker missing)


def test_iter_children_walks_and_checks_bounds():
    data = encode_element(0x4282, b"webm") + encode_element(0xEC, b"\0" * 3)
    assert [(h.id, h.size) for h in iter_children(data, 0, len(data))] == [(0x4282, 4), (0xEC, 3)]
    with pytest.raises(EBMLError, match="overruns its parent"):
        list(iter_children(data, 0, len(data) - 1))
    unknown = encode_id(0xA3) + encode_size(None)
    with pytest.raises(EBMLError, match="unknown-size"):
        list(iter_children(unknown, 0, len(unknown)))


def test_values():
    assert uint(b"") == 0
    assert uint(b"\x01\x00") == 256
    with pytest.raises(EBMLError):
        uint(b"\x01" * 9)
    assert float_(b"") == 0.0
    assert float_(struct.pack(">f", 1.5)) == 1.5
    assert float_(struct.pack(">d", 2000.25)) == 2000.25
    with pytest.raises(EBMLError, match="0, 4 or 8"):
        float_(b"\0" * 10)
    assert text("Bé 章".encode() + b"\0\0") == ("Bé 章", True)   # NUL padding ends it
    assert text(b"caf\xe9") == ("caf\ufffd", False)               # Latin-1, as FFmpeg copies it


def test_source_counts_every_byte(tmp_path):
    path = tmp_path / "x.bin"
    element = encode_element(0x1A45DFA3, b"\x42\x82\x84webm")
    path.write_bytes(element + b"\0" * 1000)
    with Source(path) as source:
        assert source.size == len(element) + 1000
        assert source.header_at(0) == Header(0x1A45DFA3, 0, 5, 7)
        assert source.bytes_read == 12 and source.reads == 1
        assert source.read_at(source.size - 4, 100) == b"\0" * 4
        assert source.bytes_read == 16
        assert source.header_at(source.size) is None
        assert source.bytes_read == 16


def test_source_reports_truncation(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(b"\x1a\x45\xdf")                 # an ID cut off by the end of the file
    with Source(path) as source, pytest.raises(EBMLError, match="truncated"):
        source.header_at(0)
    path.write_bytes(encode_id(0x1549A966) + encode_size(100) + b"x" * 10)
    with Source(path) as source:
        header = source.header_at(0)
        with pytest.raises(EBMLError, match="truncated: Info at offset 0 needs 100 bytes, 10"):
            source.element_data(header, 1000, "Info")
        with pytest.raises(EBMLError, match="more than the 50 allowed"):
            source.element_data(header, 50, "Info")
