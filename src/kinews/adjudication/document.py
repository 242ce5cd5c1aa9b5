"""Adjudicating one document: its annotators' records → gold spans and worklist items.

A span goes into gold when at least K annotators marked exactly it (same start, end and label)
and no other span that reached K overlaps it. Spans overlapping each other form regions; a region
holding any span that did not make it is a disagreement and becomes one worklist item listing
every candidate with who proposed it (candidate 0: "no entity here"). A record marked
`ground_truth` wins outright. `kinews.adjudication.adjudicate` runs this over a dataset root.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from kinews.errors import KinewsError
from kinews.records import Annotation, Document, Span
from kinews.worklist import Candidate, Item

SpanKey = tuple[int, int, str]


@dataclass(frozen=True)
class Adjudication:
    """What adjudicating one document gives: gold spans, their provenance, worklist items."""

    annotators: tuple[str, ...]
    spans: tuple[Span, ...]
    agreed: dict[str, list[str]]  # "start-end-LABEL" -> annotators who marked exactly that span
    resolved: tuple[str, ...]  # gold spans chosen on the worklist
    ground_truth: tuple[str, ...]  # annotators whose ground-truth record was taken
    items: tuple[Item, ...]


def span_key(span: Span | SpanKey) -> str:
    start, end, label = (span.start, span.end, span.label) if isinstance(span, Span) else span
    return f"{start}-{end}-{label}"


def adjudicate_document(
    doc: Document,
    layers: Mapping[str, Annotation],
    min_agree: int,
    resolutions: Mapping[tuple[Any, ...], tuple[int, ...]] | None = None,
) -> Adjudication:
    """Gold spans and worklist items for one document from its annotators' records.

    `resolutions` maps an item's key to the accepted candidates. Raises KinewsError
    (`ground-truth-conflict`) when two ground-truth records of the document differ.
    """
    proposed: dict[SpanKey, list[str]] = defaultdict(list)
    for name, ann in sorted(layers.items()):
        for s in ann.spans:
            proposed[s.start, s.end, s.label].append(name)
    span_of = {key: Span(*key, doc.text[key[0] : key[1]]) for key in proposed}

    truth = [name for name, ann in sorted(layers.items()) if (ann.origin or {}).get("ground_truth")]
    if truth:
        chosen = {_keys(layers[name]) for name in truth}
        if len(chosen) > 1:
            raise KinewsError.single(
                "ground-truth-conflict",
                f"records of {', '.join(truth)} are all marked ground truth but differ; "
                "unmark all but one in Label Studio",
                doc_id=doc.id,
            )
        keys = sorted(chosen.pop())
        return Adjudication(
            tuple(sorted(layers)),
            tuple(span_of[k] for k in keys),
            {span_key(k): proposed[k] for k in keys},
            (),
            tuple(truth),
            (),
        )

    reached = [k for k, names in proposed.items() if len(names) >= min_agree]
    agreed = {k for k in reached if not any(_overlap(k, o) for o in reached if o != k)}
    gold: list[SpanKey] = []
    resolved: list[SpanKey] = []
    items = []
    for region in _regions(proposed):
        if all(k in agreed for k in region):
            gold += region
            continue
        start, end = region[0][0], max(k[1] for k in region)
        marked = {name for k in region for name in proposed[k]}
        item = Item(
            doc.id,
            doc.sha256,
            start,
            end,
            (
                Candidate(None, tuple(n for n in sorted(layers) if n not in marked)),
                *(Candidate(span_of[k], tuple(proposed[k]), k in agreed) for k in region),
            ),
        )
        accept = (resolutions or {}).get(item.key())
        if accept is None:
            gold += [k for k in region if k in agreed]
            items.append(item)
        else:
            chosen_keys = [region[i - 1] for i in accept if i > 0]
            gold += chosen_keys
            resolved += chosen_keys
            items.append(replace(item, accept=accept))
    gold.sort()
    return Adjudication(
        tuple(sorted(layers)),
        tuple(span_of[k] for k in gold),
        {span_key(k): proposed[k] for k in gold},
        tuple(span_key(k) for k in sorted(resolved)),
        (),
        tuple(items),
    )


def _keys(ann: Annotation) -> frozenset[SpanKey]:
    return frozenset((s.start, s.end, s.label) for s in ann.spans)


def _overlap(a: SpanKey, b: SpanKey) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _regions(proposed: Mapping[SpanKey, list[str]]) -> list[list[SpanKey]]:
    """Proposed spans grouped into maximal runs that overlap one another (in text order)."""
    regions: list[list[SpanKey]] = []
    end = -1
    for key in sorted(proposed):
        if regions and key[0] < end:
            regions[-1].append(key)
            end = max(end, key[1])
        else:
            regions.append([key])
            end = key[1]
    return regions
