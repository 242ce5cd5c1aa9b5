"""Specification of `kinews.tokens`: exact offsets, and spans ↔ BIO without loss."""

from __future__ import annotations

import bisect
import csv
import functools
import itertools
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, SEED, SHARED
from kinews.errors import KinewsError
from kinews.ingest import normalise
from kinews.records import Span
from kinews.tokens import (
    Sentence,
    bio_of_cut,
    bio_to_spans,
    cut_text,
    propose,
    spans_to_bio,
    split_sentences,
    tokenizer_version,
)

# Pieces that tokenizers get wrong: ordinals and abbreviations, quotes, hyphenated compounds,
# emoji with zero-width joiners, flags, combining marks, soft hyphens, BOMs, odd whitespace.
PIECES = [
    "Peking",
    "KI",
    "20.",
    "März",
    "Nr.",
    "1",
    "z. B.",
    "Dr.",
    "6G",
    "Open-Source-Hauptstadt",
    "„KI + Pharma“",
    ".",
    ",",
    "!",
    "?",
    "-",
    "👨\u200d👩\u200d👧",
    "🇩🇪",
    "e\u0301",
    "\u0301",
    "Soft\u00adhyphen",
    "\ufeff",
    "a\u200bb",
    "\x00",
    "é",
    "ß",
]
SEPARATORS = [" ", " ", " ", "", "\n", "  ", "\t", "\u00a0", "\u2028", ". "]

texts = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from(SEPARATORS)), min_size=1, max_size=30
).map(lambda parts: "".join(piece + sep for piece, sep in parts))


@st.composite
def text_and_spans(draw, layers: int = 1):
    """A text and `layers` lists of flat spans (each list non-overlapping; lists may overlap)."""
    text = draw(texts)
    edges = list(range(len(text) + 1))
    result = []
    for _ in range(layers):
        cuts = sorted(set(draw(st.lists(st.sampled_from(edges), max_size=12))))
        spans = []
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            piece = text[start:end]
            if piece and piece == piece.strip() and not piece.isspace():
                label = draw(st.sampled_from(["ORG", "LOC", "TECH"]))
                spans.append(Span(start, end, label, piece))
        result.append(spans)
    return text, result


def round_trip(sentences: list[Sentence], spans: list[Span], text: str) -> list[Span]:
    back: list[Span] = []
    for sentence in sentences:
        back += bio_to_spans(sentence, spans_to_bio(sentence, spans), text)
    return back


def assert_exact_tokens(text: str, sentences: list[Sentence]) -> None:
    tokens = [t for s in sentences for t in s.tokens]
    assert all(text[t.start : t.end] == t.text and t.text for t in tokens)
    assert all(not any(c.isspace() for c in t.text) for t in tokens)
    assert all(a.end <= b.start for a, b in itertools.pairwise(tokens))
    covered = {i for t in tokens for i in range(t.start, t.end)}
    assert covered == {i for i, c in enumerate(text) if not c.isspace()}
    for sentence in sentences:
        assert (sentence.start, sentence.end) == (sentence.tokens[0].start, sentence.tokens[-1].end)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans())
def test_bio_gives_back_exactly_the_spans_of_any_text(case):
    text, [spans] = case
    sentences = split_sentences(text, spans)
    assert_exact_tokens(text, sentences)
    assert round_trip(sentences, spans, text) == sorted(spans)
    for span in spans:
        assert any(s.start <= span.start and span.end <= s.end for s in sentences)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans(layers=3))
def test_overlapping_layers_of_several_annotators_each_survive_over_shared_tokens(case):
    text, layers = case
    sentences = split_sentences(text, [span for layer in layers for span in layer])
    assert_exact_tokens(text, sentences)
    for layer in layers:
        assert round_trip(sentences, layer, text) == sorted(layer)


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_spans(layers=3), st.data())
def test_the_build_s_offsets_and_tags_are_those_of_sentences_and_spans_to_bio(case, data):
    text, layers = case
    spans = [span for layer in layers for span in layer]
    proposals = propose(text)
    cut = cut_text(text, spans, proposals)
    # The rule: a token belongs to the sentence of the last break at or before it that lies
    # inside no span.
    kept = [b for b in proposals.breaks if not any(s.start < b < s.end for s in spans)]
    keys = [bisect.bisect_right(kept, start) for start in cut.starts]
    runs = [list(group) for _, group in itertools.groupby(range(len(keys)), keys.__getitem__)]
    assert cut.sentences == [(run[0], run[-1] + 1) for run in runs]
    sentences = split_sentences(text, spans, proposals)
    assert [(t.start, t.end) for s in sentences for t in s.tokens] == list(
        zip(cut.starts, cut.ends, strict=True)
    )
    # Each layer's tags over all sentences are spans_to_bio's, sentence by sentence.
    for layer in layers:
        expected = [tag for sentence in sentences for tag in spans_to_bio(sentence, layer)]
        assert bio_of_cut(cut, layer) == expected
    # Overlapping spans of several layers, or any span at all: bio_of_cut declines (None) what
    # spans_to_bio would refuse, and agrees with it on the rest.
    anything = data.draw(st.lists(st.sampled_from(spans), max_size=4)) if spans else []
    try:
        expected = [tag for sentence in sentences for tag in spans_to_bio(sentence, anything)]
    except KinewsError:
        assert bio_of_cut(cut, anything) is None
    else:
        assert bio_of_cut(cut, anything) in (None, expected)


def test_the_seed_gold_survives_bio_and_keeps_german_sentences_whole():
    text = normalise(SEED.read_text("utf-8"))
    record = json.loads((REPO / "annotations" / "gold.jsonl").read_text("utf-8"))
    spans = [Span(**s) for s in record["spans"]]
    sentences = split_sentences(text, spans)
    assert round_trip(sentences, spans, text) == spans
    assert len(sentences) == 15
    first = [t.text for t in sentences[0].tokens]
    assert first[first.index("20.") + 1] == "März"
    assert any("Beiniao Nr. 1" in text[s.start : s.end] for s in sentences)


def test_a_span_edge_inside_a_word_splits_the_token_instead_of_widening_the_span():
    text = "Das BMW-Vorstand. Danach"
    span = Span(4, 7, "ORG", "BMW")
    [first, _] = split_sentences(text, [span])
    assert [t.text for t in first.tokens] == ["Das", "BMW", "-Vorstand", "."]
    assert spans_to_bio(first, [span]) == ["O", "B-ORG", "O", "O"]


def test_no_sentence_ends_inside_a_span_even_across_a_line_break():
    text = "Er kam. Dann ging er.\nNeue Zeile hier."
    span = Span(3, 26, "MISC", text[3:26])
    [sentence] = split_sentences(text, [span])
    assert (sentence.start, sentence.end) == (0, len(text))
    assert bio_to_spans(sentence, spans_to_bio(sentence, [span]), text) == [span]


def test_a_whitespace_edged_span_is_refused_not_trimmed():
    text = "Peking fördert KI."
    span = Span(6, 14, "TECH", text[6:14])
    [sentence] = split_sentences(text, [span])
    with pytest.raises(KinewsError, match="span-untokenisable"):
        spans_to_bio(sentence, [span])


def test_overlapping_spans_of_one_layer_are_refused():
    text = "Peking fördert KI."
    spans = [Span(0, 6, "LOC", "Peking"), Span(0, 14, "ORG", "Peking fördert")]
    [sentence] = split_sentences(text, spans)
    with pytest.raises(KinewsError, match="span-overlap"):
        spans_to_bio(sentence, spans)


def test_an_i_tag_that_continues_nothing_starts_a_span_and_bad_tags_are_refused():
    text = "Peking fördert KI."
    [sentence] = split_sentences(text)
    assert bio_to_spans(sentence, ["I-LOC", "O", "I-TECH", "O"], text) == [
        Span(0, 6, "LOC", "Peking"),
        Span(15, 17, "TECH", "KI"),
    ]
    with pytest.raises(KinewsError, match="bio-invalid"):
        bio_to_spans(sentence, ["O", "X-LOC", "O", "O"], text)
    with pytest.raises(KinewsError, match="bio-invalid"):
        bio_to_spans(sentence, ["O"], text)


def test_the_tokenizer_is_named_with_its_version():
    name, version = tokenizer_version().split(" ")
    assert name == "SoMaJo" and version[0].isdigit()


# Emoji as SoMaJo's emoji splitting meets them: sequences, modifiers, variation selectors (also
# alone), keycaps, flags, text-style pictographs, next to words and punctuation.
EMOJI = ["🤖", "👍🏽", "❤️", "❤", "☺", "#️⃣", "\ufe0f", "🇩🇪", "👨\u200d💻", "©", "™", "😀😀", ":-)"]
emoji_texts = st.lists(
    st.tuples(st.sampled_from(PIECES + EMOJI), st.sampled_from(SEPARATORS)), min_size=1, max_size=30
).map(lambda parts: "".join(piece + sep for piece, sep in parts))


@functools.cache
def stock_somajo():
    from somajo import SoMaJo

    return SoMaJo("de_CMC", split_camel_case=False, character_offsets=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(emoji_texts)
def test_the_emoji_fast_path_proposes_exactly_what_stock_somajo_does(text):
    assert propose(text) == propose(text, stock_somajo())


def test_the_emoji_fast_path_proposes_what_stock_somajo_does_on_10kgnad_articles():
    articles = SHARED / "data" / "10kgnad" / "test.csv"
    if not articles.exists():
        pytest.skip("../shared/data/10kgnad is not here")
    with articles.open(encoding="utf-8", newline="") as handle:
        texts = [row[1] for row in csv.reader(handle, delimiter=";", quotechar="'")][:25]
    for text in texts:
        assert propose(text) == propose(text, stock_somajo())


def test_a_whitespace_run_is_what_str_isspace_says_for_every_code_point():
    """Tokens are cut from `\\S+` runs: that must be exactly the characters str.isspace rejects."""
    space = re.compile(r"\s")
    assert [c for c in range(0x110000) if bool(space.match(chr(c))) != chr(c).isspace()] == []
