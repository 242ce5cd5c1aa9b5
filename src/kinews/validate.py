"""Documents + annotations → located problems, through pandera models.

Two tables carry the contract: one row per document, one row per span (joined with its record
and its document). Each rule is a named pandera check whose name is the problem code with `_`
for `-`, so a failure case maps straight back to a located `Problem`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series

from kinews.errors import Problem, render_span
from kinews.ingest import ID_PATTERN
from kinews.records import (
    STATUSES,
    LocatedAnnotation,
    LocatedDocument,
    scan_annotations,
    scan_documents,
)
from kinews.scheme import Scheme, load_scheme


class DocumentsTable(pa.DataFrameModel):
    """One row per line of corpus/documents.jsonl."""

    file: Series[str]
    line: Series[int] = pa.Field(ge=1)
    id: Series[str] = pa.Field(str_matches=ID_PATTERN.pattern)
    text: Series[str]
    sha256: Series[str]

    @pa.dataframe_check
    def doc_id_duplicate(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["id"].duplicated(keep="first")

    @pa.dataframe_check
    def doc_sha256_mismatch(cls, df: pd.DataFrame) -> Series[bool]:
        actual = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in df["text"]]
        return pd.Series(
            [a == s for a, s in zip(actual, df["sha256"], strict=True)], index=df.index
        )

    @pa.dataframe_check
    def doc_text_empty(cls, df: pd.DataFrame) -> Series[bool]:
        return df["text"].str.strip().str.len() > 0

    @pa.dataframe_check
    def doc_text_not_normalised(cls, df: pd.DataFrame) -> Series[bool]:
        ok = [("\r" not in t and unicodedata.is_normalized("NFC", t)) for t in df["text"]]
        return pd.Series(ok, index=df.index)

    class Config:
        strict = True


def spans_table_model(scheme: Scheme) -> type[pa.DataFrameModel]:
    """The spans contract; the label check reads its names from the scheme."""
    labels = scheme.label_names

    class SpansTable(pa.DataFrameModel):
        """One row per span, with its record's location and its document's text (or null)."""

        file: Series[str]
        line: Series[int]
        record: Series[int]
        doc_id: Series[str]
        start: Series[int]
        end: Series[int]
        label: Series[str] = pa.Field(isin=labels)
        text: Series[str]
        doc_text: Series[object] = pa.Field(nullable=True)

        @pa.dataframe_check
        def span_empty(cls, df: pd.DataFrame) -> Series[bool]:
            return df["start"] < df["end"]

        @pa.dataframe_check
        def span_out_of_bounds(cls, df: pd.DataFrame) -> Series[bool]:
            lengths = df["doc_text"].map(lambda t: len(t) if isinstance(t, str) else None)
            known = lengths.notna()
            inside = (df["start"] >= 0) & (df["end"] <= lengths.fillna(0))
            return ~known | inside | (df["start"] >= df["end"])

        @pa.dataframe_check
        def span_text_mismatch(cls, df: pd.DataFrame) -> Series[bool]:
            ok = [
                not isinstance(doc, str)
                or start < 0
                or end > len(doc)
                or start >= end
                or doc[start:end] == text
                for doc, start, end, text in zip(
                    df["doc_text"], df["start"], df["end"], df["text"], strict=True
                )
            ]
            return pd.Series(ok, index=df.index)

        @pa.dataframe_check
        def span_overlap(cls, df: pd.DataFrame) -> Series[bool]:
            ordered = df.sort_values(["record", "start", "end"], kind="stable")
            previous_end = (
                ordered.groupby("record")["end"].cummax().groupby(ordered["record"]).shift()
            )
            return (ordered["start"] >= previous_end.fillna(-1)).reindex(df.index)

        class Config:
            strict = True

    return SpansTable


class RecordsTable(pa.DataFrameModel):
    """One row per annotation record, with its document's current sha256 (null: no document)."""

    file: Series[str]
    line: Series[int]
    doc_id: Series[str]
    doc_sha256: Series[str]
    status: Series[str] = pa.Field(isin=list(STATUSES))
    current_sha256: Series[object] = pa.Field(nullable=True)

    @pa.dataframe_check
    def doc_missing(cls, df: pd.DataFrame) -> Series[bool]:
        return df["current_sha256"].notna()

    @pa.dataframe_check
    def annotation_stale(cls, df: pd.DataFrame) -> Series[bool]:
        return df["current_sha256"].isna() | (df["current_sha256"] == df["doc_sha256"])

    class Config:
        strict = True


@dataclass(frozen=True)
class Rule:
    """How a failing row of one check becomes a Problem."""

    code: str
    message: Callable[[pd.Series], str]


_COLUMN_RULES = {
    ("documents", "id"): Rule(
        "doc-id-invalid", lambda r: f"document id must match {ID_PATTERN.pattern}"
    ),
    ("spans", "label"): Rule(
        "label-unknown", lambda r: f"label {r['label']!r} is not in schemas/labels.yaml"
    ),
    ("records", "status"): Rule(
        "status-invalid", lambda r: f"status {r['status']!r} must be one of {', '.join(STATUSES)}"
    ),
}
_CHECK_RULES = {
    "doc_id_duplicate": Rule(
        "doc-id-duplicate", lambda r: "another document above has the same id; ids are unique"
    ),
    "doc_sha256_mismatch": Rule(
        "doc-sha256-mismatch",
        lambda r: (
            "sha256 does not match the text; re-ingest the document "
            "instead of editing corpus/ by hand"
        ),
    ),
    "doc_text_empty": Rule("doc-text-empty", lambda r: "the document text is empty"),
    "doc_text_not_normalised": Rule(
        "doc-text-not-normalised", lambda r: "text is not NFC with LF line ends; re-ingest it"
    ),
    "span_empty": Rule("span-empty", lambda r: "start must be smaller than end"),
    "span_out_of_bounds": Rule(
        "span-out-of-bounds",
        lambda r: f"offsets outside the document text (0-{len(r['doc_text'])})",
    ),
    "span_text_mismatch": Rule(
        "span-text-mismatch",
        lambda r: (
            f"span text does not match the document, which has "
            f"{r['doc_text'][r['start'] : r['end']]!r} there"
        ),
    ),
    "span_overlap": Rule(
        "span-overlap", lambda r: "overlaps an earlier span of the same record; spans are flat"
    ),
    "doc_missing": Rule(
        "doc-missing", lambda r: f"no document {r['doc_id']!r} in corpus/documents.jsonl"
    ),
    "annotation_stale": Rule(
        "annotation-stale",
        lambda r: (
            "doc_sha256 differs from the document's current text: the "
            "document changed since this was annotated; re-check the "
            "spans against the new text and update doc_sha256"
        ),
    ),
}


def validate(root: Path) -> list[Problem]:
    """Every problem in the corpus and annotations under `root`, sorted by location."""
    scheme = load_scheme(root)
    docs, problems = scan_documents(root)
    records, record_problems = scan_annotations(root)
    problems += record_problems
    problems += check_documents(docs)
    problems += check_annotations(docs, records, scheme)
    return sorted(problems, key=_order)


def check_documents(docs: list[LocatedDocument]) -> list[Problem]:
    frame = pd.DataFrame(
        {
            "file": [d.file for d in docs],
            "line": [d.line for d in docs],
            "id": [d.doc.id for d in docs],
            "text": [d.doc.text for d in docs],
            "sha256": [d.doc.sha256 for d in docs],
        }
    )
    return _run(
        DocumentsTable, _typed(frame), "documents", lambda r: (r["file"], r["line"], r["id"], None)
    )


def check_annotations(
    docs: list[LocatedDocument], records: list[LocatedAnnotation], scheme: Scheme
) -> list[Problem]:
    # The first document with an id wins; a duplicate id is reported by check_documents.
    texts: dict[str, str] = {}
    for located in docs:
        texts.setdefault(located.doc.id, located.doc.text)
    # Staleness is judged against the text itself, not its recorded sha256 (which may be wrong).
    current = {
        doc_id: hashlib.sha256(text.encode("utf-8")).hexdigest() for doc_id, text in texts.items()
    }
    recs = pd.DataFrame(
        {
            "file": [r.file for r in records],
            "line": [r.line for r in records],
            "doc_id": [r.ann.doc_id for r in records],
            "doc_sha256": [r.ann.doc_sha256 for r in records],
            "status": [r.ann.status for r in records],
            "current_sha256": [current.get(r.ann.doc_id) for r in records],
        }
    )
    recs = _typed(recs)
    problems = _run(
        RecordsTable, recs, "records", lambda r: (r["file"], r["line"], r["doc_id"], None)
    )
    rows = [
        (
            r.file,
            r.line,
            index,
            r.ann.doc_id,
            s.start,
            s.end,
            s.label,
            s.text,
            texts.get(r.ann.doc_id),
        )
        for index, r in enumerate(records)
        for s in r.ann.spans
    ]
    spans = pd.DataFrame(
        rows,
        columns=["file", "line", "record", "doc_id", "start", "end", "label", "text", "doc_text"],
    )
    spans = _typed(spans)
    problems += _run(
        spans_table_model(scheme),
        spans,
        "spans",
        lambda r: (
            r["file"],
            r["line"],
            r["doc_id"],
            render_span(r["start"], r["end"], r["label"], r["text"]),
        ),
    )
    return problems


_INTEGERS = {"line", "record", "start", "end"}
_NULLABLE = {"doc_text", "current_sha256"}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every column its contract dtype, also when the frame is empty (pandas: float64)."""
    return frame.astype(
        {
            column: "int64" if column in _INTEGERS else object if column in _NULLABLE else "str"
            for column in frame.columns
        }
    )


def _run(
    model: type[pa.DataFrameModel],
    frame: pd.DataFrame,
    table: str,
    locate: Callable[[pd.Series], tuple[str, int, str | None, str | None]],
) -> list[Problem]:
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return list(_problems(errors.failure_cases, frame, table, locate))
    return []


def _problems(
    cases: pd.DataFrame,
    frame: pd.DataFrame,
    table: str,
    locate: Callable[[pd.Series], tuple[str, int, str | None, str | None]],
):
    seen: set[tuple[str, int]] = set()
    for case in cases.itertuples(index=False):
        check = str(case.check)
        rule = _CHECK_RULES.get(check) or _COLUMN_RULES.get((table, str(case.column)))
        if rule is None:
            # A schema-level failure (column type, missing column) is a bug in kinews, not input.
            raise AssertionError(f"unexpected pandera failure in {table}: {case}")
        if pd.isna(case.index) or (rule.code, int(case.index)) in seen:
            continue
        seen.add((rule.code, int(case.index)))
        row = frame.loc[int(case.index)]
        file, line, doc_id, span = locate(row)
        yield Problem(file, int(line), doc_id, span, rule.code, rule.message(row))


def _order(problem: Problem) -> tuple[str, int, str, str]:
    return (problem.file or "", problem.line or 0, problem.code, problem.span or "")
