"""The label scheme in schemas/labels.yaml, and everything derived from it.

The YAML file is the only place labels are listed. ClassLabel names, the BIO tag set, the pandera
`isin` check and the dataset card's label table all come from `Scheme`; label order in the file is
the ClassLabel id order, so labels may be appended but never reordered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kinews.errors import KinewsError
from kinews.root import SCHEME_FILE

_LABEL_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Label:
    name: str
    definition: str
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...]
    hotkey: str | None = None
    color: str | None = None
    max_length: int | None = None
    # From the scheme's `card`: the spans name people; a sentence for the card's Limitations.
    personal_data: bool = False
    limitation: str | None = None


@dataclass(frozen=True)
class Scheme:
    name: str
    span_policy: str
    labels: tuple[Label, ...]

    @property
    def label_names(self) -> list[str]:
        """ClassLabel names, in id order."""
        return [label.name for label in self.labels]

    @property
    def bio_names(self) -> list[str]:
        """Token tags `O, B-X, I-X, ...` in the order token-classification scripts expect."""
        names = ["O"]
        for label in self.labels:
            names += [f"B-{label.name}", f"I-{label.name}"]
        return names

    def label(self, name: str) -> Label:
        return next(label for label in self.labels if label.name == name)


def load_scheme(root: Path) -> Scheme:
    """Read and check schemas/labels.yaml. Raises KinewsError naming the file and label."""
    path = root / SCHEME_FILE
    name = str(SCHEME_FILE)
    if not path.exists():
        raise KinewsError.single("scheme-missing", f"no label scheme at {path}", file=name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise KinewsError.single("scheme-invalid", f"not valid YAML: {err}", file=name) from err
    return scheme_from_yaml(raw, name)


def scheme_from_yaml(raw: Any, file: str) -> Scheme:
    def fail(message: str) -> KinewsError:
        return KinewsError.single("scheme-invalid", message, file=file)

    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), list) or not raw["labels"]:
        raise fail("the scheme must be a mapping with a non-empty list `labels`")
    if raw.get("span_policy", "flat") != "flat":
        raise fail("only span_policy: flat (non-overlapping spans) is supported")
    card = raw.get("card") or {}
    personal = card.get("personal_data") or [] if isinstance(card, dict) else None
    limitations = card.get("limitations") or {} if isinstance(card, dict) else None
    if not isinstance(personal, list) or not isinstance(limitations, dict):
        raise fail("`card` needs a list `personal_data` and a mapping `limitations`")
    if any(not isinstance(v, str) or not v.strip() for v in limitations.values()):
        raise fail("each of card.limitations must be a sentence")
    labels: list[Label] = []
    for index, entry in enumerate(raw["labels"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise fail(f"labels[{index}] needs a string `name`")
        label_name = entry["name"]
        if not _LABEL_NAME.fullmatch(label_name):
            raise fail(f"label {label_name!r} must be upper case letters, digits and _")
        if not isinstance(entry.get("definition"), str) or not entry["definition"].strip():
            raise fail(f"label {label_name} needs a `definition`")
        max_length = entry.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise fail(f"label {label_name}: max_length must be a positive integer")
        labels.append(
            Label(
                name=label_name,
                definition=" ".join(entry["definition"].split()),
                examples=tuple(entry.get("examples") or ()),
                counterexamples=tuple(entry.get("counterexamples") or ()),
                hotkey=entry.get("hotkey"),
                color=entry.get("color"),
                max_length=max_length,
                personal_data=label_name in personal,
                limitation=" ".join(limitations[label_name].split())
                if label_name in limitations
                else None,
            )
        )
    for attribute in ("name", "hotkey", "color"):
        values = [getattr(label, attribute) for label in labels if getattr(label, attribute)]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise fail(f"label {attribute}s must be unique; repeated: {', '.join(duplicates)}")
    return Scheme(name=str(raw.get("name", "kinews")), span_policy="flat", labels=tuple(labels))
