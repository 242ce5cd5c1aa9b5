"""Specification of `kinews show`: a document with its spans highlighted, terminal and HTML."""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from conftest import GOLDEN, REPO, SEED_ID
from kinews.ingest import sha256_text
from kinews.records import Annotation, Document, Span, write_jsonl
from kinews.show import load_view, render_html, render_terminal

UPDATE = os.environ.get("KINEWS_UPDATE_GOLDEN") == "1"
# Markup characters, an ampersand and an emoji (one code point, two UTF-16 units) before spans.
TEXT = "Q&A <KI> 🚀: Huawei & Siemens bauen in München.\nZweite Zeile."


def span(surface: str, label: str) -> Span:
    start = TEXT.index(surface)
    return Span(start, start + len(surface), label, surface)


def record(annotator: str, status: str, *spans: Span) -> Annotation:
    return Annotation(
        "doc-1", sha256_text(TEXT), annotator, status, "2026-11-28T00:00:00Z", None, None, spans
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """One small document, annotated by two annotators who disagree, and its gold record."""
    root = tmp_path / "root"
    shutil.copytree(REPO / "schemas", root / "schemas")
    doc = Document("doc-1", TEXT, sha256_text(TEXT), title="Tom & Jerry <test>")
    write_jsonl(root / "corpus" / "documents.jsonl", [doc])
    write_jsonl(
        root / "annotations" / "team.jsonl",
        [
            record("anna", "submitted", span("Huawei", "ORG"), span("München", "LOC")),
            # bert marks KI as well, and not München
            record("bert", "submitted", span("KI", "TECH"), span("Huawei", "ORG")),
        ],
    )
    return root


def with_gold(root: Path) -> Path:
    gold = record("kinews-team", "gold", span("Huawei", "ORG"), span("Siemens", "ORG"))
    write_jsonl(root / "annotations" / "gold.jsonl", [gold])
    return root


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, "utf-8")
    assert actual == path.read_text("utf-8")


def test_the_html_page_matches_the_golden_file(root, kinews, tmp_path):
    page = tmp_path / "doc-1.html"
    result = kinews(
        "show",
        "doc-1",
        "--annotator",
        "anna",
        "--annotator",
        "bert",
        "--html",
        page,
        "--root",
        root,
    )
    assert result.exit_code == 0, result.output
    check_golden("show.html", page.read_text("utf-8"))


def test_the_html_page_escapes_text_and_marks_exactly_the_spans(root):
    page = render_html(load_view(root, "doc-1", ["anna"]))

    class Marks(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth, self.marked, self.text = 0, [], []

        def handle_starttag(self, tag, attrs):
            self.depth += tag == "mark"

        def handle_endtag(self, tag):
            self.depth -= tag == "mark"

        def handle_data(self, data):
            (self.marked if self.depth else self.text).append(data)

    parser = Marks()
    parser.feed(page)
    # Each mark holds the span text, then its label.
    assert parser.marked == ["Huawei", "ORG", "München", "LOC"]
    assert "Q&A <KI> 🚀: " in "".join(parser.text)  # unescaped back to the document text
    assert "<KI>" not in page and "Q&amp;A &lt;KI&gt;" in page
    assert "Tom &amp; Jerry &lt;test&gt;" in page
    assert "http" not in page  # nothing is fetched from the network


def test_by_default_the_released_record_comes_first_then_the_others(root):
    view = load_view(with_gold(root), "doc-1")
    assert [layer.name for layer in view.layers] == [
        "kinews-team (gold)",
        "anna (submitted)",
        "bert (submitted)",
    ]


def test_two_annotators_differ_where_not_both_mark_the_same_label(root):
    view = load_view(root, "doc-1", ["anna", "bert"])
    assert [(d.text, d.labels) for d in view.disagreements] == [
        ("KI", (None, "TECH")),
        ("München", ("LOC", None)),
    ]


def test_the_terminal_view_shows_spans_labels_and_disagreements(root):
    console = Console(record=True, width=100, color_system="truecolor", force_terminal=True)
    console.print(render_terminal(load_view(root, "doc-1", ["anna", "bert"])))
    text = console.export_text(clear=False)
    assert "spans of anna (submitted); compared with bert (submitted)" in text
    assert "Q&A <KI> 🚀: [Huawei ORG] & Siemens bauen in [München LOC ≠]." in text
    assert "where the annotators differ (2)" in text
    [ki_row] = [line for line in text.splitlines() if " KI " in line]
    assert "TECH" in ki_row and "—" in ki_row
    # The span is painted in its label's colour from the scheme (ORG: #4363d8).
    assert "background-color: #4363d8" in console.export_html(inline_styles=True)


def test_the_seed_document_shows_every_gold_span(seed_root):
    view = load_view(seed_root, SEED_ID)
    console = Console(record=True, width=120, soft_wrap=True)
    console.print(render_terminal(view))
    assert console.export_text().count(" TECH]") == sum(
        s.label == "TECH" for s in view.layers[0].spans
    )


def test_an_unknown_document_or_annotator_is_refused(root, kinews):
    result = kinews("show", "doc-9", "--root", root)
    assert result.exit_code == 1 and "doc-unknown" in result.output
    result = kinews("show", "doc-1", "--annotator", "carla", "--root", root)
    assert result.exit_code == 1 and "annotator-unknown" in result.output
    assert "anna, bert" in result.output


def test_a_document_whose_spans_do_not_fit_its_text_is_refused(root, kinews):
    bad = Span(0, 3, "ORG", "xyz")
    write_jsonl(root / "annotations" / "team.jsonl", [record("anna", "submitted", bad)])
    result = kinews("show", "doc-1", "--root", root)
    assert result.exit_code == 1
    assert "span-text-mismatch" in result.output
