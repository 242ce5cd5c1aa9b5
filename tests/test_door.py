"""What one command accepts, the next must not refuse; a gate that checks nothing does not pass
(issue 13: hardening at the door).

Every refusal is a located problem with the validator's own stable code, exit code 1 or 2,
never a traceback, and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_ID, tree


def assert_refused(result, code: str, *where: str, exit_code: int = 1) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if code in line]
    assert any(all(w in line for w in where) for line in lines), result.output


# --- 1. ingest and ls import check at the door ---------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": 5}, "field-type"),
        ({"group": ["a"]}, "field-type"),
        ({"language": True}, "field-type"),
        ({"language": "deutsch"}, "doc-language-invalid"),
        ({"id": "abc\n"}, "doc-id-invalid"),
        ({"id": 5}, "field-type"),
        ({"text": "Ein Text mit \x00 darin."}, "doc-text-control-char"),
        ({"text": "Ein Text mit \x1b[31m Farbe."}, "doc-text-control-char"),
        ({"text": " \n\t"}, "doc-text-empty"),
    ],
)
def test_ingest_refuses_at_the_door_what_validate_would_refuse_and_writes_nothing(
    empty_root, tmp_path, kinews, fields, code
):
    path = tmp_path / "articles.jsonl"
    good = {"id": "good-1", "text": "Ein guter Text."}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "bad-1", **fields}) + "\n")
    result = kinews("ingest", path, "--root", empty_root)
    assert_refused(result, code, f"{path}:2")
    assert tree(empty_root / "corpus") == {}


def test_what_ingest_accepts_validate_accepts(empty_root, tmp_path, kinews):
    path = tmp_path / "articles.jsonl"
    article = {"id": "ok-1", "text": "Ein Text.", "title": "Titel", "group": "g", "language": "de"}
    path.write_text(json.dumps(article) + "\n")
    assert kinews("ingest", path, "--root", empty_root).exit_code == 0
    result = kinews("validate", "--root", empty_root)
    assert result.exit_code == 0, result.output


def seed_task(seed_root: Path, **annotation: object) -> dict:
    doc = json.loads((seed_root / "corpus" / "documents.jsonl").read_text("utf-8"))
    return {
        "id": 1,
        "data": {"text": doc["text"], "doc_id": SEED_ID},
        "annotations": [{"id": 7, "result": [], **annotation}],
    }


@pytest.mark.parametrize(
    "stamps",
    [
        {"created_at": 5},
        {"created_at": "yesterday"},
        {"created_at": "2026-01-01T00:00:00Z", "updated_at": "soon"},
    ],
)
def test_ls_import_refuses_a_timestamp_the_validator_refuses(seed_root, tmp_path, kinews, stamps):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([seed_task(seed_root, **stamps)]))
    before = tree(seed_root / "annotations")
    result = kinews("ls", "import", export, "--root", seed_root)
    assert_refused(result, "timestamp-invalid", f"doc={SEED_ID}")
    assert tree(seed_root / "annotations") == before


# --- 2. validate reports every problem that can still be checked ----------------------------------


def gold_record(seed_root: Path) -> dict:
    return json.loads((seed_root / "annotations" / "gold.jsonl").read_text("utf-8"))


def write_records(seed_root: Path, *records: dict) -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (seed_root / "annotations" / "gold.jsonl").write_text(lines, "utf-8")


def test_a_field_type_on_one_span_does_not_hide_a_span_whitespace_on_another(seed_root, kinews):
    record = gold_record(seed_root)
    first, second = record["spans"][0], record["spans"][1]
    first["start"] = str(first["start"])  # field-type
    second["start"] -= 1  # now starts on the space before the word
    second["text"] = " " + second["text"]
    write_records(seed_root, record)
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "field-type", "annotations/gold.jsonl:1", f"doc={SEED_ID}")
    assert_refused(result, "span-whitespace", "annotations/gold.jsonl:1", f"doc={SEED_ID}")


def test_a_missing_field_does_not_hide_an_invalid_status_nor_make_the_document_unannotated(
    seed_root, kinews
):
    record = gold_record(seed_root)
    del record["doc_sha256"]
    record["status"] = "final"
    write_records(seed_root, record)
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "field-missing", "annotations/gold.jsonl:1", f"doc={SEED_ID}")
    assert_refused(result, "status-invalid", "annotations/gold.jsonl:1", f"doc={SEED_ID}")
    assert "doc-unannotated" not in result.output
    assert "doc-missing" not in result.output


def test_a_document_with_a_mistyped_title_still_has_its_text_checked_and_its_records(
    seed_root, kinews
):
    path = seed_root / "corpus" / "documents.jsonl"
    doc = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**doc, "title": 5, "language": "deutsch"}) + "\n", "utf-8")
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "field-type", "corpus/documents.jsonl:1", f"doc={SEED_ID}")
    assert_refused(result, "doc-language-invalid", "corpus/documents.jsonl:1", f"doc={SEED_ID}")
    assert "doc-missing" not in result.output
