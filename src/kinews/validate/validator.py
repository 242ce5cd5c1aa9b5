"""Documents + annotations → every located problem in one run.

The stage has four parts: `tables` reads the files into Arrow tables (every row with its file and
line; a fast reader and a careful one), `facts` computes the facts the rules need, `contracts`
holds the pandera contracts of the documents, records and spans tables, and `rules` the code,
severity and message of each rule. Policies (label names, maximum span lengths) come from the
scheme.
"""

from __future__ import annotations

import gc
import re
import tempfile
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from kinews.errors import KinewsError, Problem
from kinews.root import (
    DOCUMENTS_FILE,
    SCHEME_FILE,
    WORKLIST_FILE,
    display,
    nested_annotation_files,
)
from kinews.scheme import Scheme, load_scheme
from kinews.validate.arrow import empty
from kinews.validate.batches import BATCH_BYTES, WHOLE_BYTES, Doubt, Part, batch_count
from kinews.validate.rules import RULES
from kinews.validate.tables import read_documents, read_part, read_records

if TYPE_CHECKING:
    import polars as pl


def validate(
    root: Path, *, batch_bytes: int = BATCH_BYTES, whole_bytes: int = WHOLE_BYTES
) -> list[Problem]:
    """Every problem in the corpus and annotations under `root`, sorted by location.

    A corpus of more than `whole_bytes` of input is checked in batches of about `batch_bytes`
    (kinews.validate.batches), with the same problems. Raises KinewsError (`scheme-missing`,
    `scheme-invalid`) when there is no usable scheme, and (`corpus-missing`) when there is no
    corpus/documents.jsonl.
    """
    return check(root, batch_bytes=batch_bytes, whole_bytes=whole_bytes)[1]


def check(
    root: Path, *, batch_bytes: int = BATCH_BYTES, whole_bytes: int = WHOLE_BYTES
) -> tuple[Scheme, list[Problem]]:
    """The scheme under `root` and every problem (`validate`). Raises KinewsError as it does."""
    # The imports and the lists of line numbers and digests make a few million objects and no
    # garbage cycles; the cyclic collector walking them cost ≈6 % of the CPU time at 100,000
    # documents.
    collecting = gc.isenabled()
    gc.disable()
    try:
        scheme = load_scheme(root)
        if not (root / DOCUMENTS_FILE).is_file():
            # A check that reads no document must not pass (an empty corpus is a file, and passes).
            raise KinewsError.single(
                "corpus-missing",
                "there is no corpus/documents.jsonl, so nothing can be checked: `kinews ingest` "
                "the texts, or point --root at the dataset root",
                file=str(DOCUMENTS_FILE),
            )
        with ThreadPoolExecutor(max_workers=2) as lanes:
            count = batch_count(root, batch_bytes, whole_bytes)
            found = in_batches(root, scheme, count, lanes) if count > 1 else None
            problems, used = found or _whole(root, scheme, lanes)
        problems += _unused_labels(root, scheme, used)
        problems += _nested_files(root)
        problems += _open_worklist_items(root)
        return scheme, sorted(problems, key=_order)
    finally:
        if collecting:
            gc.enable()


def _whole(root: Path, scheme: Scheme, lanes: Executor) -> tuple[list[Problem], set[str]]:
    """The problems of the corpus read at once, and the labels its spans use."""
    # pyarrow parses both kinds of file at once, on both cores and without the GIL. Meanwhile
    # this thread imports polars and pandera (≈0.5 s of CPU that would otherwise come first;
    # the readers never import pandas, which pandera does, so neither waits for the other).
    reading_documents = lanes.submit(read_documents, root)
    reading = lanes.submit(read_records, root)
    _import_checks()
    documents, read = reading_documents.result(), reading.result()
    problems = [*documents.problems, *read.problems]
    found, used, _ = _check(_guidelines(root), scheme, documents.table, read.table, lanes)
    return problems + found, used


def in_batches(
    root: Path, scheme: Scheme, count: int, lanes: Executor
) -> tuple[list[Problem], set[str]] | None:
    """The problems of the corpus checked in `count` batches (kinews.validate.batches), and the
    labels in use; None if a file needs the careful reader (the corpus is then checked whole)."""
    import polars as pl

    from kinews.validate.batches import sort_documents, sort_records, text_duplicates

    with tempfile.TemporaryDirectory(prefix="kinews-validate-") as folder:
        try:
            sorting_documents = lanes.submit(sort_documents, root, Path(folder), count)
            sorting = lanes.submit(sort_records, root, Path(folder) / "records", count)
            _import_checks()
            pending: list[Future[Any]] = [sorting_documents, sorting]
            wait(pending)  # both, before a doubt removes their folder
            documents, records = sorting_documents.result(), sorting.result()
            problems: list[Problem] = []
            used: set[str] = set()
            seen = []
            guidelines = _guidelines(root)
            for batch, (own, parts) in enumerate(zip(documents, records, strict=True)):
                reading = lanes.submit(_read_parts, [own] if own else [], "documents", batch, count)
                read = _read_parts(parts, "records", batch, count)
                found, labels, docs = _check(guidelines, scheme, reading.result(), read, lanes)
                # Whether a text is in another batch too is known once all are checked.
                problems += [p for p in found if p.code != "doc-text-duplicate"]
                used |= labels
                seen.append(docs.select(pl.col("digest").str.decode("hex"), "id", "line"))
        except Doubt:
            return None
    return problems + _text_duplicates(text_duplicates(pl.concat(seen))), used


def _text_duplicates(duplicates: pl.DataFrame) -> list[Problem]:
    rule = RULES["doc-text-duplicate"]
    return [
        Problem(
            str(DOCUMENTS_FILE),
            row["line"],
            row["id"],
            None,
            "doc-text-duplicate",
            rule.message(row),
            rule.severity,
        )
        for row in duplicates.iter_rows(named=True)
    ]


def _read_parts(parts: list[Part], kind: str, batch: int, count: int) -> pa.Table:
    """The table of a batch's parts of the input files, if each row's document id hashes to it."""
    from kinews.validate.batches import belongs

    tables = []
    for part in parts:
        table = read_part(part.path, kind, part.name, part.numbers)
        if table is None or not belongs(table, kind, batch, count):
            raise Doubt(part.name)
        tables.append(table)
    if not tables:
        return empty(kind)
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _import_checks() -> None:
    """polars and pandera, imported while the other threads read."""
    import polars  # noqa: F401

    import kinews.validate.contracts  # noqa: F401


def _check(
    guidelines: str,
    scheme: Scheme,
    documents: pa.Table,
    records_table: pa.Table,
    lanes: Executor,
) -> tuple[list[Problem], set[str], pl.DataFrame]:
    """The problems of documents and the records on them, the labels their spans use, and the
    documents' facts."""
    import polars as pl

    from kinews.validate.contracts import (
        DocumentsTable,
        RecordsTable,
        problems_of,
        spans_table_model,
    )
    from kinews.validate.facts import document_facts, mark_annotated, record_facts, span_facts

    # The facts and the checks run on both cores (polars' streaming engine), the documents'
    # checks beside the span facts. pandera's checks are lazy queries: the streaming engine
    # runs them too.
    with pl.Config(engine_affinity="streaming"):
        docs = document_facts(documents)
        records = record_facts(records_table, docs)
        docs = mark_annotated(docs, records)
        checking = lanes.submit(problems_of, DocumentsTable, docs, "documents", docs, records)
        spans = span_facts(records_table, records, docs, scheme)
        problems = problems_of(RecordsTable, records, "records", docs, records)
        problems += problems_of(
            spans_table_model(scheme), spans, "spans", docs, records, guidelines
        )
        problems += checking.result()
    return problems, set(spans["label"].drop_nulls().unique().to_list()), docs


def _guidelines(root: Path) -> str:
    """The manual the dataset declares (schemas/dataset.yaml), for messages to point to."""
    from kinews.dataset import load_dataset_declaration

    try:
        return load_dataset_declaration(root).guidelines
    except KinewsError:  # `kinews build` reports a broken declaration; the data is checked anyway
        return "the annotation guidelines"


def _unused_labels(root: Path, scheme: Scheme, used: set[str]) -> list[Problem]:
    lines = (root / SCHEME_FILE).read_text("utf-8").splitlines()
    problems = []
    for label in scheme.label_names:
        if label in used:
            continue
        entry = re.compile(rf"^\s*-?\s*name:\s*['\"]?{re.escape(label)}['\"]?\s*(#.*)?$")
        line = next((n for n, text in enumerate(lines, 1) if entry.match(text)), None)
        rule = RULES["label-unused"]
        problems.append(
            Problem(
                str(SCHEME_FILE),
                line,
                None,
                None,
                "label-unused",
                rule.message({"label": label}),
                rule.severity,
            )
        )
    return problems


def _nested_files(root: Path) -> list[Problem]:
    """Records where no command reads them fail the check: a gate must not pass unread data."""
    return [
        Problem(
            display(root, path),
            None,
            None,
            None,
            "annotation-file-nested",
            "JSON Lines in a sub-folder of annotations/ are read by no command (only "
            "annotations/*.jsonl, and the worklist in annotations/adjudication/): move the file "
            "into annotations/ to have its records checked and released, or out of annotations/",
        )
        for path in nested_annotation_files(root)
    ]


def _open_worklist_items(root: Path) -> list[Problem]:
    """One warning per document whose adjudication worklist still has open items."""
    from kinews.worklist import count_open, read_worklist_lines

    try:
        located = read_worklist_lines(root)
    except KinewsError as error:  # a malformed worklist is reported, not skipped
        return list(error.problems)
    counts = count_open([item for _, item in located])
    first: dict[str, int] = {}
    for line, item in located:
        if item.accept is None:
            first.setdefault(item.doc_id, line)
    rule = RULES["gold-open-items"]
    return [
        Problem(
            str(WORKLIST_FILE),
            line,
            doc_id,
            None,
            "gold-open-items",
            rule.message({"open": counts[doc_id]}),
            rule.severity,
        )
        for doc_id, line in first.items()
    ]


def _order(problem: Problem) -> tuple[str, int, str, str]:
    return (problem.file or "", problem.line or 0, problem.code, problem.span or "")
