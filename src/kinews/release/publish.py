"""A release folder → a dataset repository on the Hugging Face Hub, in one commit, tagged.

The only module that talks to the Hub or reads a Hub token. The token comes from `HF_TOKEN` or
the cached `hf auth login`, through huggingface_hub's own lookup; it is handed to `HfApi` and
never printed, logged or written. The endpoint is huggingface_hub's (`HF_ENDPOINT` overrides it).

Order of work, so that a failure leaves nothing half-published under the version's name:
check the release locally (its SHA256SUMS) → read the repository's refs and refuse when the tag
exists → create the repository if missing → one commit "Release vX.Y.Z" that adds every file and
deletes remote files the release does not have → compare the remote file list, sizes and content
ids at that commit with the release → only then tag it `vX.Y.Z`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from kinews import __version__
from kinews.errors import KinewsError, Problem
from kinews.redact import server_text
from kinews.release.folder import CARD, CHECKSUMS, check_checksums, mismatched, release_version

try:  # huggingface_hub >= 2 speaks httpx2; older releases use requests, whose errors are OSErrors
    from httpx2 import HTTPError as _TransportError
except ImportError:  # pragma: no cover - depends on the installed huggingface_hub
    _TransportError = OSError  # type: ignore[assignment,misc]

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# Created by the Hub with every repository; not part of a release, never deleted.
HUB_OWN_FILES = frozenset({".gitattributes"})


class _Repo(TypedDict):
    """The arguments naming the repository in every HfApi call (typed for the `**` expansion)."""

    repo_id: str
    repo_type: str


@dataclass(frozen=True)
class ReleaseFile:
    path: str  # relative to the release folder, with `/`
    size: int
    sha256: str
    git_blob_id: str  # what the Hub reports for a file stored in git (not LFS)


@dataclass(frozen=True)
class PublishPlan:
    release: Path
    repo_id: str
    version: str
    private: bool
    files: tuple[ReleaseFile, ...]

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def message(self) -> str:
        return f"Release {self.tag}"

    def operations(self) -> list[str]:
        """Every operation a publish performs, in order, for people (and `--dry-run`)."""
        visibility = "private" if self.private else "public"
        total = sum(f.size for f in self.files)
        return [
            f"read the refs of dataset repository {self.repo_id}; stop if tag {self.tag} exists",
            f"create dataset repository {self.repo_id} ({visibility}) if it does not exist",
            f'commit "{self.message}" to main: add {len(self.files)} files ({total} bytes), '
            "delete remote files the release does not have (except .gitattributes)",
            *(f"  add {f.path} ({f.size} bytes, sha256 {f.sha256[:12]}…)" for f in self.files),
            f"verify the file list, sizes and content ids at that commit against {self.release}",
            f"tag the commit {self.tag}",
        ]


@dataclass(frozen=True)
class PublishReport:
    plan: PublishPlan
    created_repo: bool
    deleted: tuple[str, ...]
    commit_oid: str
    commit_url: str
    verified: int  # files checked on the Hub


def plan_publish(release: Path, repo_id: str, root: Path, *, private: bool = False) -> PublishPlan:
    """Check a release folder and describe its publication; reads nothing from the Hub.

    The folder must be what `kinews build` made and recorded in `root`: no symbolic link in
    it, the card's version the folder's, every file as releases/X.Y.Z.json records it.
    Raises KinewsError: `repo-id-invalid`, `release-invalid`, `release-symlink`,
    `release-checksum-mismatch`, `release-version-mismatch`, `release-unrecorded`,
    `release-record-mismatch`.
    """
    if not REPO_ID.fullmatch(repo_id):
        raise KinewsError.single(
            "repo-id-invalid", f"repository id {repo_id!r} must look like ORG/NAME"
        )
    if not (release / CARD).is_file() or not (release / CHECKSUMS).is_file():
        raise KinewsError.single(
            "release-invalid",
            f"not a release folder: README.md and {CHECKSUMS} are required",
            file=str(release),
        )
    files = tuple(_release_file(release, path) for path in _files_without_links(release))
    check_checksums(release, {f.path: f.sha256 for f in files})
    version = release_version(release)
    _check_recorded(release, version, root, {f.path: f.sha256 for f in files})
    return PublishPlan(release, repo_id, version, private, files)


def _files_without_links(release: Path) -> list[Path]:
    """Every file of the release, sorted; refused if any entry is a symbolic link.

    A link may point anywhere (a home folder, /etc): an upload must never follow one out of
    the release, and `kinews build` never writes one.
    """
    links, files = [], []
    for folder, dirs, names in os.walk(release, followlinks=False):
        for name in sorted(dirs + names):
            path = Path(folder) / name
            if path.is_symlink():
                links.append(path)
            elif path.is_file():
                files.append(path)
    if links:
        raise KinewsError(
            Problem(
                f"{release.name}/{path.relative_to(release).as_posix()}",
                None,
                None,
                None,
                "release-symlink",
                "is a symbolic link; a release holds files only, and nothing is uploaded "
                "through a link",
            )
            for path in sorted(links)
        )
    return sorted(files)


def _check_recorded(release: Path, version: str, root: Path, actual: dict[str, str]) -> None:
    """The folder is the build of `version` that `root` records, file for file."""
    from kinews.release.folder import card_version
    from kinews.release.history import load_records
    from kinews.root import RELEASES_DIR

    shown = card_version(release)
    if shown != version:
        raise KinewsError.single(
            "release-version-mismatch",
            f"the card says version {shown!r}, the folder {version!r}: a renamed or edited "
            "release is not published",
            file=f"{release.name}/{CARD}",
        )
    record_file = RELEASES_DIR / f"{version}.json"
    recorded = load_records(root).get(version)
    if recorded is None:
        raise KinewsError.single(
            "release-unrecorded",
            f"no record {record_file} under the root {root}: only a release that "
            "`kinews build` made and recorded is published (build it, commit the record)",
            file=str(release),
        )
    what = {
        "unlisted": f"not in {record_file}",
        "absent": f"not in the release, but in {record_file}",
        "changed": f"sha256 differs from {record_file}",
    }
    mismatched(release, recorded.files, actual, "release-record-mismatch", what)


def publish(plan: PublishPlan) -> PublishReport:
    """Publish a planned release to the Hub (see the module docstring for the order of work).

    Raises KinewsError: `hub-token-missing`, `tag-exists`, `publish-mismatch` (nothing tagged),
    `hub-error` (the Hub refused or could not be reached).
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
    from huggingface_hub.errors import RepositoryNotFoundError
    from huggingface_hub.hf_api import RepoFile

    token = get_token()
    if not token:
        raise KinewsError.single(
            "hub-token-missing", "no Hub token: set HF_TOKEN or run `hf auth login`"
        )
    api = HfApi(token=token, library_name="kinews", library_version=__version__)
    repo: _Repo = {"repo_id": plan.repo_id, "repo_type": "dataset"}
    try:
        try:
            refs = api.list_repo_refs(**repo)
        except RepositoryNotFoundError:
            refs = None
        if refs is not None and any(t.name == plan.tag for t in refs.tags):
            raise KinewsError.single(
                "tag-exists",
                f"{plan.repo_id} already has tag {plan.tag}: a published version never changes; "
                "build and publish a new version",
            )
        if refs is None:
            api.create_repo(**repo, private=plan.private, exist_ok=True)
        main = (
            next((b.target_commit for b in refs.branches if b.name == "main"), None)
            if refs
            else None
        )
        remote = {
            entry.path
            for entry in api.list_repo_tree(**repo, recursive=True)
            if isinstance(entry, RepoFile)
        }
        local = {f.path for f in plan.files}
        deleted = tuple(sorted(remote - local - HUB_OWN_FILES))
        operations: list[CommitOperationAdd | CommitOperationDelete] = [
            *(CommitOperationAdd(f.path, str(plan.release / f.path)) for f in plan.files),
            *(CommitOperationDelete(path) for path in deleted),
        ]
        commit = api.create_commit(
            **repo,
            operations=operations,
            commit_message=plan.message,
            commit_description=f"kinews dataset release {plan.version}",
            parent_commit=main,
        )
        at_commit = list(api.list_repo_tree(**repo, recursive=True, revision=commit.oid))
        problems = _compare(plan, [e for e in at_commit if isinstance(e, RepoFile)])
        if problems:
            raise KinewsError(problems)
        api.create_tag(**repo, tag=plan.tag, revision=commit.oid, tag_message=plan.message)
    except (_TransportError, OSError, ValueError) as error:
        raise KinewsError.single(
            "hub-error",
            f"the Hub refused or could not be reached: {server_text(error, [token])}",
            file=plan.repo_id,
        ) from None
    except (KeyError, TypeError, AttributeError, IndexError) as error:
        # huggingface_hub indexes the Hub's JSON as it expects it; anything else (an HTML page,
        # another server at HF_ENDPOINT) surfaces as one of these
        raise KinewsError.single(
            "hub-error",
            "the Hub answered in a shape huggingface_hub does not know (is HF_ENDPOINT a Hub?): "
            f"{type(error).__name__}: {server_text(error, [token])}",
            file=plan.repo_id,
        ) from None
    return PublishReport(
        plan, refs is None, deleted, commit.oid, commit.commit_url, len(plan.files)
    )


def _compare(plan: PublishPlan, remote_files: list) -> list[Problem]:
    """Differences between the release and the remote files at the new commit."""
    remote = {f.path: f for f in remote_files if f.path not in HUB_OWN_FILES}
    problems = []
    for f in plan.files:
        found = remote.pop(f.path, None)
        if found is None:
            problem = "is missing on the Hub"
        elif found.size != f.size:
            problem = f"has {found.size} bytes on the Hub, {f.size} in the release"
        elif (found.lfs.sha256 if found.lfs else found.blob_id) != (
            f.sha256 if found.lfs else f.git_blob_id
        ):
            problem = "has other content on the Hub than in the release"
        else:
            continue
        problems.append(_mismatch(f.path, problem))
    problems += [_mismatch(path, "is on the Hub but not in the release") for path in remote]
    return problems


def _mismatch(path: str, what: str) -> Problem:
    return Problem(
        path,
        None,
        None,
        None,
        "publish-mismatch",
        f"{what}; the version was not tagged",
    )


def _release_file(release: Path, path: Path) -> ReleaseFile:
    content = path.read_bytes()
    return ReleaseFile(
        path.relative_to(release).as_posix(),
        len(content),
        hashlib.sha256(content).hexdigest(),
        hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest(),
    )
