"""JSON Lines into Arrow: the tables' schemas and the one pyarrow parse both readers share.

pyarrow's JSON reader is multi-threaded and fast, but lenient where kinews is strict: it reads
a missing key as null and infers fields it does not know. `parse_lines` therefore checks what
it read (no extra fields, declared types, no nulls where a value is required) and gives up,
returning None, rather than guess; its callers make sure of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from kinews.records import ANNOTATION, DOCUMENT, SPAN

_ARROW = {str: pa.string(), int: pa.int64()}
_LOCATION = [("file", pa.string()), ("line", pa.int64())]
SPAN_TYPE = pa.struct([(f.name, _ARROW[f.type]) for f in SPAN.fields])
# The columns the validator's checks read: other metadata is not checked beyond its type.
CHECKED_DOCUMENT_FIELDS = ("id", "text", "sha256", "language")
DOCUMENTS_SCHEMA = pa.schema(
    [
        *_LOCATION,
        *((f.name, _ARROW[f.type]) for f in DOCUMENT.fields if f.name in CHECKED_DOCUMENT_FIELDS),
    ]
)
# `origin` is free-form: left to inference, then only its kind is checked.
RECORDS_SCHEMA = pa.schema(
    [
        *_LOCATION,
        *(
            (f.name, _ARROW.get(f.type, pa.list_(SPAN_TYPE)))
            for f in ANNOTATION.fields
            if f.type is not dict
        ),
    ]
)
_DOCUMENT_READ = pa.schema([(f.name, _ARROW[f.type]) for f in DOCUMENT.fields])
_RECORD_READ = pa.schema([f for f in RECORDS_SCHEMA if f.name not in ("file", "line")])
_NOT_NULL = {
    "documents": DOCUMENT.having("required"),
    "records": ANNOTATION.having("required"),
}
_BLOCK_SIZE = {"documents": 4 << 20, "records": 1 << 20}  # the fastest here


@cache
def memory_pool() -> pa.MemoryPool:
    """The pool of the validator's large Arrow buffers: the system allocator.

    pyarrow's default pool (mimalloc) gives freed pages back to the OS at once, and the
    validator frees and reallocates hundreds of MB: on the 2-core benchmark VM that cost 1 to 4 s
    of system time at N = 100,000, more than the parsing. The system allocator does not.
    """
    return pa.system_memory_pool()


def empty(kind: str) -> pa.Table:
    schema = schema_of(kind)
    return pa.Table.from_arrays([pa.chunked_array([], f.type) for f in schema], schema=schema)


def schema_of(kind: str) -> pa.Schema:
    """The table schema of "documents" or "records"."""
    return DOCUMENTS_SCHEMA if kind == "documents" else RECORDS_SCHEMA


def parse_lines(data: object, kind: str, longest: int, rows: int) -> pa.Table | None:
    """pyarrow's table of JSON Lines `data`: `rows` rows of the declared types, else None.

    `longest` is the longest line's length in bytes. The table still has the inferred `origin`
    column of annotation records; `assemble` makes it a table of the kind's schema.
    """
    read = _DOCUMENT_READ if kind == "documents" else _RECORD_READ
    try:
        table = pj.read_json(
            pa.py_buffer(data),
            # pyarrow cannot parse a line longer than its block
            read_options=pj.ReadOptions(block_size=max(_BLOCK_SIZE[kind], 2 * longest)),
            parse_options=pj.ParseOptions(explicit_schema=read, unexpected_field_behavior="infer"),
            memory_pool=memory_pool(),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != rows or not _types_hold(table, kind):
        return None
    return table


def assemble(table: pa.Table, kind: str, name: str, lines: Sequence[int] | np.ndarray) -> pa.Table:
    """The kind's table from a parsed one whose rows are the given (1-based) lines of `name`.

    The two new columns are built from buffers: pyarrow's conversion of Python values imports
    pandas (≈0.4 s), and the reader runs while the validator's other thread imports pandera.
    """
    encoded = name.encode("utf-8")
    offsets = np.arange(len(lines) + 1, dtype=np.int32) * len(encoded)
    columns = {
        "file": pa.StringArray.from_buffers(
            len(lines), pa.py_buffer(offsets), pa.py_buffer(encoded * len(lines))
        ),
        "line": pa.Array.from_buffers(
            pa.int64(), len(lines), [None, pa.py_buffer(np.asarray(lines, dtype=np.int64))]
        ),
    }
    schema = schema_of(kind)
    return pa.Table.from_arrays(
        [columns[f.name] if f.name in columns else table[f.name] for f in schema], schema=schema
    )


def _types_hold(table: pa.Table, kind: str) -> bool:
    """No inferred extras, no nulls where a value is required, `origin` an object or null."""
    expected = _DOCUMENT_READ if kind == "documents" else _RECORD_READ
    extra = set(table.column_names) - set(expected.names)
    if kind == "records":
        if "origin" not in extra:
            return False  # no line has the key at all: the careful reader says where
        origin = table.schema.field("origin").type
        if not (pa.types.is_struct(origin) or pa.types.is_null(origin)):
            return False
        extra.discard("origin")
    if extra or any(table.schema.field(n).type != expected.field(n).type for n in expected.names):
        return False
    if any(table[n].null_count for n in _NOT_NULL[kind]):
        return False
    if kind == "records":
        spans = pc.list_flatten(table["spans"], memory_pool=memory_pool())  # chunk by chunk
        if spans.null_count or any(field.null_count for field in spans.flatten()):
            return False
    return True
