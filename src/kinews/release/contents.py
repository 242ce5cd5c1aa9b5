"""What the card says about a release's rows, summed a batch of documents at a time.

The build writes each batch's rows and forgets them; the card still needs their counts (rows,
spans per label, tokens), the first row of each config, the records' facts, the sources and the
agreement figures. `ContentsTally` keeps exactly those, so its memory does not follow the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kinews.adjudication.agreement import AgreementReport
from kinews.adjudication.tally import AgreementTally
from kinews.records import Annotation, Document
from kinews.release.card_facts import SourceRow, Sources
from kinews.release.configs import CONFIGS
from kinews.release.datasheet import AnnotationFacts, annotation_facts
from kinews.release.parquet import Rows
from kinews.release.splits import SPLITS
from kinews.scheme import Scheme
from kinews.tokens import Proposals


@dataclass(frozen=True)
class Contents:
    """The card's figures of a release's rows and records."""

    rows: dict[str, dict[str, int]]  # per config, per split
    label_counts: dict[str, Counter[str]]  # per split, released spans by label name
    tokens: dict[str, int]  # per split, of the sentences config
    spans: int  # released spans
    examples: dict[str, dict[str, Any]]  # the first row of each config that has one
    annotation: AnnotationFacts
    statuses: Counter[str]  # released records by status
    sources: Sources
    agreement: AgreementReport


@dataclass
class ContentsTally:
    """`Contents` of the batches added so far; batches come in document id order."""

    scheme: Scheme
    rows: dict[str, dict[str, int]] = field(init=False)
    label_counts: dict[str, Counter[str]] = field(init=False)
    tokens: dict[str, int] = field(init=False)
    spans: int = 0
    firsts: dict[str, dict[str, dict[str, Any]]] = field(init=False)  # config -> split -> row
    annotation: AnnotationFacts = field(default_factory=lambda: annotation_facts([], []))
    statuses: Counter[str] = field(default_factory=Counter)
    sources: Sources = field(default_factory=Sources)
    agreement: AgreementTally = field(init=False)

    def __post_init__(self) -> None:
        self.rows = {c: dict.fromkeys(SPLITS, 0) for c in CONFIGS}
        self.label_counts = {split: Counter() for split in SPLITS}
        self.tokens = dict.fromkeys(SPLITS, 0)
        self.firsts = {c: {} for c in CONFIGS}
        self.agreement = AgreementTally(self.scheme.label_names)

    def add_rows(self, config: str, split: str, rows: Rows) -> None:
        """One batch's rows of a config's split."""
        if not len(rows):
            return
        self.rows[config][split] += len(rows)
        if split not in self.firsts[config]:
            self.firsts[config][split] = _first(rows)
        if config == "documents":
            names = self.scheme.label_names
            assert isinstance(rows, list)
            for row in rows:
                self.label_counts[split].update(names[s["label"]] for s in row["spans"])
                self.spans += len(row["spans"])
        elif config == "sentences":
            self.tokens[split] += _tokens(rows)

    def add_documents(
        self,
        released: Sequence[Document],
        layers: Mapping[str, list[Annotation]],
        chosen: Mapping[str, Annotation],
        proposals: Mapping[str, Proposals],
    ) -> None:
        """One batch's released documents, every record of each, the record each is released
        with, and SoMaJo's proposals for each (which agreement reuses)."""
        records = [a for d in released for a in layers[d.id]]
        ids = [d.id for d in released]
        self.annotation = self.annotation + annotation_facts(records, ids)
        self.statuses.update(chosen[d.id].status for d in released)
        self.sources += Sources.of(
            SourceRow(d.id, d.source, d.url, d.license, d.notes) for d in released
        )
        self.agreement.add({d.id: d for d in released}, records, proposals)

    def contents(self) -> Contents:
        return Contents(
            rows={c: dict(by_split) for c, by_split in self.rows.items()},
            label_counts=self.label_counts,
            tokens=self.tokens,
            spans=self.spans,
            examples={
                config: next(firsts[s] for s in SPLITS if s in firsts)
                for config, firsts in self.firsts.items()
                if firsts
            },
            annotation=self.annotation,
            statuses=self.statuses,
            sources=self.sources,
            agreement=self.agreement.report(),
        )


def _first(rows: Rows) -> dict[str, Any]:
    return rows.slice(0, 1).to_pylist()[0] if isinstance(rows, pa.Table) else rows[0]


def _tokens(rows: Rows) -> int:
    """Tokens of a batch of the sentences config."""
    if isinstance(rows, pa.Table):
        return int(pc.sum(pc.list_value_length(rows["tokens"])).as_py() or 0)
    return sum(len(r["tokens"]) for r in rows)
