"""Label Studio JSON in and out: the only module that knows its shapes.

Out: the labelling config derived from the scheme, and one task per document. In: tasks with
annotations, from the API or from the UI's exports (JSON list or single task, JSON_MIN, pre-1.0
`completions`), converted into `Annotation` records. A span is taken from its offsets and the
corpus text, never from the tool's `value.text` (Label Studio collapses whitespace runs there);
`value.text` only serves to prove that the offsets point where the annotator looked.

Label Studio 1.23 stores offsets in code points, like kinews. Tools written in JavaScript count
UTF-16 code units instead; `utf16_to_code_points` is the one place that converts.

Status: every converted annotation is `submitted`. Label Studio's `ground_truth` flag is kept in
`origin` but does not make a record `gold`: any manager can toggle it, several annotations of a
task may carry it, and in kinews `gold` is what adjudication decides (`kinews adjudicate` takes a
ground-truth record as it stands and reports conflicting ones).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from kinews.errors import KinewsError, Problem, render_span
from kinews.records import Annotation, Document, Span, is_timestamp
from kinews.scheme import Scheme

TOOL = "label-studio"
CONTROL = "label"  # the names of Label Studio's own NER template
OBJECT = "text"
Offsets = Literal["code-points", "utf-16"]
Annotator = Callable[[dict[str, Any]], str]


def label_config(scheme: Scheme) -> str:
    """The labelling config for `scheme`: one Labels control over one Text object.

    Raises KinewsError (`scheme-invalid`) for a label without a hotkey.
    """
    lines = ["<View>", f'  <Labels name="{CONTROL}" toName="{OBJECT}">']
    for label in scheme.labels:
        if not label.hotkey:
            raise KinewsError.single(
                "scheme-invalid", f"label {label.name} needs a hotkey for Label Studio"
            )
        attributes = {"value": label.name, "hotkey": label.hotkey, "background": label.color}
        rendered = " ".join(f"{k}={_attribute(v)}" for k, v in attributes.items() if v)
        lines.append(f"    <Label {rendered}/>")
    lines += ["  </Labels>", f'  <Text name="{OBJECT}" value="${OBJECT}"/>', "</View>"]
    return "\n".join(lines) + "\n"


def _attribute(value: str) -> str:
    from xml.sax.saxutils import escape  # (it imports urllib.request: a pull needs neither)

    return '"' + escape(value, {'"': "&quot;"}) + '"'


def config_labels(config: str) -> list[str]:
    """The label values of every Labels control in a labelling config, in order."""
    root = ElementTree.fromstring(config)
    return [
        label.attrib["value"]
        for labels in root.iter("Labels")
        for label in labels.iter("Label")
        if "value" in label.attrib
    ]


def same_config(a: str, b: str) -> bool:
    """Whether two labelling configs are the same XML (Label Studio reformats what it stores)."""
    return ElementTree.canonicalize(a, strip_text=True) == ElementTree.canonicalize(
        b, strip_text=True
    )


def document_task(doc: Document) -> dict[str, Any]:
    """The task data Label Studio shows for one document."""
    return {"doc_id": doc.id, "text": doc.text, "title": doc.title, "sha256": doc.sha256}


def prediction(spans: Iterable[Span], model_version: str) -> dict[str, Any]:
    """A pre-annotation in the shape of the labelling config."""
    return {"model_version": model_version, "result": [_result(s) for s in spans]}


def _result(span: Span) -> dict[str, Any]:
    value = {"start": span.start, "end": span.end, "text": span.text, "labels": [span.label]}
    return {"from_name": CONTROL, "to_name": OBJECT, "type": "labels", "value": value}


# --- Offsets ------------------------------------------------------------------------------------


def code_points_to_utf16(text: str, offset: int) -> int:
    """The UTF-16 code unit offset of code point `offset` in `text`."""
    return len(text[:offset].encode("utf-16-le")) // 2


def utf16_to_code_points(text: str, offset: int) -> int:
    """The code point offset of UTF-16 code unit `offset` in `text`.

    Raises ValueError for an offset outside the text or between the halves of a surrogate pair.
    """
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            raise ValueError(f"UTF-16 offset {offset} splits the character {char!r}")
    if units == offset:
        return len(text)
    raise ValueError(f"UTF-16 offset {offset} is beyond the text ({units} code units)")


# --- Tasks → records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    records: tuple[Annotation, ...]
    skipped: tuple[tuple[str, str], ...]  # (which, reason), e.g. ("task 3 annotation 7", …)


@dataclass(frozen=True)
class Options:
    """How tasks map onto the corpus; the defaults fit tasks pushed by kinews."""

    text_key: str = "text"
    labels: Mapping[str, str] | None = None  # tool label -> scheme label, for foreign projects
    offsets: Offsets = "code-points"
    match_text: bool = False  # tasks without data.doc_id: find the document with the same text
    drafts: bool = False
    created_at: str | None = None  # for annotations that carry no timestamp (pre-1.0 exports)


class _Problems:
    """Collects located problems; every message starts with the task, annotation and region."""

    def __init__(self, file: str | None):
        self.file = file
        self.found: list[Problem] = []

    def problem(
        self, code: str, where: str, message: str, doc_id: Any = None, span: str | None = None
    ) -> None:
        doc = doc_id if isinstance(doc_id, str) else None
        self.found.append(Problem(self.file, None, doc, span, code, f"{where}: {message}"))


def convert_tasks(
    tasks: Iterable[dict[str, Any]],
    docs: Mapping[str, Document],
    scheme: Scheme,
    annotator: Annotator,
    origin: Mapping[str, Any],
    options: Options = Options(),
    file: str | None = None,
) -> Conversion:
    """Records for every annotation of `tasks`, checked against the corpus documents.

    Raises KinewsError listing every task, annotation and span that does not fit.
    """
    by_text = {doc.text: doc for doc in docs.values()} if options.match_text else {}
    records: list[Annotation] = []
    skipped: list[tuple[str, str]] = []
    report = _Problems(file)
    for task in tasks:
        where = f"task {_shown(task.get('id'))}"
        raw_data = task.get("data")
        data = raw_data if isinstance(raw_data, dict) else {}
        doc = _task_document(data, docs, by_text, options.text_key, where, report)
        if doc is None:
            continue
        lists = {
            key: _objects(task, key, where, report)
            for key in ("predictions", "annotations", "completions", "drafts")
        }
        skipped += [(where, "prediction (not an annotation)") for _ in lists["predictions"]]
        items = [("annotation", a) for a in lists["annotations"] or lists["completions"]]
        for draft in lists["drafts"]:
            if not options.drafts:
                skipped.append((f"{where} draft {_shown(draft.get('id'))}", "draft (use --drafts)"))
            elif draft.get("annotation") is not None:
                skipped.append(
                    (f"{where} draft {_shown(draft.get('id'))}", "draft of a submitted one")
                )
            else:
                items.append(("draft", draft))
        for kind, item in items:
            which = f"{where} {kind} {_shown(item.get('id'))}"
            if item.get("was_cancelled"):
                skipped.append((which, "cancelled"))
                continue
            spans, other = _spans(item, doc, scheme, options, which, report)
            skipped += [(which, f"result of type {t!r} (not a span)") for t in other]
            created_at = item.get("created_at") or options.created_at
            if not created_at:
                message = "has no created_at (pass --created-at)"
                report.problem("ls-annotation-invalid", which, message, doc.id)
                continue
            # The validator's timestamp rule, so that no record is written that it refuses.
            stamps = {"created_at": created_at, "updated_at": item.get("updated_at")}
            if not all(v is None or is_timestamp(v) for v in stamps.values()):
                # Imported here: kinews.validate loads numpy and pyarrow, half a second a pull.
                from kinews.validate.rules import RULES

                message = RULES["timestamp-invalid"].message(stamps)
                report.problem("timestamp-invalid", which, message, doc.id)
                continue
            record_origin = {
                "tool": TOOL,
                **origin,
                "project": task.get("project", origin.get("project")),
                "task": task.get("id"),
                "annotation": item.get("id") if kind == "annotation" else None,
                **({"draft": item.get("id")} if kind == "draft" else {}),
                "lead_time": item.get("lead_time"),
                "ground_truth": bool(item.get("ground_truth", False)),
            }
            records.append(
                Annotation(
                    doc_id=doc.id,
                    doc_sha256=doc.sha256,
                    annotator=annotator(item),
                    status="submitted",
                    created_at=created_at,
                    updated_at=item.get("updated_at"),
                    origin=record_origin,
                    spans=tuple(sorted(spans)),
                )
            )
    if report.found:
        raise KinewsError(report.found)
    return Conversion(tuple(records), tuple(skipped))


def _objects(task: dict[str, Any], key: str, where: str, report: _Problems) -> list[Any]:
    """The task's list under `key` (none when missing); anything but a list of objects is a
    problem of the task, reported once. Label Studio's own JSON export lists a task's
    predictions by id, so those may be ids as well."""
    value = task.get(key)
    if value is None:
        return []
    ids_too = key == "predictions"
    if isinstance(value, list):
        odd = [
            v
            for v in value
            if not isinstance(v, dict) and not (ids_too and type(v) is int)  # bool is no id
        ]
        if not odd:
            return value
        shown = f"a list holding a {_kind(odd[0])}"
    else:
        shown = f"a {_kind(value)}"
    wanted = "a list of objects or ids" if ids_too else "a list of objects"
    report.problem("ls-export-invalid", where, f"`{key}` must be {wanted}, not {shown}")
    return []


def _kind(value: object) -> str:
    """A JSON value's type, as the JSON spec names them."""
    if value is None:
        return "null"
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "list"}
    return names.get(type(value), "object")


def _shown(value: object, limit: int = 40) -> str:
    """An id as a message shows it: short, whatever the export put there."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, int | str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def skipped_task(which: str) -> str:
    """The task id a `Conversion.skipped` entry names (every entry starts `task <id>`)."""
    return which.split(" ", 2)[1] if which.startswith("task ") else which


def _task_document(
    data: dict[str, Any],
    docs: Mapping[str, Document],
    by_text: Mapping[str, Document],
    text_key: str,
    where: str,
    report: _Problems,
) -> Document | None:
    text, doc_id = data.get(text_key), data.get("doc_id")
    if not isinstance(text, str):
        report.problem("ls-task-invalid", where, f"task data has no string {text_key!r}", doc_id)
    elif doc_id is None and text in by_text:
        return by_text[text]
    elif doc_id is None:
        hint = "" if by_text else " (or pass --match-text to find documents by their text)"
        report.problem("ls-doc-unknown", where, f"no corpus document for this task{hint}")
    elif doc_id not in docs:
        report.problem("ls-doc-unknown", where, "the document is not in the corpus", doc_id)
    elif docs[doc_id].text != text:
        message = "the task's text differs from the corpus document (push --update-changed)"
        report.problem("ls-text-mismatch", where, message, doc_id)
    else:
        return docs[doc_id]
    return None


def _spans(
    item: dict[str, Any],
    doc: Document,
    scheme: Scheme,
    options: Options,
    which: str,
    report: _Problems,
) -> tuple[list[Span], list[object]]:
    spans: list[Span] = []
    # The `type` of each result that is not a span: any JSON value, None when it is missing.
    other: list[object] = []
    known = set(scheme.label_names)
    results = item.get("result")
    if results is not None and not isinstance(results, list):
        message = f"`result` must be a list of regions, not a {_kind(results)}"
        report.problem("ls-result-invalid", which, message, doc.id)
        results = None
    for result in results or ():
        if not isinstance(result, dict) or result.get("type") != "labels":
            kind = result.get("type") if isinstance(result, dict) else _kind(result)
            other.append(kind if isinstance(kind, str) or kind is None else _shown(kind))
            continue
        value = result.get("value")
        # Where and what are spelled only in a problem (300,000 spans a pull at 10,000 tasks).
        if not isinstance(value, dict):
            message = f"`value` must be an object with start, end and labels, not {_shown(value)}"
            report.problem("ls-result-invalid", _region(which, result), message, doc.id)
            continue
        start, end, labels = value.get("start"), value.get("end"), value.get("labels")
        shown = value.get("text") if isinstance(value.get("text"), str) else None
        if not (
            _is_int(start)
            and _is_int(end)
            and isinstance(labels, list)
            and len(labels) == 1
            and isinstance(labels[0], str)
        ):
            message = f"needs integer start/end and one label, got {_shown(value, 120)}"
            report.problem("ls-result-invalid", _region(which, result), message, doc.id)
            continue
        label = (options.labels or {}).get(labels[0], labels[0])
        if options.offsets == "utf-16":
            try:
                start, end = (utf16_to_code_points(doc.text, o) for o in (start, end))
            except ValueError as err:
                rendered = render_span(start, end, label, shown)
                report.problem("ls-span-misfit", _region(which, result), str(err), doc.id, rendered)
                continue
        if label not in known:
            rendered = render_span(start, end, label, shown)
            message = f"label {labels[0]!r} is not in the scheme"
            report.problem("ls-label-unknown", _region(which, result), message, doc.id, rendered)
            continue
        if not 0 <= start < end <= len(doc.text):
            message = f"offsets outside the document (length {len(doc.text)})"
            rendered = render_span(start, end, label, shown)
            report.problem("ls-span-misfit", _region(which, result), message, doc.id, rendered)
            continue
        actual = doc.text[start:end]
        # Label Studio collapses whitespace runs in value.text: compare words, take the corpus'.
        if shown is not None and shown.split() != actual.split():
            message = f"offsets do not fit: the document has {actual!r} there"
            rendered = render_span(start, end, label, shown)
            report.problem("ls-span-misfit", _region(which, result), message, doc.id, rendered)
            continue
        spans.append(Span(start, end, label, actual))
    return spans, other


def _region(which: str, result: dict[str, Any]) -> str:
    return f"{which} region {_shown(result.get('id'))}"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
