"""Clock texts for options and reports: exact, and never 1:99."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit.timecode import MAX_NS, format_clock, format_seconds, parse_clock


@pytest.mark.parametrize("text, ns", [
    ("90", 90_000_000_000), ("90.5", 90_500_000_000), ("1:30", 90_000_000_000),
    ("1:02:03.25", 3_723_250_000_000), ("0.000000001", 1), ("125:00", 7_500_000_000_000),
])
def test_parse_clock(text, ns):
    assert parse_clock(text) == ns


@pytest.mark.parametrize("text", ["1:99", "1:60:00", "soon", "", "-5", "1::2", "99999999999999999999"])
def test_parse_clock_refuses(text):
    with pytest.raises(ValueError):
        parse_clock(text)


def test_format_clock_and_seconds():
    assert format_clock(3_723_250_000_000) == "1:02:03.250"
    assert format_clock(-1_500_000) == "-0:00:00.002"
    assert format_clock(59_999_600_000, digits=3) == "0:01:00.000"
    assert format_seconds(90_500_000_000) == "90.5"
    assert format_seconds(1) == "0.000000001"
    assert format_seconds(-2_000_000_000) == "-2"


@given(st.integers(min_value=0, max_value=MAX_NS))
def test_format_seconds_round_trips_through_parse_clock(ns):
    assert parse_clock(format_seconds(ns)) == ns


@given(st.integers(min_value=0, max_value=10**15))
def test_format_clock_with_nine_digits_round_trips(ns):
    assert parse_clock(format_clock(ns, digits=9)) == ns
