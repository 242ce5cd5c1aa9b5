"""An export file of Label Studio's UI read into tasks: a JSON list or a single task, JSON_MIN
(spans under the control's name) or a pre-1.0 export (`completions`), strictly (no NaN, no
numbers beyond a float). `kinews.labelstudio.export` converts the tasks into records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError
from kinews.labelstudio.export import OBJECT


def read_export(path: Path) -> list[dict[str, Any]]:
    """Tasks from a Label Studio export file: JSON list, one task object, JSON_MIN or legacy.

    Raises KinewsError (`ls-export-invalid`) when the file is not one of these shapes.
    """
    try:
        raw = json.loads(
            path.read_text(encoding="utf-8-sig"),
            parse_constant=_not_a_number,
            parse_float=_finite,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else err
        raise KinewsError.single(
            "ls-export-invalid", f"not a JSON export: {reason}", file=str(path)
        ) from None
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(item, dict) for item in items):
        raise KinewsError.single(
            "ls-export-invalid", "expected a task object or a list of them", file=str(path)
        )
    return [item if "data" in item else _from_json_min(item) for item in items]


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):  # 1e309: no record can carry it
        raise ValueError(f"{text} is too large for a number")
    return number


def _from_json_min(row: dict[str, Any]) -> dict[str, Any]:
    """JSON_MIN has one row per annotation: data keys and, under each control name, its regions."""

    def is_regions(value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, dict) and "start" in v and "end" in v for v in value
        )

    regions = {k: v for k, v in row.items() if is_regions(v) and v}
    meta = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"}
    data = {k: v for k, v in row.items() if k not in regions and k not in meta}
    result = [
        {"from_name": control, "to_name": OBJECT, "type": "labels", "value": value}
        for control, values in regions.items()
        for value in values
    ]
    annotation = {
        "id": row.get("annotation_id"),
        "completed_by": row.get("annotator"),
        "created_at": row.get("created_at"),
        "updated_at": row.get("updated_at"),
        "lead_time": row.get("lead_time"),
        "result": result,
    }
    return {"id": row.get("id"), "data": data, "annotations": [annotation]}
