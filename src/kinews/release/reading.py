"""The root's documents and records, for a build: an outline first, then a batch at a time.

A release is made of documents in id order, each with all of its records. Holding every text
and span at once is what made a build's memory grow with the corpus, so the build reads the
input twice:

1. `read_outline`: what a build must know of every document before it writes any row (its id
   and group, its records' statuses: which documents are released and in which split), and
   where each line is. Nothing else is kept; msgspec skips the texts and spans unread.
2. `batches`: the documents in id order, cut into batches of about `BATCH_BYTES` of input,
   each decoded from its lines' places in the files (read with pread: a mapped file's pages
   would count in the build's memory as they are read) and its records; a batch is
   forgotten before the next is read.

Only for a root the validator passed without an error: every line is then a valid record, which
msgspec decodes as `kinews.root.read_checked` does. A blank line is skipped (its number still
counts).
"""

from __future__ import annotations

import functools
import os
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from kinews.records import (
    ANNOTATION_STRUCT,
    DOCUMENT_STRUCT,
    LocatedAnnotation,
    LocatedDocument,
    annotation_of,
    document_of,
)
from kinews.root import DOCUMENTS_FILE, annotation_files, display

# Input (document and record lines) per batch: the rows, tokens and tags made from it take
# several times as much while it is built.
BATCH_BYTES = 8 << 20
_CHUNK_BYTES = 32 << 20  # read at a time by the outline


class Head(msgspec.Struct, frozen=True):
    """A document as the outline keeps it (what its split and tokenizer depend on); msgspec
    skips the rest of its line unread."""

    id: str
    language: str | None  # which of SoMaJo's models tokenizes it
    group: str | None = None


class _RecordHead(msgspec.Struct, frozen=True):
    doc_id: str
    status: str


@dataclass(frozen=True)
class Outline:
    """Every document in id order, where its line is, and where its records' lines are."""

    files: tuple[Path, ...]  # 0: the corpus, then each annotation file
    names: tuple[str, ...]  # the same, as problems name them
    heads: list[Head]  # sorted by id
    places: np.ndarray  # per document: file offset, length and line number of its line
    first: np.ndarray  # document i's records are records[first[i] : first[i + 1]]
    records: np.ndarray  # per record, by document then file then line: file, offset, length, line
    statuses: list[str]  # per record, in the order of `records`
    sizes: np.ndarray  # per document: bytes of its line and its records' lines

    def statuses_of(self, index: int) -> list[str]:
        return self.statuses[self.first[index] : self.first[index + 1]]


def read_outline(root: Path) -> Outline:
    """The outline of the input under `root` (see the module's docstring)."""
    corpus = root / DOCUMENTS_FILE
    files = (corpus, *annotation_files(root))
    decoder = msgspec.json.Decoder(Head)
    heads: list[Head] = []
    # Offsets as machine integers (array, numpy), not Python tuples: 8 bytes, not 40, a number.
    places = array("q")  # per document, in file order: offset, length, line
    if corpus.exists():
        languages: dict[str | None, str | None] = {}  # one string per language
        for offset, length, line, raw in _lines(corpus):
            head = decoder.decode(raw)
            language = languages.setdefault(head.language, head.language)
            heads.append(Head(head.id, language, head.group))
            places.extend((offset, length, line))
    order = np.array(sorted(range(len(heads)), key=lambda i: heads[i].id), dtype=np.int64)
    heads = [heads[i] for i in order]
    doc_places = np.frombuffer(places, dtype=np.int64).reshape(-1, 3)[order]
    del places, order
    index = {head.id: i for i, head in enumerate(heads)}
    record_decoder = msgspec.json.Decoder(_RecordHead)
    owners = array("q")
    rows = array("q")  # per record, in file order: file, offset, length, line
    statuses: list[str] = []
    known: dict[str, str] = {}  # one string per status, not one per record
    for number, path in enumerate(files[1:], start=1):
        for offset, length, line, raw in _lines(path):
            record = record_decoder.decode(raw)
            owners.append(index[record.doc_id])  # the validator refused records without a document
            rows.extend((number, offset, length, line))
            statuses.append(known.setdefault(record.status, record.status))
    del index
    owner = np.frombuffer(owners, dtype=np.int64)
    by_owner = np.argsort(owner, kind="stable")  # then file, line
    counts = np.bincount(owner, minlength=len(heads))
    places_of_records = np.frombuffer(rows, dtype=np.int64).reshape(-1, 4)
    lengths = places_of_records[:, 2]
    record_bytes = np.bincount(owner, weights=lengths, minlength=len(heads)).astype(np.int64)
    return Outline(
        files=files,
        names=tuple(display(root, path) for path in files),
        heads=heads,
        places=doc_places,
        first=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        records=places_of_records[by_owner],
        statuses=[statuses[i] for i in by_owner],
        sizes=doc_places[:, 1] + record_bytes,
    )


@dataclass(frozen=True)
class Batch:
    documents: list[LocatedDocument]  # in id order
    records: list[LocatedAnnotation]  # every record of those documents, by document


def batches(
    outline: Outline, chosen: Sequence[int] | None = None, batch_bytes: int = BATCH_BYTES
) -> Iterator[Batch]:
    """The documents of the outline (only those at the indices `chosen`, in their order), with
    their records, in batches of about `batch_bytes` of input lines."""
    indices = range(len(outline.heads)) if chosen is None else chosen
    documents = msgspec.json.Decoder(DOCUMENT_STRUCT)
    records = msgspec.json.Decoder(ANNOTATION_STRUCT)
    with ExitStack() as stack:
        files = [stack.enter_context(path.open("rb")) for path in outline.files]
        reads = [functools.partial(os.pread, file.fileno()) for file in files]
        pending: list[int] = []
        size = 0
        for i in indices:
            pending.append(i)
            size += int(outline.sizes[i])
            if size >= batch_bytes:
                yield _batch(outline, pending, reads, documents, records)
                pending, size = [], 0
        if pending:
            yield _batch(outline, pending, reads, documents, records)


def _batch(
    outline: Outline,
    indices: list[int],
    reads: Sequence[Callable[[int, int], bytes]],
    documents: msgspec.json.Decoder,
    records: msgspec.json.Decoder,
) -> Batch:
    corpus = outline.names[0]
    docs = []
    located = []
    for i in indices:
        offset, length, line = (int(v) for v in outline.places[i])
        doc = document_of(documents.decode(reads[0](length, offset)))
        docs.append(LocatedDocument(corpus, line, doc))
        for file, offset, length, line in outline.records[outline.first[i] : outline.first[i + 1]]:
            ann = annotation_of(records.decode(reads[file](int(length), int(offset))))
            located.append(LocatedAnnotation(outline.names[file], int(line), ann))
    return Batch(docs, located)


def _lines(path: Path) -> Iterator[tuple[int, int, int, bytes]]:
    """Each non-blank line of a file: its offset, length, number and bytes, read a chunk at a
    time."""
    offset, number = 0, 0
    rest = b""
    with path.open("rb") as file:
        while True:
            chunk = file.read(_CHUNK_BYTES)
            lines = (rest + chunk).split(b"\n")
            # The last piece may be a line cut by the chunk's end: it waits for the next chunk,
            # unless this was the end of the file.
            rest = lines.pop() if chunk else b""
            for raw in lines:
                number += 1
                if raw.strip():
                    yield offset, len(raw), number, raw
                offset += len(raw) + 1
            if not chunk:
                return
