"""Benchmark Label Studio round trips: `kinews ls pull` and `push` beside the server's own export.

    .venv/bin/python scripts/bench_ls.py                  # N = 10,000 tasks x 2 annotators
    .venv/bin/python scripts/bench_ls.py --tasks 200      # a smoke run
    .venv/bin/python scripts/bench_ls.py --url http://127.0.0.1:8080   # a running server
                                                          # (LABEL_STUDIO_API_KEY from the env)

Without --url it starts a real Label Studio through scripts/label-studio on a free port with a
temporary data dir and a fresh token, and stops it at the end. It ingests N documents of 10kGNAD
text (../shared/data/10kgnad/test.csv, CC BY-NC-SA 4.0: read in place, benchmarks only; its
articles repeat, each repetition made a text of its own) into a temporary dataset root, creates a
project and imports every task at once with two annotations by two annotators, ~15 word-aligned
spans each (the import API takes annotations with the task: the fastest way in). Then, side by
side in one run, each kinews command in a fresh process:

- the floor: Label Studio's own JSON export of the whole project (GET /api/projects/ID/export);
- `kinews ls pull`, a first pull (no records file, no state): target at most 1.5 x the floor;
- `kinews ls pull` again after 10 annotations changed on the server: target under 3 s;
- `kinews ls push` with nothing to do: target under 5 s.

First pull and floor alternate `--repeat` times and the best of each is kept (the machine is
shared: the best run is the least disturbed one). Peak RSS and CPU seconds (user + system) are the
child's own rusage: on a loaded machine the CPU figure says what kinews costs, the wall figure also
what the load costs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parents[1]
TENKGNAD = REPO.parent / "shared" / "data" / "10kgnad" / "test.csv"
KINEWS = [sys.executable, "-m", "kinews"]
SPANS = 15
WORD = re.compile(r"[A-ZÄÖÜ]\w+(?:-\w+)*")
TITLE = f"kinews bench {secrets.token_hex(3)}"  # its own project on a server in use


def articles() -> list[str]:
    with TENKGNAD.open(encoding="utf-8", newline="") as handle:
        return [row[1] for row in csv.reader(handle, delimiter=";", quotechar="'") if row[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    key, port = secrets.token_hex(20), free_port()
    env = {
        **os.environ,
        "LABEL_STUDIO_USERNAME": f"bench-{secrets.token_hex(4)}@example.org",
        "LABEL_STUDIO_PASSWORD": secrets.token_urlsafe(16),
        "LABEL_STUDIO_API_KEY": key,
    }
    command = ["bash", str(REPO / "scripts" / "label-studio"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopping it stops Label Studio too
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Label Studio is up at "):
            return process, f"http://127.0.0.1:{port}", key
    raise SystemExit("bench_ls: Label Studio did not start (see scripts/label-studio serve)")


def stop_server(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def make_root(root: Path, n: int) -> list[dict[str, Any]]:
    """A dataset root with n ingested 10kGNAD documents; returns the corpus rows."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "annotations").mkdir()
    texts = articles()
    rows = []
    for index in range(n):
        text = texts[index % len(texts)]
        if index >= len(texts):  # a repeated article: a text of its own (ingest drops duplicates)
            text = f"{text} (Wiederholung {index // len(texts)})"
        rows.append(json.dumps({"id": f"bench-{index}", "text": text}, ensure_ascii=False))
    source = root / ".kinews-local" / "articles.jsonl"
    source.parent.mkdir()
    source.write_text("\n".join(rows) + "\n", "utf-8")
    run([*KINEWS, "ingest", str(source), "--root", str(root)])
    documents = root / "corpus" / "documents.jsonl"
    return [json.loads(line) for line in documents.read_text("utf-8").splitlines()]


def regions(text: str, labels: list[str], rng: random.Random) -> list[dict[str, Any]]:
    words = [m for m in WORD.finditer(text)]
    chosen = sorted(rng.sample(words, min(SPANS, len(words))), key=lambda m: m.start())
    return [
        {
            "id": secrets.token_hex(5),
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "origin": "manual",
            "value": {
                "start": m.start(),
                "end": m.end(),
                "text": m.group(),
                "labels": [rng.choice(labels)],
            },
        }
        for m in chosen
    ]


def make_project(client: Any, root: Path, title: str, n: int) -> tuple[int, int]:
    """The project with one task per document, two annotations each; (project id, spans)."""
    documents = root / "corpus" / "documents.jsonl"
    docs = [json.loads(line) for line in documents.read_text("utf-8").splitlines()][:n]
    sys.path.insert(0, str(REPO / "src"))
    from kinews.labelstudio.export import label_config
    from kinews.scheme import load_scheme

    scheme = load_scheme(root)
    project = client.projects.create(title=title, label_config=label_config(scheme))
    tag = secrets.token_hex(3)
    users = [
        client.users.create(
            username=f"{name}-{tag}",
            email=f"{name}-{tag}@example.org",
            password=secrets.token_urlsafe(12),
        )
        for name in ("anna", "ben")
    ]
    rng, spans = random.Random(0), 0
    for offset in range(0, len(docs), 500):
        payload = []
        for doc in docs[offset : offset + 500]:
            data = {k: doc.get(k) for k in ("text", "title", "sha256")}
            annotations = []
            for user in users:
                result = regions(doc["text"], scheme.label_names, rng)
                spans += len(result)
                annotations.append({"result": result, "completed_by": user.id, "lead_time": 9.5})
            payload.append({"data": {"doc_id": doc["id"], **data}, "annotations": annotations})
        client.projects.import_tasks(project.id, request=payload, return_task_ids=True)
    return project.id, spans


class Run(NamedTuple):
    wall: float  # seconds
    rss: float  # peak RSS, MiB (the child's own rusage)
    cpu: float  # user + system seconds: on a shared machine wall time says more about the load


def run(command: list[str]) -> Run:
    """Wall seconds, peak RSS and CPU seconds of one fresh child process."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            raise SystemExit(f"bench_ls: {' '.join(command[2:5])} failed:\n{log.read().decode()}")
    return Run(wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def export_floor(url: str, key: str, project: int) -> tuple[float, int]:
    """Wall seconds of Label Studio's own JSON export of the whole project, and its bytes."""
    import httpx

    started, size = time.perf_counter(), 0
    params = {"exportType": "JSON", "download_all_tasks": "true"}
    headers = {"Authorization": f"Token {key}"}
    with httpx.stream(
        "GET", f"{url}/api/projects/{project}/export", params=params, headers=headers, timeout=None
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            size += len(chunk)
    return time.perf_counter() - started, size


def change_annotations(client: Any, project: int, n: int) -> None:
    """Edit n annotations of n tasks spread over the project: one region dropped from each."""
    ids = [t.id for t in client.tasks.list(project=project, include="id", page_size=5000)]
    for task_id in ids[:: max(1, len(ids) // n)][:n]:
        annotation = client.annotations.list(id=task_id)[0]
        client.annotations.update(id=annotation.id, result=annotation.result[1:])


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--url", help="a running Label Studio (LABEL_STUDIO_API_KEY from the env)")
    parser.add_argument(
        "--keep", type=Path, help="with --url: keep root and project in DIR, reuse them next time"
    )
    args = parser.parse_args()
    if args.keep and not args.url:
        parser.error("--keep needs --url (a server that outlives the run)")
    from label_studio_sdk import LabelStudio

    with tempfile.TemporaryDirectory(prefix="kinews-bench-ls-") as tmp:
        server = None
        if args.url:
            url, key = args.url, os.environ["LABEL_STUDIO_API_KEY"]
        else:
            print("starting Label Studio (scripts/label-studio serve) …", file=sys.stderr)
            server, url, key = start_server(Path(tmp) / "labelstudio")
        try:
            os.environ.update(LABEL_STUDIO_URL=url, LABEL_STUDIO_API_KEY=key)
            client = LabelStudio(base_url=url, api_key=key, timeout=600)
            base = args.keep or Path(tmp)
            root, kept = base / "root", base / "bench.json"
            if kept.exists():
                title, project, spans, tasks = json.loads(kept.read_text("utf-8"))
            else:
                print(f"ingesting {args.tasks:,} documents …", file=sys.stderr)
                tasks = len(make_root(root, args.tasks))
                print("importing tasks with two annotations each …", file=sys.stderr)
                started = time.perf_counter()
                title = TITLE
                project, spans = make_project(client, root, title, tasks)
                imported = time.perf_counter() - started
                print(f"imported in {imported:.0f} s", file=sys.stderr)
                kept.write_text(json.dumps([title, project, spans, tasks]), "utf-8")
            print("measuring …", file=sys.stderr)
            records = root / "annotations" / f"ls-{title.replace(' ', '-')}.jsonl"
            pull = [*KINEWS, "ls", "pull", "--project", title, "--root", str(root)]
            floors, pulls, size = [], [], 0
            for _ in range(args.repeat):
                floor, size = export_floor(url, key, project)
                floors.append(floor)
                records.unlink(missing_ok=True)
                shutil.rmtree(root / ".kinews-local", ignore_errors=True)
                pulls.append(run(pull))
            first = min(pulls)
            unchanged = run(pull)
            change_annotations(client, project, 10)
            again = run(pull)
            push = run([*KINEWS, "ls", "push", "--project", title, "--root", str(root)])
            lines = len(records.read_text("utf-8").splitlines())
        finally:
            if server is not None:
                stop_server(server)
    floor = min(floors)
    print(
        f"\n{tasks:,} tasks x 2 annotators, {spans:,} spans, export {size / 1e6:.0f} MB "
        f"({lines:,} records); best of {args.repeat} for the floor and the first pull\n"
    )
    print("| what | wall s | CPU s | peak RSS MiB | floor / target | verdict |")
    print("|---|---:|---:|---:|---|---|")
    print(f"| Label Studio's JSON export (the floor) | {floor:.1f} | — | — | — | — |")
    ratio = first.wall / floor

    def row(what: str, r: Run, target: str, ok: bool | None) -> None:
        mark = "—" if ok is None else verdict(ok)
        print(f"| {what} | {r.wall:.1f} | {r.cpu:.1f} | {r.rss:.0f} | {target} | {mark} |")

    row(
        "`kinews ls pull`, first pull",
        first,
        f"{ratio:.2f} x the floor (target <= 1.5 x)",
        ratio <= 1.5,
    )
    row("`kinews ls pull` again, nothing changed", unchanged, "—", None)
    row("`kinews ls pull` after 10 annotations changed", again, "target < 3 s", again.wall < 3)
    row("`kinews ls push`, nothing to do", push, "target < 5 s", push.wall < 5)


if __name__ == "__main__":
    main()
