"""What a parser says about the lines it read: one :class:`Diagnostic` per finding.

A parser never prints; it returns its findings beside the chapters (see
:class:`chapterkit.formats.base.ParseResult`) so a CLI, a report or a test can
decide what to show. ``severity`` is ``"error"`` for a refusal (the list is
not usable as given), ``"warning"`` for a line skipped or repaired, and
``"info"`` for a note that changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding about one line (``lineno`` 1-based) or the whole list (``lineno`` 0)."""

    code: str
    message: str
    lineno: int = 0
    line: str = ""
    suggestion: str | None = None
    severity: Severity = "warning"

    def __str__(self) -> str:
        where = f"line {self.lineno}: " if self.lineno else ""
        text = f"{where}{self.severity}: {self.message} [{self.code}]"
        if self.line:
            text += f": {self.line.strip()!r}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion!r}?)"
        return text

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "lineno": self.lineno,
                "line": self.line, "suggestion": self.suggestion, "severity": self.severity}
