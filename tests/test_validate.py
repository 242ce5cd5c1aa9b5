"""Specification of `kinews validate`: every rule has a code, a case folder and a located report.

tests/cases/validate/base is a small valid dataset root; every other folder there is named after
the one problem code it must produce, and holds the files it lays over the base.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CASES, GOLDEN, REPO
from kinews.ingest import normalise, sha256_text
from kinews.records import Annotation, Document, Span, write_jsonl
from kinews.scheme import load_scheme
from kinews.validate import validate

VALIDATE_CASES = CASES / "validate"
CASE_CODES = sorted(p.name for p in VALIDATE_CASES.iterdir() if p.name != "base")


def case_root(code: str, into: Path) -> Path:
    """The base root with the case's files laid over it."""
    root = into / code
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(VALIDATE_CASES / "base", root, dirs_exist_ok=True)
    if code != "base":
        shutil.copytree(VALIDATE_CASES / code, root, dirs_exist_ok=True)
    return root


def test_the_base_case_is_valid(tmp_path, kinews):
    result = kinews("validate", "--root", case_root("base", tmp_path))
    assert result.exit_code == 0, result.output
    assert "valid: no problems" in result.output


@pytest.mark.parametrize("code", CASE_CODES)
def test_each_case_yields_exactly_its_own_code(code, tmp_path):
    problems = validate(case_root(code, tmp_path))
    assert {p.code for p in problems} == {code}
    assert all(p.file and p.line for p in problems)


@pytest.mark.parametrize("code", CASE_CODES)
def test_a_case_with_errors_exits_1(code, tmp_path, kinews):
    assert kinews("validate", "--root", case_root(code, tmp_path)).exit_code == 1


def test_the_report_over_all_cases_matches_the_golden_report(tmp_path, kinews):
    """Like UD's test log: any change in wording or location shows up as a diff."""
    report = []
    for code in CASE_CODES:
        result = kinews("validate", "--root", case_root(code, tmp_path))
        report.append(f"## {code}\n{result.stdout}")
    actual = "\n".join(report)
    golden = GOLDEN / "validate-cases.txt"
    if os.environ.get("KINEWS_UPDATE_GOLDEN"):
        golden.write_text(actual, "utf-8")
    assert actual == golden.read_text("utf-8")


def test_a_problem_line_names_file_line_document_span_and_rule(tmp_path, kinews):
    result = kinews("validate", "--root", case_root("span-text-mismatch", tmp_path))
    assert (
        'annotations/case.jsonl:1 doc=d1 span=21-27[LOC] "Beijing" span-text-mismatch: '
        "span text does not match the document, which has 'Peking' there"
    ) in result.stdout


def test_json_output_lists_every_problem_with_its_location(tmp_path, kinews):
    result = kinews("validate", "--format", "json", "--root", case_root("span-overlap", tmp_path))
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)
    assert problem == {
        "code": "span-overlap",
        "severity": "error",
        "file": "annotations/case.jsonl",
        "line": 1,
        "doc_id": "d1",
        "span": '44-55[TECH] "Intelligenz"',
        "message": "overlaps an earlier span of the same record; spans are flat",
    }


def test_a_broken_line_does_not_hide_the_lines_after_it(tmp_path):
    problems = validate(case_root("line-not-json", tmp_path))
    assert [(p.file, p.line) for p in problems] == [("annotations/case.jsonl", 2)]


def test_usage_errors_exit_2(tmp_path, kinews):
    assert kinews("validate", "--format", "xml", "--root", tmp_path).exit_code == 2
    result = kinews("validate", "--root", tmp_path)  # no schemas/labels.yaml
    assert result.exit_code == 2
    assert "scheme-missing" in result.output


def test_the_repositorys_own_corpus_and_annotations_are_valid(kinews):
    result = kinews("validate", "--root", REPO)
    assert result.exit_code == 0, result.output


# --- Properties ---------------------------------------------------------------------------------

LABELS = load_scheme(REPO).label_names
# Emoji, a ZWJ family, a flag, combining marks and umlauts: offsets are code points throughout.
ALPHABET = st.sampled_from(
    [*"abcÄöüß ,.\n\t", "😀", "👩\u200d👩\u200d👧", "🇩🇪", "e\u0301", "\u00e9", "ﬁ", "Ω"]
)


@st.composite
def annotated_documents(draw):
    text = normalise("".join(draw(st.lists(ALPHABET, min_size=1, max_size=60))))
    if not text.strip():
        text = "x" + text
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if start < end:
            spans.append(Span(start, end, draw(st.sampled_from(LABELS)), text[start:end]))
    doc = Document(id="doc-1", text=text, sha256=sha256_text(text))
    ann = Annotation(
        "doc-1",
        doc.sha256,
        "annotator-01",
        "gold",
        "2026-11-28T00:00:00Z",
        None,
        None,
        tuple(spans),
    )
    return doc, ann


def problems_for(doc: Document, ann: Annotation) -> set[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "schemas", root / "schemas")
        write_jsonl(root / "corpus" / "documents.jsonl", [doc])
        write_jsonl(root / "annotations" / "a.jsonl", [ann])
        return {p.code for p in validate(root)}


@settings(max_examples=40, deadline=None)
@given(annotated_documents())
def test_valid_records_validate_clean(pair):
    assert problems_for(*pair) == set()


CORRUPTIONS = {
    "span-out-of-bounds": lambda doc, s: Span(s.start, len(doc.text) + 1, s.label, s.text),
    "span-empty": lambda doc, s: Span(s.end, s.end, s.label, ""),
    "span-text-mismatch": lambda doc, s: Span(s.start, s.end, s.label, s.text + "x"),
    "label-unknown": lambda doc, s: Span(s.start, s.end, "NOPE", s.text),
}


@settings(max_examples=40, deadline=None)
@given(annotated_documents(), st.sampled_from(sorted(CORRUPTIONS)), st.data())
def test_any_single_corruption_is_caught_with_its_code(pair, code, data):
    doc, ann = pair
    if not ann.spans:
        ann = Annotation(
            ann.doc_id,
            ann.doc_sha256,
            ann.annotator,
            ann.status,
            ann.created_at,
            None,
            None,
            (Span(0, 1, LABELS[0], doc.text[0]),),
        )
    index = data.draw(st.integers(0, len(ann.spans) - 1))
    spans = list(ann.spans)
    spans[index] = CORRUPTIONS[code](doc, spans[index])
    corrupted = Annotation(
        ann.doc_id,
        ann.doc_sha256,
        ann.annotator,
        ann.status,
        ann.created_at,
        None,
        None,
        tuple(spans),
    )
    found = problems_for(doc, corrupted)
    assert code in found
    # A span moved past the end may also overlap its neighbour; nothing else may appear.
    assert found <= {code, "span-overlap"}
