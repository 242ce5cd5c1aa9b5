"""Specification of `kinews diff`: what changed between two releases, span by span."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import GOLDEN, REPO
from kinews.ingest import sha256_text
from kinews.records import Annotation, Document, Span, write_jsonl
from kinews.release.build import build
from kinews.release.diff import ReleasedDocument, compare_spans, diff_releases

UPDATE = os.environ.get("KINEWS_UPDATE_GOLDEN") == "1"

ALPHA = "Die Stadt Peking fördert KI. Huawei baut Chips in Shenzhen, sagte Liu Weihua."
BETA = "Das BMBF startet ein Programm für Quantencomputer in Berlin."
GAMMA = "Siemens eröffnet ein Labor in München."
DELTA = "Die EU beschließt den AI Act in Brüssel."
EPSILON = "OpenAI stellt GPT-5 in San Francisco vor 🚀."


def spans(text: str, *marks: tuple[str, str]) -> tuple[Span, ...]:
    """Spans from (surface, label) pairs, located at the first occurrence in the text."""
    out = []
    for surface, label in marks:
        start = text.index(surface)
        out.append(Span(start, start + len(surface), label, surface))
    return tuple(out)


def make_root(path: Path, labels: list[str], docs: dict[str, tuple[str, tuple[Span, ...]]]) -> Path:
    """A dataset root whose scheme has exactly `labels` (in that order) and one gold record each."""
    scheme = yaml.safe_load((REPO / "schemas" / "labels.yaml").read_text("utf-8"))
    by_name = {label["name"]: label for label in scheme["labels"]}
    scheme["labels"] = [by_name[name] for name in labels]
    (path / "schemas").mkdir(parents=True)
    shutil.copy(REPO / "schemas" / "document.schema.json", path / "schemas")
    shutil.copy(REPO / "schemas" / "annotation.schema.json", path / "schemas")
    shutil.copy(REPO / "schemas" / "dataset.yaml", path / "schemas")
    (path / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "GUIDELINES.md", path / "annotations")
    (path / "schemas" / "labels.yaml").write_text(yaml.safe_dump(scheme), "utf-8")
    write_jsonl(
        path / "corpus" / "documents.jsonl",
        [Document(doc_id, text, sha256_text(text)) for doc_id, (text, _) in sorted(docs.items())],
    )
    write_jsonl(
        path / "annotations" / "gold.jsonl",
        [
            Annotation(
                doc_id,
                sha256_text(text),
                "kinews-team",
                "gold",
                "2026-11-28T00:00:00Z",
                None,
                None,
                s,
            )
            for doc_id, (text, s) in sorted(docs.items())
        ],
    )
    return path


@pytest.fixture
def releases(tmp_path: Path) -> tuple[Path, Path]:
    """Two releases whose differences are known: one of every kind of change."""
    old = make_root(
        tmp_path / "old",
        # Another label order than the new release: ids differ, names must be compared.
        ["ORG", "LOC", "PER", "TECH"],
        {
            "doc-a": (
                ALPHA,
                spans(ALPHA, ("Peking", "LOC"), ("KI", "TECH"), ("Huawei", "ORG"))
                + spans(ALPHA, ("Chips", "TECH"), ("Weihua", "PER")),
            ),
            "doc-b": (BETA, spans(BETA, ("BMBF", "ORG"), ("Quantencomputer", "TECH"))),
            "doc-c": (GAMMA, spans(GAMMA, ("Siemens", "ORG"), ("München", "LOC"))),
            "doc-d": (DELTA, spans(DELTA, ("EU", "ORG"), ("Brüssel", "LOC"))),
        },
    )
    corrected_beta = "Berlin, 3. März: " + BETA.replace("BMBF", "BMFTR")
    new = make_root(
        tmp_path / "new",
        ["PER", "ORG", "LOC", "DATE", "TECH", "PROD", "POLICY", "EVENT", "MISC"],
        {
            # Peking relabelled, KI unchanged, Huawei kept, Chips removed, Liu Weihua widened,
            # Shenzhen added.
            "doc-a": (
                ALPHA,
                spans(ALPHA, ("Peking", "ORG"), ("KI", "TECH"), ("Huawei", "ORG"))
                + spans(ALPHA, ("Shenzhen", "LOC"), ("Liu Weihua", "PER")),
            ),
            # Text corrected: a dateline added, the ministry renamed. Quantencomputer moves with
            # the text and is unchanged; the renamed ORG is removed and added.
            "doc-b": (
                corrected_beta,
                spans(corrected_beta, ("3. März", "DATE"), ("BMFTR", "ORG"))
                + spans(corrected_beta, ("Quantencomputer", "TECH")),
            ),
            "doc-d": (DELTA, spans(DELTA, ("EU", "ORG"), ("Brüssel", "LOC"))),
            "doc-e": (EPSILON, spans(EPSILON, ("OpenAI", "ORG"), ("GPT-5", "PROD"))),
        },
    )
    return (
        build(old, "0.1.0", tmp_path / "dist").path,
        build(new, "0.2.0", tmp_path / "dist").path,
    )


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, "utf-8")
    assert actual == path.read_text("utf-8")


def test_the_text_report_matches_the_golden_file(releases, kinews):
    old, new = releases
    result = kinews("diff", old, new, "--root", old.parent)
    assert result.exit_code == 0, result.output
    check_golden("diff.txt", result.stdout)


def test_the_json_report_matches_the_golden_file(releases, kinews):
    old, new = releases
    result = kinews("diff", old, new, "--format", "json", "--root", old.parent)
    assert result.exit_code == 0, result.output
    check_golden("diff.json", result.stdout)
    report = json.loads(result.stdout)
    assert list(report)[:3] == ["old", "new", "totals"]


def test_every_kind_of_change_is_counted_once(releases):
    diff = diff_releases(*releases)
    assert dict(diff.document_totals()) == {"added": 1, "removed": 1, "changed": 1}
    assert dict(diff.span_totals()) == {
        # Shenzhen, 3. März, BMFTR, and the two spans of the added doc-e
        "added": 5,
        # Chips, BMBF, and the two spans of the removed doc-c
        "removed": 4,
        "relabelled": 1,
        "boundary-shifted": 1,
    }
    [relabelled] = [c for c in diff.spans if c.kind == "relabelled"]
    assert (relabelled.old.label, relabelled.new.label, relabelled.new.text) == (
        "LOC",
        "ORG",
        "Peking",
    )


def test_a_release_compared_with_itself_has_no_changes(releases):
    old, _ = releases
    diff = diff_releases(old, old)
    assert not diff.documents and not diff.spans
    assert diff.summary_lines() == ["No document or span changed."]


def test_the_summary_for_a_changelog_starts_with_totals(releases):
    lines = diff_releases(*releases).summary_lines()
    assert lines[0] == "Documents: 1 added, 1 removed, 1 with changed text (4 → 4)."
    assert lines[1] == "Spans: 5 added, 4 removed, 1 relabelled, 1 boundary-shifted (11 → 12)."
    assert "ORG: 2 added, 2 removed, 1 relabelled." in lines


def test_a_folder_that_is_not_a_release_is_refused(tmp_path, releases, kinews):
    old, _ = releases
    result = kinews("diff", old, tmp_path, "--root", tmp_path)
    assert result.exit_code == 1
    assert "release-invalid" in result.output


@st.composite
def edited_documents(draw):
    """A text with flat spans, and the same text with an insertion outside every span."""
    text = draw(st.text(alphabet="abcdefäöü 🚀", min_size=1, max_size=40))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=6)))
    marked = [
        (a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b and text[a:b].strip()
    ]
    free = [p for p in range(len(text) + 1) if not any(a < p < b for a, b in marked)]
    at = draw(st.sampled_from(free))
    inserted = draw(st.text(alphabet="0123456789\n", min_size=1, max_size=5))
    shift = len(inserted)
    old = [Span(a, b, "ORG", text[a:b]) for a, b in marked]
    new = [Span(a + shift * (a >= at), b + shift * (a >= at), "ORG", text[a:b]) for a, b in marked]
    return (text, old), (text[:at] + inserted + text[at:], new)


@given(edited_documents())
def test_spans_outside_an_edit_move_with_the_text_and_count_as_unchanged(pair):
    (old_text, old_spans), (new_text, new_spans) = pair
    before = ReleasedDocument("d", "train", old_text, tuple(old_spans))
    after = ReleasedDocument("d", "train", new_text, tuple(new_spans))
    assert compare_spans(before, after) == []
