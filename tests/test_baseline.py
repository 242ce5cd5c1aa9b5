"""Specification of `kinews baseline`: a CRF trained on a release's train split, scored by seqeval.

Each test builds a small release in tmp_path with `kinews build` and reads it back only through
the release folder, as a researcher would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import gold_record, ingest_rows, write_records
from kinews.release.baseline import run_baseline, table
from kinews.release.baseline_cache import FOLDER, baseline_key, report_from_json
from kinews.release.card import NO_BASELINE
from kinews.release.splits import assign_split

SENTENCE = "Anna Schmidt arbeitet bei Siemens in Berlin und nutzt KI."
SPANS = [
    (0, 12, "PER"),
    (26, 33, "ORG"),
    (37, 43, "LOC"),
    (54, 56, "TECH"),
]
EVENT = "Sie besucht die Hannover Messe."


pytestmark = pytest.mark.usefixtures("offline")  # conftest's: no Hub


def group_for(split: str) -> str:
    """A group name whose documents the split assignment puts into `split`."""
    return next(f"g-{split}-{n}" for n in range(1000) if assign_split(f"g-{split}-{n}") == split)


def make_release(root: Path, tmp_path: Path, kinews, docs: list[tuple[str, str, str, list]]):
    """Ingest (id, split, text, spans) documents, one gold record each, and build 0.1.0."""
    rows = [{"id": i, "text": text, "group": group_for(split)} for i, split, text, _ in docs]
    ingest_rows(root, kinews, rows)
    records = [gold_record(doc_id, text, spans) for doc_id, _, text, spans in docs]
    write_records(root / "annotations" / "gold.jsonl", records)
    out = tmp_path / "dist"
    built = kinews(
        "build", "--version", "0.1.0", "--date", "2026-12-01", "--root", root, "--out", out
    )
    assert built.exit_code == 0, built.output
    return out / "kinews-0.1.0"


def same_sentences(n: int, split: str) -> list[tuple[str, str, str, list]]:
    # Trailing spaces make the texts distinct documents; their sentences and tokens are equal.
    first = {"train": 0, "validation": 20, "test": 40}[split]
    return [(f"{split}-{i}", split, SENTENCE + " " * (first + i), SPANS) for i in range(n)]


def test_a_test_split_equal_to_train_is_tagged_perfectly(empty_root, tmp_path, kinews):
    release = make_release(
        empty_root, tmp_path, kinews, same_sentences(6, "train") + same_sentences(3, "test")
    )
    report = run_baseline(release)
    [test] = report.splits
    assert test.split == "test" and test.sentences == 3
    assert (test.overall.precision, test.overall.recall, test.overall.f1) == (1.0, 1.0, 1.0)
    assert test.overall.support == 12
    assert test.by_label["PER"].support == 3 and test.by_label["PER"].f1 == 1.0
    # A label that occurs nowhere has no figures at all, rather than a zero.
    assert test.by_label["POLICY"] == type(test.by_label["POLICY"])(None, None, None, 0)
    assert report.missing_splits == ("validation",)
    assert report.train_sentences == 6 and report.train_tokens == 6 * 11


def test_a_label_train_lacks_is_reported_with_zero_recall_and_no_precision(
    empty_root, tmp_path, kinews
):
    text = SENTENCE + " " + EVENT
    start = text.index("Hannover Messe")
    event_span = (start, start + len("Hannover Messe"), "EVENT")
    with_event = [(f"event-{i}", "test", text + " " * i, [*SPANS, event_span]) for i in range(2)]
    docs = same_sentences(6, "train") + with_event
    release = make_release(empty_root, tmp_path, kinews, docs)
    [test] = run_baseline(release).splits
    event = test.by_label["EVENT"]
    assert event.support == 2
    assert event.recall == 0.0 and event.f1 == 0.0
    assert event.precision is None  # the model never predicted EVENT: precision is undefined
    # What train taught is still found (the unknown name may be mistaken for one of them).
    assert all(test.by_label[label].recall == 1.0 for label in ("PER", "ORG", "LOC", "TECH"))
    assert test.overall.recall == 8 / 10


def test_the_same_release_gives_the_same_figures_every_run(empty_root, tmp_path, kinews):
    docs = same_sentences(5, "train") + same_sentences(2, "validation") + same_sentences(2, "test")
    release = make_release(empty_root, tmp_path, kinews, docs)
    first = kinews("baseline", release, "--format", "json")
    second = kinews("baseline", release, "--format", "json")
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    assert [s["split"] for s in json.loads(first.output)["splits"]] == ["validation", "test"]
    text = kinews("baseline", release)
    assert "test (2 sentences): precision 1.000  recall 1.000  F1 1.000  support 8" in text.output


def test_a_folder_that_is_not_a_release_is_a_located_error(tmp_path, kinews):
    result = kinews("baseline", tmp_path)
    assert result.exit_code == 1
    assert "baseline-no-release" in result.output and str(tmp_path) in result.output


def test_the_card_reports_exactly_what_kinews_baseline_reproduces(empty_root, tmp_path, kinews):
    docs = same_sentences(5, "train") + same_sentences(2, "validation") + same_sentences(2, "test")
    release = make_release(empty_root, tmp_path, kinews, docs)
    card = (release / "README.md").read_text("utf-8")
    section = card.split("## Baseline\n", 1)[1].split("\n## ", 1)[0]
    assert "\n".join(table(run_baseline(release))) in section
    assert "`kinews baseline dist/kinews-0.1.0`" in section


def test_a_release_without_a_test_split_says_the_baseline_was_not_measured(
    empty_root, tmp_path, kinews
):
    release = make_release(empty_root, tmp_path, kinews, same_sentences(3, "train"))
    card = (release / "README.md").read_text("utf-8")
    assert NO_BASELINE in card.split("## Baseline\n", 1)[1].split("\n## ", 1)[0]


def build_next(root: Path, tmp_path: Path, kinews, version: str) -> Path:
    out = tmp_path / "dist"
    built = kinews("build", "--version", version, "--root", root, "--out", out)
    assert built.exit_code == 0, built.output
    return out / f"kinews-{version}"


def cached_entry(root: Path) -> tuple[str, dict]:
    """The one baseline cache entry under `root`: its key and what it holds."""
    [path] = (root / FOLDER).glob("*.json")
    return path.stem, json.loads(path.read_bytes().partition(b"\n")[2])


def test_the_figures_are_kept_by_the_sentences_they_come_from(empty_root, tmp_path, kinews):
    docs = same_sentences(5, "train") + same_sentences(2, "validation") + same_sentences(2, "test")
    release = make_release(empty_root, tmp_path, kinews, docs)
    key, entry = cached_entry(empty_root)
    assert key == entry["key"] == baseline_key(release)
    assert report_from_json(entry["report"]) == run_baseline(release)


def test_a_version_with_the_same_sentences_writes_the_same_card_with_or_without_the_cache(
    empty_root, tmp_path, kinews
):
    docs = same_sentences(5, "train") + same_sentences(2, "validation") + same_sentences(2, "test")
    first = make_release(empty_root, tmp_path, kinews, docs)
    uncached = tmp_path / "uncached"
    shutil.copytree(empty_root, uncached)
    shutil.rmtree(uncached / ".kinews-cache")
    with_cache = build_next(empty_root, tmp_path / "a", kinews, "0.2.0")
    without = build_next(uncached, tmp_path / "b", kinews, "0.2.0")
    # The sentences did not change, so neither did the key: the figures came from the cache.
    assert baseline_key(with_cache) == baseline_key(first) == cached_entry(empty_root)[0]
    assert (with_cache / "README.md").read_bytes() == (without / "README.md").read_bytes()
    assert cached_entry(uncached) == cached_entry(empty_root)


def test_a_damaged_cache_entry_is_computed_again_and_rewritten(empty_root, tmp_path, kinews):
    docs = same_sentences(5, "train") + same_sentences(2, "validation") + same_sentences(2, "test")
    make_release(empty_root, tmp_path, kinews, docs)
    key, _ = cached_entry(empty_root)
    path = empty_root / FOLDER / f"{key}.json"
    original = path.read_bytes()
    # Edited figures whose checksum line no longer matches: never trusted.
    damaged = original.replace(b'"f1": 1.0', b'"f1": 0.5')
    assert damaged != original
    path.write_bytes(damaged)
    release = build_next(empty_root, tmp_path, kinews, "0.2.0")
    section = (release / "README.md").read_text("utf-8").split("## Baseline\n", 1)[1]
    assert "\n".join(table(run_baseline(release))) in section
    assert path.read_bytes() == original


def test_a_release_built_without_the_baseline_says_how_to_measure_it(empty_root, tmp_path, kinews):
    docs = same_sentences(5, "train") + same_sentences(2, "validation") + same_sentences(2, "test")
    make_release(empty_root, tmp_path / "with", kinews, docs)
    shutil.rmtree(empty_root / ".kinews-cache" / "baseline")
    out = tmp_path / "without"
    built = kinews(
        "build", "--version", "0.2.0", "--no-baseline", "--root", empty_root, "--out", out
    )
    assert built.exit_code == 0, built.output
    release = out / "kinews-0.2.0"
    section = (release / "README.md").read_text("utf-8").split("## Baseline\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    assert "built with `kinews build --no-baseline`" in section
    assert "`kinews baseline dist/kinews-0.2.0`" in section
    assert "| split | label |" not in section
    # No CRF was trained: nothing was put in the (emptied) baseline cache.
    assert not (empty_root / FOLDER).exists() or not any((empty_root / FOLDER).iterdir())
    # The choice is part of the card: the recorded version rebuilds only with the same choice.
    again = kinews(
        "build",
        "--version",
        "0.2.0",
        "--no-baseline",
        "--root",
        empty_root,
        "--out",
        tmp_path / "again",
    )
    assert again.exit_code == 0, again.output
    changed = kinews("build", "--version", "0.2.0", "--root", empty_root, "--out", tmp_path / "b")
    assert changed.exit_code == 1
    assert "release-changed" in changed.output and "README.md" in changed.output
