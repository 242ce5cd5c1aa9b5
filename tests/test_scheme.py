"""The label scheme is declared once; every artefact that lists labels is derived from it."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from kinews.errors import KinewsError
from kinews.release.build import document_features
from kinews.scheme import load_scheme, scheme_from_yaml

SCHEME = load_scheme(REPO)
LABELS = ["PER", "ORG", "LOC", "DATE", "TECH", "PROD", "POLICY", "EVENT", "MISC"]


def test_the_corpus_labels_in_their_fixed_order():
    # ClassLabel ids are positions: published releases depend on this order never changing.
    assert SCHEME.label_names == LABELS


def test_every_label_has_a_definition_and_german_examples():
    for label in SCHEME.labels:
        assert label.definition and label.examples and label.counterexamples
        assert label.hotkey and label.color and label.max_length


def test_parquet_classlabel_names_come_from_the_scheme():
    label = document_features(SCHEME)["spans"].feature["label"]
    assert label.names == SCHEME.label_names


def test_bio_tags_are_derived_in_the_usual_order():
    assert SCHEME.bio_names[:3] == ["O", "B-PER", "I-PER"]
    assert len(SCHEME.bio_names) == 1 + 2 * len(LABELS)


def test_the_guidelines_have_a_section_for_every_label_and_no_other():
    guidelines = (REPO / "annotations" / "GUIDELINES.md").read_text("utf-8")
    sections = set(re.findall(r"^### ([A-Z]+) \u2013 ", guidelines, flags=re.MULTILINE))
    assert sections == set(SCHEME.label_names)


def test_no_module_lists_the_labels_by_hand():
    for path in (REPO / "src" / "kinews").glob("*.py"):
        source = path.read_text("utf-8")
        assert not re.search(r'"PER".*"ORG"|"ORG".*"LOC"', source, flags=re.DOTALL), path


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"labels": []}, "non-empty list"),
        ({"labels": [{"name": "per", "definition": "x"}]}, "upper case"),
        ({"labels": [{"name": "PER"}]}, "needs a `definition`"),
        (
            {"labels": [{"name": "PER", "definition": "x"}, {"name": "PER", "definition": "y"}]},
            "repeated: PER",
        ),
        ({"span_policy": "nested", "labels": [{"name": "PER", "definition": "x"}]}, "flat"),
    ],
)
def test_a_broken_scheme_is_refused_with_the_reason(raw, message):
    with pytest.raises(KinewsError, match=message):
        scheme_from_yaml(raw, "schemas/labels.yaml")
