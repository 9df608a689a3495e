"""One JSON parse per text, shared by detection and parsing of the JSON chapter formats.

Detection asks several formats about the same text, then one of them parses it;
a yt-dlp ``.info.json`` is several MB (formats, thumbnails), so the decoded
document of the last few texts is kept. Floats are read by the C decoder and
turned into exact decimals from their shortest repr (``_filetext.number_ns``),
which is several times faster than ``parse_float=Decimal`` on such files.
"""

from __future__ import annotations

import json
from functools import lru_cache

from chapterkit.errors import SourceError


@lru_cache(maxsize=4)
def _load(text: str) -> object:
    try:
        return json.loads(text.lstrip("\ufeff"), parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise SourceError("not valid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer literal beyond Python's digit limit, or NaN/Infinity
        raise SourceError(f"not valid JSON: {exc}") from None


def _constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def load(text: str) -> object:
    """The document; SourceError (line and column) when it is not JSON. Do not mutate it: it is shared."""
    return _load(text)


def load_object(text: str) -> dict | None:
    """The document when ``text`` is a JSON object, else None (for detection)."""
    if not text.lstrip("\ufeff \t\r\n").startswith("{"):
        return None
    try:
        document = _load(text)
    except SourceError:
        return None
    return document if isinstance(document, dict) else None
