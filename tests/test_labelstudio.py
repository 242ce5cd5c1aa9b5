"""Specification of the Label Studio boundary without a server: config, tasks, offsets, exports.

The third-party exports in ../shared/data/labelstudio/ are English and use labels that are not in
the kinews scheme. They are imported honestly: into a temporary root whose corpus holds exactly
their texts (ingested like any article), with the tool's labels mapped explicitly onto scheme
labels (`--label Person=PER`) and tasks, which carry no `doc_id`, matched by their exact text
(`--match-text`). Nothing is mapped implicitly: an unmapped label or an unknown text is an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO, SHARED, tree
from kinews.errors import KinewsError
from kinews.labelstudio.export import (
    Options,
    code_points_to_utf16,
    config_labels,
    document_task,
    label_config,
    same_config,
    utf16_to_code_points,
)
from kinews.labelstudio.gazetteer import build_gazetteer, match_gazetteer
from kinews.labelstudio.sessions import import_export
from kinews.records import Annotation, Document, Span
from kinews.root import PSEUDONYMS_FILE
from kinews.scheme import Label, Scheme, load_scheme

EXPORTS = SHARED / "data" / "labelstudio"
# The exports of the Label Studio frontend carry no timestamps; the importer wants one given.
WHEN = ("--created-at", "2020-01-01T00:00:00Z")
GERMAN = "Grüße aus Zürich: 👩‍🔬 forscht, 🇩🇪 fördert, Cafe\u0301 öffnet."


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


# --- The labelling config -----------------------------------------------------------------------


def test_the_config_is_labels_over_text_with_every_scheme_label_hotkey_and_colour():
    scheme = load_scheme(REPO)
    root = ElementTree.fromstring(label_config(scheme))
    [labels] = root.findall("Labels")
    [text] = root.findall("Text")
    assert (labels.get("name"), labels.get("toName")) == ("label", "text")
    assert (text.get("name"), text.get("value")) == ("text", "$text")
    declared = [(label.name, label.hotkey, label.color) for label in scheme.labels]
    generated = [(e.get("value"), e.get("hotkey"), e.get("background")) for e in labels]
    assert generated == declared  # drift from schemas/labels.yaml fails here
    assert config_labels(label_config(scheme)) == scheme.label_names


def test_kinews_ls_config_prints_exactly_the_generated_config(kinews):
    result = kinews("ls", "config", "--root", REPO)
    assert result.exit_code == 0, result.output
    assert result.stdout == label_config(load_scheme(REPO))


def test_configs_compare_as_xml_not_as_strings():
    config = label_config(load_scheme(REPO))
    assert same_config(config, config.replace("\n", "").replace("  ", ""))
    assert not same_config(config, config.replace('"MISC"', '"OTHER"'))


def test_label_values_are_xml_escaped():
    odd = Label('A<&"B', "odd", (), (), hotkey="x", color="#000000")
    scheme = Scheme("odd", "flat", (odd,))
    assert config_labels(label_config(scheme)) == ['A<&"B']


def test_a_label_without_hotkey_is_refused():
    scheme = Scheme("s", "flat", (Label("X", "x", (), ()),))
    with pytest.raises(KinewsError) as caught:
        label_config(scheme)
    assert caught.value.problems[0].code == "scheme-invalid"


def test_a_task_carries_doc_id_text_title_and_sha256():
    doc = Document("d1", GERMAN, "0" * 64, title="T")
    assert document_task(doc) == {"doc_id": "d1", "text": GERMAN, "title": "T", "sha256": "0" * 64}


# --- Offsets: code points and UTF-16 ------------------------------------------------------------

HARD = [
    "ä",
    "ß",
    "😀",
    "👩\u200d👩\u200d👧",  # ZWJ sequence: 5 code points, 8 UTF-16 units
    "🇩🇪",  # flag: two regional indicators
    "e\u0301",  # combining mark (NFC composes it to é)
    "\n",
    " ",
    "a",
]
texts = st.lists(st.one_of(st.sampled_from(HARD), st.text(max_size=3)), max_size=12).map("".join)


@given(texts)
def test_utf16_offsets_round_trip_at_every_code_point_boundary(text):
    for index in range(len(text) + 1):
        assert utf16_to_code_points(text, code_points_to_utf16(text, index)) == index


@given(texts, st.data())
def test_a_utf16_slice_and_the_converted_code_point_slice_are_the_same_text(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    units = text.encode("utf-16-le", "surrogatepass")
    u_start, u_end = code_points_to_utf16(text, start), code_points_to_utf16(text, end)
    assert units[2 * u_start : 2 * u_end].decode("utf-16-le", "surrogatepass") == text[start:end]


def test_known_widths_of_emoji_zwj_flags_and_combining_marks():
    assert code_points_to_utf16("👩\u200d👩\u200d👧", 5) == 8
    assert code_points_to_utf16("🇩🇪x", 2) == 4
    assert code_points_to_utf16("e\u0301", 2) == 2
    assert utf16_to_code_points("😀a", 2) == 1


def test_a_utf16_offset_inside_a_surrogate_pair_or_beyond_the_text_is_refused():
    with pytest.raises(ValueError, match="splits"):
        utf16_to_code_points("😀", 1)
    with pytest.raises(ValueError, match="beyond"):
        utf16_to_code_points("ab", 3)


# --- Imports of exports -------------------------------------------------------------------------


def ingest_texts(root: Path, tmp_path: Path, kinews, texts: dict[str, str]) -> None:
    articles = tmp_path / "articles.jsonl"
    lines = [json.dumps({"id": i, "text": t}, ensure_ascii=False) for i, t in texts.items()]
    articles.write_text("\n".join(lines) + "\n", "utf-8")
    result = kinews("ingest", articles, "--root", root)
    assert result.exit_code == 0, result.output


def export_text(name: str, key: str = "text") -> str:
    raw = json.loads((EXPORTS / name).read_text("utf-8"))
    return (raw[0] if isinstance(raw, list) else raw)["data"][key]


@pytest.fixture
def shared_root(empty_root, tmp_path, kinews) -> Path:
    """A root whose corpus holds the texts of the third-party exports, under ids of our own."""
    ingest_texts(
        empty_root,
        tmp_path,
        kinews,
        {
            "lsf-named-entity": export_text("lsf_named_entity__tasks.json"),
            "lsf-e2e-unicode": export_text("lsf_e2e_ner_text_unicode__DERIVED.json"),
            "converter-348": export_text("converter_legacy_completions_348.json"),
            "lsf-rich-text": export_text("lsf_rich_text_plain__tasks.json", "ner"),
        },
    )
    return empty_root


def test_a_single_task_object_export_imports_its_span_from_the_corpus_text(shared_root, kinews):
    result = kinews(
        "ls", "import", EXPORTS / "lsf_named_entity__annotations_1.json",
        "--match-text", "--label", "Date=DATE", *WHEN, "--root", shared_root,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 new, 0 updated, 0 unchanged, 0 deleted, 0 skipped" in result.output
    [record] = records(
        shared_root / "annotations" / "ls-import-lsf-named-entity-annotations-1.jsonl"
    )
    assert record["doc_id"] == "lsf-named-entity"
    assert record["status"] == "submitted"
    assert record["annotator"] == "annotator-01"
    assert record["spans"] == [{"start": 343, "end": 354, "label": "DATE", "text": "February 22"}]
    assert record["origin"]["tool"] == "label-studio"
    assert record["origin"]["annotation"] == "1001"


def test_a_task_list_with_only_predictions_imports_nothing_and_says_why(shared_root, kinews):
    result = kinews(
        "ls", "import", EXPORTS / "lsf_named_entity__tasks.json",
        "--match-text", "--label", "Date=DATE", "--root", shared_root,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "0 new" in result.output
    assert "1 skipped (1 prediction (not an annotation))" in result.output


def test_curly_quotes_dashes_and_nested_regions_import_exactly(shared_root, kinews):
    result = kinews(
        "ls", "import", EXPORTS / "lsf_e2e_ner_text_unicode__DERIVED.json", "--match-text",
        "--label", "Person=PER", "--label", "Words=MISC", *WHEN, "--root", shared_root,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = records(
        shared_root / "annotations" / "ls-import-lsf-e2e-ner-text-unicode-derived.jsonl"
    )
    assert [(r["origin"]["annotation"], r["spans"]) for r in found] == [
        (
            "TestCmpl",
            [
                {"start": 1, "end": 40, "label": "MISC",
                 "text": "But I don\u2019t want to go among mad people"},
                {"start": 175, "end": 180, "label": "PER", "text": "Alice"},
            ],
        ),
        ("new", [{"start": 233, "end": 237, "label": "MISC", "text": "come"}]),
    ]  # fmt: skip


def test_a_legacy_completions_export_imports_all_38_spans_as_given(shared_root, kinews):
    export = EXPORTS / "converter_legacy_completions_348.json"
    args = ["ls", "import", export, "--match-text", "--label", "INGREDIENT=MISC"]
    refused = kinews(*args, "--root", shared_root)
    assert refused.exit_code == 1
    assert "ls-annotation-invalid" in refused.output  # pre-1.0 exports have no timestamps
    result = kinews(*args, *WHEN, "--root", shared_root)
    assert result.exit_code == 0, result.output
    [record] = records(
        shared_root / "annotations" / "ls-import-converter-legacy-completions-348.jsonl"
    )
    text = export_text("converter_legacy_completions_348.json")
    assert len(record["spans"]) == 38
    assert all(text[s["start"] : s["end"]] == s["text"] for s in record["spans"])
    # Spans are kept as annotated, not trimmed: 30 end in a comma, one starts with a space.
    assert sum(s["text"].endswith(",") for s in record["spans"]) == 30
    assert sum(s["text"].startswith(" ") for s in record["spans"]) == 1
    assert record["origin"]["lead_time"] == 72.138


def test_offsets_that_do_not_match_the_text_are_reported_and_nothing_is_written(
    shared_root, kinews
):
    before = tree(shared_root)
    result = kinews(
        "ls", "import", EXPORTS / "lsf_rich_text_plain__annotations_1.json", "--match-text",
        "--text-key", "ner", "--label", "Date=DATE", *WHEN, "--root", shared_root,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "ls-span-misfit" in result.output
    assert "task 1 annotation 1001 region beFiQTT1cU" in result.output
    assert '343-354[DATE] "February 22"' in result.output
    assert "' supporters'" in result.output  # what the document really has there
    assert tree(shared_root) == before


def test_an_unmapped_label_and_an_unknown_text_are_errors(shared_root, kinews):
    export = EXPORTS / "lsf_named_entity__annotations_1.json"
    unmapped = kinews("ls", "import", export, "--match-text", *WHEN, "--root", shared_root)
    assert unmapped.exit_code == 1
    assert "ls-label-unknown" in unmapped.output and "'Date'" in unmapped.output
    no_doc_id = kinews("ls", "import", export, "--label", "Date=DATE", "--root", shared_root)
    assert no_doc_id.exit_code == 1
    assert "ls-doc-unknown" in no_doc_id.output


# --- Our own exports: JSON_MIN, doc_id, several annotators, UTF-16 ------------------------------


@pytest.fixture
def german_root(empty_root, tmp_path, kinews) -> Path:
    ingest_texts(empty_root, tmp_path, kinews, {"de-1": GERMAN})
    return empty_root


def german_spans() -> list[Span]:
    text = unicodedata.normalize("NFC", GERMAN)
    return [
        Span(10, 16, "LOC", "Zürich"),
        Span(text.index("🇩🇪"), text.index("🇩🇪") + 2, "LOC", "🇩🇪"),
        Span(text.index("Café"), text.index("Café") + 4, "ORG", "Café"),
    ]


def test_json_min_rows_of_two_annotators_become_two_records(german_root, tmp_path, kinews):
    text = unicodedata.normalize("NFC", GERMAN)
    regions = [
        {"start": s.start, "end": s.end, "text": s.text, "labels": [s.label]}
        for s in german_spans()
    ]
    rows = [
        {"id": 7, "doc_id": "de-1", "text": text, "label": regions, "annotator": 3,
         "annotation_id": 11, "created_at": "2026-01-01T00:00:00Z", "lead_time": 2.5},
        {"id": 7, "doc_id": "de-1", "text": text, "label": regions[:1], "annotator": 4,
         "annotation_id": 12, "created_at": "2026-01-02T00:00:00Z"},
    ]  # fmt: skip
    export = tmp_path / "min.json"
    export.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    result = kinews("ls", "import", export, "--root", german_root)
    assert result.exit_code == 0, result.output
    first, second = records(german_root / "annotations" / "ls-import-min.jsonl")
    assert [Span(**s) for s in first["spans"]] == german_spans()
    assert [Span(**s) for s in second["spans"]] == german_spans()[:1]
    assert {first["annotator"], second["annotator"]} == {"annotator-01", "annotator-02"}
    assert kinews("validate", "--root", german_root).exit_code == 0


def test_utf16_offsets_from_a_javascript_tool_are_converted_to_code_points(german_root, tmp_path):
    text = unicodedata.normalize("NFC", GERMAN)
    result = [
        {"type": "labels", "from_name": "ner", "to_name": "text", "value": {
            "start": code_points_to_utf16(text, s.start), "end": code_points_to_utf16(text, s.end),
            "text": s.text, "labels": [s.label]}}
        for s in german_spans()
    ]  # fmt: skip
    annotation = {
        "id": 5,
        "completed_by": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "result": result,
    }
    task = {"id": 1, "data": {"doc_id": "de-1", "text": text}, "annotations": [annotation]}
    export = tmp_path / "utf16.json"
    export.write_text(json.dumps([task], ensure_ascii=False), "utf-8")
    report = import_export(german_root, export, Options(offsets="utf-16"))
    [record] = records(report.path)
    assert [Span(**s) for s in record["spans"]] == german_spans()
    with pytest.raises(KinewsError) as caught:  # the same offsets read as code points misfit
        import_export(german_root, export, Options())
    assert {p.code for p in caught.value.problems} == {"ls-span-misfit"}


def test_reimporting_rewrites_nothing_and_emails_stay_in_the_local_map(
    german_root, tmp_path, kinews
):
    text = unicodedata.normalize("NFC", GERMAN)
    task = {"id": 1, "data": {"doc_id": "de-1", "text": text}, "annotations": [
        {"id": 5, "completed_by": {"id": 9, "email": "anna@example.org"},
         "created_at": "2026-01-01T00:00:00Z", "result": []},
        {"id": 6, "was_cancelled": True, "result": []}]}  # fmt: skip
    export = tmp_path / "mail.json"
    export.write_text(json.dumps(task), "utf-8")
    first = kinews("ls", "import", export, "--root", german_root)
    assert "1 new" in first.output and "1 skipped (1 cancelled)" in first.output
    annotations = tree(german_root / "annotations")
    second = kinews("ls", "import", export, "--root", german_root)
    assert "0 new, 0 updated, 1 unchanged" in second.output
    assert "unchanged: " in second.output
    assert tree(german_root / "annotations") == annotations
    assert b"anna@example.org" not in b"".join(annotations.values())
    local = json.loads((german_root / PSEUDONYMS_FILE).read_text("utf-8"))
    assert local == {"anna@example.org": "annotator-01"}
    assert ".kinews-local" in (REPO / ".gitignore").read_text("utf-8")


def test_a_task_whose_text_differs_from_the_corpus_is_an_error(german_root, tmp_path):
    task = {"id": 1, "data": {"doc_id": "de-1", "text": GERMAN + "!"}, "annotations": []}
    export = tmp_path / "changed.json"
    export.write_text(json.dumps(task), "utf-8")
    with pytest.raises(KinewsError) as caught:
        import_export(german_root, export, Options())
    assert [p.code for p in caught.value.problems] == ["ls-text-mismatch"]


def test_a_file_that_is_not_an_export_is_refused(german_root, tmp_path):
    export = tmp_path / "bad.json"
    export.write_text("[1, 2]", "utf-8")
    with pytest.raises(KinewsError) as caught:
        import_export(german_root, export, Options())
    assert [p.code for p in caught.value.problems] == ["ls-export-invalid"]


def zurich_annotation(annotation_id: int) -> dict:
    """An annotation of de-1 that would import cleanly on its own: one region on Zürich."""
    zurich = german_spans()[0]
    value = {"start": zurich.start, "end": zurich.end, "text": zurich.text, "labels": ["LOC"]}
    region = {
        "id": "r-ok",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": value,
    }
    return {
        "id": annotation_id,
        "completed_by": {"id": 9, "email": "anna@example.org"},
        "created_at": "2026-01-01T00:00:00Z",
        "result": [region],
    }


def test_a_task_without_string_text_is_located_and_nothing_is_written(
    german_root, tmp_path, kinews
):
    text = unicodedata.normalize("NFC", GERMAN)
    data = {
        1: {"doc_id": "de-1", "text": text},
        3: {"doc_id": "de-1", "text": [text]},  # a list, not a string
        4: {"doc_id": "de-1", "body": text},  # the text under another key
    }
    tasks = [
        {"id": i, "data": d, "annotations": [zurich_annotation(i + 4)]} for i, d in data.items()
    ]
    export = tmp_path / "no-text.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), "utf-8")
    before = tree(german_root)
    result = kinews("ls", "import", export, "--root", german_root)
    assert result.exit_code == 1
    for task in (3, 4):
        assert (
            f"{export} doc=de-1 ls-task-invalid: task {task}: task data has no string 'text'"
        ) in result.output
    assert "task 1" not in result.output
    assert tree(german_root) == before  # not even task 1's record, nor a pseudonym map


def test_a_labels_result_without_integer_offsets_or_one_label_is_located_and_nothing_is_written(
    german_root, tmp_path, kinews
):
    text = unicodedata.normalize("NFC", GERMAN)
    annotation = zurich_annotation(5)
    bad_values = {
        "r-string-offset": {"start": "10", "end": 16, "text": "Zürich", "labels": ["LOC"]},
        "r-no-end": {"start": 10, "text": "Zürich", "labels": ["LOC"]},
        "r-two-labels": {"start": 10, "end": 16, "text": "Zürich", "labels": ["LOC", "ORG"]},
        "r-no-label": {"start": 10, "end": 16, "text": "Zürich", "labels": []},
    }
    annotation["result"] += [
        {"id": region, "from_name": "label", "to_name": "text", "type": "labels", "value": value}
        for region, value in bad_values.items()
    ]
    task = {"id": 1, "data": {"doc_id": "de-1", "text": text}, "annotations": [annotation]}
    export = tmp_path / "bad-result.json"
    export.write_text(json.dumps(task, ensure_ascii=False), "utf-8")
    before = tree(german_root)
    result = kinews("ls", "import", export, "--root", german_root)
    assert result.exit_code == 1
    for region in bad_values:
        assert (
            f"{export} doc=de-1 ls-result-invalid: task 1 annotation 5 region {region}: "
            "needs integer start/end and one label, got {"
        ) in result.output
    assert result.output.count("ls-result-invalid") == len(bad_values)
    assert "r-ok" not in result.output
    assert tree(german_root) == before  # not even the good region's record


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"anna@example.org": "annotator-01",', "unreadable pseudonym map: "),
        ('{"anna@example.org": "anna"}', "expected an object mapping identities to annotator-NN"),
        ('["annotator-01"]', "expected an object mapping identities to annotator-NN"),
        ('{"a@x.org": "annotator-01\\n"}', "expected an object mapping identities to annotator-NN"),
        (
            '{"a@x.org": "annotator-01", "b@x.org": "annotator-01"}',
            "annotator-01 stands for more than one identity; give each its own",
        ),
        (None, "unreadable pseudonym map: "),  # a folder where the file should be
    ],
    ids=["not-json", "not-a-pseudonym", "not-a-map", "trailing-newline", "shared", "a-folder"],
)
def test_a_broken_pseudonym_map_stops_the_import_and_is_left_as_it_is(
    german_root, tmp_path, kinews, content, message
):
    local = german_root / PSEUDONYMS_FILE
    local.parent.mkdir(exist_ok=True)  # the root lock lives there too
    if content is None:
        local.mkdir()
    else:
        local.write_text(content, "utf-8")
    text = unicodedata.normalize("NFC", GERMAN)
    task = {
        "id": 1,
        "data": {"doc_id": "de-1", "text": text},
        "annotations": [zurich_annotation(5)],
    }
    export = tmp_path / "fine.json"
    export.write_text(json.dumps(task, ensure_ascii=False), "utf-8")
    before = tree(german_root)
    result = kinews("ls", "import", export, "--root", german_root)
    assert result.exit_code == 1
    assert f"{local} ls-pseudonyms-invalid: {message}" in result.output
    assert tree(german_root) == before  # the map is not repaired, no record names anyone


# --- Whose records a file holds, and one person one pseudonym ------------------------------------


def write_export(path: Path, *annotations: dict, project: int | None = None) -> Path:
    text = unicodedata.normalize("NFC", GERMAN)
    task = {"id": 1, "data": {"doc_id": "de-1", "text": text}, "annotations": list(annotations)}
    if project is not None:
        task["project"] = project
    path.write_text(json.dumps([task], ensure_ascii=False), "utf-8")
    return path


def by(user: int | dict, annotation: dict) -> dict:
    return dict(annotation, completed_by=user)


def test_two_exports_whose_names_slug_alike_never_share_a_file(german_root, tmp_path, kinews):
    first = write_export(tmp_path / "export (1).json", by(1, zurich_annotation(5)))
    second = write_export(tmp_path / "export-1.json", by(2, zurich_annotation(5)))
    assert kinews("ls", "import", first, "--root", german_root).exit_code == 0
    target = german_root / "annotations" / "ls-import-export-1.jsonl"
    before = tree(german_root)
    result = kinews("ls", "import", second, "--root", german_root)
    assert result.exit_code == 1, result.output
    assert (
        "annotations/ls-import-export-1.jsonl ls-file-foreign: holds 1 record(s) of the export "
        "'export (1).json', not of the export 'export-1.json'"
    ) in result.output
    assert tree(german_root) == before
    [record] = records(target)
    assert record["origin"]["export"] == "export (1).json"


def test_a_new_annotator_never_gets_a_pseudonym_the_roots_records_already_use(
    german_root, tmp_path, kinews
):
    # A clone: annotations/ holds annotator-01's record, the local map did not come along.
    write_export(tmp_path / "a.json", by(1, zurich_annotation(5)))
    assert kinews("ls", "import", tmp_path / "a.json", "--root", german_root).exit_code == 0
    (german_root / PSEUDONYMS_FILE).unlink()
    write_export(
        tmp_path / "b.json", by({"id": 7, "email": "ben@example.org"}, zurich_annotation(6))
    )
    assert kinews("ls", "import", tmp_path / "b.json", "--root", german_root).exit_code == 0
    [record] = records(german_root / "annotations" / "ls-import-b.jsonl")
    assert record["annotator"] == "annotator-02"


def test_an_annotation_arriving_twice_is_one_record_and_one_person_keeps_one_pseudonym(
    german_root, tmp_path, kinews
):
    # First with the user's e-mail (as `ls pull` sees it), then in the project's JSON export,
    # which names users by their Label Studio id only, with one annotation more.
    anna = {"id": 9, "email": "anna@example.org"}
    write_export(tmp_path / "pulled.json", by(anna, zurich_annotation(5)), project=3)
    assert kinews("ls", "import", tmp_path / "pulled.json", "--root", german_root).exit_code == 0
    export = write_export(
        tmp_path / "project-3-at-2026.json",
        by(9, zurich_annotation(5)),
        by(9, dict(zurich_annotation(8), result=[])),
        project=3,
    )
    result = kinews("ls", "import", export, "--root", german_root)
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output and "1 skipped (1 already in the root)" in result.output
    assert "skipped de-1 task 1 annotation 5: already in annotations/ls-import-pulled.jsonl:1" in (
        result.output
    )
    [new] = records(german_root / "annotations" / "ls-import-project-3-at-2026.jsonl")
    assert (new["origin"]["annotation"], new["annotator"]) == (8, "annotator-01")


# --- The gazetteer behind `push --predictions` ---------------------------------------------------


def gold(*spans: Span) -> Annotation:
    return Annotation("d", "0" * 64, "a", "gold", "2026-01-01T00:00:00Z", None, None, spans)


def test_the_gazetteer_matches_on_token_boundaries_longest_first():
    gazetteer = build_gazetteer(
        [
            gold(
                Span(0, 2, "TECH", "KI"),
                Span(3, 13, "ORG", "KI-Zentrum"),
                Span(0, 5, "LOC", "Kiel"),
            )
        ]
    )
    text = "Das KI-Zentrum in KIEL nutzt KI."
    assert match_gazetteer(text, gazetteer) == [
        Span(4, 14, "ORG", "KI-Zentrum"),
        Span(29, 31, "TECH", "KI"),
    ]
    assert gazetteer.version.startswith("kinews-gazetteer-")


def test_a_surface_with_two_gold_labels_is_left_out():
    gazetteer = build_gazetteer(
        [gold(Span(0, 6, "LOC", "Peking")), gold(Span(0, 6, "ORG", "Peking"))]
    )
    assert match_gazetteer("Peking fördert KI.", gazetteer) == []


# --- The commands without a server ---------------------------------------------------------------


def test_push_without_server_settings_says_which_variables_to_set(german_root, kinews, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    result = kinews("ls", "push", "--project", "p", "--root", german_root)
    assert result.exit_code == 1
    assert "ls-env-missing" in result.output


def test_an_unreachable_server_is_a_located_problem_that_never_shows_the_key(
    german_root, kinews, monkeypatch
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "secret-" + "0" * 33
    monkeypatch.setenv("LABEL_STUDIO_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", key)
    result = kinews("ls", "pull", "--project", "p", "--root", german_root)
    assert result.exit_code == 1
    assert "ls-server-error" in result.output
    assert key not in result.output


def test_serve_refuses_to_start_without_account_and_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    result = subprocess.run(
        [sys.executable, "-m", "kinews", "ls", "serve", "--data-dir", str(tmp_path / "ls")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "set LABEL_STUDIO_USERNAME in the environment" in result.stderr


def test_a_pull_imports_neither_the_validator_nor_the_release_modules():
    # Half a second of numpy and pyarrow, and a few tenths of the release modules' history and
    # declarations, at the start of every `kinews ls pull` and `push`.
    code = (
        "import sys, kinews.cli, kinews.labelstudio.sessions; "
        "print(sorted(m for m in sys.modules if m == 'numpy' or m.startswith('kinews.release.')))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_a_push_reads_ids_and_text_hashes_as_the_full_reader_would_or_leaves_it_to_it(seed_root):
    # A push with nothing to send reads only ids and text hashes (kinews.labelstudio.corpus);
    # a line the full reader would say anything about sends the push to the full reader.
    from kinews.labelstudio.corpus import corpus_texts
    from kinews.root import DOCUMENTS_FILE, load_documents

    corpus = seed_root / DOCUMENTS_FILE
    full = [
        (d.doc.id, hashlib.sha256(d.doc.text.encode()).hexdigest())
        for d in load_documents(seed_root)
    ]
    assert corpus_texts(seed_root) == full and full
    good = corpus.read_bytes()
    line = json.loads(good.splitlines()[0])
    for doubtful in (
        b"\xef\xbb\xbf" + good,  # a byte order mark
        good + json.dumps({**line, "id": "x", "extra": 1}).encode() + b"\n",  # an unknown field
        good + json.dumps({**line, "id": "x", "title": 3}).encode() + b"\n",  # a mistyped one
        good + json.dumps({**line, "id": "x", "text": "\ud800"}).encode() + b"\n",  # lone surrogate
        good + b"{not json\n",
    ):
        corpus.write_bytes(doubtful)
        assert corpus_texts(seed_root) is None
    corpus.unlink()
    assert corpus_texts(seed_root) == []


def test_an_incremental_pull_finds_documents_by_id_as_the_corpus_reader_reads_them(seed_root):
    # LazyDocuments (an incremental pull's corpus) splits lines where scan_jsonl does: at \n
    # only, so a text holding U+2028 (written as is) is still one line.
    from kinews.labelstudio.merge import LazyDocuments
    from kinews.root import DOCUMENTS_FILE, load_documents

    corpus = seed_root / DOCUMENTS_FILE
    line = json.loads(corpus.read_text("utf-8").splitlines()[0])
    other = {**line, "id": "de-separator", "text": "Zeile\u2028Absatz\u2029Ende"}
    with corpus.open("a", encoding="utf-8") as handle:
        handle.write("\n" + json.dumps(other, ensure_ascii=False) + "\n")
    full = {d.doc.id: d.doc for d in load_documents(seed_root)}
    lazy = LazyDocuments(corpus)
    assert sorted(lazy) == sorted(full) and "de-separator" in lazy
    assert all(lazy[doc_id] == doc for doc_id, doc in full.items())


@given(st.lists(st.sampled_from([b"", b" ", b"\t", b"\r", b"\x0c", b"{}", b' {"a": 1} ', b"\n"])))
def test_a_records_files_lines_are_numbered_as_the_json_lines_reader_numbers_them(pieces):
    # A pull splits the records file once, without a loop in Python when no line is blank.
    from kinews.labelstudio.merge import _numbered

    data = b"".join(pieces)
    expected = [(n, raw) for n, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
    assert _numbered(data) == expected
