"""The dataset card (README.md of a release), rendered from data and never edited by hand.

The YAML header is what the Hub and `datasets` read (`card_header`). The body is `card.md` (a
`string.Template`), which follows the Hub's card template and the questions of "Datasheets for
Datasets"; every figure in it comes from `CardFacts` (`card_facts`), every sentence about
particular labels from schemas/labels.yaml (`personal_data`, `limitation`).
"""

from __future__ import annotations

import json
from collections import Counter
from importlib.resources import files
from string import Template
from typing import Any

import yaml

from kinews.adjudication.agreement import AgreementReport
from kinews.release import datasheet
from kinews.release.card_facts import MAX_SOURCE_ROWS, CardFacts, card_license, present
from kinews.release.card_header import header
from kinews.release.configs import COLUMNS, CONFIGS
from kinews.release.datasheet import code, inline, link
from kinews.release.folder import folder_name
from kinews.release.splits import SPLITS

NO_BASELINE = "Not measured: the baseline needs documents in both the train and the test split."
NOT_MEASURED = (
    "Inter-annotator agreement: not yet measured. It needs documents annotated independently by "
    "two or more annotators; the `annotations` config holds every annotator's record so it can be "
    "computed from the release."
)


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
    head = yaml.safe_dump(header(facts), sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{_body(facts)}"


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


_TEMPLATE = Template((files("kinews.release") / "card.md").read_text("utf-8").removesuffix("\n"))


def _body(facts: CardFacts) -> str:
    """The card's Markdown: card.md with the figures and sections of this release."""
    docs = facts.rows["documents"]
    total = sum(docs.values())
    spans_total = sum(sum(c.values()) for c in facts.label_counts.values())
    first = {config: (present(facts, config) or ["train"])[0] for config in CONFIGS}
    configs: list[str] = []
    for config in CONFIGS:
        configs += [
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
            configs += [
                "An example row (long values shortened):",
                "",
                "```json",
                _compact_json(_example(config, facts.examples[config])),
                "```",
                "",
            ]
    personal = [label.name for label in facts.scheme.labels if label.personal_data]
    empty = [split for split in SPLITS if not docs[split]]
    changelog: list[str] = []
    for entry in facts.changelog:
        changelog += [f"### {entry.version} ({entry.date})", "", *entry.lines, ""]
    dataset = facts.dataset
    return _TEMPLATE.substitute(
        name=inline(dataset.name),
        summary=inline(dataset.summary),
        description=datasheet.description_section(dataset),
        folder=folder_name(dataset.name, facts.version),
        version=facts.version,
        date=facts.date,
        documents=_plural(total, "document"),
        sizes=", ".join(f"{split} {docs[split]}" for split in SPLITS),
        sentences=_plural(sum(facts.rows["sentences"].values()), "sentence"),
        entity_spans=_plural(spans_total, "entity span"),
        spans=_plural(spans_total, "span"),
        label_count=len(facts.scheme.labels),
        first_documents=first["documents"],
        first_sentences=first["sentences"],
        first_annotations=first["annotations"],
        empty_splits_note=_empty_splits_note(facts),
        configs="\n".join(configs) + "\n",
        labels="\n".join(_labels_section(facts)) + "\n",
        size_rows="\n".join(_size_rows(facts)),
        tokenizer=facts.tokenizer,
        motivation=datasheet.motivation_section(dataset),
        selection=inline(dataset.selection),
        labelling=datasheet.labelling_section(
            dataset, facts.annotation, facts.guidelines_version, facts.guidelines_file
        ),
        statuses=", ".join(f"{n} {s}" for s, n in sorted(facts.statuses.items())) or "none",
        unannotated=(
            f" ({facts.unannotated} such documents were left out of this release)."
            if facts.unannotated
            else "."
        ),
        agreement=facts.agreement if facts.agreement is not None else NOT_MEASURED,
        baseline=facts.baseline if facts.baseline is not None else NO_BASELINE,
        uses=datasheet.uses_section(dataset),
        bias=datasheet.bias_section(dataset),
        sources="\n".join(_sources_section(facts)) + "\n",
        personal_spans=(
            ": this release has "
            + " and ".join(
                _plural(sum(facts.label_counts[split][name] for split in SPLITS), f"{name} span")
                for name in personal
            )
            if personal
            else ""
        ),
        still_empty=(
            f", and {' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} still empty."
            if empty
            else "."
        ),
        label_limitations="".join(
            f"- {label.limitation}\n" for label in facts.scheme.labels if label.limitation
        ),
        declared_limitations=datasheet.declared_limitations(dataset),
        licence=_licence_section(facts),
        maintenance=datasheet.maintenance_section(dataset),
        citation=datasheet.bibtex(dataset, facts.version, facts.date),
        changelog="\n" + "\n".join(changelog) if changelog else "",
    )


def _size_rows(facts: CardFacts) -> list[str]:
    rows = []
    for split in SPLITS:
        spans = sum(facts.label_counts[split].values())
        rows.append(
            f"| {split} | {facts.rows['documents'][split]} | {facts.rows['sentences'][split]} | "
            f"{facts.tokens[split]} | {spans} |"
        )
    return rows


def _licence_section(facts: CardFacts) -> str:
    licences: Counter[str] = Counter()
    for licence, n in facts.sources.licences.items():
        licences[licence or "unknown"] += n
    whole = card_license(facts)
    counted = ", ".join(
        f"{inline(name)} ({_plural(n, 'document')})" for name, n in sorted(licences.items())
    )
    lines = [f"Licences as recorded per document: {counted}."]
    if whole not in ("other", "unknown"):
        lines.append(
            f"The release as a whole is distributed under `{whole}`, the licence of its "
            "licensed texts (a share-alike licence extends to the collection and to the "
            "annotations); reuse must keep the attribution given under Source data."
        )
    if licences.get("unknown"):
        lines.append(
            f"For {_plural(licences['unknown'], 'document')} the licence is not known: its "
            "rights holder has not been established (see its `notes`), so use it for research "
            "only and check before redistributing its text."
        )
    return " ".join(lines)


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
    lines = [
        "Where each document comes from, as recorded at ingest; the `source`, `url`, `license` "
        "and `notes` columns of `documents` give it per document.",
        "",
    ]
    sources = facts.sources
    if sources.count > MAX_SOURCE_ROWS:
        groups: Counter[tuple[str, str]] = Counter()
        for (source, licence), n in sources.groups.items():
            groups[source or "unknown", licence or "unknown"] += n
        lines += ["| source | licence | documents |", "|---|---|---|"]
        lines += [
            f"| {inline(src)} | {inline(lic)} | {n} |" for (src, lic), n in sorted(groups.items())
        ]
    else:
        lines += ["| document | source | url | licence | notes |", "|---|---|---|---|---|"]
        lines += [
            f"| {code(s.doc_id)} | {inline(s.source)} | {link(s.url, 'unknown')} | "
            f"{inline(s.license)} | {inline(s.notes, '')} |"
            for s in sources.rows
        ]
    notes = sources.notes
    if notes and sources.count > MAX_SOURCE_ROWS:
        lines += [
            "",
            "Notes recorded with the documents (the part before the first full stop "
            "varies per document and is left out here):",
            "",
        ]
        lines += [
            f"- {inline(note)} ({_plural(n, 'document')})" for note, n in sorted(notes.items())
        ]
    return [*lines, ""]
