"""Release records in the dataset root, and the CHANGELOG entries made from them.

`releases/X.Y.Z.json` is written when version X.Y.Z is first built, and committed with the data:
its date, the tokenizer and library versions it was built with, the sha256 of every file of the
release folder, and per document its split, group, text hash, span hash, span counts per label
and annotation status (the split manifest of that release). A later build of X.Y.Z must give
the same checksums; when it does not, it is refused with what differs (files, documents, library
versions) — a changed dataset needs a new version.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kinews.errors import KinewsError, Problem, plural
from kinews.files import write_atomic
from kinews.records import Annotation, sorted_spans
from kinews.release.splits import SPLITS
from kinews.root import RELEASES_DIR

# A canonical semantic version of a release: ASCII digits, no leading zeros, no pre-release
# (`\d` would take full-width digits). The whole string: `fullmatch`.
SEMVER = r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
VERSION_PATTERN = re.compile(SEMVER)
# `## [0.2.0-rc1]` or `## [0.1.00]` is no entry of a release: the version ends at `]` or a blank.
CHANGELOG_ENTRY = re.compile(
    rf"^## \[?v?(?P<version>{SEMVER})(?=\]|[ \t]|$)\]?"
    r"(?:\s*[-\u2013\u2014]\s*(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}))?",
    re.MULTILINE,
)
# Any heading that starts like a version (any digits, an optional `[` and `v`).
CHANGELOG_VERSION_HEADING = re.compile(r"^## \[?v?\d.*$", re.MULTILINE)
TOOLS = ("datasets", "pyarrow", "somajo")


@dataclass(frozen=True, slots=True)  # a release holds one per document: no __dict__ each
class DocumentEntry:
    split: str
    group: str | None
    text_sha256: str
    spans_sha256: str
    status: str
    labels: dict[str, int]  # span count per label


@dataclass(frozen=True)
class ReleaseRecord:
    version: str
    date: str
    tokenizer: str
    tools: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)  # release-relative path -> sha256
    documents: Mapping[str, DocumentEntry] = field(default_factory=dict)  # or an EntryTable

    def to_json(self) -> str:
        return "".join(self.json_pieces())

    def json_pieces(self) -> Iterator[str]:
        """`to_json`'s text in pieces, a document at a time: a release of a million documents
        is never one string (nor json's list of a hundred million parts of one).

        The text is json.dumps of the whole record (indent 1, keys sorted); each document's
        entry is dumped by itself and indented by the two levels it sits at.
        """
        placeholder = "\0documents\0"
        head = json.dumps(
            {**vars(self), "documents": placeholder}, ensure_ascii=False, indent=1, sort_keys=True
        )
        before, after = head.split(json.dumps(placeholder))
        yield before
        if not self.documents:
            yield "{}"
        for index, doc_id in enumerate(sorted(self.documents)):
            entry = self.documents[doc_id]
            fields = {name: getattr(entry, name) for name in DocumentEntry.__dataclass_fields__}
            dumped = json.dumps(fields, ensure_ascii=False, indent=1, sort_keys=True)
            key = json.dumps(doc_id, ensure_ascii=False)
            yield ("{\n  " if index == 0 else ",\n  ") + key + ": " + dumped.replace("\n", "\n  ")
        if self.documents:
            yield "\n }"
        yield after + "\n"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def tool_versions() -> dict[str, str]:
    """Versions of the libraries whose output bytes a release depends on."""
    return {name: importlib.metadata.version(name) for name in TOOLS}


def document_entry(
    split: str, group: str | None, text_sha256: str, ann: Annotation
) -> DocumentEntry:
    """What a release record keeps about one released document."""
    spans = [[s.start, s.end, s.label] for s in sorted_spans(ann.spans)]
    return DocumentEntry(
        split=split,
        group=group,
        text_sha256=text_sha256,
        spans_sha256=hashlib.sha256(json.dumps(spans).encode("utf-8")).hexdigest(),
        status=ann.status,
        labels=dict(sorted(Counter(s.label for s in ann.spans).items())),
    )


def load_records(root: Path) -> dict[str, ReleaseRecord]:
    """Every recorded release under root/releases, oldest first.

    Raises KinewsError (`release-record-invalid`) naming a record that cannot be read.
    """
    records: dict[str, ReleaseRecord] = {}
    for path in sorted((root / RELEASES_DIR).glob("*.json")):
        name = str(RELEASES_DIR / path.name)
        try:
            raw = json.loads(path.read_text("utf-8"))
            raw["documents"] = {k: DocumentEntry(**v) for k, v in raw["documents"].items()}
            record = ReleaseRecord(**raw)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
            raise KinewsError.single(
                "release-record-invalid", f"not a release record: {err}", file=name
            ) from None
        if f"{record.version}.json" != path.name or not VERSION_PATTERN.fullmatch(record.version):
            raise KinewsError.single(
                "release-record-invalid", f"holds version {record.version!r}", file=name
            )
        records[record.version] = record
    return dict(sorted(records.items(), key=lambda item: version_key(item[0])))


def write_record(root: Path, record: ReleaseRecord) -> Path:
    """Write releases/X.Y.Z.json atomically; returns its path."""
    path = root / RELEASES_DIR / f"{record.version}.json"
    write_atomic(path, (piece.encode("utf-8") for piece in record.json_pieces()))
    return path


def differences(recorded: ReleaseRecord, built: ReleaseRecord) -> list[Problem]:
    """Why a rebuild of a recorded version does not reproduce it: files, documents, tools."""
    where = str(RELEASES_DIR / f"{recorded.version}.json")

    def problem(message: str, doc_id: str | None = None) -> Problem:
        return Problem(where, None, doc_id, None, "release-changed", message)

    problems = [
        problem(f"{path}: {_state(recorded.files.get(path), built.files.get(path))}")
        for path in sorted(set(recorded.files) | set(built.files))
        if recorded.files.get(path) != built.files.get(path)
    ]
    for doc_id in sorted(set(recorded.documents) | set(built.documents)):
        old, new = recorded.documents.get(doc_id), built.documents.get(doc_id)
        if old is None:
            problems.append(problem("document is new since this version was recorded", doc_id))
        elif new is None:
            problems.append(problem("document was released then and is not now", doc_id))
        elif old != new:
            changed = [
                name
                for name in DocumentEntry.__dataclass_fields__
                if getattr(old, name) != getattr(new, name) and name != "labels"
            ]
            problems.append(problem(f"changed since recorded: {', '.join(changed)}", doc_id))
    if problems:
        # Library versions never refuse a build by themselves; they explain differing bytes.
        problems += [
            problem(f"built with {name} {built.tools.get(name)}, recorded with {version}")
            for name, version in sorted(recorded.tools.items())
            if built.tools.get(name) != version
        ]
        problems.insert(
            0,
            problem(
                f"version {recorded.version} is recorded with other contents; a changed "
                "dataset needs a new version (the differences follow)"
            ),
        )
    return problems


def _state(recorded: str | None, built: str | None) -> str:
    if recorded is None:
        return "not in the recorded release"
    if built is None:
        return "in the recorded release, not built now"
    return f"sha256 {built[:12]}… differs from the recorded {recorded[:12]}…"


def summarise_changes(previous: ReleaseRecord | None, current: ReleaseRecord) -> list[str]:
    """Changelog lines (Markdown list items): documents and spans added/removed per split and label.

    Counted from the release records alone, so it works without the old release folder. Spans
    of a document present in both releases are compared as counts per label: a relabelled span
    is one removed and one added, a boundary shift is invisible here. Documents are counted in
    the words of `kinews diff`: added, removed, changed (its text), moved (to another split).
    `kinews diff` compares release folders span by span and can replace this function where both
    folders exist.
    """
    if previous is None:
        spans = Counter[str]()
        for entry in current.documents.values():
            spans.update(entry.labels)
        sizes = Counter(entry.split for entry in current.documents.values())
        by_label = ", ".join(f"{label} {n}" for label, n in sorted(spans.items())) or "none"
        return [
            f"- First release: {plural(len(current.documents), 'document')} ("
            + ", ".join(f"{split} {sizes[split]}" for split in SPLITS)
            + f"), {plural(sum(spans.values()), 'span')}.",
            f"- Spans by label: {by_label}.",
        ]
    docs = {split: Counter[str]() for split in SPLITS}
    added = {split: Counter[str]() for split in SPLITS}
    removed = {split: Counter[str]() for split in SPLITS}
    for doc_id in sorted(set(previous.documents) | set(current.documents)):
        old, new = previous.documents.get(doc_id), current.documents.get(doc_id)
        if new is not None and old is None:
            docs[new.split]["added"] += 1
            added[new.split].update(new.labels)
        elif old is not None and new is None:
            docs[old.split]["removed"] += 1
            removed[old.split].update(old.labels)
        elif old is not None and new is not None and old != new:
            # the words of `kinews diff`: changed = its text changed, moved = its split changed
            docs[new.split]["changed"] += old.text_sha256 != new.text_sha256
            docs[new.split]["moved"] += old.split != new.split
            for label in set(old.labels) | set(new.labels):
                delta = new.labels.get(label, 0) - old.labels.get(label, 0)
                (added if delta > 0 else removed)[new.split][label] += abs(delta)
    lines = [
        f"- {split}: {plural(docs[split]['added'], 'document')} added, "
        f"{docs[split]['removed']} removed, {docs[split]['changed']} changed, "
        f"{docs[split]['moved']} moved; {plural(sum(added[split].values()), 'span')} added, "
        f"{sum(removed[split].values())} removed"
        for split in SPLITS
    ]
    labels = sorted(
        {label for c in (*added.values(), *removed.values()) for label in c if c[label]}
    )
    for label in labels:
        plus = sum(added[split][label] for split in SPLITS)
        minus = sum(removed[split][label] for split in SPLITS)
        lines.append(f"- {label}: {plural(plus, 'span')} added, {minus} removed")
    if not labels and not any(docs[split] for split in SPLITS):
        lines.append("- No document or span changed.")
    return lines


def read_changelog(root: Path) -> str | None:
    """The text of root/CHANGELOG.md (None when there is none), its release entries checked.

    Raises KinewsError (`changelog-invalid`) for a file that cannot be read, is not UTF-8, or
    has two entries for one version (which one would date the release?), at the line.
    """
    path = root / "CHANGELOG.md"
    if not path.exists():
        return None
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KinewsError.single(
            "changelog-invalid", f"cannot be read: {err.strerror}", file=str(path)
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise KinewsError.single(
            "changelog-invalid",
            f"not valid UTF-8: bad byte 0x{data[err.start]:02x} at byte offset {err.start}",
            file=str(path),
            line=data.count(b"\n", 0, err.start) + 1,
        ) from None
    first: dict[str, int] = {}
    problems = []
    for match in CHANGELOG_ENTRY.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match["version"] in first:
            problems.append(
                Problem(
                    str(path),
                    line,
                    None,
                    None,
                    "changelog-invalid",
                    f"a second entry for {match['version']} (the first is at line "
                    f"{first[match['version']]}); keep one",
                )
            )
        first.setdefault(match["version"], line)
    if problems:
        raise KinewsError(problems)
    return text


def changelog_date(root: Path, version: str) -> str | None:
    """The date of the `## [version] - YYYY-MM-DD` entry of root/CHANGELOG.md, if any."""
    text = read_changelog(root)
    for match in CHANGELOG_ENTRY.finditer(text or ""):
        if match["version"] == version:
            return match["date"]
    return None


def add_changelog_entry(root: Path, record: ReleaseRecord, lines: list[str]) -> bool:
    """Add the release's entry to root/CHANGELOG.md unless it has one; True when added.

    The entry goes above the newest one, so the newest entry stays the current version. An
    entry a maintainer wrote beforehand is kept as written.
    """
    path = root / "CHANGELOG.md"
    text = read_changelog(root) or "# Changelog\n"
    if any(m["version"] == record.version for m in CHANGELOG_ENTRY.finditer(text)):
        return False
    entry = f"## [{record.version}] - {record.date}\n\n### Changes\n" + "\n".join(lines) + "\n\n"
    newest = CHANGELOG_ENTRY.search(text)
    if newest is None:
        text = text.rstrip("\n") + "\n\n" + entry
    else:
        text = text[: newest.start()] + entry + text[newest.start() :]
    write_atomic(path, text.rstrip("\n").encode("utf-8") + b"\n")
    return True
