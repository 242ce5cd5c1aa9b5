"""The dataset's own declaration, `schemas/dataset.yaml`: what the dataset is, declared once.

The card, Croissant and the `datasets` builder info take the dataset's name, topic, purpose,
people and links from here (and everything measurable from the data), so a corpus made with
`kinews init` carries its own identity and nothing of kinews'. The file is checked against
`dataset.schema.json` (shipped with kinews); every problem is reported with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinews.declared import load_declaration
from kinews.errors import KinewsError
from kinews.root import DATASET_FILE

GUIDELINES_VERSION = re.compile(r"^\*\*Version (\d+(?:\.\d+)*)\*\*", re.MULTILINE)


@dataclass(frozen=True)
class Citation:
    key: str
    title: str
    author: str
    year: int
    note: str | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    pretty_name: str
    language: str
    summary: str
    description: str
    homepage: str | None
    repository: str | None
    contact: str | None
    maintainers: tuple[str, ...]
    citation: Citation
    selection: str
    curation_rationale: str
    annotators_who: str
    annotators_per_document: int
    adjudication: str
    pre_annotation: str | None
    intended_uses: tuple[str, ...]
    out_of_scope_uses: tuple[str, ...]
    limitations: tuple[str, ...]
    bias: str | None
    funding: str | None
    guidelines: str  # path of the annotation manual, relative to the root


def load_dataset_declaration(root: Path) -> Dataset:
    """Read and check `schemas/dataset.yaml`. Raises KinewsError (`dataset-invalid`)."""
    path = root / DATASET_FILE
    if not path.is_file():
        raise KinewsError.single(
            "dataset-invalid",
            "the dataset declaration is missing (`kinews init` writes one to start from)",
            file=str(path),
        )
    data: dict[str, Any] = load_declaration(path, "dataset.schema.json", "dataset-invalid")
    people, uses = data["annotators"], data["uses"]
    return Dataset(
        name=data["name"],
        pretty_name=data["pretty_name"],
        language=data["language"],
        summary=data["summary"],
        description=data["description"],
        homepage=data["homepage"],
        repository=data["repository"],
        contact=data["contact"],
        maintainers=tuple(data["maintainers"]),
        citation=Citation(**data["citation"]),
        selection=data["selection"],
        curation_rationale=data["curation_rationale"],
        annotators_who=people["who"],
        annotators_per_document=people["per_document"],
        adjudication=people["adjudication"],
        pre_annotation=people["pre_annotation"],
        intended_uses=tuple(uses["intended"]),
        out_of_scope_uses=tuple(uses["out_of_scope"]),
        limitations=tuple(data["limitations"]),
        bias=data["bias"],
        funding=data["funding"],
        guidelines=data["guidelines"],
    )


def guidelines_version(root: Path, dataset: Dataset) -> str | None:
    """The manual's version, from its first `**Version X.Y**` line; None without one."""
    path = root / dataset.guidelines
    if not path.is_file():
        raise KinewsError.single(
            "dataset-invalid",
            f"the guidelines file {dataset.guidelines} named in {DATASET_FILE} does not exist",
            file=str(root / DATASET_FILE),
        )
    match = GUIDELINES_VERSION.search(path.read_text(encoding="utf-8", errors="replace"))
    return match.group(1) if match else None
