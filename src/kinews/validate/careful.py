"""The careful reader: every problem of a JSON Lines file, located by line, and every good line.

A file the fast reader would not take is read line by line. A strict msgspec decoder (the record
contract as typed structs: every required key, exact types, 64-bit offsets, no unknown fields)
sorts out the lines that `kinews.records` would read without a word; pyarrow parses those
together, and `kinews.records` reads only the others, one by one, saying what is wrong with each.
So one broken line in a large file costs the reading of one line, not of the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
import pyarrow as pa

from kinews.errors import Problem
from kinews.records import (
    DOCUMENT_NULLABLE,
    DOCUMENT_OPTIONAL,
    DOCUMENT_REQUIRED,
    read_annotation,
    read_document,
    scan_jsonl_bytes,
)
from kinews.validate.arrow import assemble, empty, parse_lines, schema_of

_Offset = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Span(msgspec.Struct, forbid_unknown_fields=True):
    start: _Offset
    end: _Offset
    label: str
    text: str


class _Record(msgspec.Struct, forbid_unknown_fields=True):
    doc_id: str
    doc_sha256: str
    annotator: str
    status: str
    created_at: str
    updated_at: str | None
    origin: dict[str, Any] | None
    spans: list[_Span]


_Document = msgspec.defstruct(
    "_Document",
    [
        *((name, str) for name in DOCUMENT_REQUIRED),
        *((name, str | None) for name in DOCUMENT_NULLABLE),
        *((name, str | None, None) for name in DOCUMENT_OPTIONAL),
    ],
    forbid_unknown_fields=True,
)
_STRICT: dict[str, msgspec.json.Decoder[Any]] = {
    "documents": msgspec.json.Decoder(_Document),
    "records": msgspec.json.Decoder(_Record),
}


def read_carefully(path: Path, name: str, kind: str, problems: list[Problem]) -> pa.Table:
    """The table of every readable line of the file; the problems of the others are appended."""
    data = path.read_bytes()
    bom = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    good: list[bytes] = []
    lines: list[int] = []
    doubtful: set[int] = set()
    for number, raw in enumerate(data[bom:].split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            _STRICT[kind].decode(raw)
        except (msgspec.MsgspecError, ValueError):
            doubtful.add(number)
            continue
        good.append(raw)
        lines.append(number)
    table = empty(kind)
    if good:
        parsed = parse_lines(b"\n".join(good), kind, max(map(len, good)), len(good))
        if parsed is None:
            # pyarrow refused what msgspec took (a key given twice, say): read each line slowly.
            doubtful |= set(lines)
        else:
            table = assemble(parsed, kind, name, lines)
    values, file_problems = scan_jsonl_bytes(data, name, only=doubtful)
    problems.extend(file_problems)
    rows = []
    for line, obj in values:
        row, line_problems = _row(obj, kind, name, line)
        problems.extend(line_problems)
        if row is not None:
            rows.append(row)
    if not rows:
        return table
    return pa.concat_tables([table, pa.Table.from_pylist(rows, schema_of(kind))]).sort_by("line")


def _row(obj: Any, kind: str, name: str, line: int) -> tuple[dict | None, list[Problem]]:
    """One table row from a parsed line (None if it is unreadable), and the line's problems."""
    if kind == "documents":
        doc, problems = read_document(obj, name, line)
        if doc is None:
            return None, problems
        fields = {"id": doc.id, "text": doc.text, "sha256": doc.sha256, "language": doc.language}
        return {"file": name, "line": line, **fields}, problems
    ann, problems = read_annotation(obj, name, line)
    if ann is None:
        return None, problems
    return {
        "file": name,
        "line": line,
        "doc_id": ann.doc_id,
        "doc_sha256": ann.doc_sha256,
        "annotator": ann.annotator,
        "status": ann.status,
        "created_at": ann.created_at,
        "updated_at": ann.updated_at,
        "spans": [
            {"start": s.start, "end": s.end, "label": s.label, "text": s.text} for s in ann.spans
        ],
    }, problems
