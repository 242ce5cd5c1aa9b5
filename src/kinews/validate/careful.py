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
from kinews.files import scan_jsonl_bytes
from kinews.records import ANNOTATION, DOCUMENT, SPAN, Contract, readable_fields
from kinews.validate.arrow import assemble, empty, parse_lines, schema_of

_Offset = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


def _struct(name: str, contract: Contract, kinds: dict[type, Any]) -> type[msgspec.Struct]:
    """The contract as a strict msgspec struct: exact types, no unknown fields."""
    fields: list[Any] = []
    for f in contract.fields:
        kind = kinds[f.type]
        if f.presence == "optional":
            fields.append((f.name, kind | None, None))
        else:
            fields.append((f.name, kind | None if f.presence == "nullable" else kind))
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True)


_KINDS: dict[type, Any] = {str: str, int: _Offset, dict: dict[str, Any]}
_Span = _struct("_Span", SPAN, _KINDS)
_Record = _struct("_Record", ANNOTATION, {**_KINDS, list: list[_Span]})  # type: ignore[valid-type]
_Document = _struct("_Document", DOCUMENT, _KINDS)
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
    """One table row from a parsed line (None if it is unreadable), and the line's problems.

    A record with a missing or mistyped field still gets its row (the field null, only its
    readable spans): one problem must not hide the others the record has. A document needs its
    id, text and digest for any check, so without one of them it has no row.
    """
    fields, problems = readable_fields(
        obj, "documents" if kind == "documents" else "records", name, line
    )
    if fields is None or (
        kind == "documents" and None in (fields["id"], fields["text"], fields["sha256"])
    ):
        return None, problems
    row = {"file": name, "line": line, **fields}
    return {column: row[column] for column in _COLUMNS[kind]}, problems


_COLUMNS = {kind: schema_of(kind).names for kind in ("documents", "records")}
