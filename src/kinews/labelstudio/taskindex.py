"""Which document each task of a project holds, as last seen: a push with nothing to do asks the
server only for the tasks changed since, not for every task.

Label Studio's task list costs milliseconds per task even when asked for ids only (it loads every
task's annotations), so listing 10,000 tasks takes tens of seconds. The index, one small file per
project in the root's ignored `.kinews-local/ls-tasks/`, keeps task id -> (doc_id, sha256 of the
text) as of a moment of the server's clock; a task whose data changes (`--update-changed`, an
edit in Label Studio) or that is new gets a later `updated_at`. It is a cache: missing, unreadable,
or with a task gone from the project, the push lists every task as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinews.files import write_atomic
from kinews.labelstudio.provenance import server_id
from kinews.labelstudio.server import (
    MAX_IDS,
    Connection,
    count_tasks,
    export_tasks,
    server_clock,
    task_data,
    task_ids,
    together,
    touched_since,
)

INDEX_DIR = Path(".kinews-local") / "ls-tasks"


@dataclass(frozen=True)
class TaskIndex:
    server: str
    project: int
    since: str  # the server's clock when the tasks were read, Data Manager format
    tasks: dict[int, tuple[str, str]]  # task id -> (data.doc_id, sha256 of data.text)

    @property
    def last_task(self) -> int:
        return max(self.tasks, default=0)

    def __len__(self) -> int:
        return len(self.tasks)


def text_sha256(data: Any) -> str:
    text = data.get("text") if isinstance(data, dict) else None
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if isinstance(text, str) else ""


def index_tasks(
    server: str, project: int, since: str, tasks: Iterable[dict[str, Any]]
) -> TaskIndex:
    """The index of tasks given as {"id", "data", …}."""
    entries = {
        int(t["id"]): (str((t.get("data") or {}).get("doc_id")), text_sha256(t.get("data")))
        for t in tasks
    }
    return TaskIndex(server, project, since, entries)


def _path(root: Path, server: str, project: int) -> Path:
    name = hashlib.sha256(f"{server} {project}".encode()).hexdigest()[:16]
    return root / INDEX_DIR / f"{name}.json"


def load_index(root: Path, server: str, project: int) -> TaskIndex | None:
    """The index of this project on this server, or None when there is none usable."""
    try:
        raw = json.loads(_path(root, server, project).read_text("utf-8"))
        if (raw["server"], raw["project"]) != (server, project):
            return None
        tasks = {int(t): (str(d), str(s)) for t, (d, s) in raw["tasks"].items()}
        return TaskIndex(server, project, str(raw["since"]), tasks)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a cache: anything unreadable means listing every task


def save_index(root: Path, index: TaskIndex) -> None:
    path = _path(root, index.server, index.project)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = {
        "server": index.server,
        "project": index.project,
        "since": index.since,
        "tasks": {str(t): list(v) for t, v in sorted(index.tasks.items())},
    }
    write_atomic(path, (json.dumps(raw, sort_keys=True) + "\n").encode("utf-8"))


def indexed_tasks(
    client: Connection,
    root: Path,
    project_id: int,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[dict[str, Any]]:
    """Every task of the project as {"id", "data": {"doc_id"}, "text_sha256"}: from the index
    and the tasks changed since, or (no usable index) from listing every task. Saves the index.

    Raises KinewsError on a server error.
    """
    server = server_id(client.url)
    _, since = server_clock(client)
    index = load_index(root, server, project_id)
    fresh: TaskIndex | None = None
    counted, changed = (0, 0), []
    if index is not None:  # (the clock first: a change after it is seen by the next push)
        counted, changed = together(
            lambda: count_tasks(client, project_id, index.last_task),
            lambda: task_ids(client, project_id, touched_since(index.since, index.last_task)),
        )
    if index is not None and counted[0] == len(index) and len(changed) <= MAX_IDS:
        exported = export_tasks(client, project_id, changed)
        seen = ({"id": t.id, "data": t.data} for t in exported)
        update = index_tasks(server, project_id, since, seen)
        fresh = TaskIndex(server, project_id, since, {**index.tasks, **update.tasks})
    if fresh is None:
        fresh = index_tasks(server, project_id, since, task_data(client, project_id, progress))
    save_index(root, fresh)
    return [
        {"id": task, "data": {"doc_id": doc_id}, "text_sha256": sha}
        for task, (doc_id, sha) in sorted(fresh.tasks.items())
    ]
