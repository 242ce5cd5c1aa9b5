"""Enter one annotator's hand-made spans into Label Studio as that annotator's own user.

The kinews team annotated the 10kGNAD articles of release 0.2.0 by reading each text and writing
it out again with every span they chose wrapped as ``⟦LABEL|span text⟧`` (one file per task,
``<doc_id>.txt``). This script only turns those chosen spans into Label Studio results: it
proposes nothing. Per file it checks that the text without the markup is exactly the task's
text, converts the spans to code-point offsets (what Label Studio 1.23's UI stores), and saves
them as an annotation of the user who signed up through Label Studio's own web form (or logs
that user in again), so that ``kinews ls pull`` sees the annotator's own user. A task the user
already annotated is left alone, so a re-run adds nothing; with ``--update`` (after the annotator
re-checked their files against a new version of the guidelines) the user's annotation is updated
where its spans differ from the file, as an edit in the browser would. No lead time is sent:
the annotation time was not measured per document, and Label Studio records none then.

    LABEL_STUDIO_URL=http://127.0.0.1:8080 KINEWS_ANNOTATOR_PASSWORD=… \
        .venv/bin/python scripts/ls_submit_markup.py --project TITLE --email E MARKUP_DIR

The password comes from the environment only and is never printed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx

MARK = re.compile(r"⟦([A-Z]+)\|([^⟦⟧|]*)⟧")


def spans_of(markup: str) -> tuple[str, list[tuple[int, int, str, str]]]:
    """The plain text and the marked spans (code-point offsets into the plain text)."""
    plain: list[str] = []
    spans = []
    length = pos = 0
    for match in MARK.finditer(markup):
        before = markup[pos : match.start()]
        if "⟦" in before or "⟧" in before:
            raise ValueError(f"malformed markup before character {match.start()}")
        label, text = match.groups()
        plain.append(before)
        length += len(before)
        spans.append((length, length + len(text), label, text))
        plain.append(text)
        length += len(text)
        pos = match.end()
    rest = markup[pos:]
    if "⟦" in rest or "⟧" in rest:
        raise ValueError(f"malformed markup after character {pos}")
    plain.append(rest)
    return "".join(plain), spans


def session_of(url: str, email: str, password: str) -> httpx.Client:
    """A browser-like session of the annotator: sign up through the form, or log in."""
    client = httpx.Client(base_url=url, follow_redirects=True, timeout=60)
    for form in ("/user/signup/", "/user/login/"):
        client.get(form)
        client.post(
            form,
            data={
                "email": email,
                "password": password,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
            headers={"Referer": f"{url}{form}"},
        )
        if client.get("/api/current-user/whoami").status_code == 200:
            client.headers.update({"X-CSRFToken": client.cookies["csrftoken"], "Referer": url})
            return client
    sys.exit(f"could not sign up or log in {email}")


def tasks_of(client: httpx.Client, title: str) -> dict[str, dict[str, Any]]:
    projects = client.get("/api/projects/", params={"page_size": 1000}).json()["results"]
    [project] = [p for p in projects if p["title"] == title]
    tasks: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        answer = client.get(
            "/api/tasks/", params={"project": project["id"], "page": page, "page_size": 100}
        )
        if answer.status_code == 404:
            break
        batch = answer.json()["tasks"]
        tasks.update({t["data"]["doc_id"]: t for t in batch})
        if len(batch) < 100:
            break
        page += 1
    return tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--update", action="store_true", help="update changed annotations")
    parser.add_argument("markup_dir", type=Path)
    args = parser.parse_args()
    client = session_of(
        os.environ["LABEL_STUDIO_URL"], args.email, os.environ["KINEWS_ANNOTATOR_PASSWORD"]
    )
    me = client.get("/api/current-user/whoami").json()["id"]
    tasks = tasks_of(client, args.project)
    added = updated = skipped = 0
    for path in sorted(args.markup_dir.glob("kn-*.txt")):
        task = tasks[path.stem]
        text, spans = spans_of(path.read_text(encoding="utf-8"))
        if text != task["data"]["text"]:
            sys.exit(f"{path}: the text without markup is not the task's text")
        result = [
            {
                "id": f"{path.stem[3:9]}{n:04d}",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {"start": start, "end": end, "text": span, "labels": [label]},
            }
            for n, (start, end, label, span) in enumerate(spans)
        ]
        done = client.get(f"/api/tasks/{task['id']}/annotations/").json()
        mine = [a for a in done if a.get("completed_by") == me]
        if mine and (not args.update or _spans(mine[0]["result"]) == _spans(result)):
            skipped += 1
            continue
        if mine:
            answer = client.patch(f"/api/annotations/{mine[0]['id']}/", json={"result": result})
            updated += 1
        else:
            answer = client.post(f"/api/tasks/{task['id']}/annotations/", json={"result": result})
            added += 1
        if answer.status_code >= 300:
            sys.exit(f"{path}: Label Studio answered {answer.status_code}: {answer.text[:300]}")
    name = args.email.split("@")[0]
    print(f"{name}: {added} annotations saved, {updated} updated, {skipped} unchanged")


def _spans(result: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return sorted((r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result)


if __name__ == "__main__":
    main()
