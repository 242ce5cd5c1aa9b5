"""A release record's document entries as columns: what a build keeps of every document.

A `DocumentEntry` as an object costs about 600 bytes (two hex digests, a dict of counts); a
build of a million documents kept 600 MB of them until it wrote the record. `EntryTable` keeps
the same entries in columns (digests as bytes, codes for split and status, a row of counts per
label), about 110 bytes each, and gives each back as a `DocumentEntry` when asked: it is a
`Mapping[str, DocumentEntry]` that equals the dict it stands for.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Mapping, Sequence

from kinews.release.history import DocumentEntry


class EntryTable(Mapping[str, DocumentEntry]):
    """Entries appended in increasing document id order, of spans labelled with `labels`."""

    def __init__(self, labels: Sequence[str]) -> None:
        self._labels = sorted(labels)  # an entry's `labels` dict is sorted by name
        self._column = {label: i for i, label in enumerate(self._labels)}
        self._ids: list[str] = []
        self._codes: dict[str, int] = {}  # split and status values -> code
        self._values: list[str] = []  # code -> value
        self._split = bytearray()
        self._status = bytearray()
        self._groups: dict[int, str] = {}  # row -> group, for the documents that have one
        self._digests = bytearray()  # per row: text sha256, spans sha256 (32 bytes each)
        self._counts = array("I")  # per row: one count per label
        self._last = -1  # the row asked for last: reading in order finds the next at once

    def append(self, doc_id: str, entry: DocumentEntry) -> None:
        """Add the entry of `doc_id`, whose id sorts after every id added before.

        Raises ValueError for an id out of order, a label that is not one of `labels`, or a
        digest that is not a sha256 in lower-case hex (what `document_entry` makes).
        """
        if self._ids and doc_id <= self._ids[-1]:
            raise ValueError(f"document {doc_id!r} comes after {self._ids[-1]!r}, not before")
        unknown = set(entry.labels) - self._column.keys()
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not among {self._labels}")
        try:
            digests = bytes.fromhex(entry.text_sha256) + bytes.fromhex(entry.spans_sha256)
        except ValueError:
            digests = b""
        if len(digests) != 64 or digests.hex() != entry.text_sha256 + entry.spans_sha256:
            raise ValueError(f"document {doc_id!r}: its digests are not sha256 in lower-case hex")
        row = len(self._ids)
        self._split.append(self._code(entry.split))
        self._status.append(self._code(entry.status))
        if entry.group is not None:
            self._groups[row] = entry.group
        self._digests += digests
        counts = [0] * len(self._labels)
        for label, n in entry.labels.items():
            counts[self._column[label]] = n
        self._counts.extend(counts)
        self._ids.append(doc_id)

    def _code(self, value: str) -> int:
        if value not in self._codes:
            self._codes[value] = len(self._values)
            self._values.append(value)
        return self._codes[value]

    def __getitem__(self, doc_id: str) -> DocumentEntry:
        row = self._last + 1
        if not (row < len(self._ids) and self._ids[row] == doc_id):
            row = bisect.bisect_left(self._ids, doc_id)
            if row == len(self._ids) or self._ids[row] != doc_id:
                raise KeyError(doc_id)
        self._last = row
        width = len(self._labels)
        counts = self._counts[row * width : (row + 1) * width]
        digests = self._digests[row * 64 : (row + 1) * 64]
        return DocumentEntry(
            split=self._values[self._split[row]],
            group=self._groups.get(row),
            text_sha256=digests[:32].hex(),
            spans_sha256=digests[32:].hex(),
            status=self._values[self._status[row]],
            labels={label: n for label, n in zip(self._labels, counts, strict=True) if n},
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        row = bisect.bisect_left(self._ids, doc_id)
        return row < len(self._ids) and self._ids[row] == doc_id
