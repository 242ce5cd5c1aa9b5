"""Specification of `kinews ingest`: seeds → corpus/documents.jsonl."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO, SEED, SEED_ID, SHARED, tree
from kinews.ingest import ID_PATTERN, normalise

FIELDS = ["id", "text", "sha256", "language", "title", "source", "url", "published", "license"]


def corpus(root: Path) -> list[dict]:
    lines = (root / "corpus" / "documents.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_the_seed_becomes_one_document_with_its_known_metadata(empty_root, kinews):
    result = kinews("ingest", SEED, "--root", empty_root)
    assert result.exit_code == 0, result.output
    assert f"added {SEED_ID}" in result.output
    [doc] = corpus(empty_root)
    assert list(doc)[: len(FIELDS)] == FIELDS
    assert doc["text"] == SEED.read_text("utf-8")
    assert doc["sha256"] == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert doc["language"] == "de"
    # Unknown is null, never invented: no outlet, url, date or licence is known for the seed.
    assert [doc[k] for k in ("title", "source", "url", "published", "license")] == [None] * 5
    assert "China News Service" in doc["notes"]


def test_reingesting_the_same_text_is_a_reported_no_op(seed_root, kinews):
    before = tree(seed_root / "corpus")
    result = kinews("ingest", SEED, "--root", seed_root)
    assert result.exit_code == 0
    assert f"unchanged {SEED_ID}" in result.output
    assert "corpus unchanged" in result.output
    assert tree(seed_root / "corpus") == before


def test_the_same_text_under_another_name_is_not_added_twice(seed_root, kinews, tmp_path):
    copy = tmp_path / "copy.txt"
    copy.write_bytes(SEED.read_bytes())
    result = kinews("ingest", copy, "--root", seed_root)
    assert result.exit_code == 0
    assert f"already in the corpus as {SEED_ID}" in result.output
    assert len(corpus(seed_root)) == 1


def test_normalisation_is_bom_crlf_and_nfc_and_nothing_else(empty_root, kinews, tmp_path):
    raw = "\ufeffKünstliche  Intelligenz\r\nin  Peking\rund Zu\u0308rich\t!\n\n"
    path = tmp_path / "a.txt"
    path.write_bytes(raw.encode("utf-8"))
    assert kinews("ingest", path, "--root", empty_root).exit_code == 0
    [doc] = corpus(empty_root)
    assert doc["text"] == "Künstliche  Intelligenz\nin  Peking\nund Zürich\t!\n\n"
    assert doc["sha256"] == hashlib.sha256(doc["text"].encode()).hexdigest()


@given(st.text())
def test_normalised_text_is_nfc_lf_only_and_normalising_again_changes_nothing(text):
    once = normalise(text)
    assert "\r" not in once
    assert not once.startswith("\ufeff")
    assert unicodedata.is_normalized("NFC", once)
    assert normalise(once) == once


def test_ids_are_stable_opaque_and_safe_as_file_names(empty_root, kinews, tmp_path):
    articles = tmp_path / "articles.jsonl"
    rows = [
        {"text": "Blockchain in Peking.", "url": "https://example.org/a"},
        {"text": "6G in Zhongguancun."},
        {"id": "own-id_1.2", "text": "Quantencomputing.", "title": "Q"},
    ]
    articles.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    assert kinews("ingest", articles, "--root", empty_root).exit_code == 0
    ids = [d["id"] for d in corpus(empty_root)]
    assert ids == sorted(ids)
    assert "own-id_1.2" in ids
    assert all(ID_PATTERN.match(i) for i in ids)
    other = empty_root.parent / "other"
    other.mkdir()
    assert kinews("ingest", articles, "--root", other).exit_code == 0
    assert [d["id"] for d in corpus(other)] == ids


def test_flags_set_metadata_of_the_articles_read(empty_root, kinews, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("KI in Peking.", "utf-8")
    result = kinews(
        "ingest",
        path,
        "--title",
        "T",
        "--source",
        "S",
        "--url",
        "https://x.example/1",
        "--published",
        "2025-03-20",
        "--license",
        "CC-BY-4.0",
        "--root",
        empty_root,
    )
    assert result.exit_code == 0
    [doc] = corpus(empty_root)
    assert (doc["title"], doc["source"], doc["url"], doc["published"], doc["license"]) == (
        "T",
        "S",
        "https://x.example/1",
        "2025-03-20",
        "CC-BY-4.0",
    )


def test_a_changed_text_under_an_existing_id_is_refused_without_replace(
    seed_root, kinews, tmp_path
):
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text("utf-8").replace("Peking", "Beijing", 1), "utf-8")
    before = tree(seed_root)
    result = kinews("ingest", changed, "--root", seed_root)
    assert result.exit_code == 1
    assert f"doc={SEED_ID}" in result.output and "text-changed" in result.output
    assert tree(seed_root) == before


def test_replace_reports_the_annotations_it_makes_stale(seed_root, kinews, tmp_path):
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text("utf-8").replace("Peking", "Beijing", 1), "utf-8")
    result = kinews("ingest", changed, "--replace", "--root", seed_root)
    assert result.exit_code == 0, result.output
    assert f"replaced text of {SEED_ID}" in result.output
    assert "stale annotation" in result.output and "annotations/gold.jsonl:1" in result.output
    validation = kinews("validate", "--root", seed_root)
    assert validation.exit_code == 1
    assert "annotation-stale" in validation.output


def test_a_file_that_is_not_utf8_is_refused_with_the_byte_offset(empty_root, kinews, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Künstliche Intelligenz".encode() + " in Zürich".encode("latin-1"))
    result = kinews("ingest", path, "--root", empty_root)
    assert result.exit_code == 1
    assert str(path) in result.output
    assert "file-not-utf8" in result.output and "byte offset 28" in result.output
    assert tree(empty_root / "corpus") == {}


@pytest.mark.parametrize("content", [b"", b"   \n\r\n", b"\xef\xbb\xbf"])
def test_an_empty_article_is_refused(empty_root, kinews, tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    result = kinews("ingest", path, "--root", empty_root)
    assert result.exit_code == 1
    assert "doc-text-empty" in result.output and str(path) in result.output
    assert tree(empty_root / "corpus") == {}


def test_one_bad_file_means_nothing_is_ingested(empty_root, kinews, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Blockchain.", "utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff")
    assert kinews("ingest", good, bad, "--root", empty_root).exit_code == 1
    assert tree(empty_root / "corpus") == {}


def test_a_jsonl_line_that_is_not_an_article_is_located(empty_root, kinews, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "ok"}\n{"title": "no text"}\n', "utf-8")
    result = kinews("ingest", path, "--root", empty_root)
    assert result.exit_code == 1
    assert f"{path}:2" in result.output and "article-invalid" in result.output


@pytest.mark.skipif(
    not (SHARED / "seeds").exists(), reason="../shared/seeds is not beside the repo"
)
def test_seeds_hold_the_shared_seeds_byte_for_byte():
    for shared_seed in sorted((SHARED / "seeds").iterdir()):
        assert (REPO / "seeds" / shared_seed.name).read_bytes() == shared_seed.read_bytes()


def test_a_jsonl_file_with_bom_and_crlf_is_read_and_normalised(empty_root, kinews, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "a1", "text": "KI\\r\\nin Peking"}\r\n')
    result = kinews("ingest", path, "--root", empty_root)
    assert result.exit_code == 0, result.output
    [doc] = corpus(empty_root)
    assert (doc["id"], doc["text"]) == ("a1", "KI\nin Peking")


def test_the_10kgnad_seeds_keep_their_text_and_carry_their_provenance(empty_root, kinews):
    result = kinews("ingest", REPO / "seeds", "--root", empty_root)
    assert result.exit_code == 0, result.output
    docs = corpus(empty_root)
    released = [d for d in docs if d["id"] != SEED_ID]
    assert len(released) == 225
    seeds = {p.name: p for p in (REPO / "seeds").glob("10kgnad-test-*.txt")}
    for doc in released:
        assert doc["license"] == "CC-BY-NC-SA-4.0"
        assert doc["source"] == "DER STANDARD (via 10kGNAD)"
        assert [doc[k] for k in ("title", "url", "published")] == [None] * 3
        row = int(doc["notes"].split("row ")[1].split(",")[0])
        assert doc["text"] == seeds[f"10kgnad-test-{row:04d}.txt"].read_text("utf-8")
    categories = [d["notes"].split("category ")[1].split(".")[0] for d in released]
    assert (categories.count("Web"), categories.count("Wissenschaft")) == (168, 57)
