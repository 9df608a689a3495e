"""Fuzz every chapter format parser registered in ``chapterkit.formats.FORMATS`` (issue 11).

The registry is iterated, so formats added later are fuzzed without a change here.
Inputs are arbitrary text and a soup of the pieces chapter files are made of
(stamps, separators, section headers, keys, JSON, HTML, cue sheet words), so the
parsers get past their first line. A parse may succeed or raise a
:class:`~chapterkit.errors.ChapterkitError` with a one-line message; what it
parses must render in its own format (or refuse with a ChapterkitError); anything
else, or a call over ``CALL_SECONDS``, fails.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import ChapterkitError
from chapterkit.formats.base import ParseOptions, ParseResult
from fuzz.settings import CALL_SECONDS, FUZZ

PIECES = ["0:00", "00:00:00", "1:30", "01:02:03.456", "10:00:00:12", "59:59", "1:5045", "99:99", "\u00d7",
          " ", "  ", "\t", "\n", "\r\n", "\u2028", " - ", " | ", ": ", "::", ". ", "(", ")", "[", "]", "#",
          "Intro", "Chapter", "é", "章", "\u200f", "\ud7ff", "\x00", "\\", "=", ";",
          ";FFMETADATA1", "[CHAPTER]", "TIMEBASE=1/1000", "START=0", "END=1000", "title=",
          "CHAPTER01=00:00:00.000", "CHAPTER01NAME=", "WEBVTT", "-->", "00:00.000 --> 00:01.000",
          '{"chapters": [', '{"start": 0, "title": "x"}', "]}", '"', "null", "1e400",
          "<br />", "<p>", "</p>", "&amp;", "TRACK 01 AUDIO", "INDEX 01 00:00:00", 'TITLE "x"',
          "FILE \"a.wav\" WAVE", "PERFORMER", "REM", "Chapters:", "1.", "•"]

TEXT = st.one_of(st.text(max_size=400),
                 st.lists(st.sampled_from(PIECES), max_size=80).map("".join))
OPTIONS = st.builds(ParseOptions, duration_ns=st.one_of(st.none(), st.integers(0, 10**13)),
                    lenient=st.booleans(), split_flattened=st.booleans())


def one_line(exc: ChapterkitError) -> None:
    message = str(exc)
    assert message and "\n" not in message, message


@pytest.mark.parametrize("name", list(formats.FORMATS))
@FUZZ
@given(text=TEXT, options=OPTIONS)
def test_every_parser_takes_any_text(name, text, options):
    fmt = formats.FORMATS[name]
    began = time.monotonic()
    fmt.detect(text)  # never raises
    try:
        result = fmt.parse(text, options)
    except ChapterkitError as exc:
        one_line(exc)
    else:
        assert isinstance(result, ParseResult)
        assert all("\n" not in str(diagnostic) for diagnostic in result.diagnostics), result.diagnostics
        try:
            fmt.render(result.chapters)
        except ChapterkitError as exc:
            one_line(exc)
    assert time.monotonic() - began < CALL_SECONDS


@FUZZ
@given(text=TEXT)
def test_detection_and_the_fallback_take_any_text(text):
    try:
        formats.parse(text)
    except ChapterkitError as exc:
        one_line(exc)
