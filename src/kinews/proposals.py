"""SoMaJo's proposals for many texts: each text tokenized once, new ones on every core.

SoMaJo is nine tenths of a build, and what it proposes (`kinews.tokens.Proposals`) depends on
the text alone: span edges are applied after it. So the proposals are kept in a cache under the
dataset root, one file per text, named by the text's sha256 inside a folder named by the
tokenizer's name and version (and this module's own format):

    .kinews-cache/tokens/SoMaJo-2.5.0-p1/3f/3f2a….json

The cache is only a cache: git ignores it, it can be deleted at any time, an entry that does not
read back exactly (truncated, edited, of another text) is computed again and rewritten, and one
that cannot be written is left out. The release bytes are the same with or without it.

Texts not in the cache are cut into shards of `SHARD_SIZE` texts, in the order of their sha256:
the shards depend on the texts only, never on the number of workers, and every shard's result is
a pure function of its texts. They run on a `concurrent.futures.Executor` when one is given (a
`dask.distributed` client's `get_executor()` runs them on a cluster), else on a process pool of
`workers` processes, else (one worker, or one shard) in this process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import msgspec

from kinews.cache_entry import read_entry, write_entry
from kinews.errors import KinewsError, Problem
from kinews.records import Document
from kinews.root import CACHE_DIR, DOCUMENTS_FILE
from kinews.tokens import (
    DEFAULT_MODEL,
    MODELS,
    Proposals,
    model_for,
    propose_each,
    tokenizer_version,
)

# Raised whenever what `kinews.tokens.propose` computes or how an entry is written changes, so
# that no entry of the old kind is read back.
FORMAT = "p1"
# Small enough to keep two cores busy to the end on a few hundred new texts, large enough that
# sending a shard to a worker costs little beside tokenizing it.
SHARD_SIZE = 32
Progress = Callable[[int, int], None]  # (texts tokenized so far, texts to tokenize)
# An entry's payload: [key, cuts, breaks] (see _write_entry).
_ENTRY = msgspec.json.Decoder(tuple[str, list[int], list[int]])


@dataclass(frozen=True)
class Tokenized:
    """The proposals of each text (in the order given) and where they came from."""

    proposals: list[Proposals]
    cached: int  # distinct texts read from the cache
    computed: int  # distinct texts tokenized now


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cache_folder(root: Path, model: str = DEFAULT_MODEL) -> Path:
    """The cache folder of the current tokenizer (and its model) under a dataset root."""
    name = re.sub(r"[^A-Za-z0-9.]+", "-", tokenizer_version([model])).strip("-")
    return root / CACHE_DIR / f"{name}-{FORMAT}"


def tokenize_documents(
    docs: Sequence[Document],
    *,
    root: Path | None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Tokenized:
    """`tokenize_texts` for documents, each with SoMaJo's model for its own language; the cache
    under `root` (None: no cache). Raises KinewsError (`tokenizer-language`) naming every
    document whose language SoMaJo has no model for, before tokenizing anything."""
    unsupported = unsupported_languages(docs)
    if unsupported:
        raise KinewsError(unsupported)
    models = [model_for(doc.language) for doc in docs]
    proposals: dict[int, Proposals] = {}
    cached = computed = 0
    for model in sorted({m for m in models if m is not None}):
        chosen = [i for i, m in enumerate(models) if m == model]
        result = tokenize_texts(
            [docs[i].text for i in chosen],
            cache=None if root is None else cache_folder(root, model),
            workers=workers,
            executor=executor,
            model=model,
            progress=progress,
        )
        proposals.update(zip(chosen, result.proposals, strict=True))
        cached, computed = cached + result.cached, computed + result.computed
    return Tokenized([proposals[i] for i in range(len(docs))], cached, computed)


class Tokenizable(Protocol):
    """What the choice of a tokenizer model depends on (a Document, or an outline of one)."""

    @property
    def id(self) -> str: ...
    @property
    def language(self) -> str | None: ...


def unsupported_languages(docs: Iterable[Tokenizable]) -> list[Problem]:
    """`tokenizer-language` for each document whose language SoMaJo has no model for."""
    return [
        Problem(
            str(DOCUMENTS_FILE),
            None,
            doc.id,
            None,
            "tokenizer-language",
            f"the tokenizer has no model for language {doc.language!r} "
            f"(it has {', '.join(MODELS)})",
        )
        for doc in docs
        if model_for(doc.language) is None
    ]


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[Processes]:
    """`workers` tokenizing processes for callers that tokenize several times (the build, a
    batch at a time): started when the first shards are sent, shut down at the end."""
    pool = Processes(workers)
    try:
        yield pool
    finally:
        pool.shutdown()


class Processes(Executor):
    """Tokenizing processes of this machine, `workers` of them, started only when given work:
    a rebuild whose tokens all come from the cache starts none."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def runs_here(self, shards: int) -> bool:
        """Whether `shards` are tokenized in this process: with one worker, or one shard, a
        process would only add its start-up."""
        return self.workers <= 1 or shards <= 1

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pool is None:
            # spawn, not fork: the parent holds pyarrow's and polars' thread pools, which a
            # forked child would inherit in whatever state they were.
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def tokenize_texts(
    texts: Sequence[str],
    *,
    cache: Path | None,
    workers: int = 1,
    executor: Executor | None = None,
    model: str = DEFAULT_MODEL,
    progress: Progress | None = None,
) -> Tokenized:
    """SoMaJo's proposals (with its `model`) for every text, from the cache folder `cache`
    where it has them.

    `cache` None: no cache. `executor`: runs the shards (and `workers` is not used); else
    `workers` processes do. `progress` is told after each shard. Raises what the executor
    raises for a failed shard.
    """
    keys = [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts]
    by_key = dict(zip(keys, texts, strict=True))
    found: dict[str, Proposals] = {}
    if cache is not None:
        for key, text in by_key.items():
            entry = _read_entry(cache / key[:2] / f"{key}.json", key, len(text))
            if entry is not None:
                found[key] = entry
    missing = sorted(by_key.keys() - found.keys())
    shards = [missing[i : i + SHARD_SIZE] for i in range(0, len(missing), SHARD_SIZE)]
    results = _run([[by_key[key] for key in shard] for shard in shards], workers, executor, model)
    done = 0
    for shard, proposals_of_shard in zip(shards, results, strict=True):
        for key, proposals in zip(shard, proposals_of_shard, strict=True):
            found[key] = proposals
            if cache is not None:
                _write_entry(cache / key[:2] / f"{key}.json", key, proposals)
        done += len(shard)
        if progress is not None:
            progress(done, len(missing))
    return Tokenized([found[key] for key in keys], len(by_key) - len(missing), len(missing))


def _run(
    shards: list[list[str]], workers: int, executor: Executor | None, model: str
) -> Iterator[list[Proposals]]:
    """Each shard's proposals, in shard order, as they are ready: on `executor` (a caller's
    executor gets every shard), else on `workers` processes of this machine."""
    if not shards:
        return
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(worker_pool(workers))
        if isinstance(executor, Processes) and executor.runs_here(len(shards)):
            for shard in shards:
                yield propose_each(shard, model)
            return
        futures = [executor.submit(propose_each, shard, model) for shard in shards]
        for future in futures:
            yield future.result()


def _read_entry(path: Path, key: str, length: int) -> Proposals | None:
    """The entry of the text `key` at `path` if it reads back exactly, else None."""
    payload = read_entry(path)
    if payload is None:
        return None
    try:
        # msgspec checks the shape and that every offset is an int (never a bool or a float),
        # at C speed: a rebuild reads every entry.
        own_key, cuts, breaks = _ENTRY.decode(payload)
    except msgspec.DecodeError:  # ValidationError too
        return None
    if own_key != key:
        return None
    for offsets in (cuts, breaks):
        # Offsets of this text, strictly increasing (sorting a sorted list is one pass).
        if offsets and (
            offsets[0] < 0
            or offsets[-1] > length
            or offsets != sorted(offsets)
            or len(set(offsets)) != len(offsets)
        ):
            return None
    return Proposals(tuple(cuts), tuple(breaks))


def _write_entry(path: Path, key: str, proposals: Proposals) -> None:
    """Write an entry atomically: its sha256, a line break, then [key, cuts, breaks] as JSON.

    A cache that cannot be written (read-only, full) is left as it is: the build goes on.
    """
    payload = json.dumps([key, proposals.cuts, proposals.breaks], separators=(",", ":"))
    write_entry(path, payload.encode("ascii"))
