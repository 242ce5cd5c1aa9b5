"""Each validator rule's code, severity and message: what is wrong and what to do about it.

The pandera checks in `kinews.validate` are named after these codes (`_` for `-`); a message is
built from the failing row, with the facts `kinews.validate.facts` computed for it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from kinews.errors import Problem, Severity
from kinews.records import STATUSES, Document, is_timestamp, read_document, to_json

Row = dict[str, Any]

# Anchored for pandera (polars' `$` is the end of the text); Python code uses `fullmatch`, as
# `$` there also matches before a final newline (`"abc\n"`).
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# BCP 47 as far as a corpus needs it: language, optional script and region (de, de-CH, zh-Hant-TW).
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
# Control characters other than \t and \n (\r is reported as not normalised).
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


@dataclass(frozen=True)
class Rule:
    """How a failing row of one check becomes a Problem."""

    code: str
    severity: Severity
    message: Callable[[Row], str]


def _stale(r: Row) -> str:
    return (
        f"document {r['doc_id']} ({r['doc_file']}:{r['doc_line']}) changed since this record was "
        f"annotated (doc_sha256 {r['doc_sha256'][:12]}…, text now {r['current_sha256'][:12]}…); "
        "re-check the spans against the new text, then update doc_sha256"
    )


def _timestamp(r: Row) -> str:
    bad = [
        f"{name} {r[name]!r}"
        for name in ("created_at", "updated_at")
        if r[name] is not None and not is_timestamp(r[name])
    ]
    return f"{' and '.join(bad)} is not an ISO 8601 timestamp such as 2026-11-28T10:00:00Z"


_ALL = (
    Rule("doc-id-invalid", "error", lambda r: f"document id must match {ID_PATTERN.pattern}"),
    Rule(
        "doc-id-duplicate",
        "error",
        lambda r: f"line {r['first_line']} has a document with the same id; ids are unique",
    ),
    Rule(
        "doc-sha256-mismatch",
        "error",
        lambda r: (
            "sha256 does not match the text; re-ingest the document "
            "instead of editing corpus/ by hand"
        ),
    ),
    Rule("doc-text-empty", "error", lambda r: "the document text is empty"),
    Rule(
        "doc-text-not-normalised",
        "error",
        lambda r: "text is not NFC with LF line ends; re-ingest it",
    ),
    Rule(
        "doc-text-control-char",
        "error",
        lambda r: (
            "text contains a control character other than \\n and \\t (such as NUL); "
            "remove it from the source and re-ingest"
        ),
    ),
    Rule(
        "doc-language-invalid",
        "error",
        lambda r: (
            f"language {r['language']!r} is not a language code such as de or de-CH "
            f"({LANGUAGE_PATTERN}); use null when unknown"
        ),
    ),
    Rule(
        "doc-text-duplicate",
        "warning",
        lambda r: (
            f"the same text is already in the corpus as {r['same_text_id']} "
            f"(line {r['same_text_line']}); remove one of them"
        ),
    ),
    Rule(
        "doc-unannotated",
        "info",
        lambda r: "no annotation record yet; it is left out of releases until annotated",
    ),
    Rule(
        "doc-missing",
        "error",
        lambda r: f"no document {r['doc_id']!r} in corpus/documents.jsonl",
    ),
    Rule("annotation-stale", "error", _stale),
    Rule(
        "status-invalid",
        "error",
        lambda r: f"status {r['status']!r} must be one of {', '.join(STATUSES)}",
    ),
    Rule("timestamp-invalid", "error", _timestamp),
    Rule(
        "annotator-duplicate",
        "error",
        lambda r: (
            f"{r['annotator']} already has a {r['status']} record for this document at "
            f"{r['same_annotator_at']}; keep one"
        ),
    ),
    Rule(
        "annotator-email",
        "error",
        lambda r: (
            f"annotator {r['annotator']!r} looks like an e-mail address; records carry "
            "pseudonyms only (annotator-01, …): `kinews ls pull` maps e-mails to pseudonyms in "
            "the ignored .kinews-local/annotators.json"
        ),
    ),
    Rule(
        "gold-open-items",
        "warning",
        lambda r: (
            f"{r['open']} open adjudication item(s): the document's gold record lacks the spans "
            "still in dispute; resolve them (set `accept`) and re-run `kinews adjudicate`"
        ),
    ),
    Rule(
        "needs-adjudication",
        "warning",
        lambda r: (
            f"{r['submitted']} submitted records and no gold record for this document; "
            "adjudicate them before a release"
        ),
    ),
    Rule(
        "label-unknown",
        "error",
        lambda r: f"label {r['label']!r} is not in schemas/labels.yaml",
    ),
    Rule("span-empty", "error", lambda r: "start must be smaller than end"),
    Rule(
        "span-out-of-bounds",
        "error",
        lambda r: f"offsets outside the document text (0-{r['doc_length']})",
    ),
    Rule(
        "span-text-mismatch",
        "error",
        lambda r: f"span text does not match the document, which has {r['actual']!r} there",
    ),
    Rule(
        "span-overlap",
        "error",
        lambda r: "overlaps an earlier span of the same record; spans are flat",
    ),
    Rule(
        "span-duplicate",
        "error",
        lambda r: "the same span (offsets and label) appears twice in this record; keep one",
    ),
    Rule(
        "span-whitespace",
        "error",
        lambda r: "span starts or ends with whitespace; move the offsets onto the word",
    ),
    Rule(
        "span-partial-word",
        "warning",
        lambda r: (
            f"span edge falls inside the word {r['word']!r}; annotate whole words "
            f"({r['guidelines']}) unless the entity really is part of the word"
        ),
    ),
    Rule(
        "span-partial-grapheme",
        "warning",
        lambda r: (
            f"span edge cuts the character {r['grapheme']!r} in two (one grapheme cluster: an "
            "emoji sequence, a flag, a letter with its combining mark); move the edge to "
            "include or exclude all of it"
        ),
    ),
    Rule(
        "span-crosses-paragraph",
        "warning",
        lambda r: "span crosses a line break between paragraphs; entities do not",
    ),
    Rule(
        "span-too-long",
        "warning",
        lambda r: (
            f"{r['end'] - r['start']} characters, longer than max_length {r['max_length']} of "
            f"{r['label']} in schemas/labels.yaml; usually a boundary mistake"
        ),
    ),
    Rule(
        "label-unused",
        "warning",
        lambda r: f"no span in any annotation has the label {r['label']}",
    ),
)
RULES: dict[str, Rule] = {rule.code: rule for rule in _ALL}


# Field-level pandera checks (str_matches, isin) named by table and column.
COLUMN_RULES = {
    ("documents", "id"): "doc-id-invalid",
    ("documents", "language"): "doc-language-invalid",
    ("records", "status"): "status-invalid",
    ("spans", "label"): "label-unknown",
}


def document_problems(doc: Document, file: str, line: int | None) -> list[Problem]:
    """The validator's problems of one document judged on its own (what `kinews ingest` checks
    at the door, so that it never writes what `kinews validate` refuses): its fields' types
    (the strict reader's `field-type`), its id, language and text."""
    # A .txt article has no line: its problems are located by the file alone.
    problems = [replace(p, line=line) for p in read_document(to_json(doc), file, 0)[1]]
    failing = []
    if not isinstance(doc.id, str) or not ID_PATTERN.fullmatch(doc.id):
        failing.append("doc-id-invalid")
    if isinstance(doc.language, str) and not re.fullmatch(LANGUAGE_PATTERN, doc.language):
        failing.append("doc-language-invalid")
    if isinstance(doc.text, str):
        if not doc.text.strip():
            failing.append("doc-text-empty")
        if "\r" in doc.text or not unicodedata.is_normalized("NFC", doc.text):
            failing.append("doc-text-not-normalised")
        if re.search(CONTROL, doc.text):
            failing.append("doc-text-control-char")
    row = {"language": doc.language}
    # An invalid id is shown quoted: a newline in it must not break the report's line.
    doc_id = json.dumps(doc.id, ensure_ascii=False) if "doc-id-invalid" in failing else doc.id
    for code in failing:
        rule = RULES[code]
        problems.append(Problem(file, line, doc_id, None, code, rule.message(row), rule.severity))
    return problems
