"""Records on disk: the JSON Schemas in schemas/, round trips, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO
from kinews.errors import KinewsError
from kinews.files import iter_jsonl, write_atomic
from kinews.records import (
    ANNOTATION,
    DOCUMENT,
    SPAN,
    Annotation,
    Document,
    Span,
    annotation_from_json,
    document_from_json,
    to_json,
    write_jsonl,
)

DOCUMENT_SCHEMA = json.loads((REPO / "schemas" / "document.schema.json").read_text("utf-8"))
ANNOTATION_SCHEMA = json.loads((REPO / "schemas" / "annotation.schema.json").read_text("utf-8"))


def test_the_json_schemas_name_exactly_the_record_fields():
    assert set(DOCUMENT_SCHEMA["properties"]) == set(Document.__dataclass_fields__)
    assert set(ANNOTATION_SCHEMA["properties"]) == set(Annotation.__dataclass_fields__)
    span_schema = ANNOTATION_SCHEMA["properties"]["spans"]["items"]
    assert set(span_schema["properties"]) == set(Span.__dataclass_fields__)


def test_the_repositorys_records_follow_the_json_schemas():
    for _, obj in iter_jsonl(REPO / "corpus" / "documents.jsonl"):
        jsonschema.validate(obj, DOCUMENT_SCHEMA)
    for path in sorted((REPO / "annotations").glob("*.jsonl")):
        for _, obj in iter_jsonl(path):
            jsonschema.validate(obj, ANNOTATION_SCHEMA)


texts = st.text(min_size=1)
optional = st.none() | st.text()


@given(
    st.builds(
        Document,
        id=st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z"),
        text=texts,
        sha256=st.text(),
        language=optional,
        title=optional,
        source=optional,
        url=optional,
        published=optional,
        license=optional,
        notes=optional,
    )
)
def test_a_document_survives_json_and_back(doc):
    line = json.dumps(to_json(doc), ensure_ascii=False)
    assert document_from_json(json.loads(line), "f", 1) == doc


spans = st.builds(
    Span,
    start=st.integers(0, 10**6),
    end=st.integers(0, 10**6),
    label=st.sampled_from(["PER", "TECH"]),
    text=st.text(),
)


@given(
    st.builds(
        Annotation,
        doc_id=st.text(),
        doc_sha256=st.text(),
        annotator=st.text(),
        status=st.sampled_from(["gold", "submitted"]),
        created_at=st.text(),
        updated_at=optional,
        origin=st.none() | st.dictionaries(st.text(), st.text()),
        spans=st.lists(spans).map(tuple),
    )
)
def test_an_annotation_survives_json_and_back(ann):
    line = json.dumps(to_json(ann), ensure_ascii=False)
    assert annotation_from_json(json.loads(line), "f", 1) == ann


def test_a_boolean_is_not_an_offset():
    raw = {
        "doc_id": "d",
        "doc_sha256": "x",
        "annotator": "a",
        "status": "gold",
        "created_at": "t",
        "updated_at": None,
        "origin": None,
        "spans": [{"start": True, "end": 3, "label": "PER", "text": "abc"}],
    }
    with pytest.raises(Exception, match="field-type"):
        annotation_from_json(raw, "f", 1)


def test_writes_are_atomic_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "corpus" / "documents.jsonl"
    write_jsonl(target, [Document("a", "x", "h")])
    before = target.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("kinews.files.os.replace", broken_replace)
    with pytest.raises(KinewsError, match="output-unwritable: cannot write here: disk full"):
        write_atomic(target, b"new content")
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["documents.jsonl"]


def test_the_json_schemas_hold_the_record_contract():
    """schemas/*.schema.json describe the fields declared once in kinews.records."""
    from kinews.records import ANNOTATION, DOCUMENT, SPAN

    json_types = {str: "string", int: "integer", dict: "object", list: "array"}
    span_schema = ANNOTATION_SCHEMA["properties"]["spans"]["items"]
    for schema, contract in (
        (DOCUMENT_SCHEMA, DOCUMENT),
        (ANNOTATION_SCHEMA, ANNOTATION),
        (span_schema, SPAN),
    ):
        assert list(schema["properties"]) == list(contract.names)
        assert set(schema["required"]) == set(contract.having("required", "nullable"))
        assert schema["additionalProperties"] is False
        for f in contract.fields:
            declared = schema["properties"][f.name]
            kinds = declared.get("type", "string")  # an `enum` of strings has no `type`
            kinds = set(kinds) if isinstance(kinds, list) else {kinds}
            expected = {json_types[f.type]} | ({"null"} if f.presence != "required" else set())
            assert kinds == expected, f.name


def test_files_kinews_writes_are_0644_in_folders_0755(tmp_path):
    # mkstemp's 0600 would keep corpus, annotations and releases from the rest of the team.
    import stat

    from kinews.files import write_atomic

    path = tmp_path / "new" / "folder" / "documents.jsonl"
    write_atomic(path, b"{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    write_atomic(path, b"{}\n{}\n")  # replacing keeps it readable too
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_counts_in_messages_agree_with_their_number():
    from kinews.errors import plural

    assert [plural(n, "document") for n in (0, 1, 2)] == [
        "0 documents",
        "1 document",
        "2 documents",
    ]


def test_the_validators_tables_take_their_record_columns_from_the_contract(seed_root):
    """The pandera columns of the records' own fields are derived from the contract: the same
    names, nullable where the contract allows null; the records table keeps a broken record's
    row (its missing or mistyped fields null, each already a located problem), so all of its
    columns may be null."""
    from kinews.scheme import load_scheme
    from kinews.validate.contracts import DocumentsTable, RecordsTable, spans_table_model

    spans = spans_table_model(load_scheme(seed_root))
    for model, contract in ((DocumentsTable, DOCUMENT), (RecordsTable, ANNOTATION), (spans, SPAN)):
        columns = model.to_schema().columns
        own = [f for f in contract.fields if f.name in columns]
        assert own, model
        for f in own:
            kept_broken = model is RecordsTable
            expected = kept_broken or f.presence != "required"
            assert columns[f.name].nullable == expected, (model, f.name)
    scalar = {f.name for f in ANNOTATION.fields if f.type in (str, int)}
    assert scalar <= set(RecordsTable.to_schema().columns)
