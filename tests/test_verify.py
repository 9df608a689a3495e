"""verify: the per-reader comparison (hand-built readings), tolerances, and real files read back."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapterkit.containers import ReadResult
from chapterkit.errors import EXIT_FINDINGS, EXIT_OK, MediaError, UsageError
from chapterkit.model import NS_PER_MS, NS_PER_SECOND, Chapter, ChapterList
from chapterkit.verify import (
    DURATION_SLACK_NS,
    VerifyReport,
    compare,
    default_tolerance_ns,
    format_drift,
    format_unit,
    parse_tolerance,
    verify_file,
)
from conftest import bundled_ffmpeg, fixture_path, make_media, run_ffmpeg

S = NS_PER_SECOND
MS = NS_PER_MS
SOURCE = ChapterList.of([(0, "Intro"), (10 * S, "Two"), (20 * S, "Three"), (30 * S, "Four")], duration_ns=40 * S)


def reading(reader: str, items, duration_ns: int | None = 40 * S, ends: bool = True) -> ReadResult:
    """A reader's view built by hand: ``(start_ns, title)`` or ``(start_ns, end_ns, title)`` items."""
    chapters = tuple(Chapter(i[0], i[1], i[2]) if len(i) == 3 else Chapter(i[0], None, i[1]) for i in items)
    listed = ChapterList(chapters, duration_ns=duration_ns)
    return ReadResult(reader, listed if ends else listed.without_ends())


def statuses(report) -> list[str]:
    return [row.status for row in report.rows]


# -- compare: the basics ------------------------------------------------------------------------


def test_identical_reading_is_ok():
    report = compare(SOURCE, ReadResult("matroska", SOURCE), MS)
    assert report.ok and report.status == "ok"
    assert statuses(report) == ["ok"] * 4
    assert report.max_drift_ns == 0 and report.problems == () and report.warnings == ()


@pytest.mark.parametrize("shift_ns, status", [(MS, "ok"), (-MS, "ok"), (MS + 1, "drift"), (-MS - 1, "drift")])
def test_tolerance_is_inclusive(shift_ns, status):
    got = reading("matroska", [(0, 10 * S + shift_ns, "Intro"), (10 * S + shift_ns, 20 * S, "Two"),
                               (20 * S, 30 * S, "Three"), (30 * S, 40 * S, "Four")])
    report = compare(SOURCE, got, MS)
    assert statuses(report) == ["ok", status, "ok", "ok"]
    assert report.rows[1].drift_ns == shift_ns
    assert report.ok is (status == "ok")


def test_drift_row_says_where_and_how_much():
    got = reading("vorbis", [(0, "Intro"), (12 * S, "Two"), (20 * S, "Three"), (30 * S, "Four")])
    row = compare(SOURCE, got, S).rows[1]
    assert row.status == "drift" and row.drift_ns == 2 * S
    assert row.problems == ("starts at 0:00:12.000, expected 0:00:10.000 (+2.000 s)",)


def test_titles_compare_after_nfc():
    decomposed = unicodedata.normalize("NFD", "Café Ünïcødé")
    source = ChapterList.of([(0, "Café Ünïcødé"), (5 * S, "B")])
    assert decomposed != "Café Ünïcødé"
    assert compare(source, reading("id3", [(0, decomposed), (5 * S, "B")], None), MS).ok


def test_a_different_title_fails():
    got = reading("vorbis", [(0, "Intro"), (10 * S, "Two "), (20 * S, "Three"), (30 * S, "Four")])
    report = compare(SOURCE, got, MS)
    assert statuses(report) == ["ok", "title", "ok", "ok"]
    assert report.rows[1].problems == ("title is 'Two ', expected 'Two'",)


def test_nothing_read_is_every_chapter_missing():
    report = compare(SOURCE, reading("quicktime", [], 40 * S), MS)
    assert statuses(report) == ["missing"] * 4
    assert report.problems == ("no chapters found",) and not report.ok


# -- alignment ----------------------------------------------------------------------------------


def test_one_missing_chapter_is_one_missing_row():
    got = reading("vorbis", [(0, "Intro"), (20 * S, "Three"), (30 * S, "Four")])
    report = compare(SOURCE, got, MS)
    assert statuses(report) == ["ok", "missing", "ok", "ok"]
    assert report.problems == ("3 chapters, expected 4",)
    assert report.rows[1].problems == ("missing: 'Two' at 0:00:10.000",)


def test_one_missing_chapter_with_generic_titles_still_aligns_by_start():
    source = ChapterList.of([(n * 10 * S, "Chapter") for n in range(5)])
    got = reading("vorbis", [(n * 10 * S, "Chapter") for n in (0, 2, 3, 4)], None)
    assert statuses(compare(source, got, MS)) == ["ok", "missing", "ok", "ok", "ok"]


def test_an_extra_chapter_is_one_extra_row():
    got = reading("matroska", [(0, "Intro"), (10 * S, "Two"), (15 * S, "Stray"), (20 * S, "Three"),
                               (30 * S, "Four")])
    report = compare(SOURCE, got, MS)
    assert statuses(report) == ["ok", "ok", "extra", "ok", "ok"]
    extra = report.rows[2]
    assert extra.expected is None and extra.actual_index == 3 and "'Stray'" in extra.problems[0]


def test_a_shift_of_every_chapter_pairs_by_index():
    # The MP3 rebase trap (containers.md §2.5): every chapter 25 ms early, none missing.
    got = reading("id3", [(max(0, s - 25 * MS), t) for s, t in zip(SOURCE.starts_ns, SOURCE.titles)])
    report = compare(SOURCE, got, MS)
    assert statuses(report) == ["ok", "drift", "drift", "drift"]
    assert [row.expected_index for row in report.rows] == [row.actual_index for row in report.rows] == [1, 2, 3, 4]


def test_unsorted_reading_is_compared_sorted_with_a_warning():
    got = reading("vorbis", [(0, "Intro"), (20 * S, "Three"), (10 * S, "Two"), (30 * S, "Four")])
    report = compare(SOURCE, got, MS)
    assert report.ok and statuses(report) == ["ok"] * 4
    assert any("not stored in start order" in w for w in report.warnings)


# -- ends and duration ---------------------------------------------------------------------------


def test_ends_are_checked_only_where_the_carrier_stores_them():
    items = [(0, 10 * S, "Intro"), (10 * S, 20 * S, "Two"), (20 * S, 25 * S, "Three"), (30 * S, 40 * S, "Four")]
    assert compare(SOURCE, reading("nero", items), MS).ok  # chpl stores no ends
    report = compare(SOURCE, reading("matroska", items), MS)
    assert statuses(report) == ["ok", "ok", "drift", "ok"]
    assert report.rows[2].problems == ("ends at 0:00:25.000, expected 0:00:30.000 (-5.000 s)",)


def test_open_last_chapter_is_checked_against_the_duration_as_a_warning():
    source = SOURCE.with_duration(None).without_ends()
    near = reading("matroska", [(0, "Intro"), (10 * S, "Two"), (20 * S, "Three"),
                                (30 * S, 40 * S - DURATION_SLACK_NS, "Four")])
    assert statuses(compare(source, near, MS)) == ["ok"] * 4
    short = reading("matroska", [(0, "Intro"), (10 * S, "Two"), (20 * S, "Three"), (30 * S, 35 * S, "Four")])
    report = compare(source, short, MS)
    assert report.ok and statuses(report) == ["ok", "ok", "ok", "warning"]
    assert report.rows[3].warnings == ("the last chapter ends at 0:00:35.000, the media at 0:00:40.000",)


def test_a_chapter_at_or_past_the_media_end_fails():
    got = reading("vorbis", [(0, "Intro"), (10 * S, "Two"), (20 * S, "Three"), (30 * S, "Four")], 30 * S)
    report = compare(SOURCE, got, MS)
    assert statuses(report) == ["ok", "ok", "ok", "beyond_duration"]
    assert "at or past the media's end (0:00:30.000)" in report.rows[3].problems[0]


# -- documented container limits -----------------------------------------------------------------


LONG = "Ünïcødé: " + "章" * 100  # 13 + 300 bytes: a 255-byte cut falls inside a character


def test_chpl_title_cut_on_a_utf8_boundary_is_a_warning():
    source = ChapterList.of([(0, "A"), (5 * S, LONG)])
    cut = LONG.encode()[:255].decode("utf-8", "ignore")
    assert len(cut.encode()) == 253
    report = compare(source, reading("nero", [(0, "A"), (5 * S, cut)], None), MS)
    assert report.ok and statuses(report) == ["ok", "warning"]
    assert report.rows[1].warnings == ("title cut to 253 of 313 bytes (limit 255)",)
    shorter = LONG.encode()[:200].decode("utf-8", "ignore")
    assert statuses(compare(source, reading("nero", [(0, "A"), (5 * S, shorter)], None), MS)) == ["ok", "title"]


def test_the_chpl_cut_applies_to_every_mp4_reader_only_when_the_container_is_known():
    source = ChapterList.of([(0, "A"), (5 * S, LONG)])
    cut = LONG.encode()[:255].decode("utf-8", "ignore")
    got = reading("quicktime", [(0, 5 * S, "A"), (5 * S, None, cut)], None)
    assert statuses(compare(source, got, MS, container="mp4")) == ["ok", "warning"]
    assert statuses(compare(source, got, MS)) == ["ok", "title"]
    mkv = reading("matroska", [(0, 5 * S, "A"), (5 * S, None, cut)], None)
    assert statuses(compare(source, mkv, MS, container="matroska")) == ["ok", "title"]


def test_more_than_255_chapters_in_chpl_is_a_warning_when_exactly_the_first_255_are_read():
    source = ChapterList.of([(n * S, f"C{n}") for n in range(300)])
    report = compare(source, reading("nero", [(n * S, f"C{n}") for n in range(255)], None), MS)
    assert report.ok and len(report.rows) == 300
    assert statuses(report) == ["ok"] * 255 + ["warning"] * 45
    assert report.warnings == ("255 of 300 chapters: nero holds at most 255",)
    short = compare(source, reading("nero", [(n * S, f"C{n}") for n in range(254)], None), MS)
    assert not short.ok and statuses(short).count("missing") == 46


SHAPED = ChapterList((Chapter(5 * S, 10 * S, "A"), Chapter(12 * S, 20 * S, "B"), Chapter(20 * S, 30 * S, "C")),
                     duration_ns=30 * S)
# What movenc.c makes of SHAPED (containers.md §2.1; measured in test_real_quicktime_track_shape).
QT_VIEW = [(0, 12 * S, "A"), (12 * S, 20 * S, "B"), (20 * S, 30 * S, "C")]


def test_quicktime_track_shape_is_a_warning_for_quicktime():
    report = compare(SHAPED, reading("quicktime", QT_VIEW, 30 * S), MS)
    assert report.ok and statuses(report) == ["warning", "ok", "ok"]
    first = report.rows[0]
    assert first.drift_ns == -5 * S and not first.drift_counted and report.max_drift_ns == 0
    assert any("always starts at 0" in w for w in first.warnings)
    assert any("cannot hold gaps" in w for w in first.warnings)


@pytest.mark.parametrize("reader, container, ok", [
    ("libav", "mp4", True),          # FFmpeg lets the QuickTime track override chpl
    ("libav", "matroska", False),
    ("matroska", None, False),
    ("nero", None, False),
])
def test_quicktime_shape_is_a_failure_elsewhere(reader, container, ok):
    assert compare(SHAPED, reading(reader, QT_VIEW, 30 * S), MS, container=container).ok is ok


def test_a_reading_that_is_not_the_documented_shape_still_fails():
    wrong = [(0, 11 * S, "A"), (12 * S, 20 * S, "B"), (20 * S, 30 * S, "C")]  # end neither source nor next start
    report = compare(SHAPED, reading("quicktime", wrong, 30 * S), MS)
    assert statuses(report) == ["drift", "ok", "ok"]


def test_carrier_rounding_is_a_warning_below_one_unit():
    source = ChapterList.of([(0, "A"), (1_000_123_000, "B")])  # µs source: tolerance 1 µs
    tolerance = default_tolerance_ns(source)
    assert tolerance == 1_000
    rounded = compare(source, reading("id3", [(0, "A"), (1_000 * MS, "B")], None), tolerance)
    assert rounded.ok and rounded.unit_ns == MS
    assert statuses(rounded) == ["ok", "warning"]
    assert rounded.rows[1].warnings == ("start -0.000123 s off: id3 stores 1 ms units",)
    assert statuses(compare(source, reading("id3", [(0, "A"), (1_001_200_000, "B")], None), tolerance)) == \
        ["ok", "drift"]


def test_a_quicktime_track_on_a_millisecond_grid_rounds_like_one():
    # FFmpeg with -movie_timescale 1000 rounds 1.000123 s to 1.000 s (measured).
    source = ChapterList.of([(0, "A"), (1_000_123_000, "B")], duration_ns=3_300 * MS)
    on_grid = reading("quicktime", [(0, 1000 * MS, "A"), (1000 * MS, 3_300 * MS, "B")], 3_304 * MS)
    report = compare(source, on_grid, 1_000)
    assert report.ok and report.unit_ns == MS
    off_grid = reading("quicktime", [(0, 1_000_000_500, "A"), (1_000_000_500, 3_300 * MS, "B")], 3_304 * MS)
    assert not compare(source, off_grid, 1_000).ok


# -- tolerance -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, ns", [
    ("250ms", 250 * MS), ("0.25s", 250 * MS), ("2", 2 * S), ("1.5", 1_500 * MS), ("500us", 500_000),
    ("500µs", 500_000), ("100ns", 100), (" 250 MS ", 250 * MS), (".5", 500 * MS), ("0", 0),
    ("0.0000000015", 2),  # half a ns rounds up
])
def test_parse_tolerance(text, ns):
    assert parse_tolerance(text) == ns


@pytest.mark.parametrize("text", ["", "abc", "-1", "1e3", "1/2", "5 min", "1.2.3", "nan", "ms"])
def test_parse_tolerance_refuses_with_one_line(text):
    with pytest.raises(UsageError) as caught:
        parse_tolerance(text)
    assert "\n" not in str(caught.value) and "250ms" in str(caught.value)


@given(st.integers(0, 10**15), st.sampled_from([("ns", 1), ("us", 1_000), ("ms", MS), ("s", S)]))
def test_parse_tolerance_round_trips_whole_units(value, unit):
    suffix, factor = unit
    assert parse_tolerance(f"{value}{suffix}") == value * factor


@pytest.mark.parametrize("starts, ns", [
    ([0, 10 * S, 3600 * S], S),
    ([0, 10 * S + 500 * MS], MS),
    ([0, 10 * S + 1 * MS], MS),
    ([0, 39_998_375_000], 1_000),   # a 23.976 fps frame: µs
    ([0, 333_333_333], 1_000),      # finer still: the 1 µs floor
    ([], S),
])
def test_default_tolerance_follows_the_source_precision(starts, ns):
    assert default_tolerance_ns(ChapterList.of((s, f"c{i}") for i, s in enumerate(starts))) == ns


def test_format_drift_and_unit_are_exact():
    assert format_drift(123_000) == "+0.000123 s"
    assert format_drift(-2 * S) == "-2.000 s"
    assert format_drift(0) == "0.000 s"
    assert format_drift(1) == "+0.000000001 s"
    assert format_drift(-5, signed=False) == "-0.000000005 s"
    assert [format_unit(n) for n in (S, 250 * MS, 1_000, 100, 0)] == ["1 s", "250 ms", "1 µs", "100 ns", "0 ns"]


# -- properties ---------------------------------------------------------------------------------


@st.composite
def chapter_lists(draw):
    starts = sorted(draw(st.sets(st.integers(0, 10**13), min_size=1, max_size=12)))
    titles = draw(st.lists(st.text(min_size=1, max_size=8), min_size=len(starts), max_size=len(starts)))
    return ChapterList.of(zip(starts, titles), duration_ns=starts[-1] + S)


@settings(max_examples=60, deadline=None)
@given(chapter_lists(), st.sampled_from(["quicktime", "nero", "matroska", "id3", "vorbis", "libav"]))
def test_a_faithful_reading_is_always_ok(source, reader):
    report = compare(source, ReadResult(reader, source), default_tolerance_ns(source))
    assert report.ok and all(row.status in ("ok", "warning") for row in report.rows)
    assert report.max_drift_ns == 0


@settings(max_examples=60, deadline=None)
@given(chapter_lists(), st.data())
def test_dropping_one_chapter_gives_exactly_one_missing_row(source, data):
    index = data.draw(st.integers(0, len(source) - 1))
    kept = [c for n, c in enumerate(source) if n != index]
    got = ReadResult("vorbis", ChapterList.of(((c.start_ns, c.title) for c in kept), duration_ns=source.duration_ns))
    report = compare(source, got, MS)
    assert [row.status for row in report.rows].count("missing") == 1
    assert sum(not row.ok for row in report.rows) == 1
    assert not report.ok


# -- the whole report -----------------------------------------------------------------------------


def test_report_exit_codes_and_headline():
    good = VerifyReport("x.mkv", SOURCE, MS, (compare(SOURCE, ReadResult("matroska", SOURCE), MS),))
    assert good.ok and good.exit_code == EXIT_OK
    assert good.headline() == "4 chapters match in 1 reader (max drift 0.000 s)"
    late = reading("libav", [(0, "Intro"), (13 * S, "Two"), (20 * S, "Three"), (30 * S, "Four")])
    bad = VerifyReport("x.mkv", SOURCE, MS, good.readers + (compare(SOURCE, late, MS),))
    assert not bad.ok and bad.exit_code == EXIT_FINDINGS
    assert bad.headline().startswith("1 of 2 readers disagree with the source: libav (1 drift)")
    assert "chapter 2: starts at 0:00:13.000" in bad.headline() and "tolerance 1 ms" in bad.headline()
    assert not VerifyReport("x.mkv", SOURCE, MS, ()).ok  # no reader is no proof


# -- real files ----------------------------------------------------------------------------------


def test_verify_file_on_a_committed_webm():
    source = ChapterList.of([(0, "A"), (1_000_123_457, "Bé 章")])
    report = verify_file(fixture_path("media", "webm-ffmpeg-two-chapters.webm"), source, readers=["matroska"])
    assert report.ok and report.container == "matroska" and report.tolerance_ns == 1_000
    assert [r.reader for r in report.readers] == ["matroska"]
    moved = ChapterList.of([(0, "A"), (1_000_125_000, "Bé 章")])
    assert not verify_file(fixture_path("media", "webm-ffmpeg-two-chapters.webm"), moved,
                           readers=["matroska"]).ok


def test_verify_file_reads_both_mp4_lists_and_sees_them_disagree():
    source = ChapterList.of([(0, "Alpha"), (500 * MS, "Bravo"), (1000 * MS, "Charlie")])
    report = verify_file(fixture_path("media", "mp4-disagreeing-lists.mp4"), source, readers=["quicktime", "nero"])
    assert [(r.reader, r.ok) for r in report.readers] == [("quicktime", True), ("nero", False)]
    assert report.exit_code == EXIT_FINDINGS
    assert verify_file(fixture_path("media", "mp4-disagreeing-lists.mp4"), source, readers=["quicktime", "nero"],
                       tolerance_ns=300 * MS).exit_code == EXIT_FINDINGS  # titles still differ


def test_verify_file_errors_propagate(tmp_path):
    source = ChapterList.of([(0, "A")])
    with pytest.raises(MediaError):
        verify_file(tmp_path / "absent.mkv", source)
    (tmp_path / "text.mp4").write_text("not media")
    with pytest.raises(MediaError):
        verify_file(tmp_path / "text.mp4", source)
    with pytest.raises(UsageError):
        verify_file(fixture_path("media", "webm-ffmpeg-two-chapters.webm"), source, readers=["id3"])
    with pytest.raises(UsageError):
        verify_file(fixture_path("media", "webm-ffmpeg-two-chapters.webm"), source, tolerance_ns=-1)


@pytest.fixture(scope="module")
def shaped_mp4(tmp_path_factory):
    """SHAPED written by FFmpeg: first chapter at 5 s and a gap, as a 30 s tiny clip."""
    folder = tmp_path_factory.mktemp("shaped")
    ffmpeg = bundled_ffmpeg()
    clip = make_media.make_clip(str(folder / "in.m4a"), "m4a", seconds=30, ffmpeg=ffmpeg)
    meta = folder / "chapters.ffmeta"
    meta.write_text(";FFMETADATA1\n" + "".join(
        f"[CHAPTER]\nTIMEBASE=1/1000000000\nSTART={c.start_ns}\nEND={c.end_ns}\ntitle={c.title}\n" for c in SHAPED))
    out = str(folder / "out.m4a")
    run_ffmpeg(ffmpeg, "-i", clip, "-i", str(meta), "-map", "0", "-map_chapters", "1", "-c", "copy",
               "-movie_timescale", "1000", out)
    return out


def test_real_quicktime_track_shape(shaped_mp4):
    """FFmpeg really moves the first chapter to 0 and closes the gap in the track, not in chpl."""
    report = verify_file(shaped_mp4, SHAPED, readers=["quicktime", "nero"])
    quicktime, nero = report.readers
    assert [c.start_ns for c in (row.actual for row in quicktime.rows)] == [0, 12 * S, 20 * S]
    assert statuses(quicktime) == ["warning", "ok", "ok"]
    assert statuses(nero) == ["ok", "ok", "ok"]
    assert report.ok


def test_libav_reader_through_verify_file(shaped_mp4):
    """The libav reader gets the FFmpeg given, and shows the QuickTime shape on an MP4."""
    report = verify_file(shaped_mp4, SHAPED, readers=["libav"], ffmpeg=bundled_ffmpeg())
    assert report.ok, report.headline()
    assert statuses(report.readers[0]) == ["warning", "ok", "ok"]
