"""Bad input of every class ends in located problems with a stable code and exit 1, never in a
Python traceback, whichever command reads it (issue 13: crashes instead of located errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_ID

DEEP = "[" * 100_000 + "]" * 100_000  # deeper than Python's recursion limit


def seed_record(seed_root: Path) -> dict:
    return json.loads((seed_root / "annotations" / "gold.jsonl").read_text("utf-8"))


def write_record(seed_root: Path, record: dict) -> None:
    (seed_root / "annotations" / "gold.jsonl").write_text(json.dumps(record) + "\n", "utf-8")


def second_annotator(seed_root: Path) -> None:
    """Two submitted records of the seed, so that agree and adjudicate compare them."""
    gold = seed_record(seed_root)
    one = dict(gold, annotator="annotator-01", status="submitted")
    two = dict(one, annotator="annotator-02")
    path = seed_root / "annotations" / "gold.jsonl"
    path.write_text(json.dumps(one) + "\n" + json.dumps(two) + "\n", "utf-8")


def commands(root: Path, tmp_path: Path) -> dict[str, list[object]]:
    return {
        "validate": ["validate", "--root", root],
        "build": ["build", "--version", "0.1.0", "--date", "2026-01-01", "--out",
                  tmp_path / "dist", "--root", root],
        "show": ["show", SEED_ID, "--root", root],
        "agree": ["agree", "--root", root],
        "adjudicate": ["adjudicate", "--root", root],
    }  # fmt: skip


def assert_located(result, code: str, where: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert any(where in line and code in line for line in result.output.splitlines()), result.output


@pytest.mark.parametrize("command", ["validate", "build", "show", "agree", "adjudicate"])
def test_a_span_whose_start_is_after_its_end_is_located_by_every_command(
    seed_root, tmp_path, kinews, command
):
    second_annotator(seed_root)
    lines = (seed_root / "annotations" / "gold.jsonl").read_text("utf-8").splitlines()
    record = json.loads(lines[0])
    span = record["spans"][0]
    span["start"], span["end"] = span["end"], span["start"]
    lines[0] = json.dumps(record)
    (seed_root / "annotations" / "gold.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = kinews(*commands(seed_root, tmp_path)[command])
    assert_located(result, "span-empty", "annotations/gold.jsonl:1")


@pytest.mark.parametrize("command", ["validate", "build", "agree", "adjudicate"])
def test_json_nested_deeper_than_python_recurses_is_a_located_line(
    seed_root, tmp_path, kinews, command
):
    (seed_root / "annotations" / "deep.jsonl").write_text(DEEP + "\n", "utf-8")
    result = kinews(*commands(seed_root, tmp_path)[command])
    assert_located(result, "line-not-json", "annotations/deep.jsonl:1")


def test_deeply_nested_articles_and_exports_are_located(seed_root, tmp_path, kinews):
    articles = tmp_path / "deep.jsonl"
    articles.write_text(DEEP + "\n", "utf-8")
    assert_located(kinews("ingest", articles, "--root", seed_root), "line-not-json", "deep.jsonl:1")
    export = tmp_path / "deep.json"
    export.write_text(DEEP, "utf-8")
    result = kinews("ls", "import", export, "--root", seed_root)
    assert_located(result, "ls-export-invalid", "deep.json")


def test_an_ingest_path_that_does_not_exist_is_located_whatever_its_suffix(
    empty_root, tmp_path, kinews
):
    for missing in (tmp_path / "gone.txt", tmp_path / "gone.jsonl", tmp_path / "gone"):
        result = kinews("ingest", missing, "--root", empty_root)
        assert_located(result, "input-missing", str(missing))
