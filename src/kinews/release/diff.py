"""Span-aware diff of two releases: what changed for a researcher, per split and label.

Each release is read from its own `documents` Parquet files, with label names from the ClassLabel
stored in that release's schema metadata: two releases may have different label lists, so ids
are never compared, only names. Documents are matched by id. When a document's text changed, its
old spans are carried onto the new text through the unchanged stretches (difflib): a span whose
own characters were edited cannot be carried and counts as removed (its successor as added).
Spans are then compared in this order: same offsets and label (unchanged), same offsets and
another label (relabelled), same label and overlapping (boundary-shifted), the rest (removed,
added). A span change counts under the document's split in the new release (the old one for
removed documents) and under its new label (its old label when removed).
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from datasets import Features

from kinews.errors import KinewsError
from kinews.records import Span
from kinews.release.folder import documents_shards, release_version, shard_split
from kinews.release.splits import SPLITS

DOCUMENT_KINDS = ("added", "removed", "changed", "moved")
SPAN_KINDS = ("added", "removed", "relabelled", "boundary-shifted")


@dataclass(frozen=True)
class ReleasedDocument:
    id: str
    split: str
    text: str
    spans: tuple[Span, ...]  # labels as names, sorted


@dataclass(frozen=True)
class ReleaseContents:
    version: str
    labels: tuple[str, ...]
    documents: dict[str, ReleasedDocument]  # by id

    @property
    def span_count(self) -> int:
        return sum(len(d.spans) for d in self.documents.values())


@dataclass(frozen=True)
class DocumentChange:
    doc_id: str
    kind: str  # one of DOCUMENT_KINDS
    split: str  # new split; the old one for a removed document
    old_split: str | None


@dataclass(frozen=True)
class SpanChange:
    doc_id: str
    split: str
    kind: str  # one of SPAN_KINDS
    old: Span | None  # in the old text's offsets
    new: Span | None

    @property
    def label(self) -> str:
        span = self.new or self.old
        assert span is not None  # every span change has an old or a new span
        return span.label


@dataclass(frozen=True)
class ReleaseDiff:
    old: ReleaseContents
    new: ReleaseContents
    documents: tuple[DocumentChange, ...]
    spans: tuple[SpanChange, ...]

    @property
    def splits(self) -> list[str]:
        present = {d.split for r in (self.old, self.new) for d in r.documents.values()}
        return [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))

    @property
    def labels(self) -> list[str]:
        return list(self.new.labels) + [x for x in self.old.labels if x not in self.new.labels]

    def document_totals(self) -> Counter[str]:
        return Counter(c.kind for c in self.documents)

    def span_totals(self) -> Counter[str]:
        return Counter(c.kind for c in self.spans)

    def document_counts(self) -> dict[str, Counter[str]]:
        """Per split: how many documents were added, removed, changed, moved into it."""
        counts: dict[str, Counter[str]] = {split: Counter() for split in self.splits}
        for change in self.documents:
            counts[change.split][change.kind] += 1
        return counts

    def span_counts(self) -> dict[tuple[str, str], Counter[str]]:
        """Per (split, label) with any change: span changes by kind, in split and label order."""
        counts: dict[tuple[str, str], Counter[str]] = {}
        for split in self.splits:
            for label in self.labels:
                found = Counter(c.kind for c in self.spans if (c.split, c.label) == (split, label))
                if found:
                    counts[split, label] = found
        return counts

    def summary_lines(self) -> list[str]:
        """Plain sentences for a changelog entry (no Markdown list markers), totals first."""
        docs, spans = self.document_totals(), self.span_totals()
        if not docs and not spans:
            return ["No document or span changed."]
        lines = [
            f"Documents: {docs['added']} added, {docs['removed']} removed, {docs['changed']} with "
            f"changed text ({len(self.old.documents)} → {len(self.new.documents)}).",
            f"Spans: {spans['added']} added, {spans['removed']} removed, {spans['relabelled']} "
            f"relabelled, {spans['boundary-shifted']} boundary-shifted "
            f"({self.old.span_count} → {self.new.span_count}).",
        ]
        for label in self.labels:
            found = Counter(c.kind for c in self.spans if c.label == label)
            if found:
                lines.append(f"{label}: " + ", ".join(f"{n} {k}" for k, n in _ordered(found)) + ".")
        lines += [
            f"Document {c.doc_id} moved from {c.old_split} to {c.split}."
            for c in self.documents
            if c.kind == "moved"
        ]
        return lines

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON-ready data: versions and totals first, then tables, then changes."""
        return {
            "old": _release_json(self.old),
            "new": _release_json(self.new),
            "totals": {
                "documents": {k: self.document_totals()[k] for k in DOCUMENT_KINDS},
                "spans": {_key(k): self.span_totals()[k] for k in SPAN_KINDS},
            },
            "documents": [
                {"split": split, **{k: found[k] for k in DOCUMENT_KINDS}}
                for split, found in self.document_counts().items()
            ],
            "spans": [
                {"split": split, "label": label, **{_key(k): found[k] for k in SPAN_KINDS}}
                for (split, label), found in self.span_counts().items()
            ],
            "changes": [_change_json(c) for c in self.changes()],
        }

    def changes(self) -> list[DocumentChange | SpanChange]:
        """Every change, by split, document and offset; a document's own change first."""
        order = {split: index for index, split in enumerate(self.splits)}

        def key(change: DocumentChange | SpanChange) -> tuple[int, str, int, int]:
            if isinstance(change, DocumentChange):
                return (order[change.split], change.doc_id, -1, 0)
            span = change.old or change.new
            assert span is not None  # every span change has an old or a new span
            return (order[change.split], change.doc_id, span.start, span.end)

        listed_spans = [c for c in self.spans if c.doc_id not in self._whole_documents()]
        return sorted([*self.documents, *listed_spans], key=key)

    def _whole_documents(self) -> set[str]:
        # The spans of added and removed documents are counted, not listed one by one.
        return {c.doc_id for c in self.documents if c.kind in ("added", "removed")}


def read_release(path: Path) -> ReleaseContents:
    """Read the `documents` config of a release folder. Raises KinewsError (`release-invalid`)."""
    files = documents_shards(path)
    if not files:
        raise KinewsError.single(
            "release-invalid",
            "not a kinews release: no data/documents/*.parquet",
            file=str(path),
        )
    labels: tuple[str, ...] | None = None
    documents: dict[str, ReleasedDocument] = {}
    for file in files:
        split = shard_split(file)
        label_names = _label_names(file)
        if split is None or label_names is None or (labels and label_names != labels):
            raise KinewsError.single(
                "release-invalid",
                "not a documents file of a kinews release (file name, or ClassLabel names in the "
                "Parquet schema metadata missing or different from the other splits)",
                file=str(file),
            )
        labels = label_names
        for row in pq.read_table(file, columns=["id", "text", "spans"]).to_pylist():
            spans = tuple(
                sorted(
                    Span(s["start"], s["end"], label_names[s["label"]], s["text"])
                    for s in row["spans"]
                )
            )
            documents[row["id"]] = ReleasedDocument(row["id"], split, row["text"], spans)
    try:
        version = release_version(path)
    except KinewsError:
        version = path.name  # e.g. a build's staging folder before its card is written
    return ReleaseContents(version, labels or (), documents)


def diff_releases(old: Path, new: Path) -> ReleaseDiff:
    """Compare two release folders span by span. Raises KinewsError (`release-invalid`)."""
    return compare(read_release(old), read_release(new))


def compare(old: ReleaseContents, new: ReleaseContents) -> ReleaseDiff:
    """The diff between two read releases."""
    documents: list[DocumentChange] = []
    spans: list[SpanChange] = []
    for doc_id in sorted(old.documents.keys() | new.documents.keys()):
        before, after = old.documents.get(doc_id), new.documents.get(doc_id)
        if before is None:
            assert after is not None
            documents.append(DocumentChange(doc_id, "added", after.split, None))
            spans += [SpanChange(doc_id, after.split, "added", None, s) for s in after.spans]
        elif after is None:
            documents.append(DocumentChange(doc_id, "removed", before.split, before.split))
            spans += [SpanChange(doc_id, before.split, "removed", s, None) for s in before.spans]
        else:
            if after.split != before.split:
                documents.append(DocumentChange(doc_id, "moved", after.split, before.split))
            if after.text != before.text:
                documents.append(DocumentChange(doc_id, "changed", after.split, before.split))
            spans += compare_spans(before, after)
    return ReleaseDiff(old, new, tuple(documents), tuple(spans))


def compare_spans(before: ReleasedDocument, after: ReleasedDocument) -> list[SpanChange]:
    """Span changes within one document (see the module docstring for the matching order)."""
    carry = _carrier(before.text, after.text)
    # old span -> its offsets in the new text, or None when its characters were edited
    carried = {s: carry(s.start, s.end) for s in before.spans}
    old_left = [s for s in before.spans if carried[s] is not None]
    new_left = list(after.spans)
    changes: list[SpanChange] = []

    def take(match: Any, kind: str | None) -> None:
        for old_span in list(old_left):
            new_span = next((n for n in new_left if match(carried[old_span], old_span, n)), None)
            if new_span is not None:
                old_left.remove(old_span)
                new_left.remove(new_span)
                if kind:
                    changes.append(SpanChange(after.id, after.split, kind, old_span, new_span))

    take(lambda at, o, n: at == (n.start, n.end) and o.label == n.label, None)
    take(lambda at, o, n: at == (n.start, n.end), "relabelled")
    take(
        lambda at, o, n: o.label == n.label and at[0] < n.end and n.start < at[1],
        "boundary-shifted",
    )
    removed = [s for s in before.spans if s in old_left or carried[s] is None]
    changes += [SpanChange(after.id, after.split, "removed", s, None) for s in removed]
    changes += [SpanChange(after.id, after.split, "added", None, s) for s in new_left]
    return changes


def _carrier(old: str, new: str) -> Any:
    """A function mapping an old span (start, end) to new offsets, or None if it was edited."""
    if old == new:
        return lambda start, end: (start, end)
    blocks = difflib.SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks()

    def carry(start: int, end: int) -> tuple[int, int] | None:
        for a, b, size in blocks:
            if a <= start and end <= a + size:
                return (start - a + b, end - a + b)
        return None

    return carry


def _label_names(file: Path) -> tuple[str, ...] | None:
    try:
        features = Features.from_arrow_schema(pq.read_schema(file))
        return tuple(features["spans"].feature["label"].names)
    except (KeyError, AttributeError, TypeError, ValueError):
        return None


def _ordered(found: Counter[str]) -> list[tuple[str, int]]:
    return [(k, found[k]) for k in SPAN_KINDS if found[k]]


def _key(kind: str) -> str:
    return kind.replace("-", "_")


def _release_json(release: ReleaseContents) -> dict[str, Any]:
    return {
        "version": release.version,
        "documents": len(release.documents),
        "spans": release.span_count,
        "labels": list(release.labels),
    }


def _span_json(span: Span | None) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"start": span.start, "end": span.end, "label": span.label, "text": span.text}


def _change_json(change: DocumentChange | SpanChange) -> dict[str, Any]:
    if isinstance(change, DocumentChange):
        return {
            "split": change.split,
            "doc_id": change.doc_id,
            "change": f"document-{change.kind}",
            "old_split": change.old_split,
        }
    return {
        "split": change.split,
        "doc_id": change.doc_id,
        "change": f"span-{change.kind}",
        "old": _span_json(change.old),
        "new": _span_json(change.new),
    }
