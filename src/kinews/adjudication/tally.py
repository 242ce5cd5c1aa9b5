"""Agreement figures taken a batch of documents at a time, holding counts only.

`kinews.adjudication.agreement.measure` is one tally fed everything at once. A build that reads
its documents in batches feeds them here one batch after another and forgets each: what is kept
grows with the annotators, their pairs, the labels and the tag values, never with documents or
tokens. The report is exactly `measure`'s over all the batches' documents: the integer counts
do not depend on order, and the one float sum that does (Krippendorff's coincidences) is fed in
measure's order, documents by ascending id and tokens in text order — which is why batches must
come in ascending document id order.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kinews.adjudication.agreement import (
    AgreementReport,
    EntityAgreement,
    PairAgreement,
    TokenAgreement,
    document_tags,
    layers_by_document,
)
from kinews.adjudication.coefficients import Coincidences, kappa_of_counts
from kinews.adjudication.matching import VARIANTS, BothWays, Variant, compare
from kinews.records import Annotation, Document
from kinews.tokens import Proposals, tokenizer_version

OUTSIDE = ("O", "O")  # a token neither annotator of a pair put inside an entity


@dataclass
class _Pair:
    """What one pair of annotators' shared documents add up to."""

    documents: int = 0
    tags: Counter[tuple[str, str]] = field(default_factory=Counter)  # (tag of a, tag of b)
    # (variant, label; None: every label) -> match counts; absent: no span on either side yet.
    matches: dict[tuple[Variant, str | None], BothWays] = field(default_factory=dict)

    def f1(self, variant: Variant, label: str | None = None) -> float | None:
        return self.matches.get((variant, label), BothWays()).f1()


class AgreementTally:
    """`measure`'s figures accumulated batch by batch (`add`), read out with `report`."""

    def __init__(self, labels: Sequence[str]) -> None:
        self._labels = tuple(labels)  # the scheme's, in its order: the order of `by_label`
        self._last: str | None = None  # the greatest document id of the batches so far
        self._documents = 0
        self._annotators: set[str] = set()
        # In order of first appearance (documents by id, then pairs of sorted names): the
        # entity means are summed over pairs in this order.
        self._pairs: dict[tuple[str, str], _Pair] = {}
        self._spans = 0
        self._spans_by_label: Counter[str] = Counter()
        self._units = 0
        self._units_inside = 0
        self._coincidences = Coincidences()
        self._coincidences_inside = Coincidences()

    def add(
        self,
        documents: Mapping[str, Document],
        annotations: Iterable[Annotation],
        proposals: Mapping[str, Proposals] | None = None,
    ) -> None:
        """Take one batch: records with the documents they refer to.

        A batch holds every record of its documents, and its records' document ids are all
        greater than those of earlier batches (ascending id order, as `measure` reads them).
        `proposals`: SoMaJo's proposals by document id where already known (else computed here).

        Raises ValueError for a batch out of that order (a record of a document an earlier
        batch reached), KinewsError (`annotator-duplicate`) for two submitted records of one
        annotator on one document and (`span-untokenisable`, `span-overlap`) for spans BIO tags
        cannot hold; a refused batch leaves the tally as it was.
        """
        records = list(annotations)
        if records and self._last is not None:
            first = min(r.doc_id for r in records)
            if first <= self._last:
                raise ValueError(
                    f"this batch has a record of document {first}, but an earlier batch reached "
                    f"{self._last}: batches must come in ascending document id order, each with "
                    "every record of its documents"
                )
        layers = layers_by_document(records)
        known = proposals or {}
        # Every document is tagged before any is counted, so a refused batch counts nothing.
        tags = {
            doc_id: document_tags(documents[doc_id].text, by, known.get(doc_id))
            for doc_id, by in layers.items()
        }
        for doc_id, by in layers.items():
            self._add_document(by, tags[doc_id])
        if records:
            self._last = max(r.doc_id for r in records)

    def _add_document(
        self, layers: Mapping[str, Annotation], tags: Mapping[str, list[str]]
    ) -> None:
        self._documents += 1
        self._annotators.update(layers)
        for ann in layers.values():
            self._spans += len(ann.spans)
            self._spans_by_label.update(s.label for s in ann.spans)
        for a, b in itertools.combinations(layers, 2):
            pair = self._pairs.setdefault((a, b), _Pair())
            pair.documents += 1
            pair.tags.update(zip(tags[a], tags[b], strict=True))
            used = {s.label for s in (*layers[a].spans, *layers[b].spans)}
            # A label neither of them used adds nothing: its counts are all zero.
            for label in (None, *(x for x in self._labels if x in used)):
                for variant in VARIANTS:
                    key = (variant, label)
                    pair.matches[key] = pair.matches.get(key, BothWays()) + compare(
                        layers[a], layers[b], variant, label
                    )
        for unit in zip(*tags.values(), strict=True):
            self._units += 1
            self._coincidences.add(unit)
            if any(tag != "O" for tag in unit):
                self._units_inside += 1
                self._coincidences_inside.add(unit)

    def report(self) -> AgreementReport:
        """The figures over every document added so far (with two or more annotators)."""
        per_pair = []
        kappas_inside = []
        for (a, b), pair in sorted(self._pairs.items()):
            inside = {tags: n for tags, n in pair.tags.items() if tags != OUTSIDE}
            kappas_inside.append(kappa_of_counts(inside))
            per_pair.append(
                PairAgreement(
                    annotators=(a, b),
                    documents=pair.documents,
                    exact=pair.f1("exact"),
                    partial=pair.f1("partial"),
                    type=pair.f1("type"),
                    kappa=kappa_of_counts(pair.tags),
                )
            )
        return AgreementReport(
            documents=self._documents,
            annotators=len(self._annotators),
            pairs=len(self._pairs),
            entities=self._entities(self._spans),
            by_label={
                label: self._entities(self._spans_by_label[label], label)
                for label in self._labels
                if self._spans_by_label[label]
            },
            tokens=TokenAgreement(
                _mean(p.kappa for p in per_pair), self._coincidences.alpha(), self._units
            ),
            entity_tokens=TokenAgreement(
                _mean(kappas_inside), self._coincidences_inside.alpha(), self._units_inside
            ),
            per_pair=tuple(per_pair),
            tokenizer=tokenizer_version(),
        )

    def _entities(self, spans: int, label: str | None = None) -> EntityAgreement:
        scores = {v: [pair.f1(v, label) for pair in self._pairs.values()] for v in VARIANTS}
        return EntityAgreement(
            exact=_mean(scores["exact"]),
            partial=_mean(scores["partial"]),
            type=_mean(scores["type"]),
            pairs=sum(score is not None for score in scores["exact"]),
            spans=spans,
        )


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
