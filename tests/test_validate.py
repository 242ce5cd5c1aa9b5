"""Specification of `kinews validate`: every rule has a code, a case folder and a located report.

tests/cases/validate/base is a small valid dataset root (every label used, every document
annotated); every other folder there is named after the one problem code it must produce, and
holds the files it lays over the base.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import CASES, GOLDEN, REPO, SHARED
from kinews.ingest import normalise, sha256_text
from kinews.records import Annotation, Document, Span, to_json, write_jsonl
from kinews.root import read_checked, scan_annotations, scan_documents
from kinews.scheme import load_scheme
from kinews.validate import validate
from kinews.validate.rules import RULES
from kinews.validate.tables import read_documents, read_records

VALIDATE_CASES = CASES / "validate"
CASE_CODES = sorted(p.name for p in VALIDATE_CASES.iterdir() if p.name != "base")
# Reading problems (field-missing, line-not-json, ...) are errors, but for unknown fields.
SEVERITY = {"field-unknown": "warning", **{code: rule.severity for code, rule in RULES.items()}}


def careful_files(root: Path) -> tuple[str, ...]:
    """The files the fast reader handed to the careful one."""
    return read_documents(root).careful + read_records(root).careful


def case_root(code: str, into: Path) -> Path:
    """The base root with the case's files laid over it."""
    root = into / code
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(VALIDATE_CASES / "base", root, dirs_exist_ok=True)
    if code != "base":
        shutil.copytree(VALIDATE_CASES / code, root, dirs_exist_ok=True)
    return root


def test_the_base_case_is_valid(tmp_path, kinews):
    result = kinews("validate", "--strict", "--root", case_root("base", tmp_path))
    assert result.exit_code == 0, result.output
    assert "valid: no problems" in result.output


@pytest.mark.parametrize("code", CASE_CODES)
def test_each_case_yields_exactly_its_own_code(code, tmp_path):
    problems = validate(case_root(code, tmp_path))
    assert {p.code for p in problems} == {code}
    # A file that is read by no command is located by its name alone.
    assert all(p.file and (p.line or code == "annotation-file-nested") for p in problems)
    assert {p.severity for p in problems} == {SEVERITY.get(code, "error")}


@pytest.mark.parametrize("code", CASE_CODES)
def test_errors_exit_1_warnings_only_under_strict_and_infos_never(code, tmp_path, kinews):
    root = case_root(code, tmp_path)
    severity = SEVERITY.get(code, "error")
    assert kinews("validate", "--root", root).exit_code == (1 if severity == "error" else 0)
    strict = kinews("validate", "--strict", "--root", root).exit_code
    assert strict == (0 if severity == "info" else 1)


def test_every_rule_has_a_case_folder():
    assert set(RULES) <= set(CASE_CODES)


def test_the_report_over_all_cases_matches_the_golden_report(tmp_path, kinews):
    """Like UD's test log: any change in wording or location shows up as a diff."""
    report = []
    for code in CASE_CODES:
        result = kinews("validate", "--root", case_root(code, tmp_path))
        report.append(f"## {code}\n{result.stdout}")
    actual = "\n".join(report)
    golden = GOLDEN / "validate-cases.txt"
    if os.environ.get("KINEWS_UPDATE_GOLDEN"):
        golden.write_text(actual, "utf-8")
    assert actual == golden.read_text("utf-8")


def test_a_problem_line_names_file_line_document_span_and_rule(tmp_path, kinews):
    result = kinews("validate", "--root", case_root("span-text-mismatch", tmp_path))
    assert (
        'annotations/case.jsonl:1 doc=d1 span=21-27[LOC] "Beijing" span-text-mismatch: '
        "span text does not match the document, which has 'Peking' there"
    ) in result.stdout


def test_text_output_groups_by_file_and_counts_each_code(tmp_path, kinews):
    root = case_root("span-overlap", tmp_path)
    shutil.copytree(VALIDATE_CASES / "doc-unannotated", root, dirs_exist_ok=True)
    shutil.copytree(VALIDATE_CASES / "span-whitespace", root / "more", dirs_exist_ok=True)
    shutil.copy(root / "more" / "annotations" / "case.jsonl", root / "annotations" / "z.jsonl")
    result = kinews("validate", "--root", root)
    assert result.exit_code == 1
    assert result.stdout.split("\n\n") == [
        'annotations/case.jsonl:1 doc=d1 span=44-55[TECH] "Intelligenz" span-overlap: '
        "overlaps an earlier span of the same record; spans are flat",
        'annotations/z.jsonl:1 doc=d1 span=20-27[LOC] " Peking" span-whitespace: '
        "span starts or ends with whitespace; move the offsets onto the word",
        "corpus/documents.jsonl:3 doc=d3 info: doc-unannotated: no annotation record yet; "
        "it is left out of releases until annotated",
        "2 errors, 1 info\n"
        "  span-overlap: 1 error\n"
        "  span-whitespace: 1 error\n"
        "  doc-unannotated: 1 info\n",
    ]


def test_json_output_lists_every_problem_with_its_location(tmp_path, kinews):
    result = kinews("validate", "--format", "json", "--root", case_root("span-overlap", tmp_path))
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)
    assert problem == {
        "code": "span-overlap",
        "severity": "error",
        "file": "annotations/case.jsonl",
        "line": 1,
        "doc_id": "d1",
        "span": '44-55[TECH] "Intelligenz"',
        "message": "overlaps an earlier span of the same record; spans are flat",
    }


@pytest.mark.parametrize(
    ("code", "command"),
    [
        (
            "span-overlap",
            "::error file=annotations/case.jsonl,line=1,title=span-overlap::doc=d1 "
            'span=44-55[TECH] "Intelligenz" span-overlap: overlaps an earlier span of the same '
            "record; spans are flat",
        ),
        (
            "label-unused",
            "::warning file=schemas/labels.yaml,line=134,title=label-unused::label-unused: "
            "no span in any annotation has the label MISC",
        ),
        (
            "doc-unannotated",
            "::notice file=corpus/documents.jsonl,line=3,title=doc-unannotated::doc=d3 "
            "doc-unannotated: no annotation record yet; it is left out of releases until annotated",
        ),
    ],
)
def test_github_output_is_one_workflow_annotation_per_problem(code, command, tmp_path, kinews):
    result = kinews("validate", "--format", "github", "--root", case_root(code, tmp_path))
    assert result.stdout.splitlines()[0] == command


def test_github_output_escapes_what_would_end_a_workflow_command(tmp_path, kinews):
    root = case_root("base", tmp_path)
    (root / "annotations" / "a,b:c.jsonl").write_text('{"doc_id": "d1", "spans": [\n', "utf-8")
    result = kinews("validate", "--format", "github", "--root", root)
    assert result.stdout.splitlines()[0] == (
        "::error file=annotations/a%2Cb%3Ac.jsonl,line=1,title=line-not-json::line-not-json: "
        "line is not valid JSON: Expecting value (column 28)"
    )


def test_a_broken_line_does_not_hide_the_lines_after_it(tmp_path):
    problems = validate(case_root("line-not-json", tmp_path))
    assert [(p.file, p.line) for p in problems] == [("annotations/case.jsonl", 2)]


def test_usage_errors_exit_2(tmp_path, kinews):
    assert kinews("validate", "--format", "xml", "--root", tmp_path).exit_code == 2
    result = kinews("validate", "--root", tmp_path)  # no schemas/labels.yaml
    assert result.exit_code == 2
    assert "scheme-missing" in result.output


def test_an_empty_root_has_nothing_wrong_but_its_unused_labels(empty_root):
    (empty_root / "corpus").mkdir()
    (empty_root / "corpus" / "documents.jsonl").write_bytes(b"")
    (empty_root / "annotations").mkdir(exist_ok=True)
    (empty_root / "annotations" / "blank.jsonl").write_bytes(b"\n \n")
    problems = validate(empty_root)
    assert {(p.code, p.severity) for p in problems} == {("label-unused", "warning")}
    assert len(problems) == len(LABELS)


def test_the_repositorys_own_corpus_and_annotations_are_valid(kinews):
    result = kinews("validate", "--root", REPO)
    assert result.exit_code == 0, result.output
    assert not [p for p in validate(REPO) if p.severity == "error"]


# --- The CI gate --------------------------------------------------------------------------------


def test_the_workflow_runs_on_data_changes_and_its_command_passes_on_this_repository(tmp_path):
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "validate.yml").read_text("utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers["pull_request"]["paths"]) == {"corpus/**", "annotations/**", "schemas/**"}
    [command] = [
        step["run"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("name") == "kinews validate"
    ]
    assert command == "kinews validate --format github"
    for folder in ("corpus", "annotations", "schemas"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    result = _run_as_installed(command, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout


def test_the_pre_commit_hook_runs_the_same_command(tmp_path):
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert hook["id"] == "kinews-validate"
    assert hook["pass_filenames"] is False
    shutil.copytree(VALIDATE_CASES / "base", tmp_path, dirs_exist_ok=True)
    shutil.copytree(VALIDATE_CASES / "span-overlap", tmp_path, dirs_exist_ok=True)
    shutil.copytree(REPO / "schemas", tmp_path / "schemas")
    result = _run_as_installed(hook["entry"], tmp_path)
    assert result.returncode == 1
    assert "span-overlap" in result.stdout


def test_the_installed_command_writes_its_whole_report_before_it_ends(tmp_path):
    """`kinews validate` ends its process without the interpreter's teardown (cli.main): what
    it printed must all be there, and the exit code must be kept."""
    root = case_root("base", tmp_path)
    gold = root / "annotations" / "gold.jsonl"
    good = gold.read_text("utf-8").splitlines()
    wrong = good[0].replace('"text": "Peking"', '"text": "Peking "')
    body = [wrong.replace("annotator-01", f"annotator-{n:04d}") for n in range(2000)]
    gold.write_text("\n".join([*good[1:], *body, ""]), "utf-8")
    result = _run_as_installed("kinews validate --format json", root)
    assert result.returncode == 1, result.stderr
    reported = json.loads(result.stdout)
    assert len(result.stdout) > 100_000  # more than a pipe holds at once
    assert [p["code"] for p in reported] == [p.code for p in validate(root)]
    assert sum(p["code"] == "span-text-mismatch" for p in reported) == 2000


def _run_as_installed(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a `kinews ...` command line the way CI does, with this environment's kinews."""
    program, *args = shlex.split(command)
    assert program == "kinews"
    kinews = Path(sys.executable).parent / "kinews"
    return subprocess.run([str(kinews), *args], cwd=cwd, capture_output=True, text=True)


# --- The fast reader and the careful one --------------------------------------------------------


def test_reading_clean_files_imports_neither_pandas_nor_polars(tmp_path):
    """The fast readers run while `validate` imports polars and pandera, which imports pandas
    (≈0.4 s): a reader that imported either (pyarrow imports pandas to convert Python values)
    would wait for that import instead of parsing beside it."""
    root = case_root("base", tmp_path)
    script = (
        "import sys; from pathlib import Path; from kinews.validate.tables import read_documents, "
        "read_records; root = Path(sys.argv[1]); read_documents(root); read_records(root); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'polars')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_clean_file_takes_the_fast_path_and_blank_lines_keep_line_numbers(tmp_path):
    root = case_root("base", tmp_path)
    gold = root / "annotations" / "gold.jsonl"
    lines = gold.read_text("utf-8").splitlines()
    lines[1] = lines[1].replace('"text": "Zhongguancun"', '"text": "Zhongguancun "')
    gold.write_text("\n" + lines[0] + "\n  \n\t\n" + "\n".join(lines[1:]) + "\n\n", "utf-8")
    assert careful_files(root) == ()
    [problem] = validate(root)
    assert (problem.file, problem.line, problem.code) == (
        "annotations/gold.jsonl",
        5,
        "span-text-mismatch",
    )


def test_one_broken_line_in_a_large_file_hides_none_of_the_others(tmp_path):
    root = case_root("base", tmp_path)
    gold = root / "annotations" / "gold.jsonl"
    good = gold.read_text("utf-8").splitlines()
    body = [good[0].replace("annotator-01", f"annotator-{n:03d}") for n in range(200)]
    body[57] = body[57][:-1]  # cut off the closing brace
    body[120] = body[120].replace('"status": "gold"', '"status": "final"')
    body[150] = body[150].replace('"start": 21', '"start": "21"')
    gold.write_text("\n".join([*good[1:], "", *body, ""]), "utf-8")
    assert careful_files(root) == ("annotations/gold.jsonl",)
    found = [(p.line, p.code) for p in validate(root)]
    assert found == [(61, "line-not-json"), (124, "status-invalid"), (154, "field-type")]
    lines = read_records(root).table["line"].to_pylist()
    # The record with the mistyped span keeps its row (its other spans are checked); the line
    # that is not JSON has none.
    assert lines == [n for n in range(1, 204) if n not in (3, 61)]


def test_a_key_given_twice_is_read_as_json_reads_it_the_last_one_wins(tmp_path):
    root = case_root("base", tmp_path)
    gold = root / "annotations" / "gold.jsonl"
    good = gold.read_text("utf-8").splitlines()
    twice = good[0].replace('{"doc_id": "d1"', '{"doc_id": "d9", "doc_id": "d1"')
    gold.write_text("\n".join([twice, *good[1:], "{"]) + "\n", "utf-8")
    assert [(p.line, p.code) for p in validate(root)] == [(4, "line-not-json")]
    assert read_records(root).table["doc_id"].to_pylist() == ["d1", "d2", "d4"]


def _drop(key):
    return lambda r: {k: v for k, v in r.items() if k != key}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        # Arrow reads a missing key as null: the fast reader must not take these for nulls.
        (_drop("updated_at"), "field-missing"),
        (_drop("origin"), "field-missing"),
        (lambda r: {**_drop("updated_at")(r), "origin": {"updated_at": None}}, "field-missing"),
        (lambda r: {**r, "origin": "label studio"}, "field-type"),
        (lambda r: {**r, "spans": [None]}, "field-type"),
        (lambda r: {**r, "spans": [{**r["spans"][0], "end": 2**64}]}, "field-type"),
        (lambda r: {**r, "spans": [{**r["spans"][0], "end": 27.0}]}, "field-type"),
        (lambda r: {**r, "annotator": None}, "field-type"),
        (lambda r: {**r, "note": "x"}, "field-unknown"),
    ],
)
def test_what_the_fast_reader_cannot_tell_goes_to_the_careful_one(change, code, tmp_path):
    root = case_root("base", tmp_path)
    first = json.loads((root / "annotations" / "gold.jsonl").read_text("utf-8").splitlines()[0])
    ok = {**first, "annotator": "annotator-02", "status": "submitted"}
    ok["spans"] = [s for s in ok["spans"] if s["label"] == "LOC"]
    bad = change({**ok, "annotator": "annotator-03"})
    lines = [json.dumps(ok, ensure_ascii=False), json.dumps(bad, ensure_ascii=False)]
    (root / "annotations" / "more.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    assert careful_files(root) == ("annotations/more.jsonl",)
    assert [(p.file, p.line, p.code) for p in validate(root)] == [
        ("annotations/more.jsonl", 2, code)
    ]


def test_a_document_without_a_key_that_is_null_elsewhere_goes_to_the_careful_reader(tmp_path):
    # The fast reader counts the keys of nullable columns; a missing one must not pass as null.
    root = case_root("base", tmp_path)
    corpus = root / "corpus" / "documents.jsonl"
    lines = [json.loads(line) for line in corpus.read_text("utf-8").splitlines()]
    lines[1] = {k: v for k, v in lines[1].items() if k != "url"}
    corpus.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in lines), "utf-8")
    assert careful_files(root) == ("corpus/documents.jsonl",)
    assert [(p.file, p.line, p.code) for p in validate(root)] == [
        # The document keeps its row: its record does not lose it (no doc-missing).
        ("corpus/documents.jsonl", 2, "field-missing"),
    ]


def test_a_key_the_search_misses_is_still_found_and_read_fast(tmp_path):
    # `"\u0075rl"` is `"url"`: the search for the key misses it, and the exact probe settles it.
    root = case_root("base", tmp_path)
    corpus = root / "corpus" / "documents.jsonl"
    lines = corpus.read_text("utf-8").splitlines()
    lines[1] = lines[1].replace('"url": null', '"\\u0075rl": null')
    assert '"\\u0075rl": null' in lines[1]
    corpus.write_text("\n".join(lines) + "\n", "utf-8")
    assert careful_files(root) == ()
    assert validate(root) == []


def test_every_span_meets_its_own_document_across_the_streaming_engines_morsels(tmp_path):
    """The span facts are computed a morsel (~100,000 rows) at a time, on every core: 250,000
    spans must each be sliced from their own document, and a fault in the last morsel found
    at its own line."""
    root = tmp_path / "many"
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "corpus").mkdir()
    (root / "annotations").mkdir()
    words = ["Größe", "😀", "café", "Zürich", "🇩🇪", "naïve", "KI-Gesetz", "e\u0301"]
    docs, records = [], []
    for n in range(5000):
        tokens = [f"Meldung{n}", *(words[(n + i) % len(words)] for i in range(49))]
        text = normalise(" ".join(tokens))
        spans, start = [], 0
        for token in text.split(" "):
            spans.append({"start": start, "end": start + len(token), "label": "ORG", "text": token})
            start += len(token) + 1
        digest = sha256_text(text)
        unknown = dict.fromkeys(("title", "source", "url", "published", "license"))
        docs.append(
            {"id": f"kn-{n:016x}", "text": text, "sha256": digest, "language": "de", **unknown}
        )
        records.append(
            {
                "doc_id": f"kn-{n:016x}",
                "doc_sha256": digest,
                "annotator": "annotator-01",
                "status": "gold",
                "created_at": "2026-11-28T10:00:00Z",
                "updated_at": None,
                "origin": None,
                "spans": spans,
            }
        )
    records[4990]["spans"][45]["text"] = "Zurich"
    for name, rows in (("corpus/documents.jsonl", docs), ("annotations/gold.jsonl", records)):
        lines = (json.dumps(row, ensure_ascii=False) for row in rows)
        (root / name).write_text("\n".join(lines) + "\n", "utf-8")
    assert sum(len(r["spans"]) for r in records) == 250_000
    assert careful_files(root) == ()
    found = [(p.line, p.code, p.span) for p in validate(root) if p.severity == "error"]
    [span] = [s for s in records[4990]["spans"] if s["text"] == "Zurich"]
    assert found == [(4991, "span-text-mismatch", f'{span["start"]}-{span["end"]}[ORG] "Zurich"')]


@st.composite
def jsonl_layouts(draw, lines):
    """The lines with blank and whitespace-only lines drawn in between."""
    out = []
    for line in lines:
        out += draw(st.lists(st.sampled_from(["", " ", "\t", "  "]), max_size=2))
        out.append(line)
    return "\n".join(out) + draw(st.sampled_from(["", "\n", "\n\n"]))


# --- Properties ---------------------------------------------------------------------------------

LABELS = load_scheme(REPO).label_names
# Emoji, a ZWJ family, a flag, combining marks and umlauts: offsets are code points throughout.
ALPHABET = st.sampled_from(
    [*"abcÄöüß ,.\n\t", "😀", "👩\u200d👩\u200d👧", "🇩🇪", "e\u0301", "\u00e9", "ﬁ", "Ω", "1"]
)


@st.composite
def annotated_documents(draw):
    """A document and a valid record: spans are runs of whitespace-separated tokens of a line."""
    text = normalise("".join(draw(st.lists(ALPHABET, min_size=1, max_size=40))))
    if not text.strip():
        text = "x" + text
    tokens, start = [], None
    for index, char in enumerate(text + " "):
        if char.isspace() and start is not None:
            tokens.append((start, index))
            start = None
        elif not char.isspace() and start is None:
            start = index
    chosen = sorted(draw(st.sets(st.integers(0, len(tokens) - 1), max_size=6)))
    spans = []
    for first, last in zip(chosen[::2], chosen[1::2], strict=False):
        start, end = tokens[first][0], tokens[last][1]
        if "\n" not in text[start:end] and (not spans or spans[-1].end < start):
            spans.append(Span(start, end, draw(st.sampled_from(LABELS)), text[start:end]))
    doc = Document(id="doc-1", text=text, sha256=sha256_text(text), language="de")
    ann = Annotation(
        "doc-1",
        doc.sha256,
        "annotator-01",
        "gold",
        "2026-11-28T00:00:00Z",
        None,
        None,
        tuple(spans),
    )
    return doc, ann


def problems_for(doc: dict | Document, records: list[dict | Annotation]) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "schemas", root / "schemas")
        write_lines(root / "corpus" / "documents.jsonl", [doc])
        write_lines(root / "annotations" / "a.jsonl", records)
        return validate(root)


def write_lines(path: Path, records: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(r if isinstance(r, dict) else to_json(r), ensure_ascii=False) for r in records
    ]
    path.write_text("".join(line + "\n" for line in lines), "utf-8")


@settings(max_examples=40, deadline=None)
@given(annotated_documents())
def test_valid_records_validate_clean_but_for_the_labels_they_leave_unused(pair):
    doc, ann = pair
    problems = problems_for(doc, [ann])
    unused = {p.message.rsplit(" ", 1)[1] for p in problems if p.code == "label-unused"}
    assert {p.code for p in problems} <= {"label-unused"}
    assert unused == set(LABELS) - {s.label for s in ann.spans}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(annotated_documents(), st.data())
def test_both_readers_give_what_json_reads_wherever_the_blank_lines_are(pair, data):
    doc, ann = pair
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records = [to_json(ann), {**to_json(ann), "annotator": "annotator-02"}]
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        (root / "annotations").mkdir()
        (root / "annotations" / "a.jsonl").write_text(data.draw(jsonl_layouts(lines)), "utf-8")
        write_jsonl(root / "corpus" / "documents.jsonl", [doc])
        references = (_document_rows(root), _record_rows(root))
        for read, reference in zip((read_documents, read_records), references, strict=True):
            fast, careful = read(root), read(root, fast=False)
            assert fast.careful == ()
            assert len(careful.careful) == 1
            assert fast.table.to_pylist() == careful.table.to_pylist() == reference
            assert fast.problems == careful.problems == []


def _document_rows(root: Path) -> list[dict]:
    """What the `json`-based reader of kinews.records reads, as table rows."""
    docs, problems = scan_documents(root)
    assert problems == []
    return [
        {"file": d.file, "line": d.line, "id": d.doc.id, "text": d.doc.text}
        | {"sha256": d.doc.sha256, "language": d.doc.language}
        for d in docs
    ]


def _record_rows(root: Path) -> list[dict]:
    records, problems = scan_annotations(root)
    assert problems == []
    return [
        {"file": r.file, "line": r.line, "doc_id": r.ann.doc_id, "doc_sha256": r.ann.doc_sha256}
        | {"annotator": r.ann.annotator, "status": r.ann.status, "created_at": r.ann.created_at}
        | {"updated_at": r.ann.updated_at, "spans": [to_json_span(s) for s in r.ann.spans]}
        for r in records
    ]


def to_json_span(span: Span) -> dict:
    return {"start": span.start, "end": span.end, "label": span.label, "text": span.text}


def _first_span(doc: Document, ann: Annotation) -> Annotation:
    """The record, or with one span over the text's first token if it has none."""
    if ann.spans:
        return ann
    start = len(doc.text) - len(doc.text.lstrip())
    end = start + len(doc.text[start:].split()[0])
    return _with(ann, spans=(Span(start, end, LABELS[0], doc.text[start:end]),))


def _with(ann: Annotation, **changes) -> Annotation:
    fields = {name: getattr(ann, name) for name in Annotation.__dataclass_fields__}
    return Annotation(**{**fields, **changes})


def _span_change(change):
    def corrupt(doc, ann, index):
        spans = list(ann.spans)
        spans[index] = change(doc, spans[index])
        return doc, [_with(ann, spans=tuple(spans))]

    return corrupt


def _add_span(make):
    def corrupt(doc, ann, index):
        return doc, [_with(ann, spans=(*ann.spans, make(ann.spans[index])))]

    return corrupt


def _json_change(change):
    def corrupt(doc, ann, index):
        record = to_json(ann)
        change(record, index)
        return doc, [record]

    return corrupt


def _widen_to_whitespace(doc, span):
    end = span.end
    assume(end < len(doc.text) and doc.text[end] in " \t")
    return Span(span.start, end + 1, span.label, doc.text[span.start : end + 1])


CORRUPTIONS = {
    "span-out-of-bounds": _span_change(
        lambda doc, s: Span(len(doc.text) + 1, len(doc.text) + 2, s.label, "x")
    ),
    "span-empty": _span_change(lambda doc, s: Span(s.end, s.end, s.label, "")),
    "span-text-mismatch": _span_change(lambda doc, s: Span(s.start, s.end, s.label, s.text + "x")),
    "label-unknown": _span_change(lambda doc, s: Span(s.start, s.end, "NOPE", s.text)),
    "span-whitespace": _span_change(_widen_to_whitespace),
    "span-duplicate": _add_span(lambda s: s),
    "span-overlap": _add_span(
        lambda s: Span(s.start, s.end, next(x for x in LABELS if x != s.label), s.text)
    ),
    "annotation-stale": lambda doc, ann, i: (doc, [_with(ann, doc_sha256=sha256_text("x"))]),
    "status-invalid": lambda doc, ann, i: (doc, [_with(ann, status="accepted")]),
    "timestamp-invalid": lambda doc, ann, i: (doc, [_with(ann, created_at="gestern")]),
    "annotator-duplicate": lambda doc, ann, i: (doc, [ann, ann]),
    "doc-sha256-mismatch": lambda doc, ann, i: (
        Document(**{**to_json(doc), "sha256": sha256_text("x")}),
        [ann],
    ),
    "doc-language-invalid": lambda doc, ann, i: (
        Document(**{**to_json(doc), "language": "Deutsch"}),
        [ann],
    ),
    "field-missing": _json_change(lambda r, i: r.pop("annotator")),
    "field-type": _json_change(
        lambda r, i: r["spans"][i].update(start=str(r["spans"][i]["start"]))
    ),
    "field-unknown": _json_change(lambda r, i: r["spans"][i].update(score=1.0)),
}
# What a corruption may bring along besides its own code (never anything else):
CONSEQUENCES = {
    # a record that cannot be read leaves its document without annotation and its labels unused
    "field-missing": {"doc-unannotated"},
    "field-type": {"doc-unannotated"},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(annotated_documents(), st.sampled_from(sorted(CORRUPTIONS)), st.data())
def test_any_single_corruption_is_caught_with_its_code(pair, code, data):
    doc, ann = pair
    ann = _first_span(doc, ann)
    index = data.draw(st.integers(0, len(ann.spans) - 1))
    corrupted_doc, records = CORRUPTIONS[code](doc, ann, index)
    found = {p.code for p in problems_for(corrupted_doc, records)} - {"label-unused"}
    assert code in found
    assert found <= {code} | CONSEQUENCES.get(code, set())


# --- The benchmark's corpus ---------------------------------------------------------------------


@pytest.mark.skipif(
    not (SHARED / "data" / "10kgnad" / "test.csv").exists(), reason="needs ../shared/data"
)
def test_the_benchmark_corpus_is_valid_and_read_by_the_fast_path(tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from bench_validate import generate
    finally:
        sys.path.remove(str(REPO / "scripts"))
    spans = generate(tmp_path / "bench", 50)
    assert spans > 50 * 10
    assert careful_files(tmp_path / "bench") == ()
    errors = [p for p in validate(tmp_path / "bench") if p.severity != "info"]
    assert errors == []


@pytest.mark.parametrize("code", ["base", *CASE_CODES])
def test_records_decoded_by_msgspec_are_the_strict_readers_wherever_the_check_passes(
    code, tmp_path
):
    """load_valid takes the records from `read_checked` when the check finds no error: then
    they must be exactly what the strict readers give (which it keeps for every other case)."""
    root = case_root(code, tmp_path)
    if any(p.severity == "error" for p in validate(root)):
        return
    assert read_checked(root) == (scan_documents(root)[0], scan_annotations(root)[0])


def test_the_repository_s_records_decoded_by_msgspec_are_the_strict_readers():
    assert read_checked(REPO) == (scan_documents(REPO)[0], scan_annotations(REPO)[0])
