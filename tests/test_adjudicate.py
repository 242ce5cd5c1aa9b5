"""Specification of `kinews adjudicate`: several annotators' records become one gold record per
document; every disagreement waits on a worklist until a person resolves it."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import GOLDEN, SEED_ID, tree
from kinews.adjudication.adjudicate import adjudicate
from kinews.adjudication.document import adjudicate_document, span_key
from kinews.errors import KinewsError
from kinews.records import Annotation, Document, Span
from kinews.root import GOLD_FILE, WORKLIST_FILE, load_annotations, load_documents
from kinews.worklist import open_items

TEXT = "Die Bundesregierung fördert KI in Berlin und München."
#       0   4              19      27 30 34    40  44      52
NOW = "2026-11-28T03:00:00Z"
LATER = "2026-12-01T09:30:00Z"


@pytest.fixture
def root(empty_root: Path, kinews) -> Path:
    """A dataset root with one short document `d1` and no annotations yet."""
    article = empty_root / "in.jsonl"
    article.write_text(json.dumps({"id": "d1", "text": TEXT}, ensure_ascii=False) + "\n", "utf-8")
    assert kinews("ingest", article, "--root", empty_root).exit_code == 0
    article.unlink()
    (empty_root / "annotations").mkdir(exist_ok=True)
    return empty_root


def sha(root: Path, doc_id: str = "d1") -> str:
    return next(d.doc.sha256 for d in load_documents(root) if d.doc.id == doc_id)


def record(root, annotator, *spans, doc_id="d1", text=TEXT, **origin) -> dict:
    return {
        "doc_id": doc_id,
        "doc_sha256": sha(root, doc_id),
        "annotator": annotator,
        "status": "submitted",
        "created_at": "2026-11-27T10:00:00Z",
        "updated_at": None,
        "origin": {"tool": "label-studio", **origin},
        "spans": [{"start": s, "end": e, "label": lab, "text": text[s:e]} for s, e, lab in spans],
    }


def annotate(root: Path, *records: dict) -> None:
    path = root / "annotations" / "team.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")


def gold(root: Path) -> list[dict]:
    path = root / GOLD_FILE
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def worklist(root: Path) -> list[dict]:
    path = root / WORKLIST_FILE
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def save_worklist(root: Path, items: list[dict]) -> None:
    lines = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
    (root / WORKLIST_FILE).write_text(lines, "utf-8")


BUNDESREGIERUNG, KI, BERLIN, MUENCHEN = (
    (4, 19, "ORG"),
    (28, 30, "TECH"),
    (34, 40, "LOC"),
    (45, 52, "LOC"),
)


def two_annotators(root: Path) -> None:
    """Agree on Bundesregierung and Berlin; only -01 marks KI; München is LOC or ORG."""
    annotate(
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, KI, BERLIN, MUENCHEN),
        record(root, "annotator-02", BUNDESREGIERUNG, BERLIN, (45, 52, "ORG")),
    )


def test_agreed_spans_become_gold_and_disagreements_go_to_the_worklist(root):
    """The formats of both files are pinned by golden files."""
    two_annotators(root)
    report = adjudicate(root, 2, now=NOW)
    assert (report.documents, report.spans, report.open_items) == (("d1",), 2, 2)
    expected = GOLDEN / "adjudication"
    for produced in (root / GOLD_FILE, root / WORKLIST_FILE):
        golden = expected / produced.name
        if os.environ.get("KINEWS_UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(exist_ok=True)
            shutil.copy(produced, golden)
        assert produced.read_text("utf-8") == golden.read_text("utf-8"), golden
    [record_] = gold(root)
    assert record_["status"] == "gold" and record_["annotator"] == "adjudication"
    assert record_["origin"]["agreed"] == {
        "4-19-ORG": ["annotator-01", "annotator-02"],
        "34-40-LOC": ["annotator-01", "annotator-02"],
    }
    assert record_["origin"]["open_items"] == 2
    ki, muenchen = worklist(root)
    assert [c["proposed_by"] for c in ki["candidates"]] == [["annotator-02"], ["annotator-01"]]
    assert ki["candidates"][0]["span"] is None  # candidate 0: no entity here
    assert [c["span"]["label"] for c in muenchen["candidates"][1:]] == ["LOC", "ORG"]
    assert open_items(root) == {"d1": 2}


def test_the_outputs_validate_and_the_worklist_is_not_read_as_annotation_records(root, kinews):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    assert [r.file for r in load_annotations(root)] == [
        str(GOLD_FILE),
        *["annotations/team.jsonl"] * 2,
    ]
    result = kinews("validate", "--root", root)
    assert result.exit_code == 0, result.output


def test_a_span_needs_k_annotators_and_a_lone_dissent_is_still_listed(root):
    annotate(
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, BERLIN),
        record(root, "annotator-02", BUNDESREGIERUNG, BERLIN),
        record(root, "annotator-03", (0, 19, "ORG")),
    )
    adjudicate(root, 2, now=NOW)
    [g] = gold(root)
    assert [(s["start"], s["end"]) for s in g["spans"]] == [(4, 19), (34, 40)]
    [item] = worklist(root)
    assert [(c["proposed_by"], c["in_gold"]) for c in item["candidates"]] == [
        ([], False),
        (["annotator-03"], False),
        (["annotator-01", "annotator-02"], True),
    ]
    # Berlin, where -03 marked nothing, is decided by the two who agree: no item.
    adjudicate(root, 3, now=NOW)
    assert gold(root)[0]["spans"] == [] and len(worklist(root)) == 2


def test_two_spans_that_both_reach_k_but_overlap_are_a_disagreement(root):
    org, loc = (34, 40, "ORG"), (34, 40, "LOC")
    annotate(
        root,
        *(record(root, f"annotator-0{n}", org) for n in (1, 2)),
        *(record(root, f"annotator-0{n}", loc) for n in (3, 4)),
    )
    adjudicate(root, 2, now=NOW)
    assert gold(root)[0]["spans"] == []
    [item] = worklist(root)
    assert [c["in_gold"] for c in item["candidates"]] == [False, False, False]


def test_a_ground_truth_record_wins_outright(root):
    annotate(
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, KI),
        record(root, "annotator-02", BUNDESREGIERUNG, BERLIN, ground_truth=True),
    )
    report = adjudicate(root, 2, now=NOW)
    [g] = gold(root)
    assert [s["text"] for s in g["spans"]] == ["Bundesregierung", "Berlin"]
    assert g["origin"]["ground_truth"] == ["annotator-02"]
    assert g["origin"]["agreed"]["34-40-LOC"] == ["annotator-02"]
    assert report.open_items == 0 and not (root / WORKLIST_FILE).exists()


def test_ground_truth_records_that_differ_are_refused_and_nothing_is_written(root):
    annotate(
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, ground_truth=True),
        record(root, "annotator-02", BERLIN, ground_truth=True),
    )
    before = tree(root)
    with pytest.raises(KinewsError) as caught:
        adjudicate(root, 2, now=NOW)
    assert [p.code for p in caught.value.problems] == ["ground-truth-conflict"]
    assert tree(root) == before


def test_re_running_with_nothing_changed_rewrites_nothing(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    before = tree(root)
    mtimes = {p: p.stat().st_mtime_ns for p in (root / GOLD_FILE, root / WORKLIST_FILE)}
    report = adjudicate(root, 2, now=LATER)
    assert not report.changed
    assert tree(root) == before
    assert mtimes == {p: p.stat().st_mtime_ns for p in mtimes}


def test_changed_annotations_update_the_record_and_keep_its_creation_time(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    annotate(
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, KI, BERLIN, MUENCHEN),
        record(root, "annotator-02", BUNDESREGIERUNG, KI, BERLIN, (45, 52, "ORG")),
    )
    report = adjudicate(root, 2, now=LATER)
    [g] = gold(root)
    assert (g["created_at"], g["updated_at"]) == (NOW, LATER)
    assert "28-30-TECH" in g["origin"]["agreed"]
    assert report.changed and report.open_items == 1


def test_an_accepted_candidate_is_kept_on_re_running(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    ki, muenchen = worklist(root)
    ki["accept"] = [1]  # KI is TECH after all
    muenchen["accept"] = [0]  # München: no entity
    save_worklist(root, [ki, muenchen])

    report = adjudicate(root, 2, now=LATER)
    assert (report.open_items, report.resolved_items) == (0, 2)
    [g] = gold(root)
    assert [s["text"] for s in g["spans"]] == ["Bundesregierung", "KI", "Berlin"]
    assert g["origin"]["resolved"] == ["28-30-TECH"]
    assert g["origin"]["open_items"] == 0
    assert [i["accept"] for i in worklist(root)] == [[1], [0]]
    assert open_items(root) == {}
    before = tree(root)
    assert not adjudicate(root, 2, now="2027-01-01T00:00:00Z").changed
    assert tree(root) == before


def test_a_resolution_reopens_when_the_annotations_change_there(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    ki, muenchen = worklist(root)
    muenchen["accept"] = [2]
    save_worklist(root, [ki, muenchen])
    annotate(
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, KI, BERLIN, MUENCHEN),
        record(root, "annotator-02", BUNDESREGIERUNG, BERLIN, (45, 52, "MISC")),
    )
    report = adjudicate(root, 2, now=LATER)
    assert report.reopened == ("d1 45-52",)
    assert [i["accept"] for i in worklist(root)] == [None, None]


def test_a_gold_record_edited_by_hand_is_kept_and_has_no_open_items(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    [g] = gold(root)
    g["spans"].append({"start": 45, "end": 52, "label": "LOC", "text": "München"})
    (root / GOLD_FILE).write_text(json.dumps(g, ensure_ascii=False) + "\n", "utf-8")

    report = adjudicate(root, 2, now=LATER)
    assert report.kept_edited == ("d1",) and report.open_items == 0
    [kept] = gold(root)
    assert kept["spans"] == g["spans"]
    assert kept["origin"]["edited"] is True and kept["origin"]["open_items"] == 0
    assert worklist(root) == [] and open_items(root) == {}
    before = tree(root)
    assert not adjudicate(root, 2, now="2027-01-01T00:00:00Z").changed
    assert tree(root) == before


def test_a_generated_record_goes_when_the_document_has_one_annotator_again(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    annotate(root, record(root, "annotator-01", BUNDESREGIERUNG))
    report = adjudicate(root, 2, now=LATER)
    assert report.removed == ("d1",) and report.documents == ()
    assert (root / GOLD_FILE).read_text("utf-8") == ""
    assert worklist(root) == []


def test_a_document_with_a_hand_made_gold_record_is_not_adjudicated(seed_root):
    hand_made = (seed_root / "annotations" / "gold.jsonl").read_bytes()
    team = json.loads(hand_made)
    one = dict(team, annotator="annotator-01", status="submitted", origin={"tool": "t"})
    two = dict(one, annotator="annotator-02", spans=team["spans"][:3])
    annotate(seed_root, one, two)
    report = adjudicate(seed_root, 2, now=NOW)
    assert report.skipped == (SEED_ID,) and report.documents == ()
    assert (seed_root / "annotations" / "gold.jsonl").read_bytes() == hand_made
    assert not (seed_root / GOLD_FILE).exists()


def test_a_malformed_resolution_is_refused_with_its_line_and_nothing_is_written(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    ki, muenchen = worklist(root)
    muenchen["accept"] = [1, 2]  # LOC and ORG on the same characters
    save_worklist(root, [ki, muenchen])
    before = tree(root)
    with pytest.raises(KinewsError) as caught:
        adjudicate(root, 2, now=LATER)
    [problem] = caught.value.problems
    assert (problem.code, problem.file, problem.line) == ("worklist-invalid", str(WORKLIST_FILE), 2)
    assert "overlap" in problem.message
    assert tree(root) == before


def test_an_adjudicators_comment_is_kept_on_re_running_and_when_the_item_reopens(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    ki, muenchen = worklist(root)
    ki["comment"] = "KI: TECH per D7? ask the lead"
    muenchen["accept"], muenchen["comment"] = [1], "the city, not the club"
    save_worklist(root, [ki, muenchen])
    adjudicate(root, 2, now=LATER)
    assert [(i["accept"], i.get("comment")) for i in worklist(root)] == [
        (None, "KI: TECH per D7? ask the lead"),
        ([1], "the city, not the club"),
    ]
    annotate(  # München changes: the item reopens, and the comment stays with its region
        root,
        record(root, "annotator-01", BUNDESREGIERUNG, KI, BERLIN, MUENCHEN),
        record(root, "annotator-02", BUNDESREGIERUNG, BERLIN, (45, 52, "MISC")),
    )
    adjudicate(root, 2, now="2027-01-01T00:00:00Z")
    assert [(i["accept"], i.get("comment")) for i in worklist(root)] == [
        (None, "KI: TECH per D7? ask the lead"),
        (None, "the city, not the club"),
    ]


def test_two_items_for_one_region_that_disagree_are_refused_and_nothing_is_written(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    ki, muenchen = worklist(root)
    save_worklist(root, [ki, dict(muenchen, accept=[1]), dict(muenchen, accept=[2])])
    before = tree(root)
    with pytest.raises(KinewsError) as caught:
        adjudicate(root, 2, now=LATER)
    [problem] = caught.value.problems
    assert (problem.code, problem.line, problem.doc_id) == ("worklist-conflict", 3, "d1")
    assert "repeats line 2" in problem.message
    assert tree(root) == before


def test_a_resolution_whose_doc_id_matches_no_adjudicated_document_is_refused(root):
    two_annotators(root)
    adjudicate(root, 2, now=NOW)
    ki, muenchen = worklist(root)
    save_worklist(root, [ki, dict(muenchen, doc_id="d7", accept=[1])])  # a typo of d1
    before = tree(root)
    with pytest.raises(KinewsError) as caught:
        adjudicate(root, 2, now=LATER)
    [problem] = caught.value.problems
    assert (problem.code, problem.line, problem.doc_id) == ("worklist-orphan", 2, "d7")
    assert tree(root) == before


def test_the_build_releases_the_adjudicated_gold(root, kinews):
    two_annotators(root)
    assert (
        kinews("build", "--version", "0.1.0", "--root", root, "--out", root / "dist").exit_code == 1
    )
    result = kinews("adjudicate", "--root", root)
    assert result.exit_code == 0, result.output
    assert "1 document adjudicated into annotations/gold-adjudicated.jsonl: 2 spans; 2 open" in (
        result.output
    )
    assert "nothing changed" in kinews("adjudicate", "--root", root).output
    result = kinews("build", "--version", "0.1.0", "--root", root, "--out", root / "dist")
    assert result.exit_code == 0, result.output
    assert "2 spans" in result.output


def test_min_agree_must_be_at_least_one(root, kinews):
    assert kinews("adjudicate", "--min-agree", "0", "--root", root).exit_code == 2


# --- properties -------------------------------------------------------------------------------

annotator_spans = st.lists(
    st.tuples(st.integers(0, 45), st.integers(1, 8), st.sampled_from(["ORG", "LOC"])), max_size=6
)


def flat_spans(raw) -> tuple[Span, ...]:
    spans, end = [], -1
    for start, length, label in sorted(raw):
        stop = min(start + length, len(TEXT))
        if start >= end and start < stop:
            spans.append(Span(start, stop, label, TEXT[start:stop]))
            end = stop
    return tuple(spans)


@given(st.lists(annotator_spans, min_size=2, max_size=4), st.integers(1, 4))
def test_every_proposed_span_is_in_gold_or_on_the_worklist_and_gold_is_flat(raw, min_agree):
    doc = Document("d1", TEXT, "sha")
    layers = {
        f"annotator-0{n}": Annotation(
            "d1", "sha", f"annotator-0{n}", "submitted", "t", None, {}, flat_spans(r)
        )
        for n, r in enumerate(raw, start=1)
    }
    result = adjudicate_document(doc, layers, min_agree)
    gold_keys = [(s.start, s.end, s.label) for s in result.spans]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(gold_keys))  # sorted and flat
    on_worklist = {
        (c.span.start, c.span.end, c.span.label)
        for item in result.items
        for c in item.candidates[1:]
    }
    for name, ann in layers.items():
        for s in ann.spans:
            key = (s.start, s.end, s.label)
            assert key in gold_keys or key in on_worklist
            if key in gold_keys:
                assert name in result.agreed[span_key(s)]
    for key in gold_keys:
        assert len(result.agreed[span_key(key)]) >= min_agree
    for item in result.items:
        assert item.candidates[0].span is None
        proposers = [n for c in item.candidates for n in c.proposed_by]
        assert set(proposers) == set(layers)  # everyone is on some side of every disagreement
    regions = [(i.start, i.end) for i in result.items]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(regions))
