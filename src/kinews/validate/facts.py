"""The facts the validator's rules are judged on, computed column-wise with polars.

Everything that needs a document's text is computed here, once: its digest and normal form, and
for each span the characters at its offsets and just outside them. Offsets are code points;
polars' `str.slice` counts code points too, so a span's text is sliced from its document without
any Python loop over spans.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from kinews.records import SPAN_FIELDS, is_timestamp
from kinews.scheme import Scheme
from kinews.validate.arrow import memory_pool
from kinews.validate.rules import CONTROL

# A character that can continue a word: letters, digits and combining marks.
WORD_CHAR = r"[\p{L}\p{N}\p{M}]"
# Where a grapheme cluster may go on across an edge (Unicode's UAX 29 rules that forbid a break):
# before a mark, ZWJ/ZWNJ, a variation selector, emoji modifier or tag, a Hangul vowel or final
# jamo, a Thai/Lao spacing vowel (_GLUES_ON); after a mark (Indic conjuncts), ZWJ, a Prepend
# character or Hangul (_GLUES_AFTER); between two regional indicators (flags). All non-ASCII:
# only spans with such a neighbour at an edge are segmented (with the `regex` module's \X).
_RI = r"\x{1F1E6}-\x{1F1FF}"
_HANGUL_VT = r"\x{1160}-\x{11FF}\x{D7B0}-\x{D7FF}"
_GLUES_ON = (
    rf"[\p{{M}}\x{{200C}}\x{{200D}}\x{{FE00}}-\x{{FE0F}}\x{{E0100}}-\x{{E01EF}}\x{{1F3FB}}-\x{{1F3FF}}"
    rf"\x{{E0020}}-\x{{E007F}}\x{{FF9E}}\x{{FF9F}}\x{{0E33}}\x{{0EB3}}{_HANGUL_VT}{_RI}]"
)
_GLUES_AFTER = (
    rf"[\p{{M}}\x{{200D}}\x{{1100}}-\x{{11FF}}\x{{A960}}-\x{{A97F}}\x{{AC00}}-\x{{D7FF}}{_RI}"
    r"\x{0600}-\x{0605}\x{06DD}\x{070F}\x{0890}\x{0891}\x{08E2}\x{0D4E}\x{110BD}\x{110CD}"
    r"\x{111C2}\x{111C3}\x{1193F}\x{11941}\x{11A3A}\x{11A84}-\x{11A89}\x{11D46}\x{11F02}]"
)
_GLUED = f"(?:{_GLUES_AFTER}.|.{_GLUES_ON})"


@cache
def _cluster() -> Any:
    """The grapheme cluster pattern; `regex` is imported only when a span needs it."""
    import regex

    return regex.compile(r"\X")


def document_facts(documents: pa.Table) -> pl.DataFrame:
    """One row per document line: its fields, the digest and NFC-ness of its text, duplicates."""
    frame = pl.from_arrow(documents)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.rechunk()  # one chunk of string views (the text stays where it is)
    # hashlib holds the GIL for short texts, polars' regex pass does not: they run side by side.
    with ThreadPoolExecutor(max_workers=1) as hasher:
        digests = hasher.submit(_digests, documents["text"])
        suspect, control = _scan(frame["text"])
        digest = pl.Series(digests.result(), dtype=pl.Utf8)
    return frame.with_columns(
        digest=digest,
        nfc=pl.Series(_nfc(frame["text"], suspect), dtype=pl.Boolean),
        control=pl.Series(control, dtype=pl.Boolean),
    ).with_columns(
        first_line=pl.col("line").first().over("id"),
        same_text_id=pl.col("id").first().over("digest"),
        same_text_line=pl.col("line").first().over("digest"),
    )


def _scan(texts: pl.Series) -> tuple[list[int], np.ndarray]:
    """The rows whose text NFC could change, and whether each text has a control character.

    One regex pass over all texts (on every core: the streaming engine) finds either kind of
    character; only the few texts it flags are searched again to tell which.
    """
    suspicious = (
        texts.to_frame("text")
        .lazy()
        .select(pl.col("text").str.contains(f"{_nfc_suspects()}|{CONTROL}").fill_null(False))
        .collect(engine="streaming")
        .to_series()
    )
    flagged = suspicious.arg_true()
    control = np.zeros(len(texts), dtype=bool)
    if not len(flagged):
        return [], control
    some = texts.gather(flagged)
    control[flagged.to_numpy()] = some.str.contains(CONTROL).to_numpy()
    suspect = flagged.filter(some.str.contains(_nfc_suspects())).to_list()
    return suspect, control


def mark_annotated(docs: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """The documents with a column saying whether any record points at them."""
    return docs.with_columns(annotated=pl.col("id").is_in(records["doc_id"].unique().implode()))


def _digests(texts: pa.ChunkedArray) -> list[str]:
    """sha256 of each text's UTF-8 bytes, hashed in place from the Arrow buffers (no copies)."""
    digests = []
    for chunk in texts.chunks:
        if not len(chunk):
            continue  # an empty chunk may have no buffers at all
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ].tolist()
        data = memoryview(chunk.buffers()[2] or b"")
        digests += [hashlib.sha256(data[a:b]).hexdigest() for a, b in itertools.pairwise(offsets)]
    return digests


def _nfc(texts: pl.Series, suspect: list[int]) -> list[bool]:
    """Whether each text is NFC; only texts with a character that NFC can change are decoded."""
    nfc = [True] * len(texts)
    for index in suspect:
        nfc[index] = unicodedata.is_normalized("NFC", texts[index])
    return nfc


@cache
def _nfc_suspects() -> str:
    """A regex class of the characters a text must contain for NFC to change it.

    Those with a combining class (reordering), those NFC replaces (quick check "No") and those
    that can merge with the character before (the second half of a canonical composition, and
    Hangul vowel and trailing-consonant jamo). All characters beyond the BMP count as suspect,
    which keeps the table small; emoji and the like are checked exactly.
    """
    suspects = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    for point in range(0x300, 0x10000):
        if 0xD800 <= point < 0xE000:
            continue
        char = chr(point)
        if unicodedata.combining(char) or not unicodedata.is_normalized("NFC", char):
            suspects.add(point)
        parts = unicodedata.decomposition(char).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            suspects.add(int(parts[1], 16))
    ranges: list[list[int]] = []
    for point in sorted(suspects):
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    ranges.append([0x10000, 0x10FFFF])
    return "[" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def record_facts(records: pa.Table, docs: pl.DataFrame) -> pl.DataFrame:
    """One row per record: its fields, the document it points at, and its siblings' counts."""
    frame = pl.from_arrow(records.drop_columns(["spans"]))
    assert isinstance(frame, pl.DataFrame)
    first_docs = (
        docs.with_row_index("doc_row")
        .unique("id", keep="first", maintain_order=True)
        .select(
            "id",
            "doc_row",
            pl.col("digest").alias("current_sha256"),
            pl.col("file").alias("doc_file"),
            pl.col("line").alias("doc_line"),
        )
    )
    stamps = set(frame["created_at"].drop_nulls().unique().to_list()) | set(
        frame["updated_at"].drop_nulls().unique().to_list()
    )
    bad = pl.Series([s for s in stamps if not is_timestamp(s)], dtype=pl.Utf8).implode()
    submitted = pl.col("status") == "submitted"
    group = ["doc_id", "annotator", "status"]
    return (
        frame.with_row_index("record")
        .join(first_docs, left_on="doc_id", right_on="id", how="left", maintain_order="left")
        .with_columns(
            timestamps_ok=~pl.col("created_at").is_in(bad).fill_null(False)
            & ~pl.col("updated_at").is_in(bad).fill_null(False),
            same_annotator_record=pl.col("record").first().over(group),
            submitted=submitted.cast(pl.Int64).sum().over("doc_id"),
            gold=(pl.col("status") == "gold").cast(pl.Int64).sum().over("doc_id"),
            first_submitted=submitted
            & (pl.col("record") == pl.when(submitted).then(pl.col("record")).min().over("doc_id")),
        )
    )


def span_facts(
    records_table: pa.Table, records: pl.DataFrame, docs: pl.DataFrame, scheme: Scheme
) -> pl.DataFrame:
    """One row per span, in (record, start, end) order, with what its document has there."""
    pool = memory_pool()
    lists = records_table["spans"]  # a chunk per block pyarrow parsed: left so, not copied
    flat = dict(zip(SPAN_FIELDS, pc.list_flatten(lists, memory_pool=pool).flatten(), strict=True))
    parents = pc.list_parent_indices(lists, memory_pool=pool)
    spans = pl.from_arrow(
        pa.table({"record": pc.cast(parents, pa.int64(), memory_pool=pool), **flat})
    )
    assert isinstance(spans, pl.DataFrame)
    limits = {label.name: label.max_length for label in scheme.labels}
    spans = spans.with_columns(
        max_length=pl.col("label").replace_strict(limits, default=None, return_dtype=pl.Int64)
    )
    # Ordered before the streaming step: it returns a chunk per morsel, and the running
    # computations of the order would need them put back into one (a copy of every text).
    spans = _order(spans)
    # Only the document is joined in; a failing span finds its file and line via `record`.
    texts = docs["text"]
    start, end, doc_row = pl.col("start"), pl.col("end"), pl.col("doc_row")
    length = pl.col("doc_length")
    inside = (start >= 0) & (start < end) & (end <= length)
    # One slice per span, one character wider on each side: the span and its neighbours.
    first = pl.max_horizontal(start - 1, pl.lit(0, pl.Int64))
    # polars computes a slice for every row, `inside` or not, and refuses a negative length:
    # a span with start > end (`span-empty`) must not end the check of every other one.
    zero = pl.lit(0, pl.Int64)
    facts = (
        spans.with_columns(doc_row=records["doc_row"].gather(spans["record"]))
        .lazy()
        .with_columns(
            doc_text=pl.lit(texts).gather(doc_row),
            doc_length=pl.lit(texts.str.len_chars().cast(pl.Int64)).gather(doc_row),
        )
        .with_columns(
            wide=pl.when(inside).then(
                pl.col("doc_text").str.slice(first, pl.max_horizontal(end + 1 - first, zero))
            ),
            lead=start > 0,
            trail=(end < length).fill_null(False),
        )
        .with_columns(
            actual=pl.col("wide").str.slice(
                pl.col("lead").cast(pl.Int64), pl.max_horizontal(end - start, zero)
            )
        )
        .with_columns(
            glued=(pl.col("lead") & pl.col("wide").str.contains(f"(?s)^{_GLUED}"))
            | (pl.col("trail") & pl.col("wide").str.contains(f"(?s){_GLUED}$"))
        )
        .drop("doc_text")
        # The streaming engine slices a morsel of spans on each core (and keeps their order).
        .collect(engine="streaming")
    )
    facts = facts.with_columns(cuts_grapheme=_grapheme_cuts(facts, texts))
    return facts.select(
        "record",
        "start",
        "end",
        "label",
        "text",
        "doc_row",
        "doc_length",
        "max_length",
        "wide",
        "lead",
        "trail",
        "actual",
        "duplicate",
        "previous_end",
        "cuts_grapheme",
    )


def _grapheme_cuts(facts: pl.DataFrame, texts: pl.Series) -> pl.Series:
    """Whether an edge of each span falls inside a grapheme cluster of its document.

    Only the spans `glued` flags (a rare neighbour at an edge) are looked at, each document's
    clusters found once with \\X.
    """
    flagged = facts["glued"].fill_null(False).arg_true()
    cuts = np.zeros(len(facts), dtype=bool)
    if not len(flagged):
        return pl.Series(cuts)
    boundaries: dict[int, set[int]] = {}
    rows = facts.select("doc_row", "start", "end", "lead", "trail").gather(flagged)
    for index, (doc_row, start, end, lead, trail) in zip(flagged, rows.iter_rows(), strict=True):
        if doc_row not in boundaries:
            boundaries[doc_row] = grapheme_boundaries(texts[doc_row])
        edges = boundaries[doc_row]
        cuts[index] = (lead and start not in edges) or (trail and end not in edges)
    return pl.Series(cuts)


def grapheme_boundaries(text: str) -> set[int]:
    """The offsets (code points) between the grapheme clusters of `text`, both ends included."""
    return {match.start() for match in _cluster().finditer(text)} | {len(text)}


def grapheme_at(text: str, start: int, end: int) -> str:
    """The grapheme cluster a span edge cuts (the first such edge), for the message."""
    for match in _cluster().finditer(text):
        if match.start() < start < match.end() or match.start() < end < match.end():
            return match.group()
    return ""


def _order(spans: pl.DataFrame) -> pl.DataFrame:
    """Sort by (record, start, end) unless already so, then mark duplicates and earlier ends."""
    start, end, record = pl.col("start"), pl.col("end"), pl.col("record")
    same_record = record == record.shift(1)
    ordered = (
        ~same_record
        | (start > start.shift(1))
        | ((start == start.shift(1)) & (end >= end.shift(1)))
    )
    if not spans.select(ordered.fill_null(True).all()).item():
        spans = spans.sort("record", "start", "end", maintain_order=True)
    ties = spans.select(
        (same_record & (start == start.shift(1)) & (end == end.shift(1))).fill_null(False).any()
    ).item()
    duplicate = (
        ~pl.struct("record", "start", "end", "label").is_first_distinct() if ties else pl.lit(False)
    )
    # The furthest end among the record's earlier spans, without a window per record: records
    # are contiguous and ascending, so a running maximum of record * 2^31 + end never crosses
    # into the next record. Ends beyond 2^31 - 1 (out of any text's bounds) are clipped.
    scale = 2**31
    key = record * scale + end.clip(0, scale - 1)
    earlier = key.cum_max().shift(1)
    return spans.with_columns(
        duplicate=duplicate,
        previous_end=pl.when(earlier >= record * scale).then(earlier - record * scale),
    )


def word_at(text: str, start: int, end: int) -> str:
    """The word a span edge cuts through (the first such edge), for the message."""
    for edge in (start, end):
        if 0 < edge < len(text) and _in_word(text[edge - 1]) and _in_word(text[edge]):
            left, right = edge, edge
            while left > 0 and _in_word(text[left - 1]):
                left -= 1
            while right < len(text) and _in_word(text[right]):
                right += 1
            return text[left:right]
    return ""


def _in_word(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"
