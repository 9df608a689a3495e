"""Premiere Pro's marker export: goldens (UTF-16 tab with a trailing tab, UTF-8 comma), errors
naming the line, detection, the CLI, and generated exports that must read back."""

from __future__ import annotations

import codecs
import csv
import io
from fractions import Fraction

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit import formats, sources
from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats import premiere_csv
from chapterkit.formats.base import ParseOptions
from chapterkit.timecode import format_smpte, frames_to_ns
from conftest import FIXTURES, fixture_path
from formats.golden import cases, check, expected_path

S = 1_000_000_000
NTSC30 = Fraction(30000, 1001)
CASES = cases("premiere-csv")
HEADER = "Marker Name\tDescription\tIn\tOut\tDuration\tMarker Type\t\n"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_golden(path):
    check("premiere-csv", path)


def test_every_golden_has_its_expectation():
    assert all(expected_path(p).exists() for p in CASES)
    assert {"export_2997df_utf16", "comma_utf8_25fps", "export_23976_utf16", "export_5994df_utf16"} <= {
        p.stem for p in CASES}


def test_the_golden_export_is_premieres_encoding():
    data = fixture_path("formats", "premiere-csv", "export_2997df_utf16.csv").read_bytes()
    assert data.startswith(codecs.BOM_UTF16_LE)
    first = data[2:].decode("utf-16-le").split("\r\n")[0]
    assert first == "Marker Name\tDescription\tIn\tOut\tDuration\tMarker Type\t"  # trailing tab


def test_module_shape_and_place_in_the_registry():
    assert premiere_csv.name == "premiere-csv" and premiere_csv.render is None
    names = list(formats.FORMATS)
    assert names.index("premiere-csv") < names.index("youtube") == len(names) - 1
    assert formats.format_for_path("Sequence 01.csv") is premiere_csv


def _parse(text: str, **options):
    options.setdefault("fps", Fraction(25))
    result = premiere_csv.parse(text, ParseOptions(**options))
    return [(c.start_ns, c.end_ns, c.title) for c in result.chapters], [(d.lineno, d.code) for d in result.diagnostics]


def test_rate_is_required_and_colours_cannot_select():
    text = HEADER + "A\t\t00:00:00:00\t00:00:00:00\t00:00:00:00\tComment\t\n"
    with pytest.raises(UsageError, match="pass --fps"):
        premiere_csv.parse(text)
    with pytest.raises(UsageError, match="does not record colours"):
        premiere_csv.parse(text, ParseOptions(fps=Fraction(25), marker_color="red"))


def test_end_is_out_only_when_the_duration_is_above_zero():
    text = HEADER + "Point\t\t00:00:01:00\t00:00:09:00\t00:00:00:00\tComment\t\n" \
                    "Range\t\t00:00:10:00\t00:00:12:12\t00:00:02:12\tChapter\t\n"
    assert _parse(text)[0] == [(S, 10 * S, "Point"), (10 * S, 12 * S + 480_000_000, "Range")]


def test_columns_are_found_by_name_in_any_order():
    text = "In,Marker Name\n00:00:02:00,Two\n00:00:01:00,One\n"
    assert _parse(text)[0] == [(S, 2 * S, "One"), (2 * S, None, "Two")]


@pytest.mark.parametrize("text, message", [
    (HEADER + "A\t\t00:00:00:25\t\t\t\t\n", "line 2: frame 25 does not exist at 25 fps"),
    (HEADER + "A\t\t\t\t\t\t\n", "line 2: no In timecode"),
    (HEADER + "A\t\t00:00:05:00\t00:00:04:00\t00:00:01:00\tComment\t\n", "line 2: Out 00:00:04:00 is before In"),
    ("Name\tTime\nA\t00:00:00:00\n", "line 1: expected Premiere's header row"),
    ("\n\n", "empty file"),
])
def test_malformed_rows_are_errors_naming_the_line(text, message):
    with pytest.raises(SourceError) as caught:
        premiere_csv.parse(text, ParseOptions(fps=Fraction(25)))
    assert message in str(caught.value)


def test_a_header_with_no_rows_has_no_chapters():
    with pytest.raises(NoChaptersError):
        premiere_csv.parse(HEADER, ParseOptions(fps=Fraction(25)))


def test_timeline_start_through_the_library_api():
    text = HEADER + "Pre\t\t00;59;59;29\t\t00;00;00;00\t\t\nTop\t\t01;00;00;00\t\t00;00;00;00\t\t\n"
    chapters, diagnostics = _parse(text, fps=Fraction("29.97"), timeline_start="01:00:00:00")
    assert chapters == [(0, None, "Top")] and diagnostics == [(2, "before_timeline_start")]


# -- detection -------------------------------------------------------------------------

EXISTING = sorted([*(FIXTURES / "descriptions").glob("*.txt"), *(FIXTURES / "ffmetadata").glob("*.ffmeta"),
                   *(FIXTURES / "json").glob("*.json"), *cases("edl"), *[p for p in cases("fcpxml") if p.is_file()]])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_detect_claims_its_goldens(path):
    text = sources.read_text(path)
    assert premiere_csv.detect(text) and formats.detect(text) is premiere_csv


@pytest.mark.parametrize("path", EXISTING, ids=lambda p: p.name)
def test_detect_claims_no_other_fixture(path):
    assert not premiere_csv.detect(sources.read_text(path))


# -- the CLI ---------------------------------------------------------------------------

def test_cli_reads_the_utf16_export_with_fps():
    path = fixture_path("formats", "premiere-csv", "export_2997df_utf16.csv")
    done = CliRunner().invoke(cli, ["parse", str(path), "--fps", "30000/1001", "--to", "json"])
    assert done.exit_code == 0, done.output
    assert "599.9994" in done.output and '"Guest arrives"' in done.output


def test_cli_without_fps_is_a_usage_error():
    done = CliRunner().invoke(cli, ["parse", str(fixture_path("formats", "premiere-csv", "comma_utf8_25fps.csv"))])
    assert done.exit_code == 2 and "pass --fps" in done.output


# -- generated exports read back -------------------------------------------------------

RATES = [(Fraction(25), False), (Fraction(24000, 1001), False), (NTSC30, True), (NTSC30, False),
         (Fraction(60000, 1001), True), (Fraction(50), False)]
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


def premiere_export(markers, rate, drop, *, utf16: bool) -> bytes:
    """Premiere's layout: UTF-16 LE + BOM, tabs and a trailing tab; or UTF-8, commas, quotes."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if utf16 else ",", lineterminator="\r\n")
    writer.writerow(["Marker Name", "Description", "In", "Out", "Duration", "Marker Type"] + ([""] if utf16 else []))
    for frames, length, title, note in markers:
        tc = lambda n: format_smpte(n, rate, drop).replace(":", ";") if drop else format_smpte(n, rate)  # noqa: E731
        writer.writerow([title, note, tc(frames), tc(frames + length), format_smpte(length, rate), "Chapter"]
                        + ([""] if utf16 else []))
    text = out.getvalue()
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le") if utf16 else text.encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(RATES), st.booleans(),
       st.lists(st.tuples(st.integers(0, 20 * 3600 * 24), st.sampled_from([0, 0, 1, 48]), TEXT, TEXT),
                min_size=1, max_size=25))
def test_generated_exports_read_back(rate_drop, utf16, markers):
    rate, drop = rate_drop
    markers = sorted(markers, key=lambda m: m[0])
    text = sources.decode(premiere_export(markers, rate, drop, utf16=utf16))
    result = premiere_csv.parse(text, ParseOptions(fps=rate))
    want = [(frames_to_ns(f, rate), title.strip() or " ".join(note.split())) for f, _, title, note in markers]
    assert [(c.start_ns, c.title) for c in result.chapters] == want
    ranged = [(frames_to_ns(f, rate), frames_to_ns(f + n, rate)) for f, n, _, _ in markers if n]
    assert set(ranged) <= {(c.start_ns, c.end_ns) for c in result.chapters}


_PIECES = st.sampled_from(["Marker Name\tDescription\tIn\tOut\tDuration\tMarker Type\t\n", "Marker Name,In,Out\n",
                           "00:00:01:00", "00;01;00;00", "00;01;00;02", "99:99:99:99", "\t", ",", '"', "\n", "\r\n",
                           "Chapter", "title", "\x00", "é"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(_PIECES, max_size=40).map("".join)),
       st.sampled_from([Fraction(25), Fraction(30000, 1001)]), st.sampled_from([None, "00:00:10:00", "x"]))
def test_any_text_raises_only_chapterkit_errors(text, fps, start):
    from chapterkit.errors import ChapterkitError

    try:
        result = premiere_csv.parse(text, ParseOptions(fps=fps, timeline_start=start))
    except ChapterkitError as exc:
        assert "\n" not in str(exc)
        return
    assert len(result.chapters) >= 1
