"""Which record of a document a release carries: its gold record, else its only submitted one."""

from __future__ import annotations

from collections.abc import Sequence

from kinews.errors import KinewsError, Problem
from kinews.records import Annotation, Document, LocatedAnnotation


def released_index(statuses: Sequence[str]) -> int | None:
    """Which of a document's records (by their statuses, in file order) it is released with:
    its gold record, else its only submitted one; None when it is not released. -1 when the
    records leave it to a person (several gold records, or several submitted and no gold): then
    `select_release_annotations` says why."""
    gold = [i for i, status in enumerate(statuses) if status == "gold"]
    submitted = [i for i, status in enumerate(statuses) if status == "submitted"]
    if len(gold) > 1 or (not gold and len(submitted) > 1):
        return -1
    if gold:
        return gold[0]
    return submitted[0] if submitted else None


def select_release_annotations(
    docs: list[Document], records: list[LocatedAnnotation]
) -> dict[str, Annotation]:
    """The record each document is released with: its gold record, else its only submitted one.

    Raises KinewsError naming documents with several submitted records and no gold
    ("needs adjudication"), or with more than one gold record.
    """
    by_doc: dict[str, list[LocatedAnnotation]] = {}
    for record in records:
        by_doc.setdefault(record.ann.doc_id, []).append(record)
    chosen: dict[str, Annotation] = {}
    problems: list[Problem] = []
    for doc in docs:
        candidates = by_doc.get(doc.id, [])
        index = released_index([r.ann.status for r in candidates])
        if index is not None and index >= 0:
            chosen[doc.id] = candidates[index].ann
            continue
        gold = [r for r in candidates if r.ann.status == "gold"]
        submitted = [r for r in candidates if r.ann.status == "submitted"]
        if len(gold) > 1:
            problems += [
                Problem(
                    r.file,
                    r.line,
                    doc.id,
                    None,
                    "gold-duplicate",
                    f"{len(gold)} gold records for one document; keep one",
                )
                for r in gold
            ]
        elif len(submitted) > 1:
            annotators = ", ".join(sorted(r.ann.annotator for r in submitted))
            problems.append(
                Problem(
                    submitted[0].file,
                    submitted[0].line,
                    doc.id,
                    None,
                    "needs-adjudication",
                    f"{len(submitted)} submitted records ({annotators}) and no "
                    f"gold record; adjudicate before releasing",
                )
            )
    if problems:
        raise KinewsError(problems)
    return chosen
