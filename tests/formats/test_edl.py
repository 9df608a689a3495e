"""CMX 3600 EDL markers (Resolve's Timeline Markers to EDL, ``* LOC:`` locators): goldens,
errors naming the line, detection, the CLI, and generated EDLs that must read back."""

from __future__ import annotations

from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats
from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats import edl
from chapterkit.formats.base import ParseOptions
from chapterkit.timecode import format_smpte, frames_to_ns, parse_smpte
from conftest import FIXTURES, fixture_path
from formats.golden import cases, check, expected_path

S = 1_000_000_000
NTSC30 = Fraction(30000, 1001)
CASES = cases("edl")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_golden(path):
    check("edl", path)


def test_every_golden_has_its_expectation_and_the_edge_cases_are_there():
    assert all(expected_path(p).exists() for p in CASES)
    names = {p.stem for p in CASES}
    assert {"resolve_01h_25fps", "resolve_00h_25fps", "resolve_2997df", "resolve_5994df_semicolons",
            "resolve_23976", "color_filter", "locators"} <= names


def test_module_shape_and_place_in_the_registry():
    assert edl.name == "edl" and edl.extensions == (".edl",) and edl.render is None
    names = list(formats.FORMATS)
    assert names.index("edl") < names.index("youtube") == len(names) - 1
    assert formats.format_for_path("cut.EDL") is edl


def _parse(text: str, **options) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    options.setdefault("fps", Fraction(25))
    result = edl.parse(text, ParseOptions(**options))
    return ([(c.start_ns, c.title) for c in result.chapters], [(d.lineno, d.code) for d in result.diagnostics])


EVENT = "{n:03d}  001      V     C        {tc} {tc} {tc} {tc}  \n |C:ResolveColor{color} |M:{title} |D:1\n"


def test_the_rate_is_required_and_named_in_the_error():
    with pytest.raises(UsageError, match=r"pass --fps \(e\.g\. 25, 29\.97, 30000/1001\)"):
        edl.parse(EVENT.format(n=1, tc="01:00:00:00", color="Blue", title="A"))


def test_title_is_the_m_value_not_the_note_before_c():
    text = "001  001      V     C        01:00:00:00 01:00:00:01 01:00:00:00 01:00:00:01  \n" \
           "Fix the colour here |C:ResolveColorBlue |M:  Real title | with a bar  |D:3\n"
    assert _parse(text)[0] == [(0, "Real title | with a bar")]


def test_a_range_marker_ends_after_its_frames_and_a_point_marker_does_not():
    text = EVENT.format(n=1, tc="01:00:00:00", color="Blue", title="Point") + \
        EVENT.format(n=2, tc="01:00:10:00", color="Blue", title="Range").replace("|D:1", "|D:50")
    chapters = edl.parse(text, ParseOptions(fps=Fraction(25))).chapters
    assert [(c.start_ns, c.end_ns) for c in chapters] == [(0, 10 * S), (10 * S, 12 * S)]


def test_equal_starts_one_chapter_and_a_first_chapter_after_zero_are_read_as_written():
    one = EVENT.format(n=1, tc="00:00:30:00", color="Blue", title="Only")
    assert _parse(one)[0] == [(30 * S, "Only")]
    twins = one + EVENT.format(n=2, tc="00:00:30:00", color="Blue", title="Twin")
    assert _parse(twins)[0] == [(30 * S, "Only"), (30 * S, "Twin")]


@pytest.mark.parametrize("text, fps, message", [
    (EVENT.format(n=1, tc="01:00:00:30", color="Blue", title="A"), NTSC30, "line 1: frame 30 does not exist"),
    (EVENT.format(n=1, tc="01:01:00;00", color="Blue", title="A"), NTSC30, "line 1: drop-frame counting skips"),
    ("FCM: DROP FRAME\n" + EVENT.format(n=1, tc="01:00:00:00", color="Blue", title="A"), Fraction(25),
     "line 2: drop-frame timecode exists only at 29.97 and 59.94 fps, not 25"),
    ("* LOC: 01:61:00:00 RED  Bad\n", Fraction(25), "line 1: minutes and seconds must be below 60"),
])
def test_malformed_timecodes_are_errors_naming_the_line(text, fps, message):
    with pytest.raises(SourceError) as caught:
        edl.parse(text, ParseOptions(fps=fps))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_lines_that_are_not_markers_are_each_named():
    text = ("TITLE: x\nFCM: SOMETHING ELSE\n |C:ResolveColorBlue |M:Orphan |D:1\n"
            "free text nobody expects\n* LOC: 01:00:00:00 RED  Here\n")
    chapters, diagnostics = _parse(text)
    assert chapters == [(0, "Here")]
    assert diagnostics == [(2, "unknown_fcm"), (3, "marker_without_event"), (4, "unknown_line")]


def test_timeline_start_and_marker_color_through_the_library_api():
    text = EVENT.format(n=1, tc="00:00:05:00", color="Red", title="Red one") + \
        EVENT.format(n=2, tc="00:00:15:00", color="Blue", title="Blue one")
    chapters, diagnostics = _parse(text, timeline_start="00:00:10:00", marker_color="ResolveColorBlue")
    assert chapters == [(5 * S, "Blue one")]
    assert diagnostics == [(2, "other_color")]
    with pytest.raises(UsageError, match="timeline start 'soon'"):
        _parse(text, timeline_start="soon")
    with pytest.raises(NoChaptersError) as caught:
        _parse(text, marker_color="purple")
    assert [d.code for d in caught.value.diagnostics] == ["no_chapters", "other_color", "other_color"]
    assert "Red one" in caught.value.diagnostics[1].message


def test_timeline_start_in_a_drop_frame_file_is_counted_drop_frame():
    text = "FCM: DROP FRAME\n" + EVENT.format(n=1, tc="01:10:00:00", color="Blue", title="Ten")
    chapters, _ = _parse(text, fps=NTSC30, timeline_start="01:00:00:00")
    assert chapters == [(frames_to_ns(17_982, NTSC30), "Ten")]  # 599.9994 s


# -- detection -------------------------------------------------------------------------

EXISTING = sorted([*(FIXTURES / "descriptions").glob("*.txt"), *(FIXTURES / "ffmetadata").glob("*.ffmeta"),
                   *(FIXTURES / "json").glob("*.json"), *cases("premiere-csv"),
                   *[p for p in cases("fcpxml") if p.is_file()]])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_detect_claims_its_goldens(path):
    from chapterkit.sources import read_text

    assert edl.detect(read_text(path))
    assert formats.detect(read_text(path)) is edl


@pytest.mark.parametrize("path", EXISTING, ids=lambda p: p.name)
def test_detect_claims_no_other_fixture(path):
    from chapterkit.sources import read_text

    assert not edl.detect(read_text(path))


# -- the CLI ---------------------------------------------------------------------------

def test_cli_parse_with_fps():
    path = fixture_path("formats", "edl", "resolve_01h_25fps.edl")
    done = CliRunner().invoke(cli, ["parse", str(path), "--fps", "25", "--to", "json"])
    assert done.exit_code == 0, done.output
    assert '"Guest introduction"' in done.output and "42.52" in done.output


def test_cli_without_fps_is_a_usage_error():
    path = fixture_path("formats", "edl", "resolve_01h_25fps.edl")
    done = CliRunner().invoke(cli, ["parse", str(path)])
    assert done.exit_code == 2
    assert "pass --fps" in done.output and "Traceback" not in done.output


def test_cli_fps_29_97_means_30000_over_1001():
    path = fixture_path("formats", "edl", "resolve_2997df.edl")
    done = CliRunner().invoke(cli, ["parse", str(path), "--fps", "29.97", "--to", "json"])
    assert done.exit_code == 0, done.output
    assert "599.9994" in done.output


# -- generated EDLs read back ----------------------------------------------------------

RATES = [(Fraction(24), False), (Fraction(25), False), (Fraction(30), False), (Fraction(24000, 1001), False),
         (NTSC30, False), (NTSC30, True), (Fraction(60000, 1001), True), (Fraction(50), False)]
TITLES = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="|"),
                 min_size=1, max_size=40).map(str.strip).filter(bool)


def resolve_edl(markers: list[tuple[int, str, str]], rate: Fraction, drop: bool, start: int) -> str:
    """A Resolve 'Timeline Markers to EDL' file: one event per marker, CRLF, timeline at ``start``."""
    lines = ["TITLE: Generated", f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}", ""]
    for number, (frames, title, color) in enumerate(markers, 1):
        tc, out = format_smpte(start + frames, rate, drop), format_smpte(start + frames + 1, rate, drop)
        lines += [f"{number % 1000:03d}  001      V     C        {tc} {out} {tc} {out}  ",
                  f" |C:ResolveColor{color} |M:{title} |D:1", ""]
    return "\r\n".join(lines)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(RATES), st.booleans(),
       st.lists(st.tuples(st.integers(0, 20 * 3600 * 24), TITLES, st.sampled_from(["Blue", "Red", "Green"])),
                min_size=1, max_size=30))
def test_generated_resolve_edls_read_back(rate_drop, at_one_hour, markers):
    rate, drop = rate_drop
    markers = sorted(markers, key=lambda m: m[0])
    start = parse_smpte("01:00:00:00", rate, drop) if at_one_hour else 0
    if not at_one_hour and markers[0][0] >= parse_smpte("01:00:00:00", rate, drop):
        markers[0] = (0, *markers[0][1:])  # a timeline at 00:00:00:00 with nothing in its first hour looks like 01:00
    result = edl.parse(resolve_edl(markers, rate, drop, start), ParseOptions(fps=rate))
    assert [(c.start_ns, c.title) for c in result.chapters] == [(frames_to_ns(f, rate), t) for f, t, _ in markers]
    assert result.diagnostics == ()
    blue = [(frames_to_ns(f, rate), t) for f, t, c in markers if c == "Blue"]
    if blue:
        chosen = edl.parse(resolve_edl(markers, rate, drop, start), ParseOptions(fps=rate, marker_color="BLUE"))
        assert [(c.start_ns, c.title) for c in chosen.chapters] == blue
        assert len(chosen.diagnostics) == len(markers) - len(blue)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(RATES), st.lists(st.tuples(st.integers(0, 10 * 3600 * 24), TITLES), min_size=1, max_size=20))
def test_generated_locator_lists_read_back(rate_drop, markers):
    rate, drop = rate_drop
    markers = sorted(markers, key=lambda m: m[0])
    text = "TITLE: LOCATORS\nFCM: NON-DROP FRAME\n" + "".join(
        f"* LOC: {format_smpte(f, rate, drop)} YELLOW  {t}\n" for f, t in markers)
    result = edl.parse(text, ParseOptions(fps=rate, timeline_start="00:00:00:00"))
    assert [(c.start_ns, c.title) for c in result.chapters] == [(frames_to_ns(f, rate), t) for f, t in markers]


_PIECES = st.sampled_from(["TITLE: x\n", "FCM: DROP FRAME\n", "FCM: NON-DROP FRAME\n", "001  001  V  C  ",
                           "01:00:00:00 ",
                           "01:00:00;00 ", "00:01:00;00 ", "99:99:99:99 ", " |C:ResolveColorBlue", " |M:", "name",
                           " |D:", "5", "* LOC: ", "RED ", "\n", "\r\n", "\t", "|", "*", "\x00", "é"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_PIECES, max_size=40).map("".join)),
       st.sampled_from([Fraction(25), Fraction(30000, 1001), Fraction(60000, 1001)]),
       st.sampled_from([None, "blue"]), st.sampled_from([None, "01:00:00:00", "x"]))
def test_any_text_raises_only_chapterkit_errors(text, fps, color, start):
    from chapterkit.errors import ChapterkitError

    try:
        result = edl.parse(text, ParseOptions(fps=fps, marker_color=color, timeline_start=start))
    except ChapterkitError as exc:
        assert "\n" not in str(exc)
        return
    assert len(result.chapters) >= 1 and all(c.start_ns >= 0 for c in result.chapters)


def test_utf16_with_bom_and_a_known_duration():
    from chapterkit.sources import decode

    text = EVENT.format(n=1, tc="01:00:00:00", color="Blue", title="Zéro") + \
        EVENT.format(n=2, tc="01:00:50:00", color="Blue", title="Past the end")
    decoded = decode(text.replace("\n", "\r\n").encode("utf-16"))
    result = edl.parse(decoded, ParseOptions(fps=Fraction(25), duration_ns=40 * S))
    assert [(c.start_ns, c.end_ns, c.title) for c in result.chapters] == [(0, 40 * S, "Zéro")]
    assert [(d.lineno, d.code) for d in result.diagnostics] == [(4, "beyond_duration")]


def test_chapter_lines_point_at_each_marker_even_when_sorted():
    text = fixture_path("formats", "edl", "resolve_01h_25fps.edl").read_text(encoding="utf-8-sig")
    assert edl.parse(text, formats.ParseOptions(fps=Fraction(25))).chapter_lines == (5, 8, 11, 14)
    blocks = text.split("\n\n")  # title block, then one block per marker: the last marker first
    swapped = "\n\n".join([blocks[0], blocks[-1].rstrip("\n"), *blocks[1:-1]]) + "\n"
    result = edl.parse(swapped, formats.ParseOptions(fps=Fraction(25)))
    assert result.chapters[-1].title == edl.parse(text, formats.ParseOptions(fps=Fraction(25))).chapters[-1].title
    assert result.chapter_lines == (8, 11, 14, 5)
