"""Detection across every golden file: each file format claims its own goldens and nobody else's.

Covers the goldens of the tool-written formats (``fixtures/formats/``) against
every specific format, and the older fixtures (descriptions, FFMETADATA, JSON)
against the new formats, so adding a format never steals another's files.
"""

from __future__ import annotations

import pytest

from chapterkit import formats
from chapterkit.sources import decode
from conftest import FIXTURES
from formats.goldens import MINE, expectation, inputs

SPECIFIC = [name for name in formats.FORMATS if name != formats.FALLBACK]
OLD = {"youtube": sorted((FIXTURES / "descriptions").glob("*.txt")),
       "ffmetadata": sorted((FIXTURES / "ffmetadata").glob("*.ffmeta")),
       "json": sorted((FIXTURES / "json").glob("*.json"))}
FILES = [pytest.param(fmt, path, id=f"{fmt}/{path.name}") for fmt in MINE for path in inputs(fmt)] + \
        [pytest.param(fmt, path, id=f"{fmt}/{path.name}") for fmt, paths in OLD.items() for path in paths]


@pytest.mark.parametrize(("owner", "path"), FILES)
def test_only_the_owner_claims_a_file(owner, path):
    text = decode(path.read_bytes())
    claimed = {name for name in SPECIFIC if formats.get_format(name).detect(text)}
    wanted = {owner} if owner in SPECIFIC else set()
    if owner in MINE and expectation(path).get("detected") is False:
        wanted = set()  # refused or irregular input: named with --from, and claimed by no one else
    assert claimed == wanted
    if owner in MINE or owner == "youtube":
        assert formats.detect(text).name == (owner if wanted or owner == "youtube" else formats.FALLBACK)


def test_every_golden_of_mine_is_here():
    assert len([f for f in FILES if f.values[0] in MINE]) >= 40


@pytest.mark.parametrize(("owner", "path"), [f for f in FILES if f.values[0] in MINE])
def test_a_stray_bom_and_crlf_in_the_text_change_nothing(owner, path):
    """sources.decode drops one BOM; a parser must also survive text handed to it directly."""
    text = decode(path.read_bytes())
    variant = "\ufeff" + text.replace("\r\n", "\n").replace("\n", "\r\n")
    fmt = formats.get_format(owner)
    assert fmt.detect(variant) == fmt.detect(text)
    try:
        expected = fmt.parse(text)
    except Exception as exc:  # noqa: BLE001 - the same refusal is expected
        with pytest.raises(type(exc)):
            fmt.parse(variant)
        return
    got = fmt.parse(variant)
    assert got.chapters == expected.chapters
    assert [(d.lineno, d.code) for d in got.diagnostics] == [(d.lineno, d.code) for d in expected.diagnostics]
