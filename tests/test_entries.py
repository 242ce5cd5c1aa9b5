"""A release's document entries kept as columns give back exactly the entries put in."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinews.release.entries import EntryTable
from kinews.release.history import DocumentEntry

LABELS = ["PER", "ORG", "LOC", "PROD"]

digests = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest())
entries = st.builds(
    DocumentEntry,
    split=st.sampled_from(["train", "validation", "test"]),
    group=st.none() | st.text(max_size=5),
    text_sha256=digests,
    spans_sha256=digests,
    status=st.sampled_from(["gold", "submitted"]),
    labels=st.dictionaries(st.sampled_from(LABELS), st.integers(1, 2**31)).map(
        lambda d: dict(sorted(d.items()))
    ),
)


@given(st.dictionaries(st.text(min_size=1, max_size=6), entries, max_size=30))
def test_the_table_is_the_dict_of_its_entries(by_id):
    table = EntryTable(LABELS)
    for doc_id in sorted(by_id):
        table.append(doc_id, by_id[doc_id])
    assert table == by_id
    assert list(table) == sorted(by_id)
    assert [table[doc_id] for doc_id in reversed(sorted(by_id))] == [
        by_id[doc_id] for doc_id in reversed(sorted(by_id))
    ]
    assert "\0missing" not in table
    with pytest.raises(KeyError):
        table["\0missing"]


def test_entries_come_in_id_order_with_known_labels_and_canonical_digests():
    entry = DocumentEntry("train", None, "a" * 64, "b" * 64, "gold", {"PER": 1})
    table = EntryTable(LABELS)
    table.append("b", entry)
    with pytest.raises(ValueError, match="comes after"):
        table.append("a", entry)
    with pytest.raises(ValueError, match="labels"):
        table.append("c", DocumentEntry("train", None, "a" * 64, "b" * 64, "gold", {"X": 1}))
    with pytest.raises(ValueError, match="lower-case"):
        table.append("d", DocumentEntry("train", None, "A" * 64, "b" * 64, "gold", {}))
    assert table == {"b": entry}
