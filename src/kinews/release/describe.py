"""What a release folder says about itself: the card, the chart, Croissant, the guidelines.

`build` writes the data and hands the staging folder here. The annotation manual named by the
dataset declaration is shipped as `GUIDELINES.md`, so the card can link it. The card is written
twice when the release has train and test: the baseline (`kinews.release.baseline`) reads the
staging folder through `load_dataset` exactly as `kinews baseline` reads the finished release,
which needs the card's configs, and its figures then go into the card. Nothing here records the
time, so the same inputs give the same bytes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from datasets import Features

from kinews.dataset import Dataset, guidelines_version
from kinews.release.baseline import markdown_section, skipped_section
from kinews.release.baseline_cache import cached_baseline
from kinews.release.card import agreement_paragraph, render_card
from kinews.release.card_facts import CardFacts, ChangelogEntry, card_license
from kinews.release.chart import render_label_chart
from kinews.release.configs import CONFIGS
from kinews.release.contents import Contents
from kinews.release.croissant import render_croissant
from kinews.release.datasheet import bibtex
from kinews.release.folder import (
    CARD,
    CHART,
    CHECKSUMS,
    CROISSANT,
    GUIDELINES,
    add_checksums,
    checksums,
    folder_name,
    write_checksums,
)
from kinews.scheme import Scheme


def describe(
    staging: Path,
    *,
    root: Path,
    dataset: Dataset,
    version: str,
    date: str,
    scheme: Scheme,
    features: Mapping[str, Features],
    contents: Contents,
    num_bytes: Mapping[str, Mapping[str, int]],
    shards: Mapping[str, Mapping[str, tuple[str, ...]]],
    tokenizer: str,
    changelog: Sequence[ChangelogEntry],
    unannotated: int,
    open_items: dict[str, int],
    cache: Path | None = None,
    baseline: bool = True,
) -> dict[str, str]:
    """Write card, chart, Croissant, guidelines and SHA256SUMS; returns every file's sha256.

    `contents`: the figures of the rows and records, summed by the build as it wrote them.
    `cache`: the dataset root whose baseline cache may hold the baseline's figures (None: none).
    `baseline`: False leaves the CRF untrained and the card's section says how to measure it.
    """
    render_label_chart(contents.label_counts, scheme.label_names, staging / CHART, cache)
    manual_version = guidelines_version(root, dataset)  # refuses a missing manual first
    shutil.copyfile(root / dataset.guidelines, staging / GUIDELINES)
    facts = CardFacts(
        version=version,
        date=date,
        scheme=scheme,
        features=dict(features),
        rows=contents.rows,
        num_bytes={c: dict(n) for c, n in num_bytes.items()},
        label_counts=contents.label_counts,
        tokens=contents.tokens,
        dataset=dataset,
        annotation=contents.annotation,
        guidelines_version=manual_version,
        guidelines_file=GUIDELINES,
        statuses=contents.statuses,
        examples=contents.examples,
        sources=contents.sources,
        tokenizer=tokenizer,
        changelog=tuple(reversed(changelog)),
        unannotated=unannotated,
        agreement=agreement_paragraph(contents.agreement, open_items),
        chart=CHART,
        shards={c: dict(by_split) for c, by_split in shards.items()},
    )
    (staging / CARD).write_text(render_card(facts), encoding="utf-8")
    # The split sizes in bytes as `datasets` computes them when it prepares the folder (they
    # differ from the Arrow tables' own sizes), so the card states what a loader will record.
    measured = _prepared_num_bytes(staging, [c for c in CONFIGS if num_bytes[c]])
    facts = replace(facts, num_bytes={**facts.num_bytes, **measured})
    (staging / CARD).write_text(render_card(facts), encoding="utf-8")
    if contents.rows["sentences"]["train"] and contents.rows["sentences"]["test"]:
        reproduce = f"kinews baseline dist/{folder_name(dataset.name, version)}"
        if baseline:
            section = markdown_section(cached_baseline(staging, cache), reproduce)
        else:
            section = skipped_section(reproduce)
        facts = replace(facts, baseline="\n".join(section))
        (staging / CARD).write_text(render_card(facts), encoding="utf-8")
    # Each file is hashed once: the data, chart, guidelines and card for croissant.json, then
    # the rest.
    files = checksums(staging)
    (staging / CROISSANT).write_text(
        render_croissant(
            dataset=dataset,
            version=version,
            date=date,
            license=card_license(facts),
            citation=bibtex(dataset, version, date),
            scheme=scheme,
            configs=features,
            present={c: list(num_bytes[c]) for c in CONFIGS},
            sharded={c for c in CONFIGS if any(len(f) > 1 for f in shards[c].values())},
            files=files,
            annotation=facts.annotation,
            guidelines_version=facts.guidelines_version,
        ),
        encoding="utf-8",
    )
    files = add_checksums(staging, files, CROISSANT)
    write_checksums(staging, files)
    return add_checksums(staging, files, CHECKSUMS)


def _prepared_num_bytes(staging: Path, configs: Sequence[str]) -> dict[str, dict[str, int]]:
    """Each config's split sizes as `datasets` records them after preparing the release."""
    from datasets import disable_progress_bars, load_dataset_builder

    disable_progress_bars()
    sizes = {}
    with tempfile.TemporaryDirectory() as cache:
        for config in configs:
            builder = load_dataset_builder(str(staging), config, cache_dir=cache)
            builder.download_and_prepare()
            sizes[config] = {name: split.num_bytes for name, split in builder.info.splits.items()}
    return sizes
