"""Splits that never leak and never move: the committed manifest and hash assignment.

`releases/splits.jsonl` at the dataset root records the split of every document ever released,
one line `{"id", "split", "group", "since"}` per document, sorted by id. It is written when a new
version is recorded and committed with it; it is never pruned, so a document that leaves a
release and comes back returns to its split.

A document's split: the manifest's, when it has been released before; else the split of a
released document of its `group` (the same story in several outlets shares a split, so it cannot
leak from train into test); else the hash of its group key (the group, or the document id when it
has none): sha256, first 8 bytes as an integer, mapped onto [0, 1) and cut at 0.8 and 0.9.
Adding documents never moves an existing one; a build that would have to (two released documents
of one group in different splits, or a manifest that contradicts a recorded release) fails with
`split-moved`, naming the documents.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kinews.errors import KinewsError, Problem
from kinews.files import iter_jsonl, write_atomic
from kinews.root import MANIFEST_FILE

SPLITS = ("train", "validation", "test")
_CUTS = ((0.8, "train"), (0.9, "validation"), (1.0, "test"))


class Grouped(Protocol):
    """What a document's split depends on (a Document, or the build's outline of one)."""

    @property
    def id(self) -> str: ...
    @property
    def group(self) -> str | None: ...


@dataclass(frozen=True, slots=True)  # one per document ever released
class Assignment:
    doc_id: str
    split: str
    group: str | None
    since: str  # the version that first released the document


def assign_split(key: str) -> str:
    """The split a group key (a group, or a document id) hashes to (80/10/10)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return next(split for cut, split in _CUTS if position < cut)


def load_manifest(root: Path) -> dict[str, Assignment]:
    """The committed split manifest (missing file: nothing released yet).

    Raises KinewsError (`release-record-invalid`) naming the line of a malformed entry.
    """
    path = root / MANIFEST_FILE
    if not path.exists():
        return {}
    manifest: dict[str, Assignment] = {}
    for line, obj in iter_jsonl(path, str(MANIFEST_FILE)):
        fields = obj if isinstance(obj, dict) else {}
        doc_id, split = fields.get("id"), fields.get("split")
        group, since = fields.get("group"), fields.get("since")
        if not (
            isinstance(doc_id, str)
            and split in SPLITS
            and isinstance(group, str | None)
            and isinstance(since, str)
        ):
            raise KinewsError.single(
                "release-record-invalid",
                'expected {"id": str, "split": train|validation|test, "group": str|null, '
                '"since": "X.Y.Z"}',
                file=str(MANIFEST_FILE),
                line=line,
            )
        manifest[doc_id] = Assignment(doc_id, split, group, since)
    return manifest


def write_manifest(root: Path, manifest: Mapping[str, Assignment]) -> None:
    """Write the manifest atomically, one line per document, sorted by id."""
    lines = (
        json.dumps(
            {"id": a.doc_id, "split": a.split, "group": a.group, "since": a.since},
            ensure_ascii=False,
        ).encode("utf-8")
        + b"\n"
        for a in (manifest[doc_id] for doc_id in sorted(manifest))
    )
    write_atomic(root / MANIFEST_FILE, lines)  # a line at a time: a million make 100 MB


def merge_recorded(
    manifest: Mapping[str, Assignment], recorded: Iterable[tuple[str, str, str]]
) -> dict[str, Assignment]:
    """The manifest completed with the splits of recorded releases: (version, doc id, split).

    Raises KinewsError (`split-moved`) where the manifest contradicts a recorded release.
    """
    merged = dict(manifest)
    problems: list[Problem] = []
    for version, doc_id, split in recorded:
        known = merged.get(doc_id)
        if known is None:
            merged[doc_id] = Assignment(doc_id, split, None, version)
        elif known.split != split:
            problems.append(
                Problem(
                    str(MANIFEST_FILE),
                    None,
                    doc_id,
                    None,
                    "split-moved",
                    f"the manifest puts it in {known.split}, but release {version} has it in "
                    f"{split}; a released document never moves",
                )
            )
    if problems:
        raise KinewsError(problems)
    return merged


def assign_splits(
    docs: Iterable[Grouped], manifest: Mapping[str, Assignment], version: str
) -> dict[str, Assignment]:
    """The split of every document: released ones keep theirs, a group shares one, new by hash.

    Raises KinewsError (`split-moved`) when keeping a group together would move a released
    document, naming the documents and their splits.
    """
    groups: dict[str, list[Grouped]] = {}
    for doc in docs:
        groups.setdefault(doc.group or doc.id, []).append(doc)
    result: dict[str, Assignment] = {}
    problems: list[Problem] = []
    for key, members in sorted(groups.items()):
        released = {d.id: manifest[d.id].split for d in members if d.id in manifest}
        splits = set(released.values())
        if len(splits) > 1:
            where = ", ".join(f"{doc_id} in {split}" for doc_id, split in sorted(released.items()))
            problems.append(
                Problem(
                    None,
                    None,
                    min(released),
                    None,
                    "split-moved",
                    f"group {key!r} joins documents released in different splits ({where}); "
                    "keeping the group in one split would move a released document",
                )
            )
            continue
        split = splits.pop() if splits else assign_split(key)
        for doc in members:
            since = manifest[doc.id].since if doc.id in manifest else version
            result[doc.id] = Assignment(doc.id, split, doc.group, since)
    if problems:
        raise KinewsError(problems)
    return result


def placements(
    placed: Iterable[tuple[str, str, str | None]], manifest: Mapping[str, Assignment], version: str
) -> dict[str, Assignment]:
    """The Assignments of the documents a release `placed` (id, split, group), as
    `assign_splits` made them: one released before keeps its `since`, a new one is `version`'s.
    """
    return {
        doc_id: Assignment(
            doc_id, split, group, manifest[doc_id].since if doc_id in manifest else version
        )
        for doc_id, split, group in placed
    }
