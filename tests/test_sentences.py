"""Specification of `kinews.release.sentences`: the sentences config's columns are exactly the
rows `sentence_rows` makes, on any text, with any layers of spans."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from kinews.errors import KinewsError
from kinews.records import Annotation, Document, Span
from kinews.release.configs import sentence_features, sentence_rows
from kinews.release.sentences import _SPACE, _SPACE_LIMIT, SentenceTable
from kinews.scheme import load_scheme
from kinews.tokens import Proposals, propose
from test_tokens import text_and_spans

SCHEME = load_scheme(REPO)
LABELS = SCHEME.label_names


def test_the_whitespace_table_is_str_isspace_over_all_of_unicode():
    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    assert max(spaces) < _SPACE_LIMIT
    assert list(_SPACE.nonzero()[0]) == spaces


def record(doc_id: str, spans: list[Span], annotator: str = "a", status: str = "gold"):
    return Annotation(
        doc_id, "x", annotator, status, "2026-01-01T00:00:00", None, None, tuple(spans)
    )


def relabel(spans: list[Span]) -> list[Span]:
    """The test strategy's labels mapped onto the repository scheme's."""
    names = {"ORG": LABELS[0], "LOC": LABELS[1 % len(LABELS)], "TECH": LABELS[-1]}
    return [Span(s.start, s.end, names[s.label], s.text) for s in spans]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(text_and_spans(layers=3), min_size=1, max_size=5), st.data())
def test_the_table_holds_the_rows_of_sentence_rows(cases, data):
    features = sentence_features(SCHEME)
    table = SentenceTable(SCHEME, features.arrow_schema)
    expected = []
    for number, (text, layers) in enumerate(cases):
        doc = Document(f"de-{number}", text, "x")
        own = [
            record(doc.id, relabel(layer), annotator)
            for layer, annotator in zip(layers, "abc", strict=True)
        ]
        # The released record: one of the layers, or a few spans of any (maybe overlapping).
        spans = [s for layer in own for s in layer.spans]
        picked = data.draw(st.lists(st.sampled_from(spans), max_size=3)) if spans else []
        released = data.draw(st.sampled_from([*own, record(doc.id, picked)]))
        proposals = propose(text)
        try:
            rows = sentence_rows(doc, released, own, SCHEME, proposals)
        except KinewsError as error:
            alone = SentenceTable(SCHEME, features.arrow_schema)
            with pytest.raises(KinewsError) as raised:
                alone.add(doc, released, own, proposals)
                alone.table()
            assert raised.value.problems == error.problems
            continue
        table.add(doc, released, own, proposals)
        expected += rows
    built = table.table()
    assert built.schema == features.arrow_schema
    assert built.to_pylist() == expected
    assert len(table) == len(expected)
    assert table.tokens == sum(len(r["tokens"]) for r in expected)
    assert built.equals(pa.Table.from_pylist(expected, schema=features.arrow_schema))


def test_a_document_of_whitespace_alone_has_no_sentence():
    table = SentenceTable(SCHEME, sentence_features(SCHEME).arrow_schema)
    doc = Document("de-1", " \n\t", "x")
    table.add(doc, record(doc.id, []), [record(doc.id, [])], Proposals((), (0,)))
    assert table.table().num_rows == 0
