"""The configs' rows of the released documents, written a batch of documents at a time.

`kinews.release.reading` gives the released documents in id order, in batches; each batch is
tokenized (its new texts only: the token cache has the rest), turned into rows, appended to each
config's split writers (`kinews.release.parquet.SplitWriter`, which cut shards and row groups as
a whole table would be cut), tallied for the card (`kinews.release.contents`), and forgotten.
The files do not depend on the batches: the rows come in the same order, and the writers give
the same bytes however the rows are cut.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets import Features

from kinews.proposals import Progress, Tokenized, tokenize_documents, worker_pool
from kinews.records import Annotation, Document
from kinews.release.configs import CONFIGS, annotation_row, document_row
from kinews.release.contents import ContentsTally
from kinews.release.entries import EntryTable
from kinews.release.history import document_entry
from kinews.release.parquet import Rows, SplitWriter, WrittenSplit
from kinews.release.reading import BATCH_BYTES, Outline, batches
from kinews.release.selection import select_release_annotations
from kinews.release.sentences import SentenceTable
from kinews.release.splits import SPLITS
from kinews.scheme import Scheme


@dataclass
class Written:
    written: dict[str, dict[str, WrittenSplit]]  # per config, per split that has rows
    tally: ContentsTally
    entries: EntryTable  # per released document, in id order
    computed: int = 0  # texts tokenized
    cached: int = 0  # texts whose tokens came from the cache


def write_rows(
    outline: Outline,
    chosen: Sequence[int],
    splits: Sequence[str],
    staging: Path,
    scheme: Scheme,
    features: dict[str, Features],
    max_shard_size: int,
    tokenizing: Tokenizing,
    batch_bytes: int = BATCH_BYTES,
) -> Written:
    """Every config's rows of the released documents (the outline's documents at `chosen`, in
    id order, each in the split at the same place of `splits`), written a batch of documents at
    a time; what the card says of them is tallied."""
    writers = {
        c: {s: SplitWriter(staging, c, s, features[c], max_shard_size) for s in SPLITS}
        for c in CONFIGS
    }
    result = Written(
        {c: {} for c in CONFIGS}, ContentsTally(scheme), EntryTable(scheme.label_names)
    )
    split_of = iter(splits)
    try:
        with tokenizing.pool() as pool:
            for batch in batches(outline, chosen, batch_bytes):
                docs = [d.doc for d in batch.documents]
                releasing = select_release_annotations(docs, batch.records)
                layers: dict[str, list[Annotation]] = {}
                for record in batch.records:
                    layers.setdefault(record.ann.doc_id, []).append(record.ann)
                tokenized = tokenizing.run(docs, pool, of=len(chosen))
                result.computed += tokenized.computed
                result.cached += tokenized.cached
                rows: dict[str, dict[str, list[dict[str, Any]]]] = {
                    c: {s: [] for s in SPLITS} for c in ("documents", "annotations")
                }
                # The sentences config, by far the most rows, is built as columns.
                sentences = {
                    s: SentenceTable(scheme, features["sentences"].arrow_schema) for s in SPLITS
                }
                for doc, proposals in zip(docs, tokenized.proposals, strict=True):
                    split = next(split_of)
                    ann = releasing[doc.id]
                    own = sorted(
                        layers[doc.id], key=lambda a: (a.annotator, a.status, a.created_at)
                    )
                    rows["documents"][split].append(document_row(doc, ann, scheme))
                    sentences[split].add(doc, ann, own, proposals)
                    rows["annotations"][split] += [annotation_row(a, scheme) for a in own]
                    result.entries.append(doc.id, document_entry(split, doc.group, doc.sha256, ann))
                tables: dict[str, dict[str, Rows]] = {
                    "documents": dict(rows["documents"]),
                    "sentences": {s: sentences[s].table() for s in SPLITS},
                    "annotations": dict(rows["annotations"]),
                }
                for config in CONFIGS:
                    for split in SPLITS:
                        writers[config][split].write(tables[config][split])
                        result.tally.add_rows(config, split, tables[config][split])
                proposals_of = dict(zip((d.id for d in docs), tokenized.proposals, strict=True))
                result.tally.add_documents(docs, layers, releasing, proposals_of)
        for config in CONFIGS:
            for split in SPLITS:
                written = writers[config][split].close()
                if written is not None:
                    result.written[config][split] = written
    except BaseException:
        for by_split in writers.values():
            for writer in by_split.values():
                writer.abort()
        raise
    return result


@dataclass(frozen=True)
class Tokenizing:
    """How the build tokenizes each batch: the cache, the workers or executor, the progress."""

    cache: Path | None
    workers: int
    executor: Executor | None
    progress: Progress | None
    done: list[int] = field(default_factory=lambda: [0])  # documents of earlier batches

    def pool(self) -> contextlib.AbstractContextManager[Executor]:
        """The executor, else processes started once for every batch (when some are needed)."""
        if self.executor is not None:
            return contextlib.nullcontext(self.executor)
        return worker_pool(self.workers)

    def run(self, docs: list[Document], pool: Executor, of: int) -> Tokenized:
        """Proposals of a batch's documents. `progress` hears, while new texts are tokenized,
        how many of the `of` documents are done: those of the earlier batches and the texts of
        this one tokenized so far (the whole batch once it is done)."""
        before = self.done[0]

        def told(done: int, _total: int) -> None:
            if self.progress is not None:
                self.progress(before + done, of)

        tokenized = tokenize_documents(
            docs, root=self.cache, workers=self.workers, executor=pool, progress=told
        )
        self.done[0] += len(docs)
        if tokenized.computed:
            told(len(docs), of)
        return tokenized
