"""The dataset card (README.md of a release), rendered from data and never edited by hand.

The YAML header is what the Hub and `datasets` read: configs with their data files, features
with ClassLabel names, split sizes (`datasets` checks `num_examples` when it loads, which makes
the card an integrity check too). The body answers the questions of the Hub's card template.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml
from datasets import Features

from kinews.scheme import Scheme
from kinews.splits import SPLITS


@dataclass(frozen=True)
class CardFacts:
    version: str
    scheme: Scheme
    features: Features
    documents: dict[str, int]
    num_bytes: dict[str, int]  # per non-empty split
    label_counts: dict[str, Counter[str]]
    annotators: int
    statuses: Counter[str]
    example: dict[str, Any] | None
    licenses: Counter[str]


def render_card(facts: CardFacts) -> str:
    header = yaml.safe_dump(_header(facts), sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{header}---\n\n{_body(facts)}"


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "100K<n<1M"


def _present(facts: CardFacts) -> list[str]:
    """Splits with at least one document; `datasets` cannot load an empty split."""
    return [split for split in SPLITS if facts.documents[split]]


def _empty_splits_note(facts: CardFacts) -> str:
    empty = [f"`{split}`" for split in SPLITS if not facts.documents[split]]
    if not empty:
        return "."
    verb = "has" if len(empty) == 1 else "have"
    return f": in this release {' and '.join(empty)} {verb} no documents yet."


def _header(facts: CardFacts) -> dict[str, Any]:
    total = sum(facts.documents.values())
    licenses = sorted(facts.licenses)
    return {
        "pretty_name": "kinews",
        "version": facts.version,
        "license": licenses[0] if len(licenses) == 1 else "other",
        "language": ["de"],
        "language_details": "de-DE",
        "multilinguality": ["monolingual"],
        "task_categories": ["token-classification"],
        "task_ids": ["named-entity-recognition"],
        "annotations_creators": ["expert-generated"],
        "language_creators": ["found"],
        "source_datasets": ["original"],
        "size_categories": [_size_category(total)],
        "configs": [
            {
                "config_name": "documents",
                "default": True,
                "data_files": [
                    {"split": split, "path": f"data/documents/{split}-00000-of-00001.parquet"}
                    for split in _present(facts)
                ],
            }
        ],
        "dataset_info": {
            "config_name": "documents",
            # _to_yaml_list is how `datasets` itself writes features into cards.
            "features": facts.features._to_yaml_list(),
            "splits": [
                {
                    "name": split,
                    "num_bytes": facts.num_bytes[split],
                    "num_examples": facts.documents[split],
                }
                for split in _present(facts)
            ],
        },
    }


def _body(facts: CardFacts) -> str:
    total = sum(facts.documents.values())
    spans_total = sum(sum(c.values()) for c in facts.label_counts.values())
    sizes = " · ".join(f"{split}: {facts.documents[split]}" for split in SPLITS)
    lines = [
        f"# kinews {facts.version}",
        "",
        "German-language news about technology and innovation policy, with hand-annotated named "
        "entity spans given as character offsets into the full document text. "
        f"This release holds {total} document{'s' if total != 1 else ''} ({sizes}) and "
        f"{spans_total} entity spans.",
        "",
        "## How to load",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'docs = load_dataset("path/to/kinews-' + facts.version + '", "documents")',
        f'doc = docs["{_present(facts)[0]}"][0]',
        'label_names = docs["train"].features["spans"].feature["label"].names',
        'for span in doc["spans"]:',
        '    assert doc["text"][span["start"]:span["end"]] == span["text"]',
        '    print(label_names[span["label"]], span["text"])',
        "```",
        "",
        "A split without documents has no file and is not listed in `configs` (the `datasets` "
        "library cannot load an empty split), so `load_dataset` returns only the splits that "
        "have documents" + _empty_splits_note(facts),
        "",
        "## Structure",
        "",
        "One row per document. Offsets are Unicode code points (Python string indices) into "
        "`text`, end exclusive, so `text[start:end] == span.text` holds for every span. The text "
        "is exactly the ingested article after removing a byte order mark, turning CRLF/CR into "
        "LF and applying Unicode NFC; nothing else was changed.",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
        "| `id` | string | stable document id (opaque) |",
        "| `text` | string | the document text the offsets point into |",
        "| `spans` | list of {`start`, `end`, `label`, `text`} | entity spans, sorted, "
        "non-overlapping; `label` is a ClassLabel |",
        "| `language`, `title`, `source`, `url`, `published`, `license` | string or null | what is "
        "known about the article; null where it is unknown, never guessed |",
        "| `sha256` | string | sha256 of `text` (UTF-8) |",
        "| `annotation_status` | string | `gold` (accepted or adjudicated) or `submitted` (one "
        "annotator's work, the only annotation of that document) |",
        "",
    ]
    if facts.example is not None:
        example = dict(facts.example)
        if len(example["text"]) > 160:
            example["text"] = example["text"][:160] + "…"
        example["spans"] = example["spans"][:3] + (["…"] if len(example["spans"]) > 3 else [])
        lines += [
            "An example row (text and spans shortened):",
            "",
            "```json",
            json.dumps(example, ensure_ascii=False, indent=2),
            "```",
            "",
        ]
    lines += [
        "## Labels",
        "",
        "Flat, non-overlapping spans. The ClassLabel id of a label is its position in this table.",
        "",
        "| id | label | definition | " + " | ".join(SPLITS) + " |",
        "|---|---|---|" + "---|" * len(SPLITS),
    ]
    for index, label in enumerate(facts.scheme.labels):
        counts = " | ".join(str(facts.label_counts[split][label.name]) for split in SPLITS)
        lines.append(f"| {index} | `{label.name}` | {label.definition} | {counts} |")
    status = ", ".join(f"{n} {s}" for s, n in sorted(facts.statuses.items())) or "none"
    lines += [
        "",
        "## Annotation process",
        "",
        "Spans were marked by hand following the annotation manual (`annotations/GUIDELINES.md` "
        "in the kinews repository), which gives each label's definition, German examples and "
        "counter-examples, and the boundary rules (articles, prepositions and quotation marks "
        "outside a span; inflected forms as they stand; the outermost name when names nest). "
        f"Released annotation records by status: {status}; {facts.annotators} distinct "
        "annotator pseudonym(s). Annotators appear only as pseudonyms, never by name or e-mail. "
        "Documents that have not been annotated yet are left out of the release: an unannotated "
        "text is not a text without entities.",
        "",
        "Inter-annotator agreement: not yet measured; every document of this release was "
        "annotated once.",
        "",
        "## Source data and licence",
        "",
        "The texts are German news reports on technology and innovation policy. Their licences, "
        "as recorded per document: "
        + ", ".join(
            f"{name} ({n} document{'s' if n != 1 else ''})"
            for name, n in sorted(facts.licenses.items())
        )
        + ". Where a licence is `unknown`, the rights holder of the text has not been established:"
        " use the data for research only and check before redistributing the texts.",
        "",
        "## Limitations",
        "",
        "- The corpus is small and young; counts per label are too low for reliable per-label "
        "evaluation.",
        "- Technology mentions (`TECH`) are harder to delimit than classic named entities; the "
        "manual states where generic nouns stop and technology names begin, but expect "
        "disagreement at that edge.",
        "",
        f"Built by kinews; dataset version {facts.version}.",
        "",
    ]
    return "\n".join(lines)
