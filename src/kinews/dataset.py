"""The dataset's own declaration, `schemas/dataset.yaml`: what the dataset is, declared once.

The card, Croissant and the `datasets` builder info take the dataset's name, topic, purpose,
people and links from here (and everything measurable from the data), so a corpus made with
`kinews init` carries its own identity and nothing of kinews'. The file is checked against
`dataset.schema.json` (shipped with kinews); every problem is reported with its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
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
    # The fields of a section of the file (annotators:, uses:) are named section_field.
    annotators_who: str
    annotators_per_document: int
    annotators_adjudication: str
    annotators_pre_annotation: str | None
    uses_intended: tuple[str, ...]
    uses_out_of_scope: tuple[str, ...]
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
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "citation":
            flat[key] = Citation(**value)
        elif isinstance(value, dict):  # a section: its fields are section_field
            flat.update({f"{key}_{name}": v for name, v in value.items()})
        else:
            flat[key] = value
    # The schema requires every key, so each field has its value; lists become tuples.
    values: dict[str, Any] = {
        f.name: tuple(flat[f.name]) if isinstance(flat[f.name], list) else flat[f.name]
        for f in fields(Dataset)
    }
    return Dataset(**values)


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
