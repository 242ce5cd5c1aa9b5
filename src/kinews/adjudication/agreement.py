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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError, Problem
from kinews.proposals import default_workers, tokenize_documents
from kinews.records import Annotation, Document
from kinews.tokens import Proposals, spans_to_bio, split_sentences
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
    """Agreement figures over every document with two or more annotators: one tally fed
    everything at once (`kinews.adjudication.tally`, which takes batches).

    `proposals`: SoMaJo's proposals by document id where already known (else computed here).

    Raises KinewsError (`annotator-duplicate`) for two submitted records of one annotator on
    one document.
    """
    # The tally builds on this module's report records, so it is imported here, not above.
    from kinews.adjudication.tally import AgreementTally

    tally = AgreementTally(labels)
    tally.add(documents, annotations, proposals)
    return tally.report()


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
