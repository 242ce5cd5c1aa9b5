"""Located problems and the one exception that carries them.

Every stage reports bad input as `Problem`s: a stable kebab-case code plus where it happened
(file, line, document id, span). Library code raises `KinewsError`; only the CLI prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

# What must never reach a terminal raw, wherever it comes from (a text, a title, an annotator's
# name, a file name): C0 and C1 controls (ESC starts a terminal command; C1 0x9b is one on its
# own), DEL, the bidirectional embeddings, overrides and isolates (they reorder what is shown),
# and the line and paragraph separators. Zero-width joiners and the like stay: emoji need them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def visible(text: str, keep: str = "") -> str:
    """`text` safe to print: each unsafe character (except those in `keep`) as an escape such
    as `\\x1b` or `\\u202e`, so it is seen instead of obeyed."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def json_visible(text: str) -> str:
    """A JSON document safe to print: json.dumps escapes C0 controls itself, this the rest (as
    `\\u` escapes, so the JSON still reads back to the same strings)."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, with enough location to find and fix it."""

    file: str | None
    line: int | None
    doc_id: str | None
    span: str | None  # rendered as `start-end[LABEL] "text"`
    code: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file or "-"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.doc_id is not None:
            parts.append(f"doc={self.doc_id}")
        if self.span is not None:
            parts.append(f"span={self.span}")
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        parts.append(f"{prefix}{self.code}: {self.message}")
        # Problems quote what they found (texts, ids, names): shown, never obeyed by a terminal.
        return visible(" ".join(parts))

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "doc_id": self.doc_id,
            "span": self.span,
            "message": self.message,
        }


def only_errors(problems: list[Problem]) -> list[Problem]:
    """The problems that fail a run (not warnings or notes)."""
    return [p for p in problems if p.severity == "error"]


def plural(n: int, word: str) -> str:
    """`1 document`, `2 documents`: counts in messages and cards read as English."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_span(start: int, end: int, label: str, text: str | None) -> str:
    shown = "" if text is None else " " + _quote(text)
    return f"{start}-{end}[{label}]{shown}"


def _quote(text: str, limit: int = 40) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return '"' + text.replace("\n", "\\n") + '"'


class KinewsError(Exception):
    """Bad input: one or more located problems. Nothing was written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        code: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        doc_id: str | None = None,
        span: str | None = None,
    ) -> KinewsError:
        return cls([Problem(file, line, doc_id, span, code, message)])
