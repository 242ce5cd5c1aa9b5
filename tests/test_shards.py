"""Specification of shards: a large split is several Parquet files, and every reader takes them all.

The builds here use a tiny `--max-shard-size` so that a handful of short articles is "large".
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from itertools import pairwise
from pathlib import Path

import datasets.config
import mlcroissant as mlc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Features, Value, load_dataset, load_dataset_builder
from hypothesis import given
from hypothesis import strategies as st

from conftest import tree
from kinews.errors import KinewsError
from kinews.release import MAX_SHARD_SIZE
from kinews.release.configs import CONFIGS
from kinews.release.diff import diff_releases, read_release
from kinews.release.parquet import (
    ROW_GROUP_SIZE,
    boundaries,
    parse_size,
    row_sizes,
    write_split,
)
from test_release import add_articles, build, card_header

TINY = "2kB"
SHARD_NAME = re.compile(r"^(train|validation|test)-(\d{5})-of-(\d{5})\.parquet$")


@pytest.fixture
def twin_roots(seed_root, tmp_path, kinews) -> tuple[Path, Path]:
    """Two copies of one root (the seed and 30 short articles): a build records in its root."""
    add_articles(seed_root, tmp_path, kinews, [f"doc-{i:03d}" for i in range(30)])
    twin = tmp_path / "twin"
    shutil.copytree(seed_root, twin)
    return seed_root, twin


@pytest.fixture
def sharded_and_whole(twin_roots, kinews, tmp_path) -> tuple[Path, Path]:
    """The same inputs built with a tiny --max-shard-size and with the default."""
    sharded_root, whole_root = twin_roots
    result = build(kinews, sharded_root, "0.1.0", tmp_path / "sharded", "--max-shard-size", TINY)
    assert result.exit_code == 0, result.output
    result = build(kinews, whole_root, "0.1.0", tmp_path / "whole")
    assert result.exit_code == 0, result.output
    return tmp_path / "sharded" / "kinews-0.1.0", tmp_path / "whole" / "kinews-0.1.0"


def shards_of(release: Path, config: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for file in sorted((release / "data" / config).iterdir()):
        match = SHARD_NAME.match(file.name)
        assert match, file.name
        found.setdefault(match[1], []).append(file.name)
    return found


# --- the boundaries -----------------------------------------------------------------------------


@given(st.lists(st.integers(min_value=0, max_value=50)), st.integers(min_value=1, max_value=120))
def test_every_row_is_in_exactly_one_shard_in_order_and_no_shard_is_over_the_size(sizes, limit):
    ranges = boundaries(sizes, limit)
    assert [row for r in ranges for row in r] == list(range(len(sizes)))
    assert all(len(r) > 0 for r in ranges) or sizes == []
    for r in ranges:
        total = sum(sizes[i] for i in r)
        assert total <= limit or len(r) == 1, (r, total)
    # Greedy: a shard ends only where the next row would take it past the size.
    for r, following in pairwise(ranges):
        assert sum(sizes[i] for i in r) + sizes[following.start] > limit


def test_the_boundaries_of_a_known_split():
    assert boundaries([4, 4, 4, 9, 1, 1], 8) == [range(0, 2), range(2, 3), range(3, 4), range(4, 6)]
    assert boundaries([], 8) == [range(0, 0)]
    assert boundaries([3], 1) == [range(0, 1)]


def test_a_rows_size_counts_its_values_and_offsets_as_arrow_holds_them():
    spans = pa.list_(
        pa.struct([("start", pa.int32()), ("label", pa.int64()), ("text", pa.string())])
    )
    array = pa.array([[{"start": 0, "label": 1, "text": "Peking"}], None, []], spans)
    # list offset 4 + int32 4 + int64 8 + string offset 4 + 6 bytes; an empty or null list: 4
    assert row_sizes(array).tolist() == [26, 4, 4]
    assert row_sizes(pa.array(["abc", None])).tolist() == [7, 4]
    # A slice is measured as the rows it holds, not the array it was cut from.
    rows = [{"text": "x" * n, "tags": list(range(n))} for n in range(10)]
    table = pa.Table.from_pylist(rows).slice(3, 4)
    whole = sum(row_sizes(c.combine_chunks()) for c in table.columns)
    assert whole.tolist() == [(4 + n) + (4 + 8 * n) for n in range(3, 7)]


def test_sizes_read_as_datasets_reads_max_shard_size():
    assert MAX_SHARD_SIZE == datasets.config.MAX_SHARD_SIZE
    assert parse_size("500MB") == 500_000_000
    assert parse_size("64MiB") == 64 * 2**20
    assert parse_size("1000") == 1000
    for bad in ("lots", "-5MB", "0"):
        with pytest.raises(KinewsError) as error:
            parse_size(bad)
        assert error.value.problems[0].code == "shard-size-invalid"


def test_a_bad_max_shard_size_is_refused_with_its_code(seed_root, kinews, tmp_path):
    result = build(kinews, seed_root, "0.1.0", tmp_path / "dist", "--max-shard-size", "big")
    assert result.exit_code == 1
    assert "shard-size-invalid" in result.output
    assert tree(tmp_path / "dist") == {}


def test_row_groups_are_cut_by_size_and_a_small_split_is_one_row_group(tmp_path):
    features = Features({"id": Value("string"), "text": Value("string")})
    rows = [{"id": f"d{i:03d}", "text": "x" * (100 + i)} for i in range(50)]
    written = write_split(
        tmp_path, "documents", "train", rows, features, 10**9, row_group_size=1_500
    )
    [path] = written.files
    file = pq.ParquetFile(tmp_path / path)
    sizes = [(4 + len(r["id"])) + (4 + len(r["text"])) for r in rows]
    expected = [len(r) for r in boundaries(sizes, 1_500)]
    assert [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)] == expected
    assert file.num_row_groups > 1
    assert file.read().to_pylist() == rows
    small = write_split(tmp_path / "small", "documents", "train", rows[:3], features, 10**9)
    assert pq.ParquetFile(tmp_path / "small" / small.files[0]).num_row_groups == 1
    assert ROW_GROUP_SIZE == 100_000_000


# --- a sharded release --------------------------------------------------------------------------


def test_a_large_split_is_several_shards_named_as_the_hub_names_them(sharded_and_whole):
    sharded, whole = sharded_and_whole
    for config in CONFIGS:
        for split, names in shards_of(sharded, config).items():
            count = len(names)
            assert names == [f"{split}-{k:05d}-of-{count:05d}.parquet" for k in range(count)]
        assert all(len(names) == 1 for names in shards_of(whole, config).values())
    assert len(shards_of(sharded, "documents")["train"]) > 1
    assert len(shards_of(sharded, "sentences")["train"]) > 1


def test_the_shards_hold_the_same_rows_in_the_same_order_each_loadable_alone(
    sharded_and_whole, offline
):
    sharded, whole = sharded_and_whole
    for config in CONFIGS:
        from_shards = load_dataset(str(sharded), config, cache_dir=offline())
        from_one = load_dataset(str(whole), config, cache_dir=offline())
        assert set(from_shards) == set(from_one)
        for split in from_one:
            assert from_shards[split].to_list() == from_one[split].to_list()
            assert from_shards[split].features == from_one[split].features
            files = [sharded / "data" / config / n for n in shards_of(sharded, config)[split]]
            rows = []
            for file in files:
                alone = load_dataset("parquet", data_files=str(file), cache_dir=offline())
                assert alone["train"].features == from_one[split].features
                rows += alone["train"].to_list()
            assert rows == from_one[split].to_list()


def test_a_sharded_release_rebuilds_byte_identically(
    twin_roots, sharded_and_whole, kinews, tmp_path
):
    sharded_root, _ = twin_roots
    sharded, _ = sharded_and_whole
    again = build(kinews, sharded_root, "0.1.0", tmp_path / "again", "--max-shard-size", TINY)
    assert again.exit_code == 0, again.output
    assert "reproduced the recorded release 0.1.0" in again.output
    assert tree(tmp_path / "again" / "kinews-0.1.0") == tree(sharded)
    # Other shards are other files: a recorded version needs the size it was built with.
    other = build(kinews, sharded_root, "0.1.0", tmp_path / "other")
    assert other.exit_code == 1
    assert "release-changed" in other.output
    assert "data/documents/train-00000-of-00001.parquet" in other.output


def test_the_card_lists_every_shard_and_sums_each_split_as_datasets_does(
    sharded_and_whole, offline
):
    sharded, whole = sharded_and_whole
    header = card_header(sharded)
    for entry in header["configs"]:
        config = entry["config_name"]
        listed = {f["split"]: f["path"] for f in entry["data_files"]}
        for split, names in shards_of(sharded, config).items():
            paths = [f"data/{config}/{name}" for name in names]
            assert listed[split] == (paths[0] if len(paths) == 1 else paths)
    for info in header["dataset_info"]:
        builder = load_dataset_builder(str(sharded), info["config_name"], cache_dir=offline())
        builder.download_and_prepare()
        assert {s["name"]: s["num_bytes"] for s in info["splits"]} == {
            name: split.num_bytes for name, split in builder.info.splits.items()
        }
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
            name: split.num_examples for name, split in builder.info.splits.items()
        }
    # A release without shards keeps a plain path per split, as before.
    whole_files = card_header(whole)["configs"][0]["data_files"]
    assert all(isinstance(f["path"], str) for f in whole_files)


def test_pyarrow_reads_the_shards_in_order_as_the_one_file(sharded_and_whole):
    sharded, whole = sharded_and_whole
    for config in CONFIGS:
        for split, names in shards_of(sharded, config).items():
            parts = [pq.read_table(sharded / "data" / config / name) for name in names]
            [one] = shards_of(whole, config)[split]
            assert pa.concat_tables(parts).equals(pq.read_table(whole / "data" / config / one))
            # Each shard keeps the schema metadata that carries the ClassLabel names.
            assert all(p.schema.metadata == parts[0].schema.metadata for p in parts)


def test_croissant_and_sha256sums_cover_every_shard(sharded_and_whole):
    sharded, _ = sharded_and_whole
    shards = {str(p.relative_to(sharded)) for p in (sharded / "data").rglob("*.parquet")}
    metadata = json.loads((sharded / "croissant.json").read_text("utf-8"))
    objects = {
        i["contentUrl"]: i["sha256"]
        for i in metadata["distribution"]
        if i["@type"] == "cr:FileObject"
    }
    assert shards <= set(objects)
    for path in shards:
        assert hashlib.sha256((sharded / path).read_bytes()).hexdigest() == objects[path]
    listed = {
        line.split("  ")[1] for line in (sharded / "SHA256SUMS").read_text("utf-8").splitlines()
    }
    assert shards <= listed
    dataset = mlc.Dataset(str(sharded / "croissant.json"))
    assert not dataset.metadata.ctx.issues.errors and not dataset.metadata.ctx.issues.warnings
    header = card_header(sharded)
    for config in ("documents", "sentences"):
        info = next(i for i in header["dataset_info"] if i["config_name"] == config)
        records = list(dataset.records(config))
        assert len(records) == sum(s["num_examples"] for s in info["splits"])
        splits = {r[f"{config}/split"].decode() for r in records}
        assert splits == {s["name"] for s in info["splits"]}


def test_diff_reads_documents_spread_over_shards_in_either_release(sharded_and_whole, kinews):
    sharded, whole = sharded_and_whole
    assert read_release(sharded).documents == read_release(whole).documents
    assert len(read_release(sharded).documents) == 31
    for old, new in ((sharded, whole), (whole, sharded)):
        changes = diff_releases(old, new)
        assert not changes.documents and not [c for c in changes.spans if c.kind != "unchanged"]
        result = kinews("diff", old, new)
        assert result.exit_code == 0, result.output
        assert result.output == kinews("diff", whole, whole).output
