"""Several annotators' records → one `gold` record per document, and a worklist of disagreements.

For a document with two or more annotators (and no hand-made gold record), a span goes into gold
when at least K annotators marked exactly it (same start, end and label) and no other span that
reached K overlaps it. Spans overlapping each other form regions; a region holding any span that
did not make it is a disagreement and becomes one worklist item listing every candidate with who
proposed it. Candidate 0 is always "no entity here", proposed by the annotators who marked nothing
in the region. A record marked `ground_truth` (Label Studio's flag) wins outright: its spans are
the gold, and the document gets no worklist items.

The worklist is `annotations/adjudication/worklist.jsonl`, in a sub-folder because every
`annotations/*.jsonl` is read as annotation records. An item is resolved by setting its `accept`
to a list of candidate indices (`[0]`: no entity). A re-run keeps a resolution as long as the
item's candidates are the same; when the annotations change there, the item reopens (reported).
Resolving by editing the gold record instead works too: a record whose spans differ from what
adjudication wrote (`origin.spans_sha256`) is kept as it is from then on, with no open items;
delete its line to have the document adjudicated again.

Output is deterministic: sorted lines, timestamps kept unless a record's content changes, so a
re-run with unchanged inputs rewrites nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kinews.adjudication.agreement import layers_by_document
from kinews.adjudication.document import Adjudication, adjudicate_document
from kinews.errors import KinewsError, Problem
from kinews.files import write_atomic
from kinews.lock import root_lock
from kinews.records import Annotation, Document, Span, dumps
from kinews.root import GOLD_FILE, WORKLIST_FILE
from kinews.validate import load_valid
from kinews.worklist import Item, item_to_json, read_worklist_lines

TOOL = "kinews-adjudicate"
ADJUDICATOR = "adjudication"  # the `annotator` of adjudicated gold records


@dataclass(frozen=True)
class AdjudicationReport:
    documents: tuple[str, ...]  # documents with an adjudicated gold record
    spans: int  # spans in those records
    open_items: int
    resolved_items: int
    kept_edited: tuple[str, ...]  # gold records edited by hand, kept as they are
    skipped: tuple[str, ...]  # documents with a hand-made gold record elsewhere
    reopened: tuple[str, ...]  # "doc_id start-end": resolutions whose candidates changed
    removed: tuple[str, ...]  # generated records dropped: too few annotators or hand-made gold
    changed: bool  # whether a file was (re)written


# --- the dataset root -------------------------------------------------------------------------


def adjudicate(root: Path, min_agree: int = 2, now: str | None = None) -> AdjudicationReport:
    """Write the adjudicated gold records and the worklist for every document with two or more
    annotators; `now` (ISO 8601) stamps records whose content changes.

    Raises KinewsError when the root does not validate, an annotator has two submitted records
    for a document, ground-truth records conflict or the worklist is malformed; then nothing is
    written.
    """
    if min_agree < 1:
        raise ValueError("min_agree must be at least 1")
    with root_lock(root, "adjudicate"):
        return _adjudicate(root, min_agree, now or _utc_now())


def _adjudicate(root: Path, min_agree: int, now: str) -> AdjudicationReport:
    gold_name = str(GOLD_FILE)
    # A generated record goes stale when its document changes; it is regenerated below.
    checked = load_valid(
        root,
        lambda p: (
            p.severity == "error"
            and not (p.file == gold_name and p.code in ("annotation-stale", "doc-missing"))
        ),
    )
    records = checked.annotations
    documents = {d.doc.id: d.doc for d in checked.documents}
    layers = layers_by_document(r.ann for r in records)
    hand_made = {r.ann.doc_id for r in records if r.ann.status == "gold" and r.file != gold_name}
    previous = [r.ann for r in records if r.file == gold_name]
    kept = [ann for ann in previous if _edited(ann)]
    generated = {ann.doc_id: ann for ann in previous if not _edited(ann)}
    edited_docs = {ann.doc_id for ann in kept}
    old_lines = read_worklist_lines(root)
    old_items = [item for _, item in old_lines]
    resolutions = _resolutions(old_lines)

    written: list[Annotation] = [_mark_edited(ann) for ann in kept]
    items: list[Item] = []
    skipped = []
    for doc_id, by_annotator in layers.items():
        if doc_id in hand_made:
            skipped.append(doc_id)
            continue
        if doc_id in edited_docs:
            continue
        result = adjudicate_document(documents[doc_id], by_annotator, min_agree, resolutions)
        items += result.items
        written.append(
            _gold_record(documents[doc_id], result, min_agree, generated.get(doc_id), now)
        )
    items = _keep_comments(items, old_items)
    used = {item.key() for item in items}
    adjudicated = {ann.doc_id for ann in written} - edited_docs
    reopened = [
        f"{item.doc_id} {item.start}-{item.end}"
        for item in old_items
        if item.accept is not None and item.doc_id in adjudicated and item.key() not in used
    ]
    _refuse_orphans(old_lines, items, adjudicated, edited_docs)
    written.sort(key=lambda ann: ann.doc_id)
    changed = _write_if_changed(root / GOLD_FILE, "".join(dumps(a) + "\n" for a in written))
    lines = "".join(
        json.dumps(item_to_json(item), ensure_ascii=False) + "\n"
        for item in sorted(items, key=lambda i: (i.doc_id, i.start, i.end))
    )
    changed = _write_if_changed(root / WORKLIST_FILE, lines) or changed
    return AdjudicationReport(
        documents=tuple(sorted(adjudicated)),
        spans=sum(len(a.spans) for a in written if a.doc_id in adjudicated),
        open_items=sum(item.accept is None for item in items),
        resolved_items=sum(item.accept is not None for item in items),
        kept_edited=tuple(sorted(edited_docs)),
        skipped=tuple(skipped),
        reopened=tuple(reopened),
        removed=tuple(sorted(set(generated) - adjudicated)),
        changed=changed,
    )


def _resolutions(lines: list[tuple[int, Item]]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Item key -> accepted candidates. Raises KinewsError (`worklist-conflict`) when two items
    for one region with the same candidates say different things: neither may silently win."""
    first: dict[tuple[Any, ...], tuple[int, Item]] = {}
    problems = []
    for line, item in lines:
        seen = first.setdefault(item.key(), (line, item))
        if seen[1] is item:
            continue
        earlier_line, earlier = seen
        if (earlier.accept, earlier.comment) != (item.accept, item.comment):
            problems.append(
                Problem(
                    str(WORKLIST_FILE),
                    line,
                    item.doc_id,
                    None,
                    "worklist-conflict",
                    f"item {item.start}-{item.end} repeats line {earlier_line} with a different "
                    "`accept` or `comment`; keep one of the two lines",
                )
            )
    if problems:
        raise KinewsError(problems)
    return {key: item.accept for key, (_, item) in first.items() if item.accept is not None}


def _keep_comments(items: list[Item], old_items: list[Item]) -> list[Item]:
    """The new items with the comments written on the old ones: on the item with the same
    candidates, else (the candidates changed, the item reopens) on the same region."""
    by_key = {item.key(): item.comment for item in old_items if item.comment is not None}
    by_region = {
        (item.doc_id, item.start, item.end): item.comment
        for item in old_items
        if item.comment is not None
    }
    return [
        replace(
            item,
            comment=by_key.get(item.key(), by_region.get((item.doc_id, item.start, item.end))),
        )
        for item in items
    ]


def _refuse_orphans(
    old_lines: list[tuple[int, Item]],
    items: list[Item],
    adjudicated: set[str],
    edited_docs: set[str],
) -> None:
    """Raises KinewsError (`worklist-orphan`) for a resolved or commented item that this run
    would drop without a word: its document is not adjudicated (a mistyped `doc_id`, a document
    with a gold record of its own, or too few annotators now) and its comment has no new item."""
    regions = {(i.doc_id, i.start, i.end) for i in items if i.comment is not None}
    problems = [
        Problem(
            str(WORKLIST_FILE),
            line,
            item.doc_id,
            None,
            "worklist-orphan",
            f"item {item.start}-{item.end} is resolved or commented, but document "
            f"{item.doc_id!r} is not adjudicated (no such document, a gold record of its own, "
            "or fewer than two annotators); correct its doc_id or delete the line",
        )
        for line, item in old_lines
        if (item.accept is not None or item.comment is not None)
        and item.doc_id not in adjudicated
        and item.doc_id not in edited_docs
        and (item.doc_id, item.start, item.end) not in regions
    ]
    if problems:
        raise KinewsError(problems)


def _utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(spans: tuple[Span, ...]) -> str:
    canonical = json.dumps([[s.start, s.end, s.label] for s in spans])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _edited(ann: Annotation) -> bool:
    """Not (or no longer) what adjudication wrote: a person made or changed this record."""
    origin = ann.origin or {}
    return (
        origin.get("tool") != TOOL
        or bool(origin.get("edited"))
        or origin.get("spans_sha256") != _digest(ann.spans)
    )


def _mark_edited(ann: Annotation) -> Annotation:
    """An edited record of ours says so and has no open items; anything else stays verbatim."""
    if (ann.origin or {}).get("tool") != TOOL:
        return ann
    origin = {**(ann.origin or {}), "edited": True, "open_items": 0}
    return replace(ann, origin=origin)


def _gold_record(
    doc: Document, result: Adjudication, min_agree: int, old: Annotation | None, now: str
) -> Annotation:
    origin: dict[str, Any] = {
        "tool": TOOL,
        "min_agree": min_agree,
        "annotators": list(result.annotators),
        "agreed": result.agreed,
        "resolved": list(result.resolved),
        "open_items": sum(item.accept is None for item in result.items),
        "spans_sha256": _digest(result.spans),
    }
    if result.ground_truth:
        origin["ground_truth"] = list(result.ground_truth)
    if old is not None and old.origin == origin and old.spans == result.spans:
        return old
    return Annotation(
        doc.id,
        doc.sha256,
        ADJUDICATOR,
        "gold",
        old.created_at if old else now,
        now if old else None,
        origin,
        result.spans,
    )


def _write_if_changed(path: Path, content: str) -> bool:
    data = content.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    if not path.exists() and not data:
        return False
    write_atomic(path, data)
    return True
