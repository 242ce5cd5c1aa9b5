"""A local stand-in for the Hugging Face Hub: the one stand-in in the kinews project.

Everything else in the test suite runs against the real thing (Parquet through `datasets`,
pandera, Label Studio). The Hub is the exception because it is out of reach from here and a
publish would be irreversible; `kinews publish` is tested against this small HTTP server instead,
which `huggingface_hub` talks to through `HF_ENDPOINT`. It implements only the endpoints that
`kinews.release.publish` makes `huggingface_hub` (2.x) call, with the JSON shapes that library
parses (read from its source, `hf_api.py` and `_commit_api.py`):

    GET  /api/agent-harnesses                      public list read for huggingface_hub's user agent
    POST /api/repos/create                         create_repo (409 when it exists)
    POST /api/validate-yaml                        create_commit checks README.md's YAML first
    GET  /api/datasets/{org}/{name}/refs           list_repo_refs (404 RepoNotFound when missing)
    POST /api/datasets/{org}/{name}/preupload/{rev}  upload modes: always "regular" (inline)
    POST /api/datasets/{org}/{name}/commit/{rev}   NDJSON: header, file (base64), deletedFile
    POST /api/datasets/{org}/{name}/tag/{rev}      create_tag (409 when the tag exists)
    GET  /api/datasets/{org}/{name}/tree/{rev}     list_repo_tree (recursive, one page)

Files are always uploaded "regular" (base64 inside the commit): the Hub's LFS path goes through
Xet storage when `hf_xet` is installed, which no small stand-in can imitate. Like the Hub, a new
repository starts with one commit holding `.gitattributes`. Every request is recorded (method,
path, whether it carried the expected token) so tests can show that a dry run sent nothing;
the token itself is never stored in a record.

A stand-in made with `misbehave=` answers every request but the public one wrongly, to show
that `kinews publish` reports a located problem whatever comes back: "wrong-shape" (JSON that is
not what the endpoint returns), "html" (a 200 with an HTML page, as a wrong URL prefix gives) or
"error-500" (a 170 kB HTML error page that echoes the request's Authorization header and a
`token=` back, as some proxies do).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
Misbehaviour = Literal["wrong-shape", "html", "error-500"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorized: bool


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, bytes]


@dataclass
class Repo:
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision) or self.tags.get(revision) or revision
        return self.commits.get(oid)

    def commit(self, parent: Commit | None, message: str, files: dict[str, bytes]) -> Commit:
        seed = f"{parent.oid if parent else ''}\n{message}\n{len(self.commits)}".encode()
        new = Commit(hashlib.sha1(seed).hexdigest(), message, files)
        self.commits[new.oid] = new
        self.branches["main"] = new.oid
        return new


def git_blob_id(content: bytes) -> str:
    """The id git (and the Hub's tree API) gives a file's content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class HubStandin:
    """Start with `with HubStandin(token) as hub:`; `hub.endpoint` is the URL for HF_ENDPOINT."""

    def __init__(self, token: str, misbehave: Misbehaviour | None = None):
        self.token = token
        self.misbehave = misbehave
        self.repos: dict[str, Repo] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HubStandin:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: test output stays readable

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                authorized = self.headers.get("Authorization") == f"Bearer {hub.token}"
                with hub._lock:
                    hub.requests.append(Request(method, url.path, authorized))
                    if url.path == "/api/agent-harnesses":
                        # Public: huggingface_hub reads it without a token, for its user agent.
                        self._reply(200, {"standardEnvVars": [], "harnesses": {}})
                        return
                    if hub.misbehave is not None:
                        self._misbehave(hub.misbehave, self.headers.get("Authorization") or "")
                        return
                    if not authorized:
                        self._reply(401, {"error": "Invalid credentials in Authorization header"})
                        return
                    status, payload, headers = hub._route(
                        method, url.path, parse_qs(url.query), body
                    )
                self._reply(status, payload, headers)

            def _misbehave(self, how: Misbehaviour, authorization: str) -> None:
                if how == "wrong-shape":
                    self._reply(200, [{"unexpected": 5}])
                    return
                page = "<html><head><title>Error</title></head><body><h1>Oops</h1>"
                if how == "html":
                    self._reply(200, None, raw=(page + "</body></html>").encode(), html=True)
                    return
                echoed = f"<p>Authorization: {authorization}</p><p>?token={hub.token}</p>"
                filler = "<p>" + "lorem ipsum " * 14_000 + "</p>"  # 170 kB
                body = (page + echoed + filler + "</body></html>").encode()
                self._reply(500, None, raw=body, html=True)

            def _reply(
                self,
                status: int,
                payload: Any,
                headers: dict[str, str] | None = None,
                raw: bytes | None = None,
                html: bool = False,
            ) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if html else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    # --- routes ---------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if (method, path) == ("POST", "/api/repos/create"):
            return self._create_repo(json.loads(body))
        if (method, path) == ("POST", "/api/validate-yaml"):
            return 200, {"errors": [], "warnings": []}, {}
        parts = path.split("/")
        # /api/datasets/{org}/{name}/{action}/{revision}[/{path...}]
        if len(parts) < 6 or parts[:3] != ["", "api", "datasets"]:
            return 404, {"error": f"the stand-in does not implement {method} {path}"}, {}
        repo_id, action = f"{parts[3]}/{parts[4]}", parts[5]
        revision = unquote(parts[6]) if len(parts) > 6 else None
        repo = self.repos.get(repo_id)
        if repo is None:
            return 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
        if (method, action) == ("GET", "refs"):
            return 200, self._refs(repo), {}
        commit = repo.resolve(revision or "main")
        if commit is None:
            return 404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"}
        if (method, action) == ("POST", "preupload"):
            files = json.loads(body)["files"]
            return 200, {"files": [self._upload_mode(commit, f["path"]) for f in files]}, {}
        if (method, action) == ("POST", "commit"):
            return self._commit(repo, repo_id, commit, body)
        if (method, action) == ("POST", "tag"):
            tag = json.loads(body)["tag"]
            if tag in repo.tags:
                return 409, {"error": f"tag {tag} already exists"}, {}
            repo.tags[tag] = commit.oid
            return 200, {}, {}
        if (method, action) == ("GET", "tree"):
            return 200, self._tree(commit, "/".join(parts[7:]), query), {}
        return 404, {"error": f"the stand-in does not implement {method} {path}"}, {}

    def _create_repo(self, payload: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if payload.get("type") != "dataset":
            return 400, {"error": "the stand-in only holds dataset repositories"}, {}
        repo_id = f"{payload['organization']}/{payload['name']}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo"}, {}
        repo = Repo(private=payload.get("visibility") == "private" or bool(payload.get("private")))
        repo.commit(None, "initial commit", {".gitattributes": GITATTRIBUTES})
        self.repos[repo_id] = repo
        return 200, {"url": f"{self.endpoint}/datasets/{repo_id}"}, {}

    def _refs(self, repo: Repo) -> dict[str, Any]:
        def refs(kind: str, names: dict[str, str]) -> list[dict[str, str]]:
            return [
                {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}
                for name, oid in sorted(names.items())
            ]

        return {
            "branches": refs("heads", repo.branches),
            "tags": refs("tags", repo.tags),
            "converts": [],
            "pullRequests": [],
        }

    def _upload_mode(self, commit: Commit, path: str) -> dict[str, Any]:
        existing = commit.files.get(path)
        return {
            "path": path,
            "uploadMode": "regular",
            "shouldIgnore": False,
            "oid": git_blob_id(existing) if existing is not None else None,
        }

    def _commit(
        self, repo: Repo, repo_id: str, parent: Commit, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = lines[0]["value"]
        if header.get("parentCommit") not in (None, parent.oid):
            return 412, {"error": "A commit has happened since. Please refresh and try again."}, {}
        files = dict(parent.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                if value["path"] not in files:
                    return 404, {"error": "A file with this name doesn't exist"}, {}
                del files[value["path"]]
            else:
                return 400, {"error": f"the stand-in does not implement {key!r} operations"}, {}
        new = repo.commit(parent, header["summary"], files)
        url = f"{self.endpoint}/datasets/{repo_id}/commit/{new.oid}"
        return 200, {"commitUrl": url, "commitOid": new.oid}, {}

    def _tree(
        self, commit: Commit, under: str, query: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        recursive = query.get("recursive", ["False"])[0].lower() in ("1", "true")
        prefix = f"{under.rstrip('/')}/" if under else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, content in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :].split("/")
            for depth in range(1, len(rest)):
                folder = prefix + "/".join(rest[:depth])
                entries.setdefault(folder, {"type": "directory", "path": folder, "oid": "0" * 40})
                if not recursive:
                    break
            if recursive or len(rest) == 1:
                entries[path] = {
                    "type": "file",
                    "path": path,
                    "size": len(content),
                    "oid": git_blob_id(content),
                }
        return list(entries.values())
