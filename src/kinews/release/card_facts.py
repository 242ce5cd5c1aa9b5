"""What a dataset card states, gathered before it is rendered: `CardFacts` and its parts.

`kinews.release.describe` gathers them from the data, the declarations and the build;
`card_header` renders the YAML header from them, `card` the body.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from datasets import Features

from kinews.dataset import Dataset
from kinews.release.datasheet import AnnotationFacts
from kinews.release.splits import SPLITS
from kinews.scheme import Scheme


@dataclass(frozen=True, slots=True)  # one per released document
class SourceRow:
    """What is known about one released document's origin."""

    doc_id: str
    source: str | None
    url: str | None
    license: str | None
    notes: str | None = None


MAX_SOURCE_ROWS = 100  # beyond this, the card lists sources grouped, not per document


@dataclass(frozen=True)
class Sources:
    """What the card says of the released documents' origins, summed a batch at a time.

    The card lists every document's row up to MAX_SOURCE_ROWS documents and only counts beyond
    that, so the rows are kept only while there are that few: a million documents' rows would
    be most of a build's memory, their counts are a few distinct keys.
    """

    count: int = 0
    rows: tuple[SourceRow, ...] = ()  # every document's, while count <= MAX_SOURCE_ROWS
    licences: Counter[str | None] = field(default_factory=Counter)  # documents per licence
    groups: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)  # documents per note_kind

    @classmethod
    def of(cls, rows: Iterable[SourceRow]) -> Sources:
        listed = tuple(rows)
        return cls(
            count=len(listed),
            rows=listed if len(listed) <= MAX_SOURCE_ROWS else (),
            licences=Counter(r.license for r in listed),
            groups=Counter((r.source, r.license) for r in listed),
            notes=Counter(note_kind(r.notes) for r in listed if r.notes),
        )

    def __add__(self, other: Sources) -> Sources:
        count = self.count + other.count
        return Sources(
            count=count,
            rows=self.rows + other.rows if count <= MAX_SOURCE_ROWS else (),
            licences=self.licences + other.licences,
            groups=self.groups + other.groups,
            notes=self.notes + other.notes,
        )


def note_kind(notes: str) -> str:
    """A document's notes without their first sentence (which names the document itself)."""
    first, _, rest = notes.partition(". ")
    return rest or first


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
    tokens: dict[str, int]  # per split, tokens of the sentences config
    dataset: Dataset
    annotation: AnnotationFacts
    guidelines_version: str | None
    guidelines_file: str  # release-relative path of the shipped annotation manual
    statuses: Counter[str]  # released records by status
    examples: dict[str, dict[str, Any]]  # per config, one row
    sources: Sources
    tokenizer: str
    changelog: tuple[ChangelogEntry, ...]  # newest first
    # Markdown paragraph with agreement figures (see kinews.adjudication.agreement); None: not
    # yet measured.
    agreement: str | None = None
    # Release-relative path of a chart of label counts per split, embedded when given.
    chart: str | None = None
    unannotated: int = 0
    # Markdown of the baseline section (kinews.release.baseline); None: not measured.
    baseline: str | None = None
    # Release-relative Parquet files per config and split, in shard order; a split not given
    # here is its one shard.
    shards: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


def card_license(facts: CardFacts) -> str:
    """The licence of the release as a whole, as a Hub licence id.

    Documents of unknown licence do not change it; one known licence is the release's (a
    share-alike licence such as CC BY-SA or CC BY-NC-SA extends to the whole), several are
    `other`, none is `unknown`.
    """
    known = sorted(licence for licence in facts.sources.licences if licence)
    if not known:
        return "unknown"
    return known[0].lower() if len(known) == 1 else "other"


def present(facts: CardFacts, config: str) -> list[str]:
    """Splits of a config with at least one row; `datasets` cannot load an empty split."""
    return [split for split in SPLITS if facts.rows[config][split]]
