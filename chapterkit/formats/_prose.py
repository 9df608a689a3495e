"""When a time in a line is part of prose, not a chapter: clock times, verse references, joining words.

Split from :mod:`._lines` (which asks these questions of each line) to keep both small.
"""

from __future__ import annotations

import re

# "3:15 pm", "20:00 UTC": an event's clock time, not a position in the video.
CLOCK_SUFFIX = re.compile(
    r"\s?(?:[AaPp]\.?[Mm]\.?(?![A-Za-z])"
    r"|\s?(?:UTC|GMT|CES?T|[ECMP][SD]T|BST|IST|JST|KST|AES?T|[ECP]T|Uhr|h)\b)")
# A title-first "title" ending in one of these is prose running into a time:
# "Live at 20:00", "doors open from 19:30", "caught the 7:15".
PROSE_TAIL = frozenset("at @ by until till til from to the around before after since starts start "
                        "starting begins um ab bis vers alle".split())
# A later stamp after one of these is part of the title, not a flattened chapter:
# "1:00 Review of 1:30 build", "1:00 Doors open at 5:00 sharp".
JOINING = PROSE_TAIL | frozenset("of in on for with past is was by per than into".split())
# "John 3:16": a verse reference ends in a book of the Bible, not a chapter title.
BOOKS = frozenset(
    "Genesis Gen Exodus Ex Exod Leviticus Lev Numbers Num Deuteronomy Deut Joshua Josh Judges Judg "
    "Ruth Samuel Sam Kings Kgs Chronicles Chr Ezra Nehemiah Neh Esther Esth Job Psalm Psalms Ps Psa "
    "Proverbs Prov Ecclesiastes Eccl Songs Isaiah Isa Jeremiah Jer Lamentations Lam Ezekiel Ezek "
    "Daniel Dan Hosea Hos Joel Amos Obadiah Obad Jonah Micah Mic Nahum Nah Habakkuk Hab Zephaniah "
    "Zeph Haggai Hag Zechariah Zech Malachi Mal Matthew Matt Mt Mark Mk Luke Lk John Jn Acts Romans "
    "Rom Corinthians Cor Galatians Gal Ephesians Eph Philippians Phil Colossians Col Thessalonians "
    "Thess Timothy Tim Titus Philemon Phlm Hebrews Heb James Jas Peter Pet Jude Revelation Rev".split())


def runs_into_time(text: str) -> bool:
    """Text whose last word joins it to the time that follows ("open at", "review of")."""
    words = text.split()
    return bool(words) and words[-1].strip(".,;:!?\"'()[]").lower() in JOINING


def is_prose(title: str) -> bool:
    """A title-first "title" that is prose running into a time, or a verse reference."""
    words = title.split()
    last = words[-1].rstrip(".,") if words else ""
    return last.lower() in PROSE_TAIL or last in BOOKS
