"""Issue 11, description parser: no line vanishes silently.

Title-first lines with a note after the stamp are chapters titled with the text
around the stamp; HTML show notes number their logical lines; a stamp followed
by a stray ``.`` or ``::`` is a malformed line with a diagnostic, not a title.
"""

from __future__ import annotations

import pytest

from chapterkit.formats import description
from chapterkit.formats.base import ParseOptions
from chapterkit.model import NS_PER_SECOND

S = NS_PER_SECOND
SETLIST = """Setlist
Intro 0:00
Suite-Pee 4:26  (Incomplete)
Attack 5:31 (First live performance since 2011)
Question! 9:40
Vicinity of Obscenity 1:13:40(with a guest)
Toxicity 1:20:00
"""


def test_title_first_lines_with_a_note_after_the_stamp_are_chapters():
    result = description.parse(SETLIST, ParseOptions(lenient=True))
    assert [(c.start_ns // S, c.title) for c in result.chapters] == [
        (0, "Intro"), (266, "Suite-Pee (Incomplete)"), (331, "Attack (First live performance since 2011)"),
        (580, "Question!"), (4420, "Vicinity of Obscenity (with a guest)"), (4800, "Toxicity")]


@pytest.mark.parametrize("line", ["We met at 5:00 (roughly)", "John 3:16 (KJV)"])
def test_prose_with_a_note_stays_prose(line):
    text = f"0:00 Intro\n0:30 Middle\n{line}\n1:00 End\n"
    result = description.parse(text)
    assert result.chapters.titles == ("Intro", "Middle", "End")


def test_html_show_notes_number_their_logical_lines():
    text = "<p>0:00 Intro<br />1:00 Two<br />0:30 Back<br />2:00 Three</p>"
    result = description.parse(text, ParseOptions(lenient=True))
    moved = [d for d in result.diagnostics if d.code == "out_of_order"]
    assert moved and {d.lineno for d in moved} == {3}
    assert all(d.lineno != 1 for d in result.diagnostics if d.line and "Intro" not in d.line)


@pytest.mark.parametrize("bad, stray", [("00:57:01. Invalid 3", "."), ("01:15:: Invalid 4", "::")])
def test_a_stamp_followed_by_stray_punctuation_is_malformed(bad, stray):
    text = f"0:00 Intro\n0:20 Two\n{bad}\n1:30:00 Last\n"
    result = description.parse(text)
    assert result.chapters.titles == ("Intro", "Two", "Last")
    (found,) = [d for d in result.diagnostics if d.lineno == 3]
    assert found.code == "stray_punctuation" and repr(stray) in found.message


@pytest.mark.parametrize("good", ["0:20: Two", "0:20 - Two", "0:20 ... Two", "1. 0:20 Two"])
def test_a_single_separator_after_the_stamp_is_still_fine(good):
    result = description.parse(f"0:00 Intro\n{good}\n1:00 End\n")
    assert result.chapters.titles[1].endswith("Two")
