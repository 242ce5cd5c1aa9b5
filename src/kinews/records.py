"""The records that cross module lines, and their JSON Lines form.

`Document`, `Span` and `Annotation` are frozen; every stage takes and returns them. Reading is
strict: a field of the wrong type is a located `KinewsError`, never a silent default. The lines
themselves are read and written by kinews.files; where a root keeps them is kinews.root.
"""

from __future__ import annotations

import json
import operator
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import msgspec

from kinews.errors import KinewsError, Problem, only_errors, render_span
from kinews.files import write_atomic

STATUSES = ("submitted", "gold")


def is_timestamp(value: object) -> bool:
    """Whether a record's `created_at` / `updated_at` is a timestamp (ISO 8601, as Python reads
    it): the validator's `timestamp-invalid` rule, and what `ls pull` and `import` accept."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


Presence = Literal["required", "nullable", "optional"]


@dataclass(frozen=True)
class Field:
    """One field of a JSON Lines record: its name, JSON type and whether it may be left out.

    `required`: the key and a value; `nullable`: the key, its value may be null; `optional`: the
    key may be absent (read as null). `omit_null`: written only when not null.
    """

    name: str
    type: type  # str, int, dict (a JSON object) or list (the spans)
    presence: Presence = "required"
    omit_null: bool = False


@dataclass(frozen=True)
class Contract:
    """The fields of one kind of record, in the order they are read and written."""

    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def having(self, *presence: Presence) -> tuple[str, ...]:
        """The names of the fields of these presences."""
        return tuple(f.name for f in self.fields if f.presence in presence)


# The record contract: each record's fields, declared once. The dataclasses below, the strict
# reader, the validator's msgspec structs, Arrow schemas and key probes are derived from it, and
# a test holds schemas/*.schema.json to it.
DOCUMENT = Contract(
    (
        Field("id", str),
        Field("text", str),
        Field("sha256", str),
        *(
            Field(name, str, "nullable")
            for name in ("language", "title", "source", "url", "published", "license")
        ),
        Field("notes", str, "optional"),
        # `group` is absent rather than null, so lines written before it existed keep their bytes.
        Field("group", str, "optional", omit_null=True),
    )
)
SPAN = Contract((Field("start", int), Field("end", int), Field("label", str), Field("text", str)))
ANNOTATION = Contract(
    (
        Field("doc_id", str),
        Field("doc_sha256", str),
        Field("annotator", str),
        Field("status", str),
        Field("created_at", str),
        Field("updated_at", str, "nullable"),
        Field("origin", dict, "nullable"),
        Field("spans", list),
    )
)


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    sha256: str
    language: str | None = "de"
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None
    license: str | None = None
    notes: str | None = None
    # Documents of one group (the same story in several outlets, a series) share a split.
    group: str | None = None


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    label: str
    text: str

    def render(self) -> str:
        return render_span(self.start, self.end, self.label, self.text)


@dataclass(frozen=True)
class Annotation:
    doc_id: str
    doc_sha256: str
    annotator: str
    status: str
    created_at: str
    updated_at: str | None
    origin: dict[str, Any] | None
    spans: tuple[Span, ...] = field(default=())


# Span order as a key of plain tuples: the same order as Span's own comparisons, which are
# Python calls (a build sorts every span of the corpus more than once).
_SPAN_ORDER = operator.attrgetter(*SPAN.names)


def sorted_spans(spans: Iterable[Span]) -> list[Span]:
    """`sorted(spans)`, faster."""
    return sorted(spans, key=_SPAN_ORDER)


for _record, _contract in ((Document, DOCUMENT), (Span, SPAN), (Annotation, ANNOTATION)):
    # The dataclasses are the typed face of the contract; they must not drift from it.
    assert tuple(_record.__dataclass_fields__) == _contract.names, _record


@dataclass(frozen=True)
class Located:
    """A record together with where it was read from (for error messages)."""

    file: str
    line: int


@dataclass(frozen=True)
class LocatedDocument(Located):
    doc: Document


@dataclass(frozen=True)
class LocatedAnnotation(Located):
    ann: Annotation


def _struct(name: str, contract: Contract, kinds: dict[type, Any]) -> Any:
    """A msgspec Struct of the contract's fields, for lines known to hold valid records.

    `kinds`: the msgspec type of each of the contract's Python types."""
    fields: list[Any] = []
    for f in contract.fields:
        kind = kinds[f.type] if f.presence == "required" else kinds[f.type] | None
        fields.append((f.name, kind, None) if f.presence == "optional" else (f.name, kind))
    return msgspec.defstruct(name, fields)


# Decoding straight into these is several times faster than json plus the checks of the strict
# readers below, which is worth it where the validator has already checked every line
# (`kinews.root.read_checked`); msgspec refuses anything else (a wrong type, a bool for an int).
SPAN_STRUCT = _struct("SpanStruct", SPAN, {int: int, str: str})
DOCUMENT_STRUCT = _struct("DocumentStruct", DOCUMENT, {str: str})
ANNOTATION_STRUCT = _struct(
    "AnnotationStruct",
    ANNOTATION,
    {str: str, dict: dict[str, Any], list: types.GenericAlias(list, (SPAN_STRUCT,))},
)


def document_of(value: Any) -> Document:
    """The Document a DOCUMENT_STRUCT value holds."""
    return Document(*msgspec.structs.astuple(value))


def annotation_of(value: Any) -> Annotation:
    """The Annotation an ANNOTATION_STRUCT value holds."""
    *fields, spans = msgspec.structs.astuple(value)
    return Annotation(*[*fields, tuple(Span(*msgspec.structs.astuple(s)) for s in spans)])


def dumps(record: Document | Annotation) -> str:
    return json.dumps(to_json(record), ensure_ascii=False)


def to_json(record: Document | Annotation) -> dict[str, Any]:
    """The record's JSON object, its keys in contract order."""
    contract = DOCUMENT if isinstance(record, Document) else ANNOTATION
    obj = {
        f.name: getattr(record, f.name)
        for f in contract.fields
        if not (f.omit_null and getattr(record, f.name) is None)
    }
    if isinstance(record, Annotation):
        obj["spans"] = [{name: getattr(s, name) for name in SPAN.names} for s in record.spans]
    return obj


def write_jsonl(path: Path, records: Iterable[Document | Annotation]) -> None:
    write_atomic(path, "".join(dumps(r) + "\n" for r in records).encode("utf-8"))


# --- From JSON, strictly ------------------------------------------------------------------------


class _Fields:
    """Typed access to one JSON object, collecting located problems instead of raising at once."""

    def __init__(self, obj: Any, file: str, line: int, doc_id: str | None = None):
        self.obj = obj
        self.file, self.line, self.doc_id = file, line, doc_id
        self.problems: list[Problem] = []

    def problem(self, code: str, message: str, span: str | None = None) -> None:
        self.problems.append(Problem(self.file, self.line, self.doc_id, span, code, message))

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = True,
        nullable: bool = False,
    ) -> Any:
        if key not in self.obj:
            if required:
                self.problem("field-missing", f"required field {key!r} is missing")
            return None
        value = self.obj[key]
        if value is None and nullable:
            return None
        # bool is an int in Python; a JSON `true` is never a valid offset or count. Offsets
        # beyond 64 bits cannot be offsets into any text and do not fit the columnar tables.
        if (
            not isinstance(value, kind)
            or (isinstance(value, bool) and kind is int)
            or (kind is int and isinstance(value, int) and not -(2**63) <= value < 2**63)
        ):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(
                "field-type",
                f"field {key!r} must be {names}{' or null' if nullable else ''}, "
                f"got {json.dumps(value, ensure_ascii=False)[:40]}",
            )
            return None
        return value

    def unknown(self, known: Iterable[str], where: str = "") -> None:
        """Fields nobody reads are warned about: usually a typo of a known field."""
        extra = sorted(set(self.obj) - set(known))
        for key in extra:
            self.problems.append(
                Problem(
                    self.file,
                    self.line,
                    self.doc_id,
                    None,
                    "field-unknown",
                    f"{where}unknown field {key!r}; known fields: {', '.join(known)}",
                    "warning",
                )
            )


DOCUMENT_REQUIRED = DOCUMENT.having("required")
DOCUMENT_NULLABLE = DOCUMENT.having("nullable")
DOCUMENT_OPTIONAL = DOCUMENT.having("optional")  # may be absent; null when present and unknown
ANNOTATION_FIELDS = ANNOTATION.names
SPAN_FIELDS = SPAN.names


def document_from_json(obj: Any, file: str, line: int) -> Document:
    """Build a Document from one parsed JSON line. Raises KinewsError naming file and line."""
    doc, problems = read_document(obj, file, line)
    if doc is None:
        raise KinewsError(only_errors(problems))
    return doc


def read_document(obj: Any, file: str, line: int) -> tuple[Document | None, list[Problem]]:
    """A Document (None when a field is missing or mistyped) and every problem of the line."""
    values, failed, problems = _document_fields(obj, file, line)
    return (None if failed or values is None else Document(**values)), problems


def readable_fields(
    obj: Any, kind: Literal["documents", "records"], file: str, line: int
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Every readable field of a line's record (a missing or mistyped one is None; of a record's
    spans only the readable ones), and every problem of the line; None if it is no object.

    So a validator checks what can still be checked of a broken record.
    """
    if kind == "documents":
        values, _, problems = _document_fields(obj, file, line)
        return values, problems
    values, spans, _, problems = _annotation_fields(obj, file, line)
    if values is None:
        return None, problems
    return {**values, "spans": [{n: getattr(s, n) for n in SPAN.names} for s in spans]}, problems


def _document_fields(obj: Any, file: str, line: int) -> tuple[dict | None, bool, list[Problem]]:
    if not isinstance(obj, dict):
        return None, True, [_not_object(file, line)]
    f = _Fields(obj, file, line, obj.get("id") if isinstance(obj.get("id"), str) else None)
    values = {
        x.name: f.get(
            x.name, x.type, required=x.presence != "optional", nullable=x.presence != "required"
        )
        for x in DOCUMENT.fields
    }
    failed = bool(f.problems)
    f.unknown(DOCUMENT.names)
    return values, failed, f.problems


def _not_object(file: str, line: int) -> Problem:
    return Problem(file, line, None, None, "line-not-object", "line is not a JSON object")


def annotation_from_json(obj: Any, file: str, line: int) -> Annotation:
    """Build an Annotation from one parsed JSON line. Raises KinewsError naming file and line."""
    ann, problems = read_annotation(obj, file, line)
    if ann is None:
        raise KinewsError(only_errors(problems))
    return ann


def read_annotation(obj: Any, file: str, line: int) -> tuple[Annotation | None, list[Problem]]:
    """An Annotation (None when a field is missing or mistyped) and every problem of the line."""
    values, spans, failed, problems = _annotation_fields(obj, file, line)
    if failed or values is None:
        return None, problems
    return Annotation(**values, spans=tuple(spans)), problems


def _annotation_fields(
    obj: Any, file: str, line: int
) -> tuple[dict[str, Any] | None, list[Span], bool, list[Problem]]:
    if not isinstance(obj, dict):
        return None, [], True, [_not_object(file, line)]
    f = _Fields(obj, file, line, obj.get("doc_id") if isinstance(obj.get("doc_id"), str) else None)
    values = {
        x.name: f.get(x.name, x.type, nullable=x.presence == "nullable")
        for x in ANNOTATION.fields
        if x.name != "spans"
    }
    raw_spans = f.get("spans", list) or []
    spans = []
    for index, raw in enumerate(raw_spans):
        if not isinstance(raw, dict):
            f.problem("field-type", f"spans[{index}] must be an object")
            continue
        sf = _Fields(raw, file, line, f.doc_id)
        got = {x.name: sf.get(x.name, x.type) for x in SPAN.fields}
        text = got["text"]
        failed = bool(sf.problems)
        sf.unknown(SPAN_FIELDS)
        if sf.problems:  # only then: a build reads millions of good spans
            # Show the span as written, even when a field has the wrong type.
            shown = (
                f"{json.dumps(raw.get('start'))}-{json.dumps(raw.get('end'))}"
                f"[{raw.get('label')}]" + (f' "{text}"' if text is not None else "")
            )
            f.problems.extend(
                Problem(
                    p.file,
                    p.line,
                    p.doc_id,
                    shown,
                    p.code,
                    f"spans[{index}]: {p.message}",
                    p.severity,
                )
                for p in sf.problems
            )
        if not failed:
            spans.append(Span(**got))
    failed = bool(only_errors(f.problems))
    f.unknown(ANNOTATION_FIELDS)
    return values, spans, failed, f.problems
