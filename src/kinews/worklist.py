"""The adjudication worklist: `annotations/adjudication/worklist.jsonl`, one disagreement a line.

`kinews adjudicate` writes it (see `kinews.adjudication.adjudicate`); an adjudicator resolves an
item by setting its `accept` to candidate numbers; `kinews validate`, `kinews build` and
`kinews ls push --review` read it. It lives in a sub-folder because every `annotations/*.jsonl`
is read as annotation records.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError, Problem
from kinews.files import scan_jsonl
from kinews.records import Span
from kinews.root import WORKLIST_FILE


@dataclass(frozen=True)
class Candidate:
    span: Span | None  # None: no entity in the item's region
    proposed_by: tuple[str, ...]
    in_gold: bool = False  # reached K annotators: in the gold record while the item is open


@dataclass(frozen=True)
class Item:
    """One disagreement: a region of a document and what the annotators proposed there."""

    doc_id: str
    doc_sha256: str
    start: int
    end: int
    candidates: tuple[Candidate, ...]
    accept: tuple[int, ...] | None = None  # None: open
    comment: str | None = None  # the adjudicator's own words; kept across re-runs

    def key(self) -> tuple[Any, ...]:
        """What a resolution was made on: the same key means the same decision applies."""
        return (
            self.doc_id,
            self.doc_sha256,
            tuple(
                ((c.span.start, c.span.end, c.span.label) if c.span else None, c.proposed_by)
                for c in self.candidates
            ),
        )


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "doc_id": item.doc_id,
        "doc_sha256": item.doc_sha256,
        "start": item.start,
        "end": item.end,
        "candidates": [
            {
                "span": None
                if c.span is None
                else {
                    "start": c.span.start,
                    "end": c.span.end,
                    "label": c.span.label,
                    "text": c.span.text,
                },
                "proposed_by": list(c.proposed_by),
                "in_gold": c.in_gold,
            }
            for c in item.candidates
        ],
        "accept": None if item.accept is None else list(item.accept),
        # Written only when there is one, so worklists without comments keep their bytes.
        **({} if item.comment is None else {"comment": item.comment}),
    }


def read_worklist(root: Path) -> list[Item]:
    """The worklist's items (none when there is no worklist).

    Raises KinewsError (`line-not-json`, `worklist-invalid`) naming file and line.
    """
    return [item for _, item in read_worklist_lines(root)]


def read_worklist_lines(root: Path) -> list[tuple[int, Item]]:
    """The worklist's items, each with its line number; raises as `read_worklist` does."""
    path = root / WORKLIST_FILE
    if not path.exists():
        return []
    name = str(WORKLIST_FILE)
    values, problems = scan_jsonl(path, name)
    items = []
    for line, obj in values:
        try:
            items.append((line, item_from_json(obj)))
        except (KeyError, TypeError, ValueError) as error:
            problems.append(
                Problem(
                    name,
                    line,
                    obj.get("doc_id") if isinstance(obj, dict) else None,
                    None,
                    "worklist-invalid",
                    str(error),
                )
            )
    if problems:
        raise KinewsError(problems)
    return items


def item_from_json(obj: Any) -> Item:
    """One worklist line as an Item. Raises ValueError, KeyError or TypeError on bad content.

    An item is resolved by its `accept`; the adjudicator may add a `comment` (a string).
    """
    if not isinstance(obj, dict):
        raise ValueError("line is not a JSON object")
    candidates = []
    for raw in obj["candidates"]:
        span = None
        if raw["span"] is not None:
            s = raw["span"]
            span = Span(int(s["start"]), int(s["end"]), str(s["label"]), str(s["text"]))
        candidates.append(Candidate(span, tuple(raw["proposed_by"]), bool(raw["in_gold"])))
    accept = obj["accept"]
    if accept is not None:
        accept = _check_accept(accept, candidates)
    comment = obj.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ValueError("`comment` must be a string or null")
    return Item(
        str(obj["doc_id"]),
        str(obj["doc_sha256"]),
        int(obj["start"]),
        int(obj["end"]),
        tuple(candidates),
        accept,
        comment,
    )


def _check_accept(accept: Any, candidates: list[Candidate]) -> tuple[int, ...]:
    if (
        not isinstance(accept, list)
        or not accept
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in accept)
    ):
        raise ValueError("`accept` must be null (open) or a non-empty list of candidate numbers")
    if len(set(accept)) != len(accept) or not all(0 <= i < len(candidates) for i in accept):
        raise ValueError(f"`accept` must list distinct candidates 0-{len(candidates) - 1}")
    if 0 in accept and len(accept) > 1:
        raise ValueError("candidate 0 (no entity) cannot be accepted together with a span")
    spans = sorted(span for i in accept if (span := candidates[i].span) is not None)
    for a, b in itertools.pairwise(spans):
        if b.start < a.end:
            raise ValueError(f"accepted spans {a.render()} and {b.render()} overlap")
    return tuple(sorted(accept))


def open_items(root: Path) -> dict[str, int]:
    """doc_id -> number of open worklist items, for documents that have any.

    Raises KinewsError when the worklist is malformed.
    """
    return count_open(read_worklist(root))


def count_open(items: list[Item]) -> dict[str, int]:
    """doc_id -> number of open items among `items`, for documents that have any."""
    counts: dict[str, int] = {}
    for item in items:
        if item.accept is None:
            counts[item.doc_id] = counts.get(item.doc_id, 0) + 1
    return counts
