"""Annotation sessions against a real Label Studio server.

The session fixture starts Label Studio through scripts/label-studio (installing it into .venv-ls
if missing) on a free port with a temporary data dir and a per-run admin token, and stops it when
the run ends, pass or fail. Annotations are created through the API the way the browser stores
them (code point offsets, `value.text` as shown), for two annotators, then pulled back.

If the server cannot be started these tests fail under CI=true and are skipped otherwise.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, tree
from kinews.labelstudio.export import config_labels
from kinews.root import PSEUDONYMS_FILE

BOOT_TIMEOUT = 900  # seconds; includes installing Label Studio on a fresh machine
TEXTS = {
    "de-umlaut": "Die Bundesministerin für Bildung und Forschung besuchte Düsseldorf.",
    "de-emoji": "Start-up 🚀 aus München bekommt 5 Mio. Euro vom Bund 💶.",
    "de-zwj": "Die Forscherin 👩\u200d🔬 Anna Schäfer arbeitet in Jena.",
    "de-flag": "Die 🇩🇪 Regierung und 🇫🇷 Frankreich fördern KI.",
    # Decomposed on input: ingest composes it to NFC, and every offset counts the composed text.
    "de-combining": "Das Cafe\u0301 Einstein in Berlin testet Roboter.",
}


@dataclass(frozen=True)
class Server:
    url: str
    key: str
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Label Studio could not be started: {reason}")
    pytest.skip(f"Label Studio could not be started: {reason}")


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port, data_dir = _free_port(), tmp_path_factory.mktemp("labelstudio")
    key = secrets.token_hex(20)
    env = {
        **os.environ,
        "LABEL_STUDIO_USERNAME": f"lead-{secrets.token_hex(4)}@example.org",
        "LABEL_STUDIO_PASSWORD": secrets.token_urlsafe(16),
        "LABEL_STUDIO_API_KEY": key,
    }
    command = [
        "bash",
        str(REPO / "scripts" / "label-studio"),
        *("serve", "--port", str(port), "--data-dir", str(data_dir)),
    ]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: stopping it stops Label Studio too
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        output: list[str] = []
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                _unavailable(f"not up after {BOOT_TIMEOUT}s:\n{''.join(output[-30:])}")
            if line is None:
                _unavailable(f"scripts/label-studio exited:\n{''.join(output[-30:])}")
            output.append(line)
            if line.startswith("Label Studio is up at "):
                break
        assert key not in "".join(output)  # the token is never printed
        yield Server(f"http://127.0.0.1:{port}", key, data_dir)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture
def client(label_studio: Server, monkeypatch: pytest.MonkeyPatch) -> Any:
    from label_studio_sdk import LabelStudio

    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.key)
    return LabelStudio(base_url=label_studio.url, api_key=label_studio.key)


@pytest.fixture
def title() -> str:
    return f"kinews test {uuid.uuid4().hex[:8]}"


@pytest.fixture
def root(empty_root: Path, tmp_path: Path, kinews) -> Path:
    articles = tmp_path / "articles.jsonl"
    rows = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in TEXTS.items()]
    articles.write_text("\n".join(rows) + "\n", "utf-8")
    result = kinews("ingest", articles, "--root", empty_root)
    assert result.exit_code == 0, result.output
    return empty_root


def span(doc_id: str, surface: str, label: str) -> dict[str, Any]:
    text = unicodedata.normalize("NFC", TEXTS[doc_id])
    start = text.index(surface)
    return {"start": start, "end": start + len(surface), "label": label, "text": surface}


EXPECTED = {
    ("de-umlaut", 0): [span("de-umlaut", "Düsseldorf", "LOC")],
    ("de-umlaut", 1): [
        span("de-umlaut", "Bundesministerin für Bildung und Forschung", "ORG"),
        span("de-umlaut", "Düsseldorf", "LOC"),
    ],
    ("de-emoji", 0): [span("de-emoji", "München", "LOC"), span("de-emoji", "Bund", "ORG")],
    ("de-zwj", 1): [span("de-zwj", "Anna Schäfer", "PER"), span("de-zwj", "Jena", "LOC")],
    ("de-flag", 0): [span("de-flag", "🇩🇪", "LOC"), span("de-flag", "Frankreich", "LOC")],
    ("de-combining", 1): [span("de-combining", "Café Einstein", "ORG")],
}


def browser_result(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A result list as the Label Studio UI saves it: code points, the selected text, an id."""
    return [
        {
            "id": secrets.token_urlsafe(7)[:10],
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "origin": "manual",
            "value": {
                "start": s["start"],
                "end": s["end"],
                "text": s["text"],
                "labels": [s["label"]],
            },
        }
        for s in spans
    ]


def tasks_by_doc(client: Any, title: str) -> dict[str, Any]:
    [project] = [p for p in client.projects.list() if p.title == title]
    return {t.data["doc_id"]: t for t in client.tasks.list(project=project.id)}


def two_annotators(client: Any) -> list[Any]:
    tag = uuid.uuid4().hex[:6]
    return [
        client.users.create(
            username=f"{name}-{tag}",
            email=f"{name}-{tag}@example.org",
            password=secrets.token_urlsafe(12),
        )
        for name in ("anna", "ben")
    ]


def annotate(client: Any, title: str) -> tuple[list[Any], dict[tuple[str, int], Any]]:
    users, tasks = two_annotators(client), tasks_by_doc(client, title)
    created = {
        (doc_id, who): client.annotations.create(
            id=tasks[doc_id].id,
            result=browser_result(spans),
            completed_by=users[who].id,
            lead_time=12.5,
        )
        for (doc_id, who), spans in EXPECTED.items()
    }
    return users, created


def pulled(root: Path, title: str) -> list[dict[str, Any]]:
    path = root / "annotations" / f"ls-{title.replace(' ', '-')}.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# --- The scenarios ------------------------------------------------------------------------------


def test_browser_annotations_of_two_annotators_come_back_as_exactly_the_same_spans(
    client, root, title, kinews
):
    pushed = kinews("ls", "push", "--project", title, "--root", root)
    assert pushed.exit_code == 0, pushed.output
    assert f"created project {title!r}" in pushed.output
    assert "5 tasks added" in pushed.output
    users, created = annotate(client, title)

    result = kinews("ls", "pull", "--project", title, "--root", root)
    assert result.exit_code == 0, result.output
    assert "6 new, 0 updated, 0 unchanged, 0 deleted, 0 skipped" in result.output
    records = pulled(root, title)
    local = json.loads((root / PSEUDONYMS_FILE).read_text("utf-8"))
    assert sorted(local.values()) == ["annotator-01", "annotator-02"]
    got = {(r["doc_id"], r["annotator"]): r["spans"] for r in records}
    assert got == {
        (doc_id, local[users[who].email]): spans for (doc_id, who), spans in EXPECTED.items()
    }
    record = next(r for r in records if r["doc_id"] == "de-combining")
    annotation = created[("de-combining", 1)]
    assert record["status"] == "submitted"
    assert record["origin"]["tool"] == "label-studio"
    assert record["origin"]["version"].startswith("1.23.")
    assert record["origin"]["annotation"] == annotation.id
    assert record["origin"]["task"] == annotation.task
    assert record["origin"]["lead_time"] == 12.5
    assert record["origin"]["ground_truth"] is False
    assert record["created_at"].startswith(annotation.created_at.strftime("%Y-%m-%dT%H:%M"))

    # E-mails stay in the ignored local map, never in annotations/.
    written = b"".join(tree(root / "annotations").values())
    assert b"@example.org" not in written
    assert kinews("validate", "--root", root).exit_code == 0

    before = tree(root / "annotations")
    again = kinews("ls", "pull", "--project", title, "--root", root)
    assert "0 new, 0 updated, 6 unchanged" in again.output
    assert tree(root / "annotations") == before


def test_pushing_twice_creates_no_duplicate_tasks_and_reports_changed_texts(
    client, root, title, kinews, tmp_path
):
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    second = kinews("ls", "push", "--project", title, "--root", root)
    assert second.exit_code == 0, second.output
    assert f"found project {title!r}" in second.output
    assert "0 tasks added, 5 unchanged" in second.output
    assert "updated the labelling config" not in second.output  # stored as sent
    [project] = [p for p in client.projects.list() if p.title == title]
    assert sorted(t.data["doc_id"] for t in client.tasks.list(project=project.id)) == sorted(TEXTS)

    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps({"id": "de-flag", "text": "Die 🇩🇪 Regierung."}) + "\n", "utf-8")
    assert kinews("ingest", changed, "--replace", "--root", root).exit_code == 0
    reported = kinews("ls", "push", "--project", title, "--root", root)
    assert "changed text: de-flag (use --update-changed)" in reported.output
    assert tasks_by_doc(client, title)["de-flag"].data["text"] == TEXTS["de-flag"]
    updated = kinews("ls", "push", "--project", title, "--update-changed", "--root", root)
    assert "changed text: de-flag (task updated)" in updated.output
    tasks = tasks_by_doc(client, title)
    assert len(tasks) == 5
    assert tasks["de-flag"].data["text"] == "Die 🇩🇪 Regierung."


def test_a_title_shared_by_two_projects_is_ambiguous_and_nothing_is_pushed_or_pulled(
    client, root, title, kinews
):
    ids = sorted(client.projects.create(title=title).id for _ in range(2))
    before = tree(root)
    for command in ("push", "pull"):
        result = kinews("ls", command, "--project", title, "--root", root)
        assert result.exit_code == 1
        named = re.search(
            rf"- ls-project-ambiguous: several projects are titled {re.escape(repr(title))} "
            r"\(ids (\d+), (\d+)\)",
            result.output,
        )
        assert named, result.output
        assert sorted(int(i) for i in named.groups()) == ids
    assert tree(root) == before
    assert sorted(p.id for p in client.projects.list() if p.title == title) == ids  # none added
    assert all(not list(client.tasks.list(project=i)) for i in ids)  # no task imported


def test_removing_a_label_that_annotations_use_is_refused_adding_one_is_fine(
    client, root, title, kinews
):
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    annotate(client, title)  # one region is labelled PER
    scheme_file = root / "schemas" / "labels.yaml"
    scheme = yaml.safe_load(scheme_file.read_text("utf-8"))
    scheme["labels"] = [label for label in scheme["labels"] if label["name"] != "PER"]
    scheme_file.write_text(yaml.safe_dump(scheme, allow_unicode=True), "utf-8")
    refused = kinews("ls", "push", "--project", title, "--root", root)
    assert refused.exit_code == 1
    assert "ls-label-in-use" in refused.output
    assert "label 'PER' is no longer in the scheme but 1 annotation region(s)" in refused.output
    [project] = [p for p in client.projects.list() if p.title == title]
    assert "PER" in config_labels(client.projects.get(project.id).label_config)

    scheme["labels"].insert(0, {"name": "PER", "hotkey": "p", "definition": "A person."})
    scheme["labels"].append({"name": "LAW", "hotkey": "w", "definition": "A named law."})
    scheme_file.write_text(yaml.safe_dump(scheme, allow_unicode=True), "utf-8")
    added = kinews("ls", "push", "--project", title, "--root", root)
    assert added.exit_code == 0, added.output
    assert "updated the labelling config" in added.output
    assert "LAW" in config_labels(client.projects.get(project.id).label_config)


@contextmanager
def signed_up_annotator(label_studio: Server) -> Iterator[Any]:
    """A browser session of an annotator who signed up through the web form.

    Users created through the API have no password, so this is how someone other than the API
    key's owner comes to save drafts.
    """
    import httpx

    with httpx.Client(base_url=label_studio.url, follow_redirects=True) as session:
        session.get("/user/signup/")
        csrf = session.cookies["csrftoken"]
        signed_up = session.post(
            "/user/signup/",
            data={
                "email": f"carla-{uuid.uuid4().hex[:6]}@example.org",
                "password": secrets.token_urlsafe(12),
                "csrfmiddlewaretoken": csrf,
            },
            headers={"Referer": f"{label_studio.url}/user/signup/"},
        )
        assert session.get("/api/current-user/whoami").status_code == 200, signed_up.text
        session.headers.update(
            {"X-CSRFToken": session.cookies["csrftoken"], "Referer": label_studio.url}
        )
        yield session


def test_another_users_draft_is_pulled_with_drafts_and_keeps_its_label_in_use(
    client, label_studio, root, title, kinews
):
    # Label Studio's task API shows the API key's owner only their own drafts; the project
    # export has everyone's, and kinews reads the drafts from there.
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    task = tasks_by_doc(client, title)["de-zwj"]
    with signed_up_annotator(label_studio) as annotator:
        email = annotator.get("/api/current-user/whoami").json()["email"]
        draft = annotator.post(
            f"/api/tasks/{task.id}/drafts",
            json={"result": browser_result([span("de-zwj", "Anna Schäfer", "PER")])},
        )
    assert draft.status_code == 201, draft.text

    pulled_drafts = kinews("ls", "pull", "--project", title, "--drafts", "--root", root)
    assert pulled_drafts.exit_code == 0, pulled_drafts.output
    assert "1 new" in pulled_drafts.output
    [record] = pulled(root, title)
    assert record["origin"]["draft"] == draft.json()["id"]
    assert record["spans"] == [span("de-zwj", "Anna Schäfer", "PER")]
    pseudonyms = json.loads((root / PSEUDONYMS_FILE).read_text("utf-8"))
    assert record["annotator"] == pseudonyms[email]
    assert email not in (root / "annotations").joinpath(
        f"ls-{title.replace(' ', '-')}.jsonl"
    ).read_text("utf-8")

    scheme_file = root / "schemas" / "labels.yaml"
    scheme = yaml.safe_load(scheme_file.read_text("utf-8"))
    scheme["labels"] = [label for label in scheme["labels"] if label["name"] != "PER"]
    scheme_file.write_text(yaml.safe_dump(scheme, allow_unicode=True), "utf-8")
    before = tree(root)
    refused = kinews("ls", "push", "--project", title, "--root", root)
    assert refused.exit_code == 1
    assert "ls-label-in-use: label 'PER' is no longer in the scheme but 1 annotation" in (
        refused.output
    )
    [project] = [p for p in client.projects.list() if p.title == title]
    assert "PER" in config_labels(client.projects.get(project.id).label_config)
    assert len(tasks_by_doc(client, title)) == len(TEXTS)
    assert tree(root) == before


def test_edited_annotations_update_deleted_ones_are_reported_cancelled_ones_skipped(
    client, root, title, kinews
):
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    _, created = annotate(client, title)
    assert kinews("ls", "pull", "--project", title, "--root", root).exit_code == 0

    edited, deleted = created[("de-umlaut", 1)], created[("de-flag", 0)]
    client.annotations.update(
        id=edited.id, result=browser_result([span("de-umlaut", "Düsseldorf", "ORG")])
    )
    client.annotations.delete(id=deleted.id)
    cancelled = client.annotations.create(
        id=created[("de-zwj", 1)].task, result=[], was_cancelled=True
    )
    result = kinews("ls", "pull", "--project", title, "--root", root)
    assert result.exit_code == 0, result.output
    assert "0 new, 1 updated, 4 unchanged, 1 deleted, 1 skipped (1 cancelled)" in result.output
    assert f"deleted on the server: de-flag task {deleted.task} annotation {deleted.id}" in (
        result.output
    )
    records = {r["origin"]["annotation"]: r for r in pulled(root, title)}
    assert records[edited.id]["spans"] == [span("de-umlaut", "Düsseldorf", "ORG")]
    assert deleted.id in records  # kept locally
    assert cancelled.id not in records

    pruned = kinews("ls", "pull", "--project", title, "--prune", "--root", root)
    assert pruned.exit_code == 0, pruned.output
    assert deleted.id not in {r["origin"]["annotation"] for r in pulled(root, title)}


def test_a_pull_never_touches_a_file_of_another_project_whose_title_slugs_alike(
    client, root, title, kinews
):
    other = title.replace("kinews test", "Kinews Test") + "!"  # the same file name, ls-kinews-…
    for project in (title, other):
        assert kinews("ls", "push", "--project", project, "--root", root).exit_code == 0
    annotate(client, title)
    assert kinews("ls", "pull", "--project", title, "--root", root).exit_code == 0
    [path] = (root / "annotations").glob("ls-*.jsonl")
    assert {r["origin"]["server"] for r in pulled(root, title)} == {os.environ["LABEL_STUDIO_URL"]}
    before = tree(root)
    result = kinews("ls", "pull", "--project", other, "--prune", "--root", root)
    assert result.exit_code == 1, result.output
    assert f"{path.relative_to(root)} ls-file-foreign: holds 6 record(s) of project" in (
        result.output
    )
    assert "deleted on the server" not in result.output
    assert tree(root) == before


def test_a_span_that_does_not_fit_the_corpus_text_stops_the_pull(client, root, title, kinews):
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    task = tasks_by_doc(client, title)["de-emoji"]
    wrong = span("de-emoji", "München", "LOC")
    wrong["text"] = "Münch"  # the offsets do not point at what the annotator saw
    annotation = client.annotations.create(id=task.id, result=browser_result([wrong]))
    before = tree(root)
    result = kinews("ls", "pull", "--project", title, "--root", root)
    assert result.exit_code == 1
    assert "ls-span-misfit" in result.output
    assert f"task {task.id} annotation {annotation.id} region" in result.output
    assert tree(root) == before


def test_push_with_predictions_pre_annotates_from_gold_spans(client, seed_root, title, kinews):
    result = kinews("ls", "push", "--project", title, "--predictions", "--root", seed_root)
    assert result.exit_code == 0, result.output
    assert "1 predictions (kinews-gazetteer-" in result.output
    [project] = [p for p in client.projects.list() if p.title == title]
    [task] = client.tasks.list(project=project.id, fields="all")
    [prediction] = task.predictions
    assert prediction.model_version.startswith("kinews-gazetteer-")
    values = [r["value"] for r in prediction.result]
    assert values and all(task.data["text"][v["start"] : v["end"]] == v["text"] for v in values)
    again = kinews("ls", "push", "--project", title, "--predictions", "--root", seed_root)
    assert "0 predictions" in again.output  # the same gazetteer version is not added twice


def test_drafts_are_counted_and_pulled_only_with_drafts(client, label_studio, root, title, kinews):
    import httpx

    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    task = tasks_by_doc(client, title)["de-zwj"]
    draft = httpx.post(
        f"{label_studio.url}/api/tasks/{task.id}/drafts",
        headers={"Authorization": f"Token {label_studio.key}"},
        json={"result": browser_result([span("de-zwj", "Jena", "LOC")]), "lead_time": 3.0},
    )
    assert draft.status_code == 201, draft.text
    without = kinews("ls", "pull", "--project", title, "--root", root)
    assert "0 new, 0 updated, 0 unchanged, 0 deleted, 1 skipped (1 draft (use --drafts))" in (
        without.output
    )
    with_drafts = kinews("ls", "pull", "--project", title, "--drafts", "--root", root)
    assert "1 new" in with_drafts.output
    [record] = pulled(root, title)
    assert record["origin"]["draft"] == draft.json()["id"]
    assert record["origin"]["annotation"] is None
    assert record["spans"] == [span("de-zwj", "Jena", "LOC")]


@dataclass(frozen=True)
class Dispute:
    pseudonym: dict[str, str]  # "anna"/"ben" -> annotator-NN
    tasks: dict[str, Any]  # doc_id -> task
    annotations: dict[tuple[str, int], Any]


def dispute_munich(client: Any, root: Path, title: str, kinews) -> Dispute:
    """Two annotators agree on Bund and on de-umlaut; after the 🚀, one reads München as a
    place, one as an org. Pulled and adjudicated, that is one open worklist item."""
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    users, tasks = two_annotators(client), tasks_by_doc(client, title)
    readings = {
        ("de-emoji", 0): [span("de-emoji", "München", "LOC"), span("de-emoji", "Bund", "ORG")],
        ("de-emoji", 1): [span("de-emoji", "München", "ORG"), span("de-emoji", "Bund", "ORG")],
        ("de-umlaut", 0): [span("de-umlaut", "Düsseldorf", "LOC")],
        ("de-umlaut", 1): [span("de-umlaut", "Düsseldorf", "LOC")],
    }
    annotations = {
        (doc_id, who): client.annotations.create(
            id=tasks[doc_id].id, result=browser_result(spans), completed_by=users[who].id
        )
        for (doc_id, who), spans in readings.items()
    }
    assert kinews("ls", "pull", "--project", title, "--root", root).exit_code == 0
    adjudicated = kinews("adjudicate", "--root", root)
    assert adjudicated.exit_code == 0, adjudicated.output
    local = json.loads((root / PSEUDONYMS_FILE).read_text("utf-8"))
    pseudonym = {"anna": local[users[0].email], "ben": local[users[1].email]}
    return Dispute(pseudonym, tasks, annotations)


def review_tabs(client: Any, task_id: int) -> dict[str, list[tuple[str, int, int, list[str]]]]:
    """model_version -> the prediction's regions as (corpus text, start, end, labels)."""
    task = client.tasks.get(task_id)
    text = task.data["text"]
    return {
        p.model_version: [
            (text[v["start"] : v["end"]], v["start"], v["end"], v["labels"])
            for v in sorted((r["value"] for r in p.result), key=lambda v: v["start"])
        ]
        for p in task.predictions
    }


def test_push_review_attaches_every_annotators_candidates_once_to_the_disputed_document(
    client, root, title, kinews
):
    dispute = dispute_munich(client, root, title, kinews)
    anna, ben = dispute.pseudonym["anna"], dispute.pseudonym["ben"]

    result = kinews("ls", "push", "--project", title, "--review", "--root", root)
    assert result.exit_code == 0, result.output
    assert "1 document with 1 open item: 0 tasks added, 2 review predictions attached" in (
        result.output
    )
    tasks = tasks_by_doc(client, title)
    assert len(tasks) == len(TEXTS)  # no task duplicated
    assert all(not tasks[d].predictions for d in tasks if d != "de-emoji")  # others untouched
    text = tasks["de-emoji"].data["text"]
    munich = text.index("München")
    assert munich == text.index("🚀") + 6  # code points: the rocket counts once
    at, bund = (munich, munich + len("München")), (text.index("Bund"), text.index("Bund") + 4)
    assert review_tabs(client, tasks["de-emoji"].id) == {
        f"kinews-review {anna}": [("München", *at, ["LOC"]), ("Bund", *bund, ["ORG"])],
        f"kinews-review {ben}": [("München", *at, ["ORG"]), ("Bund", *bund, ["ORG"])],
    }

    again = kinews("ls", "push", "--project", title, "--review", "--root", root)
    assert "0 review predictions attached, 0 outdated removed, 1 up to date" in again.output
    assert len(client.tasks.get(tasks["de-emoji"].id).predictions) == 2

    # A project without the document gets just that one task, carrying the predictions.
    other = f"{title} review"
    fresh = kinews("ls", "push", "--project", other, "--review", "--root", root)
    assert fresh.exit_code == 0, fresh.output
    assert "1 tasks added, 2 review predictions attached" in fresh.output
    [task] = tasks_by_doc(client, other).values()
    assert task.data["doc_id"] == "de-emoji"
    assert len(client.tasks.get(task.id).predictions) == 2


def test_a_changed_worklist_replaces_review_predictions_and_ground_truth_closes_the_item(
    client, root, title, kinews
):
    dispute = dispute_munich(client, root, title, kinews)
    assert kinews("ls", "push", "--project", title, "--review", "--root", root).exit_code == 0
    ben = dispute.pseudonym["ben"]
    client.annotations.update(
        id=dispute.annotations["de-emoji", 1].id,
        result=browser_result(
            [span("de-emoji", "München", "PER"), span("de-emoji", "Bund", "ORG")]
        ),
    )
    pulled = kinews("ls", "pull", "--project", title, "--root", root)
    assert pulled.exit_code == 0, pulled.output
    assert kinews("adjudicate", "--root", root).exit_code == 0
    changed = kinews("ls", "push", "--project", title, "--review", "--root", root)
    assert "1 review predictions attached, 1 outdated removed, 0 up to date" in changed.output
    task_id = dispute.tasks["de-emoji"].id
    tabs = review_tabs(client, task_id)
    assert len(tabs) == 2
    assert [labels for _, _, _, labels in tabs[f"kinews-review {ben}"]] == [["PER"], ["ORG"]]

    # The reviewer submits anna's reading and marks it ground truth: it becomes the gold.
    chosen = [span("de-emoji", "München", "LOC"), span("de-emoji", "Bund", "ORG")]
    client.annotations.create(id=task_id, result=browser_result(chosen), ground_truth=True)
    assert kinews("ls", "pull", "--project", title, "--root", root).exit_code == 0
    assert kinews("adjudicate", "--root", root).exit_code == 0
    gold_file = root / "annotations" / "gold-adjudicated.jsonl"
    gold = {r["doc_id"]: r for r in map(json.loads, gold_file.read_text("utf-8").splitlines())}
    assert gold["de-emoji"]["spans"] == chosen
    closed = kinews("ls", "push", "--project", title, "--review", "--root", root)
    assert "0 documents with 0 open items" in closed.output
    assert len(review_tabs(client, task_id)) == 2  # a document without open items is untouched


# --- Incremental pulls --------------------------------------------------------------------------


def records_file(root: Path, title: str) -> Path:
    return root / "annotations" / f"ls-{title.replace(' ', '-')}.jsonl"


def test_a_repull_reads_only_changed_tasks_and_writes_what_a_full_pull_writes(
    client, label_studio, root, title, kinews
):
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    _, created = annotate(client, title)
    first = kinews("ls", "pull", "--project", title, "--drafts", "--root", root)
    assert first.exit_code == 0, first.output
    assert "read only the tasks changed" not in first.output  # the first pull reads every task

    edited, deleted = created[("de-umlaut", 1)], created[("de-flag", 0)]
    client.annotations.update(
        id=edited.id, result=browser_result([span("de-umlaut", "Düsseldorf", "ORG")])
    )
    client.annotations.delete(id=deleted.id)
    # Saving a draft leaves the task's updated_at as it was: the pull still finds it.
    task = tasks_by_doc(client, title)["de-zwj"]
    with signed_up_annotator(label_studio) as annotator:
        draft = annotator.post(
            f"/api/tasks/{task.id}/drafts",
            json={"result": browser_result([span("de-zwj", "Jena", "LOC")])},
        )
    assert draft.status_code == 201, draft.text

    again = kinews("ls", "pull", "--project", title, "--drafts", "--root", root)
    assert again.exit_code == 0, again.output
    assert "read only the tasks changed since the last pull" in again.output
    assert "1 new, 1 updated, 4 unchanged, 1 deleted, 0 skipped" in again.output
    assert f"deleted on the server: de-flag task {deleted.task} annotation {deleted.id}" in (
        again.output
    )
    incremental = records_file(root, title).read_bytes()
    [new] = [r for r in pulled(root, title) if r["origin"].get("draft") == draft.json()["id"]]
    assert new["spans"] == [span("de-zwj", "Jena", "LOC")]

    full = kinews("ls", "pull", "--project", title, "--drafts", "--full", "--root", root)
    assert full.exit_code == 0, full.output
    assert "0 new, 0 updated, 6 unchanged, 1 deleted, 0 skipped" in full.output
    assert f"unchanged: {records_file(root, title)}" in full.output
    assert records_file(root, title).read_bytes() == incremental

    # The deleted annotation is still reported by the next incremental pull, and pruned by it.
    pruned = kinews("ls", "pull", "--project", title, "--drafts", "--prune", "--root", root)
    assert "read only the tasks changed" in pruned.output
    assert "0 new, 0 updated, 6 unchanged, 1 deleted" in pruned.output
    assert deleted.id not in {r["origin"]["annotation"] for r in pulled(root, title)}


def pulled_once(client, root: Path, title: str, kinews) -> tuple[Path, bytes]:
    """Push, annotate and pull once: the pull's state file and the records file it wrote."""
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    annotate(client, title)
    assert kinews("ls", "pull", "--project", title, "--root", root).exit_code == 0
    [state] = (root / ".kinews-local" / "ls-pull").glob("*.json")
    return state, records_file(root, title).read_bytes()


def test_a_pull_reads_every_task_when_its_state_is_missing_corrupt_or_the_file_was_edited(
    client, root, title, kinews
):
    state, written = pulled_once(client, root, title, kinews)

    state.write_text("{not json", "utf-8")
    corrupt = kinews("ls", "pull", "--project", title, "--root", root)
    assert corrupt.exit_code == 0, corrupt.output
    assert "read only the tasks changed" not in corrupt.output
    assert "0 new, 0 updated, 6 unchanged" in corrupt.output
    assert (
        "read only the tasks changed"
        in kinews("ls", "pull", "--project", title, "--root", root).output
    )

    state.unlink()
    missing = kinews("ls", "pull", "--project", title, "--root", root)
    assert "read only the tasks changed" not in missing.output

    # A record edited by hand: the full pull puts the server's back, as it always has.
    lines = written.decode("utf-8").splitlines()
    lines[0] = lines[0].replace('"submitted"', '"submitted" ', 1)
    records_file(root, title).write_text("\n".join(lines) + "\n", "utf-8")
    edited = kinews("ls", "pull", "--project", title, "--root", root)
    assert "read only the tasks changed" not in edited.output
    assert records_file(root, title).read_bytes() == written

    # The state trusts the hash it recorded only while the file's size, modification time and
    # inode are unchanged: an edit in place of the same size is seen by its modification time.
    assert (
        "read only the tasks changed"
        in kinews("ls", "pull", "--root", root, "--project", title).output
    )
    same_size = written.replace(b'"submitted", ', b'"submitted" ,', 1)
    assert len(same_size) == len(written) and same_size != written
    with records_file(root, title).open("r+b") as handle:
        handle.write(same_size)
    rewritten = kinews("ls", "pull", "--project", title, "--root", root)
    assert "read only the tasks changed" not in rewritten.output
    assert records_file(root, title).read_bytes() == written


def test_a_state_of_a_project_that_is_gone_is_not_used_and_asking_it_is_no_error(
    client, root, title, kinews
):
    # The changed tasks are asked of the state's project while the title is looked up: when the
    # title names another project by then, that answer (an error here) is not used.
    state, written = pulled_once(client, root, title, kinews)
    raw = json.loads(state.read_text("utf-8"))
    state.write_text(json.dumps({**raw, "project": 10**9}), "utf-8")

    again = kinews("ls", "pull", "--project", title, "--root", root)
    assert again.exit_code == 0, again.output
    assert "read only the tasks changed" not in again.output
    assert "0 new, 0 updated, 6 unchanged" in again.output
    assert records_file(root, title).read_bytes() == written
    assert json.loads(state.read_text("utf-8"))["project"] == raw["project"]


def test_a_push_after_a_push_still_sees_tasks_edited_or_deleted_in_label_studio(
    client, root, title, kinews
):
    # The second push asks only for the tasks changed since the first (its index of tasks is
    # in .kinews-local/ls-tasks/); what changed in Label Studio meanwhile is still seen.
    assert kinews("ls", "push", "--project", title, "--root", root).exit_code == 0
    assert list((root / ".kinews-local" / "ls-tasks").glob("*.json"))
    tasks = tasks_by_doc(client, title)
    client.tasks.update(str(tasks["de-flag"].id), data={**tasks["de-flag"].data, "text": "Neu."})
    edited = kinews("ls", "push", "--project", title, "--root", root)
    assert edited.exit_code == 0, edited.output
    assert "changed text: de-flag (use --update-changed)" in edited.output
    assert "0 tasks added, 4 unchanged, 1 changed" in edited.output

    client.tasks.delete(str(tasks["de-emoji"].id))
    deleted = kinews("ls", "push", "--project", title, "--root", root)
    assert "1 tasks added, 3 unchanged, 1 changed" in deleted.output
    assert len(tasks_by_doc(client, title)) == len(TEXTS)
