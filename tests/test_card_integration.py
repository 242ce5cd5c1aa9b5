"""The card reports what other stages measured: agreement, open adjudication items, the chart."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import tree

TEXT = "Liu Weihua stellte in Peking das System Beiniao Nr. 1 für künstliche Intelligenz vor."


def span(text: str, label: str) -> dict:
    start = TEXT.index(text)
    return {"start": start, "end": start + len(text), "label": label, "text": text}


def two_annotators(root: Path, kinews) -> None:
    articles = root.parent / "a.jsonl"
    articles.write_text(json.dumps({"id": "doc-1", "text": TEXT}, ensure_ascii=False) + "\n")
    assert kinews("ingest", articles, "--root", root).exit_code == 0
    [doc] = [json.loads(line) for line in (root / "corpus" / "documents.jsonl").open()]
    layers = {
        "annotator-01": [
            span("Liu Weihua", "PER"),
            span("Peking", "LOC"),
            span("Beiniao Nr. 1", "PROD"),
        ],
        "annotator-02": [
            span("Liu Weihua", "PER"),
            span("Peking", "LOC"),
            span("künstliche Intelligenz", "TECH"),
        ],
    }
    records = [
        {
            "doc_id": "doc-1",
            "doc_sha256": doc["sha256"],
            "annotator": name,
            "status": "submitted",
            "created_at": "2026-11-28T09:00:00Z",
            "updated_at": None,
            "origin": None,
            "spans": spans,
        }
        for name, spans in layers.items()
    ]
    (root / "annotations").mkdir(exist_ok=True)
    (root / "annotations" / "session.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8"
    )


def test_the_card_reports_agreement_and_open_adjudication_items(empty_root, kinews, tmp_path):
    two_annotators(empty_root, kinews)
    result = kinews("adjudicate", "--root", empty_root)
    assert result.exit_code == 0, result.output
    result = kinews(
        "build",
        "--version",
        "0.1.0",
        "--date",
        "2026-11-28",
        "--root",
        empty_root,
        "--out",
        tmp_path / "dist",
    )
    assert result.exit_code == 0, result.output
    card = (tmp_path / "dist" / "kinews-0.1.0" / "README.md").read_text("utf-8")
    assert "Inter-annotator agreement over 1 document annotated independently" in card
    assert "| entity F1, exact match | 0.667 |" in card  # 2 of 3 spans agree on each side
    assert "2 worklist items in 1 released document are still open." in card
    assert "not yet measured" not in card


def test_the_card_embeds_the_label_chart_shipped_in_the_release(seed_root, kinews, tmp_path):
    result = kinews(
        "build",
        "--version",
        "0.1.0",
        "--date",
        "2026-11-28",
        "--root",
        seed_root,
        "--out",
        tmp_path / "dist",
    )
    assert result.exit_code == 0, result.output
    release = tmp_path / "dist" / "kinews-0.1.0"
    assert "![Spans per label and split](label-counts.png)" in (release / "README.md").read_text()
    assert (release / "label-counts.png").read_bytes().startswith(b"\x89PNG")
    assert "label-counts.png" in (release / "SHA256SUMS").read_text()
    assert "label-counts.png" in tree(release)
