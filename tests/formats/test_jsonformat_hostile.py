"""Issue 11: a JSON title holding a lone surrogate is a SourceError, in parse, convert and embed."""

from __future__ import annotations

import pytest

from chapterkit.errors import SourceError
from chapterkit.formats import jsonformat
from hardening.helpers import cli, one_line_error

LONE = '{"title": %s, "chapters": [{"start": 0, "title": %s}, {"start": 1, "title": "B"}]}'


@pytest.mark.parametrize("where, text", [("chapters[0].title", LONE % ('"x"', r'"a\ud800b"')),
                                         ("title", LONE % (r'"\udfff"', '"A"'))])
def test_a_lone_surrogate_is_a_source_error_naming_the_field(where, text):
    with pytest.raises(SourceError, match=rf"^{where.replace('[', '.').replace(']', '.')} is not valid Unicode"):
        jsonformat.parse(text)


def test_the_commands_refuse_it_with_one_line(tmp_path):
    source = tmp_path / "lone.json"
    source.write_text(LONE % ('"x"', r'"\ud800"'))
    media = tmp_path / "none.mp4"
    for args in (["parse", str(source)], ["convert", str(source), "--to", "ffmetadata"],
                 ["embed", str(media), "--chapters", str(source), "-o", str(tmp_path / "out.mp4")]):
        done = cli(*args)
        assert done.returncode == 2, done.stderr
        assert "lone surrogate" in one_line_error(done) and str(source) in done.stderr
