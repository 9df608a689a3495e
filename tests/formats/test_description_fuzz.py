"""Property tests for the ``youtube`` format: the writer round-trips, the reader never crashes."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit.errors import ChapterkitError
from chapterkit.formats import description
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, ChapterList

# Titles a YouTube list can carry unambiguously: no newline, no ':' (a "1:30" inside a
# title reads as a second stamp), no HTML or link syntax. Separators, brackets, digits,
# accents, CJK and emoji all stay in, so the writer's " - " fallback gets exercised.
TITLE_ALPHABET = ("abcxyzABCXYZ0123456789 -–—|·~,.!?&'\"()[]【】*•+=_%"
                  "éüñßøçÅ中文字日本語한국어Ωж🎸🔥😀👍🏽❤️")
titles = (st.text(TITLE_ALPHABET, min_size=1, max_size=24)
          .map(str.strip).filter(bool))
gaps_ms = st.integers(min_value=10_000, max_value=3 * 3600 * 1000)


@st.composite
def valid_lists(draw) -> ChapterList:
    """First at 0:00, strictly ascending, every chapter at least 10 s, ms resolution."""
    names = draw(st.lists(titles, min_size=3, max_size=12))
    starts_ms = [0]
    for _ in names[1:]:
        starts_ms.append(starts_ms[-1] + draw(gaps_ms))
    duration = None
    if draw(st.booleans()):
        duration = (starts_ms[-1] + draw(gaps_ms)) * NS_PER_MS
    return ChapterList.of(((ms * NS_PER_MS, name) for ms, name in zip(starts_ms, names, strict=True)),
                          duration_ns=duration)


@settings(max_examples=300, deadline=None)
@given(valid_lists())
def test_render_then_parse_gives_the_same_list(chapters):
    text = description.render(chapters)
    result = description.parse(text, ParseOptions(duration_ns=chapters.duration_ns))
    assert result.chapters == chapters
    assert result.diagnostics == ()
    assert text.splitlines()[0].startswith("0:00 ")


FUZZ_ALPHABET = st.sampled_from(list("0123456789::::;..-–|[]()【】 \t\n\r\u2028\u00a0\u200f"
                                     "０１２：abcAmpPMtoxX?#=&/<>é中🎸\u20e3\ufe0f"))
fuzz_text = st.one_of(
    st.text(),
    st.text(FUZZ_ALPHABET, max_size=200),
    st.lists(st.text(FUZZ_ALPHABET, max_size=30), max_size=12).map("\n".join),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 99), st.text(max_size=8)), max_size=8)
    .map(lambda rows: "\n".join(f"{m}:{s:02d}{t}" for m, s, t in rows)),
)
fuzz_options = st.builds(
    ParseOptions,
    duration_ns=st.one_of(st.none(), st.integers(0, 10 ** 13)),
    lenient=st.booleans(),
    fps=st.one_of(st.none(), st.sampled_from([Fraction(25), Fraction(30000, 1001), Fraction(24)])),
    split_flattened=st.booleans(),
)


@settings(max_examples=600, deadline=None)
@given(fuzz_text, fuzz_options)
def test_parse_raises_only_chapterkit_errors(text, options):
    try:
        result = description.parse(text, options)
    except ChapterkitError as exc:
        assert "\n" not in str(exc)
        return
    assert len(result.chapters) >= 1
    starts = result.chapters.starts_ns
    if not options.lenient:
        assert starts[0] == 0 and len(starts) >= 3
        assert all(b - a >= 10 * NS_PER_SECOND for a, b in pairwise(starts))
    assert all(b > a for a, b in pairwise(starts))
    assert isinstance(description.detect(text), bool)
    description.render(result.chapters)
