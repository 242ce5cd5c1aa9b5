"""A release record's document entries as columns: what a build keeps of every document.

A `DocumentEntry` as an object costs about 600 bytes (two hex digests, a dict of counts); a
build of a million documents kept 600 MB of them until it wrote the record. `EntryTable` keeps
the same entries in columns (digests as bytes, codes for split and status, a row of counts per
label), about 110 bytes each, and gives each back as a `DocumentEntry` when asked: it is a
`Mapping[str, DocumentEntry]` that equals the dict it stands for.

The ids are kept as one UTF-8 buffer too, not as strings: a string is about 70 bytes.
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
        self._id_bytes = bytearray()  # every id in UTF-8, one after the other
        self._id_ends = array("q")  # per row: where its id ends in _id_bytes
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
        last = self._id(len(self) - 1) if len(self) else None
        if last is not None and doc_id <= last:
            raise ValueError(f"document {doc_id!r} comes after {last!r}, not before")
        unknown = set(entry.labels) - self._column.keys()
        if unknown:
            raise ValueError(f"labels {sorted(unknown)} are not among {self._labels}")
        try:
            digests = bytes.fromhex(entry.text_sha256) + bytes.fromhex(entry.spans_sha256)
        except ValueError:
            digests = b""
        if len(digests) != 64 or digests.hex() != entry.text_sha256 + entry.spans_sha256:
            raise ValueError(f"document {doc_id!r}: its digests are not sha256 in lower-case hex")
        row = len(self._id_ends)
        self._split.append(self._code(entry.split))
        self._status.append(self._code(entry.status))
        if entry.group is not None:
            self._groups[row] = entry.group
        self._digests += digests
        counts = [0] * len(self._labels)
        for label, n in entry.labels.items():
            counts[self._column[label]] = n
        self._counts.extend(counts)
        self._id_bytes += doc_id.encode("utf-8")
        self._id_ends.append(len(self._id_bytes))

    def _code(self, value: str) -> int:
        if value not in self._codes:
            self._codes[value] = len(self._values)
            self._values.append(value)
        return self._codes[value]

    def __getitem__(self, doc_id: str) -> DocumentEntry:
        row = self._last + 1
        if not (row < len(self) and self._id(row) == doc_id):
            found = self._row(doc_id)
            if found is None:
                raise KeyError(doc_id)
            row = found
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

    def _id(self, row: int) -> str:
        start = self._id_ends[row - 1] if row else 0
        return self._id_bytes[start : self._id_ends[row]].decode("utf-8")

    def _row(self, doc_id: str) -> int | None:
        row = bisect.bisect_left(range(len(self)), doc_id, key=self._id)
        return row if row < len(self) and self._id(row) == doc_id else None

    def __iter__(self) -> Iterator[str]:
        return (self._id(row) for row in range(len(self)))

    def __len__(self) -> int:
        return len(self._id_ends)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and self._row(doc_id) is not None
