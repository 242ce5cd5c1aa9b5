"""The dataset card's YAML header: what the Hub and `datasets` read.

Configs with their data files (every shard), features with ClassLabel names, split sizes
(`datasets` checks `num_examples` when it loads, which makes the card an integrity check too),
the byte counts `datasets` itself records, and the evaluation index for the `sentences` config.
"""

from __future__ import annotations

from typing import Any

from kinews.release.card_facts import CardFacts, card_license, present
from kinews.release.configs import CONFIGS
from kinews.release.folder import shard


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return name
    return "100K<n<1M"


def _eval_index(facts: CardFacts) -> list[dict[str, Any]]:
    """How the Hub's evaluation tools score the `sentences` config (needs train and test)."""
    if not (facts.rows["sentences"]["train"] and facts.rows["sentences"]["test"]):
        return []
    return [
        {
            "config": "sentences",
            "task": "token-classification",
            "task_id": "entity_extraction",
            "splits": {"train_split": "train", "eval_split": "test"},
            "col_mapping": {"tokens": "tokens", "ner_tags": "tags"},
            "metrics": [{"type": "seqeval", "name": "seqeval"}],
        }
    ]


def header(facts: CardFacts) -> dict[str, Any]:
    configs = [c for c in CONFIGS if present(facts, c)]
    evaluation = _eval_index(facts)
    return {
        "pretty_name": facts.dataset.pretty_name,
        "version": facts.version,
        "license": card_license(facts),
        "language": [facts.dataset.language],
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
                    {"split": split, "path": _data_files(facts, config, split)}
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
        **({"train-eval-index": evaluation} if evaluation else {}),
    }


def _data_files(facts: CardFacts, config: str, split: str) -> str | list[str]:
    """A split's one file, or the list of its shards (`datasets` reads both forms)."""
    files = facts.shards.get(config, {}).get(split) or (shard(config, split),)
    # One file stays a plain path, as in the releases recorded before shards existed.
    return files[0] if len(files) == 1 else list(files)
