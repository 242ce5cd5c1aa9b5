"""The corpus as a push with nothing to send needs it: each document's id and text's sha256.

`kinews.root.load_documents` builds a checked `Document` of every line (1.5 s at 10,000
documents); a push compares only ids and text hashes with its tasks, and parses the corpus in
full only when it has documents to send. Lines are decoded here with a strict msgspec struct
derived from the record contract (every required key, exact types, no unknown fields), so a
line is taken only when `load_documents` would read it without a word; any other line, a byte
order mark or an escape that may be a lone surrogate means None, and the caller reads the
corpus in full (which names each problem).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import msgspec

from kinews.records import DOCUMENT
from kinews.root import DOCUMENTS_FILE


def _struct() -> type[msgspec.Struct]:
    fields: list[Any] = []
    for f in DOCUMENT.fields:
        if f.presence == "optional":
            fields.append((f.name, f.type | None, None))
        else:
            fields.append((f.name, f.type | None if f.presence == "nullable" else f.type))
    return msgspec.defstruct("_Document", fields, forbid_unknown_fields=True)


_DECODER = msgspec.json.Decoder(_struct())
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")  # the strict reader refuses a lone one


def corpus_texts(root: Path) -> list[tuple[str, str]] | None:
    """(id, sha256 of the text) of every document, in corpus order, or None when some line
    needs the full reader."""
    path = root / DOCUMENTS_FILE
    if not path.exists():
        return []
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf") or _SURROGATE.search(data):
        return None
    found = []
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            doc = _DECODER.decode(raw)
        except msgspec.MsgspecError:
            return None
        text: str = doc.text  # type: ignore[attr-defined]
        found.append((str(doc.id), hashlib.sha256(text.encode("utf-8")).hexdigest()))  # type: ignore[attr-defined]
    return found
