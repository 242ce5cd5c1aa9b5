"""The baseline's figures kept by what they are computed from, so a build trains the CRF once.

Training the CRF is most of a build whose texts are all in the token cache (at 2,000 documents
it took longer than SoMaJo tokenizing every text). Its figures depend only on the `sentences`
files it reads (their names and bytes), the CRF's settings and the libraries' versions: the
same inputs give the same figures (`kinews.release.baseline`). A new version with the same
sentences (nothing annotated or tokenized differently) therefore gets the figures of the last
build, kept under the dataset root:

    .kinews-cache/baseline/b1/3f2a….json     (key: sha256 of the inputs; b1: this format)

Like the token cache it is only a cache: git ignores it, it may be deleted at any time, an
entry that does not read back exactly is computed again, and one that cannot be written is left
out. The card's bytes are the same with or without it.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kinews.cache_entry import read_entry, write_entry
from kinews.release.baseline import (
    CRF_SETTINGS,
    FEATURES,
    LIBRARIES,
    BaselineReport,
    Score,
    SplitScore,
    run_baseline,
)

# Raised whenever the baseline computes differently (features, scoring) or its entries change.
FORMAT = "b1"
FOLDER = Path(".kinews-cache") / "baseline" / FORMAT


def baseline_key(release: Path) -> str:
    """sha256 of everything the baseline's figures depend on in the (staging) release folder."""
    digest = hashlib.sha256()
    header = {
        "format": FORMAT,
        "settings": CRF_SETTINGS,
        "features": FEATURES,
        "libraries": {name: version(name) for name in LIBRARIES},
    }
    digest.update(json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
    folder = release / "data" / "sentences"
    for path in sorted(folder.rglob("*.parquet")):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\n")
        digest.update(hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii") + b"\n")
    return digest.hexdigest()


def cached_baseline(release: Path, root: Path | None) -> BaselineReport:
    """`run_baseline(release)`, or its figures from the cache under `root` (None: no cache)."""
    if root is None:
        return run_baseline(release)
    key = baseline_key(release)
    path = root / FOLDER / f"{key}.json"
    found = _read_entry(path, key)
    if found is not None:
        return found
    report = run_baseline(release)
    _write_entry(path, key, report)
    return report


def report_from_json(data: dict[str, Any]) -> BaselineReport:
    """The report `BaselineReport.to_json` wrote. Raises KeyError/TypeError on another shape."""
    return BaselineReport(
        train_sentences=data["train_sentences"],
        train_tokens=data["train_tokens"],
        splits=tuple(
            SplitScore(
                split=s["split"],
                sentences=s["sentences"],
                overall=Score(**s["overall"]),
                by_label={label: Score(**score) for label, score in s["by_label"].items()},
            )
            for s in data["splits"]
        ),
        missing_splits=tuple(data["missing_splits"]),
        settings=dict(data["settings"]),
        libraries=dict(data["libraries"]),
    )


def _read_entry(path: Path, key: str) -> BaselineReport | None:
    """The entry at `path` if it reads back exactly (its checksum, its key), else None."""
    payload = read_entry(path)
    if payload is None:
        return None
    try:
        entry = json.loads(payload)
        if entry["key"] != key:
            return None
        return report_from_json(entry["report"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_entry(path: Path, key: str, report: BaselineReport) -> None:
    """Write an entry atomically: its sha256, a line break, then {key, report} as JSON.

    A cache that cannot be written (read-only, full) is left as it is: the build goes on.
    """
    report_data = json.loads(report.to_json())
    data = json.dumps({"key": key, "report": report_data}, ensure_ascii=False).encode("utf-8")
    write_entry(path, data)
