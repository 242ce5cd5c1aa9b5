"""Shared fixtures: dataset roots under tmp_path, never the repository's own folders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kinews.cli import app
from kinews.ingest import sha256_text

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = REPO / "seeds" / "000_7049a8cdd4d53b6b.txt"
SEED_ID = "kn-78148df81a4e2d1c"
CASES = Path(__file__).parent / "cases"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def empty_root(tmp_path: Path) -> Path:
    """A dataset root with the repository's declarations (scheme, dataset) and its manual."""
    root = tmp_path / "root"
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "GUIDELINES.md", root / "annotations" / "GUIDELINES.md")
    return root


@pytest.fixture
def seed_root(empty_root: Path) -> Path:
    """A dataset root with the seed article ingested and its gold annotation."""
    result = CliRunner().invoke(app, ["ingest", str(SEED), "--root", str(empty_root)])
    assert result.exit_code == 0, result.output
    shutil.copy(REPO / "annotations" / "gold.jsonl", empty_root / "annotations" / "gold.jsonl")
    return empty_root


@pytest.fixture
def kinews() -> Callable[..., object]:
    """Run the CLI in-process: kinews("validate", "--root", root) -> click Result."""
    runner = CliRunner()

    def run(*args: object):
        return runner.invoke(app, [str(a) for a in args])

    return run


def tree(path: Path) -> dict[str, bytes]:
    """Every file under path with its bytes: to show that a failed run wrote nothing.

    The root lock (`.kinews-local/lock*`) is not data: a command takes it even when it refuses.
    """
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not (p.parent.name == ".kinews-local" and p.name.startswith("lock"))
    }


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[], str]:
    """No Hub; returns a maker of fresh `datasets` cache folders, one per load, so that a folder
    changed since an earlier load never serves that load's stale features."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    caches = iter(range(10_000))
    return lambda: str(tmp_path / "hf-cache" / str(next(caches)))


def ingest_rows(root: Path, kinews: Callable[..., Any], rows: list[dict[str, Any]]) -> dict:
    """Ingest `rows` (JSON objects with id and text, and any metadata) through `kinews ingest`;
    returns each ingested document's sha256 by id."""
    articles = root.parent / f"articles-{rows[0]['id']}.jsonl"
    articles.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    result = kinews("ingest", articles, "--root", root)
    assert result.exit_code == 0, result.output
    lines = (root / "corpus" / "documents.jsonl").read_text("utf-8").splitlines()
    return {d["id"]: d["sha256"] for d in map(json.loads, lines)}


def write_records(path: Path, records: list[dict[str, Any]]) -> None:
    """Annotation records (JSON objects, as a person or a tool would write them) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


def gold_record(doc_id: str, text: str, spans: Iterable[tuple[int, int, str]]) -> dict[str, Any]:
    """A gold record of `text` (one a person wrote by hand) with the (start, end, label) spans."""
    return {
        "doc_id": doc_id,
        "doc_sha256": sha256_text(text),
        "annotator": "annotator-01",
        "status": "gold",
        "created_at": "2026-12-01T00:00:00Z",
        "updated_at": None,
        "origin": {"tool": "manual"},
        "spans": [
            {"start": s, "end": e, "label": label, "text": text[s:e]} for s, e, label in spans
        ],
    }


def spans_of(text: str, *names: tuple[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, label) of the first occurrence of each (surface, label) in `text`."""
    return [(text.index(s), text.index(s) + len(s), label) for s, label in names]
