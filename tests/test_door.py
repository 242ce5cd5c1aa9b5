"""What one command accepts, the next must not refuse; a gate that checks nothing does not pass
(issue 13: hardening at the door).

Every refusal is a located problem with the validator's own stable code, exit code 1 or 2,
never a traceback, and nothing is written.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, SEED_ID, tree


def assert_refused(result, code: str, *where: str, exit_code: int = 1) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if code in line]
    assert any(all(w in line for w in where) for line in lines), result.output


# --- 1. ingest and ls import check at the door ---------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"title": 5}, "field-type"),
        ({"group": ["a"]}, "field-type"),
        ({"language": True}, "field-type"),
        ({"language": "deutsch"}, "doc-language-invalid"),
        ({"id": "abc\n"}, "doc-id-invalid"),
        ({"id": 5}, "field-type"),
        ({"text": "Ein Text mit \x00 darin."}, "doc-text-control-char"),
        ({"text": "Ein Text mit \x1b[31m Farbe."}, "doc-text-control-char"),
        ({"text": " \n\t"}, "doc-text-empty"),
    ],
)
def test_ingest_refuses_at_the_door_what_validate_would_refuse_and_writes_nothing(
    empty_root, tmp_path, kinews, fields, code
):
    path = tmp_path / "articles.jsonl"
    good = {"id": "good-1", "text": "Ein guter Text."}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "id": "bad-1", **fields}) + "\n")
    result = kinews("ingest", path, "--root", empty_root)
    assert_refused(result, code, f"{path}:2")
    assert tree(empty_root / "corpus") == {}


def test_what_ingest_accepts_validate_accepts(empty_root, tmp_path, kinews):
    path = tmp_path / "articles.jsonl"
    article = {"id": "ok-1", "text": "Ein Text.", "title": "Titel", "group": "g", "language": "de"}
    path.write_text(json.dumps(article) + "\n")
    assert kinews("ingest", path, "--root", empty_root).exit_code == 0
    result = kinews("validate", "--root", empty_root)
    assert result.exit_code == 0, result.output


def seed_task(seed_root: Path, **annotation: object) -> dict:
    doc = json.loads((seed_root / "corpus" / "documents.jsonl").read_text("utf-8"))
    return {
        "id": 1,
        "data": {"text": doc["text"], "doc_id": SEED_ID},
        "annotations": [{"id": 7, "result": [], **annotation}],
    }


@pytest.mark.parametrize(
    "stamps",
    [
        {"created_at": 5},
        {"created_at": "yesterday"},
        {"created_at": "2026-01-01T00:00:00Z", "updated_at": "soon"},
    ],
)
def test_ls_import_refuses_a_timestamp_the_validator_refuses(seed_root, tmp_path, kinews, stamps):
    export = tmp_path / "export.json"
    export.write_text(json.dumps([seed_task(seed_root, **stamps)]))
    before = tree(seed_root / "annotations")
    result = kinews("ls", "import", export, "--root", seed_root)
    assert_refused(result, "timestamp-invalid", f"doc={SEED_ID}")
    assert tree(seed_root / "annotations") == before


# --- 2. validate reports every problem that can still be checked ----------------------------------


def gold_record(seed_root: Path) -> dict:
    return json.loads((seed_root / "annotations" / "gold.jsonl").read_text("utf-8"))


def write_records(seed_root: Path, *records: dict) -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (seed_root / "annotations" / "gold.jsonl").write_text(lines, "utf-8")


def test_a_field_type_on_one_span_does_not_hide_a_span_whitespace_on_another(seed_root, kinews):
    record = gold_record(seed_root)
    first, second = record["spans"][0], record["spans"][1]
    first["start"] = str(first["start"])  # field-type
    second["start"] -= 1  # now starts on the space before the word
    second["text"] = " " + second["text"]
    write_records(seed_root, record)
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "field-type", "annotations/gold.jsonl:1", f"doc={SEED_ID}")
    assert_refused(result, "span-whitespace", "annotations/gold.jsonl:1", f"doc={SEED_ID}")


def test_a_missing_field_does_not_hide_an_invalid_status_nor_make_the_document_unannotated(
    seed_root, kinews
):
    record = gold_record(seed_root)
    del record["doc_sha256"]
    record["status"] = "final"
    write_records(seed_root, record)
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "field-missing", "annotations/gold.jsonl:1", f"doc={SEED_ID}")
    assert_refused(result, "status-invalid", "annotations/gold.jsonl:1", f"doc={SEED_ID}")
    assert "doc-unannotated" not in result.output
    assert "doc-missing" not in result.output


def test_a_document_with_a_mistyped_title_still_has_its_text_checked_and_its_records(
    seed_root, kinews
):
    path = seed_root / "corpus" / "documents.jsonl"
    doc = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**doc, "title": 5, "language": "deutsch"}) + "\n", "utf-8")
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "field-type", "corpus/documents.jsonl:1", f"doc={SEED_ID}")
    assert_refused(result, "doc-language-invalid", "corpus/documents.jsonl:1", f"doc={SEED_ID}")
    assert "doc-missing" not in result.output


# --- 3. a CI gate that checks nothing does not pass ----------------------------------------------


def test_validate_refuses_a_root_without_a_corpus(empty_root, kinews):
    shutil.copy(REPO / "annotations" / "gold.jsonl", empty_root / "annotations" / "gold.jsonl")
    result = kinews("validate", "--root", empty_root)
    # 2: the check could not run at all (as without a scheme), not "the data has errors".
    assert_refused(result, "corpus-missing", "corpus/documents.jsonl", exit_code=2)


def test_validate_accepts_an_empty_corpus_file_a_new_repository_starts_with(empty_root, kinews):
    (empty_root / "corpus").mkdir()
    (empty_root / "corpus" / "documents.jsonl").write_bytes(b"")
    assert kinews("validate", "--root", empty_root).exit_code == 0


@pytest.mark.parametrize("folder", ["batch-2", "old/2025", "Adjudication"])
def test_records_in_a_sub_folder_of_annotations_are_reported_not_ignored(seed_root, kinews, folder):
    nested = seed_root / "annotations" / folder / "more.jsonl"
    nested.parent.mkdir(parents=True)
    shutil.copy(seed_root / "annotations" / "gold.jsonl", nested)
    result = kinews("validate", "--root", seed_root)
    assert_refused(result, "annotation-file-nested", f"annotations/{folder}/more.jsonl")


def test_the_adjudication_worklist_folder_is_not_reported_as_nested(seed_root, kinews):
    worklist = seed_root / "annotations" / "adjudication" / "worklist.jsonl"
    worklist.parent.mkdir()
    worklist.write_text("", "utf-8")
    result = kinews("validate", "--root", seed_root)
    assert result.exit_code == 0, result.output
    assert "annotation-file-nested" not in result.output


# --- 4. versions are canonical ASCII semantic versions, dates real calendar dates -----------------


@pytest.mark.parametrize(
    "version", ["00.1.0", "0.1.00", "\uff11.\uff10.\uff10", "0.2.0\n", "0.2.0-rc1", "v0.1.0"]
)
def test_build_refuses_a_version_that_is_not_a_canonical_semantic_version(
    seed_root, tmp_path, kinews, version
):
    result = kinews(
        "build", "--version", version, "--date", "2026-01-01", "--out", tmp_path / "dist",
        "--root", seed_root,
    )  # fmt: skip
    assert_refused(result, "version-invalid", repr(version))
    assert tree(seed_root / "releases") == {} and not (tmp_path / "dist").exists()


@pytest.mark.parametrize(
    "date", ["2026-02-30", "2026-13-45", "\uff12\uff10\uff12\uff16-01-01", "2026-1-1"]
)
def test_build_refuses_a_date_that_is_not_a_real_calendar_date(seed_root, tmp_path, kinews, date):
    result = kinews(
        "build", "--version", "0.1.0", "--date", date, "--out", tmp_path / "dist",
        "--root", seed_root,
    )  # fmt: skip
    assert_refused(result, "date-invalid", repr(date))
    assert tree(seed_root / "releases") == {} and not (tmp_path / "dist").exists()


def test_a_pre_release_changelog_heading_is_not_taken_as_a_release(seed_root, tmp_path, kinews):
    (seed_root / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [0.2.0-rc1] - 2026-01-02\n\n## [0.1.0] - 2026-01-01\n", "utf-8"
    )
    result = kinews("build", "--out", tmp_path / "dist", "--root", seed_root)
    assert_refused(result, "version-invalid", "CHANGELOG.md:3", "0.2.0-rc1")
    assert tree(seed_root / "releases") == {} and not (tmp_path / "dist").exists()


# --- 5. publish sends only the release the root records, and never through a link ----------------
# Against the local Hub stand-in (tests/hub_standin.py): the real Hub is out of reach.


@pytest.fixture
def built(seed_root: Path) -> Path:
    from kinews.release.build import build

    return build(seed_root, "0.1.0", seed_root / "dist").path


@pytest.fixture
def hub():
    from hub_standin import HubStandin

    with HubStandin("hf_" + secrets.token_hex(16)) as standin:
        yield standin


def publish(hub, root: Path, release: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": hub.token, "HF_HOME": str(root / ".hf")}
    return subprocess.run(
        [sys.executable, "-m", "kinews", "publish", str(release), "--repo-id", "org/kinews",
         "--root", str(root)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def renamed_copy(release: Path, version: str, *, edit_card: bool) -> Path:
    """The release copied to another version's folder name, SHA256SUMS regenerated."""
    from kinews.release.folder import CHECKSUMS, checksums, write_checksums

    copy = release.with_name(release.name.replace("0.1.0", version))
    shutil.copytree(release, copy)
    if edit_card:
        card = copy / "README.md"
        card.write_text(card.read_text("utf-8").replace("0.1.0", version), "utf-8")
    (copy / CHECKSUMS).unlink()
    write_checksums(copy, checksums(copy))
    return copy


def assert_refused_before_sending(result, hub, code: str, where: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert any(code in line and where in line for line in result.stderr.splitlines()), result.stderr
    assert [r for r in hub.requests if r.method != "GET"] == []


def test_publish_refuses_a_copy_renamed_to_an_unbuilt_version(seed_root, built, hub):
    copy = renamed_copy(built, "0.3.0", edit_card=True)
    result = publish(hub, seed_root, copy)
    assert_refused_before_sending(result, hub, "release-unrecorded", copy.name)


def test_publish_refuses_a_folder_whose_card_names_another_version(seed_root, built, hub):
    copy = renamed_copy(built, "0.3.0", edit_card=False)
    result = publish(hub, seed_root, copy)
    assert_refused_before_sending(result, hub, "release-version-mismatch", "README.md")


def test_publish_refuses_a_release_that_differs_from_its_record(seed_root, built, hub):
    from kinews.release.folder import CHECKSUMS, checksums, write_checksums

    (built / "GUIDELINES.md").write_text("rewritten after the build\n", "utf-8")
    (built / CHECKSUMS).unlink()
    write_checksums(built, checksums(built))
    result = publish(hub, seed_root, built)
    assert_refused_before_sending(result, hub, "release-record-mismatch", "GUIDELINES.md")


def test_publish_never_follows_a_symbolic_link_out_of_the_release(seed_root, built, hub, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the Hub\n", "utf-8")
    (built / "data" / "notes.txt").symlink_to(secret)
    result = publish(hub, seed_root, built)
    assert_refused_before_sending(result, hub, "release-symlink", "data/notes.txt")
    assert "not for the Hub" not in result.stdout + result.stderr


# --- 6. a span that cuts a grapheme cluster in two is warned about ------------------------------

SCIENTIST = "\U0001f469\u200d\U0001f52c"  # woman, ZWJ, microscope: one character to a reader
FLAG = "\U0001f1e9\U0001f1ea"  # D, E: the German flag
X_ACUTE = "x\u0301"  # no precomposed form: stays two code points under NFC


def corpus_with(root: Path, text: str, *spans: tuple[int, int]) -> None:
    from kinews.ingest import sha256_text

    doc = {"id": "g1", "text": text, "sha256": sha256_text(text), "language": "de"}
    doc |= {k: None for k in ("title", "source", "url", "published", "license")}
    (root / "corpus").mkdir(exist_ok=True)
    (root / "corpus" / "documents.jsonl").write_text(json.dumps(doc) + "\n", "utf-8")
    record = {
        "doc_id": "g1", "doc_sha256": doc["sha256"], "annotator": "annotator-01",
        "status": "gold", "created_at": "2026-11-28T10:00:00Z", "updated_at": None,
        "origin": None,
        "spans": [{"start": a, "end": b, "label": "MISC", "text": text[a:b]} for a, b in spans],
    }  # fmt: skip
    (root / "annotations" / "gold.jsonl").write_text(json.dumps(record) + "\n", "utf-8")


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        (f"Die Forscherin {SCIENTIST} arbeitet.", "woman without her microscope"),
        (f"Die Flagge {FLAG} weht.", "half a flag"),
        (f"Der Laut {X_ACUTE}a ist selten.", "a letter without its combining mark"),
    ],
)
def test_a_span_that_cuts_a_grapheme_cluster_gets_a_warning(empty_root, kinews, text, cut):
    cluster = next(c for c in (SCIENTIST, FLAG, X_ACUTE) if c in text)
    start = text.index(cluster)
    corpus_with(empty_root, text, (start, start + 1))
    result = kinews("validate", "--strict", "--root", empty_root)
    assert_refused(result, "span-partial-grapheme", "annotations/gold.jsonl:1", "doc=g1")
    assert "warning" in result.output
    assert kinews("validate", "--root", empty_root).exit_code == 0  # a warning, as partial-word


def test_a_span_holding_whole_clusters_gets_no_grapheme_warning(empty_root, kinews):
    text = f"Die Forscherin {SCIENTIST} zeigt {FLAG} und {X_ACUTE}."
    spans = [(text.index(c), text.index(c) + len(c)) for c in (SCIENTIST, FLAG, X_ACUTE)]
    corpus_with(empty_root, text, *spans)
    result = kinews("validate", "--root", empty_root)
    assert "span-partial-grapheme" not in result.output, result.output
