"""Annotation sessions: push corpus documents to a Label Studio project, pull annotations back.

The server is reached with the `label-studio-sdk` client (kinews.labelstudio.server); the URL and
API key come only from the environment. Annotators are recorded as pseudonyms (`annotator-01`,
…); the e-mail → pseudonym map stays in `.kinews-local/annotators.json`, an ignored file that
never reaches `annotations/`. A pull reads the project's JSON export once; the next pull reads
only the tasks changed since (kinews.labelstudio.pullstate), and writes what a full one would.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError, Problem
from kinews.files import check_output_file
from kinews.labelstudio import export as labelstudio
from kinews.labelstudio.export_file import read_export
from kinews.labelstudio.merge import (
    Carry,
    Local,
    PullReport,
    convert_and_write,
    index_records,
    read_corpus,
    read_records,
)
from kinews.labelstudio.provenance import Source, server_id
from kinews.labelstudio.pullstate import (
    FileHashes,
    PullState,
    digest,
    forget_state,
    load_state,
    save_state,
)
from kinews.labelstudio.server import (
    MAX_IDS,
    Connection,
    Project,
    as_dict,
    changed_since,
    connect,
    count_tasks,
    export_tasks,
    find_project,
    project_predictions,
    server_call,
    server_clock,
    task_ids,
    together,
    user_emails,
)
from kinews.labelstudio.taskindex import index_tasks, indexed_tasks, save_index
from kinews.lock import root_lock
from kinews.root import (
    ANNOTATIONS_DIR,
    DOCUMENTS_FILE,
    PSEUDONYMS_FILE,
    SCHEME_FILE,
    annotation_files,
)
from kinews.scheme import load_scheme

__all__ = ["PullReport", "connect", "find_project", "import_export", "pull", "server_call"]

# (step, done, total or None): the CLI draws a bar per step; the library prints nothing.
Progress = Callable[[str, int, int | None], None]


def progress_step(progress: Progress | None, step: str) -> Callable[[int, int | None], None] | None:
    if progress is None:
        return None
    report = progress
    return lambda done, total: report(step, done, total)


def list_tasks(
    client: Connection, project_id: int, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Every task of a project with its annotations, every user's drafts and its predictions,
    sorted by id, from one read of the project's JSON export. Raises KinewsError on a server
    error."""
    tasks = export_tasks(
        client, project_id, progress=progress_step(progress, "exporting the project")
    )
    full = project_predictions(client, project_id)
    return [{**as_dict(task), "predictions": full.get(task.id, [])} for task in tasks]


def open_project(
    client: Connection,
    root: Path,
    title: str,
    *,
    full: bool = True,
    progress: Progress | None = None,
) -> tuple[Any, bool, bool, dict[str, dict[str, Any]]]:
    """Get or create the project, update its config; (project, created, config updated, tasks
    by doc_id). The tasks carry their annotations, drafts and predictions when `full` or when
    the config changes (to find labels in use), else only their id and data: all a push with
    nothing to do needs, and a fraction of the project's export.

    Raises KinewsError on a server error, or when a label still in use would be removed.
    """
    config = labelstudio.label_config(load_scheme(root))
    project, created, config_updated = find_project(client, title), False, False
    if project is None:
        with server_call("creating the project"):
            created_project = client.sdk.projects.create(title=title, label_config=config)
        project = Project(created_project.id, title, config)
        created = True
    reconfigure = not created and not labelstudio.same_config(project.label_config, config)
    if full or reconfigure:
        tasks = list_tasks(client, project.id, progress)
    else:
        tasks = indexed_tasks(client, root, project.id, progress_step(progress, "listing tasks"))
    if reconfigure:
        _update_config(client, project, config, tasks)
        config_updated = True
    by_doc: dict[str, dict[str, Any]] = {}
    for task in tasks:
        by_doc.setdefault(str(task["data"].get("doc_id")), task)
    return project, created, config_updated, by_doc


def _update_config(
    client: Connection, project: Project, config: str, tasks: list[dict[str, Any]]
) -> None:
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
    from label_studio_sdk.core.api_error import ApiError  # the SDK is in use already

    try:
        client.sdk.projects.validate_label_config(project.id, label_config=config)
    except ApiError as err:
        raise KinewsError.single(
            "ls-config-refused", f"Label Studio refuses the new config: {err.body}"
        ) from err
    with server_call("updating the labelling config"):
        client.sdk.projects.update(project.id, label_config=config)


# --- Pull and import ----------------------------------------------------------------------------


def pull(
    client: Connection,
    root: Path,
    title: str,
    *,
    drafts: bool = False,
    prune: bool = False,
    out: Path | None = None,
    server: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> PullReport:
    """Convert every annotation of the project into records in annotations/ls-<title>.jsonl.

    Reads only the tasks changed since the last pull into the same file when it can tell which
    (never with `full`). `server` is the URL the records name as their source (default:
    LABEL_STUDIO_URL). Raises KinewsError (nothing written) naming each task, annotation and
    span that does not fit, or (`ls-file-foreign`) when the file holds records of another
    project or server.
    """
    url = server_id(server or os.environ.get("LABEL_STUDIO_URL", ""))
    path = out or root / ANNOTATIONS_DIR / f"ls-{_slug(title)}.jsonl"
    check_output_file(path)
    with root_lock(root, "ls pull"):
        display = _display(root, path)
        state = None if full else load_state(root, display)
        hashes = FileHashes(state.files if state is not None else None)
        if state is not None and not _state_fits(state, url, path, hashes):
            state = None
        if state is not None and state.inputs != _inputs(root, display, drafts, hashes):
            state = None
        # Every request goes out at once, while the scheme and corpus are read: the changed
        # tasks are asked of the project the last pull read, whose id is checked below.
        last = state
        project, emails, (version, began), local, read = together(
            lambda: find_project(client, title),
            lambda: user_emails(client),
            lambda: server_clock(client),
            lambda: _or_error(lambda: _read_local(root, path, last is not None)),
            lambda: _or_error(lambda: _changed(client, last.project, last) if last else None),
        )
        if project is None:
            raise KinewsError.single("ls-project-missing", f"no project titled {title!r}")
        if isinstance(local, KinewsError):
            raise local
        if state is not None and (state.project, state.version) != (project.id, version):
            state, read = None, None  # (the last pull's project may be gone: no error of it)
            local = read_corpus(root, path)  # a full pull parses the whole corpus
        if isinstance(read, KinewsError):
            raise read
        options = labelstudio.Options(drafts=drafts)
        origin = {"version": version, "server": url, "project": project.id}
        owner = Source(server=url, project=project.id)
        if state is None or read is None:
            ids, carry = None, None
        else:
            ids = sorted(read)
            carry = Carry(frozenset(read), state.skipped, frozenset(state.gone))
        # The file as the last pull left it is this source's: only the re-read tasks' records
        # need parsing in full.
        read_records(root, local, path, owner, carry.read if carry else None)
        exported = export_tasks(client, project.id, ids, progress_step(progress, "exporting tasks"))
        outcome = convert_and_write(
            root,
            local,
            _counted(
                map(as_dict, exported), len(exported), progress_step(progress, "converting tasks")
            ),
            origin,
            options,
            emails,
            path,
            prune,
            f"project {project.id}",
            owner,
            carry,
        )
        if carry is None:  # every task's data was read: what the next push needs to know
            seen = ({"id": t.id, "data": t.data} for t in exported)
            save_index(root, index_tasks(server_id(client.url), project.id, began, seen))
        if outcome.report.elsewhere:  # records kept in other files: not worth remembering
            forget_state(root, local.display)
            return outcome.report
        # The tasks (and their predictions) known so far: an incremental pull adds the new ones.
        base = state if carry is not None and state is not None else None
        new = [t for t in exported if base is None or t.id > base.last_task]
        if outcome.report.written:
            file_sha256 = hashes.written(path, outcome.content, outcome.written_sha256)
        else:
            file_sha256 = hashes.digest(path)
        save_state(
            root,
            local.display,
            PullState(
                server=url,
                project=project.id,
                version=version,
                file_sha256=file_sha256,
                inputs=_inputs(root, display, drafts, hashes),
                since=began,
                tasks=(base.tasks if base else 0) + len(new),
                last_task=max([t.id for t in new] + [base.last_task if base else 0]),
                predictions=(base.predictions if base else 0)
                + sum(len(t.predictions) for t in new),
                draft_tasks=tuple(t.id for t in exported if t.drafts),
                skipped=outcome.skipped,
                gone=outcome.gone,
                files=hashes.seen,
            ),
        )
    return outcome.report


def _state_fits(state: PullState, url: str, path: Path, hashes: FileHashes) -> bool:
    """Whether the state is of this server and of the records file as it is (its project and
    Label Studio's version are checked once the server has named them)."""
    return state.server == url and state.file_sha256 == hashes.digest(path)


def _read_local(root: Path, path: Path, incremental: bool) -> Local:
    """Scheme and corpus; for an incremental pull also the indexes of corpus and records file
    (what takes longest of it at 10,000 tasks), while the server answers."""
    local = read_corpus(root, path, lazily=incremental)
    if incremental:
        len(local.docs)  # a LazyDocuments indexes its lines on first use
        index_records(root, local, path)
    return local


def _or_error(call: Callable[[], Any]) -> Any:
    """The call's result or its KinewsError, raised by the caller only once it knows the
    result is needed (a missing project is said first)."""
    try:
        return call()
    except KinewsError as error:
        return error


def _inputs(root: Path, display: str, drafts: bool, hashes: FileHashes) -> str:
    """What the records depend on besides the server: corpus, scheme, pseudonyms, the root's
    other records files (an annotation in one of them is not pulled again), the options."""
    others = [
        (p.name, hashes.digest(p)) for p in annotation_files(root) if _display(root, p) != display
    ]
    files = [DOCUMENTS_FILE, SCHEME_FILE, PSEUDONYMS_FILE]
    return digest([drafts, [hashes.digest(root / f) for f in files], others])


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _changed(client: Connection, project_id: int, state: PullState) -> set[int] | None:
    """The tasks an incremental pull reads, or None when only a full pull can tell: a task of
    the last pull is gone, or predictions came or went (counted in the report, not pulled)."""
    counted, changed = together(
        lambda: count_tasks(client, project_id, state.last_task),
        lambda: task_ids(client, project_id, changed_since(state.since)),
    )
    if counted != (state.tasks, state.predictions):
        return None
    read = set(changed) | set(state.draft_tasks)
    return read if len(read) <= MAX_IDS else None


def _counted(
    tasks: Iterable[dict[str, Any]], total: int, progress: Callable[[int, int | None], None] | None
) -> Iterator[dict[str, Any]]:
    for done, task in enumerate(tasks, 1):
        yield task
        if progress and (done % 500 == 0 or done == total):
            progress(done, total)


def import_export(
    root: Path, export: Path, options: labelstudio.Options, out: Path | None = None
) -> PullReport:
    """Convert an export file of the Label Studio UI into records, as `pull` does.

    Raises KinewsError (nothing written) naming each task, annotation and span that does not
    fit, or (`ls-file-foreign`) when the file holds records of another export.
    """
    tasks = read_export(export)
    path = out or root / ANNOTATIONS_DIR / f"ls-import-{_slug(export.stem)}.jsonl"
    check_output_file(path)
    origin = {"version": None, "export": export.name}
    owner = Source(export=export.name)
    with root_lock(root, "ls import"):
        local = read_corpus(root, path)
        read_records(root, local, path, owner)
        outcome = convert_and_write(
            root, local, tasks, origin, options, {}, path, False, str(export), owner
        )
    return outcome.report


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "project"
