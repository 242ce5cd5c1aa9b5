"""Specification of `kinews.adjudication.tally`: agreement taken batch by batch is exactly
`measure` over everything at once — equal reports, floats to the bit — and batches out of
document order are refused."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinews.adjudication.agreement import measure
from kinews.adjudication.coefficients import Coincidences
from kinews.adjudication.tally import AgreementTally
from kinews.errors import KinewsError
from kinews.records import Annotation, Document, Span
from kinews.tokens import Proposals, propose
from test_agreement import DOCS, GERMEVAL, annotation, perturb, read_germeval
from test_agreement import record as germeval_record
from test_tokens import text_and_spans

LABELS = ["PER", "ORG", "LOC", "TECH"]  # text_and_spans labels with the last three; PER unused
ANNOTATORS = ["ann-a", "ann-b", "ann-c", "ann-d", "ann-e"]


def record(doc_id: str, annotator: str, spans: list[Span], status: str = "submitted"):
    return Annotation(
        doc_id, "x", annotator, status, "2026-01-01T00:00:00Z", None, None, tuple(spans)
    )


@st.composite
def batched_corpus(draw):
    """Documents with one to four annotators' submitted records each (of five annotators, so
    pairs first meet in an order other than their sorted one), some gold records besides, and
    the documents in id order cut into consecutive batches."""
    cases = draw(st.lists(text_and_spans(layers=4), min_size=1, max_size=6))
    numbers = draw(st.lists(st.integers(0, 999), min_size=len(cases), max_size=len(cases)))
    numbers = sorted(set(numbers))
    documents: dict[str, Document] = {}
    records: list[Annotation] = []
    for number, (text, layers) in zip(numbers, cases, strict=False):
        doc = Document(f"de-{number:03d}", text, "x")
        documents[doc.id] = doc
        names = draw(st.permutations(ANNOTATORS))[: draw(st.integers(1, 4))]
        records += [record(doc.id, name, spans) for name, spans in zip(names, layers, strict=False)]
        # A gold record is the outcome of agreement, not a party to it: it must change nothing.
        if draw(st.booleans()):
            name, spans = draw(st.sampled_from(ANNOTATORS)), draw(st.sampled_from(layers))
            records.append(record(doc.id, name, spans, "gold"))
    ids = sorted(documents)
    cuts = sorted(draw(st.sets(st.integers(1, len(ids) - 1)))) if len(ids) > 1 else []
    batches = []
    for first, stop in zip([0, *cuts], [*cuts, len(ids)], strict=True):
        batch = set(ids[first:stop])
        # The order of records inside a batch is the caller's: it must not matter.
        own = draw(st.permutations([r for r in records if r.doc_id in batch]))
        batches.append(({d: documents[d] for d in sorted(batch)}, own))
    return documents, records, batches


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batched_corpus())
def test_a_tally_fed_batch_by_batch_reports_exactly_what_measure_does_over_everything(corpus):
    documents, records, batches = corpus
    proposals = {doc_id: propose(doc.text) for doc_id, doc in documents.items()}
    tally = AgreementTally(LABELS)
    for batch_documents, batch_records in batches:
        tally.add(batch_documents, batch_records, proposals)
    # Equality of the dataclasses compares every float with ==: the same bits, not nearly.
    assert tally.report() == measure(documents, records, LABELS, proposals)


def test_a_real_corpus_in_batches_with_up_to_five_annotators_per_sentence_gives_measures_report():
    """GermEval sentences, each with one to five of seven annotators (GermEval's own entities and
    perturbed ones), cut into halves, into 31 batches and into one batch per document. Units of
    four coders add thirds, which floats hold only rounded; on this corpus (seed) a tally that
    summed each batch's coincidences apart and then added them up gives other bits of alpha
    in every one of the three cuts."""
    if not GERMEVAL.exists():
        pytest.skip(f"{GERMEVAL} is not there")
    sentences = read_germeval(300)
    labels = sorted({e[2] for s in sentences for e in s.entities})
    rng = random.Random(23)
    documents, records = {}, []
    for number, sentence in enumerate(sentences):
        doc_id = f"ge-{number:04d}"
        documents[doc_id] = Document(doc_id, sentence.text, "sha")
        names = rng.sample([f"ann-{x}" for x in "abcdefg"], rng.randint(1, 5))
        for index, name in enumerate(names):
            entities = sentence.entities if index == 0 else perturb(sentence, labels, rng)
            records.append(germeval_record(doc_id, name, sentence, entities))
    # GermEval's tokens joined by spaces: whitespace alone tokenises them (and spares SoMaJo).
    proposals = {doc_id: Proposals((), (0,)) for doc_id in documents}
    expected = measure(documents, records, labels, proposals)
    assert expected.annotators == 7 and expected.tokens.tokens > 4000
    ids = sorted(documents)
    halves = [len(ids) // 2]
    thirty = sorted(rng.sample(range(1, len(ids)), 30))
    one_each = list(range(1, len(ids)))
    for cuts in (halves, thirty, one_each):
        tally = AgreementTally(labels)
        for first, stop in zip([0, *cuts], [*cuts, len(ids)], strict=True):
            batch = set(ids[first:stop])
            tally.add(
                {d: documents[d] for d in batch},
                [r for r in records if r.doc_id in batch],
                proposals,
            )
        assert tally.report() == expected


def test_alphas_bits_depend_on_the_order_of_units_which_is_why_batches_come_in_id_order():
    """A unit of three coders adds halves, one of four adds thirds, which binary floats hold
    only rounded: the same two units in the other order give another alpha."""
    three, four = ["I-ORG", "O", "B-LOC"], ["B-LOC", "B-LOC", "B-ORG", "O"]
    alphas = []
    for units in ([three, four], [four, three]):
        coincidences = Coincidences()
        for unit in units:
            coincidences.add(unit)
        alphas.append(coincidences.alpha())
    assert alphas[0] != alphas[1]
    assert alphas[0] == pytest.approx(alphas[1])


def test_a_batch_out_of_document_order_is_refused_and_leaves_the_tally_as_it_was():
    tally = AgreementTally(["ORG"])
    tally.add(DOCS, [annotation("a", (4, 19, "ORG"), doc_id="d2"), annotation("b", doc_id="d2")])
    before = tally.report()
    with pytest.raises(ValueError, match="ascending document id order"):
        tally.add(DOCS, [annotation("a", doc_id="d1"), annotation("b", doc_id="d1")])
    with pytest.raises(ValueError, match="every record of its documents"):
        tally.add(DOCS, [annotation("c", (4, 19, "ORG"), doc_id="d2")])  # d2 was counted
    assert tally.report() == before


def test_a_batch_with_two_records_of_one_annotator_on_one_document_is_refused():
    tally = AgreementTally([])
    with pytest.raises(KinewsError) as caught:
        tally.add(DOCS, [annotation("a"), annotation("a"), annotation("b")])
    assert [p.code for p in caught.value.problems] == ["annotator-duplicate"]
    assert tally.report() == AgreementTally([]).report()
