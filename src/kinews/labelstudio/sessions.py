"""Annotation sessions: push corpus documents to a Label Studio project, pull annotations back.

The server is reached with the `label-studio-sdk` client; the URL and API key come only from the
environment. Annotators are recorded as pseudonyms (`annotator-01`, …); the e-mail → pseudonym map
stays in `.kinews-local/annotators.json`, an ignored file that never reaches `annotations/`.
Pulled records are written sorted and only when their bytes change, so pulling twice with nothing
changed on the server rewrites nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError, Problem
from kinews.files import check_output_file, scan_jsonl, write_atomic
from kinews.labelstudio import export as labelstudio
from kinews.labelstudio.gazetteer import build_gazetteer, match_gazetteer
from kinews.labelstudio.provenance import (
    Source,
    annotation_key,
    check_owner,
    known_annotations,
    pseudonym_clash,
    same_server,
    server_id,
)
from kinews.labelstudio.pseudonyms import Pseudonyms
from kinews.lock import root_lock
from kinews.records import Annotation, Document, annotation_from_json, dumps
from kinews.redact import server_text
from kinews.root import ANNOTATIONS_DIR, load_annotations, load_documents
from kinews.scheme import load_scheme

BATCH = 500
Progress = Callable[[int, int], None]  # (tasks done, tasks in total)


# --- The server ---------------------------------------------------------------------------------


def connect() -> Any:
    """A client for LABEL_STUDIO_URL with LABEL_STUDIO_API_KEY. Raises KinewsError if unset."""
    from label_studio_sdk import LabelStudio

    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not key:
        raise KinewsError.single(
            "ls-env-missing", "set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY in the environment"
        )
    return LabelStudio(base_url=url, api_key=key)


@contextmanager
def server_call(action: str) -> Iterator[None]:
    """Turn the client's errors into a located problem: the server's answer shortened (a wrong
    URL prefix answers with a whole HTML page) and any key or token in it redacted."""
    from label_studio_sdk.core.api_error import ApiError

    url = os.environ.get("LABEL_STUDIO_URL") or None
    try:
        yield
    except ApiError as err:
        raise KinewsError.single(
            "ls-server-error",
            f"{action}: HTTP {err.status_code}: {server_text(err.body)}",
            file=url,
        ) from None
    except OSError as err:  # httpx' connection errors are OSErrors underneath
        raise KinewsError.single(
            "ls-server-error", f"{action}: {server_text(err)}", file=url
        ) from None
    except Exception as err:
        if type(err).__module__.startswith(("httpx", "json", "pydantic")) or _raised_by_client(err):
            # not reachable, or an answer that is not the JSON Label Studio sends
            message = (
                f"{action}: the server's answer is not what Label Studio 1.23 sends "
                f"(is LABEL_STUDIO_URL a Label Studio?): {type(err).__name__}: {server_text(err)}"
            )
            raise KinewsError.single("ls-server-error", message, file=url) from None
        raise


def _raised_by_client(err: BaseException) -> bool:
    """Whether the error came from inside the client library (parsing what the server sent)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return str(module).startswith(("label_studio_sdk", "pydantic"))


def _json(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json") if hasattr(model, "model_dump") else dict(model)


def find_project(client: Any, title: str) -> Any | None:
    """The project with exactly this title. Raises KinewsError if several have it."""
    with server_call("listing projects"):
        found = [p for p in client.projects.list() if p.title == title]
    if len(found) > 1:
        ids = ", ".join(str(p.id) for p in found)
        raise KinewsError.single(
            "ls-project-ambiguous", f"several projects are titled {title!r} (ids {ids})"
        )
    return found[0] if found else None


def list_tasks(client: Any, project_id: int) -> list[dict[str, Any]]:
    """Every task of a project with its annotations, drafts and predictions, sorted by id.

    The task API lists only the drafts of the API key's owner; the project's JSON export has
    every user's, so the drafts come from there.
    """
    with server_call(f"listing the tasks of project {project_id}"):
        tasks = [_json(t) for t in client.tasks.list(project=project_id, fields="all")]
        export = client.projects.exports.download_sync(
            project_id, export_type="JSON", download_all_tasks=True
        )
        drafts = {task["id"]: task.get("drafts") for task in json.loads(b"".join(export))}
    for task in tasks:
        task["drafts"] = drafts.get(task["id"], task.get("drafts"))
    for task in tasks:  # the server's order varies; pseudonyms are assigned in this order
        for key in ("annotations", "drafts"):
            task[key] = sorted(task.get(key) or (), key=lambda a: a["id"])
    return sorted(tasks, key=lambda t: t["id"])


# --- Push ---------------------------------------------------------------------------------------


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
    client: Any,
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
    docs = [d.doc for d in load_documents(root)]
    project, created, config_updated, by_doc = open_project(client, root, title)
    gazetteer = build_gazetteer(r.ann for r in load_annotations(root)) if predictions else None

    def predict(doc: Document) -> list[dict[str, Any]]:
        if gazetteer is None:
            return []
        spans = match_gazetteer(doc.text, gazetteer)
        return [labelstudio.prediction(spans, gazetteer.version)] if spans else []

    new = [d for d in docs if d.id not in by_doc]
    changed = [d for d in docs if d.id in by_doc and by_doc[d.id]["data"].get("text") != d.text]
    updated: list[str] = []
    annotated_before: list[str] = []
    if update_changed:
        for doc in changed:
            with server_call(f"updating the task of {doc.id}"):
                client.tasks.update(str(by_doc[doc.id]["id"]), data=labelstudio.document_task(doc))
            updated.append(doc.id)
            if by_doc[doc.id].get("annotations"):
                annotated_before.append(doc.id)
    count = 0
    for offset in range(0, len(new), BATCH):
        batch = new[offset : offset + BATCH]
        payload = [{"data": labelstudio.document_task(d), "predictions": predict(d)} for d in batch]
        with server_call("importing tasks"):
            client.projects.import_tasks(project.id, request=payload, return_task_ids=True)
        count += sum(len(p["predictions"]) for p in payload)
        if progress:
            progress(offset + len(batch), len(new))
    if gazetteer is not None:
        for doc in docs:
            existing = by_doc.get(doc.id)
            versions = {p.get("model_version") for p in (existing or {}).get("predictions") or ()}
            if existing is None or gazetteer.version in versions:
                continue
            for pred in predict(doc):
                with server_call(f"adding a prediction to the task of {doc.id}"):
                    client.predictions.create(task=existing["id"], **pred)
                count += 1
    return PushReport(
        project.id,
        created,
        config_updated,
        tuple(d.id for d in new),
        tuple(d.id for d in changed),
        tuple(updated),
        tuple(annotated_before),
        len(docs) - len(new) - len(changed),
        count,
        gazetteer.version if gazetteer else None,
    )


def open_project(
    client: Any, root: Path, title: str
) -> tuple[Any, bool, bool, dict[str, dict[str, Any]]]:
    """Get or create the project, update its config; (project, created, config updated, tasks
    by doc_id)."""
    config = labelstudio.label_config(load_scheme(root))
    project, created, config_updated = find_project(client, title), False, False
    if project is None:
        with server_call("creating the project"):
            project = client.projects.create(title=title, label_config=config)
        created = True
    tasks = list_tasks(client, project.id)
    if not created and not labelstudio.same_config(project.label_config, config):
        _update_config(client, project, config, tasks)
        config_updated = True
    by_doc: dict[str, dict[str, Any]] = {}
    for task in tasks:
        by_doc.setdefault(str(task["data"].get("doc_id")), task)
    return project, created, config_updated, by_doc


def _update_config(client: Any, project: Any, config: str, tasks: list[dict[str, Any]]) -> None:
    removed = set(labelstudio.config_labels(project.label_config)) - set(
        labelstudio.config_labels(config)
    )
    uses = Counter(
        label
        for task in tasks
        for item in [*(task.get("annotations") or ()), *(task.get("drafts") or ())]
        for result in item.get("result") or ()
        if result.get("type") == "labels"
        for label in result.get("value", {}).get("labels") or ()
        if label in removed
    )
    if uses:
        raise KinewsError(
            Problem(
                f"project {project.id}",
                None,
                None,
                None,
                "ls-label-in-use",
                f"label {label!r} is no longer in the scheme but {n} annotation region(s) in "
                "the project use it; relabel them first (labels are never removed or renamed)",
            )
            for label, n in sorted(uses.items())
        )
    # projects.update would accept the removal silently; the validator refuses it.
    from label_studio_sdk.core.api_error import ApiError

    try:
        client.projects.validate_label_config(project.id, label_config=config)
    except ApiError as err:
        raise KinewsError.single(
            "ls-config-refused", f"Label Studio refuses the new config: {err.body}"
        ) from err
    with server_call("updating the labelling config"):
        client.projects.update(project.id, label_config=config)


# --- Pull and import ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PullReport:
    path: Path
    new: int
    updated: int
    unchanged: int
    deleted: tuple[str, ...]  # records whose annotation is gone from the server
    pruned: bool
    skipped: tuple[tuple[str, int], ...]  # (reason, count)
    written: bool
    elsewhere: tuple[tuple[str, str], ...] = ()  # (annotation, where its record already is)


def pull(
    client: Any,
    root: Path,
    title: str,
    *,
    drafts: bool = False,
    prune: bool = False,
    out: Path | None = None,
    server: str | None = None,
) -> PullReport:
    """Convert every annotation of the project into records in annotations/ls-<title>.jsonl.

    `server` is the URL the records name as their source (default: LABEL_STUDIO_URL).
    Raises KinewsError (nothing written) naming each task, annotation and span that does not
    fit, or (`ls-file-foreign`) when the file holds records of another project or server.
    """
    project = find_project(client, title)
    if project is None:
        raise KinewsError.single("ls-project-missing", f"no project titled {title!r}")
    with server_call("reading the server version and users"):
        version = client.versions.get().release
        emails = {u.id: u.email for u in client.users.list()}
    tasks = list_tasks(client, project.id)
    options = labelstudio.Options(drafts=drafts)
    url = server_id(server or os.environ.get("LABEL_STUDIO_URL", ""))
    origin = {"version": version, "server": url, "project": project.id}
    path = out or root / ANNOTATIONS_DIR / f"ls-{_slug(title)}.jsonl"
    check_output_file(path)
    owner = Source(server=url, project=project.id)
    with root_lock(root, "ls pull"):
        return _convert_and_write(
            root, tasks, origin, options, emails, path, prune, f"project {project.id}", owner
        )


def import_export(
    root: Path, export: Path, options: labelstudio.Options, out: Path | None = None
) -> PullReport:
    """Convert an export file of the Label Studio UI into records, as `pull` does.

    Raises KinewsError (nothing written) naming each task, annotation and span that does not
    fit, or (`ls-file-foreign`) when the file holds records of another export.
    """
    tasks = labelstudio.read_export(export)
    path = out or root / ANNOTATIONS_DIR / f"ls-import-{_slug(export.stem)}.jsonl"
    check_output_file(path)
    origin = {"version": None, "export": export.name}
    with root_lock(root, "ls import"):
        return _convert_and_write(
            root, tasks, origin, options, {}, path, False, str(export), Source(export=export.name)
        )


def _convert_and_write(
    root: Path,
    tasks: list[dict[str, Any]],
    origin: dict[str, Any],
    options: labelstudio.Options,
    emails: dict[int, str],
    path: Path,
    prune: bool,
    source: str,
    owner: Source,
) -> PullReport:
    scheme = load_scheme(root)
    docs = {d.doc.id: d.doc for d in load_documents(root)}
    pseudonyms = Pseudonyms.load(root)
    display = _display(root, path)
    old = _read_records(root, path)
    check_owner(list(old.values()), owner, display)
    known, annotators = known_annotations(root)
    pseudonyms.reserve(annotators)

    def identity(item: dict[str, Any]) -> str:
        user = item.get("completed_by", item.get("user"))
        if isinstance(user, dict):
            user = user.get("email") or user.get("id")
        if isinstance(user, int) and not isinstance(user, bool):
            user = emails.get(user, f"label-studio-user-{user}")
        return str(user) if user else "unknown"

    conversion = labelstudio.convert_tasks(tasks, docs, scheme, identity, origin, options, source)
    # The same annotation already in the root (pulled, or imported from another export) keeps
    # its record there, and its annotator the pseudonym that record names.
    elsewhere: list[tuple[str, str]] = []
    converted: list[Annotation] = []
    clashes = []
    for record in conversion.records:
        same = [k for k in known.get(annotation_key(record), ()) if same_server(k.record, owner)]
        for k in same:
            mapped = pseudonyms.mapping.get(record.annotator)
            if mapped is not None and mapped != k.record.annotator:
                clashes.append(pseudonym_clash(mapped, k))
            pseudonyms.adopt(record.annotator, k.record.annotator)
        other = next((k for k in same if k.file != display), None)
        if other is not None:
            elsewhere.append((_describe(record), f"already in {other.file}:{other.line}"))
            continue
        converted.append(replace(record, annotator=pseudonyms.assign(record.annotator)))
    if clashes:
        raise KinewsError(clashes)
    fresh = {_key(r): r for r in converted}
    kept = {k: r for k, r in old.items() if k not in fresh}
    deleted = tuple(sorted(_describe(r) for r in kept.values()))
    merged = list(fresh.values()) + ([] if prune else list(kept.values()))
    content = "".join(dumps(r) + "\n" for r in sorted(merged, key=_order)).encode("utf-8")
    pseudonyms.save()  # before the records, so no record names a pseudonym the map lacks
    # No file for a project without records yet; otherwise only when its bytes change.
    written = path.read_bytes() != content if path.exists() else bool(merged)
    if written:
        write_atomic(path, content)
    skipped = [reason for _, reason in conversion.skipped]
    skipped += ["already in the root" for _ in elsewhere]
    return PullReport(
        path=path,
        new=sum(k not in old for k in fresh),
        updated=sum(k in old and old[k] != r for k, r in fresh.items()),
        unchanged=sum(k in old and old[k] == r for k, r in fresh.items()),
        deleted=deleted,
        pruned=prune,
        skipped=tuple(sorted(Counter(skipped).items())),
        written=written,
        elsewhere=tuple(elsewhere),
    )


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _key(record: Annotation) -> tuple[str, ...]:
    origin = record.origin or {}
    fields = ("project", "task", "annotation", "draft")
    return tuple(json.dumps(origin.get(f)) for f in fields)


def _order(record: Annotation) -> tuple[str, ...]:
    return (record.doc_id, record.annotator, *_key(record))


def _describe(record: Annotation) -> str:
    origin = record.origin or {}
    return f"{record.doc_id} task {origin.get('task')} annotation {origin.get('annotation')}"


def _read_records(root: Path, path: Path) -> dict[tuple[str, ...], Annotation]:
    if not path.exists():
        return {}
    values, problems = scan_jsonl(path, str(path))
    records: dict[tuple[str, ...], Annotation] = {}
    for line, obj in values:
        try:
            record = annotation_from_json(obj, str(path), line)
        except KinewsError as err:
            problems.extend(err.problems)
            continue
        records[_key(record)] = record
    if problems:
        raise KinewsError(problems)
    return records


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "project"
