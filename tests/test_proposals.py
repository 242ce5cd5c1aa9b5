"""Specification of tokenizing once: the token cache, parallel shards, a dask cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import tree
from kinews.proposals import SHARD_SIZE, cache_folder, tokenize_texts, worker_pool
from kinews.tokens import propose
from test_release import add_articles, build

ARTICLES = 2 * SHARD_SIZE + 6  # three shards of new texts


@pytest.fixture
def many_root(seed_root, tmp_path, kinews) -> Path:
    """The seed plus enough short articles for three shards of new texts."""
    add_articles(seed_root, tmp_path, kinews, [f"doc-{i:03d}" for i in range(ARTICLES)])
    return seed_root


def cache_entries(root: Path) -> list[Path]:
    return sorted(cache_folder(root).rglob("*.json"))


def test_a_rebuild_reads_every_text_from_the_cache_and_gives_the_same_bytes(
    many_root, kinews, tmp_path
):
    first = build(kinews, many_root, "0.1.0", tmp_path / "one", "--workers", "1")
    assert first.exit_code == 0, first.output
    assert f"tokenized {ARTICLES + 1} texts, 0 from the cache" in first.output
    assert len(cache_entries(many_root)) == ARTICLES + 1
    again = build(kinews, many_root, "0.1.0", tmp_path / "two", "--workers", "1")
    assert again.exit_code == 0, again.output
    assert f"tokenized 0 texts, {ARTICLES + 1} from the cache" in again.output
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_the_release_is_the_same_with_the_cache_deleted_or_unused(many_root, kinews, tmp_path):
    from kinews.release.build import build as run

    assert build(kinews, many_root, "0.1.0", tmp_path / "warm").exit_code == 0
    assert build(kinews, many_root, "0.1.0", tmp_path / "cached").exit_code == 0
    uncached = run(many_root, "0.1.0", tmp_path / "uncached", cache=False, workers=1)
    assert (uncached.tokenized, uncached.tokens_cached) == (ARTICLES + 1, 0)
    (many_root / ".kinews-cache").rename(tmp_path / "deleted-cache")
    assert build(kinews, many_root, "0.1.0", tmp_path / "cold").exit_code == 0
    assert (
        tree(tmp_path / "warm")
        == tree(tmp_path / "cached")
        == tree(tmp_path / "uncached")
        == tree(tmp_path / "cold")
    )


def test_a_corrupt_or_misplaced_cache_entry_is_computed_again_and_rewritten(
    many_root, kinews, tmp_path
):
    assert build(kinews, many_root, "0.1.0", tmp_path / "clean").exit_code == 0
    entries = cache_entries(many_root)
    good = {path: path.read_bytes() for path in entries}
    truncated, edited, foreign, emptied = entries[:4]
    truncated.write_bytes(good[truncated][:-7])
    edited.write_bytes(good[edited].replace(b",", b";", 1))
    foreign.write_bytes(good[entries[5]])  # another text's entry under this text's name
    emptied.write_bytes(b"")
    result = build(kinews, many_root, "0.1.0", tmp_path / "repaired")
    assert result.exit_code == 0, result.output
    assert f"tokenized 4 texts, {ARTICLES + 1 - 4} from the cache" in result.output
    assert tree(tmp_path / "clean") == tree(tmp_path / "repaired")
    assert {path: path.read_bytes() for path in cache_entries(many_root)} == good


def test_shards_on_two_processes_give_what_one_process_gives(many_root):
    texts = [f"Peking fördert KI. Artikel {i} am 20. März.\nDr. Li kam." for i in range(ARTICLES)]
    texts.append(texts[0])  # a text twice is tokenized once
    one = tokenize_texts(texts, cache=None, workers=1)
    two = tokenize_texts(texts, cache=None, workers=2)
    assert one == two
    assert (two.computed, two.cached) == (ARTICLES, 0)
    assert two.proposals == [propose(text) for text in texts]


def test_a_build_on_two_workers_is_byte_identical_to_one_on_one(many_root, kinews, tmp_path):
    one = build(kinews, many_root, "0.1.0", tmp_path / "one", "--workers", "1")
    assert one.exit_code == 0, one.output
    (many_root / ".kinews-cache").rename(tmp_path / "first-cache")
    two = build(kinews, many_root, "0.1.0", tmp_path / "two", "--workers", "2")
    assert two.exit_code == 0, two.output
    assert f"tokenized {ARTICLES + 1} texts" in two.output
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_a_build_on_a_dask_cluster_is_byte_identical_to_one_on_one_worker(
    many_root, kinews, tmp_path
):
    distributed = pytest.importorskip("distributed")
    one = build(kinews, many_root, "0.1.0", tmp_path / "one", "--workers", "1")
    assert one.exit_code == 0, one.output
    (many_root / ".kinews-cache").rename(tmp_path / "first-cache")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = build(
            kinews, many_root, "0.1.0", tmp_path / "dask", "--scheduler", cluster.scheduler_address
        )
        assert on_dask.exit_code == 0, on_dask.output
        assert f"tokenized {ARTICLES + 1} texts, 0 from the cache" in on_dask.output
    assert tree(tmp_path / "one") == tree(tmp_path / "dask")


def test_a_scheduler_out_of_reach_is_a_usage_error(seed_root, kinews, tmp_path):
    pytest.importorskip("distributed")
    result = build(kinews, seed_root, "0.1.0", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    message = " ".join(result.output.replace("│", " ").split())
    assert "no dask scheduler answers at tcp://127.0.0.1:9" in message


def test_progress_is_told_after_each_shard_of_new_texts(tmp_path):
    texts = [f"Text Nummer {i} über KI in Wien." for i in range(SHARD_SIZE + 8)]
    heard: list[tuple[int, int]] = []
    tokenize_texts(texts, cache=tmp_path / "cache", progress=lambda d, n: heard.append((d, n)))
    assert heard == [(SHARD_SIZE, len(texts)), (len(texts), len(texts))]
    heard.clear()  # everything cached now: nothing to tokenize, nothing to report
    tokenize_texts(texts, cache=tmp_path / "cache", progress=lambda d, n: heard.append((d, n)))
    assert heard == []


def test_the_build_s_processes_start_only_when_two_shards_or_more_need_them():
    with worker_pool(2) as pool:
        tokenize_texts(["Ein Satz über KI."], cache=None, executor=pool)
        assert pool.pool is None  # one shard is tokenized here: no process to start
        texts = [f"Text Nummer {i} über KI in Wien." for i in range(SHARD_SIZE + 1)]
        two = tokenize_texts(texts, cache=None, executor=pool)
        assert pool.pool is not None
    assert two.proposals == [propose(text) for text in texts]
    with worker_pool(1) as pool:  # one worker: everything here
        tokenize_texts(texts, cache=None, executor=pool)
        assert pool.pool is None
