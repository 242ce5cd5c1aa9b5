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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from kinews.errors import KinewsError, Problem
from kinews.root import (
    DOCUMENTS_FILE,
    SCHEME_FILE,
    WORKLIST_FILE,
    display,
    nested_annotation_files,
)
from kinews.scheme import Scheme, load_scheme
from kinews.validate.rules import RULES
from kinews.validate.tables import read_documents, read_records

if TYPE_CHECKING:
    import polars as pl


def validate(root: Path) -> list[Problem]:
    """Every problem in the corpus and annotations under `root`, sorted by location.

    Raises KinewsError (`scheme-missing`, `scheme-invalid`) when there is no usable scheme, and
    (`corpus-missing`) when there is no corpus/documents.jsonl.
    """
    return check(root)[1]


def check(root: Path) -> tuple[Scheme, list[Problem]]:
    """The scheme under `root` and every problem (`validate`). Raises KinewsError as it does."""
    # The imports and the lists of line numbers and digests make a few million objects and no
    # garbage cycles; the cyclic collector walking them cost ≈6 % of the CPU time at 100,000
    # documents.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _validate(root)
    finally:
        if collecting:
            gc.enable()


def _validate(root: Path) -> tuple[Scheme, list[Problem]]:
    scheme = load_scheme(root)
    if not (root / DOCUMENTS_FILE).is_file():
        # A check that reads no document must not pass (an empty corpus is a file, and passes).
        raise KinewsError.single(
            "corpus-missing",
            "there is no corpus/documents.jsonl, so nothing can be checked: `kinews ingest` "
            "the texts, or point --root at the dataset root",
            file=str(DOCUMENTS_FILE),
        )
    # pyarrow parses both kinds of file at once, on both cores and without the GIL. Meanwhile
    # this thread imports polars and pandera (≈0.5 s of CPU that would otherwise come first;
    # the readers never import pandas, which pandera does, so neither waits for the other).
    # Then the facts and the checks, each on both cores (polars' streaming engine), with the
    # documents' checks beside the span facts and the worklist read in a lane of its own.
    with ThreadPoolExecutor(max_workers=2) as lanes:
        reading_documents = lanes.submit(read_documents, root)
        reading = lanes.submit(read_records, root)
        worklist = lanes.submit(_open_worklist_items, root)
        import polars as pl

        from kinews.validate.contracts import (
            DocumentsTable,
            RecordsTable,
            problems_of,
            spans_table_model,
        )
        from kinews.validate.facts import document_facts, mark_annotated, record_facts, span_facts

        # pandera's checks are lazy queries: the streaming engine runs them too.
        with pl.Config(engine_affinity="streaming"):
            documents = reading_documents.result()
            docs = document_facts(documents.table)
            read = reading.result()
            records = record_facts(read.table, docs)
            docs = mark_annotated(docs, records)
            checking = lanes.submit(problems_of, DocumentsTable, docs, "documents", docs, records)
            spans = span_facts(read.table, records, docs, scheme)
            problems = [*documents.problems, *read.problems]
            problems += problems_of(RecordsTable, records, "records", docs, records)
            problems += problems_of(
                spans_table_model(scheme), spans, "spans", docs, records, _guidelines(root)
            )
            problems += _unused_labels(root, scheme, spans)
            problems += _nested_files(root)
            problems += worklist.result()
            problems += checking.result()
    return scheme, sorted(problems, key=_order)


def _guidelines(root: Path) -> str:
    """The manual the dataset declares (schemas/dataset.yaml), for messages to point to."""
    from kinews.dataset import load_dataset_declaration

    try:
        return load_dataset_declaration(root).guidelines
    except KinewsError:  # `kinews build` reports a broken declaration; the data is checked anyway
        return "the annotation guidelines"


def _unused_labels(root: Path, scheme: Scheme, spans: pl.DataFrame) -> list[Problem]:
    used = set(spans["label"].unique().to_list())
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
