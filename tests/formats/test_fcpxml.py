"""Final Cut Pro XML chapter markers: goldens (nested spine, gap, connected clip, ref-clip,
sync/mc-clips, out-of-range markers, drop-frame at 10 h, a .fcpxmld bundle), XML attacks
refused, detection, the CLI, and generated timelines that must read back."""

from __future__ import annotations

from fractions import Fraction
from xml.sax.saxutils import quoteattr

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats, sources
from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats import fcpxml
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_SECOND
from conftest import FIXTURES, fixture_path
from formats.golden import cases, check, expected_path

S = NS_PER_SECOND
CASES = cases("fcpxml")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_golden(path):
    check("fcpxml", path)


def test_every_golden_has_its_expectation():
    assert all(expected_path(p).exists() for p in CASES)
    assert {"nested_2997", "resolve_23976_sync_mc", "dropframe_10h", "bundle"} <= {p.stem for p in CASES}


def test_module_shape_and_place_in_the_registry():
    assert fcpxml.name == "fcpxml" and fcpxml.render is None
    names = list(formats.FORMATS)
    assert names.index("fcpxml") < names.index("youtube") == len(names) - 1
    assert formats.format_for_path("Project.fcpxml") is fcpxml
    assert formats.format_for_path("Project.fcpxmld") is fcpxml


def doc(spine: str, *, frame: str = "1001/30000s", tc_start: str = "0s", extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources><format id="r1" frameDuration="{frame}"/><asset id="r2" start="0s" duration="36000s"/></resources>
  <library><event name="E"><project name="P"><sequence format="r1" tcStart="{tc_start}"><spine>
{spine}
  </spine></sequence></project></event></library>{extra}
</fcpxml>
"""


def _parse(text: str, **options):
    result = fcpxml.parse(text, ParseOptions(**options))
    return [(c.start_ns, c.title) for c in result.chapters], [(d.lineno, d.code) for d in result.diagnostics]


def test_the_formula_offset_plus_marker_minus_clip_start_minus_tc_start():
    spine = '<asset-clip ref="r2" offset="3610s" start="100s" duration="50s">' \
            '<chapter-marker start="125s" value="Here"/></asset-clip>'
    assert _parse(doc(spine, tc_start="3600s"))[0] == [(35 * S, "Here")]  # 3610 + (125 - 100) - 3600


def test_fps_is_ignored_with_a_note_and_colours_are_refused():
    spine = '<gap offset="0s" duration="10s"><chapter-marker start="1s" value="A"/></gap>'
    assert _parse(doc(spine), fps=Fraction(25)) == ([(S, "A")], [(0, "fps_ignored")])
    with pytest.raises(UsageError, match="no colours"):
        _parse(doc(spine), marker_color="blue")


def test_timeline_start_through_the_library_api_uses_the_files_rate():
    spine = '<gap offset="3600s" duration="100s" start="3600s"><chapter-marker start="3630s" value="A"/>' \
            '<chapter-marker start="3605s" value="Early"/></gap>'
    chapters, diagnostics = _parse(doc(spine, frame="1/25s", tc_start="3600s"), timeline_start="01:00:10:00")
    assert chapters == [(20 * S, "A")] and diagnostics == [(6, "before_timeline_start")]


def test_marker_at_the_clip_end_is_outside_and_at_the_start_is_inside():
    spine = '<asset-clip ref="r2" offset="0s" start="10s" duration="5s"><chapter-marker start="10s" value="In"/>' \
            '<chapter-marker start="15s" value="Out"/></asset-clip>'
    assert _parse(doc(spine)) == ([(0, "In")], [(6, "outside_clip")])


@pytest.mark.parametrize("text, message", [
    ("<fcpxml><library/>", "not well-formed XML"),
    ("<xmeml version='5'/>", "expected <fcpxml>"),
    ("<fcpxml version='1.10'><library/></fcpxml>", "no <project> with a <sequence>"),
    (doc('<gap offset="1.5s" duration="2s"/>'), "line 6: <gap offset='1.5s'>: expected rational seconds"),
    (doc('<gap offset="0s" duration="2s"><chapter-marker value="x"/></gap>'), "line 6: <chapter-marker> has no start"),
    (doc('<gap offset="1/0s" duration="2s"/>'), "expected rational seconds"),
])
def test_malformed_files_are_errors_naming_the_line(text, message):
    with pytest.raises(SourceError) as caught:
        fcpxml.parse(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_no_chapter_marker_is_no_chapters_and_plain_markers_are_notes():
    spine = '<gap offset="0s" duration="10s"><marker start="1s" value="todo"/></gap>'
    with pytest.raises(NoChaptersError) as caught:
        fcpxml.parse(doc(spine))
    assert [(d.lineno, d.code) for d in caught.value.diagnostics] == [(0, "no_chapters"), (6, "not_a_chapter")]


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE fcpxml [<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']><fcpxml><x v="&i;"/></fcpxml>')


@pytest.mark.parametrize("text", [
    LAUGHS,
    '<?xml version="1.0"?><!DOCTYPE fcpxml [<!ENTITY e SYSTEM "file:///etc/passwd">]><fcpxml>&e;</fcpxml>',
    '<?xml version="1.0"?><!DOCTYPE fcpxml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><fcpxml/>',
    '<?xml version="1.0"?><!DOCTYPE fcpxml [<!ENTITY big "' + "x" * 10000 + '">]><fcpxml>'
    + "&big;" * 10000 + "</fcpxml>",
], ids=["billion-laughs", "external-entity", "parameter-entity", "quadratic-blowup"])
def test_xml_attacks_are_refused_quickly(text):
    with pytest.raises(SourceError, match="declares entities"):
        fcpxml.parse(text)


def test_a_utf16_file_with_its_own_declaration_reads():
    text = doc('<gap offset="0s" duration="9s"><chapter-marker start="2s" value="Ünï"/></gap>').replace(
        'encoding="UTF-8"', 'encoding="UTF-16"')
    data = text.encode("utf-16")
    assert _parse(sources.decode(data))[0] == [(2 * S, "Ünï")]


# -- detection -------------------------------------------------------------------------

EXISTING = sorted([*(FIXTURES / "descriptions").glob("*.txt"), *(FIXTURES / "ffmetadata").glob("*.ffmeta"),
                   *(FIXTURES / "json").glob("*.json"), *cases("edl"), *cases("premiere-csv")])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_detect_claims_its_goldens(path):
    text = sources.read_text(path)
    assert fcpxml.detect(text) and formats.detect(text) is fcpxml


@pytest.mark.parametrize("path", EXISTING, ids=lambda p: p.name)
def test_detect_claims_no_other_fixture(path):
    assert not fcpxml.detect(sources.read_text(path))


# -- the CLI ---------------------------------------------------------------------------

def test_cli_reads_a_file_and_a_bundle_without_fps():
    for name in ("nested_2997.fcpxml", "bundle.fcpxmld"):
        path = fixture_path("formats", "fcpxml", name)
        done = CliRunner().invoke(cli, ["parse", str(path), "--to", "json"])
        assert done.exit_code == 0, done.output
    assert '"Agenda"' in done.output and "4.92" in done.output


# -- generated timelines read back -----------------------------------------------------

RATES = [Fraction(25), Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001), Fraction(24)]
TITLES = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"), max_size=30)


def _t(seconds: Fraction) -> str:
    return f"{seconds.numerator}/{seconds.denominator}s"


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(RATES), st.integers(0, 3600 * 24),
       st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 2000), st.integers(0, 1999), st.booleans(), TITLES),
                min_size=1, max_size=15))
def test_generated_timelines_read_back(rate, tc_frames, clips):
    """Back-to-back clips (some as connected clips on a gap), each with one chapter marker in its range."""
    frame = 1 / rate
    tc_start = tc_frames * frame
    body, want, at = [], [], tc_start
    for source_start, length, marker, connected, title in clips:
        start, duration = source_start * frame, length * frame
        marker_time = start + (marker % length) * frame
        chapter = f"<chapter-marker start=\"{_t(marker_time)}\" duration=\"{_t(frame)}\" value={quoteattr(title)}/>"
        lane = 'lane="1" ' if connected else ""
        clip = (f'<asset-clip ref="r2" {lane}offset="{_t(Fraction(0) if connected else at)}" '
                f'start="{_t(start)}" duration="{_t(duration)}">{chapter}</asset-clip>')
        if connected:  # hung on a gap that starts where the clip would have
            clip = f'<gap offset="{_t(at)}" start="0s" duration="{_t(duration)}">{clip}</gap>'
        body.append(clip)
        want.append((at - tc_start + (marker_time - start), title))
        at += duration
    result = fcpxml.parse(doc("\n".join(body), frame=_t(frame), tc_start=_t(tc_start)))
    expected = sorted(((int(t * S + Fraction(1, 2)), title) for t, title in want), key=lambda p: p[0])
    assert [(c.start_ns, c.title) for c in result.chapters] == expected


_PIECES = st.sampled_from(["<fcpxml>", "</fcpxml>", "<project>", "</project>", "<sequence tcStart='1s' format='r1'>",
                           "</sequence>", "<spine>", "</spine>", "<format id='r1' frameDuration='1/0s'/>",
                           "<format id='r1' frameDuration='1/25s'/>", "<gap offset='0s' duration='9s'>", "</gap>",
                           "<chapter-marker start='2s' value='x'/>", "<chapter-marker start='-2s'/>",
                           "<marker start='1s'/>", "<asset-clip lane='1' offset='x'>", "</asset-clip>",
                           "<!DOCTYPE fcpxml>",
                           "&amp;", "&x;", "<", ">", "\x00"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_PIECES, max_size=30).map("".join)), st.sampled_from([None, "00:00:01:00", "x"]))
def test_any_text_raises_only_chapterkit_errors(text, start):
    from chapterkit.errors import ChapterkitError

    try:
        result = fcpxml.parse(text, ParseOptions(timeline_start=start))
    except ChapterkitError as exc:
        assert "\n" not in str(exc)
        return
    assert len(result.chapters) >= 1 and all(c.start_ns >= 0 for c in result.chapters)
