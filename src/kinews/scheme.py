"""The label scheme in schemas/labels.yaml, and everything derived from it.

The YAML file is the only place labels are listed. ClassLabel names, the BIO tag set, the pandera
`isin` check and the dataset card's label table all come from `Scheme`; label order in the file is
the ClassLabel id order, so labels may be appended but never reordered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinews.declared import read_declaration
from kinews.errors import KinewsError, Problem
from kinews.root import SCHEME_FILE

_LABEL_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


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
    """Read and check schemas/labels.yaml against `labels.schema.json` and the rules beyond it.

    Raises KinewsError (`scheme-missing`, `scheme-invalid`) with every problem at its line.
    """
    path = root / SCHEME_FILE
    name = str(SCHEME_FILE)
    if not path.exists():
        raise KinewsError.single("scheme-missing", f"no label scheme at {path}", file=name)
    declared = read_declaration(path, "labels.schema.json", "scheme-invalid", display=name)
    return scheme_from_yaml(declared.data, name, declared.line_of)


def scheme_from_yaml(
    raw: Any, file: str, line_of: Callable[[tuple[Any, ...]], int | None] | None = None
) -> Scheme:
    """The scheme of a parsed labels.yaml; `line_of` locates a value. Raises KinewsError."""
    problems: list[Problem] = []

    def fail(message: str, *at: Any) -> None:
        line = line_of(at) if line_of is not None else None
        problems.append(Problem(file, line, None, None, "scheme-invalid", message))

    if not isinstance(raw, dict) or not isinstance(raw.get("labels"), list) or not raw["labels"]:
        fail("the scheme must be a mapping with a non-empty list `labels`", "labels")
        raise KinewsError(problems)
    if raw.get("span_policy", "flat") != "flat":
        fail("only span_policy: flat (non-overlapping spans) is supported", "span_policy")
    card = raw.get("card") or {}
    personal = card.get("personal_data") or [] if isinstance(card, dict) else None
    limitations = card.get("limitations") or {} if isinstance(card, dict) else None
    if not isinstance(personal, list) or not isinstance(limitations, dict):
        fail("`card` needs a list `personal_data` and a mapping `limitations`", "card")
        personal, limitations = [], {}
    if any(not isinstance(v, str) or not v.strip() for v in limitations.values()):
        fail("each of card.limitations must be a sentence", "card", "limitations")
        limitations = {}
    labels: list[tuple[int, Label]] = []
    for index, entry in enumerate(raw["labels"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            fail(f"labels[{index}] needs a string `name`", "labels", index)
            continue
        label_name = entry["name"]
        if not _LABEL_NAME.fullmatch(label_name):
            fail(f"label {label_name!r} must be upper case letters, digits and _", "labels", index)
            continue
        if not isinstance(entry.get("definition"), str) or not entry["definition"].strip():
            fail(f"label {label_name} needs a `definition`", "labels", index)
            continue
        max_length = entry.get("max_length")
        if max_length is not None and (
            not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1
        ):
            fail(f"label {label_name}: max_length must be a positive integer", "labels", index)
            continue
        labels.append(
            (
                index,
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
                ),
            )
        )
    for attribute in ("name", "hotkey", "color"):
        values = [getattr(label, attribute) for _, label in labels if getattr(label, attribute)]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            fail(
                f"label {attribute}s must be unique; repeated: {', '.join(duplicates)}",
                "labels",
                _first_repeat(labels, attribute),
                attribute,
            )
    if problems:
        raise KinewsError(problems)
    return Scheme(
        name=str(raw.get("name", "kinews")),
        span_policy="flat",
        labels=tuple(label for _, label in labels),
    )


def _first_repeat(labels: list[tuple[int, Label]], attribute: str) -> int:
    """The index in `labels:` of the first label repeating an earlier one's `attribute`."""
    seen: set[str] = set()
    for index, label in labels:
        value = getattr(label, attribute)
        if value in seen:
            return index
        if value:
            seen.add(value)
    return 0
