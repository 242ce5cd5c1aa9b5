"""One config's split → its Parquet shards, each cut into row groups the Hub's viewer can read.

A split whose rows take more than `max_shard_size` bytes in Arrow memory (`row_sizes`: about
what `datasets` counts for `push_to_hub(max_shard_size=...)`; the zstd Parquet file is smaller)
is written as several `{split}-0000k-of-0000n.parquet` files. Boundaries come from
`boundaries`: the rows in their order, a new shard whenever the next row would take the current
one past the limit. They depend on the rows and the limit alone, never on workers, time or
memory, so a rebuild cuts the same shards. Row groups are cut the same way at `ROW_GROUP_SIZE`.

`SplitWriter` makes these cuts row by row as the rows come, in pieces of any size, holding only
the open row group: the files are the same however the split is cut into pieces, so a build
can write its rows batch by batch. `write_split` writes a whole split through it.

A split within both limits is written exactly as before shards existed (one file, one row
group): the bytes of releases recorded then do not change.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets import Features
from datasets.utils.py_utils import convert_file_size_to_int

from kinews.errors import KinewsError
from kinews.files import FILE_MODE, FOLDER_MODE
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
    # The rows' size in Arrow memory, summed over the pieces written (within a few bytes of the
    # whole table's: each piece has validity bitmaps of its own). It only feeds the card's first
    # render: describe.py replaces every config's figures by what `datasets` records when it
    # prepares the folder (_prepared_num_bytes) before the card is rendered for good.
    num_bytes: int


Rows: TypeAlias = "list[dict[str, Any]] | pa.Table"  # a piece of a split, either form


class SplitWriter:
    """One config's split written piece by piece, in row order, into the same files
    `write_split` makes of the whole split, whatever the pieces.

    The greedy cuts of `boundaries` are made row by row: a row group is written as soon as the
    next row would take it past `row_group_size`, a shard file is finished as soon as the next
    row would take it past `max_shard_size`. Only the open row group's rows are held, and on
    disk: a build has a writer open for every config and split, each with up to a row group
    (100 MB) of rows, so they wait in a temporary Arrow file beside the shards and are read back
    (memory-mapped) when their group is written.
    Shards are written under temporary names, as their count is known only at the end, and
    renamed by `close`. Used as a context manager, it closes on success and aborts on an
    exception.
    """

    def __init__(
        self,
        folder: Path,
        config: str,
        split: str,
        features: Features,
        max_shard_size: int,
        row_group_size: int = ROW_GROUP_SIZE,
    ) -> None:
        self._folder, self._config, self._split = folder, config, split
        # features.arrow_schema carries the `huggingface` metadata, which is how ClassLabel
        # names survive the trip through Parquet.
        self._schema = features.arrow_schema
        self._max_shard_size, self._row_group_size = max_shard_size, row_group_size
        self._held: pa.ipc.RecordBatchFileWriter | None = None  # the open group's earlier rows
        self._held_path: Path | None = None  # ... in this file
        self._held_rows = 0
        self._group_rows = self._group_bytes = 0  # the open row group, `_held` included
        self._shard_bytes = 0  # the open shard, its open row group included
        self._writer: pq.ParquetWriter | None = None  # the open shard's file
        self._temporary: list[Path] = []  # every shard's file so far, in order
        self._created: list[Path] = []  # folders made for the files, outermost first
        self._renamed: list[Path] = []  # shard files `close` gave their names so far
        self._num_bytes = 0
        self._state: Literal["open", "closed", "aborted"] = "open"
        self._written: WrittenSplit | None = None

    def __enter__(self) -> SplitWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    @property
    def buffered_rows(self) -> int:
        """The rows held for the open row group: at most one group's."""
        return self._held_rows

    def write(self, rows: Rows) -> None:
        """Append `rows` (row dicts, or a table of the features' columns) after those written.

        Raises ValueError once the writer is closed or aborted; any failure aborts it.
        """
        self._check_open()
        try:
            self._write(_table(rows, self._schema))
        except BaseException:
            self.abort()
            raise

    def close(self) -> WrittenSplit | None:
        """Finish the files and give them their shard names; None (and no file) without rows.

        Closing again gives the same answer. Raises ValueError after `abort`; a failure aborts.
        """
        if self._state == "closed":
            return self._written
        self._check_open()
        try:
            if self._group_rows:
                self._write_group(None)
            self._close_shard()
            count = len(self._temporary)
            files = tuple(shard(self._config, self._split, k, count) for k in range(count))
            for temporary, file in zip(self._temporary, files, strict=True):
                os.replace(temporary, self._folder / file)
                self._renamed.append(self._folder / file)
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        self._written = WrittenSplit(files, self._num_bytes) if files else None
        return self._written

    def abort(self) -> None:
        """Remove every file written so far (and the folders made for them); the writer is done."""
        if self._state != "open":
            return
        self._state = "aborted"
        with contextlib.suppress(Exception):
            self._drop_held()
        if self._writer is not None:
            with contextlib.suppress(Exception):  # the failure being cleaned up may be its own
                self._writer.close()
            self._writer = None
        for path in [*self._temporary, *self._renamed]:
            path.unlink(missing_ok=True)
        for created in reversed(self._created):
            with contextlib.suppress(OSError):  # a folder something else now uses stays
                created.rmdir()

    def _check_open(self) -> None:
        if self._state != "open":
            raise ValueError(f"the writer of {self._config}/{self._split} is {self._state}")

    def _write(self, table: pa.Table) -> None:
        """The rule of `boundaries` for each row: a new row group (and shard) when the row would
        take the open one past its limit. Each cut is found by a search over the piece's running
        total, not a loop over its rows: a million rows would take seconds in Python."""
        if not table.num_rows:
            return
        self._num_bytes += table.nbytes
        ends = np.concatenate([[0], np.cumsum(_row_sizes(table))])  # the bytes before row k
        end = ends.item  # Python ints for the counters
        start = row = 0  # the piece's first row of the open group; its first row not yet placed
        while row < table.num_rows:
            if not self._group_rows:
                # A group's first row is taken whatever its size (the shard is empty then too).
                self._take(1, end(row + 1) - end(row))
                row += 1
                continue
            room = min(
                self._row_group_size - self._group_bytes, self._max_shard_size - self._shard_bytes
            )
            # The first row from `row` on that would take the group or the shard past its limit
            # (`num_rows`: none would); `row` itself when the group is past it already (a row
            # larger than the limit has a group of its own).
            cut = max(int(np.searchsorted(ends, end(row) + room, side="right")) - 1, row)
            self._take(cut - row, end(cut) - end(row))
            if cut == table.num_rows:
                break
            new_shard = self._shard_bytes + end(cut + 1) - end(cut) > self._max_shard_size
            self._write_group(table.slice(start, cut - start))
            if new_shard:
                self._close_shard()
            start = row = cut
        if start < table.num_rows:
            self._hold(table.slice(start))

    def _hold(self, rows: pa.Table) -> None:
        """Keep rows of the open row group until it is complete, in the held file."""
        if self._held is None:
            fd, name = tempfile.mkstemp(
                dir=self._shard_folder(), prefix=f".{self._split}-held.", suffix=".arrow"
            )
            os.close(fd)
            self._held_path = Path(name)
            self._held = pa.ipc.new_file(name, self._schema)
        self._held.write_table(rows)
        self._held_rows += rows.num_rows

    def _drop_held(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None
        if self._held_path is not None:
            self._held_path.unlink(missing_ok=True)
            self._held_path = None
        self._held_rows = 0

    def _take(self, rows: int, size: int) -> None:
        """Add the next `rows` rows (`size` bytes) to the open row group and shard."""
        self._group_rows += rows
        self._group_bytes += size
        self._shard_bytes += size

    def _write_group(self, rest: pa.Table | None) -> None:
        """Write the open row group: the held rows, then `rest` of the piece being written."""
        parts = [rest] if rest is not None and rest.num_rows else []
        if self._held is not None:
            self._held.close()
            self._held = None
            assert self._held_path is not None
            parts.insert(0, pa.ipc.open_file(pa.memory_map(str(self._held_path))).read_all())
        # One chunk per column, as a slice of the whole table was: chunks could change the
        # pages written (the held file has a batch per piece).
        group = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._open_shard(), self._schema, compression="zstd")
        self._writer.write_table(group.combine_chunks())
        del parts, group  # the held file's mapping, before the file goes
        self._drop_held()
        self._group_rows, self._group_bytes = 0, 0

    def _shard_folder(self) -> Path:
        """Where the shards go, made (and remembered, for `abort`) when missing."""
        where = (self._folder / shard(self._config, self._split)).parent
        missing = [p for p in (where, *where.parents) if not p.exists()]
        for folder in reversed(missing):
            folder.mkdir(mode=FOLDER_MODE)
            self._created.append(folder)
        return where

    def _open_shard(self) -> Path:
        """A new temporary file for the next shard, where the shards go."""
        where = self._shard_folder()
        index = len(self._temporary)
        fd, name = tempfile.mkstemp(dir=where, prefix=f".{self._split}-{index:05d}.", suffix=".tmp")
        self._temporary.append(Path(name))
        os.fchmod(fd, FILE_MODE)  # a release is for everyone to read; mkstemp makes it 0600
        os.close(fd)
        return Path(name)

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._shard_bytes = 0


def write_split(
    folder: Path,
    config: str,
    split: str,
    rows: Rows,
    features: Features,
    max_shard_size: int,
    row_group_size: int = ROW_GROUP_SIZE,
) -> WrittenSplit:
    """Write one config's split (its rows, or their table) under `folder` as one or more
    shards (sizes in bytes), at once: `SplitWriter` with one piece.

    Raises ValueError for a split without rows: an empty split has no file (release-format.md).
    """
    with SplitWriter(folder, config, split, features, max_shard_size, row_group_size) as writer:
        writer.write(rows)
        written = writer.close()
    if written is None:
        raise ValueError(f"{config}/{split} has no rows: an empty split is written as no file")
    return written


def _table(rows: Rows, schema: pa.Schema) -> pa.Table:
    if isinstance(rows, pa.Table):
        # One chunk per column, as from_pylist makes it: chunks could change the pages written.
        return rows.cast(schema).combine_chunks()
    return pa.Table.from_pylist(rows, schema=schema)


def _row_sizes(table: pa.Table) -> np.ndarray:
    """Each row's size, over every column."""
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        total += row_sizes(column.combine_chunks())
    return total


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
