"""yt-dlp .info.json: golden files, duration from the top level, read only, a large file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from chapterkit import formats
from chapterkit.cli import cli
from chapterkit.errors import NoChaptersError, SourceError, UsageError
from chapterkit.formats import ytdlp
from formats.goldens import ROOT, S, check_golden, golden_params


@pytest.mark.parametrize("path", golden_params("youtube-dl-json"))
def test_golden(path):
    check_golden("youtube-dl-json", path)


def test_read_only():
    assert ytdlp.render is None
    with pytest.raises(UsageError, match="format youtube-dl-json is read-only; writable: "):
        formats.render(formats.parse((ROOT / "youtube-dl-json" / "video.info.json").read_text()).chapters,
                       "youtube-dl-json")


def test_several_mb_info_json_is_read():
    document = json.loads((ROOT / "youtube-dl-json" / "video.info.json").read_text())
    document["formats"] = [dict(document["formats"][0], format_id=str(i), tbr=i / 7) for i in range(20_000)]
    text = json.dumps(document)
    assert len(text) > 2_000_000
    assert formats.detect(text).name == "youtube-dl-json"
    result = ytdlp.parse(text)
    assert result.chapters.duration_ns == 212 * S
    assert len(result.chapters) == 4


def test_errors():
    with pytest.raises(NoChaptersError, match="no chapters"):
        ytdlp.parse('{"id": "x", "extractor": "youtube"}')
    with pytest.raises(SourceError, match=r"chapters\[0\]\.start_time"):
        ytdlp.parse('{"chapters": [{"start_time": "0"}]}')


def test_cli_convert_info_json_by_extension(tmp_path):
    source = tmp_path / "video.info.json"
    source.write_bytes((ROOT / "youtube-dl-json" / "video.info.json").read_bytes())
    done = CliRunner().invoke(cli, ["convert", str(source), "--to", "mp4chaps"])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == ["## total-duration: 00:03:32.000", "00:00:00.000 <Untitled Chapter 1>",
                                        "00:00:18.000 Verse", '00:00:43.500 Chorus "quoted"', "00:01:40.250"]
