"""Specification of the card's datasheet: declared answers, measured facts, metadata made inert."""

from __future__ import annotations

import json
import re
from pathlib import Path

import markdown
import yaml

from conftest import REPO
from kinews.release.datasheet import code, inline, link

HOSTILE = "Evil | Corp\n\n# INJECTED\n\n<script>alert(1)</script> [click](javascript:alert(1))"


def rendered(text: str) -> str:
    """HTML as a Markdown renderer (Python-Markdown, with tables as on the Hub) makes it."""
    return markdown.markdown(text, extensions=["tables"])


def test_metadata_text_cannot_add_headings_html_links_or_table_cells():
    cell = inline(HOSTILE)
    html = rendered(f"| source | n |\n|---|---|\n| {cell} | 1 |")
    assert "<script" not in html and "<h1" not in html and "href" not in html
    assert html.count("<td>") == 2  # the `|` in the name did not open a third cell
    assert "INJECTED" in html and "&lt;script&gt;" in html  # shown, as text


def test_only_http_urls_become_links():
    assert 'href="https://example.org/a?b=1"' in rendered(link("https://example.org/a?b=1"))
    for url in ("javascript:alert(1)", "data:text/html,<b>x</b>", "vbscript:x", "//evil"):
        assert "href" not in rendered(f"see {link(url)}"), url


def test_a_line_of_metadata_never_starts_a_list_heading_or_quote():
    for start in ("- item", "# heading", "> quote", "1. item", "+ item", "==="):
        html = rendered(inline(start))
        assert html.startswith("<p>") and html.count("<p>") == 1, (start, html)


def test_a_code_span_of_metadata_cannot_be_closed_early():
    assert rendered(code("a`</code><script>x")).count("<code>") == 1
    assert "<script" not in rendered(code("a`</code><script>x"))


def add_hostile_document(root: Path, kinews, tmp_path: Path) -> None:
    articles = tmp_path / "hostile.jsonl"
    row = {
        "id": "hostile",
        "text": "Peking fördert KI.",
        "source": HOSTILE,
        "url": "javascript:alert(1)",
        "license": "CC-BY-4.0",
        "notes": "<img src=x onerror=alert(1)>\n\n## Also injected",
    }
    articles.write_text(json.dumps(row) + "\n", "utf-8")
    assert kinews("ingest", articles, "--root", root).exit_code == 0
    [doc] = [
        json.loads(line)
        for line in (root / "corpus" / "documents.jsonl").read_text("utf-8").splitlines()
        if json.loads(line)["id"] == "hostile"
    ]
    record = {
        "doc_id": "hostile",
        "doc_sha256": doc["sha256"],
        "annotator": "team",
        "status": "gold",
        "created_at": "2026-12-01T00:00:00Z",
        "updated_at": None,
        "origin": {"tool": "manual"},
        "spans": [{"start": 0, "end": 6, "label": "LOC", "text": "Peking"}],
    }
    (root / "annotations" / "hostile.jsonl").write_text(json.dumps(record) + "\n", "utf-8")


def test_a_hostile_source_url_and_notes_reach_the_card_inert(seed_root, kinews, tmp_path):
    add_hostile_document(seed_root, kinews, tmp_path)
    out = tmp_path / "dist"
    built = kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", out)
    assert built.exit_code == 0, built.output
    card = (out / "kinews-0.1.0" / "README.md").read_text("utf-8")
    header, body = card.split("---\n", 2)[1:]
    yaml.safe_load(header)  # the header is still valid YAML
    html = rendered(body)
    assert "<script" not in html and "onerror" not in re.findall(r"<img[^>]*>", html).__str__()
    assert "javascript:" not in str(re.findall(r'href="([^"]*)"', html))
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", html)
    assert not any("INJECTED" in h or "Also injected" in h for h in headings)
    assert "INJECTED" in html  # the metadata is still there, as text


def test_the_declaration_of_the_repository_names_what_the_card_needs():
    from kinews.dataset import guidelines_version, load_dataset_declaration

    dataset = load_dataset_declaration(REPO)
    assert dataset.name == "kinews" and dataset.language == "de"
    assert guidelines_version(REPO, dataset) is not None
