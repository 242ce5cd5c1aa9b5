"""Specification of the card's source data: every row for a small release, counts for a large one.

The build sums the sources a batch at a time (`Sources.of` per batch, added up), so the sum must
not depend on where the batches are cut, and a large release must not keep a row per document.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO
from kinews.dataset import load_dataset_declaration
from kinews.release.card import render_card
from kinews.release.card_facts import (
    MAX_SOURCE_ROWS,
    CardFacts,
    ChangelogEntry,
    SourceRow,
    Sources,
    card_license,
)
from kinews.release.configs import CONFIGS, features_of
from kinews.release.datasheet import annotation_facts
from kinews.release.splits import SPLITS
from kinews.scheme import load_scheme

DATE = "2026-12-01"

rows = st.builds(
    SourceRow,
    doc_id=st.from_regex(r"d[0-9]{1,4}", fullmatch=True),
    source=st.sampled_from([None, "unknown", "heise", "golem"]),
    url=st.sampled_from([None, "https://example.org/a"]),
    license=st.sampled_from([None, "unknown", "CC-BY-4.0", "CC-BY-SA-4.0"]),
    notes=st.sampled_from([None, "Artikel 1. Aus dem Archiv.", "Ohne Punkt"]),
)


@given(st.lists(rows, max_size=2 * MAX_SOURCE_ROWS), st.lists(st.integers(0, 250), max_size=4))
def test_sources_summed_in_batches_equal_the_sources_of_all_rows(listed, cuts):
    edges = sorted({min(c, len(listed)) for c in cuts} | {0, len(listed)})
    summed = Sources()
    for start, end in itertools.pairwise(edges):
        summed += Sources.of(listed[start:end])
    assert summed == Sources.of(listed)
    assert summed.count == len(listed)
    assert summed.rows == (tuple(listed) if len(listed) <= MAX_SOURCE_ROWS else ())


def facts_with(sources: list[SourceRow]) -> CardFacts:
    scheme = load_scheme(REPO)
    return CardFacts(
        version="0.1.0",
        date=DATE,
        scheme=scheme,
        features={c: features_of(c, scheme) for c in CONFIGS},
        rows={c: {"train": len(sources), "validation": 0, "test": 0} for c in CONFIGS},
        num_bytes={c: {"train": 10} for c in CONFIGS},
        label_counts={s: Counter() for s in SPLITS},
        tokens=dict.fromkeys(SPLITS, 0),
        dataset=load_dataset_declaration(REPO),
        annotation=annotation_facts([], [s.doc_id for s in sources]),
        guidelines_version="1.0",
        guidelines_file="GUIDELINES.md",
        statuses=Counter(gold=len(sources)),
        examples={},
        sources=Sources.of(sources),
        tokenizer="SoMaJo 2.5.0",
        changelog=(ChangelogEntry("0.1.0", DATE, ("- First release.",)),),
    )


def corpus(n: int) -> list[SourceRow]:
    """n documents: a third of unknown licence (none recorded, or recorded as unknown)."""
    return [
        SourceRow(
            f"doc-{i:04d}",
            "heise" if i % 3 else None,
            f"https://example.org/{i}",
            ("CC-BY-4.0", None, "unknown")[i % 3],
            f"Artikel {i}. Aus dem Archiv." if i % 2 else None,
        )
        for i in range(n)
    ]


def test_a_small_release_lists_every_document_and_its_url():
    card = render_card(facts_with(corpus(MAX_SOURCE_ROWS)))
    assert "| document | source | url | licence | notes |" in card
    assert "`doc-0099`" in card and "https://example.org/99" in card
    assert "| source | licence | documents |" not in card


def test_a_large_release_counts_documents_per_source_and_licence_without_their_rows():
    facts = facts_with(corpus(MAX_SOURCE_ROWS + 1))
    assert facts.sources.rows == ()
    card = render_card(facts)
    assert "`doc-0000`" not in card and "https://example.org/" not in card
    assert "| unknown | CC-BY-4.0 | 34 |" in card  # i % 3 == 0: no source recorded
    # No licence (i % 3 == 1) and a recorded "unknown" (i % 3 == 2) are counted together, as
    # the card says both.
    assert "| heise | unknown | 67 |" in card
    assert "Licences as recorded per document: CC-BY-4.0 (34 documents), unknown (67" in card
    assert "- Aus dem Archiv. (50 documents)" in card


def test_the_release_licence_is_the_one_known_licence_whatever_the_unrecorded_ones():
    def licensed(*licences: str | None) -> CardFacts:
        return facts_with([SourceRow(f"d{i}", "heise", None, x) for i, x in enumerate(licences)])

    assert card_license(licensed(*["CC-BY-4.0", None] * MAX_SOURCE_ROWS)) == "cc-by-4.0"
    assert card_license(licensed("CC-BY-4.0", "CC-BY-SA-4.0", None)) == "other"
    assert card_license(licensed(None, None)) == "unknown"
    assert card_license(replace(licensed("CC-BY-4.0"), sources=Sources())) == "unknown"
