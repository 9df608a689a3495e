"""The ``youtube`` description format: golden fixtures, one rule per test, the writer.

``fixtures/descriptions/<case>.txt`` parses to ``<case>.expected.json``:
``{"options": {...}, "chapters": [{"start": "90.5", "title": ...}],
"diagnostics": [{"lineno": 3, "code": ...}], "refused": null | "<code>"}``.
Starts are exact decimal seconds; ``options`` may hold ``duration`` (a clock),
``lenient``, ``fps`` (``"30000/1001"``) and ``split_flattened``.
"""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from chapterkit.errors import EXIT_FINDINGS, NoChaptersError, SourceError, UsageError
from chapterkit.formats import description, detect, get_format
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_SECOND, ChapterList
from chapterkit.timecode import format_seconds, parse_clock
from conftest import FIXTURES, fixture_path

S = NS_PER_SECOND
CASES = sorted(p.name[:-len(".expected.json")] for p in (FIXTURES / "descriptions").glob("*.expected.json"))


def options_from(spec: dict) -> ParseOptions:
    return ParseOptions(
        duration_ns=parse_clock(spec["duration"]) if "duration" in spec else None,
        lenient=spec.get("lenient", False),
        fps=Fraction(spec["fps"]) if "fps" in spec else None,
        split_flattened=spec.get("split_flattened", False))


def outcome(text: str, options: ParseOptions) -> dict:
    """What parsing ``text`` gives, in the fixtures' schema (minus ``options``)."""
    try:
        result = description.parse(text, options)
    except NoChaptersError as exc:
        refused = next(d.code for d in exc.diagnostics if d.severity == "error")
        chapters, diagnostics = [], exc.diagnostics
    else:
        refused, diagnostics = None, result.diagnostics
        chapters = [{"start": format_seconds(c.start_ns), "title": c.title} for c in result.chapters]
    return {"chapters": chapters,
            "diagnostics": [{"lineno": d.lineno, "code": d.code} for d in diagnostics],
            "refused": refused}


def parse(text: str, **options) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(start_ns, title) pairs and (lineno, code) diagnostics."""
    result = description.parse(text, ParseOptions(**options))
    return ([(c.start_ns, c.title) for c in result.chapters],
            [(d.lineno, d.code) for d in result.diagnostics])


def refusal(text: str, **options) -> NoChaptersError:
    with pytest.raises(NoChaptersError) as caught:
        description.parse(text, ParseOptions(**options))
    return caught.value


def titles(text: str, **options) -> list[str]:
    return [title for _, title in parse(text, **options)[0]]


# -- golden fixtures -------------------------------------------------------------------

def test_every_fixture_has_its_expectation():
    texts = {p.stem for p in (FIXTURES / "descriptions").glob("*.txt")}
    assert texts == set(CASES)
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES)
def test_fixture(case):
    expected = json.loads(fixture_path("descriptions", f"{case}.expected.json").read_text("utf-8"))
    text = fixture_path("descriptions", f"{case}.txt").read_bytes().decode("utf-8")
    got = outcome(text, options_from(expected.get("options", {})))
    assert got == {k: expected[k] for k in ("chapters", "diagnostics", "refused")}


def test_seed_description_gives_the_eleven_chapters():
    text = fixture_path("descriptions", "seed_all_of_us_are_dead.txt").read_text("utf-8")
    chapters = description.parse(text).chapters
    assert [format_seconds(c.start_ns) for c in chapters] == [
        "0", "40", "91", "173", "264", "303", "372", "429", "470", "579", "631"]
    assert chapters.titles[0] == "Intro" and chapters.titles[-1] == "Original Song"
    assert chapters.titles[8] == "On-Jo\u2019s Nametag"


# -- module shape and registry ---------------------------------------------------------

def test_module_shape():
    assert description.name == "youtube"
    assert description.extensions == (".txt", ".description")
    assert get_format("youtube") is description
    assert description.summary


def test_detect():
    assert description.detect("Chapters\n0:00 Intro\n")
    assert description.detect("Intro - 0:00\nEnd - 1:00")
    assert not description.detect("We meet at 20:00, see John 3:16.\n16:9")
    assert not description.detect("")
    assert detect("0:00 Intro\n1:00 Two\n2:00 Three\n") is description


# -- timestamps ------------------------------------------------------------------------

@pytest.mark.parametrize("stamp, ns", [
    ("0:00", 0), ("00:00", 0), ("9:59", 599 * S), ("59:59", 3599 * S), ("75:30", 4530 * S),
    ("120:00", 7200 * S), ("1:00:00", 3600 * S), ("01:02:03", 3723 * S), ("25:00:00", 90000 * S),
    ("100:00:00", 360000 * S), ("1:02.5", 62 * S + 500_000_000), ("1:02.05", 62 * S + 50_000_000),
    ("1:02.005", 62 * S + 5_000_000), ("1:00:00.125", 3600 * S + 125_000_000),
])
def test_stamp_values(stamp, ns):
    text = f"0:00 Start\n{stamp} Here\n" if ns else f"{stamp} Start\n"
    got = parse(text, lenient=True)[0]
    assert got[-1] == (ns, "Here" if ns else "Start")


@pytest.mark.parametrize("line, code", [
    ("1:99 Ninety-nine", "bad_seconds"), ("1:60 Sixty", "bad_seconds"),
    ("1:60:00 Sixty minutes", "bad_minutes"), ("1:5045 Glued", "not_a_timestamp"),
    ("1:5 One digit", "not_a_timestamp"), ("XX:XX Template", "placeholder"),
    ("mm:ss Template", "placeholder"), ("1:30", "no_title"), ("1:30 - ", "no_title"),
    ("1:30,5 Decimal comma", "not_a_timestamp"), ("00:01:30,500 SRT cue", "not_a_timestamp"),
])
def test_a_broken_line_inside_a_block_is_skipped(line, code):
    chapters, diagnostics = parse(f"0:00 Intro\n{line}\n2:00 Two\n3:00 Three\n")
    assert chapters == [(0, "Intro"), (120 * S, "Two"), (180 * S, "Three")]
    assert diagnostics == [(2, code)]


@pytest.mark.parametrize("line, suggestion", [
    ("1:5045 Glued", "1:50:45"), ("00:01:30,500 SRT cue", "00:01:30.500"), ("1:30,5 Comma", "1:30.5"),
])
def test_near_misses_get_a_suggestion(line, suggestion):
    result = description.parse(f"0:00 Intro\n{line}\n2:00:00 Two\n3:00:00 Three\n")
    (diagnostic,) = result.diagnostics
    assert (diagnostic.lineno, diagnostic.suggestion) == (2, suggestion)


@pytest.mark.parametrize("text, duration_s", [
    ("0:00 Intro\n0:10 A\n1:5045 Glued\n0:20 B\n", None),      # 1:50:45 is not between 0:10 and 0:20
    ("0:00 Intro\n0:10 A\n0:20 B\n1:5045 Glued\n", 600),        # nor before a 10-minute media's end
])
def test_a_suggestion_only_when_it_fits_its_neighbours_and_the_duration(text, duration_s):
    options = description.ParseOptions(duration_ns=None if duration_s is None else duration_s * S)
    (diagnostic,) = description.parse(text, options).diagnostics
    assert diagnostic.code == "not_a_timestamp" and diagnostic.suggestion is None
    fitting = description.parse("0:00 Intro\n1:50:00 A\n1:5045 Glued\n1:51:00 B\n").diagnostics[0]
    assert fitting.suggestion == "1:50:45"


def test_a_long_near_miss_is_shortened_in_messages():
    token = "1:" * 500 + "1"
    error = refusal(f"{token} x\n")
    assert len(str(error)) < 120 and "\u2026" in str(error)


def test_glued_digits_get_a_suggestion():
    result = description.parse("0:00 Intro\n1:5045 Glued\n2:00:00 Two\n3:00:00 Three\n")
    (diagnostic,) = result.diagnostics
    assert diagnostic.suggestion == "1:50:45"
    assert diagnostic.line == "1:5045 Glued"
    assert "did you mean '1:50:45'" in str(diagnostic)


@pytest.mark.parametrize("text", [
    "t=1:23 Intro", "?t=83 Intro", "05.41 Intro", "https://youtu.be/x?t=1:23 Intro",
    "Intro https://youtu.be/x?t=1:23", "Watch https://example.com/x#1:23", "www.example.com/#0:30 a",
    "1:23:45:67:89 Intro", "1.5:00 Intro", "a1:30 Intro",
])
def test_not_a_stamp(text):
    assert not description.detect(text)


def test_four_fields_are_smpte_frames_never_days():
    chapters, diagnostics = parse("00:00:00:00 A\n01:00:00:12 B\n02:00:00:24 C\n")
    assert [start for start, _ in chapters] == [0, 3600 * S, 7200 * S]
    assert diagnostics == [(1, "smpte_frames")]


def test_smpte_frames_are_exact_with_fps():
    fps = Fraction(30000, 1001)
    chapters, diagnostics = parse("00:00:00:00 A\n00:00:20:15 B\n00:00:40;01 C\n", fps=fps)
    # A timecode addresses a frame: 00:00:20:15 is frame 615, at 615 * 1001/30000 s (not 20 s + 15/29.97).
    assert chapters[1][0] == round(Fraction(615) * S / fps) == 20 * S + 520_500_000
    assert chapters[2][0] == 40 * S + 73_366_667  # drop-frame, minute 0: nothing skipped yet
    assert diagnostics == []


def test_fps_and_duration_must_make_sense():
    with pytest.raises(UsageError):
        description.parse("0:00 A\n", ParseOptions(fps=Fraction(0)))
    with pytest.raises(UsageError):
        description.parse("0:00 A\n", ParseOptions(duration_ns=-1))


def test_full_width_digits_are_read_but_titles_keep_theirs():
    chapters, _ = parse("０:００ 第１話\n１：３０ ＢＧＭ\n３:００ 終\n")
    assert chapters == [(0, "第１話"), (90 * S, "ＢＧＭ"), (180 * S, "終")]


# -- lines -----------------------------------------------------------------------------

@pytest.mark.parametrize("line, title", [
    ("• 0:00 Intro", "Intro"), ("► 0:00 Intro", "Intro"), ("▶️ 0:00 Intro", "Intro"),
    ("- 0:00 Intro", "Intro"), ("* 0:00 Intro", "Intro"), ("🔥 0:00 Intro", "Intro"),
    ("1️⃣ 0:00 Intro", "Intro"), ("1. 0:00 Intro", "Intro"), ("2) 0:00 Intro", "Intro"),
    ("3 - 0:00 Intro", "Intro"), ("> 0:00 Intro", "Intro"),
    ("0:00 - Intro", "Intro"), ("0:00 – Intro", "Intro"), ("0:00 — Intro", "Intro"),
    ("0:00 | Intro", "Intro"), ("0:00: Intro", "Intro"), ("0:00 · Intro", "Intro"),
    ("0:00 ~ Intro", "Intro"), ("0:00, Intro", "Intro"), ("0:00 － Intro", "Intro"),
    ("0:00-Intro", "Intro"), ("0:00 -- Intro", "- Intro"), ("0:00 Intro - part 1", "Intro - part 1"),
    ("0:00 A : b", "A : b"), ("0:00 [live] Intro (take 2)", "[live] Intro (take 2)"),
    ("0:00 🎸 Solo", "🎸 Solo"), ("0:00 1. Introduction", "1. Introduction"),
    ("0:00 Meet at 12:30", "Meet at 12:30"), ("0:00 Intro 0:30", "Intro 0:30"),
    ("[0:00] Intro", "Intro"), ("(0:00) Intro", "Intro"), ("【0:00】 Intro", "Intro"),
    ("[0:00 - 1:30] Intro", "Intro"), ("0:00\u00a0Intro\u00a0", "Intro"),
    ("\u200e0:00 \u200fIntro\u202c", "Intro"),
    # Japanese bullets and the full-width or typographic twins of the listed separators
    ("・0:00 Intro", "Intro"), ("･0:00 Intro", "Intro"), ("0:00、Intro", "Intro"), ("0:00，Intro", "Intro"),
    ("0:00 ‐ Intro", "Intro"), ("0:00 ‑ Intro", "Intro"), ("0:00 ‒ Intro", "Intro"), ("0:00・Intro", "Intro"),
    # list numbers without a dot: "#1", and a bare track number before the stamp
    ("#1 0:00 Intro", "Intro"), ("01 0:00 Intro", "Intro"), ("#01 - 0:00 Intro", "Intro"),
    # a list heading on the entry's line (flattened descriptions start like this)
    ("Chapters: 0:00 Intro", "Intro"), ("TIMESTAMPS: [0:00] Intro", "Intro"), ("Tracklist: 0:00 Intro", "Intro"),
])
def test_stamp_first_line(line, title):
    assert titles(f"{line}\n1:40 Two\n3:00 Three\n")[0] == title


@pytest.mark.parametrize("line, title", [
    ("Intro 0:00", "Intro"), ("Intro - 0:00", "Intro"), ("Intro: 0:00", "Intro"),
    ("Intro | 0:00", "Intro"), ("Intro [0:00]", "Intro"), ("Intro (0:00)", "Intro"),
    ("Intro 【0:00】", "Intro"), ("• Intro 0:00", "Intro"), ("Intro - part 1 - 0:00", "Intro - part 1"),
    ("Intro ........ 0:00", "Intro"), ("Intro … 0:00", "Intro"), ("Intro -- 0:00", "Intro -"),
    ("Plan A 0:00", "Plan A"), ("イントロ、０：００", "イントロ"), ("Intro ‐ 0:00", "Intro"),
])
def test_title_first_line(line, title):
    assert titles(f"{line}\nTwo 1:40\nThree 3:00\n")[0] == title


def test_title_first_numbering_drops_only_when_consistent():
    assert titles("1. A 0:00\n2. B 1:00\n3. C 2:00\n") == ["A", "B", "C"]
    assert titles("1. A 0:00\nB 1:00\n3. C 2:00\n") == ["1. A", "B", "3. C"]
    assert titles("1. A 0:00\n3. B 1:00\n4. C 2:00\n") == ["1. A", "3. B", "4. C"]


def test_stamp_first_wins_when_a_line_starts_and_ends_with_a_stamp():
    assert parse("0:00 Intro 1:00\n1:30 Two\n3:00 Three 2:00\n")[0] == [
        (0, "Intro 1:00"), (90 * S, "Two"), (180 * S, "Three 2:00")]


def test_range_keeps_its_start_and_checks_its_end():
    chapters, diagnostics = parse("0:00 - 1:30 A\n1:30 - 3:00 B\n3:00 - 4:59 C\n5:00 - 6:00 D\n")
    assert [start for start, _ in chapters] == [0, 90 * S, 180 * S, 300 * S]
    assert diagnostics == []
    _, diagnostics = parse("0:00 - 1:00 A\n1:30 - 3:00 B\n3:00-4:00 C\n", duration_ns=300 * S)
    assert diagnostics == [(1, "range_end_mismatch"), (3, "range_end_mismatch")]


def test_crlf_cr_and_line_separator_end_lines():
    text = "0:00 A\r\n1:00 B\r2:00 C\u20283:00 D\u20294:00 E\n"
    assert titles(text) == ["A", "B", "C", "D", "E"]


def test_html_show_notes():
    text = ('<p>0:00 Caf&eacute;<br>1:00 <b>Bold</b> &amp; more</p>'
            '<p><a href="https://x.org/?t=0:30" title="0:45 no">link</a></p><p>2:00 End&nbsp;</p>')
    assert parse(text)[0] == [(0, "Café"), (60 * S, "Bold & more"), (120 * S, "End")]


def test_html_escaped_inside_rss_xml_is_read_as_html():
    text = ("&lt;p&gt;0:00 Intro&lt;/p&gt;&lt;p&gt;1:00 Caf&amp;eacute; &amp;amp; more&lt;/p&gt;"
            "&lt;p&gt;2:00 End&lt;/p&gt;")
    assert parse(text)[0] == [(0, "Intro"), (60 * S, "Café & more"), (120 * S, "End")]


def test_html_stamp_in_an_attribute_is_ignored():
    text = '<p><span data-t="0:00 Fake">0:00 Real</span></p>\n<p>1:00 Two</p>\n<p>2:00 Three</p>'
    assert titles(text)[0] == "Real"


def test_markdown_links_are_unwrapped():
    text = ("[(0:00) Intro](https://www.youtube.com/watch?v=x&t=0s)\n"
            "[1:00](https://youtu.be/x?t=60) Two\n"
            "[(2:00) Three](https://www.youtube.com/watch?v=x&t=2:00)\n")
    assert parse(text)[0] == [(0, "Intro"), (60 * S, "Two"), (120 * S, "Three")]


# -- blocks ----------------------------------------------------------------------------

def test_prose_between_entries_does_not_break_the_block():
    text = "0:00 Intro\n\nPART ONE\nSome words about it.\n1:00 A\n## Part two\n2:00 B\n"
    assert titles(text) == ["Intro", "A", "B"]


def test_second_block_is_reported_never_merged():
    text = "0:00 A\n1:00 B\n2:00 C\n\n0:00 D\n1:00 E\n2:00 F\n3:00 G\n"
    chapters, diagnostics = parse(text)
    assert [t for _, t in chapters] == ["A", "B", "C"]
    assert diagnostics == [(5, "second_block_ignored")]


def test_the_first_block_at_zero_is_chosen():
    text = "Highlights:\n5:00 Best bit\n7:00 Other bit\n\n0:00 A\n1:00 B\n2:00 C\n"
    chapters, diagnostics = parse(text)
    assert [t for _, t in chapters] == ["A", "B", "C"]
    assert diagnostics == [(2, "second_block_ignored")]


@pytest.mark.parametrize("above", ["0:00 - 2:00:00 full stream", "Skip ahead!\n0:00 is where it starts"])
def test_a_lone_zero_line_above_the_list_is_not_the_list(above):
    text = f"{above}\n\nChapters:\n0:00 Intro\n1:00 A\n2:00 B\n"
    chapters, diagnostics = parse(text)
    assert [t for _, t in chapters] == ["Intro", "A", "B"]
    ((lineno, code),) = diagnostics
    assert code == "second_block_ignored" and text.splitlines()[lineno - 1].startswith("0:00")


def test_two_zero_lines_in_a_row_are_a_duplicate_not_a_restart():
    assert refusal("0:00 Intro\n0:00 Cold open\n1:00 A\n2:00 B\n").diagnostics[0].code == "duplicate"


@pytest.mark.parametrize("prose", [
    "Live at 20:00", "Doors open at 19:30", "John 3:16", "See Psalm 23:1", "We start around 2:30 ok",
    "Waiting for the 4:50", "3:15 PM doors", "Meetup 20:00 UTC", "ratio 16:9", "score 3:1",
    "Something else 12:00", "20:00 UTC meetup", "19:30 Uhr Einlass",
])
def test_prose_is_not_a_chapter(prose):
    for text in (f"{prose}\n0:00 A\n1:00 B\n2:00 C\n", f"0:00 A\n1:00 B\n{prose}\n2:00 C\n"):
        assert parse(text) == ([(0, "A"), (60 * S, "B"), (120 * S, "C")], [])


def test_broken_lines_away_from_the_list_are_not_reported():
    text = "16:9 is the ratio\n\n0:00 A\n1:00 B\n2:00 C\n\nX:XX later\n1:5045 Glued\n"
    assert parse(text)[1] == []
    assert parse("1:5045 Glued\n0:00 A\n1:00 B\n2:00 C\n1:99 D\n")[1] == [
        (1, "not_a_timestamp"), (5, "bad_seconds")]


@pytest.mark.parametrize("prose", ["Live at 2:00", "Reading John 3:16", "Waiting for the 4:50",
                                   "Doors open from 7:15"])
def test_prose_does_not_join_a_title_first_list(prose):
    text = f"Intro 0:00\n{prose}\nMiddle 10:00\nEnd 30:00\n"
    assert titles(text) == ["Intro", "Middle", "End"]


def test_a_stray_stamp_line_is_noted_not_used():
    chapters, diagnostics = parse("Skip ahead:\n45:00 Blooper reel\n\n0:00 A\n1:00 B\n2:00 C\n")
    assert len(chapters) == 3
    assert diagnostics == [(2, "stray_timestamp")]
    # After the list has started, a later stamp is simply its next chapter.
    assert len(parse("0:00 A\n1:00 B\n2:00 C\n\nBonus:\n45:00 Blooper reel\n")[0]) == 4


def test_multiple_stamps_on_one_line_are_refused():
    error = refusal("0:00 Intro 1:30 Topic 3:00 Outro\n")
    assert [d.code for d in error.diagnostics] == ["multiple_stamps_on_line"]
    assert str(error).startswith("line 1: 3 timestamps on one line")
    assert error.exit_code == EXIT_FINDINGS


def test_split_flattened_splits_them():
    chapters, diagnostics = parse("0:00 Intro | 1:30 Topic, 3:00 Outro\n", split_flattened=True)
    assert chapters == [(0, "Intro"), (90 * S, "Topic"), (180 * S, "Outro")]
    assert diagnostics == [(1, "multiple_stamps_on_line")]
    chapters, _ = parse("Intro 0:00 Topic 1:30 Outro 3:00\n", split_flattened=True)
    assert chapters == [(0, "Intro"), (90 * S, "Topic"), (180 * S, "Outro")]


def test_a_flattened_list_after_a_heading_label():
    text = "Chapters: 0:00 Intro, 1:30 Topic, 3:00 Outro\n"
    assert [d.code for d in refusal(text).diagnostics] == ["multiple_stamps_on_line"]
    assert titles(text, split_flattened=True) == ["Intro", "Topic", "Outro"]


def test_split_flattened_drops_the_separator_before_each_title_first_segment():
    chapters, _ = parse("Intro 0:00 / Topic 1:30 / Outro 3:00\n", split_flattened=True)
    assert chapters == [(0, "Intro"), (90 * S, "Topic"), (180 * S, "Outro")]


@pytest.mark.parametrize("line, title", [
    ("1:00 Doors open at 5:00 sharp", "Doors open at 5:00 sharp"),
    ("1:00 Part one until 1:30 then a break", "Part one until 1:30 then a break"),
    ("1:00 Review of 1:30 build, then tests", "Review of 1:30 build, then tests"),
    ("1:00 Q&A 45:00 in the film", "Q&A 45:00 in the film"),  # 45:00 is past the next start
])
def test_a_time_inside_a_title_is_not_a_second_chapter(line, title):
    chapters, diagnostics = parse(f"0:00 Intro\n{line}\n2:00 End\n")
    assert chapters == [(0, "Intro"), (60 * S, title), (120 * S, "End")]
    assert diagnostics == []


def test_a_flattened_line_that_fits_the_list_is_still_refused():
    error = refusal("0:00 Intro\n1:00 Setup 1:30 Demo\n2:00 End\n")
    assert [d.code for d in error.diagnostics] == ["multiple_stamps_on_line"]


# -- validation ------------------------------------------------------------------------

@pytest.mark.parametrize("text, code, line", [
    ("0:05 A\n1:00 B\n2:00 C\n", "first_not_zero", 1),
    ("0:00 A\n1:00 B\n", "fewer_than_3", 2),
    ("0:00 A\n2:00 B\n1:00 C\n3:00 D\n", "out_of_order", 3),
    ("0:00 A\n1:00 B\n1:00 C\n3:00 D\n", "duplicate", 3),
    ("0:00 A\n1:00 B\n1:09 C\n3:00 D\n", "too_short", 2),
])
def test_youtube_rules_refuse_naming_the_line(text, code, line):
    error = refusal(text)
    first = next(d for d in error.diagnostics if d.severity == "error")
    assert (first.code, first.lineno) == (code, line)
    assert str(error).startswith(f"line {line}: ")
    assert "\n" not in str(error)


def test_first_at_zero_01_is_youtubes_opt_out():
    error = refusal("0:01 A\n1:00 B\n2:00 C\n")
    assert "opt-out" in str(error)


def test_last_chapter_is_too_short_only_when_the_duration_is_known():
    text = "0:00 A\n1:00 B\n2:00 C\n"
    assert len(parse(text)[0]) == 3
    assert [d.code for d in refusal(text, duration_ns=125 * S).diagnostics] == ["too_short"]


def test_starts_past_the_duration_are_dropped():
    chapters, diagnostics = parse("0:00 A\n1:00 B\n2:00 C\n3:00 D\n4:00 E\n", duration_ns=180 * S)
    assert [t for _, t in chapters] == ["A", "B", "C"]
    assert diagnostics == [(4, "beyond_duration"), (5, "beyond_duration")]
    result = description.parse("0:00 A\n1:00 B\n2:00 C\n", ParseOptions(duration_ns=150 * S))
    assert result.chapters.duration_ns == 150 * S
    assert result.chapters[-1].end_ns == 150 * S
    assert result.chapters[0].end_ns == 60 * S


def test_durations_are_not_start_times():
    text = "01. A 3:45\n02. B 4:10\n03. C 2:55\n"
    error = refusal(text, duration_ns=(225 + 250 + 175) * S)
    assert "these look like durations, not start times" in str(error)
    assert "these look like durations" in str(refusal(text))
    assert "these look like durations" in str(refusal(text, lenient=True))
    # The same list against a duration it does not add up to is a plain list that breaks the rules.
    assert refusal(text, duration_ns=3600 * S).diagnostics[0].code == "first_not_zero"


def test_every_start_past_the_duration_is_a_refusal():
    error = refusal("0:00 A\n1:00 B\n2:00 C\n", duration_ns=0, lenient=True)
    assert [d.code for d in error.diagnostics].count("beyond_duration") == 4


def test_no_timestamps_is_a_refusal():
    error = refusal("Just words.\nNothing here at 20:00.\n")
    assert str(error) == "no timestamps found"
    assert [d.code for d in error.diagnostics] == ["no_timestamps"]
    assert "1:99 has no" not in str(refusal("1:99 Bad\n"))


# -- lenient ---------------------------------------------------------------------------

def test_lenient_inserts_zero():
    chapters, diagnostics = parse("1:00 A\n2:00 B\n3:00 C\n", lenient=True)
    assert chapters == [(0, "Intro"), (60 * S, "A"), (120 * S, "B"), (180 * S, "C")]
    assert diagnostics == [(1, "first_not_zero")]
    chapters, _ = parse("0:01 A\n2:00 B\n3:00 C\n", lenient=True)
    assert chapters[0] == (0, "A")
    chapters, _ = parse("0:30 Intro\n2:00 B\n3:00 C\n", lenient=True)
    assert [title for _, title in chapters] == ["Start", "Intro", "B", "C"]


def test_lenient_sorts_and_merges_duplicates():
    chapters, diagnostics = parse("0:00 A\n2:00 B\n1:00 C\n1:00 D\n3:00 E\n", lenient=True)
    assert chapters == [(0, "A"), (60 * S, "C"), (120 * S, "B"), (180 * S, "E")]
    assert diagnostics == [(3, "out_of_order"), (4, "out_of_order"), (4, "duplicate")]


def test_lenient_drops_too_short_chapters():
    chapters, diagnostics = parse("0:00 A\n0:05 B\n1:00 C\n1:05 D\n2:00 E\n", lenient=True)
    assert chapters == [(0, "A"), (65 * S, "D"), (120 * S, "E")]  # A absorbs B; C is the short one
    assert diagnostics == [(2, "too_short"), (3, "too_short")]
    chapters, diagnostics = parse("0:00 A\n1:00 B\n2:00 C\n2:55 D\n", lenient=True, duration_ns=180 * S)
    assert chapters == [(0, "A"), (60 * S, "B"), (120 * S, "C")]
    assert diagnostics == [(4, "too_short")]


def test_lenient_allows_fewer_than_three_with_a_warning():
    chapters, diagnostics = parse("0:00 A\n1:00 B\n", lenient=True)
    assert len(chapters) == 2 and diagnostics == [(2, "fewer_than_3")]


# -- errors ----------------------------------------------------------------------------

def test_bytes_are_a_source_error():
    with pytest.raises(SourceError):
        description.parse(b"0:00 A\n")  # type: ignore[arg-type]


def test_a_refusal_caused_by_a_skipped_line_names_it():
    error = refusal("00:00:00:00 A\n00:01:00:12 B\n00:02:00:24 C\n", fps=Fraction(24))
    assert str(error).startswith("line 2: only 2 chapter(s)")
    assert "line 3 skipped: 00:02:00:24: frame 24 does not exist at 24 fps" in str(error)
    assert "skipped" not in str(refusal("0:00 A\n1:00 B\n"))


def test_refusal_carries_all_diagnostics():
    error = refusal("0:00 A\n1:99 Bad\n0:05 B\n")
    assert [(d.lineno, d.code) for d in error.diagnostics] == [
        (1, "too_short"), (2, "bad_seconds"), (3, "fewer_than_3")]
    assert error.reason == "line 1: chapter 'A' lasts 0:05; YouTube needs at least 0:10"


# -- writer ----------------------------------------------------------------------------

def test_render_format():
    chapters = ChapterList.of([(0, "Intro"), (62 * S + 500_000_000, "Half"), (3599 * S, "Almost"),
                               (3600 * S, "Hour"), (36125 * S + 250_000_000, "Ten hours")])
    assert description.render(chapters) == (
        "0:00 Intro\n1:02.5 Half\n59:59 Almost\n1:00:00 Hour\n10:02:05.25 Ten hours\n")


@pytest.mark.parametrize("title", ["- dash first", "pm is the name", "1:30 Outro", "- 1:30 Outro",
                                   "to the end", "| pipe", "UTC", "[0:30] bracket"])
def test_render_protects_titles_that_would_read_differently(title):
    chapters = ChapterList.of([(0, title), (60 * S, "Two"), (120 * S, "Three")])
    assert description.parse(description.render(chapters)).chapters == chapters


def test_render_rounds_to_the_millisecond_and_names_untitled_chapters():
    chapters = ChapterList.of([(0, ""), (1_234_567_890, "Odd")])
    assert description.render(chapters) == "0:00 Chapter 1\n0:01.235 Odd\n"
    assert description.render(ChapterList.of([(0, "Two\nlines\u200f")])) == "0:00 Two lines\n"
    assert description.render(ChapterList()) == ""


def test_chapter_lines_are_the_lines_that_defined_each_chapter():
    # Line 1 carries the first title too: the parser's own line numbers are not fooled by it.
    text = "Opening credits by Sam\n\n0:00 Opening\n0:12 Main part\n0:25 Outro\n"
    assert description.parse(text).chapter_lines == (3, 4, 5)
    moved = description.parse("0:00 A\n0:30 C\n0:15 B\n", ParseOptions(rules="basic", lenient=True))
    assert [c.title for c in moved.chapters] == ["A", "B", "C"] and moved.chapter_lines == (1, 3, 2)
