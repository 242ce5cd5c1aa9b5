"""Specification of the agreement figures: checked against seqeval, nervaluate, krippendorff and
scikit-learn as reference implementations on the same data.

The data: German sentences of GermEval 2014 (read-only from ../shared), their outer-column
entities as one annotator, and the same entities perturbed (dropped, relabelled, boundaries moved,
spurious ones added) as a second and, on every third sentence, a third annotator.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass

import krippendorff
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nervaluate import Evaluator
from seqeval.metrics import classification_report, f1_score
from sklearn.metrics import cohen_kappa_score

from conftest import SHARED
from kinews.adjudication.agreement import measure
from kinews.adjudication.matching import match
from kinews.errors import KinewsError
from kinews.records import Annotation, Document, Span
from kinews.tokens import split_sentences

GERMEVAL = SHARED / "data" / "germeval2014" / "NER-de-dev.tsv"
SENTENCES = 400


@dataclass(frozen=True)
class Sentence:
    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]  # of each token in `text`
    text: str
    entities: tuple[tuple[int, int, str], ...]  # token index start, end (exclusive), label


def read_germeval(limit: int) -> list[Sentence]:
    """The first sentences of the dev set, tokens joined by single spaces."""
    sentences, tokens, tags = [], [], []
    for line in [*GERMEVAL.read_text("utf-8").split("\n"), ""]:
        if line.startswith("#\t"):
            continue
        if not line.strip():
            if tokens:
                sentences.append(_sentence(tokens, tags))
                tokens, tags = [], []
            if len(sentences) == limit:
                break
            continue
        _, token, outer, _inner = line.split("\t")
        tokens.append(token)
        tags.append(outer)
    return sentences


def _sentence(tokens: list[str], tags: list[str]) -> Sentence:
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    entities: list[list] = []
    for index, tag in enumerate(tags):
        if tag.startswith("I-") and entities and entities[-1][1] == index:
            entities[-1][1] = index + 1
        elif tag != "O":
            entities.append([index, index + 1, tag[2:]])
    return Sentence(
        tuple(tokens), tuple(offsets), " ".join(tokens), tuple(tuple(e) for e in entities)
    )


def perturb(sentence: Sentence, labels: list[str], rng: random.Random) -> tuple:
    """Another annotator's entities: some dropped, relabelled, moved; some spurious ones."""
    n = len(sentence.tokens)
    result = []
    for start, end, label in sentence.entities:
        roll = rng.random()
        if roll < 0.1:
            continue
        if roll < 0.2:
            label = rng.choice([x for x in labels if x != label])
        elif roll < 0.3:
            start, end = rng.choice([(start, end + 1), (start, max(start + 1, end - 1))])
        elif roll < 0.35:
            start = max(0, start - 1)
        result.append((start, min(end, n), label))
    for index in range(n):
        if rng.random() < 0.03:
            result.append((index, index + 1, rng.choice(labels)))
    flat, taken = [], set()
    for start, end, label in sorted(result, key=lambda e: rng.random()):
        if not taken & set(range(start, end)):
            flat.append((start, end, label))
            taken |= set(range(start, end))
    return tuple(sorted(flat))


@pytest.fixture(scope="module")
def corpus():
    """Documents, three annotators' records and the same entities in token units."""
    if not GERMEVAL.exists():
        pytest.skip(f"{GERMEVAL} is not there")
    sentences = read_germeval(SENTENCES)
    labels = sorted({e[2] for s in sentences for e in s.entities})
    rng = random.Random(20141)
    documents, records, layers = {}, [], {}
    for number, sentence in enumerate(sentences):
        # The reference tags below use GermEval's tokens: keep sentences SoMaJo tokenises the same.
        found = [(t.start, t.end) for s in split_sentences(sentence.text) for t in s.tokens]
        if tuple(found) != sentence.offsets:
            continue
        doc_id = f"ge-{number:04d}"
        documents[doc_id] = Document(doc_id, sentence.text, "sha")
        layers[doc_id] = {"ann-a": sentence.entities, "ann-b": perturb(sentence, labels, rng)}
        if number % 3 == 0:
            layers[doc_id]["ann-c"] = perturb(sentence, labels, rng)
        for name, entities in layers[doc_id].items():
            records.append(record(doc_id, name, sentence, entities))
    sentences_by_doc = {
        doc_id: sentences[int(doc_id[3:])] for doc_id in documents
    }  # doc id -> Sentence
    return documents, records, layers, sentences_by_doc, labels


def record(doc_id: str, annotator: str, sentence: Sentence, entities) -> Annotation:
    spans = tuple(
        Span(
            sentence.offsets[s][0],
            sentence.offsets[e - 1][1],
            label,
            sentence.text[sentence.offsets[s][0] : sentence.offsets[e - 1][1]],
        )
        for s, e, label in entities
    )
    return Annotation(
        doc_id, "sha", annotator, "submitted", "2026-01-01T00:00:00Z", None, {}, spans
    )


def bio(n: int, entities) -> list[str]:
    tags = ["O"] * n
    for start, end, label in entities:
        tags[start:end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
    return tags


def shared_pairs(layers):
    pairs = {}
    for doc_id, by in layers.items():
        for a, b in itertools.combinations(sorted(by), 2):
            pairs.setdefault((a, b), []).append(doc_id)
    return pairs


def test_the_test_data_has_three_pairs_and_real_disagreement(corpus):
    documents, records, _, _, _ = corpus
    report = measure(documents, records, [])
    assert report.documents == len(documents) > 300
    assert (report.annotators, report.pairs) == (3, 3)
    assert 0.4 < report.entities.exact < report.entities.partial < 0.95


def test_exact_f1_is_seqeval_per_pair_averaged_over_pairs(corpus):
    documents, records, layers, sentences, labels = corpus
    report = measure(documents, records, labels)
    per_pair, per_label = [], {label: [] for label in labels}
    for (a, b), doc_ids in shared_pairs(layers).items():
        y_a = [bio(len(sentences[d].tokens), layers[d][a]) for d in doc_ids]
        y_b = [bio(len(sentences[d].tokens), layers[d][b]) for d in doc_ids]
        per_pair.append(f1_score(y_a, y_b))
        table = classification_report(y_a, y_b, output_dict=True, zero_division=0)
        for label in labels:
            if label in table:
                per_label[label].append(table[label]["f1-score"])
        pair = next(p for p in report.per_pair if p.annotators == (a, b))
        assert pair.exact == pytest.approx(f1_score(y_a, y_b))
        assert pair.documents == len(doc_ids)
    assert report.entities.exact == pytest.approx(np.mean(per_pair))
    for label, scores in per_label.items():
        assert report.by_label[label].exact == pytest.approx(np.mean(scores)), label
        assert report.by_label[label].pairs == len(scores)


@pytest.mark.parametrize(("variant", "scheme"), [("partial", "partial"), ("type", "ent_type")])
def test_partial_and_type_f1_are_nervaluate_both_ways_averaged_over_pairs(corpus, variant, scheme):
    documents, records, layers, _, labels = corpus
    report = measure(documents, records, labels)

    def nervaluate(true, pred):
        def entities(doc_entities):
            return [{"label": lab, "start": s, "end": e - 1} for s, e, lab in doc_entities]

        return Evaluator(
            [entities(t) for t in true], [entities(p) for p in pred], tags=labels, loader="dict"
        ).evaluate()

    overall, per_label = [], {label: [] for label in labels}
    for (a, b), doc_ids in shared_pairs(layers).items():
        ea, eb = [layers[d][a] for d in doc_ids], [layers[d][b] for d in doc_ids]
        one, other = nervaluate(ea, eb), nervaluate(eb, ea)
        overall.append((one["overall"][scheme].f1 + other["overall"][scheme].f1) / 2)
        for label in labels:
            if label in one["entities"]:  # nervaluate reports the labels either side used
                per_label[label].append(
                    (one["entities"][label][scheme].f1 + other["entities"][label][scheme].f1) / 2
                )
    assert getattr(report.entities, variant) == pytest.approx(np.mean(overall))
    for label, scores in per_label.items():
        assert getattr(report.by_label[label], variant) == pytest.approx(np.mean(scores))


def test_token_kappa_is_scikit_learn_and_alpha_is_krippendorff(corpus):
    documents, records, layers, sentences, _ = corpus
    report = measure(documents, records, [])
    tags = {
        d: {n: bio(len(sentences[d].tokens), e) for n, e in by.items()} for d, by in layers.items()
    }

    kappas, kappas_inside = [], []
    for (a, b), doc_ids in shared_pairs(layers).items():
        ta = [t for d in doc_ids for t in tags[d][a]]
        tb = [t for d in doc_ids for t in tags[d][b]]
        kappas.append(cohen_kappa_score(ta, tb))
        inside = [i for i in range(len(ta)) if ta[i] != "O" or tb[i] != "O"]
        kappas_inside.append(cohen_kappa_score([ta[i] for i in inside], [tb[i] for i in inside]))
    assert report.tokens.kappa == pytest.approx(np.mean(kappas))
    assert report.entity_tokens.kappa == pytest.approx(np.mean(kappas_inside))

    codes: dict[str, int] = {}
    annotators = ["ann-a", "ann-b", "ann-c"]
    columns = []
    for by in tags.values():
        n = len(next(iter(by.values())))
        for i in range(n):
            columns.append(
                [codes.setdefault(by[a][i], len(codes)) if a in by else np.nan for a in annotators]
            )
    matrix = np.array(columns, dtype=float).T
    assert report.tokens.tokens == matrix.shape[1]
    assert report.tokens.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    )
    outside = codes["O"]
    inside = matrix[:, [(~np.isnan(c) & (c != outside)).any() for c in matrix.T]]
    assert report.entity_tokens.tokens == inside.shape[1]
    assert report.entity_tokens.alpha == pytest.approx(
        krippendorff.alpha(reliability_data=inside, level_of_measurement="nominal")
    )
    # Over all tokens `O` dominates and agreement looks better than it is.
    assert report.tokens.kappa > report.entity_tokens.kappa


# --- small cases, worked by hand --------------------------------------------------------------

TEXT = "Die Bundesregierung fördert KI in Berlin und München."
#       0   4              19      27 30 34    40  44      52


def annotation(annotator: str, *spans: tuple[int, int, str], doc_id: str = "d1") -> Annotation:
    return Annotation(
        doc_id,
        "sha",
        annotator,
        "submitted",
        "2026-01-01T00:00:00Z",
        None,
        None,
        tuple(Span(s, e, label, TEXT[s:e]) for s, e, label in spans),
    )


DOCS = {"d1": Document("d1", TEXT, "sha"), "d2": Document("d2", TEXT, "sha")}


def test_a_worked_example():
    """a: Bundesregierung ORG, KI TECH, Berlin LOC; b: Bundesregierung ORG, Berlin ORG,
    München LOC. Exact: 1 of 3 + 3 → F1 2/6. Partial: Berlin has the same boundaries, so it
    counts fully (2 correct). Type: Berlin's labels differ (1 correct)."""
    a = annotation("a", (4, 19, "ORG"), (28, 30, "TECH"), (34, 40, "LOC"))
    b = annotation("b", (4, 19, "ORG"), (34, 40, "ORG"), (45, 52, "LOC"))
    report = measure(DOCS, [a, b], ["PER", "ORG", "LOC", "TECH"])
    assert report.entities.exact == pytest.approx(1 / 3)
    assert report.entities.partial == pytest.approx(2 / 3)
    assert report.entities.type == pytest.approx(1 / 3)
    assert list(report.by_label) == ["ORG", "LOC", "TECH"]  # scheme order, unused PER left out
    assert report.by_label["ORG"].exact == pytest.approx(2 / 3)
    assert report.by_label["TECH"].exact == 0
    assert (report.documents, report.annotators, report.pairs) == (1, 2, 1)
    assert report.entities.spans == 6


def test_a_boundary_disagreement_is_half_a_match_in_partial_and_full_in_type():
    a = annotation("a", (4, 19, "ORG"))
    b = annotation("b", (0, 19, "ORG"))
    report = measure(DOCS, [a, b], ["ORG"])
    assert report.entities.exact == 0
    assert report.entities.partial == pytest.approx(0.5)
    assert report.entities.type == 1


def test_identical_annotators_agree_perfectly_and_single_annotators_are_not_compared():
    a = annotation("a", (4, 19, "ORG"), (34, 40, "LOC"))
    b = annotation("b", (4, 19, "ORG"), (34, 40, "LOC"))
    alone = annotation("a", (0, 3, "MISC"), doc_id="d2")
    report = measure(DOCS, [a, b, alone], ["ORG", "LOC"])
    assert report.documents == 1
    assert (report.entities.exact, report.entities.partial, report.entities.type) == (1, 1, 1)
    assert report.tokens.kappa == pytest.approx(1) and report.tokens.alpha == pytest.approx(1)
    assert report.entity_tokens.kappa == pytest.approx(1)


def test_gold_records_are_not_annotators_and_no_overlap_means_nothing_to_report():
    a = annotation("a", (4, 19, "ORG"))
    gold = Annotation("d1", "sha", "team", "gold", "t", None, None, a.spans)
    report = measure(DOCS, [a, gold], ["ORG"])
    assert report.documents == report.pairs == 0
    assert report.entities.exact is None and report.tokens.alpha is None
    json.dumps(report.to_json())  # the card and `--format json` consume it as is


def test_two_records_of_one_annotator_on_one_document_are_refused():
    with pytest.raises(KinewsError) as caught:
        measure(DOCS, [annotation("a"), annotation("a"), annotation("b")], [])
    assert [p.code for p in caught.value.problems] == ["annotator-duplicate"]


spans_strategy = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 6), st.sampled_from(["A", "B"])), max_size=8
)


def flat(raw) -> list[tuple[int, int, str]]:
    result, end = [], -1
    for start, length, label in sorted(raw):
        if start >= end:
            result.append((start, start + length, label))
            end = start + length
    return result


@given(spans_strategy, spans_strategy)
def test_matching_counts_equal_nervaluate_for_any_flat_spans(raw_a, raw_b):
    a, b = flat(raw_a), flat(raw_b)

    def as_dicts(spans):
        return [[{"label": label, "start": s, "end": e - 1} for s, e, label in spans]]

    result = Evaluator(as_dicts(a), as_dicts(b), tags=["A", "B"], loader="dict").evaluate()
    for variant, scheme in (("exact", "strict"), ("partial", "partial"), ("type", "ent_type")):
        counts = match(a, b, variant)
        expected = result["overall"][scheme]
        assert (
            counts.correct,
            counts.incorrect,
            counts.partial,
            counts.missed,
            counts.spurious,
        ) == (
            expected.correct,
            expected.incorrect,
            expected.partial,
            expected.missed,
            expected.spurious,
        ), variant


# --- the command ------------------------------------------------------------------------------


def write_records(root, records: list[dict]) -> None:
    path = root / "annotations" / "team.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


def two_annotators(seed_root, drop_every: int = 5) -> list[dict]:
    """The seed's gold spans as annotator-01, with every `drop_every`-th missing as -02."""
    gold = json.loads((seed_root / "annotations" / "gold.jsonl").read_text("utf-8"))
    one = dict(gold, annotator="annotator-01", status="submitted", origin={"tool": "test"})
    two = dict(one, annotator="annotator-02")
    two["spans"] = [s for i, s in enumerate(gold["spans"]) if i % drop_every]
    return [one, two]


def test_agree_reports_text_and_json(seed_root, kinews):
    write_records(seed_root, two_annotators(seed_root))
    result = kinews("agree", "--by-label", "--root", seed_root)
    assert result.exit_code == 0, result.output
    assert "1 document, 2 annotators, 1 pair" in result.output
    assert "entity F1 (mean over pairs): exact 0.882" in result.output  # 2·30 / (38 + 30)
    assert "TECH" in result.output and "SoMaJo" in result.output

    data = json.loads(kinews("agree", "--format", "json", "--root", seed_root).output)
    assert data["entities"]["exact"] == pytest.approx(60 / 68)
    assert "by_label" not in data
    data = json.loads(kinews("agree", "--format", "json", "--by-label", "--root", seed_root).output)
    assert set(data["by_label"]) <= {"PER", "ORG", "LOC", "DATE", "TECH", "PROD", "MISC"}


def test_agree_refuses_an_invalid_root_and_names_a_duplicate_record(seed_root, kinews):
    records = two_annotators(seed_root)
    write_records(seed_root, [*records, records[0]])
    result = kinews("agree", "--root", seed_root)
    assert result.exit_code == 1
    assert "annotations/team.jsonl:3 doc=kn-78148df81a4e2d1c annotator-duplicate" in result.output

    records[1]["spans"][0]["start"] += 1
    write_records(seed_root, records)
    result = kinews("agree", "--root", seed_root)
    assert result.exit_code == 1 and "span-text-mismatch" in result.output


def test_agree_without_several_annotators_says_so(seed_root, kinews):
    result = kinews("agree", "--root", seed_root)
    assert result.exit_code == 0
    assert "no document has two or more annotators" in result.output
