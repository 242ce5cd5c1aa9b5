"""Pre-annotations from a gazetteer: the surfaces of existing gold spans, found again in new text.

A surface that gold records give different labels is left out (the gazetteer would guess), and a
match must start and end on token boundaries so that "KI" is not found inside "KIEL".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from kinews.records import Annotation, Span


@dataclass(frozen=True)
class Gazetteer:
    entries: tuple[tuple[str, str], ...]  # (surface, label), longest surface first

    @property
    def version(self) -> str:
        """Names the exact entries, so a changed gazetteer gives new predictions."""
        digest = hashlib.sha256(json.dumps(self.entries, ensure_ascii=False).encode()).hexdigest()
        return f"kinews-gazetteer-{digest[:12]}"


def build_gazetteer(records: Iterable[Annotation]) -> Gazetteer:
    """Every gold span surface with its label; ambiguous surfaces are dropped."""
    labels: dict[str, set[str]] = {}
    for record in records:
        if record.status == "gold":
            for span in record.spans:
                labels.setdefault(span.text, set()).add(span.label)
    entries = [(surface, next(iter(found))) for surface, found in labels.items() if len(found) == 1]
    return Gazetteer(tuple(sorted(entries, key=lambda e: (-len(e[0]), e))))


def match_gazetteer(text: str, gazetteer: Gazetteer) -> list[Span]:
    """Non-overlapping matches on token boundaries, longer surfaces first, sorted by offset."""
    taken = [False] * len(text)
    found: list[Span] = []
    for surface, label in gazetteer.entries:
        if not surface.strip():
            continue
        start = text.find(surface)
        while start != -1:
            end = start + len(surface)
            if _boundary(text, start, end) and not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                found.append(Span(start, end, label, surface))
            start = text.find(surface, start + 1)
    return sorted(found)


def _boundary(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()
