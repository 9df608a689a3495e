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


# -- SMPTE frame timecode ---------------------------------------------------------------------

from fractions import Fraction  # noqa: E402

from chapterkit.timecode import (  # noqa: E402
    format_smpte, frames_to_label, frames_to_ns, label_to_frames, nominal_fps, ns_to_frames, parse_rate,
    parse_smpte, smpte_to_ns,
)

NTSC30, NTSC60, FILM = Fraction(30000, 1001), Fraction(60000, 1001), Fraction(24000, 1001)
#: Every rate an editor offers, with whether it has a drop-frame counting.
RATES = [(Fraction(r), False) for r in (24, 25, 30, 48, 50, 60)] + [
    (FILM, False), (NTSC30, False), (NTSC30, True), (NTSC60, False), (NTSC60, True), (Fraction(48000, 1001), False)]


@pytest.mark.parametrize("text, rate", [
    ("25", Fraction(25)), ("29.97", NTSC30), ("30000/1001", NTSC30), ("2997/100", NTSC30),
    ("23.976", FILM), ("23.98", FILM), ("24000/1001", FILM), ("59.94", NTSC60), ("60000/1001", NTSC60),
    ("47.952", Fraction(48000, 1001)), ("12.5", Fraction(25, 2)), ("30", Fraction(30)), (" 24 ", Fraction(24)),
])
def test_parse_rate_makes_ntsc_rates_exact(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0", "-25", "abc", "", "1/0"])
def test_parse_rate_refuses(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def _walk_labels(base: int, dropped: int, hours: int, minutes: int, count: int):
    """The counter as a deck runs it from ``hours:minutes:00:00``: label after label, skipping
    what drop-frame counting skips."""
    seconds = frames = 0
    while count:
        if not (dropped and seconds == 0 and frames < dropped and minutes % 10):
            yield hours, minutes, seconds, frames
            count -= 1
        frames += 1
        if frames == base:
            frames, seconds = 0, seconds + 1
        if seconds == 60:
            seconds, minutes = 0, minutes + 1
        if minutes == 60:
            minutes, hours = 0, hours + 1


@pytest.mark.parametrize("rate, dropped", [(NTSC30, 2), (NTSC60, 4)])
@pytest.mark.parametrize("hours, minutes", [(0, 0), (9, 50)])
def test_drop_frame_matches_the_counter_for_twenty_minutes_from_zero_and_from_9_50(rate, dropped, hours, minutes):
    """Drop-frame repeats every ten minutes; twenty minutes from 0:00 and across 10:00:00;00 cover it."""
    base = nominal_fps(rate)
    per_ten = 10 * 60 * base - 9 * dropped          # 17,982 frames at 29.97
    first = (hours * 6 + minutes // 10) * per_ten   # a tenth minute keeps every label
    for count, label in enumerate(_walk_labels(base, dropped, hours, minutes, 20 * 60 * base), first):
        assert label_to_frames(*label, rate, drop=True) == count
        assert frames_to_label(count, rate, drop=True) == label


def test_ten_hours_of_2997_do_not_drift():
    """10:00:00;00 drop-frame is 35999.964 s (frame 1,078,920); reading it as 30 fps says 36000 s, and
    10:00:00:00 non-drop is 36036 s: 29.97 read as 30 drifts 3.6 s an hour."""
    assert parse_smpte("10:00:00;00", NTSC30) == 1_078_920
    assert smpte_to_ns("10:00:00;00", NTSC30) == 35_999_964_000_000
    assert smpte_to_ns("10:00:00:00", NTSC30) == 36_036_000_000_000
    assert smpte_to_ns("10:00:00:00", NTSC30, drop=True) == 35_999_964_000_000  # FCM: DROP FRAME
    assert smpte_to_ns("10:00:00;00", NTSC60) == 35_999_964_000_000
    assert smpte_to_ns("10:00:00:00", FILM) == 36_036_000_000_000
    assert smpte_to_ns("10:00:00:00", Fraction(25)) == 36_000 * 10**9
    # Drop-frame labels stay within 0.1 s of the wall clock every minute for ten hours.
    for minute in range(600):
        hours, minutes = divmod(minute, 60)
        label = f"{hours:02d}:{minutes:02d}:00;{2 if minutes % 10 else 0:02d}"
        assert abs(smpte_to_ns(label, NTSC30) - minute * 60 * 10**9) < 100_000_000


@pytest.mark.parametrize("text, rate", [
    ("00:01:00;00", NTSC30), ("00:01:00;01", NTSC30), ("00:01:00;03", NTSC60), ("00:00:00:30", NTSC30),
    ("00:00:00:25", Fraction(25)), ("00:60:00:00", Fraction(25)), ("00:00:60:00", Fraction(25)),
    ("00:00:00;00", Fraction(25)), ("1:2:3:4", Fraction(25)), ("00:00:00", Fraction(25)),
])
def test_labels_that_do_not_exist_are_refused(text, rate):
    with pytest.raises(ValueError):
        parse_smpte(text, rate)


def test_drop_frame_keeps_every_tenth_minute_and_reads_semicolon_forms():
    assert parse_smpte("00:10:00;00", NTSC30) == 17_982
    assert parse_smpte("00;10;00;00", NTSC30) == 17_982       # Premiere writes ';' throughout
    assert parse_smpte("00:10:00.00", NTSC30) == 17_982       # '.' before frames: drop-frame too
    assert parse_smpte("00:01:00;02", NTSC30) == 1_800
    assert format_smpte(1_800, NTSC30, drop=True) == "00:01:00;02"
    assert format_smpte(1_799, NTSC30, drop=True) == "00:00:59;29"
    assert format_smpte(86_400, FILM) == "01:00:00:00"


def test_frames_to_ns_is_exact_and_rounds_halves_up():
    assert frames_to_ns(1, NTSC30) == 33_366_667        # 33366666.67 ns
    assert frames_to_ns(3, NTSC30) == 100_100_000
    assert frames_to_ns(1, Fraction(25)) == 40_000_000
    assert ns_to_frames(frames_to_ns(1_078_920, NTSC30), NTSC30) == 1_078_920


@given(st.sampled_from(RATES), st.integers(min_value=0, max_value=100 * 3600 * 60))
def test_frames_to_label_to_frames_is_the_identity_at_every_rate(rate_drop, count):
    rate, drop = rate_drop
    assert parse_smpte(format_smpte(count, rate, drop), rate, drop) == count
    assert ns_to_frames(frames_to_ns(count, rate), rate) == count


@given(st.sampled_from([(NTSC30, True), (NTSC60, True), (FILM, False), (Fraction(25), False)]),
       st.integers(min_value=0, max_value=23 * 3600 * 24))  # opentime wraps at 24 h
def test_our_timecode_agrees_with_opentimelineio(rate_drop, count):
    """OpenTimelineIO's opentime (the field's reference) reads every label we write as the same frame."""
    from opentimelineio import opentime

    rate, drop = rate_drop
    text = format_smpte(count, rate, drop)
    assert opentime.from_timecode(text, float(rate)).value == count
    assert opentime.to_timecode(opentime.RationalTime(count, float(rate)), float(rate), drop) == text
