"""The corpus and annotation files as Arrow tables, every row with the file and line it came from.

Two readers give the same tables. The fast one is pyarrow's multi-threaded JSON reader; it is
trusted with a file only when cheap whole-file checks prove that the careful reader would find
nothing to report in it: valid UTF-8 without BOM, one JSON object per non-blank line (so row i
is the i-th non-blank line), only known fields, the declared types, no nulls where none are
allowed, and every required key present (in Arrow a missing key and a null look the same, so
where a column has nulls each line is searched for the key, or probed with msgspec). Any doubt
sends the file to the careful reader (`kinews.validate.careful`), which locates each problem by
line and keeps every good line.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kinews.errors import Problem
from kinews.records import ANNOTATION, DOCUMENT, DOCUMENT_OPTIONAL
from kinews.root import DOCUMENTS_FILE, annotation_files
from kinews.validate.arrow import assemble, empty, parse_lines
from kinews.validate.careful import read_carefully


def _probe(name: str, required: tuple[str, ...], optional: tuple[str, ...] = ()):
    """A decoder that fails on a line lacking a required key (or having an unknown one).

    Raw values are skipped, not decoded: the probe only sees which keys each line has.
    """
    fields: list = [(f, msgspec.Raw) for f in required]
    fields += [(f, msgspec.Raw, msgspec.UNSET) for f in optional]
    return msgspec.json.Decoder(msgspec.defstruct(name, fields, forbid_unknown_fields=True))


_PROBES = {
    "documents": _probe("DocumentKeys", DOCUMENT.having("required", "nullable"), DOCUMENT_OPTIONAL),
    "records": _probe("RecordKeys", ANNOTATION.having("required", "nullable")),
}
# Required keys whose value may be null: only for these can Arrow not tell missing from null.
_NULLABLE = {"documents": DOCUMENT.having("nullable"), "records": ANNOTATION.having("nullable")}


@dataclass(frozen=True)
class Tables:
    """Every readable row of one kind, and the problems of the lines that were not readable."""

    table: pa.Table  # kinews.validate.arrow.DOCUMENTS_SCHEMA or RECORDS_SCHEMA
    problems: list[Problem] = field(default_factory=list)
    careful: tuple[str, ...] = ()  # files that needed the careful reader


def read_documents(root: Path, *, fast: bool = True) -> Tables:
    """Read corpus/documents.jsonl under `root` (missing: an empty corpus).

    `fast=False` reads carefully whatever the file (the tests compare both readers).
    """
    path = root / DOCUMENTS_FILE
    return _read_all(root, [path] if path.exists() else [], "documents", fast)


def read_records(root: Path, *, fast: bool = True) -> Tables:
    """Read every annotations/*.jsonl under `root`."""
    return _read_all(root, annotation_files(root), "records", fast)


def _read_all(root: Path, paths: list[Path], kind: str, fast: bool) -> Tables:
    problems: list[Problem] = []
    careful: list[str] = []
    tables = [_read(root, path, kind, problems, careful, fast) for path in paths]
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0] if tables else empty(kind)
    return Tables(table, problems, tuple(careful))


def _read(
    root: Path, path: Path, kind: str, problems: list[Problem], careful: list[str], fast: bool
) -> pa.Table:
    name = str(path.relative_to(root))
    table = _fast(_map(path), kind, name) if fast else None
    if table is None:
        careful.append(name)
        table = read_carefully(path, name, kind, problems)
    return table


# --- The fast reader ----------------------------------------------------------------------------


def _map(path: Path) -> mmap.mmap | bytes:
    """The file's bytes, mapped and faulted in at once: far fewer page faults than a read."""
    with path.open("rb") as handle:
        if not os.fstat(handle.fileno()).st_size:
            return b""
        populate = getattr(mmap, "MAP_POPULATE", 0)  # Linux only; elsewhere pages fault lazily
        return mmap.mmap(handle.fileno(), 0, flags=mmap.MAP_PRIVATE | populate, prot=mmap.PROT_READ)


def read_part(path: Path, kind: str, name: str, numbers: np.ndarray) -> pa.Table | None:
    """The table of a batch's part of file `name` (kinews.validate.batches), or None.

    `path` holds the part's lines, no blank ones; `numbers` are their lines in `name`. None when
    the fast reader would not take them: the caller checks the whole corpus at once instead.
    """
    return _fast(_map(path), kind, name, numbers)


def _fast(
    data: mmap.mmap | bytes, kind: str, name: str, numbers: np.ndarray | None = None
) -> pa.Table | None:
    """The file's table, or None when anything would need a located problem.

    `numbers`: the line in the original file of each line of `data` (a batch's part of a file).
    """
    if data[:3] == b"\xef\xbb\xbf" or not is_utf8(data):
        return None
    found = object_lines(data)
    if found is None:
        return None
    lines, starts, _, longest = found
    if not len(lines):
        return empty(kind)
    table = parse_lines(data, kind, longest, len(lines))
    if table is None or not _keys_present(data, starts, table, kind):
        return None
    return assemble(table, kind, name, lines if numbers is None else numbers[lines - 1])


def _keys_present(data: mmap.mmap | bytes, starts: np.ndarray, table: pa.Table, kind: str) -> bool:
    """Whether every line has the required keys whose value may be null.

    Arrow reads a missing key as null. Where the column has nulls, each line (it starts at the
    byte offset in `starts`) is searched for `"key"` and a colon (RE2, without the GIL). A match
    is always that key: a quote inside a string is escaped, and a key ending in it is a field
    pyarrow would have reported, unless `origin` has a key with the name in it. A line without a
    match (the key written with escapes) and such an `origin` leave it to the msgspec probe.
    """
    nulled = [n for n in _NULLABLE[kind] if n in table.column_names and table[n].null_count]
    if not nulled:
        return True
    inner = _field_names(table.schema.field("origin").type) if kind == "records" else set()
    if not any(n in name for n in nulled for name in inner):
        offsets = pa.py_buffer(np.append(starts, len(data)).astype(np.int64))
        lines = pa.LargeStringArray.from_buffers(len(starts), offsets, pa.py_buffer(data))
        if all(pc.all(pc.match_substring_regex(lines, rf'"{n}"\s*:')).as_py() for n in nulled):
            return True
    try:
        _PROBES[kind].decode_lines(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    return True


def _whole(data: mmap.mmap | bytes) -> pa.LargeStringArray:
    """The file as one Arrow string, without a copy (valid UTF-8 is checked separately)."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    return pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data))


def _field_names(kind: pa.DataType) -> set[str]:
    """Every field name at any depth of a nested type."""
    names: set[str] = set()
    if pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            names |= {kind.field(index).name, *_field_names(kind.field(index).type)}
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        names |= _field_names(kind.value_type)
    return names


def is_utf8(data: mmap.mmap | bytes) -> bool:
    try:
        _whole(data).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def object_lines(
    data: mmap.mmap | bytes,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """1-based numbers of the non-blank lines, their byte offsets (start and end, the newline
    excluded) and the longest line's length, or None unless each non-blank line is `{…}` alone.

    A line that starts with `{` and ends with `}` cannot continue on the next such line (that
    would need a `,` or `:` at the seam), so with the row count checked, row i is the i-th of them.
    Newlines are found with numpy (without the GIL), a slice at a time to keep the mask small.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 24
    breaks = [np.flatnonzero(buf[i : i + step] == 0x0A) + i for i in range(0, len(buf), step)]
    newlines = np.concatenate([np.zeros(0, np.int64), *breaks])
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buf)]))
    if starts[-1] == len(buf):  # the file ends with a newline, not with a last line
        starts, ends = starts[:-1], ends[:-1]
    filled = ends > starts
    braced = np.zeros(len(starts), dtype=bool)
    braced[filled] = (buf[starts[filled]] == 0x7B) & (buf[ends[filled] - 1] == 0x7D)  # { }
    for index in np.flatnonzero(~braced):
        if bytes(buf[starts[index] : ends[index]]).decode("utf-8").strip():
            return None  # not blank, not an object on one line: the careful reader explains
    longest = int((ends - starts).max(initial=0))
    return np.flatnonzero(braced) + 1, starts[braced], ends[braced], longest
