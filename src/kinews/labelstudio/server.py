"""Reading a Label Studio project: the client, its errors, and the few requests a session needs.

A project is read through its JSON export, once: the task API lists only the API key owner's
drafts, the export every user's. The export's bytes are decoded with msgspec straight into small
structs holding just the fields `export.py` converts (no SDK model per task, no dict of every
field the server sends), and each task becomes a plain dict only while it is converted.

Which tasks changed is asked of the task API (its Data Manager `query`, filtered on the task's
`updated_at`, and on `draft_exists`, since saving a draft does not touch `updated_at`), for their
ids only; the export of just those ids follows.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any

import msgspec

from kinews.errors import KinewsError
from kinews.labelstudio.provenance import server_id
from kinews.redact import server_text

PAGE = 5000  # ids per page of the task API: one page of ids is a few kB
MAX_IDS = 2000  # more changed tasks than this: one export of all beats a long query string
DATA_PAGE = 1000  # tasks with their data per page: a few MB
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # what the Data Manager's Datetime filters parse
Progress = Callable[[int, int | None], None]  # (units done, units in total or None)


@dataclass(frozen=True)
class Project:
    id: int
    title: str
    label_config: str


class Connection:
    """A Label Studio server: plain HTTP for the reads, the SDK (imported on first use: it takes
    seconds to import) for the writes."""

    def __init__(self, url: str, key: str):
        import httpx

        self.url, self._key = url.rstrip("/"), key
        # Plain HTTP has no certificates to check: not loading them saves a tenth of a second.
        verify = not self.url.lower().startswith("http://")
        self._http = httpx.Client(
            base_url=self.url + "/", timeout=httpx.Timeout(600.0), verify=verify
        )

    @cached_property
    def sdk(self) -> Any:
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=self._key, timeout=600)

    def _headers(self) -> dict[str, str]:
        if _JWT.fullmatch(self._key):  # a personal access token: the SDK exchanges it
            return dict(self.sdk._client_wrapper.get_headers())
        return {"Authorization": f"Token {self._key}"}

    def get(self, path: str, params: dict[str, Any] | None, action: str, shape: type = dict) -> Any:
        """GET a JSON answer of this `shape` (an object, or a list). Raises KinewsError on a
        server or connection error, or an answer that is not what Label Studio sends."""
        with server_call(action):
            response = self._http.get(path, params=params, headers=self._headers())
        _check(response, action)
        return answer_of(response, action, shape)

    def response(self, path: str, action: str) -> Any:
        with server_call(action):
            response = self._http.get(path, headers=self._headers())
        _check(response, action)
        return response

    @contextmanager
    def stream(self, path: str, params: dict[str, Any], action: str) -> Iterator[Any]:
        with (
            server_call(action),
            self._http.stream("GET", path, params=params, headers=self._headers()) as response,
        ):
            _check(response, action)
            yield response


_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def connect() -> Connection:
    """The server at LABEL_STUDIO_URL with LABEL_STUDIO_API_KEY. Raises KinewsError if unset."""
    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not key:
        raise KinewsError.single(
            "ls-env-missing", "set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY in the environment"
        )
    return Connection(url, key)


def _where() -> str | None:
    """Where a server problem is located: LABEL_STUDIO_URL without user, password or query."""
    url = os.environ.get("LABEL_STUDIO_URL")
    return server_id(url) if url else None


def _not_label_studio(action: str, what: object) -> KinewsError:
    return KinewsError.single(
        "ls-server-error",
        f"{action}: the server's answer is not what Label Studio 1.23 sends "
        f"(is LABEL_STUDIO_URL a Label Studio?): {server_text(what)}",
        file=_where(),
    )


def answer_of(response: Any, action: str, shape: type = dict) -> Any:
    """A response's JSON, which must be of `shape`; else `ls-server-error`, shortened and
    redacted (a wrong URL prefix answers with a whole HTML page)."""
    try:
        value = response.json()
    except ValueError:
        raise _not_label_studio(action, response.text) from None
    if not isinstance(value, shape):
        raise _not_label_studio(action, response.text)
    return value


@contextmanager
def server_call(action: str) -> Iterator[None]:
    """Turn the client's errors into a located problem: the server's answer shortened and any
    key or token in it redacted."""
    where = _where()
    try:
        yield
    except KinewsError:
        raise
    except OSError as err:  # httpx' connection errors are OSErrors underneath
        raise KinewsError.single(
            "ls-server-error", f"{action}: {server_text(err)}", file=where
        ) from None
    except Exception as err:
        module = type(err).__module__
        if module.startswith("label_studio_sdk") and hasattr(err, "status_code"):
            status, body = getattr(err, "status_code", None), getattr(err, "body", None)
            raise KinewsError.single(
                "ls-server-error", f"{action}: HTTP {status}: {server_text(body)}", file=where
            ) from None
        if module.startswith(("httpx", "json", "pydantic")):
            raise _not_label_studio(action, f"{type(err).__name__}: {err}") from None
        raise


def together(*calls: Callable[[], Any]) -> list[Any]:
    """The results of independent requests, sent at once (the server answers each in a thread
    of its own: a pull waits for the slowest, not for their sum). Raises the first call's error
    in the order given."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def find_project(client: Connection, title: str) -> Project | None:
    """The project with exactly this title. Raises KinewsError if several have it."""
    found: list[Project] = []
    page = 1
    while True:
        params = {"page": page, "page_size": 100, "include": "id,title,label_config"}
        answer = client.get("api/projects/", params, "listing projects")
        found += [
            Project(p["id"], p["title"], p.get("label_config") or "")
            for p in answer.get("results") or ()
            if p.get("title") == title
        ]
        if not answer.get("next"):
            break
        page += 1
    if len(found) > 1:
        ids = ", ".join(str(p.id) for p in found)
        raise KinewsError.single(
            "ls-project-ambiguous", f"several projects are titled {title!r} (ids {ids})"
        )
    return found[0] if found else None


def user_emails(client: Connection) -> dict[int, str]:
    """Every user's e-mail by user id."""
    users = client.get("api/users/", None, "listing users", list)
    return {u["id"]: u.get("email") for u in users}


# --- The export, decoded into what export.py reads ----------------------------------------------


class _Item(msgspec.Struct, omit_defaults=True):
    """An annotation or a draft: the fields export.convert_tasks reads, nothing else."""

    id: Any = None
    result: Any = None
    completed_by: Any = None
    user: Any = None
    annotation: Any = None
    created_at: Any = None
    updated_at: Any = None
    lead_time: Any = None
    ground_truth: Any = None
    was_cancelled: Any = None


class _Task(msgspec.Struct, omit_defaults=True):
    id: Any = None
    project: Any = None
    data: Any = None
    updated_at: Any = None
    annotations: list[_Item] = []
    drafts: list[_Item] = []
    predictions: list[Any] = []  # the export lists their ids only (`predictions()` has them)


_DECODER = msgspec.json.Decoder(list[_Task])


def _check(response: Any, action: str) -> None:
    if response.status_code >= 400:
        response.read()
        raise KinewsError.single(
            "ls-server-error",
            f"{action}: HTTP {response.status_code}: {server_text(response.text)}",
            file=_where(),
        )


def export_tasks(
    client: Connection,
    project_id: int,
    ids: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> list[_Task]:
    """The project's tasks (or just those with `ids`) from its JSON export, sorted by id, their
    annotations and drafts too (the server's order varies; pseudonyms are given in this order).

    `progress` gets (bytes received, bytes in total). Raises KinewsError on a server error.
    """
    if ids is not None and not ids:
        return []
    action = f"exporting project {project_id}"
    params: dict[str, Any] = {"exportType": "JSON", "download_all_tasks": "true"}
    if ids is not None:
        params["ids[]"] = [str(i) for i in ids]  # the server reads `ids[]`; the SDK sends `ids`
    chunks: list[bytes] = []
    with client.stream(f"api/projects/{project_id}/export", params, action) as r:
        total = int(r.headers["content-length"]) if "content-length" in r.headers else None
        done = 0
        for chunk in r.iter_bytes(1 << 20):
            chunks.append(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    raw = b"".join(chunks)
    del chunks
    try:
        tasks = _DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise _not_label_studio(action, f"not a JSON export: {err}") from None
    del raw
    for task in tasks:
        task.annotations.sort(key=_by_id)
        task.drafts.sort(key=_by_id)
    tasks.sort(key=_by_id)
    return tasks


def _by_id(item: Any) -> Any:
    return item.id if isinstance(item.id, int) else -1


def as_dict(task: _Task) -> dict[str, Any]:
    """One exported task as the plain dict export.convert_tasks reads."""
    return msgspec.to_builtins(task)  # type: ignore[no-any-return]


def project_predictions(client: Connection, project_id: int) -> dict[int, list[dict[str, Any]]]:
    """Every prediction of the project in full, by task id, sorted by id."""
    found = client.get(
        "api/predictions/",
        {"project": project_id},
        f"listing the predictions of {project_id}",
        list,
    )
    by_task: dict[int, list[dict[str, Any]]] = {}
    for prediction in sorted(found, key=lambda p: p["id"]):
        by_task.setdefault(prediction["task"], []).append(prediction)
    return by_task


def task_ids(
    client: Connection, project_id: int, filters: list[dict[str, Any]] | None = None
) -> list[int]:
    """The ids of the project's tasks (those matching any of the Data Manager `filters`), sorted.

    Raises KinewsError on a server error.
    """
    query = {"filters": {"conjunction": "or", "items": filters}} if filters else {}
    ids: list[int] = []
    page = 1
    while True:
        params = {
            "project": project_id,
            "page": page,
            "page_size": PAGE,
            "include": "id",
            "query": json.dumps(query),
        }
        answer = client.get("api/tasks/", params, f"listing the tasks of project {project_id}")
        batch = [t["id"] for t in answer.get("tasks") or ()]
        ids += batch
        if len(batch) < PAGE or len(ids) >= int(answer.get("total") or 0):
            return sorted(ids)
        page += 1


def changed_since(updated_at: str) -> list[dict[str, Any]]:
    """Filters for the tasks a pull must read again: changed at or after `updated_at` (saving or
    deleting an annotation touches it), or holding a draft (saving a draft does not)."""
    return [
        {
            "filter": "filter:tasks:updated_at",
            "operator": "greater",
            "type": "Datetime",
            "value": updated_at,
        },
        {
            "filter": "filter:tasks:draft_exists",
            "operator": "equal",
            "type": "Boolean",
            "value": True,
        },
    ]


def count_tasks(client: Connection, project_id: int, last_task: int) -> tuple[int, int]:
    """(tasks, their predictions) among the project's tasks with an id up to `last_task`."""
    up_to = {"filter": "filter:tasks:id", "operator": "less_or_equal", "type": "Number"}
    query = {"filters": {"conjunction": "and", "items": [{**up_to, "value": last_task}]}}
    params = {"project": project_id, "page_size": 1, "include": "id", "query": json.dumps(query)}
    answer = client.get("api/tasks/", params, f"counting the tasks of project {project_id}")
    return int(answer.get("total") or 0), int(answer.get("total_predictions") or 0)


def task_data(
    client: Connection, project_id: int, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Every task of the project as {"id", "data"}: no annotations, drafts or predictions."""
    tasks: list[dict[str, Any]] = []
    page = 1
    while True:
        params = {"project": project_id, "page": page, "page_size": DATA_PAGE, "include": "id,data"}
        answer = client.get("api/tasks/", params, f"listing the tasks of project {project_id}")
        batch = answer.get("tasks") or ()
        tasks += batch
        total = int(answer.get("total") or 0)
        if progress:
            progress(len(tasks), total)
        if len(batch) < DATA_PAGE or len(tasks) >= total:
            return sorted(tasks, key=lambda t: t["id"])
        page += 1


def server_clock(client: Connection) -> tuple[str | None, str]:
    """(Label Studio's release, by the server's clock a time no later than any request sent
    beside this one was answered, in Data Manager format)."""
    started = time.monotonic()
    response = client.response("api/version", "reading the server version")
    waited = time.monotonic() - started
    # The Date header has whole seconds, and a request sent at the same time as this one may
    # have been answered up to `waited` earlier: stepping back both is never later than it.
    date = response.headers.get("date")
    now = parsedate_to_datetime(date) if date else datetime.now(UTC)
    back = timedelta(seconds=1 + math.ceil(waited))
    since = (now.astimezone(UTC) - back).replace(tzinfo=None)
    return answer_of(response, "reading the server version").get("release"), since.strftime(
        DATETIME_FORMAT
    )


def touched_since(updated_at: str, last_task: int) -> list[dict[str, Any]]:
    """Filters for tasks changed after `updated_at` or newer than task `last_task`."""
    return [
        changed_since(updated_at)[0],
        {"filter": "filter:tasks:id", "operator": "greater", "type": "Number", "value": last_task},
    ]
