"""Fuzz the tool-written formats' readers with pieces of their grammars: any text ends in a
chapter list or a one-line ChapterkitError, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.errors import ChapterkitError, SourceError, UsageError
from chapterkit.formats.base import ParseOptions
from formats.goldens import MINE

_PIECES = st.sampled_from([
    # mp4chaps / audacity
    "00:00:00.000 ", "99:59:59.999", "## total-duration: 00:01:00.000", "#", "\t", "\\\t", "1.500000", "-1", " ",
    # cue
    'FILE "a.wav" WAVE', "TRACK 01 AUDIO", "TRACK", "INDEX 01 00:00:00", "INDEX 00 ", "INDEX 01 120:00:74",
    "00:00:75", 'TITLE "', "PERFORMER x", "REM", "PREGAP 00:02:00",
    # JSON
    "{", "}", "[", "]", ":", ",", '"version"', '"chapters"', '"startTime"', '"endTime"', '"start_time"',
    '"end_time"', '"title"', '"toc"', "false", "null", "1e400", "0.5", '"x"', '"duration"', '"extractor"', '"id"',
    # PSC
    "<", ">", "/>", "</", '<psc:chapters xmlns:psc="http://podlove.org/simple-chapters">', "</psc:chapters>",
    "<psc:chapter ", 'start="', 'title="', '"', "1:30", "&amp;", "&lol;", "<!DOCTYPE x [<!ENTITY lol 'a'>]>",
    # line ends, BOM, odd characters
    "\n", "\r\n", "\r", "\ufeff", "\x00", "é", "\u2028"])


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join), st.sampled_from([None, *MINE]),
       st.one_of(st.none(), st.integers(0, 10**13)))
def test_any_text_ends_in_chapters_or_one_line_error(text, name, duration_ns):
    try:
        result = formats.parse(text, name, ParseOptions(duration_ns=duration_ns))
    except ChapterkitError as exc:
        assert "\n" not in str(exc)
        return
    assert len(result.chapters) >= 1
    for other in formats.writable():
        # Whatever was read can be written anywhere: text plus one-line warnings naming the format, or a
        # one-line usage error when the target needs more than the list holds (WebVTT needs a duration).
        try:
            text_out, warnings = formats.render_checked(result.chapters, other)
        except UsageError as exc:
            assert "\n" not in str(exc)
            continue
        assert isinstance(text_out, str)
        assert all(isinstance(w, str) and w.startswith(other) and "\n" not in w for w in warnings), warnings


@pytest.mark.parametrize(("name", "text"), [
    ("mp4chaps", "9999999999:00:00.000 x\n"),
    ("cue", 'FILE "a" WAVE\nTRACK 01 AUDIO\nINDEX 01 999999999999:00:00\n'),
    ("psc", '<chapters xmlns="http://podlove.org/simple-chapters"><chapter start="99999999999999"/></chapters>'),
    ("audacity", "99999999999.0\t99999999999.0\tx\n"),
    ("podcast", '{"version": "1", "chapters": [{"startTime": 1e300}]}'),
    ("youtube-dl-json", '{"chapters": [{"start_time": 1e300}]}'),
])
def test_times_past_int64_nanoseconds_are_refused_naming_where(name, text):
    with pytest.raises(SourceError, match="longer than any media"):
        formats.get_format(name).parse(text)
