"""`kinews diff`'s report of a `ReleaseDiff`: text for people, JSON for tools.

The text report gives totals, a table per split, then every change; the JSON report the same
facts, from `ReleaseDiff.to_json` (golden file: tests/golden/diff.json).
"""

from __future__ import annotations

import json
from typing import Any

from kinews.release.diff import (
    DOCUMENT_KINDS,
    SPAN_KINDS,
    DocumentChange,
    ReleaseDiff,
    SpanChange,
)


def render_text(diff: ReleaseDiff) -> str:
    """The diff as a report for people: totals, per-split tables, then every change."""
    docs, spans = diff.document_totals(), diff.span_totals()
    lines = [
        f"kinews {diff.old.version} → {diff.new.version}",
        f"documents: {len(diff.old.documents)} → {len(diff.new.documents)} ("
        + ", ".join(f"{docs[k]} {k}" for k in DOCUMENT_KINDS)
        + ")",
        f"spans: {diff.old.span_count} → {diff.new.span_count} ("
        + ", ".join(f"{spans[k]} {k}" for k in SPAN_KINDS)
        + ")",
        "",
        "documents per split",
        _table(
            ["split", *DOCUMENT_KINDS],
            [[s, *(c[k] for k in DOCUMENT_KINDS)] for s, c in diff.document_counts().items()],
        ),
        "",
        "spans per split and label",
    ]
    span_rows = [
        [s, lab, *(c[k] for k in SPAN_KINDS)] for (s, lab), c in diff.span_counts().items()
    ]
    lines.append(_table(["split", "label", *SPAN_KINDS], span_rows) if span_rows else "(none)")
    lines += ["", "changes"]
    changes = diff.changes()
    split_width = max((len(c.split) for c in changes), default=0)
    id_width = max((len(c.doc_id) for c in changes), default=0)
    lines += [
        f"{c.split.ljust(split_width)}  {c.doc_id.ljust(id_width)}  {_change_line(diff, c)}"
        for c in changes
    ] or ["(none)"]
    return "\n".join(lines) + "\n"


def render_json(diff: ReleaseDiff) -> str:
    return json.dumps(diff.to_json(), ensure_ascii=False, indent=2) + "\n"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *([str(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    text_columns = 1 if header[1] != "label" else 2
    return "\n".join(
        "  ".join(
            v.ljust(w) if i < text_columns else v.rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    )


def _change_line(diff: ReleaseDiff, change: DocumentChange | SpanChange) -> str:
    if isinstance(change, DocumentChange):
        if change.kind == "moved":
            return f"document moved from {change.old_split}"
        if change.kind == "changed":
            return "text changed"
        release = diff.new if change.kind == "added" else diff.old
        n = len(release.documents[change.doc_id].spans)
        return f"document {change.kind} ({n} span{'s' if n != 1 else ''})"
    old, new = change.old, change.new
    if change.kind == "relabelled":
        assert old and new
        return f"span relabelled {old.label} → {new.label}: {new.render()}"
    if change.kind == "boundary-shifted":
        assert old and new
        return f"span boundary-shifted {old.render()} → {new.render()}"
    span = new or old
    assert span is not None  # every span change has an old or a new span
    return f"span {change.kind} {span.render()}"
