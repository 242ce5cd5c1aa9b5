"""The dataset card (README.md of a release), rendered from data and never edited by hand.

The YAML header is what the Hub and `datasets` read: configs with their data files, features
with ClassLabel names, split sizes (`datasets` checks `num_examples` when it loads, which makes
the card an integrity check too). The body follows the Hub's card template and the questions of
"Datasheets for Datasets"; every figure in it comes from `CardFacts`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml
from datasets import Features

from kinews.adjudication.agreement import AgreementReport
from kinews.release.configs import COLUMNS, CONFIGS
from kinews.release.splits import SPLITS
from kinews.scheme import Scheme

MAX_SOURCE_ROWS = 100  # beyond this, sources are listed grouped, not per document
NOT_MEASURED = (
    "Inter-annotator agreement: not yet measured. It needs documents annotated independently by "
    "two or more annotators; the `annotations` config holds every annotator's record so it can be "
    "computed from the release."
)


@dataclass(frozen=True)
class SourceRow:
    """What is known about one released document's origin."""

    doc_id: str
    source: str | None
    url: str | None
    license: str | None


@dataclass(frozen=True)
class ChangelogEntry:
    version: str
    date: str
    lines: tuple[str, ...]  # Markdown list items


@dataclass(frozen=True)
class CardFacts:
    version: str
    date: str
    scheme: Scheme
    features: dict[str, Features]  # per config
    rows: dict[str, dict[str, int]]  # per config, per split
    num_bytes: dict[str, dict[str, int]]  # per config, per non-empty split
    label_counts: dict[str, Counter[str]]  # per split, released spans
    annotators: int  # distinct pseudonyms over every record of the released documents
    statuses: Counter[str]  # released records by status
    examples: dict[str, dict[str, Any]]  # per config, one row
    sources: tuple[SourceRow, ...]
    tokenizer: str
    changelog: tuple[ChangelogEntry, ...]  # newest first
    # Markdown paragraph with agreement figures (see kinews.adjudication.agreement); None: not
    # yet measured.
    agreement: str | None = None
    # Release-relative path of a chart of label counts per split, embedded when given.
    chart: str | None = None
    unannotated: int = 0


def agreement_paragraph(report: AgreementReport, open_items: dict[str, int]) -> str | None:
    """The card's agreement section from the agreement report; None when nothing was measured."""
    if report.documents == 0:
        return None
    lines = [
        f"Inter-annotator agreement over {_plural(report.documents, 'document')} annotated "
        f"independently by two or more of {_plural(report.annotators, 'annotator')} "
        f"({_plural(report.pairs, 'annotator pair')}); entity F1 is pairwise and averaged over "
        f"pairs, token figures rest on {report.tokenizer} tokens with BIO tags.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| entity F1, exact match | {_figure(report.entities.exact)} |",
        f"| entity F1, partial overlap | {_figure(report.entities.partial)} |",
        f"| entity F1, type only | {_figure(report.entities.type)} |",
        f"| Cohen's kappa, all tokens | {_figure(report.tokens.kappa)} |",
        f"| Cohen's kappa, tokens inside an entity | {_figure(report.entity_tokens.kappa)} |",
        f"| Krippendorff's alpha, all tokens | {_figure(report.tokens.alpha)} |",
        f"| Krippendorff's alpha, tokens inside an entity "
        f"| {_figure(report.entity_tokens.alpha)} |",
        "",
        "| label | exact F1 | partial F1 | type F1 |",
        "|---|---|---|---|",
        *(
            f"| `{label}` | {_figure(e.exact)} | {_figure(e.partial)} | {_figure(e.type)} |"
            for label, e in report.by_label.items()
        ),
        "",
        "Disagreements were adjudicated with `kinews adjudicate`: spans on which enough "
        "annotators agree exactly go into the gold record, every other candidate into a worklist "
        "that an adjudicator resolves. "
        + (
            f"{_plural(sum(open_items.values()), 'worklist item')} in "
            f"{_plural(len(open_items), 'released document')} are still open."
            if open_items
            else "No worklist item of a released document is open."
        ),
    ]
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def render_card(facts: CardFacts) -> str:
    header = yaml.safe_dump(_header(facts), sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{header}---\n\n{_body(facts)}"


def card_license(facts: CardFacts) -> str:
    """The licence for the card header: the one licence of every document, else `other`."""
    licenses = sorted({s.license or "unknown" for s in facts.sources})
    return licenses[0] if len(licenses) == 1 else "other"


def citation(version: str, date: str) -> str:
    """BibTeX entry for this release."""
    return (
        f"@misc{{kinews_{version.replace('.', '_')},\n"
        "  title = {kinews: an annotated corpus of German technology and innovation-policy "
        "news},\n"
        "  author = {{kinews contributors}},\n"
        f"  year = {{{date[:4]}}},\n"
        f"  version = {{{version}}},\n"
        "  note = {Named-entity spans with character offsets; dataset release " + version + "}\n"
        "}"
    )


def present(facts: CardFacts, config: str) -> list[str]:
    """Splits of a config with at least one row; `datasets` cannot load an empty split."""
    return [split for split in SPLITS if facts.rows[config][split]]


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "100K<n<1M"


def _header(facts: CardFacts) -> dict[str, Any]:
    configs = [c for c in CONFIGS if present(facts, c)]
    return {
        "pretty_name": "kinews",
        "version": facts.version,
        "license": card_license(facts),
        "language": ["de"],
        "language_details": "de-DE",
        "multilinguality": ["monolingual"],
        "task_categories": ["token-classification"],
        "task_ids": ["named-entity-recognition"],
        "annotations_creators": ["expert-generated"],
        "language_creators": ["found"],
        "source_datasets": ["original"],
        "size_categories": [_size_category(sum(facts.rows["documents"].values()))],
        "configs": [
            {
                "config_name": config,
                **({"default": True} if config == "documents" else {}),
                "data_files": [
                    {"split": split, "path": f"data/{config}/{split}-00000-of-00001.parquet"}
                    for split in present(facts, config)
                ],
            }
            for config in configs
        ],
        "dataset_info": [
            {
                "config_name": config,
                # _to_yaml_list is how `datasets` itself writes features into cards.
                "features": facts.features[config]._to_yaml_list(),
                "splits": [
                    {
                        "name": split,
                        "num_bytes": facts.num_bytes[config][split],
                        "num_examples": facts.rows[config][split],
                    }
                    for split in present(facts, config)
                ],
            }
            for config in configs
        ],
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _empty_splits_note(facts: CardFacts) -> str:
    empty = [f"`{split}`" for split in SPLITS if not facts.rows["documents"][split]]
    if not empty:
        return "."
    verb = "has" if len(empty) == 1 else "have"
    return f": in this release {' and '.join(empty)} {verb} no documents yet."


def _example(config: str, row: dict[str, Any]) -> dict[str, Any]:
    """A row shortened for reading: long text cut, lists cut after a few items."""
    short = dict(row)
    if isinstance(short.get("text"), str) and len(short["text"]) > 160:
        short["text"] = short["text"][:160] + "…"
    for key, limit in (("spans", 3), ("tokens", 8), ("token_offsets", 8), ("ner_tags", 8)):
        if isinstance(short.get(key), list) and len(short[key]) > limit:
            short[key] = [*short[key][:limit], "…"]
    return short


def _compact_json(row: dict[str, Any]) -> str:
    """One line per column: readable without scrolling through nested lists."""
    items = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in row.items()]
    return "{\n" + ",\n".join(items) + "\n}"


def _body(facts: CardFacts) -> str:
    docs = facts.rows["documents"]
    total = sum(docs.values())
    spans_total = sum(sum(c.values()) for c in facts.label_counts.values())
    sizes = ", ".join(f"{split} {docs[split]}" for split in SPLITS)
    first = {config: (present(facts, config) or ["train"])[0] for config in CONFIGS}
    lines = [
        f"# kinews {facts.version}",
        "",
        "German-language news about technology and innovation policy, with hand-annotated named "
        "entity spans given as character offsets into the full document text. "
        f"Release {facts.version} of {facts.date} holds {_plural(total, 'document')} ({sizes}), "
        f"{_plural(sum(facts.rows['sentences'].values()), 'sentence')} and "
        f"{_plural(spans_total, 'entity span')} of {len(facts.scheme.labels)} labels, in three "
        "configs: `documents` (default; text with character-offset spans), `sentences` (tokens "
        "and BIO tags for token classification) and `annotations` (every annotator's raw record).",
        "",
        "## How to load",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'release = "dist/kinews-{facts.version}"  # this folder; from the Hub: the repository '
        f'id, with revision="v{facts.version}"',
        'docs = load_dataset(release, "documents")',
        f'doc = docs["{first["documents"]}"][0]',
        f'label_names = docs["{first["documents"]}"].features["spans"].feature["label"].names',
        'for span in doc["spans"]:',
        '    assert doc["text"][span["start"]:span["end"]] == span["text"]',
        '    print(label_names[span["label"]], span["text"])',
        "",
        'sentences = load_dataset(release, "sentences")',
        f'tag_names = sentences["{first["sentences"]}"].features["ner_tags"].feature.names',
        f'sentence = sentences["{first["sentences"]}"][0]',
        'print(list(zip(sentence["tokens"], (tag_names[t] for t in sentence["ner_tags"]))))',
        "",
        'layers = load_dataset(release, "annotations")',
        f'print(layers["{first["annotations"]}"][0]["annotator"])',
        "```",
        "",
        "A split without rows has no file and is not listed in `configs` (the `datasets` "
        "library cannot load an empty split), so `load_dataset` returns only the splits that "
        "have documents" + _empty_splits_note(facts),
        "",
        "## Structure",
        "",
        "Offsets are Unicode code points (Python string indices) into the document `text`, end "
        "exclusive, so `text[start:end] == span.text` holds for every span. The text is exactly "
        "the ingested article after removing a byte order mark, turning CRLF/CR into LF and "
        "applying Unicode NFC; nothing else was changed.",
        "",
    ]
    for config in CONFIGS:
        lines += [
            f"### `{config}`",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
            *(f"| `{c}` | {t} | {m} |" for c, t, m in COLUMNS[config]),
            "",
            "Rows per split: "
            + ", ".join(f"{split} {facts.rows[config][split]}" for split in SPLITS)
            + ".",
            "",
        ]
        if config in facts.examples:
            lines += [
                "An example row (long values shortened):",
                "",
                "```json",
                _compact_json(_example(config, facts.examples[config])),
                "```",
                "",
            ]
    lines += _labels_section(facts)
    lines += [
        "## Tokens and sentences",
        "",
        f"Tokenizer and sentence splitter: {facts.tokenizer} (German, `de_CMC`), chosen for "
        'German abbreviations and ordinals ("20. März", "Nr. 1"). Its boundaries are only '
        "proposals: tokens are cut from the document text, so every token is exactly "
        "`text[start:end]`. Token boundaries are forced at the edges of every annotator's spans "
        "and no sentence ends inside a span, so converting spans to BIO never widens, shifts or "
        "drops an entity, and BIO gives back exactly the released spans. Every line break ends "
        "a sentence (one paragraph per line).",
        "",
        "## Splits",
        "",
        "train/validation/test, 80/10/10 by a hash of the document id (or of its `group`: "
        "documents of one group, such as the same story in several outlets, share a split). A "
        "document keeps its split forever: every released document is recorded in the "
        "repository's split manifest (`releases/splits.jsonl`), and a build that would move one "
        "is refused. The `sentences` and `annotations` rows of a document are in its split.",
        "",
        "## Annotation process",
        "",
        "Spans were marked by hand following the annotation manual (`annotations/GUIDELINES.md` "
        "in the kinews repository), which gives each label's definition, German examples and "
        "counter-examples, and the boundary rules (articles, prepositions and quotation marks "
        "outside a span; inflected forms as they stand; the outermost name when names nest). "
        f"{_plural(facts.annotators, 'distinct annotator pseudonym')} contributed the records "
        "of the released documents; released records by status: "
        + (", ".join(f"{n} {s}" for s, n in sorted(facts.statuses.items())) or "none")
        + ". Documents without any annotation are left out: an unannotated text is not a text "
        "without entities"
        + (
            f" ({facts.unannotated} such documents were left out of this release)."
            if facts.unannotated
            else "."
        )
        + " A document with several submitted records is released only once adjudicated into a "
        "gold record.",
        "",
        facts.agreement if facts.agreement is not None else NOT_MEASURED,
        "",
    ]
    lines += _sources_section(facts)
    persons = sum(facts.label_counts[split]["PER"] for split in SPLITS)
    empty = [split for split in SPLITS if not docs[split]]
    lines += [
        "## Personal information",
        "",
        f"The texts are published news reports. They name people in public roles: this release "
        f"has {_plural(persons, 'PER span')}. Nothing beyond what the articles published was "
        "added. Annotators appear only as pseudonyms, never by name or e-mail; the map from "
        "accounts to pseudonyms never leaves the annotation team's machine.",
        "",
        "## Limitations",
        "",
        f"- Size: {_plural(total, 'document')} and {_plural(spans_total, 'span')}; labels with few "
        "spans (see the label table) do not support reliable per-label evaluation"
        + (
            f", and {' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} still empty."
            if empty
            else "."
        ),
        "- Technology mentions (`TECH`) are harder to delimit than classic named entities; the "
        "manual states where generic nouns stop and technology names begin, but expect "
        "disagreement at that edge.",
        "- The sources are German news on one policy area, often reporting foreign press "
        "releases; models trained on it will not transfer unchanged to other genres.",
        "- Spans are flat: a name nested in another name (a place inside an organisation's "
        "name) is not annotated separately.",
        "",
        "## Citation",
        "",
        "```bibtex",
        citation(facts.version, facts.date),
        "```",
        "",
        "## Changelog",
        "",
    ]
    for entry in facts.changelog:
        lines += [f"### {entry.version} ({entry.date})", "", *entry.lines, ""]
    return "\n".join(lines)


def _labels_section(facts: CardFacts) -> list[str]:
    counts = facts.label_counts
    lines = [
        "## Labels",
        "",
        "Flat, non-overlapping spans. The ClassLabel id of a label is its position in this "
        "table; the BIO tags of `sentences` are `O`, then `B-` and `I-` of each label in this "
        "order.",
        "",
        "| id | label | definition | " + " | ".join(SPLITS) + " | total |",
        "|---|---|---|" + "---|" * (len(SPLITS) + 1),
    ]
    for index, label in enumerate(facts.scheme.labels):
        per_split = [counts[split][label.name] for split in SPLITS]
        cells = " | ".join(str(n) for n in per_split)
        lines.append(
            f"| {index} | `{label.name}` | {label.definition} | {cells} | {sum(per_split)} |"
        )
    lines.append("")
    if facts.chart is not None:
        lines += [f"![Spans per label and split]({facts.chart})", ""]
    return lines


def _sources_section(facts: CardFacts) -> list[str]:
    licences = Counter(s.license or "unknown" for s in facts.sources)
    lines = [
        "## Source data and licence",
        "",
        "German news reports on technology and innovation policy. Licences as recorded per "
        "document: "
        + ", ".join(f"{name} ({_plural(n, 'document')})" for name, n in sorted(licences.items()))
        + ". Where a licence is `unknown`, the rights holder of the text has not been "
        "established: use the data for research only and check before redistributing the texts. "
        "The `source`, `url` and `license` columns of `documents` give this per document.",
        "",
    ]
    if len(facts.sources) > MAX_SOURCE_ROWS:
        groups = Counter((s.source or "unknown", s.license or "unknown") for s in facts.sources)
        lines += ["| source | licence | documents |", "|---|---|---|"]
        lines += [f"| {src} | {lic} | {n} |" for (src, lic), n in sorted(groups.items())]
    else:
        lines += ["| document | source | url | licence |", "|---|---|---|---|"]
        lines += [
            f"| `{s.doc_id}` | {s.source or 'unknown'} | {s.url or 'unknown'} | "
            f"{s.license or 'unknown'} |"
            for s in facts.sources
        ]
    return [*lines, ""]
