"""Where a Label Studio record came from, so that no pull or import overwrites another's.

A records file of `annotations/` belongs to one source, recorded in every record's `origin`: a
project on one server (`server`, `project`) for `ls pull`, one export file (`export`) for
`ls import`. Titles and file names are slugged into file names, and different ones share a slug
("kinews batch 1" and "Kinews Batch-1!"): a pull or import into a file that belongs to another
source is refused, never merged or pruned. An annotation is known by its project, task and
annotation (or draft) ids and its document: the same one arriving a second time, by pull and
by import, is left where it already is, and its annotator keeps the pseudonym it has there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kinews.errors import KinewsError, Problem
from kinews.files import scan_jsonl
from kinews.records import Annotation, read_annotation
from kinews.root import annotation_files

TOOL = "label-studio"


def server_id(url: str) -> str:
    """The server's URL as recorded: scheme, host, port and path; never a user, password or
    query (where a token could hide)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{host}{port}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Source:
    """Whose records a file holds: a project on a server (pull) or an export file (import)."""

    server: str | None = None
    project: Any = None
    export: str | None = None

    def describe(self) -> str:
        if self.export is not None:
            return f"the export {self.export!r}"
        return f"project {self.project}" + (f" on {self.server}" if self.server else "")

    def owns(self, record: Annotation) -> bool:
        """Whether a record of the file may stay in it. Records written before sources were
        recorded name only their project (a pull) or nothing (an import)."""
        origin = record.origin or {}
        if self.export is not None:
            return origin.get("export", self.export) == self.export and "server" not in origin
        return (
            "export" not in origin
            and origin.get("project") == self.project
            and origin.get("server", self.server) == self.server
        )


def check_owner(records: list[Annotation], source: Source, display: str) -> None:
    """Raises KinewsError (`ls-file-foreign`) when the file holds another source's records."""
    foreign = [r for r in records if not source.owns(r)]
    if foreign:
        origin = foreign[0].origin or {}
        other = Source(origin.get("server"), origin.get("project"), origin.get("export"))
        raise KinewsError.single(
            "ls-file-foreign",
            f"holds {len(foreign)} record(s) of {other.describe()}, not of {source.describe()}; "
            "nothing was written: give this one a file of its own with --out",
            file=display,
        )


def annotation_key(record: Annotation) -> tuple[str, ...]:
    """The annotation a record is of: project, task, annotation or draft id, document."""
    origin = record.origin or {}
    ids = (origin.get(f) for f in ("project", "task", "annotation", "draft"))
    return (*(json.dumps(i) for i in ids), record.doc_id)


@dataclass(frozen=True)
class Known:
    """A Label Studio record already in the root: where it is and whom it names."""

    file: str
    line: int
    record: Annotation


def known_annotations(
    root: Path, skip: str | None = None
) -> tuple[dict[tuple[str, ...], list[Known]], set[str]]:
    """The root's Label Studio records by annotation key, and every annotator any record names
    (bad lines are the validator's to report); not those of the file displayed as `skip`."""
    known: dict[tuple[str, ...], list[Known]] = {}
    annotators: set[str] = set()
    for path in annotation_files(root):
        name = str(path.relative_to(root))
        if name == skip:
            continue
        values, _ = scan_jsonl(path, name)
        for line, obj in values:
            ann, _ = read_annotation(obj, name, line)
            if ann is None:
                continue
            annotators.add(ann.annotator)
            if (ann.origin or {}).get("tool") == TOOL:
                known.setdefault(annotation_key(ann), []).append(Known(name, line, ann))
    return known, annotators


def same_server(record: Annotation, source: Source) -> bool:
    """Whether a record may be of the source's server (an import does not know its server)."""
    theirs = (record.origin or {}).get("server")
    return theirs is None or source.server is None or theirs == source.server


def pseudonym_clash(pseudonym: str, where: Known) -> Problem:
    return Problem(
        where.file,
        where.line,
        where.record.doc_id,
        None,
        "ls-pseudonym-clash",
        f"this annotation is by {where.record.annotator} here, but the local pseudonym map "
        f"names its annotator {pseudonym}; correct .kinews-local/annotators.json",
    )
