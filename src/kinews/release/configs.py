"""The three configs of a release: their features and their rows.

- `documents` (default): one row per document, the released (gold, else only submitted) spans.
- `sentences`: one row per sentence of a released document, tokens with offsets into the
  document and BIO `ner_tags`; drop-in for token-classification training scripts.
- `annotations`: one row per annotation record (document, annotator, status) of a released
  document, the raw layer agreement studies start from.

Labels are ClassLabels whose names come from the scheme. Every feature is written through
`Features.arrow_schema`, which carries the `huggingface` metadata: that is how ClassLabel names
survive the trip through Parquet. `datasets.List`, never `Sequence`: a Sequence of a dict would
turn into a dict of lists.
"""

from __future__ import annotations

from typing import Any

from datasets import ClassLabel, Features, List, Value

from kinews.records import Annotation, Document, Span, sorted_spans
from kinews.scheme import Scheme
from kinews.tokens import Proposals, bio_of_cut, cut_text, spans_to_bio, split_sentences

CONFIGS = ("documents", "sentences", "annotations")
METADATA_COLUMNS = (
    "language",
    "title",
    "source",
    "url",
    "published",
    "license",
    "notes",
    "group",
)


# What each column means, for the card: (column, type, meaning).
COLUMNS = {
    "documents": [
        ("id", "string", "stable document id (opaque)"),
        ("text", "string", "the document text every offset points into"),
        (
            "spans",
            "list of {`start`, `end`, `label`, `text`}",
            "released entity spans, sorted, non-overlapping; `label` is a ClassLabel",
        ),
        (
            "language, title, source, url, published, license",
            "string or null",
            "what is known about the article; null where unknown, never guessed",
        ),
        ("notes", "string or null", "provenance in words: where the text is from, what was done"),
        ("group", "string or null", "documents of one group share a split"),
        ("sha256", "string", "sha256 of `text` (UTF-8)"),
        (
            "annotation_status",
            "string",
            "`gold` (accepted or adjudicated) or `submitted` (the only annotation)",
        ),
    ],
    "sentences": [
        ("id", "string", "`<doc_id>#<number>`, numbered from 0000 in document order"),
        ("doc_id", "string", "the document (join with `documents` on `id`)"),
        ("start, end", "int32", "the sentence's offsets in the document text"),
        ("tokens", "list of string", "the tokens, exactly as they stand in the text"),
        ("token_offsets", "list of {`start`, `end`}", "each token's offsets in the DOCUMENT"),
        ("ner_tags", "list of ClassLabel", "BIO tags of the released spans"),
    ],
    "annotations": [
        ("doc_id", "string", "the document (join with `documents` on `id`)"),
        ("annotator", "string", "the annotator's pseudonym"),
        ("status", "string", "`submitted` (one annotator's work) or `gold` (adjudicated)"),
        ("created_at, updated_at", "string or null", "ISO 8601 timestamps of the record"),
        ("lead_time", "float64 or null", "seconds spent, when the annotation tool recorded it"),
        ("spans", "list of {`start`, `end`, `label`, `text`}", "this record's spans"),
    ],
}


def _spans_feature(scheme: Scheme) -> List:
    return List(
        {
            "start": Value("int32"),
            "end": Value("int32"),
            "label": ClassLabel(names=scheme.label_names),
            "text": Value("string"),
        }
    )


def document_features(scheme: Scheme) -> Features:
    """Features of the documents config; labels come from the scheme."""
    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "spans": _spans_feature(scheme),
            **{name: Value("string") for name in METADATA_COLUMNS},
            "sha256": Value("string"),
            "annotation_status": Value("string"),
        }
    )


def sentence_features(scheme: Scheme) -> Features:
    """Features of the sentences config: BIO tag names come from the scheme."""
    return Features(
        {
            "id": Value("string"),
            "doc_id": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "tokens": List(Value("string")),
            "token_offsets": List({"start": Value("int32"), "end": Value("int32")}),
            "ner_tags": List(ClassLabel(names=scheme.bio_names)),
        }
    )


def annotation_features(scheme: Scheme) -> Features:
    """Features of the annotations config: one annotator's raw record of one document."""
    return Features(
        {
            "doc_id": Value("string"),
            "annotator": Value("string"),
            "status": Value("string"),
            "created_at": Value("string"),
            "updated_at": Value("string"),
            "lead_time": Value("float64"),
            "spans": _spans_feature(scheme),
        }
    )


def features_of(config: str, scheme: Scheme) -> Features:
    """The features of one config by name."""
    return {
        "documents": document_features,
        "sentences": sentence_features,
        "annotations": annotation_features,
    }[config](scheme)


def _span_rows(spans: tuple[Span, ...], scheme: Scheme) -> list[dict[str, Any]]:
    ids = {name: index for index, name in enumerate(scheme.label_names)}
    return [
        {"start": s.start, "end": s.end, "label": ids[s.label], "text": s.text}
        for s in sorted_spans(spans)
    ]


def document_row(doc: Document, released: Annotation, scheme: Scheme) -> dict[str, Any]:
    """The documents-config row of a document with its released annotation."""
    return {
        "id": doc.id,
        "text": doc.text,
        "spans": _span_rows(released.spans, scheme),
        **{name: getattr(doc, name) for name in METADATA_COLUMNS},
        "sha256": doc.sha256,
        "annotation_status": released.status,
    }


def sentence_rows(
    doc: Document,
    released: Annotation,
    layers: list[Annotation],
    scheme: Scheme,
    proposals: Proposals | None = None,
) -> list[dict[str, Any]]:
    """The sentences-config rows of a document, tagged with its released spans.

    Token boundaries are forced at the span edges of every layer, so each annotator's record in
    the annotations config converts to BIO over these same tokens. `proposals`: SoMaJo's for
    this text, when already known. Raises KinewsError when a span cannot be represented exactly
    (see `kinews.tokens.spans_to_bio`).
    """
    text = doc.text
    edges = [s for layer in layers for s in layer.spans]
    cut = cut_text(text, edges, proposals)
    tags = bio_of_cut(cut, released.spans)
    if tags is None:  # an unusual span: spans_to_bio decides, sentence by sentence, or refuses it
        sentences = split_sentences(text, edges, proposals)
        tags = [tag for sentence in sentences for tag in spans_to_bio(sentence, released.spans)]
    tag_ids = {name: index for index, name in enumerate(scheme.bio_names)}
    starts, ends = cut.starts, cut.ends
    rows = []
    for number, (first, last) in enumerate(cut.sentences):
        offsets = list(zip(starts[first:last], ends[first:last], strict=True))
        rows.append(
            {
                "id": f"{doc.id}#{number:04d}",
                "doc_id": doc.id,
                "start": starts[first],
                "end": ends[last - 1],
                "tokens": [text[s:e] for s, e in offsets],
                "token_offsets": [{"start": s, "end": e} for s, e in offsets],
                "ner_tags": [tag_ids[tag] for tag in tags[first:last]],
            }
        )
    return rows


def annotation_row(record: Annotation, scheme: Scheme) -> dict[str, Any]:
    """The annotations-config row of one record; lead time (seconds) from its origin, if any."""
    lead_time = (record.origin or {}).get("lead_time")
    if isinstance(lead_time, bool) or not isinstance(lead_time, int | float):
        lead_time = None
    return {
        "doc_id": record.doc_id,
        "annotator": record.annotator,
        "status": record.status,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "lead_time": None if lead_time is None else float(lead_time),
        "spans": _span_rows(record.spans, scheme),
    }
