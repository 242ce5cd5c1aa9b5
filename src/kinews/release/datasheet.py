"""The card's datasheet sections: what the declaration says, and what the data shows.

"Datasheets for Datasets" asks about motivation, composition, collection, preprocessing,
labelling, uses, distribution and maintenance. The declared answers come from
`schemas/dataset.yaml` (`kinews.dataset`), the measured ones from the released records. Every
piece of metadata reaches the Markdown through `inline` (text) or `link` (URLs): a source called
`"Evil | Corp\\n\\n# INJECTED"` stays one escaped table cell, and only http(s) URLs become links.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kinews.adjudication.adjudicate import ADJUDICATOR
from kinews.dataset import Dataset
from kinews.records import Annotation

# Inside a line of text only these start Markdown constructs (emphasis, code, links, tables,
# strike-through); at the start of a line also headings, lists, quotes and setext underlines.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^(\d*)([#>+=.)-])")
_URL = re.compile(r"^https?://[^\s<>\"'`]+$")


def inline(text: str | None, missing: str = "unknown") -> str:
    """Metadata as inert Markdown: one line, HTML escaped, Markdown punctuation escaped."""
    if text is None or not text.strip():
        return missing
    one_line = " ".join(text.split())
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(one_line, quote=False))
    return _LINE_START.sub(r"\1\\\2", escaped)


def code(text: str) -> str:
    """Metadata as a code span: no backtick can end it early, no HTML inside."""
    return "`" + html.escape(" ".join(text.split()).replace("`", "'"), quote=False) + "`"


def link(url: str | None, missing: str = "not yet public") -> str:
    """An http(s) URL as a Markdown link; anything else (javascript:, data:, …) as plain text."""
    if url is None:
        return missing
    if _URL.fullmatch(url):
        return f"<{url}>"
    return inline(url)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


@dataclass(frozen=True)
class AnnotationFacts:
    """Who and what made the released records."""

    people: tuple[str, ...]  # pseudonyms of the annotators of submitted records, sorted
    by_document: Counter[int]  # documents by their number of submitted records
    gold: Counter[str]  # gold records by how they came about
    tools: tuple[str, ...]  # annotation tools with versions, from the records' origin
    lead_times: int  # records with a measured lead time

    def __add__(self, other: AnnotationFacts) -> AnnotationFacts:
        """The facts of two sets of documents together (the build sums them batch by batch)."""
        return AnnotationFacts(
            people=tuple(sorted({*self.people, *other.people})),
            by_document=self.by_document + other.by_document,  # every count is positive
            gold=self.gold + other.gold,
            tools=tuple(sorted({*self.tools, *other.tools})),
            lead_times=self.lead_times + other.lead_times,
        )


def annotation_facts(records: Iterable[Annotation], documents: Sequence[str]) -> AnnotationFacts:
    records = list(records)
    submitted = [r for r in records if r.status == "submitted"]
    per_doc = Counter(r.doc_id for r in submitted)
    gold: Counter[str] = Counter()
    tools: set[str] = set()
    lead_times = 0
    for record in records:
        origin = record.origin or {}
        tool = origin.get("tool")
        if record.status == "gold":
            adjudicated = tool == "kinews-adjudicate" or record.annotator == ADJUDICATOR
            gold["adjudicated by kinews adjudicate" if adjudicated else "made by hand"] += 1
        if tool == "label-studio":
            tools.add(f"Label Studio {origin.get('version') or '(version not recorded)'}")
        elif tool == "kinews-adjudicate":
            tools.add("kinews adjudicate")
        if isinstance(origin.get("lead_time"), int | float):
            lead_times += 1
    return AnnotationFacts(
        people=tuple(sorted({r.annotator for r in submitted})),
        by_document=Counter(per_doc.get(doc_id, 0) for doc_id in documents),
        gold=gold,
        tools=tuple(sorted(tools)),
        lead_times=lead_times,
    )


def _items(lines: Iterable[str]) -> str:
    return "\n".join(f"- {inline(line)}" for line in lines) or "- none declared"


def description_section(dataset: Dataset) -> str:
    maintainers = ", ".join(inline(m) for m in dataset.maintainers)
    return "\n".join(
        [
            inline(dataset.description),
            "",
            f"- Homepage: {link(dataset.homepage)}",
            f"- Repository: {link(dataset.repository)}",
            f"- Contact: {inline(dataset.contact, 'not yet public')}",
            f"- Maintainers: {maintainers}",
        ]
    )


def motivation_section(dataset: Dataset) -> str:
    funding = inline(dataset.funding, "none; the dataset has no external funding.")
    return f"{inline(dataset.curation_rationale)}\n\nFunding: {funding}"


def labelling_section(
    dataset: Dataset, facts: AnnotationFacts, guidelines_version: str | None, guidelines: str
) -> str:
    people = facts.people
    counted = ", ".join(
        f"{plural(n, 'document')} with {plural(k, 'submitted record')}"
        if k
        else f"{plural(n, 'document')} without one (its gold record was made directly)"
        for k, n in sorted(facts.by_document.items(), reverse=True)
    )
    gold = ", ".join(f"{n} {how}" for how, n in sorted(facts.gold.items())) or "none"
    version = f"version {guidelines_version}" if guidelines_version else "no version stated"
    lines = [
        f"Guidelines: `{guidelines}` in this folder ({version}), with each label's definition, "
        "examples and counter-examples, the boundary rules and the decisions taken on hard cases.",
        "",
        f"- Annotators: {inline(dataset.annotators_who)} "
        f"{plural(len(people), 'annotator')} made the submitted records"
        + (f" ({', '.join(code(p) for p in people)})" if people else "")
        + f"; the declared design is {plural(dataset.annotators_per_document, 'annotator')} "
        f"per document. Released documents: {counted}.",
        f"- Gold records: {gold}.",
        f"- Tools: {', '.join(facts.tools) or 'none recorded'}.",
        "- Pre-annotation: "
        + inline(dataset.annotators_pre_annotation, "none; every span was chosen by an annotator."),
        f"- Time spent: {plural(facts.lead_times, 'record')} carry a measured lead time; "
        "the others were not timed (their `lead_time` is null).",
        "",
        inline(dataset.annotators_adjudication),
    ]
    return "\n".join(lines)


def uses_section(dataset: Dataset) -> str:
    return "\n".join(
        [
            "Intended uses:",
            "",
            _items(dataset.uses_intended),
            "",
            "Out of scope:",
            "",
            _items(dataset.uses_out_of_scope),
        ]
    )


def bias_section(dataset: Dataset) -> str:
    return inline(dataset.bias, "No analysis of biases has been declared yet.")


def declared_limitations(dataset: Dataset) -> str:
    return "".join(f"- {inline(line)}\n" for line in dataset.limitations)


def maintenance_section(dataset: Dataset) -> str:
    maintainers = ", ".join(inline(m) for m in dataset.maintainers)
    return (
        f"Maintained by {maintainers}; contact: {inline(dataset.contact, 'not yet public')}. "
        "Every release is recorded with the checksums of its files, and a document keeps its "
        "split in every later release. Errors are corrected in new versions (patch: "
        "corrections; minor: new documents or annotations; major: a changed format or label "
        "scheme), listed in the changelog below."
    )


def bibtex(dataset: Dataset, version: str, date: str) -> str:
    """BibTeX entry for this release, from the declaration's citation fields."""
    c = dataset.citation

    def braced(text: str) -> str:
        return text.replace("{", "").replace("}", "")

    lines = [
        f"@misc{{{c.key}_{version.replace('.', '_')},",
        f"  title = {{{braced(c.title)}}},",
        f"  author = {{{{{braced(c.author)}}}}},",
        f"  year = {{{c.year}}},",
        f"  version = {{{version}}},",
    ]
    if dataset.repository:
        lines.append(f"  url = {{{braced(dataset.repository)}}},")
    note = c.note or f"Dataset release {version} of {date}"
    lines.append(f"  note = {{{braced(note)}}}")
    return "\n".join([*lines, "}"])
