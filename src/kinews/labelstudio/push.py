"""`kinews ls push`: one Label Studio task per corpus document, sent to a project once.

A push gets or creates the project (kinews.labelstudio.sessions.open_project, which also keeps
the labelling config in step with the scheme), compares the corpus' ids and text hashes with
the project's tasks, and imports only the new documents, in batches; a changed text is
reported, and its task updated only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinews.labelstudio import export as labelstudio
from kinews.labelstudio.corpus import corpus_texts
from kinews.labelstudio.gazetteer import build_gazetteer, match_gazetteer
from kinews.labelstudio.server import (
    Connection,
    export_tasks,
    server_call,
)
from kinews.labelstudio.sessions import Progress, open_project
from kinews.labelstudio.taskindex import text_sha256
from kinews.records import Document
from kinews.root import (
    load_annotations,
    load_documents,
)

BATCH = 500  # tasks per import call


@dataclass(frozen=True)
class PushReport:
    project_id: int
    project_created: bool
    config_updated: bool
    added: tuple[str, ...]
    changed: tuple[str, ...]  # text differs from the task's
    updated: tuple[str, ...]  # of those, tasks updated (--update-changed)
    annotated_before: tuple[str, ...]  # updated tasks that hold annotations of the old text
    unchanged: int
    predictions: int
    model_version: str | None


def push(
    client: Connection,
    root: Path,
    title: str,
    *,
    predictions: bool = False,
    update_changed: bool = False,
    progress: Progress | None = None,
) -> PushReport:
    """Get or create the project, update its config, import one task per new document.

    Raises KinewsError when a label still used by annotations would be removed, or on a
    server error.
    """
    # With nothing to send, ids and text hashes are all a push compares: the corpus is parsed in
    # full (every line checked) only when there is something to send, or predictions to make.
    texts = None if predictions else corpus_texts(root)
    docs = [d.doc for d in load_documents(root)] if texts is None else None
    project, created, config_updated, by_doc = open_project(
        client, root, title, full=predictions, progress=progress
    )
    if texts is None:
        texts = [(d.id, _sha(d.text)) for d in docs or ()]
    new_ids = {i for i, _ in texts if i not in by_doc}
    changed_ids = {i for i, sha in texts if i in by_doc and _text_sha256(by_doc[i]) != sha}
    if docs is None:
        docs = [d.doc for d in load_documents(root)] if new_ids or changed_ids else []
    gazetteer = build_gazetteer(r.ann for r in load_annotations(root)) if predictions else None

    def predict(doc: Document) -> list[dict[str, Any]]:
        if gazetteer is None:
            return []
        spans = match_gazetteer(doc.text, gazetteer)
        return [labelstudio.prediction(spans, gazetteer.version)] if spans else []

    new = [d for d in docs if d.id in new_ids]
    changed = [d for d in docs if d.id in changed_ids]
    updated: list[str] = []
    annotated_before: list[str] = []
    if update_changed and changed:
        annotated = {
            task.id
            for task in export_tasks(client, project.id, ids=[by_doc[d.id]["id"] for d in changed])
            if task.annotations
        }
        for doc in changed:
            with server_call(f"updating the task of {doc.id}"):
                client.sdk.tasks.update(
                    str(by_doc[doc.id]["id"]), data=labelstudio.document_task(doc)
                )
            updated.append(doc.id)
            if by_doc[doc.id]["id"] in annotated:
                annotated_before.append(doc.id)
    count = 0
    for offset in range(0, len(new), BATCH):
        batch = new[offset : offset + BATCH]
        payload = [{"data": labelstudio.document_task(d), "predictions": predict(d)} for d in batch]
        with server_call("importing tasks"):
            client.sdk.projects.import_tasks(project.id, request=payload, return_task_ids=True)
        count += sum(len(p["predictions"]) for p in payload)
        if progress:
            progress("importing tasks", offset + len(batch), len(new))
    if gazetteer is not None:
        for doc in docs:
            existing = by_doc.get(doc.id)
            versions = {p.get("model_version") for p in (existing or {}).get("predictions") or ()}
            if existing is None or gazetteer.version in versions:
                continue
            for pred in predict(doc):
                with server_call(f"adding a prediction to the task of {doc.id}"):
                    client.sdk.predictions.create(task=existing["id"], **pred)
                count += 1
    return PushReport(
        project.id,
        created,
        config_updated,
        tuple(d.id for d in new),
        tuple(d.id for d in changed),
        tuple(updated),
        tuple(annotated_before),
        len(texts) - len(new) - len(changed),
        count,
        gazetteer.version if gazetteer else None,
    )


def _text_sha256(task: dict[str, Any]) -> str:
    return str(task.get("text_sha256") or text_sha256(task.get("data")))


def _sha(text: str) -> str:
    return text_sha256({"text": text})
