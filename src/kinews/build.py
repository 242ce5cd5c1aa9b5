"""Validated records → a versioned release folder that `datasets.load_dataset` reads.

    dist/kinews-X.Y.Z/
      README.md                                   dataset card (card.py)
      data/documents/{split}-00000-of-00001.parquet
      SHA256SUMS                                  checksums of every other file

A split with no documents is left out (no file, no entry in the card's `configs`): datasets 5.2
cannot load an empty split at all ("Instruction ... corresponds to no data", and a zero-row row
group fails earlier with a batch size of 0), so the release lists only the splits that have rows
and `load_dataset` returns exactly those. The card says which splits are empty.
The same inputs and version give byte-identical files: rows are sorted by id, nothing records the
time of the build, and Parquet is written with fixed settings.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import ClassLabel, Features, List, Value

from kinews.card import CardFacts, render_card
from kinews.errors import KinewsError, Problem
from kinews.records import Annotation, Document, LocatedAnnotation, load_annotations, load_documents
from kinews.scheme import Scheme, load_scheme
from kinews.splits import SPLITS, assign_split
from kinews.validate import validate

VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")
CHANGELOG_VERSION = re.compile(r"^## \[?v?(\d+\.\d+\.\d+)\]?", re.MULTILINE)
METADATA_COLUMNS = ("language", "title", "source", "url", "published", "license")


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    documents: dict[str, int]  # per split
    spans: int
    unannotated: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256


def current_version(root: Path) -> str:
    """The dataset version: the newest entry of CHANGELOG.md at the root. Raises KinewsError."""
    changelog = root / "CHANGELOG.md"
    found = CHANGELOG_VERSION.search(changelog.read_text("utf-8")) if changelog.exists() else None
    if found is None:
        raise KinewsError.single(
            "version-unknown",
            "no `## [X.Y.Z]` entry in CHANGELOG.md; pass --version",
            file=str(changelog),
        )
    return found.group(1)


def document_features(scheme: Scheme) -> Features:
    """Parquet/`datasets` features of the documents config; labels come from the scheme."""
    # datasets.List, not Sequence: Sequence of a dict would become a dict of lists.
    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "spans": List(
                {
                    "start": Value("int32"),
                    "end": Value("int32"),
                    "label": ClassLabel(names=scheme.label_names),
                    "text": Value("string"),
                }
            ),
            **{name: Value("string") for name in METADATA_COLUMNS},
            "sha256": Value("string"),
            "annotation_status": Value("string"),
        }
    )


def select_release_annotations(
    docs: list[Document], records: list[LocatedAnnotation]
) -> dict[str, Annotation]:
    """The record each document is released with: its gold record, else its only submitted one.

    Raises KinewsError naming documents with several submitted records and no gold
    ("needs adjudication"), or with more than one gold record.
    """
    by_doc: dict[str, list[LocatedAnnotation]] = {}
    for record in records:
        by_doc.setdefault(record.ann.doc_id, []).append(record)
    chosen: dict[str, Annotation] = {}
    problems: list[Problem] = []
    for doc in docs:
        candidates = by_doc.get(doc.id, [])
        gold = [r for r in candidates if r.ann.status == "gold"]
        submitted = [r for r in candidates if r.ann.status == "submitted"]
        if len(gold) > 1:
            problems += [
                Problem(
                    r.file,
                    r.line,
                    doc.id,
                    None,
                    "gold-duplicate",
                    f"{len(gold)} gold records for one document; keep one",
                )
                for r in gold
            ]
        elif gold:
            chosen[doc.id] = gold[0].ann
        elif len(submitted) > 1:
            annotators = ", ".join(sorted(r.ann.annotator for r in submitted))
            problems.append(
                Problem(
                    submitted[0].file,
                    submitted[0].line,
                    doc.id,
                    None,
                    "needs-adjudication",
                    f"{len(submitted)} submitted records ({annotators}) and no "
                    f"gold record; adjudicate before releasing",
                )
            )
        elif submitted:
            chosen[doc.id] = submitted[0].ann
    if problems:
        raise KinewsError(problems)
    return chosen


def build(root: Path, version: str, out: Path) -> Release:
    """Build dist/kinews-VERSION from the corpus and annotations under `root`.

    Raises KinewsError when the input does not validate or a document needs adjudication; the
    output folder is then left as it was.
    """
    if not VERSION_PATTERN.match(version):
        raise KinewsError.single("version-invalid", f"version {version!r} must be X.Y.Z")
    errors = [p for p in validate(root) if p.severity == "error"]
    if errors:
        raise KinewsError(errors)
    scheme = load_scheme(root)
    docs = sorted((d.doc for d in load_documents(root)), key=lambda d: d.id)
    chosen = select_release_annotations(docs, load_annotations(root))

    if not chosen:
        raise KinewsError.single(
            "nothing-to-release", "no document has an annotation; annotate before building"
        )
    features = document_features(scheme)
    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    for doc in docs:
        if doc.id in chosen:
            rows[assign_split(doc.id)].append(_row(doc, chosen[doc.id], scheme))

    out.mkdir(parents=True, exist_ok=True)
    target = out / f"kinews-{version}"
    staging = Path(tempfile.mkdtemp(dir=out, prefix=f".kinews-{version}."))
    try:
        num_bytes = {
            split: _write_parquet(
                staging / "data" / "documents" / f"{split}-00000-of-00001.parquet",
                rows[split],
                features,
            )
            for split in SPLITS
            if rows[split]
        }
        label_counts = {
            split: Counter(scheme.label_names[s["label"]] for r in rows[split] for s in r["spans"])
            for split in SPLITS
        }
        facts = CardFacts(
            version=version,
            scheme=scheme,
            features=features,
            documents={split: len(rows[split]) for split in SPLITS},
            num_bytes=num_bytes,
            label_counts=label_counts,
            annotators=len({chosen[d].annotator for d in chosen}),
            statuses=Counter(a.status for a in chosen.values()),
            example=_example(rows),
            licenses=Counter(d.license or "unknown" for d in docs if d.id in chosen),
        )
        (staging / "README.md").write_text(render_card(facts), encoding="utf-8")
        files = {
            str(p.relative_to(staging)): _sha256_file(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        (staging / "SHA256SUMS").write_text(
            "".join(f"{digest}  {name}\n" for name, digest in files.items()), encoding="utf-8"
        )
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Release(
        version=version,
        path=target,
        documents={split: len(rows[split]) for split in SPLITS},
        spans=sum(len(r["spans"]) for split in SPLITS for r in rows[split]),
        unannotated=tuple(d.id for d in docs if d.id not in chosen),
        files=files,
    )


def _row(doc: Document, annotation: Annotation, scheme: Scheme) -> dict[str, Any]:
    ids = {name: index for index, name in enumerate(scheme.label_names)}
    return {
        "id": doc.id,
        "text": doc.text,
        "spans": [
            {"start": s.start, "end": s.end, "label": ids[s.label], "text": s.text}
            for s in sorted(annotation.spans)
        ],
        **{name: getattr(doc, name) for name in METADATA_COLUMNS},
        "sha256": doc.sha256,
        "annotation_status": annotation.status,
    }


def _write_parquet(path: Path, rows: list[dict[str, Any]], features: Features) -> int:
    """Write one split; returns its size in Arrow memory, as `datasets` records it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # features.arrow_schema carries the `huggingface` metadata, which is how ClassLabel names
    # survive the trip through Parquet.
    table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
    pq.write_table(table, path, compression="zstd")
    return int(table.nbytes)


def _example(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    for split in SPLITS:
        if rows[split]:
            return rows[split][0]
    return None


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
