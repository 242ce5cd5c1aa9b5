"""Specification of the validator's batches: a corpus checked in parts has the problems it has
when checked whole.

A corpus of more than `WHOLE_BYTES` of input is cut by document id into batches checked one
after another (kinews.validate.batches), so memory follows the batch, not the corpus. Here the
batch size is made tiny (and no corpus checked at once) so that the small case roots are cut
into several batches.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import REPO
from kinews.ingest import sha256_text
from kinews.records import Annotation, Document, Span, write_jsonl
from kinews.root import DOCUMENTS_FILE, annotation_files
from kinews.scheme import load_scheme
from kinews.validate import validate
from kinews.validate.batches import batch_count
from kinews.validate.validator import in_batches
from test_validate import CASE_CODES, VALIDATE_CASES, case_root


def input_bytes(root) -> int:
    return sum(p.stat().st_size for p in [root / DOCUMENTS_FILE, *annotation_files(root)])


@pytest.mark.parametrize("code", CASE_CODES)
def test_each_case_has_the_same_problems_in_batches_as_whole(code, tmp_path):
    root = case_root(code, tmp_path)
    # A second annotation file, so that batches hold parts of several files.
    shutil.copy(
        VALIDATE_CASES / "base" / "annotations" / "gold.jsonl", root / "annotations" / "b.jsonl"
    )
    whole = validate(root)
    size = input_bytes(root)
    for batches in (2, 5):
        batch_bytes = max(1, size // batches)
        assert batch_count(root, batch_bytes, whole_bytes=0) > 1
        assert validate(root, batch_bytes=batch_bytes, whole_bytes=0) == whole


def corpus(root, count: int) -> None:
    """`count` documents, every fifth repeating an earlier one's text, each with a gold record
    of two spans, the second one's text wrong in every seventh."""
    shutil.copytree(REPO / "schemas", root / "schemas")
    documents, records = [], []
    for n in range(count):
        text = f"Die Firma Nummer {n % 5 if n % 5 == 0 else n} baut in Berlin Chips."
        doc = Document(id=f"d{n:03}", text=text, sha256=sha256_text(text), language="de")
        city = text.index("Berlin")
        spans = (
            Span(4, 9, "ORG", "Firma"),
            Span(city, city + 6, "LOC", "Berlin" if n % 7 else "Bern"),
        )
        documents.append(doc)
        records.append(
            Annotation(
                doc.id,
                doc.sha256,
                "annotator-01",
                "gold",
                "2026-11-28T00:00:00Z",
                None,
                None,
                spans,
            )
        )
    write_jsonl(root / DOCUMENTS_FILE, documents)
    write_jsonl(root / "annotations" / "gold.jsonl", records[::2])
    write_jsonl(root / "annotations" / "more.jsonl", records[1::2])


def test_a_text_repeated_in_another_batch_is_found_and_named_by_its_first_document(tmp_path):
    root = tmp_path / "root"
    corpus(root, 60)
    whole = validate(root)
    duplicates = [p for p in whole if p.code == "doc-text-duplicate"]
    assert len(duplicates) == 11  # d005, d010, ... repeat d000's text
    assert all("d000" in p.message for p in duplicates)
    assert any(p.code == "span-text-mismatch" for p in whole)
    for batches in (2, 5, 13):
        assert validate(root, batch_bytes=input_bytes(root) // batches, whole_bytes=0) == whole


def test_a_corpus_the_fast_reader_takes_is_checked_in_batches_and_others_whole(tmp_path):
    root = tmp_path / "root"
    corpus(root, 20)
    scheme = load_scheme(root)
    with ThreadPoolExecutor(2) as lanes:
        assert in_batches(root, scheme, 3, lanes) is not None
        # A line that is not JSON needs the careful reader, which reads files whole.
        with (root / "annotations" / "more.jsonl").open("a") as handle:
            handle.write("{not json}\n")
        assert in_batches(root, scheme, 3, lanes) is None
    [broken] = [
        p for p in validate(root, batch_bytes=100, whole_bytes=0) if p.code == "line-not-json"
    ]
    assert (broken.file, broken.line) == ("annotations/more.jsonl", 11)


def test_ids_are_read_whatever_the_order_of_the_keys(tmp_path):
    root = tmp_path / "root"
    corpus(root, 20)
    more = root / "annotations" / "more.jsonl"
    lines = more.read_text("utf-8").splitlines()
    # The document id last, not first: the ids are then parsed as JSON, not read off the line.
    more.write_text(
        "".join(json.dumps(dict(reversed(json.loads(line).items()))) + "\n" for line in lines),
        "utf-8",
    )
    scheme = load_scheme(root)
    with ThreadPoolExecutor(2) as lanes:
        found = in_batches(root, scheme, 4, lanes)
    assert found is not None
    assert validate(root, batch_bytes=input_bytes(root) // 4, whole_bytes=0) == validate(root)


def test_a_record_naming_its_document_twice_is_checked_whole(tmp_path):
    root = tmp_path / "root"
    corpus(root, 20)
    more = root / "annotations" / "more.jsonl"
    first, *rest = more.read_text("utf-8").splitlines()
    # Read off the line, the record is d001's; a JSON parser takes the last doc_id.
    twice = first[:-1] + ', "doc_id": "d002"}'
    more.write_text("\n".join([twice, *rest]) + "\n", "utf-8")
    scheme = load_scheme(root)
    with ThreadPoolExecutor(2) as lanes:
        assert all(in_batches(root, scheme, n, lanes) is None for n in (2, 3, 5))
    assert validate(root, batch_bytes=input_bytes(root) // 3, whole_bytes=0) == validate(root)
