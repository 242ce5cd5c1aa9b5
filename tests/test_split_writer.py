"""Specification of SplitWriter: a split handed over in pieces is written to the same bytes as the
whole split at once, holding no more than one row group's rows, and leaves nothing when it fails.

The specification is `reference_write_split` below: `write_split` as it was before the writer
streamed (the whole split as one table, shards and row groups cut from it by slices), kept here
unchanged. The limits are a few hundred bytes, so that a few dozen short rows make several
shards of several row groups.
"""

from __future__ import annotations

import gc
import random
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Features
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from kinews.release.configs import features_of
from kinews.release.folder import shard
from kinews.release.parquet import SplitWriter, WrittenSplit, boundaries, row_sizes, write_split
from kinews.scheme import load_scheme

SCHEME = load_scheme(REPO)
ANNOTATIONS = features_of("annotations", SCHEME)
SENTENCES = features_of("sentences", SCHEME)


def reference_write_split(
    folder: Path,
    config: str,
    split: str,
    rows: list[dict[str, Any]] | pa.Table,
    features: Features,
    max_shard_size: int,
    row_group_size: int,
) -> WrittenSplit:
    """write_split before SplitWriter, as the releases 0.1.0 and 0.2.0 were written."""
    if isinstance(rows, pa.Table):
        table = rows.cast(features.arrow_schema).combine_chunks()
    else:
        table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
    sizes = _reference_row_sizes(table, min(max_shard_size, row_group_size))
    shards = boundaries(sizes, max_shard_size) if sizes else [range(table.num_rows)]
    files = []
    for index, rows_of_shard in enumerate(shards):
        path = shard(config, split, index, len(shards))
        part = table.slice(rows_of_shard.start, len(rows_of_shard))
        groups = boundaries(sizes[rows_of_shard.start : rows_of_shard.stop], row_group_size)
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(folder / path, part.schema, compression="zstd") as writer:
            for group in groups if sizes else [range(part.num_rows)]:
                writer.write_table(part.slice(group.start, len(group)))
        files.append(path)
    return WrittenSplit(tuple(files), int(table.nbytes))


def _reference_row_sizes(table: pa.Table, limit: int) -> list[int]:
    if table.nbytes <= limit:
        return []
    total = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        total += row_sizes(column.combine_chunks())
    return list(total.tolist())


# --- rows of the real configs -------------------------------------------------------------------

words = st.text(alphabet="abcäöß Ü-", max_size=12)
spans = st.lists(
    st.fixed_dictionaries(
        {
            "start": st.integers(0, 500),
            "end": st.integers(0, 500),
            "label": st.integers(0, len(SCHEME.label_names) - 1),
            "text": words,
        }
    ),
    max_size=3,
)
annotation_rows = st.lists(
    st.fixed_dictionaries(
        {
            "doc_id": words,
            "annotator": words,
            "status": st.sampled_from(["submitted", "gold"]),
            "created_at": st.none() | words,
            "updated_at": st.none() | words,
            "lead_time": st.none() | st.floats(allow_nan=False),
            "spans": spans,
        }
    ),
    min_size=1,
    max_size=40,
)


@st.composite
def sentence_rows(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = []
    for number in range(draw(st.integers(1, 40))):
        tokens = draw(st.lists(words, max_size=6))
        rows.append(
            {
                "id": f"d{number % 3}#{number:04d}",
                "doc_id": f"d{number % 3}",
                "start": draw(st.integers(0, 10_000)),
                "end": draw(st.integers(0, 10_000)),
                "tokens": tokens,
                "token_offsets": [{"start": k, "end": k + len(t)} for k, t in enumerate(tokens)],
                "ner_tags": draw(
                    st.lists(
                        st.integers(0, len(SCHEME.bio_names) - 1),
                        min_size=len(tokens),
                        max_size=len(tokens),
                    )
                ),
            }
        )
    return rows


def pieces_of(rows: list[Any], cuts: list[int]) -> list[list[Any]]:
    """`rows` cut at `cuts` (any numbers up to len(rows), repeats make empty pieces)."""
    points = [0, *sorted(cuts), len(rows)]
    return [rows[start:stop] for start, stop in pairwise(points)]


def as_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as the sentences config hands them over: a table of several chunks per column, its
    ClassLabel metadata not yet attached (the writer casts)."""
    schema = pa.schema([f for f in SENTENCES.arrow_schema])  # no metadata
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    return pa.concat_tables([pa.Table.from_pylist(h, schema=schema) for h in halves])


def everything(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under `folder`."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


limits = st.tuples(st.integers(40, 3_000), st.integers(20, 1_000))


# --- the same bytes, whatever the pieces --------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(rows=annotation_rows, data=st.data(), limits=limits)
def test_rows_written_in_any_pieces_make_the_files_of_the_whole_split_written_at_once(
    rows, data, limits, tmp_path_factory
):
    max_shard_size, row_group_size = limits
    cuts = data.draw(st.lists(st.integers(0, len(rows)), max_size=8))
    expected, actual = tmp_path_factory.mktemp("expected"), tmp_path_factory.mktemp("actual")
    reference = reference_write_split(
        expected, "annotations", "train", rows, ANNOTATIONS, max_shard_size, row_group_size
    )
    pieces = pieces_of(rows, cuts)
    with SplitWriter(
        actual, "annotations", "train", ANNOTATIONS, max_shard_size, row_group_size
    ) as writer:
        for piece in pieces:
            writer.write(piece)
        written = writer.close()
    assert written is not None
    assert written.files == reference.files
    assert everything(actual) == everything(expected)
    # Each piece has validity bitmaps of its own: a few bytes apart from the whole table's.
    assert abs(written.num_bytes - reference.num_bytes) <= 64 * len(pieces)


@settings(max_examples=40, deadline=None)
@given(rows=sentence_rows(), data=st.data(), limits=limits)
def test_tables_written_in_any_pieces_make_the_files_of_the_whole_table_written_at_once(
    rows, data, limits, tmp_path_factory
):
    max_shard_size, row_group_size = limits
    cuts = data.draw(st.lists(st.integers(0, len(rows)), max_size=8))
    expected, actual = tmp_path_factory.mktemp("expected"), tmp_path_factory.mktemp("actual")
    reference = reference_write_split(
        expected, "sentences", "test", as_table(rows), SENTENCES, max_shard_size, row_group_size
    )
    with SplitWriter(actual, "sentences", "test", SENTENCES, max_shard_size, row_group_size) as w:
        for piece in pieces_of(rows, cuts):
            w.write(as_table(piece))
    written = w.close()
    assert written is not None and written.files == reference.files
    assert everything(actual) == everything(expected)


def test_these_limits_cut_several_shards_of_several_row_groups(tmp_path):
    """The regime the property tests above explore, shown on one split."""
    rows = [
        {"doc_id": f"d{i}", "annotator": "ann-1", "status": "gold", "spans": []} for i in range(40)
    ]
    written = write_split(tmp_path, "annotations", "train", rows, ANNOTATIONS, 600, 200)
    assert len(written.files) > 2
    groups = [pq.ParquetFile(tmp_path / f).num_row_groups for f in written.files]
    assert all(count > 1 for count in groups[:-1]), groups
    expected = reference_write_split(
        tmp_path / "reference", "annotations", "train", rows, ANNOTATIONS, 600, 200
    )
    assert written == expected
    assert everything(tmp_path / "data") == everything(tmp_path / "reference" / "data")


def test_a_split_within_both_limits_is_one_file_of_one_row_group(tmp_path):
    rows = [{"doc_id": "d1", "annotator": "ann-1", "status": "gold", "spans": []}] * 3
    with SplitWriter(tmp_path, "annotations", "validation", ANNOTATIONS, 10**9) as writer:
        writer.write(rows[:1])
        writer.write([])
        writer.write(rows[1:])
    written = writer.close()
    assert written is not None and written.files == (shard("annotations", "validation"),)
    assert pq.ParquetFile(tmp_path / written.files[0]).num_row_groups == 1
    assert pq.read_table(tmp_path / written.files[0]).num_rows == 3


# --- nothing written, nothing left --------------------------------------------------------------


def test_a_split_without_rows_is_no_file_at_all(tmp_path):
    folder = tmp_path / "release"
    with SplitWriter(folder, "annotations", "test", ANNOTATIONS, 100, 100) as writer:
        writer.write([])
        writer.write(pa.Table.from_pylist([], schema=ANNOTATIONS.arrow_schema))
    assert writer.close() is None
    assert not folder.exists()
    with pytest.raises(ValueError, match="annotations/test has no rows"):
        write_split(folder, "annotations", "test", [], ANNOTATIONS, 100)
    assert not folder.exists()


def test_an_exception_inside_the_with_leaves_the_folder_as_it_was(tmp_path):
    (tmp_path / "data" / "annotations").mkdir(parents=True)
    (tmp_path / "README.md").write_text("a card\n", encoding="utf-8")
    before = everything(tmp_path)
    rows = [{"doc_id": f"d{i}", "annotator": "a", "status": "gold", "spans": []} for i in range(30)]
    with (
        pytest.raises(RuntimeError, match="the build failed"),
        SplitWriter(tmp_path, "annotations", "train", ANNOTATIONS, 300, 100) as writer,
    ):
        writer.write(rows)  # some shards finished, one open
        assert list((tmp_path / "data" / "annotations").iterdir())
        raise RuntimeError("the build failed")
    assert everything(tmp_path) == before
    with pytest.raises(ValueError, match="aborted"):
        writer.write(rows)


def test_a_failing_piece_takes_the_files_before_it_and_the_folders_made_for_them(tmp_path):
    folder = tmp_path / "staging"
    writer = SplitWriter(folder, "annotations", "train", ANNOTATIONS, 300, 100)
    writer.write([{"doc_id": f"d{i}", "annotator": "a", "status": "gold"} for i in range(30)])
    with pytest.raises(pa.ArrowInvalid):
        writer.write([{"doc_id": "d30", "annotator": "a", "status": "gold", "lead_time": "soon"}])
    assert not folder.exists()


def test_a_shard_that_cannot_be_named_at_close_takes_the_others_with_it(tmp_path):
    rows = [{"doc_id": f"d{i}", "annotator": "a", "status": "gold"} for i in range(30)]
    count = len(
        reference_write_split(
            tmp_path / "ref", "annotations", "x", rows, ANNOTATIONS, 300, 100
        ).files
    )
    assert count > 2
    # A folder where the last shard would go: the rename at close fails after the first ones.
    blocked = tmp_path / "release" / shard("annotations", "train", count - 1, count)
    (blocked / "inside").mkdir(parents=True)
    before = everything(tmp_path / "release")
    release = tmp_path / "release"
    with (
        pytest.raises(OSError),
        SplitWriter(release, "annotations", "train", ANNOTATIONS, 300, 100) as writer,
    ):
        writer.write(rows)
    assert everything(tmp_path / "release") == before


# --- memory -------------------------------------------------------------------------------------


def test_the_writer_holds_at_most_the_open_row_groups_rows_never_the_pieces(tmp_path):
    row_group_size = 2_000
    rows = [
        {"doc_id": f"d{i:04d}", "annotator": "a" * (i % 50), "status": "gold", "spans": []}
        for i in range(3_000)
    ]
    sizes = [
        (4 + len(r["doc_id"])) + (4 + len(r["annotator"])) + (4 + 4) + 4 + 4 + 8 + 4 for r in rows
    ]
    written = 0
    with SplitWriter(tmp_path, "annotations", "train", ANNOTATIONS, 50_000, row_group_size) as w:
        for piece in pieces_of(rows, list(range(7, len(rows), 7))):
            w.write(piece)
            written += len(piece)
            held = sizes[written - w.buffered_rows : written]
            assert w.buffered_rows > 0 and (sum(held) <= row_group_size or len(held) == 1)
        # One large piece: what is held afterwards is a copy of its tail, not the piece.
        gc.collect()
        allocated = pa.total_allocated_bytes()
        piece = pa.Table.from_pylist(rows, schema=ANNOTATIONS.arrow_schema)
        assert piece.nbytes > 50 * row_group_size
        w.write(piece)
        del piece
        gc.collect()
        assert pa.total_allocated_bytes() - allocated < 4 * row_group_size
        assert w.buffered_rows < 100


def test_a_group_or_a_shard_that_reaches_its_limit_exactly_stays_whole(tmp_path):
    # 44 bytes a row: id 4+3, annotator 4+5, status 4+4, two null strings 4 each, a null float
    # 8, no spans 4. Groups of exactly 3 rows (132 bytes), shards of exactly 10 (440 bytes).
    rows = [
        {"doc_id": f"d{i:02d}", "annotator": "ann-1", "status": "gold", "spans": []}
        for i in range(40)
    ]
    with SplitWriter(tmp_path / "pieces", "annotations", "train", ANNOTATIONS, 440, 132) as w:
        for piece in pieces_of(rows, list(range(7, 40, 7))):
            w.write(piece)
    written = w.close()
    assert written is not None and len(written.files) == 4
    for file in written.files:
        metadata = pq.ParquetFile(tmp_path / "pieces" / file).metadata
        assert [metadata.row_group(k).num_rows for k in range(metadata.num_row_groups)] == [
            3,
            3,
            3,
            1,
        ]
    reference_write_split(tmp_path / "whole", "annotations", "train", rows, ANNOTATIONS, 440, 132)
    assert everything(tmp_path / "pieces") == everything(tmp_path / "whole")


def test_a_row_group_made_of_many_pieces_is_written_as_one_chunk_as_the_whole_was(tmp_path):
    """Pages are cut where a chunk ends: a column of texts no dictionary can hold, written in
    1-row chunks, gives other bytes, so a row group gathered from pieces is combined first."""
    texts = random.Random(0)
    rows = [
        {"doc_id": f"d{i:02d}", "annotator": texts.randbytes(100_000).hex(), "status": "gold"}
        for i in range(20)
    ]
    with SplitWriter(tmp_path / "pieces", "annotations", "train", ANNOTATIONS, 10**8) as writer:
        for row in rows:
            writer.write([row])
    assert writer.close() is not None
    reference_write_split(
        tmp_path / "whole", "annotations", "train", rows, ANNOTATIONS, 10**8, 10**8
    )
    assert everything(tmp_path / "pieces") == everything(tmp_path / "whole")
