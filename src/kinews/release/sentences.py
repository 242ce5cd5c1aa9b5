"""The sentences config of a split as Arrow columns: the rows of `configs.sentence_rows`, cut
with numpy instead of a Python object per token.

A build cuts every token of the corpus, and the rows' dicts and lists were most of a rebuild's
time per document. Here the tokens, sentences and tags of a batch of documents are a few numpy
arrays (the same rules as `kinews.tokens.cut_text` and `bio_of_cut`), from which the split's
columns are assembled directly. The values are the rows' exactly (tests/test_sentences.py
compares both on any text; the repository's own releases rebuild byte for byte).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from kinews.records import Annotation, Document, Span, sorted_spans
from kinews.scheme import Scheme
from kinews.tokens import Proposals, spans_to_bio, split_sentences

# Every code point that `str.isspace` (and so the `\s` of kinews.tokens' runs) calls
# whitespace; none lies above U+3000 (a test checks all of Unicode).
_SPACE_LIMIT = 0x3001
_SPACE = np.zeros(_SPACE_LIMIT + 1, dtype=bool)
_SPACE[[c for c in range(_SPACE_LIMIT) if chr(c).isspace()]] = True
# Texts cut in one batch (in characters): few enough that the batch's arrays stay small (and
# within Arrow's 32-bit offsets), many enough that numpy's cost per call is spread thin.
_BATCH_CHARACTERS = 1 << 24


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, start + length) for each pair."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


@dataclass
class SentenceTable:
    """A split's sentences config, a document at a time; `table` gives its Arrow table.

    Documents are cut a batch at a time (texts of about `_BATCH_CHARACTERS` in all): numpy's
    cost per call, not per element, is what a document of a few thousand characters pays.
    """

    scheme: Scheme
    schema: pa.Schema
    rows: int = 0
    tokens: int = 0
    _pending: list[tuple[Document, tuple[Span, ...], list[Span], Proposals]] = field(
        default_factory=list
    )
    _characters: int = 0
    _pieces: list[list[pa.Array]] = field(default_factory=list)

    def add(
        self,
        doc: Document,
        released: Annotation,
        layers: list[Annotation],
        proposals: Proposals,
    ) -> None:
        """Add a document's sentences, cut and tagged as `sentence_rows` does. Raises (here or
        at a later `add` or `table`) what it raises for a span the tokens cannot represent."""
        edges = [s for layer in layers for s in layer.spans]
        self._pending.append((doc, released.spans, edges, proposals))
        self._characters += len(doc.text) + 1
        if self._characters > _BATCH_CHARACTERS:
            self._flush()

    def __len__(self) -> int:
        self._flush()
        return self.rows

    def table(self) -> pa.Table:
        """The rows of every document added, in order, as one table of `schema`."""
        self._flush()
        arrays = [
            pa.chunked_array([p[i] for p in self._pieces], f.type)
            for i, f in enumerate(self.schema)
        ]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def _flush(self) -> None:
        if self._pending or not self._pieces:
            columns, tokens = _columns(self._pending, self.scheme, self.schema)
            self._pieces.append(columns)
            self.rows += len(columns[0])
            self.tokens += tokens
        self._pending, self._characters = [], 0


def _values(groups: Sequence[Sequence[int]], bases: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's offsets moved by its text's base (one array), and each group's size."""
    counts = np.array([len(g) for g in groups], dtype=np.int64)
    values = np.fromiter(itertools.chain.from_iterable(groups), np.int64, int(counts.sum()))
    return values + np.repeat(bases, counts), counts


def _columns(
    pending: Sequence[tuple[Document, tuple[Span, ...], list[Span], Proposals]],
    scheme: Scheme,
    schema: pa.Schema,
) -> tuple[list[pa.Array], int]:
    """The columns of the sentences of a batch of documents, and their number of tokens.

    The texts are laid end to end with a line break between them, so every offset of a text
    becomes one of the whole (its own plus the text's base) and each step below is one numpy
    call for the batch: a run of non-whitespace never reaches across a line break, a span or a
    sentence never across texts.
    """
    kinds = {f.name: f.type for f in schema}
    if not pending:
        return [pa.array([], f.type) for f in schema], 0
    docs = [p[0] for p in pending]
    joined = "\n".join(doc.text for doc in docs)
    lengths = np.array([len(doc.text) for doc in docs], dtype=np.int64)
    bases = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    points = code_points(joined)
    filled = np.concatenate([[False], ~_SPACE[np.minimum(points, _SPACE_LIMIT)], [False]])
    run_starts = np.flatnonzero(~filled[:-1] & filled[1:])
    run_ends = np.flatnonzero(filled[:-1] & ~filled[1:])
    # Tokens: the runs, cut at every proposed boundary and span edge strictly inside one.
    edges = [[x for s in p[2] for x in (s.start, s.end)] for p in pending]
    cuts = np.unique(
        np.concatenate([_values([p[3].cuts for p in pending], bases)[0], _values(edges, bases)[0]])
    )
    if len(run_starts):
        run = np.maximum(np.searchsorted(run_starts, cuts, side="right") - 1, 0)
        inner = cuts[(cuts > run_starts[run]) & (cuts < run_ends[run])]
    else:
        inner = cuts[:0]
    starts = np.sort(np.concatenate([run_starts, inner]))
    ends = np.sort(np.concatenate([run_ends, inner]))
    total = len(starts)
    first_token = np.searchsorted(starts, bases)
    stop_token = np.searchsorted(starts, bases + lengths)
    # Sentences: one begins at each text's first token and at the first token at or after each
    # proposed break that lies strictly inside no span of any layer (cut_text's rule).
    breaks, counts = _values([p[3].breaks for p in pending], bases)
    of_break = np.repeat(np.arange(len(docs)), counts)
    lo = np.sort(_values([[s.start for s in p[2] if s.start < s.end] for p in pending], bases)[0])
    hi = np.sort(_values([[s.end for s in p[2] if s.start < s.end] for p in pending], bases)[0])
    inside = np.searchsorted(lo, breaks, side="left") - np.searchsorted(hi, breaks, side="right")
    firsts = np.searchsorted(starts, breaks, side="left")
    kept = (inside <= 0) & (firsts > first_token[of_break]) & (firsts < stop_token[of_break])
    sentences = np.unique(
        np.concatenate([first_token[stop_token > first_token], firsts[kept]])
    ).astype(np.int64)
    lasts = np.append(sentences[1:], total)[: len(sentences)] - 1
    of_token = np.repeat(np.arange(len(docs)), stop_token - first_token)
    tags = _tags(pending, scheme, bases, starts, ends, sentences, first_token, stop_token)
    # Each token's bytes, out of the texts' UTF-8.
    encoded = joined.encode("utf-8")
    byte_starts, byte_ends = starts, ends
    if len(encoded) != len(joined):
        widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
        offsets = np.concatenate([[0], np.cumsum(widths, dtype=np.int64)])
        byte_starts, byte_ends = offsets[starts], offsets[ends]
    sizes = byte_ends - byte_starts
    data = np.frombuffer(encoded, dtype=np.uint8)[_ranges(byte_starts, sizes)]
    values = pa.StringArray.from_buffers(
        total,
        pa.py_buffer(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)),
        pa.py_buffer(data),
    )
    of_sentence = of_token[sentences]
    numbers = np.arange(len(sentences)) - np.searchsorted(of_sentence, of_sentence)
    ids = [docs[d].id for d in of_sentence.tolist()]
    local_starts, local_ends = starts - bases[of_token], ends - bases[of_token]
    lists = pa.array(np.append(sentences, total).astype(np.int32))
    pairs = pa.StructArray.from_arrays(
        [pa.array(local_starts.astype(np.int32)), pa.array(local_ends.astype(np.int32))],
        fields=list(kinds["token_offsets"].value_type),
    )
    columns = [
        pa.array([f"{i}#{n:04d}" for i, n in zip(ids, numbers.tolist(), strict=True)], kinds["id"]),
        pa.array(ids, kinds["doc_id"]),
        pa.array(local_starts[sentences].astype(np.int32), kinds["start"]),
        pa.array(local_ends[lasts].astype(np.int32), kinds["end"]),
        pa.ListArray.from_arrays(lists, values, type=kinds["tokens"]),
        pa.ListArray.from_arrays(lists, pairs, type=kinds["token_offsets"]),
        pa.ListArray.from_arrays(lists, pa.array(tags), type=kinds["ner_tags"]),
    ]
    return columns, total


def _tags(
    pending: Sequence[tuple[Document, tuple[Span, ...], list[Span], Proposals]],
    scheme: Scheme,
    bases: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    sentences: np.ndarray,
    first_token: np.ndarray,
    stop_token: np.ndarray,
) -> np.ndarray:
    """The ids (in `scheme.bio_names`) of every token's BIO tag of the released spans.

    `bio_of_cut`'s rule for the whole batch; a document where it declines (an unusual span)
    gets `spans_to_bio`'s tags, sentence by sentence, or its error.
    """
    tags = np.zeros(len(starts), dtype=np.int64)
    ids = {name: index for index, name in enumerate(scheme.label_names)}
    released = [sorted_spans(p[1]) for p in pending]
    lo, counts = _values([[s.start for s in spans] for spans in released], bases)
    hi, _ = _values([[s.end for s in spans] for spans in released], bases)
    if not len(lo):
        return tags
    labels = np.array([ids[s.label] for spans in released for s in spans], dtype=np.int64)
    of_span = np.repeat(np.arange(len(pending)), counts)
    count = len(starts)
    first = np.minimum(np.searchsorted(starts, lo), max(count - 1, 0))
    last = np.minimum(np.searchsorted(ends, hi), max(count - 1, 0))
    if count:
        good = (starts[first] == lo) & (ends[last] == hi) & (last >= first)
    else:
        good = np.zeros(len(lo), dtype=bool)
    # Spans are sorted within each document: an overlap starts at or before the last one's end.
    follows = np.concatenate([[False], of_span[1:] == of_span[:-1]])
    good &= ~(follows & (first <= np.concatenate([[-1], last[:-1]])))
    sentence = np.searchsorted(sentences, np.concatenate([first, last]), side="right")
    good &= sentence[: len(first)] == sentence[len(first) :]
    unusual = np.unique(of_span[~good])
    tagged = ~np.isin(of_span, unusual)
    first, last, begin = first[tagged], last[tagged], 1 + 2 * labels[tagged]
    tags[first] = begin
    tags[_ranges(first + 1, last - first)] = np.repeat(begin + 1, last - first)
    if len(unusual):
        names = {name: index for index, name in enumerate(scheme.bio_names)}
        for index in unusual.tolist():
            doc, spans, edges, proposals = pending[index]
            found = split_sentences(doc.text, edges, proposals)
            own = [names[t] for s in found for t in spans_to_bio(s, spans)]
            tags[first_token[index] : stop_token[index]] = own
    return tags
