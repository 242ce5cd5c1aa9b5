"""A dataset root read once and checked: the scheme, documents and annotations with every problem.

`build`, `agree`, `adjudicate` and `show` start here instead of validating and then reading the
files again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kinews.errors import KinewsError, Problem
from kinews.records import LocatedAnnotation, LocatedDocument
from kinews.root import read_checked, scan_annotations, scan_documents
from kinews.scheme import Scheme
from kinews.validate.validator import check


@dataclass(frozen=True)
class Checked:
    """A dataset root as read, with every problem the validator found in it (sorted)."""

    scheme: Scheme
    documents: list[LocatedDocument]  # every readable line
    annotations: list[LocatedAnnotation]
    problems: list[Problem]


def is_error(problem: Problem) -> bool:
    return problem.severity == "error"


def load_valid(root: Path, refuses: Callable[[Problem], bool] = is_error) -> Checked:
    """The scheme, documents and annotations under `root`, checked by the validator.

    Raises KinewsError listing every problem that `refuses` the load (by default: every error),
    or `scheme-missing` / `scheme-invalid` when there is no usable scheme.
    """
    # The records as Python objects are read beside the check: the validator's work is mostly
    # pyarrow's and polars' (without the GIL), the reading here all Python's.
    with ThreadPoolExecutor(max_workers=1) as reader:
        reading = reader.submit(read_checked, root)
        try:
            scheme, problems = check(root)
        finally:
            reading.cancel()
        refused = [p for p in problems if refuses(p)]
        if refused:
            raise KinewsError(refused)
        # Without an error every line is a valid record, which msgspec decodes several times
        # faster than the strict readers; with one, they leave out what is broken.
        found = None if any(is_error(p) for p in problems) else reading.result()
    documents, annotations = found or (scan_documents(root)[0], scan_annotations(root)[0])
    return Checked(scheme, documents, annotations, problems)
