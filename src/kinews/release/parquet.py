"""One config's split → its Parquet shards, each cut into row groups the Hub's viewer can read.

A split whose rows take more than `max_shard_size` bytes in Arrow memory (`row_sizes`: about
what `datasets` counts for `push_to_hub(max_shard_size=...)`; the zstd Parquet file is smaller)
is written as several `{split}-0000k-of-0000n.parquet` files. Boundaries come from
`boundaries`: the rows in their order, a new shard whenever the next row would take the current
one past the limit. They depend on the rows and the limit alone, never on workers, time or
memory, so a rebuild cuts the same shards. Row groups are cut the same way at `ROW_GROUP_SIZE`.

A split within both limits is written exactly as before shards existed (one file, one row
group): the bytes of releases recorded then do not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets import Features
from datasets.utils.py_utils import convert_file_size_to_int

from kinews.errors import KinewsError
from kinews.release.folder import shard

# The viewer reads whole row groups and refuses one above 286 MiB in memory
# (`TooBigContentError`, "max=286.10 MiB"); it recommends 100-300 MB. The low end leaves room
# for rows larger than the average.
ROW_GROUP_SIZE = 100_000_000


def parse_size(size: str | int) -> int:
    """Bytes of a size such as `500MB`, `64MiB` or `1000` (as `datasets` reads `max_shard_size`).

    Raises KinewsError (`shard-size-invalid`) for anything else, or a size below one byte.
    """
    try:
        # `datasets` takes a bare number only as an int; the command line gives a string.
        parsed = int(size) if str(size).isdigit() else convert_file_size_to_int(size)
    except ValueError:
        parsed = 0
    if not isinstance(parsed, int) or parsed < 1:
        raise KinewsError.single(
            "shard-size-invalid",
            f"--max-shard-size {size!r} is not a size: use a number of bytes or a number and a "
            "unit, e.g. 500MB or 64MiB",
        )
    return parsed


def boundaries(sizes: Sequence[int], limit: int) -> list[range]:
    """Consecutive ranges of row numbers, in order, each summing to at most `limit` bytes.

    A row larger than `limit` gets a range of its own. No rows: one empty range (a split is
    one file at least).
    """
    ranges: list[range] = []
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and total + size > limit:
            ranges.append(range(start, index))
            start, total = index, 0
        total += size
    ranges.append(range(start, len(sizes)))
    return ranges


@dataclass(frozen=True)
class WrittenSplit:
    files: tuple[str, ...]  # release-relative paths, in shard order
    num_bytes: int  # the rows' size in Arrow memory


def write_split(
    folder: Path,
    config: str,
    split: str,
    rows: list[dict[str, Any]] | pa.Table,
    features: Features,
    max_shard_size: int,
    row_group_size: int = ROW_GROUP_SIZE,
) -> WrittenSplit:
    """Write one config's split (its rows, or their table) under `folder` as one or more
    shards (sizes in bytes)."""
    # features.arrow_schema carries the `huggingface` metadata, which is how ClassLabel names
    # survive the trip through Parquet.
    if isinstance(rows, pa.Table):
        # One chunk per column, as from_pylist makes it: chunks could change the pages written.
        table = rows.cast(features.arrow_schema).combine_chunks()
    else:
        table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
    sizes = _row_sizes(table, min(max_shard_size, row_group_size))
    shards = boundaries(sizes, max_shard_size) if sizes else [range(table.num_rows)]
    files = []
    for index, rows_of_shard in enumerate(shards):
        path = shard(config, split, index, len(shards))
        part = table.slice(rows_of_shard.start, len(rows_of_shard))
        groups = boundaries(sizes[rows_of_shard.start : rows_of_shard.stop], row_group_size)
        _write_shard(folder / path, part, groups if sizes else [range(part.num_rows)])
        files.append(path)
    return WrittenSplit(tuple(files), int(table.nbytes))


def _row_sizes(table: pa.Table, limit: int) -> list[int]:
    """Each row's size; none measured when the whole table is within `limit`."""
    if table.nbytes <= limit:
        return []
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        total += row_sizes(column.combine_chunks())
    return list(total.tolist())


def row_sizes(array: pa.Array) -> np.ndarray:
    """Each value's bytes in Arrow memory: fixed-width values at their width, strings and lists
    at 4 bytes of offset plus their contents, structs as the sum of their fields. Validity bits
    are left out, so the sizes add up to a little less than `nbytes`.

    Column by column, with numpy: a Python loop over a million rows would take half a minute.
    """
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
        return lengths.astype(np.int64) + 4
    if pa.types.is_list(kind):
        offsets = array.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
        inner = row_sizes(array.values)
        ends = np.concatenate([[0], np.cumsum(inner)])
        return ends[offsets[1:]] - ends[offsets[:-1]] + 4
    if pa.types.is_struct(kind):
        sizes = np.zeros(len(array), dtype=np.int64)
        for field in array.flatten():
            sizes += row_sizes(field)
        return sizes
    return np.full(len(array), kind.bit_width // 8, dtype=np.int64)


def _write_shard(path: Path, table: pa.Table, groups: list[range]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
        for group in groups:
            writer.write_table(table.slice(group.start, len(group)))


class SplitWriter:
    """INTERIM (until the stream-writer branch lands): collects the pieces, writes at close."""

    def __init__(
        self,
        folder: Path,
        config: str,
        split: str,
        features: Features,
        max_shard_size: int,
        row_group_size: int = ROW_GROUP_SIZE,
    ) -> None:
        self.args = (folder, config, split)
        self.features, self.max_shard_size, self.row_group_size = (
            features,
            max_shard_size,
            row_group_size,
        )
        self.pieces: list[pa.Table] = []

    def write(self, rows: list[dict[str, Any]] | pa.Table) -> None:
        if isinstance(rows, pa.Table):
            table = rows.cast(self.features.arrow_schema)
        else:
            table = pa.Table.from_pylist(rows, schema=self.features.arrow_schema)
        if table.num_rows:
            self.pieces.append(table)

    def close(self) -> WrittenSplit | None:
        if not self.pieces:
            return None
        table = pa.concat_tables(self.pieces).combine_chunks()
        return write_split(
            *self.args, table, self.features, self.max_shard_size, self.row_group_size
        )

    def abort(self) -> None:
        self.pieces = []
