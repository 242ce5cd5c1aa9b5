"""Converted tasks merged into one records file of annotations/: the common end of pull and import.

Pulled records are written sorted and only when their bytes change, so pulling twice with nothing
changed on the server rewrites nothing. A record whose annotation is gone from the server is
reported and kept, unless pruned. An incremental pull passes a `Carry`: the tasks it did not read
again keep their records as they are, and what the last pull said about them is said again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec

from kinews.errors import KinewsError
from kinews.files import scan_jsonl, write_atomic
from kinews.labelstudio import export as labelstudio
from kinews.labelstudio.provenance import (
    Known,
    Source,
    annotation_key,
    check_owner,
    known_annotations,
    pseudonym_clash,
    same_server,
)
from kinews.labelstudio.pseudonyms import Pseudonyms
from kinews.records import Annotation, Document, annotation_from_json, document_from_json, dumps
from kinews.root import DOCUMENTS_FILE, load_documents
from kinews.scheme import Scheme, load_scheme


@dataclass(frozen=True)
class PullReport:
    path: Path
    new: int
    updated: int
    unchanged: int
    deleted: tuple[str, ...]  # records whose annotation is gone from the server
    pruned: bool
    skipped: tuple[tuple[str, int], ...]  # (reason, count)
    written: bool
    elsewhere: tuple[tuple[str, str], ...] = ()  # (annotation, where its record already is)
    incremental: bool = False  # only the tasks changed since the last pull were read


@dataclass(frozen=True)
class Carry:
    """An incremental pull: which tasks were read again; what the last pull knew of the rest."""

    read: frozenset[Any]
    skipped: Mapping[str, Mapping[str, int]]  # task id -> reason -> count
    gone: frozenset[str]  # record keys (`record_key`) deleted on the server


@dataclass(frozen=True)
class Outcome:
    """What the next incremental pull needs to know of this one."""

    report: PullReport
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    gone: tuple[str, ...] = ()
    content: bytes = b""  # the records file's bytes, as written or as they were
    written_sha256: str = ""  # their sha256, when written (hashed while they were)


@dataclass(slots=True)  # not frozen: a frozen one's __init__ costs twice (20,000 a pull)
class Line:
    """One record of the records file: its key, what it sorts by, its JSON line (UTF-8)."""

    key: tuple[str, ...]
    order: tuple[str, ...]
    text: bytes
    task: Any
    doc_id: Any
    annotation: Any

    @property
    def describe(self) -> str:
        return f"{self.doc_id} task {self.task} annotation {self.annotation}"


@dataclass
class Local:
    """What a conversion reads from the root, read once."""

    scheme: Scheme
    docs: Mapping[str, Document]
    display: str
    old: dict[tuple[str, ...], Line] = field(default_factory=dict)
    known: dict[tuple[str, ...], list[Known]] = field(default_factory=dict)
    annotators: set[str] = field(default_factory=set)
    raw: bytes | None = None  # the records file's bytes, when read_records kept them
    by_task: dict[Any, list[tuple[int, bytes]]] | None = None  # its lines by task (indexed)


def read_corpus(root: Path, path: Path, lazily: bool = False) -> Local:
    """The scheme and corpus a conversion into `path` checks tasks against.

    `lazily` (a corpus the last pull read as valid, unchanged since): a document is parsed only
    when a task names it. Raises KinewsError for a corpus line that does not parse.
    """
    docs: Mapping[str, Document]
    if lazily:
        docs = LazyDocuments(root / DOCUMENTS_FILE)
    else:
        docs = {d.doc.id: d.doc for d in load_documents(root)}
    return Local(load_scheme(root), docs, _display(root, path))


class LazyDocuments(Mapping[str, Document]):
    """The corpus by id, each document parsed on first use (an incremental pull reads a few)."""

    def __init__(self, path: Path):
        self.path = path
        self._lines: dict[str, tuple[int, bytes]] | None = None
        self._parsed: dict[str, Document] = {}

    def _index(self) -> dict[str, tuple[int, bytes]]:
        if self._lines is None:
            self._lines = {}
            if self.path.exists():
                data = self.path.read_bytes()
                lines = _numbered(data)
                # One call for the whole file (it skips blank lines, as `lines` does).
                ids = _ID.decode_lines(data)
                if len(ids) != len(lines):
                    ids = [_ID.decode(raw) for _, raw in lines]
                self._lines = {str(i.id): line for i, line in zip(ids, lines, strict=True)}
        return self._lines

    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self._parsed:
            number, text = self._index()[doc_id]
            self._parsed[doc_id] = document_from_json(json.loads(text), str(self.path), number)
        return self._parsed[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._index()


class _Id(msgspec.Struct):
    id: Any = None


_ID = msgspec.json.Decoder(_Id)


def _numbered(data: bytes) -> list[tuple[int, bytes]]:
    """The file's non-blank lines with their numbers (split at \\n only, as `scan_jsonl` does:
    a text may hold U+2028, which str.splitlines would split at)."""
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    # A file kinews wrote has no blank line: then no loop in Python (20,000 lines a pull).
    if all(parts) and not any(map(bytes.isspace, parts)):
        return list(enumerate(parts, 1))
    return [(n, raw) for n, raw in enumerate(parts, 1) if raw.strip()]


def read_records(
    root: Path, local: Local, path: Path, owner: Source, reread: frozenset[Any] | None = None
) -> None:
    """Read the records file and the root's other Label Studio records into `local`.

    With `reread` (an incremental pull, the file as the last pull wrote it), only the records of
    those tasks are parsed in full; of the others only the key, sort order and line are kept
    (`index_records`, which may have run already). Raises KinewsError for unreadable records, or
    (`ls-file-foreign`) when the file holds records of another source.
    """
    own: list[tuple[int, Annotation]] = []
    if reread is not None and index_records(root, local, path):
        by_task = local.by_task or {}
        lines = sorted(line for task in reread for line in by_task.get(task, ()))  # file order
        for number, text in lines:
            own.append((number, annotation_from_json(json.loads(text), str(path), number)))
    else:
        local.known, local.annotators = known_annotations(root, skip=local.display)
        if not path.exists():
            return
        values, problems = scan_jsonl(path, str(path))
        for number, obj in values:
            try:
                own.append((number, annotation_from_json(obj, str(path), number)))
            except KinewsError as err:
                problems.extend(err.problems)
        if problems:
            raise KinewsError(problems)
        check_owner([r for _, r in own], owner, local.display)
        local.old = {_key(r): _line(r, dumps(r).encode("utf-8")) for _, r in own}
    for number, record in own:
        if (record.origin or {}).get("tool") == labelstudio.TOOL:
            known = Known(local.display, number, record)
            local.known.setdefault(annotation_key(record), []).append(known)
        local.annotators.add(record.annotator)


def index_records(root: Path, local: Local, path: Path) -> bool:
    """Keep in `local` the key, sort order and line of each record of the file, as the last
    pull wrote it (a pull does this while the server answers), and the root's other Label
    Studio records; once. False when the file is not one record of ours a line after all:
    `read_records` then reads it in full.
    """
    if local.by_task is not None:
        return True
    local.known, local.annotators = known_annotations(root, skip=local.display)
    if not path.exists():
        local.by_task = {}
        return True
    data = path.read_bytes()
    try:  # one call for the whole file: ours, one record a line, an object its origin
        heads = _HEAD.decode_lines(data)
    except msgspec.DecodeError:  # (a ValidationError is one too)
        heads = []
    lines = _numbered(data)
    if len(heads) != len(lines):
        return False
    by_task: dict[Any, list[tuple[int, bytes]]] = {}
    for head, (number, text) in zip(heads, lines, strict=True):
        o = head.origin
        key = (_dumps(o.project), _dumps(o.task), _dumps(o.annotation), _dumps(o.draft))
        order = (str(head.doc_id), str(head.annotator), *key)
        local.old[key] = Line(key, order, text, o.task, head.doc_id, o.annotation)
        local.annotators.add(str(head.annotator))
        by_task.setdefault(o.task, []).append((number, text))
    local.raw, local.by_task = data, by_task
    return True


class _Origin(msgspec.Struct):
    """An origin's key fields (`_KEY_FIELDS`): only these are decoded."""

    project: Any = None
    task: Any = None
    annotation: Any = None
    draft: Any = None


class _Head(msgspec.Struct):
    doc_id: Any = None
    annotator: Any = None
    origin: _Origin = msgspec.field(default_factory=_Origin)


_HEAD = msgspec.json.Decoder(_Head)
_KEY_FIELDS = ("project", "task", "annotation", "draft")


def _dumps(value: Any) -> str:
    """json.dumps, short-cut for the ids a key is made of (20,000 records: a second saved)."""
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    return json.dumps(value)


def _line(record: Annotation, text: bytes) -> Line:
    origin = record.origin or {}
    return Line(
        _key(record),
        _order(record),
        text,
        origin.get("task"),
        record.doc_id,
        origin.get("annotation"),
    )


def convert_and_write(
    root: Path,
    local: Local,
    tasks: Iterable[dict[str, Any]],
    origin: dict[str, Any],
    options: labelstudio.Options,
    emails: dict[int, str],
    path: Path,
    prune: bool,
    source: str,
    owner: Source,
    carry: Carry | None = None,
) -> Outcome:
    """Convert `tasks` into records and merge them into `path`.

    Raises KinewsError (nothing written) naming each task, annotation and span that does not
    fit, or (`ls-pseudonym-clash`) when the pseudonym map contradicts the root's records.
    """
    pseudonyms = Pseudonyms.load(root)
    pseudonyms.reserve(local.annotators)

    def identity(item: dict[str, Any]) -> str:
        user = item.get("completed_by", item.get("user"))
        if isinstance(user, dict):
            user = user.get("email") or user.get("id")
        if isinstance(user, int) and not isinstance(user, bool):
            user = emails.get(user, f"label-studio-user-{user}")
        return str(user) if user else "unknown"

    conversion = labelstudio.convert_tasks(
        tasks, local.docs, local.scheme, identity, origin, options, source
    )
    # The same annotation already in the root (pulled, or imported from another export) keeps
    # its record there, and its annotator the pseudonym that record names.
    elsewhere: list[tuple[str, str]] = []
    converted: list[Annotation] = []
    clashes = []
    for record in conversion.records:
        same = [
            k for k in local.known.get(annotation_key(record), ()) if same_server(k.record, owner)
        ]
        for k in same:
            mapped = pseudonyms.mapping.get(record.annotator)
            if mapped is not None and mapped != k.record.annotator:
                clashes.append(pseudonym_clash(mapped, k))
            pseudonyms.adopt(record.annotator, k.record.annotator)
        other = next((k for k in same if k.file != local.display), None)
        if other is not None:
            elsewhere.append((_describe(record), f"already in {other.file}:{other.line}"))
            continue
        converted.append(replace(record, annotator=pseudonyms.assign(record.annotator)))
    if clashes:
        raise KinewsError(clashes)
    old = local.old
    fresh = {_key(r): _line(r, dumps(r).encode("utf-8")) for r in converted}
    kept = {k: line for k, line in old.items() if k not in fresh}
    if carry is None:
        carried: dict[tuple[str, ...], Line] = {}
    else:
        carried = {
            k: line
            for k, line in kept.items()
            if line.task not in carry.read and not (carry.gone and record_key(k) in carry.gone)
        }
    gone = {k: line for k, line in kept.items() if k not in carried}
    deleted = tuple(sorted(line.describe for line in gone.values()))
    merged = [*fresh.values(), *carried.values(), *([] if prune else gone.values())]
    # One join, no copy of each line with its \n (28 MB at 10,000 tasks).
    texts = [line.text for line in sorted(merged, key=attrgetter("order"))]
    data = b"\n".join([*texts, b""])
    pseudonyms.save()  # before the records, so no record names a pseudonym the map lacks
    # No file for a project without records yet; otherwise only when its bytes change.
    if path.exists():
        written = (local.raw if local.raw is not None else path.read_bytes()) != data
    else:
        written = bool(merged)
    sha256 = ""
    if written:
        from concurrent.futures import ThreadPoolExecutor

        # hashlib lets go of the GIL: the bytes are hashed (for the pull state) while the disk
        # takes them (28 MB at 10,000 tasks: a tenth of a second each)
        with ThreadPoolExecutor(1) as pool:
            hashed = pool.submit(lambda: hashlib.sha256(data).hexdigest())
            write_atomic(path, data)
            sha256 = hashed.result()
    per_task: dict[str, dict[str, int]] = {}
    if carry is not None:
        per_task = {t: dict(r) for t, r in carry.skipped.items() if _task(t) not in carry.read}
    for which, reason in conversion.skipped:
        reasons = per_task.setdefault(labelstudio.skipped_task(which), {})
        reasons[reason] = reasons.get(reason, 0) + 1
    skipped = Counter[str]()
    for reasons in per_task.values():
        skipped.update(reasons)
    skipped.update("already in the root" for _ in elsewhere)
    report = PullReport(
        path=path,
        new=sum(k not in old for k in fresh),
        updated=sum(k in old and old[k].text != line.text for k, line in fresh.items()),
        unchanged=sum(k in old and old[k].text == line.text for k, line in fresh.items())
        + len(carried),
        deleted=deleted,
        pruned=prune,
        skipped=tuple(sorted(skipped.items())),
        written=written,
        elsewhere=tuple(elsewhere),
        incremental=carry is not None,
    )
    gone_keys = () if prune else tuple(sorted(map(record_key, gone)))
    return Outcome(report, per_task, gone_keys, data, sha256)


def record_key(key: tuple[str, ...]) -> str:
    """A record's key (project, task, annotation, draft) as one string, for the pull state."""
    return json.dumps(list(key))


def _task(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _key(record: Annotation) -> tuple[str, ...]:
    origin = record.origin or {}
    return tuple(json.dumps(origin.get(f)) for f in _KEY_FIELDS)


def _order(record: Annotation) -> tuple[str, ...]:
    return (record.doc_id, record.annotator, *_key(record))


def _describe(record: Annotation) -> str:
    origin = record.origin or {}
    return f"{record.doc_id} task {origin.get('task')} annotation {origin.get('annotation')}"
