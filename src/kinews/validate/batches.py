"""A corpus too large to check at once, cut by document id into batches checked one by one.

Every check but two looks at one document and the records that point at it (its id's first
line, its records' keys, its spans' text). So the lines of the corpus and of every annotation
file are sorted by a hash of their document's id into batches of about `BATCH_BYTES` of input
(a corpus of up to `WHOLE_BYTES` is checked at once, which is faster),
written to a temporary folder, and each batch is checked by the code that checks a small corpus
whole: memory follows the batch, not the corpus. The two checks that look across documents are
completed over the whole corpus from what each batch leaves: `doc-text-duplicate` from one row
per document (its text's digest, id and line), `label-unused` from the labels in use.

The sorting reads each file once, a chunk at a time. A document's id is read off the start of
its line (`{"id": "...",` as kinews writes it, with RE2 on all lines at once); a chunk where
that does not hold is parsed by pyarrow for the ids. A batch is checked only if each of its ids
hashes to it again. A file with any doubt (not UTF-8, a BOM, a line that is not one JSON object,
a missing or mistyped id) raises `Doubt`: its problems need the careful reader, which reads
files whole, so the corpus is then checked whole, as a small one is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from kinews.root import DOCUMENTS_FILE, annotation_files
from kinews.validate.arrow import memory_pool
from kinews.validate.tables import is_utf8, object_lines

if TYPE_CHECKING:  # polars is imported by the validator's main thread while files are sorted
    import polars as pl

# Input checked at once: a corpus of 100,000 documents with 20 spans each (288 MB) takes about
# 2.3 s and 1 GB of RSS that way, and 12 s and 0.6 GB in batches (each batch pays the checks'
# fixed costs), so batches start where checking at once would need more than about 1.2 GB.
WHOLE_BYTES = 320 << 20
# Input per batch: 1,000,000 documents then peak at about 0.8 GB (128 MB batches: 1.07 GB).
BATCH_BYTES = 64 << 20
_CHUNK_BYTES = 32 << 20  # read and sorted at a time
_KEY = {"documents": "id", "records": "doc_id"}
# The id as the first key, a string without escapes: its characters are the id itself.
_LEADING_KEY = {
    kind: rf'^\{{\s*"{key}"\s*:\s*"(?P<id>[^"\\]*)"\s*[,}}]' for kind, key in _KEY.items()
}


class Doubt(Exception):
    """A file the fast reader would not take: the corpus is checked whole."""


@dataclass(frozen=True)
class Part:
    """The lines of one input file that fall into one batch."""

    name: str  # the input file, as problems name it
    path: Path  # the lines, one per line, in their order in the input file
    numbers: np.ndarray  # each line's number in the input file


def batch_count(root: Path, batch_bytes: int = BATCH_BYTES, whole_bytes: int = WHOLE_BYTES) -> int:
    """How many batches the input under `root` makes (1: it is checked whole)."""
    paths = [root / DOCUMENTS_FILE, *annotation_files(root)]
    size = sum(path.stat().st_size for path in paths if path.exists())
    return 1 if size <= whole_bytes else max(1, math.ceil(size / batch_bytes))


def batch_of(ids: pa.Array | pa.ChunkedArray, count: int) -> np.ndarray:
    """The batch of each document id (one id always lands in one batch within a run)."""
    import polars as pl

    series = pl.from_arrow(ids)
    assert isinstance(series, pl.Series)
    return (series.hash(seed=0) % count).to_numpy()


def belongs(table: pa.Table, kind: str, batch: int, count: int) -> bool:
    """Whether every row of a batch's table names a document whose id hashes to that batch.

    A line sorted by one id and read with another (a key given twice) would make its
    document's records seem missing: such a batch is not checked.
    """
    return bool((batch_of(table[_KEY[kind]], count) == batch).all())


def sort_documents(root: Path, folder: Path, count: int) -> list[Part | None]:
    """The corpus' part of each batch (None: no document falls into it)."""
    return _sort(root / DOCUMENTS_FILE, str(DOCUMENTS_FILE), "documents", folder, count)


def sort_records(root: Path, folder: Path, count: int) -> list[list[Part]]:
    """Each annotation file's part of each batch (a list per batch)."""
    batches: list[list[Part]] = [[] for _ in range(count)]
    for index, path in enumerate(annotation_files(root)):
        name = str(path.relative_to(root))
        for batch, part in enumerate(_sort(path, name, "records", folder / str(index), count)):
            if part is not None:
                batches[batch].append(part)
    return batches


def text_duplicates(seen: pl.DataFrame) -> pl.DataFrame:
    """The documents whose text an earlier one has: id, line, same_text_id, same_text_line.

    `seen`: digest, id and line of every document of the corpus, from all batches.
    """
    import polars as pl

    repeated = seen.filter(pl.col("digest").is_duplicated()).sort("line")
    return (
        repeated.with_columns(
            same_text_id=pl.col("id").first().over("digest"),
            same_text_line=pl.col("line").first().over("digest"),
        )
        .filter(pl.col("same_text_id") != pl.col("id"))
        .select("id", "line", "same_text_id", "same_text_line")
    )


def _sort(path: Path, name: str, kind: str, folder: Path, count: int) -> list[Part | None]:
    """Write each line of `path` into the file of its batch; a Part per batch (None: no line)."""
    folder.mkdir(parents=True, exist_ok=True)
    outputs = [folder / f"{kind}-{batch}.jsonl" for batch in range(count)]
    numbers: list[list[np.ndarray]] = [[] for _ in range(count)]
    handles = [target.open("wb") for target in outputs]
    try:
        for first_line, chunk in _chunks(path):
            _sort_chunk(chunk, first_line, kind, handles, numbers)
    finally:
        for handle in handles:
            handle.close()
    parts: list[Part | None] = []
    for target, found in zip(outputs, numbers, strict=True):
        lines = np.concatenate(found) if found else np.zeros(0, np.int64)
        parts.append(Part(name, target, lines) if len(lines) else None)
    return parts


def _chunks(path: Path) -> Iterator[tuple[int, bytes]]:
    """The file in chunks of whole lines, each with the number of its first line."""
    if not path.exists():
        return
    line = 1
    rest = b""
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK_BYTES):
            if line == 1 and not rest and block.startswith(b"\xef\xbb\xbf"):
                raise Doubt(path)
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if not cut:  # a line longer than a chunk: read on
                rest = data
                continue
            chunk, rest = data[:cut], data[cut:]
            yield line, chunk
            line += chunk.count(b"\n")
    if rest:
        yield line, rest


def _sort_chunk(
    chunk: bytes,
    first_line: int,
    kind: str,
    handles: Sequence[BinaryIO],
    numbers: list[list[np.ndarray]],
) -> None:
    if not is_utf8(chunk):
        raise Doubt()
    found = object_lines(chunk)
    if found is None:
        raise Doubt()
    lines, starts, ends, longest = found
    if not len(lines):
        return
    batches = batch_of(_ids(chunk, kind, starts, ends, longest), len(handles))
    numbered = lines + (first_line - 1)
    view = memoryview(chunk)
    for batch in np.unique(batches).tolist():
        chosen = np.flatnonzero(batches == batch)
        handles[batch].write(b"\n".join(view[starts[i] : ends[i]] for i in chosen.tolist()))
        handles[batch].write(b"\n")
        numbers[batch].append(numbered[chosen])


def _ids(chunk: bytes, kind: str, starts: np.ndarray, ends: np.ndarray, longest: int) -> pa.Array:
    """The document id of each line (its `id`, or a record's `doc_id`)."""
    offsets = np.empty(2 * len(starts), dtype=np.int64)
    offsets[0::2], offsets[1::2] = starts, ends
    # Each line as a string [start, end) of the chunk; the gaps between them are strings too.
    spans = pa.LargeStringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(chunk)
    )
    lines = spans.take(pa.array(np.arange(0, len(spans), 2)))
    leading = pc.extract_regex(lines, _LEADING_KEY[kind], memory_pool=memory_pool())
    if not leading.null_count:  # a line that does not match is a null struct (its field is not)
        return leading.field(0)
    key = _KEY[kind]  # another key first, or escapes: what a JSON parser reads
    try:
        table = pj.read_json(
            pa.py_buffer(chunk),
            read_options=pj.ReadOptions(block_size=max(4 << 20, 2 * longest)),
            parse_options=pj.ParseOptions(
                explicit_schema=pa.schema([(key, pa.string())]), unexpected_field_behavior="ignore"
            ),
            memory_pool=memory_pool(),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise Doubt() from error
    if table.num_rows != len(starts) or table[key].null_count:
        raise Doubt()
    return table[key]
