"""The sentences config of a split as Arrow columns: the rows of `configs.sentence_rows`, cut
with numpy instead of a Python object per token.

A build cuts every token of the corpus, and the rows' dicts and lists were most of a rebuild's
time per document. Here a document's tokens, sentences and tags are a few numpy arrays (the
same rule as `kinews.tokens.cut_text` and `bio_of_cut`), and a split's columns are assembled
from them in one go. The values are the rows' exactly (tests/test_sentences.py compares both on
any text; the repository's own releases rebuild byte for byte).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from kinews.records import Annotation, Document, Span
from kinews.scheme import Scheme
from kinews.tokens import Proposals, spans_to_bio, split_sentences

# Every code point that `str.isspace` (and so the `\s` of kinews.tokens' runs) calls
# whitespace; none lies above U+3000 (a test checks all of Unicode).
_SPACE_LIMIT = 0x3001
_SPACE = np.zeros(_SPACE_LIMIT + 1, dtype=bool)
_SPACE[[c for c in range(_SPACE_LIMIT) if chr(c).isspace()]] = True
# Columns are assembled in pieces of at most this many bytes of token text: Arrow's string and
# list offsets are 32-bit.
_PIECE_BYTES = 1 << 30


@dataclass(frozen=True)
class CutArrays:
    """One text's tokens (code point offsets, in text order) and sentences (index of each
    sentence's first token): what `kinews.tokens.cut_text` gives, as arrays."""

    starts: np.ndarray
    ends: np.ndarray
    sentences: np.ndarray  # first token of each sentence; the last ends with the text's tokens


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def cut_arrays(text: str, spans: Sequence[Span], proposals: Proposals) -> CutArrays:
    """`cut_text(text, spans, proposals)` as arrays: the same tokens and sentences."""
    points = code_points(text)
    filled = ~_SPACE[np.minimum(points, _SPACE_LIMIT)]
    change = np.diff(filled.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    run_starts, run_ends = np.flatnonzero(change == 1), np.flatnonzero(change == -1)
    edges = [edge for span in spans for edge in (span.start, span.end)]
    cuts = np.unique(np.array([*proposals.cuts, *edges], dtype=np.int64))
    if len(run_starts):
        run = np.searchsorted(run_starts, cuts, side="right") - 1
        at = np.maximum(run, 0)
        inside = (run >= 0) & (cuts > run_starts[at]) & (cuts < run_ends[at])
        inner = cuts[inside]
    else:
        inner = cuts[:0]
    starts = np.sort(np.concatenate([run_starts, inner]))
    ends = np.sort(np.concatenate([run_ends, inner]))
    breaks = np.array(proposals.breaks, dtype=np.int64)
    if spans and len(breaks):
        lo = np.array([s.start for s in spans], dtype=np.int64)
        hi = np.array([s.end for s in spans], dtype=np.int64)
        breaks = breaks[~((lo < breaks[:, None]) & (breaks[:, None] < hi)).any(axis=1)]
    # A sentence begins at the first token at or after each kept break (cut_text's rule).
    firsts = np.searchsorted(starts, np.sort(breaks), side="left")
    firsts = np.unique(firsts[(firsts > 0) & (firsts < len(starts))])
    sentences = np.concatenate([[0], firsts]) if len(starts) else firsts
    return CutArrays(starts, ends, sentences.astype(np.int64))


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, start + length) for each pair."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


def tag_ids(cut: CutArrays, spans: Sequence[Span], scheme: Scheme) -> np.ndarray | None:
    """`bio_of_cut`'s tags as ids of `scheme.bio_names`; None where it gives None."""
    tags = np.zeros(len(cut.starts), dtype=np.int64)
    if not spans:
        return tags
    ordered = sorted(spans)
    ids = {name: index for index, name in enumerate(scheme.label_names)}
    lo = np.array([s.start for s in ordered], dtype=np.int64)
    hi = np.array([s.end for s in ordered], dtype=np.int64)
    count = len(cut.starts)
    first = np.searchsorted(cut.starts, lo)
    last = np.searchsorted(cut.ends, hi)
    if (first >= count).any() or (last >= count).any():
        return None
    if (cut.starts[first] != lo).any() or (cut.ends[last] != hi).any() or (last < first).any():
        return None
    if (first[1:] <= last[:-1]).any():  # an overlap: spans are sorted
        return None
    sentence_of = np.searchsorted(cut.sentences, np.concatenate([first, last]), side="right")
    if (sentence_of[: len(first)] != sentence_of[len(first) :]).any():
        return None
    begin = np.array([1 + 2 * ids[s.label] for s in ordered], dtype=np.int64)
    tags[first] = begin
    tags[_ranges(first + 1, last - first)] = np.repeat(begin + 1, last - first)
    return tags


@dataclass
class _Document:
    id: str
    text: bytes  # UTF-8
    cut: CutArrays
    byte_starts: np.ndarray
    byte_ends: np.ndarray
    tags: np.ndarray


@dataclass
class SentenceTable:
    """A split's sentences config, a document at a time; `table` gives its Arrow table."""

    scheme: Scheme
    schema: pa.Schema
    documents: list[_Document] = field(default_factory=list)
    rows: int = 0
    tokens: int = 0

    def add(
        self,
        doc: Document,
        released: Annotation,
        layers: list[Annotation],
        proposals: Proposals,
    ) -> None:
        """Add a document's sentences, as `sentence_rows` cuts and tags them (and raises what
        it raises for a span the tokens cannot represent)."""
        edges = [s for layer in layers for s in layer.spans]
        cut = cut_arrays(doc.text, edges, proposals)
        tags = tag_ids(cut, released.spans, self.scheme)
        if tags is None:  # an unusual span: spans_to_bio decides, sentence by sentence
            sentences = split_sentences(doc.text, edges, proposals)
            names = {name: index for index, name in enumerate(self.scheme.bio_names)}
            tags = np.array(
                [names[t] for s in sentences for t in spans_to_bio(s, released.spans)],
                dtype=np.int64,
            )
        encoded = doc.text.encode("utf-8")
        starts, ends = cut.starts, cut.ends
        if len(encoded) != len(doc.text):
            points = code_points(doc.text)
            widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
            offsets = np.concatenate([[0], np.cumsum(widths, dtype=np.int64)])
            starts, ends = offsets[starts], offsets[ends]
        self.documents.append(_Document(doc.id, encoded, cut, starts, ends, tags))
        self.rows += len(cut.sentences)
        self.tokens += len(cut.starts)

    def __len__(self) -> int:
        return self.rows

    def table(self) -> pa.Table:
        """The rows of every document added, in order, as one table of `schema`."""
        pieces: list[list[pa.Array]] = []
        piece: list[_Document] = []
        size = 0
        for doc in self.documents:
            if piece and size + len(doc.text) > _PIECE_BYTES:
                pieces.append(self._columns(piece))
                piece, size = [], 0
            piece.append(doc)
            size += len(doc.text)
        pieces.append(self._columns(piece))
        arrays = [
            pa.chunked_array([p[i] for p in pieces], f.type) for i, f in enumerate(self.schema)
        ]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def _columns(self, docs: list[_Document]) -> list[pa.Array]:
        ids, doc_ids, firsts, lasts = [], [], [], []
        base_tokens = 0
        for doc in docs:
            count = len(doc.cut.sentences)
            ids += [f"{doc.id}#{number:04d}" for number in range(count)]
            doc_ids += [doc.id] * count
            firsts.append(doc.cut.sentences + base_tokens)
            stops = np.append(doc.cut.sentences[1:], len(doc.cut.starts))[:count]
            lasts.append(stops + base_tokens - 1)
            base_tokens += len(doc.cut.starts)
        first = np.concatenate([np.zeros(0, np.int64), *firsts])
        last = np.concatenate([np.zeros(0, np.int64), *lasts])
        starts = np.concatenate([np.zeros(0, np.int64), *(d.cut.starts for d in docs)])
        ends = np.concatenate([np.zeros(0, np.int64), *(d.cut.ends for d in docs)])
        # Each token's bytes out of the documents' texts laid end to end.
        base = np.cumsum([0, *(len(d.text) for d in docs)])[:-1]
        byte_starts = np.concatenate(
            [np.zeros(0, np.int64), *(d.byte_starts + b for d, b in zip(docs, base, strict=True))]
        )
        byte_ends = np.concatenate(
            [np.zeros(0, np.int64), *(d.byte_ends + b for d, b in zip(docs, base, strict=True))]
        )
        lengths = byte_ends - byte_starts
        data = np.frombuffer(b"".join(d.text for d in docs), dtype=np.uint8)
        values = pa.StringArray.from_buffers(
            len(starts),
            pa.py_buffer(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)),
            pa.py_buffer(data[_ranges(byte_starts, lengths)]),
        )
        # Token lists: sentence i holds tokens first[i] .. last[i].
        offsets = pa.array(np.append(first, base_tokens).astype(np.int32))
        kinds = {f.name: f.type for f in self.schema}
        pairs = pa.StructArray.from_arrays(
            [pa.array(starts.astype(np.int32)), pa.array(ends.astype(np.int32))],
            fields=list(kinds["token_offsets"].value_type),
        )
        tags = np.concatenate([np.zeros(0, np.int64), *(d.tags for d in docs)])
        return [
            pa.array(ids, kinds["id"]),
            pa.array(doc_ids, kinds["doc_id"]),
            pa.array(starts[first].astype(np.int32), kinds["start"]),
            pa.array(ends[last].astype(np.int32), kinds["end"]),
            pa.ListArray.from_arrays(offsets, values, type=kinds["tokens"]),
            pa.ListArray.from_arrays(offsets, pairs, type=kinds["token_offsets"]),
            pa.ListArray.from_arrays(offsets, pa.array(tags), type=kinds["ner_tags"]),
        ]
