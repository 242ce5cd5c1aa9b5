"""Inter-annotator agreement over the documents that two or more annotators labelled.

Entity level: for every pair of annotators, F1 over the documents both labelled, with the matching
rules of nervaluate — `exact` (its "strict": same boundaries and label; the headline), `partial`
(its "partial": overlapping boundaries, label ignored, a partial match counts half) and `type`
(its "ent_type": overlapping boundaries and the same label). A pair's F1 is pooled over its
documents (micro) and the figure reported is the mean over pairs. nervaluate's greedy matching can
depend on which side is the reference, so a pair's F1 is the mean of both directions (for `exact`
both directions are equal anyway).

Token level: every annotator's spans become BIO tags over the same tokens (token boundaries are
forced at every annotator's span edges, so no span is widened), then Cohen's kappa per pair
(mean over pairs) and Krippendorff's alpha (nominal, all annotators at once, a missing annotator is
missing data). Most tokens are `O` for everyone, which inflates agreement over all tokens, so both
are also given over the tokens inside an entity: of either annotator of the pair for kappa, of any
annotator of the document for alpha.

Only `submitted` records count: a `gold` record is the outcome of agreement, not a party to it.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kinews.adjudication.coefficients import cohen_kappa, krippendorff_alpha
from kinews.adjudication.matching import VARIANTS, pair_f1
from kinews.errors import KinewsError, Problem
from kinews.proposals import default_workers, tokenize_documents
from kinews.records import Annotation, Document
from kinews.tokens import Proposals, spans_to_bio, split_sentences, tokenizer_version
from kinews.validate import load_valid


@dataclass(frozen=True)
class EntityAgreement:
    """Mean pairwise entity F1 per matching variant; None where no pair has a span to compare."""

    exact: float | None
    partial: float | None
    type: float | None
    pairs: int  # pairs the means are taken over (pairs where either annotator has a span)
    spans: int  # spans of all annotators on the compared documents


@dataclass(frozen=True)
class TokenAgreement:
    """Chance-corrected agreement on BIO tags; None where it is undefined (a single tag value)."""

    kappa: float | None  # mean pairwise Cohen's kappa
    alpha: float | None  # Krippendorff's alpha, nominal
    tokens: int  # units alpha is computed over (tokens of the compared documents)


@dataclass(frozen=True)
class PairAgreement:
    annotators: tuple[str, str]
    documents: int
    exact: float | None
    partial: float | None
    type: float | None
    kappa: float | None  # over all tokens


@dataclass(frozen=True)
class AgreementReport:
    """What `kinews agree` prints and the dataset card reports."""

    documents: int  # documents with two or more annotators
    annotators: int  # distinct annotators on those documents
    pairs: int  # annotator pairs that share at least one document
    entities: EntityAgreement
    by_label: dict[str, EntityAgreement]  # scheme order; labels nobody used are left out
    tokens: TokenAgreement  # over all tokens
    entity_tokens: TokenAgreement  # over tokens inside an entity
    per_pair: tuple[PairAgreement, ...]
    tokenizer: str  # name and version of the tokenizer the token figures rest on

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- who annotated what ---------------------------------------------------------------------


def layers_by_document(annotations: Iterable[Annotation]) -> dict[str, dict[str, Annotation]]:
    """doc_id -> annotator -> submitted record, for documents with two or more annotators.

    Raises KinewsError (`annotator-duplicate`) when one annotator has two submitted records for
    one document: which of them counts is a decision for a person, not for this function.
    """
    by_doc: dict[str, dict[str, Annotation]] = defaultdict(dict)
    problems = []
    for ann in annotations:
        if ann.status != "submitted":
            continue
        if ann.annotator in by_doc[ann.doc_id]:
            problems.append(_duplicate(ann))
        by_doc[ann.doc_id][ann.annotator] = ann
    if problems:
        raise KinewsError(problems)
    return {
        doc_id: dict(sorted(layers.items()))
        for doc_id, layers in sorted(by_doc.items())
        if len(layers) >= 2
    }


def _duplicate(ann: Annotation) -> Problem:
    # `kinews validate` reports the same with file and line; this is for callers that skip it.
    return Problem(
        None,
        None,
        ann.doc_id,
        None,
        "annotator-duplicate",
        f"{ann.annotator} has more than one submitted record for this document; keep one of them",
    )


# --- entity level ---------------------------------------------------------------------------


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


# --- token level ----------------------------------------------------------------------------


def document_tags(
    text: str, layers: Mapping[str, Annotation], proposals: Proposals | None = None
) -> dict[str, list[str]]:
    """Each annotator's BIO tags over one shared tokenisation of the document.

    Token boundaries fall at every span edge of every annotator, so no span is widened or cut.
    `proposals`: SoMaJo's for this text, when known (the build's, or the token cache's).
    Raises KinewsError (`span-untokenisable`) for a span edged with whitespace.
    """
    spans = [s for ann in layers.values() for s in ann.spans]
    sentences = split_sentences(text, spans, proposals)
    return {
        name: [tag for sentence in sentences for tag in spans_to_bio(sentence, ann.spans)]
        for name, ann in layers.items()
    }


# --- the report -----------------------------------------------------------------------------


def measure(
    documents: Mapping[str, Document],
    annotations: Iterable[Annotation],
    labels: Sequence[str],
    proposals: Mapping[str, Proposals] | None = None,
) -> AgreementReport:
    """Agreement figures over every document with two or more annotators.

    `proposals`: SoMaJo's proposals by document id where already known (else computed here).

    Raises KinewsError (`annotator-duplicate`) for two submitted records of one annotator on
    one document.
    """
    layers = layers_by_document(annotations)
    shared: dict[tuple[str, str], list[tuple[Annotation, Annotation]]] = defaultdict(list)
    for by_annotator in layers.values():
        for a, b in itertools.combinations(by_annotator, 2):
            shared[a, b].append((by_annotator[a], by_annotator[b]))

    known = proposals or {}
    tags = {
        doc_id: document_tags(documents[doc_id].text, by, known.get(doc_id))
        for doc_id, by in layers.items()
    }

    per_pair = []
    kappas_inside = []
    for (a, b), docs in sorted(shared.items()):
        tags_a = [t for x, _ in docs for t in tags[x.doc_id][a]]
        tags_b = [t for x, _ in docs for t in tags[x.doc_id][b]]
        inside = [
            i for i, (x, y) in enumerate(zip(tags_a, tags_b, strict=True)) if x != "O" or y != "O"
        ]
        kappas_inside.append(cohen_kappa([tags_a[i] for i in inside], [tags_b[i] for i in inside]))
        per_pair.append(
            PairAgreement(
                annotators=(a, b),
                documents=len(docs),
                exact=pair_f1(docs, "exact"),
                partial=pair_f1(docs, "partial"),
                type=pair_f1(docs, "type"),
                kappa=cohen_kappa(tags_a, tags_b),
            )
        )

    units_all: list[list[str]] = []
    units_inside: list[list[str]] = []
    for by_name in tags.values():
        for unit in zip(*by_name.values(), strict=True):
            units_all.append(list(unit))
            if any(tag != "O" for tag in unit):
                units_inside.append(list(unit))

    all_spans = [s for by in layers.values() for ann in by.values() for s in ann.spans]
    by_label = {}
    for label in labels:
        used = sum(s.label == label for s in all_spans)
        if used:
            by_label[label] = _entities(shared.values(), used, label)
    return AgreementReport(
        documents=len(layers),
        annotators=len({name for by in layers.values() for name in by}),
        pairs=len(shared),
        entities=_entities(shared.values(), len(all_spans)),
        by_label=by_label,
        tokens=TokenAgreement(
            _mean(p.kappa for p in per_pair), krippendorff_alpha(units_all), len(units_all)
        ),
        entity_tokens=TokenAgreement(
            _mean(kappas_inside), krippendorff_alpha(units_inside), len(units_inside)
        ),
        per_pair=tuple(per_pair),
        tokenizer=tokenizer_version(),
    )


def _entities(
    pairs: Iterable[list[tuple[Annotation, Annotation]]], spans: int, label: str | None = None
) -> EntityAgreement:
    scores: dict[str, list[float | None]] = {variant: [] for variant in VARIANTS}
    for docs in pairs:
        for variant in VARIANTS:
            scores[variant].append(pair_f1(docs, variant, label))
    compared = sum(score is not None for score in scores["exact"])
    return EntityAgreement(
        exact=_mean(scores["exact"]),
        partial=_mean(scores["partial"]),
        type=_mean(scores["type"]),
        pairs=compared,
        spans=spans,
    )


def agree(root: Path) -> AgreementReport:
    """Agreement over the dataset root's annotations.

    Raises KinewsError when the root does not validate (every error listed) or an annotator has
    two submitted records for one document.
    """
    checked = load_valid(root)
    documents = {d.doc.id: d.doc for d in checked.documents}
    annotations = [r.ann for r in checked.annotations]
    # The build's token cache serves here too: tokenizing is most of the time agreement takes.
    compared = sorted({a.doc_id for a in annotations if a.doc_id in documents})
    tokenized = tokenize_documents(
        [documents[d] for d in compared], root=root, workers=default_workers()
    )
    proposals = dict(zip(compared, tokenized.proposals, strict=True))
    return measure(documents, annotations, checked.scheme.label_names, proposals)
