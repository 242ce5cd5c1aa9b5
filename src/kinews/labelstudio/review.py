"""Review: documents with open adjudication items go back into Label Studio for a reviewer.

Each annotator's reading of a disputed document becomes one prediction on its task, so the
reviewer compares whole readings and starts the deciding annotation from the closest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError
from kinews.labelstudio import export as labelstudio
from kinews.labelstudio.sessions import open_project, server_call
from kinews.records import Document, Span
from kinews.root import GOLD_FILE, load_annotations, load_documents
from kinews.worklist import Item, count_open, read_worklist

REVIEW_VERSION = "kinews-review "  # + the annotator's pseudonym: the name of the prediction's tab


@dataclass(frozen=True)
class ReviewReport:
    project_id: int
    project_created: bool
    config_updated: bool
    documents: tuple[str, ...]  # documents with open worklist items that got review predictions
    open_items: int  # open items of those documents
    added: tuple[str, ...]  # of those, documents that had no task yet
    attached: int  # predictions sent
    replaced: int  # review predictions of an older worklist removed
    up_to_date: tuple[str, ...]  # documents whose task already carried exactly these predictions
    skipped: tuple[tuple[str, str], ...]  # (doc_id, reason): nothing sent for these


def review_predictions(
    doc: Document, items: list[Item], gold: tuple[Span, ...]
) -> list[dict[str, Any]]:
    """One prediction per annotator of a document's open worklist items, in the labelling config.

    Each holds the gold spans outside the disputed regions plus, inside them, exactly the
    candidates that annotator proposed (nothing where they proposed "no entity"); its
    `model_version` is `kinews-review <pseudonym>`. So every candidate shows up, and a reviewer
    in Label Studio flips between the annotators' tabs to compare whole readings, and can start
    a new annotation from the closest one, fix the regions and mark it ground truth, which
    `kinews adjudicate` then takes as the gold. One prediction per candidate would instead give
    a tab per span, none of them a reading to start from. Span texts come from `doc`.

    Raises KinewsError (`ls-review-email`) for an annotator named by an e-mail address.
    """
    regions = [(item.start, item.end) for item in items if item.accept is None]

    def disputed(span: Span) -> bool:
        return any(span.start < end and start < span.end for start, end in regions)

    proposed: dict[str, list[Span]] = {}
    for item in items:
        if item.accept is not None:
            continue
        for candidate in item.candidates:
            for name in candidate.proposed_by:
                spans = proposed.setdefault(name, [])
                if candidate.span is not None:
                    s = candidate.span
                    spans.append(Span(s.start, s.end, s.label, doc.text[s.start : s.end]))
    emails = sorted(name for name in proposed if "@" in name)
    if emails:
        raise KinewsError.single(
            "ls-review-email",
            f"{len(emails)} annotator(s) of the worklist are named by e-mail; review tasks "
            "carry pseudonyms only (pull them through `kinews ls pull` or `ls import`)",
            doc_id=doc.id,
        )
    agreed = [s for s in gold if not disputed(s)]
    return [
        labelstudio.prediction(sorted(agreed + spans), REVIEW_VERSION + name)
        for name, spans in sorted(proposed.items())
    ]


def _prediction_key(prediction: dict[str, Any]) -> tuple[Any, ...]:
    regions = sorted(
        (value.get("start"), value.get("end"), tuple(value.get("labels") or ()))
        for result in prediction.get("result") or ()
        for value in [result.get("value") or {}]
    )
    return prediction.get("model_version"), tuple(regions)


def push_review(client: Any, root: Path, title: str) -> ReviewReport:
    """Attach every annotator's reading of the open worklist items to the documents' tasks.

    Same project as `push`: a document's task is looked up by `data.doc_id` and gets the
    predictions of `review_predictions`; a document without a task is imported with them. Review
    predictions already on a task are not sent again; ones of an older worklist are removed.
    Documents without open items are not touched. Raises KinewsError when the worklist or the
    records are malformed, on an annotator named by e-mail, or on a server error.
    """
    worklist = read_worklist(root)
    counts = count_open(worklist)
    docs = {d.doc.id: d.doc for d in load_documents(root)}
    items: dict[str, list[Item]] = {}
    for item in worklist:
        items.setdefault(item.doc_id, []).append(item)
    gold = {
        r.ann.doc_id: r.ann.spans
        for r in load_annotations(root)
        if r.file == str(GOLD_FILE) and r.ann.status == "gold"
    }
    skipped: list[tuple[str, str]] = []
    wanted: dict[str, list[dict[str, Any]]] = {}
    for doc_id in sorted(counts):
        doc = docs.get(doc_id)
        if doc is None or any(i.doc_sha256 != doc.sha256 for i in items[doc_id]):
            skipped.append((doc_id, "the worklist is older than the document: re-run adjudicate"))
            continue
        wanted[doc_id] = review_predictions(doc, items[doc_id], gold.get(doc_id, ()))
    project, created, config_updated, by_doc = open_project(client, root, title)
    added, up_to_date, documents = [], [], []
    attached = replaced = 0
    for doc_id, predictions in wanted.items():
        doc, task = docs[doc_id], by_doc.get(doc_id)
        if task is None:
            payload = [{"data": labelstudio.document_task(doc), "predictions": predictions}]
            with server_call(f"importing the task of {doc_id}"):
                client.sdk.projects.import_tasks(project.id, request=payload, return_task_ids=True)
            added.append(doc_id)
            documents.append(doc_id)
            attached += len(predictions)
            continue
        if task["data"].get("text") != doc.text:
            skipped.append((doc_id, "its task has an older text: push --update-changed first"))
            continue
        documents.append(doc_id)
        keys = {_prediction_key(p) for p in predictions}
        ours = [
            p
            for p in task.get("predictions") or ()
            if str(p.get("model_version") or "").startswith(REVIEW_VERSION)
        ]
        present = {_prediction_key(p) for p in ours}
        outdated = [p for p in ours if _prediction_key(p) not in keys]
        for old in outdated:
            with server_call(f"removing an outdated review prediction of {doc_id}"):
                client.sdk.predictions.delete(id=old["id"])
        missing = [p for p in predictions if _prediction_key(p) not in present]
        for prediction in missing:
            with server_call(f"adding a review prediction to the task of {doc_id}"):
                client.sdk.predictions.create(task=task["id"], **prediction)
        attached += len(missing)
        replaced += len(outdated)
        if not missing and not outdated:
            up_to_date.append(doc_id)
    return ReviewReport(
        project.id,
        created,
        config_updated,
        tuple(documents),
        sum(counts[d] for d in documents),
        tuple(added),
        attached,
        replaced,
        tuple(up_to_date),
        tuple(sorted(skipped)),
    )
