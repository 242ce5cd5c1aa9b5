"""Specification of `kinews build`: the release folder that `datasets.load_dataset` reads."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from datasets import load_dataset

from conftest import REPO, SEED, SEED_ID, tree
from kinews.ingest import normalise
from kinews.release.build import current_version
from kinews.scheme import load_scheme


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No Hub, and a fresh cache: reloading a changed folder must not serve stale features."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return tmp_path / "hf-cache"


def gold_spans() -> list[dict]:
    return json.loads((REPO / "annotations" / "gold.jsonl").read_text("utf-8"))["spans"]


def test_end_to_end_seed_to_a_release_that_datasets_loads_offline(seed_root, kinews, offline):
    assert kinews("validate", "--root", seed_root).exit_code == 0
    result = kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 0, result.output
    assert "1 document (train 1, validation 0, test 0), 38 spans" in result.output
    release = seed_root / "dist" / "kinews-0.1.0"

    docs = load_dataset(str(release), "documents", cache_dir=str(offline))
    assert list(docs) == ["train"]
    [row] = docs["train"]
    assert row["id"] == SEED_ID
    assert row["text"] == normalise(SEED.read_text("utf-8"))
    names = docs["train"].features["spans"].feature["label"].names
    assert names == load_scheme(REPO).label_names
    spans = [dict(s, label=names[s["label"]]) for s in row["spans"]]
    assert spans == gold_spans()
    assert all(row["text"][s["start"] : s["end"]] == s["text"] for s in spans)
    assert row["annotation_status"] == "gold"
    assert row["license"] is None and row["published"] is None


def test_the_card_declares_configs_features_and_split_sizes(seed_root, kinews):
    kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist")
    card = (seed_root / "dist" / "kinews-0.1.0" / "README.md").read_text("utf-8")
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["version"] == "0.1.0"
    assert header["language"] == ["de"]
    assert header["task_categories"] == ["token-classification"]
    assert header["task_ids"] == ["named-entity-recognition"]
    assert header["license"] == "unknown"
    # Three configs since releases carry sentences and annotations too (test_release.py).
    config = next(c for c in header["configs"] if c["config_name"] == "documents")
    assert config["default"] is True
    assert config["data_files"] == [
        {"split": "train", "path": "data/documents/train-00000-of-00001.parquet"}
    ]
    info = next(i for i in header["dataset_info"] if i["config_name"] == "documents")
    [split] = info["splits"]
    assert (split["name"], split["num_examples"]) == ("train", 1)
    spans = next(f for f in info["features"] if f["name"] == "spans")
    label = next(f for f in spans["list"] if f["name"] == "label")
    assert list(label["dtype"]["class_label"]["names"].values()) == load_scheme(REPO).label_names
    for label_name in load_scheme(REPO).label_names:
        assert f"| `{label_name}` |" in card
    assert "`validation` and `test` have no documents yet" in card


def test_a_wrong_split_size_in_the_card_fails_the_load(seed_root, kinews, offline):
    """`datasets` checks num_examples against the data: the card is an integrity check."""
    kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist")
    card = seed_root / "dist" / "kinews-0.1.0" / "README.md"
    card.write_text(card.read_text("utf-8").replace("num_examples: 1", "num_examples: 2"), "utf-8")
    with pytest.raises(Exception, match="expected"):
        load_dataset(str(card.parent), "documents", cache_dir=str(offline))


def test_two_builds_of_the_same_inputs_are_byte_identical(seed_root, kinews, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", first)
    kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", second)
    assert tree(first / "kinews-0.1.0") == tree(second / "kinews-0.1.0")
    sums = (first / "kinews-0.1.0" / "SHA256SUMS").read_text("utf-8")
    assert "data/documents/train-00000-of-00001.parquet" in sums and "README.md" in sums


def test_the_version_comes_from_the_newest_changelog_entry(seed_root, kinews):
    shutil.copy(REPO / "CHANGELOG.md", seed_root / "CHANGELOG.md")
    version = current_version(REPO)
    result = kinews("build", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 0, result.output
    assert (seed_root / "dist" / f"kinews-{version}" / "README.md").exists()


def test_without_a_version_anywhere_the_build_says_so(seed_root, kinews):
    result = kinews("build", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 1
    assert "version-unknown" in result.output


def test_invalid_annotations_are_refused_and_nothing_is_written(seed_root, kinews):
    gold = seed_root / "annotations" / "gold.jsonl"
    record = json.loads(gold.read_text("utf-8"))
    record["spans"][0]["label"] = "COMPANY"
    record["spans"][1]["end"] = 10_000
    gold.write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    result = kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 1
    assert "label-unknown" in result.output and "span-out-of-bounds" in result.output
    assert f"annotations/gold.jsonl:1 doc={SEED_ID}" in result.output
    assert tree(seed_root / "dist") == {}


def test_several_submitted_records_and_no_gold_need_adjudication(seed_root, kinews):
    gold = seed_root / "annotations" / "gold.jsonl"
    record = json.loads(gold.read_text("utf-8"))
    lines = [dict(record, status="submitted", annotator=name) for name in ("ann-02", "ann-01")]
    gold.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), "utf-8")
    assert kinews("validate", "--root", seed_root).exit_code == 0
    result = kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 1
    assert (
        f"doc={SEED_ID} needs-adjudication: 2 submitted records (ann-01, ann-02)" in result.output
    )


def test_a_single_submitted_record_is_released(seed_root, kinews, offline):
    gold = seed_root / "annotations" / "gold.jsonl"
    record = json.loads(gold.read_text("utf-8"))
    gold.write_text(
        json.dumps(dict(record, status="submitted"), ensure_ascii=False) + "\n", "utf-8"
    )
    assert (
        kinews(
            "build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist"
        ).exit_code
        == 0
    )
    docs = load_dataset(
        str(seed_root / "dist" / "kinews-0.1.0"), "documents", cache_dir=str(offline)
    )
    assert docs["train"][0]["annotation_status"] == "submitted"


def test_unannotated_documents_are_left_out_and_counted(seed_root, kinews, tmp_path, offline):
    extra = tmp_path / "extra.jsonl"
    texts = [f"Artikel {i} über Blockchain in Peking." for i in range(12)]
    extra.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
    assert kinews("ingest", extra, "--root", seed_root).exit_code == 0
    result = kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 0
    assert "left out 12 documents without annotation" in result.output
    docs = load_dataset(
        str(seed_root / "dist" / "kinews-0.1.0"), "documents", cache_dir=str(offline)
    )
    assert docs["train"]["id"] == [SEED_ID]


def test_documents_spread_over_all_splits_load_with_their_sizes(
    empty_root, kinews, tmp_path, offline
):
    articles = tmp_path / "many.jsonl"
    rows = [{"id": f"doc-{i:03d}", "text": f"Peking fördert KI, Nummer {i}."} for i in range(60)]
    articles.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    assert kinews("ingest", articles, "--root", empty_root).exit_code == 0
    docs = [
        json.loads(line)
        for line in (empty_root / "corpus" / "documents.jsonl").read_text("utf-8").splitlines()
    ]
    records = [
        {
            "doc_id": d["id"],
            "doc_sha256": d["sha256"],
            "annotator": "annotator-01",
            "status": "submitted",
            "created_at": "2026-11-28T00:00:00Z",
            "updated_at": None,
            "origin": None,
            "spans": [
                {"start": 0, "end": 6, "label": "LOC", "text": "Peking"},
                {"start": 15, "end": 17, "label": "TECH", "text": "KI"},
            ],
        }
        for d in docs
    ]
    (empty_root / "annotations").mkdir(exist_ok=True)
    (empty_root / "annotations" / "a.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8"
    )
    result = kinews("build", "--version", "1.0.0", "--root", empty_root, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    loaded = load_dataset(
        str(tmp_path / "dist" / "kinews-1.0.0"), "documents", cache_dir=str(offline)
    )
    assert set(loaded) == {"train", "validation", "test"}
    assert sum(len(loaded[s]) for s in loaded) == 60
    ids = [set(loaded[s]["id"]) for s in loaded]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_a_bad_version_is_refused(seed_root, kinews):
    result = kinews("build", "--version", "v1", "--root", seed_root, "--out", seed_root / "dist")
    assert result.exit_code == 1
    assert "version-invalid" in result.output


def test_the_committed_corpus_is_what_ingesting_the_seeds_gives(empty_root, kinews):
    assert kinews("ingest", REPO / "seeds", "--root", empty_root).exit_code == 0
    assert (empty_root / "corpus" / "documents.jsonl").read_bytes() == (
        REPO / "corpus" / "documents.jsonl"
    ).read_bytes()
