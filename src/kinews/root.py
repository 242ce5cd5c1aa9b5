"""The dataset root: where each of its files lives, and reading its corpus and annotations.

Every path below is relative to the root (`--root DIR`); stages import them from here rather
than spelling a path of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from kinews.errors import KinewsError, Problem, only_errors
from kinews.files import scan_jsonl
from kinews.records import (
    ANNOTATION_STRUCT,
    DOCUMENT_STRUCT,
    LocatedAnnotation,
    LocatedDocument,
    annotation_of,
    document_of,
    read_annotation,
    read_document,
)

DOCUMENTS_FILE = Path("corpus") / "documents.jsonl"
ANNOTATIONS_DIR = Path("annotations")
GOLD_FILE = ANNOTATIONS_DIR / "gold-adjudicated.jsonl"  # what `kinews adjudicate` writes
WORKLIST_FILE = ANNOTATIONS_DIR / "adjudication" / "worklist.jsonl"  # outside the *.jsonl glob
SCHEME_FILE = Path("schemas") / "labels.yaml"
DATASET_FILE = Path("schemas") / "dataset.yaml"
RELEASES_DIR = Path("releases")  # release records, the split manifest, diffs
MANIFEST_FILE = RELEASES_DIR / "splits.jsonl"
# Ignored by git: the machine's own state (lock, who is who) and a cache that may be deleted.
LOCAL_DIR = Path(".kinews-local")
LOCK_FILE = LOCAL_DIR / "lock"
OWNER_FILE = LOCAL_DIR / "lock.owner"  # the lock file itself is truncated on open
PSEUDONYMS_FILE = LOCAL_DIR / "annotators.json"
CACHE_DIR = Path(".kinews-cache") / "tokens"


def display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def scan_documents(root: Path) -> tuple[list[LocatedDocument], list[Problem]]:
    """Read corpus/documents.jsonl (missing file: empty corpus), collecting every bad line."""
    path = root / DOCUMENTS_FILE
    if not path.exists():
        return [], []
    name = display(root, path)
    docs: list[LocatedDocument] = []
    values, problems = scan_jsonl(path, name)
    for line, obj in values:
        doc, line_problems = read_document(obj, name, line)
        problems.extend(line_problems)
        if doc is not None:
            docs.append(LocatedDocument(name, line, doc))
    return docs, problems


def annotation_files(root: Path) -> list[Path]:
    return sorted((root / ANNOTATIONS_DIR).glob("*.jsonl"))


def nested_annotation_files(root: Path) -> list[Path]:
    """JSON Lines in sub-folders of annotations/ that no command reads (the worklist's
    adjudication/ apart): records put there would silently be left out of every check."""
    folder = root / ANNOTATIONS_DIR
    return sorted(
        p
        for p in folder.glob("*/**/*.jsonl")
        if p.relative_to(folder).parts[0] != WORKLIST_FILE.parent.name
    )


def scan_annotations(root: Path) -> tuple[list[LocatedAnnotation], list[Problem]]:
    """Read every annotations/*.jsonl, collecting every bad line (a broken line hides nothing).

    The problems include warnings (`field-unknown`); the records they name are still returned.
    """
    records: list[LocatedAnnotation] = []
    problems: list[Problem] = []
    for path in annotation_files(root):
        name = display(root, path)
        values, file_problems = scan_jsonl(path, name)
        problems.extend(file_problems)
        for line, obj in values:
            ann, line_problems = read_annotation(obj, name, line)
            problems.extend(line_problems)
            if ann is not None:
                records.append(LocatedAnnotation(name, line, ann))
    return records, problems


def load_documents(root: Path) -> list[LocatedDocument]:
    """Read the corpus. Raises KinewsError listing every bad line (warnings do not fail)."""
    docs, problems = scan_documents(root)
    if only_errors(problems):
        raise KinewsError(only_errors(problems))
    return docs


def load_annotations(root: Path) -> list[LocatedAnnotation]:
    """Read every annotation file. Raises KinewsError listing every bad line (not warnings)."""
    records, problems = scan_annotations(root)
    if only_errors(problems):
        raise KinewsError(only_errors(problems))
    return records


def read_checked(root: Path) -> tuple[list[LocatedDocument], list[LocatedAnnotation]] | None:
    """What `scan_documents` and `scan_annotations` return, decoded by msgspec, for files whose
    every line is a valid record (what the validator has checked); None when a file is not such
    a file (a blank line, a line msgspec refuses): then the scans say what is wrong with it."""
    path = root / DOCUMENTS_FILE
    docs = _decoded(root, path, DOCUMENT_STRUCT) if path.exists() else []
    if docs is None:
        return None
    documents = [LocatedDocument(name, line, document_of(value)) for name, line, value in docs]
    records: list[LocatedAnnotation] = []
    for path in annotation_files(root):
        found = _decoded(root, path, ANNOTATION_STRUCT)
        if found is None:
            return None
        records += [
            LocatedAnnotation(name, line, annotation_of(value)) for name, line, value in found
        ]
    return documents, records


def _decoded(root: Path, path: Path, kind: type) -> list[tuple[str, int, Any]] | None:
    """Each line's value with its file and line number, or None (see read_checked)."""
    data = path.read_bytes()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    try:
        values: list[Any] = msgspec.json.Decoder(kind).decode_lines(data)
    except msgspec.DecodeError:
        return None
    if len(values) != lines:  # blank lines were skipped: the line numbers would be off
        return None
    name = display(root, path)
    return [(name, number, value) for number, value in enumerate(values, start=1)]
