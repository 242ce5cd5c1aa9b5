"""The validator's contracts: pandera models of the documents, records and spans tables.

Each rule is a column `Field` or a `dataframe_check` named after its problem code (`_` for `-`),
written as a polars expression over the facts `kinews.validate.facts` computed; `problems_of`
turns the failing rows pandera reports (lazily, all at once) into located `Problem`s. The columns
that are the records' own fields come from the record contract (`kinews.records`): their types
and whether they may be null are declared there once; only the rules on them are written here.
"""

from __future__ import annotations

from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.errors import SchemaErrors

from kinews.errors import Problem, render_span
from kinews.records import ANNOTATION, DOCUMENT, SPAN, STATUSES, Contract
from kinews.scheme import Scheme
from kinews.validate.arrow import CHECKED_DOCUMENT_FIELDS
from kinews.validate.facts import WORD_CHAR, grapheme_at, word_at
from kinews.validate.rules import COLUMN_RULES, ID_PATTERN, LANGUAGE_PATTERN, RULES


def _ok(expression: pl.Expr) -> pl.Expr:
    return expression.fill_null(True)


EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_POLARS = {str: pl.Utf8, int: pl.Int64}


def contract_columns(
    contract: Contract,
    names: tuple[str, ...],
    *,
    kept_broken: bool = False,
    **rules: dict[str, Any],
) -> type[pa.DataFrameModel]:
    """A pandera model whose columns are the fields `names` of `contract`, typed and nullable
    as the contract declares them; `rules` (by field name) are the column checks on them.

    `kept_broken`: the table keeps a row whose fields are missing or mistyped (null, each a
    located field-missing or field-type already), so every column may be null."""
    wanted = [f for f in contract.fields if f.name in names]
    assert len(wanted) == len(names), names  # a name the contract does not have is a typo
    namespace: dict[str, object] = {
        "__annotations__": {f.name: _POLARS[f.type] for f in wanted},
        "__module__": __name__,
    }
    for f in wanted:
        nullable = kept_broken or f.presence != "required"
        namespace[f.name] = pa.Field(nullable=nullable, **rules.get(f.name, {}))
    return type("ContractColumns", (pa.DataFrameModel,), namespace)


_DocumentColumns = contract_columns(
    DOCUMENT,
    CHECKED_DOCUMENT_FIELDS,
    id={"str_matches": ID_PATTERN.pattern},
    language={"str_matches": LANGUAGE_PATTERN},
)
# The record's scalar fields; its origin is not checked beyond its type, its spans are a table.
# A record with a missing or mistyped field keeps its row, so that its other fields and its
# readable spans are still checked.
_RecordColumns = contract_columns(
    ANNOTATION,
    tuple(f.name for f in ANNOTATION.fields if f.type in _POLARS),
    kept_broken=True,
    status={"isin": list(STATUSES)},
)


class DocumentsTable(_DocumentColumns):  # type: ignore[valid-type,misc]  # made at run time
    """One row per line of corpus/documents.jsonl, with facts computed from its text."""

    file: pl.Utf8
    line: pl.Int64 = pa.Field(ge=1)
    digest: pl.Utf8
    nfc: pl.Boolean
    control: pl.Boolean  # has a control character (rules.CONTROL)
    first_line: pl.Int64  # line of the first document with this id
    same_text_id: pl.Utf8  # id of the first document with this text
    same_text_line: pl.Int64
    annotated: pl.Boolean

    @pa.dataframe_check
    @classmethod
    def doc_id_duplicate(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("line") == pl.col("first_line"))

    @pa.dataframe_check
    @classmethod
    def doc_sha256_mismatch(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("sha256") == pl.col("digest"))

    @pa.dataframe_check
    @classmethod
    def doc_text_empty(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("text").str.contains(r"\S"))

    @pa.dataframe_check
    @classmethod
    def doc_text_not_normalised(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("nfc") & ~pl.col("text").str.contains("\r"))

    @pa.dataframe_check
    @classmethod
    def doc_text_control_char(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("control"))

    @pa.dataframe_check
    @classmethod
    def doc_text_duplicate(cls, data: PolarsData) -> pl.LazyFrame:
        # The same id twice is doc-id-duplicate; this is the same text under another id.
        return data.lazyframe.select(pl.col("same_text_id") == pl.col("id"))

    @pa.dataframe_check
    @classmethod
    def doc_unannotated(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("annotated"))

    class Config:
        strict = True


class RecordsTable(_RecordColumns):  # type: ignore[valid-type,misc]  # made at run time
    """One row per annotation record, with the document it points at (null: none)."""

    file: pl.Utf8
    line: pl.Int64 = pa.Field(ge=1)
    record: pl.UInt32
    doc_row: pl.UInt32 = pa.Field(nullable=True)  # null: no such document
    current_sha256: pl.Utf8 = pa.Field(nullable=True)
    doc_file: pl.Utf8 = pa.Field(nullable=True)
    doc_line: pl.Int64 = pa.Field(nullable=True)
    timestamps_ok: pl.Boolean
    same_annotator_record: pl.UInt32  # the annotator's first record of this status here
    submitted: pl.Int64  # submitted records for the document
    first_submitted: pl.Boolean
    gold: pl.Int64

    @pa.dataframe_check
    @classmethod
    def doc_missing(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("current_sha256").is_not_null() | pl.col("doc_id").is_null()
        )

    @pa.dataframe_check
    @classmethod
    def annotation_stale(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_ok(pl.col("current_sha256") == pl.col("doc_sha256")))

    @pa.dataframe_check
    @classmethod
    def timestamp_invalid(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("timestamps_ok"))

    @pa.dataframe_check
    @classmethod
    def annotator_email(cls, data: PolarsData) -> pl.LazyFrame:
        # An e-mail must never reach annotations/ or a release: pseudonyms only.
        return data.lazyframe.select(_ok(~pl.col("annotator").str.contains(EMAIL_PATTERN)))

    @pa.dataframe_check
    @classmethod
    def annotator_duplicate(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("same_annotator_record") == pl.col("record"))

    @pa.dataframe_check
    @classmethod
    def needs_adjudication(cls, data: PolarsData) -> pl.LazyFrame:
        many = (pl.col("submitted") > 1) & (pl.col("gold") == 0)
        return data.lazyframe.select(~(many & pl.col("first_submitted")))

    class Config:
        strict = True


def spans_table_model(scheme: Scheme) -> type[pa.DataFrameModel]:
    """The spans contract; label names and maximum lengths come from the scheme."""
    span_columns = contract_columns(SPAN, SPAN.names, label={"isin": scheme.label_names})

    class SpansTable(span_columns):  # type: ignore[valid-type,misc]  # a class made at run time
        """One row per span, with what its document has at its offsets and around them."""

        record: pl.Int64  # row of the records table: file, line and document id
        doc_row: pl.UInt32 = pa.Field(nullable=True)  # null: no such document
        doc_length: pl.Int64 = pa.Field(nullable=True)
        max_length: pl.Int64 = pa.Field(nullable=True)  # of the label, from the scheme
        wide: pl.Utf8 = pa.Field(nullable=True)  # text[start-1:end+1]; null: not in the text
        lead: pl.Boolean  # a character precedes the span
        trail: pl.Boolean  # a character follows it
        actual: pl.Utf8 = pa.Field(nullable=True)  # document text[start:end]
        duplicate: pl.Boolean
        previous_end: pl.Int64 = pa.Field(nullable=True)  # furthest end of the spans before
        cuts_grapheme: pl.Boolean  # an edge falls inside a grapheme cluster of the text

        @pa.dataframe_check
        @classmethod
        def span_empty(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(pl.col("start") < pl.col("end"))

        @pa.dataframe_check
        @classmethod
        def span_out_of_bounds(cls, data: PolarsData) -> pl.LazyFrame:
            inside = (pl.col("start") >= 0) & (pl.col("end") <= pl.col("doc_length"))
            return data.lazyframe.select(_ok(inside | (pl.col("start") >= pl.col("end"))))

        @pa.dataframe_check
        @classmethod
        def span_text_mismatch(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(_ok(pl.col("actual") == pl.col("text")))

        @pa.dataframe_check
        @classmethod
        def span_whitespace(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(_ok(~pl.col("actual").str.contains(r"^\s|\s$")))

        @pa.dataframe_check
        @classmethod
        def span_partial_word(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(_ok(~_partial_word()))

        @pa.dataframe_check
        @classmethod
        def span_partial_grapheme(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(~pl.col("cuts_grapheme"))

        @pa.dataframe_check
        @classmethod
        def span_crosses_paragraph(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(_ok(~pl.col("actual").str.contains("\n")))

        @pa.dataframe_check
        @classmethod
        def span_too_long(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(
                _ok(pl.col("end") - pl.col("start") <= pl.col("max_length"))
            )

        @pa.dataframe_check
        @classmethod
        def span_duplicate(cls, data: PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(~pl.col("duplicate"))

        @pa.dataframe_check
        @classmethod
        def span_overlap(cls, data: PolarsData) -> pl.LazyFrame:
            later = pl.col("start") >= pl.col("previous_end")
            return data.lazyframe.select(_ok(later | pl.col("duplicate")))

        class Config:
            strict = True

    return SpansTable


def _partial_word() -> pl.Expr:
    """The character just outside an edge continues the word the span's edge character is in."""
    left = pl.col("lead") & pl.col("wide").str.contains(f"^{WORD_CHAR}{WORD_CHAR}")
    right = pl.col("trail") & pl.col("wide").str.contains(f"{WORD_CHAR}{WORD_CHAR}$")
    return left.fill_null(False) | right.fill_null(False)


def problems_of(
    model: type[pa.DataFrameModel],
    frame: pl.DataFrame,
    table: str,
    docs: pl.DataFrame,
    records: pl.DataFrame,
    guidelines: str = "the guidelines",
) -> list[Problem]:
    """The problems of every row of `frame` that fails a check of `model`.

    `guidelines`: the dataset's annotation manual, which messages point to.
    """
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return _problems(errors.failure_cases, frame, table, docs, records, guidelines)
    return []


def _problems(
    cases: pl.DataFrame,
    frame: pl.DataFrame,
    table: str,
    docs: pl.DataFrame,
    records: pl.DataFrame,
    guidelines: str,
) -> list[Problem]:
    found: set[tuple[str, int]] = set()
    for check, column, index in cases.select("check", "column", "index").iter_rows():
        code = str(check).replace("_", "-")
        if code not in RULES:
            code = COLUMN_RULES.get((table, str(column)), "")
        if not code or index is None:
            # A schema-level failure (column type, missing column) is a bug in kinews, not input.
            raise AssertionError(f"unexpected pandera failure in {table}: {check} {column}")
        found.add((code, int(index)))
    rows = sorted({index for _, index in found})
    failing = frame[rows]
    if table == "spans":  # a span is located by its record
        owners = records.select("file", "line", "doc_id")[failing["record"].to_list()]
        failing = pl.concat([failing, owners], how="horizontal")
    lookup = dict(zip(rows, failing.iter_rows(named=True), strict=True))
    problems = []
    for code, index in found:
        row = lookup[index]
        rule = RULES[code]
        # Facts only a failing row's message needs, computed for it alone.
        if code == "span-partial-word":
            text = docs["text"][row["doc_row"]]
            row = {**row, "word": word_at(text, row["start"], row["end"]), "guidelines": guidelines}
        elif code == "span-partial-grapheme":
            text = docs["text"][row["doc_row"]]
            row = {**row, "grapheme": grapheme_at(text, row["start"], row["end"])}
        elif code == "annotator-duplicate":
            first = records.row(row["same_annotator_record"], named=True)
            row = {**row, "same_annotator_at": f"{first['file']}:{first['line']}"}
        span = (
            render_span(row["start"], row["end"], row["label"], row["text"])
            if table == "spans"
            else None
        )
        doc_id = row["id"] if table == "documents" else row["doc_id"]
        problems.append(
            Problem(row["file"], row["line"], doc_id, span, code, rule.message(row), rule.severity)
        )
    return problems
