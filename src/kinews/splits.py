"""Deterministic split assignment from the document id.

A document's split depends on nothing but its id: sha256 of the id, first 8 bytes as an integer,
mapped onto [0, 1) and cut at 0.8 and 0.9. Adding documents never moves an existing one.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "validation", "test")
_CUTS = ((0.8, "train"), (0.9, "validation"), (1.0, "test"))


def assign_split(doc_id: str) -> str:
    """The split a document id belongs to (80/10/10)."""
    digest = hashlib.sha256(doc_id.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return next(split for cut, split in _CUTS if position < cut)
