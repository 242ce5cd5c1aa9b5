"""Specification of a release: three configs, stable splits, recorded versions, card, Croissant."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import datasets.config
import mlcroissant as mlc
import pytest
import yaml
from datasets import load_dataset, load_dataset_builder
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, SEED_ID, ingest_rows, tree, write_records
from kinews.dataset import load_dataset_declaration
from kinews.records import Document, Span
from kinews.release.build import current_version
from kinews.release.card import NOT_MEASURED, render_card
from kinews.release.card_facts import CardFacts, ChangelogEntry, Sources
from kinews.release.configs import CONFIGS, features_of
from kinews.release.datasheet import annotation_facts
from kinews.release.splits import SPLITS, assign_split, assign_splits, placements
from kinews.scheme import load_scheme
from kinews.tokens import Sentence, Token, bio_to_spans

DATE = "2026-12-01"


def card_header(release: Path) -> dict:
    return yaml.safe_load((release / "README.md").read_text("utf-8").split("---\n")[1])


def add_articles(root: Path, tmp_path: Path, kinews, ids: list[str], group: str | None = None):
    """Ingest one short article per id and annotate each with two spans (one record each)."""
    rows = [{"id": i, "text": f"Peking fördert KI. Artikel {i} am 20. März."} for i in ids]
    if group is not None:
        rows = [dict(r, group=group) for r in rows]
    sha256 = ingest_rows(root, kinews, rows)
    records = [
        {
            "doc_id": doc_id,
            "doc_sha256": sha256[doc_id],
            "annotator": "annotator-01",
            "status": "submitted",
            "created_at": "2026-11-28T00:00:00Z",
            "updated_at": None,
            "origin": {"tool": "label-studio", "lead_time": 12.5},
            "spans": [
                {"start": 0, "end": 6, "label": "LOC", "text": "Peking"},
                {"start": 15, "end": 17, "label": "TECH", "text": "KI"},
            ],
        }
        for doc_id in ids
    ]
    write_records(root / "annotations" / f"batch-{ids[0]}.jsonl", records)


def build(kinews, root: Path, version: str, out: Path, *extra: str):
    return kinews(
        "build", "--version", version, "--date", DATE, "--root", root, "--out", out, *extra
    )


def splits_of(release: Path, offline) -> dict[str, str]:
    docs = load_dataset(str(release), "documents", cache_dir=offline())
    return {doc_id: split for split in docs for doc_id in docs[split]["id"]}


@pytest.fixture
def spread_root(seed_root, tmp_path, kinews) -> Path:
    """The seed plus 30 short articles: every split has documents."""
    add_articles(seed_root, tmp_path, kinews, [f"doc-{i:03d}" for i in range(30)])
    return seed_root


# --- configs ------------------------------------------------------------------------------------


def test_every_config_loads_offline_with_its_features_and_the_card_split_sizes(
    spread_root, kinews, tmp_path, offline
):
    result = build(kinews, spread_root, "0.1.0", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    release = tmp_path / "dist" / "kinews-0.1.0"
    header = card_header(release)
    assert [c["config_name"] for c in header["configs"]] == list(CONFIGS)
    scheme = load_scheme(REPO)
    for config in CONFIGS:
        loaded = load_dataset(str(release), config, cache_dir=offline())
        assert set(loaded) == set(SPLITS)
        info = next(i for i in header["dataset_info"] if i["config_name"] == config)
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
            split: len(loaded[split]) for split in loaded
        }
        # The byte counts are the ones `datasets` computes when it prepares the release.
        builder = load_dataset_builder(str(release), config, cache_dir=offline())
        builder.download_and_prepare()
        assert {s["name"]: s["num_bytes"] for s in info["splits"]} == {
            name: split.num_bytes for name, split in builder.info.splits.items()
        }
        assert loaded["train"].features == features_of(config, scheme)
    sentences = load_dataset(str(release), "sentences", cache_dir=offline())["train"]
    assert sentences.features["ner_tags"].feature.names == scheme.bio_names
    layers = load_dataset(str(release), "annotations", cache_dir=offline())["train"]
    assert layers.features["spans"].feature["label"].names == scheme.label_names
    assert set(layers["lead_time"]) <= {12.5, None}


def test_empty_splits_are_left_out_of_every_config_alike(seed_root, kinews, tmp_path, offline):
    assert build(kinews, seed_root, "0.1.0", tmp_path / "dist").exit_code == 0
    release = tmp_path / "dist" / "kinews-0.1.0"
    for config in card_header(release)["configs"]:
        assert [f["split"] for f in config["data_files"]] == ["train"]
        assert list(load_dataset(str(release), config["config_name"], cache_dir=offline())) == [
            "train"
        ]
    assert sorted(p.name for p in (release / "data").iterdir()) == sorted(CONFIGS)


def test_the_sentences_give_back_exactly_the_released_spans(seed_root, kinews, tmp_path, offline):
    assert build(kinews, seed_root, "0.1.0", tmp_path / "dist").exit_code == 0
    release = str(tmp_path / "dist" / "kinews-0.1.0")
    [doc] = load_dataset(release, "documents", cache_dir=offline())["train"]
    sentences = load_dataset(release, "sentences", cache_dir=offline())["train"]
    labels = sentences.features["ner_tags"].feature.names
    names = load_scheme(REPO).label_names
    back: list[Span] = []
    for row in sentences:
        tokens = tuple(
            Token(o["start"], o["end"], t)
            for o, t in zip(row["token_offsets"], row["tokens"], strict=True)
        )
        assert all(doc["text"][t.start : t.end] == t.text for t in tokens)
        sentence = Sentence(row["start"], row["end"], tokens)
        back += bio_to_spans(sentence, [labels[i] for i in row["ner_tags"]], doc["text"])
    assert back == [Span(s["start"], s["end"], names[s["label"]], s["text"]) for s in doc["spans"]]
    assert [row["id"] for row in sentences][:2] == [f"{SEED_ID}#0000", f"{SEED_ID}#0001"]


def test_the_annotations_config_holds_every_record_of_a_released_document(
    seed_root, kinews, tmp_path, offline
):
    gold = json.loads((seed_root / "annotations" / "gold.jsonl").read_text("utf-8"))
    submitted = [
        dict(gold, annotator=name, status="submitted", origin={"lead_time": 30 + n}, spans=spans)
        for n, (name, spans) in enumerate([("ann-01", gold["spans"][:5]), ("ann-02", [])])
    ]
    with (seed_root / "annotations" / "raw.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in submitted)
    assert build(kinews, seed_root, "0.1.0", tmp_path / "dist").exit_code == 0
    rows = load_dataset(
        str(tmp_path / "dist" / "kinews-0.1.0"), "annotations", cache_dir=offline()
    )["train"]
    assert [(r["annotator"], r["status"], r["lead_time"], len(r["spans"])) for r in rows] == [
        ("ann-01", "submitted", 30.0, 5),
        ("ann-02", "submitted", 31.0, 0),
        ("kinews-team", "gold", None, 38),
    ]


# --- reproducible, recorded versions ------------------------------------------------------------


def test_two_builds_of_the_same_inputs_in_two_roots_are_byte_identical(seed_root, kinews, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(seed_root, twin)
    assert build(kinews, seed_root, "0.1.0", tmp_path / "one").exit_code == 0
    assert build(kinews, twin, "0.1.0", tmp_path / "two").exit_code == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert tree(seed_root / "releases") == tree(twin / "releases")


def test_a_build_records_its_release_and_a_rebuild_reproduces_it_leaving_the_root_alone(
    seed_root, kinews, tmp_path
):
    first = build(kinews, seed_root, "0.1.0", tmp_path / "one")
    assert "recorded release 0.1.0 (2026-12-01)" in first.output
    record = json.loads((seed_root / "releases" / "0.1.0.json").read_text("utf-8"))
    release = tmp_path / "one" / "kinews-0.1.0"
    assert record["version"] == "0.1.0" and record["date"] == DATE
    assert record["files"] == {
        str(p.relative_to(release)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in release.rglob("*")
        if p.is_file()
    }
    assert record["documents"][SEED_ID]["split"] == "train"
    before = tree(seed_root)
    # No --date, another day: the recorded date wins, so the bytes are the same.
    again = kinews("build", "--version", "0.1.0", "--root", seed_root, "--out", tmp_path / "two")
    assert again.exit_code == 0, again.output
    assert "reproduced the recorded release 0.1.0: identical checksums" in again.output
    assert tree(seed_root) == before
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_rebuilding_a_recorded_version_from_changed_inputs_is_refused_naming_what_differs(
    seed_root, kinews, tmp_path
):
    assert build(kinews, seed_root, "0.1.0", tmp_path / "dist").exit_code == 0
    gold = seed_root / "annotations" / "gold.jsonl"
    record = json.loads(gold.read_text("utf-8"))
    record["spans"][0]["label"] = "MISC"
    gold.write_text(json.dumps(record, ensure_ascii=False) + "\n", "utf-8")
    before = tree(tmp_path / "dist")
    result = build(kinews, seed_root, "0.1.0", tmp_path / "dist")
    assert result.exit_code == 1
    assert "release-changed: version 0.1.0 is recorded with other contents" in result.output
    assert "data/documents/train-00000-of-00001.parquet: sha256" in result.output
    assert f"doc={SEED_ID} release-changed: changed since recorded: spans_sha256" in result.output
    assert tree(tmp_path / "dist") == before


def test_a_new_version_gets_a_changelog_entry_counting_the_changes(
    seed_root, kinews, tmp_path, offline
):
    # The repository's CHANGELOG as it was at 0.1.0: its newest entry is the seed's release.
    changelog = (REPO / "CHANGELOG.md").read_text("utf-8")
    head, rest = changelog.split("\n## [", 1)
    at_010 = head + "\n## [" + rest[rest.index("0.1.0]") :]
    (seed_root / "CHANGELOG.md").write_text(at_010, "utf-8")
    assert kinews("build", "--root", seed_root, "--out", tmp_path / "dist").exit_code == 0
    assert (seed_root / "CHANGELOG.md").read_text("utf-8") == at_010
    add_articles(seed_root, tmp_path, kinews, [f"doc-{i:03d}" for i in range(10)])
    result = build(kinews, seed_root, "0.2.0", tmp_path / "dist")
    assert "added its entry to CHANGELOG.md" in result.output
    changelog = (seed_root / "CHANGELOG.md").read_text("utf-8")
    assert changelog.index("## [0.2.0] - 2026-12-01") < changelog.index("## [0.1.0]")
    sizes = Counter(splits_of(tmp_path / "dist" / "kinews-0.2.0", offline).values())
    assert (
        f"- train: {sizes['train'] - 1} documents added, 0 removed, 0 changed, 0 moved" in changelog
    )
    assert "- LOC: 10 spans added, 0 removed" in changelog
    card = (tmp_path / "dist" / "kinews-0.2.0" / "README.md").read_text("utf-8")
    assert card.index("### 0.2.0 (2026-12-01)") < card.index("### 0.1.0 (2026-11-28)")
    assert kinews("build", "--root", seed_root, "--out", tmp_path / "d2").exit_code == 0


def test_a_version_older_than_a_recorded_one_is_refused(seed_root, kinews, tmp_path):
    assert build(kinews, seed_root, "0.2.0", tmp_path / "dist").exit_code == 0
    result = build(kinews, seed_root, "0.1.5", tmp_path / "dist")
    assert result.exit_code == 1 and "version-not-newer" in result.output


def test_a_bad_release_date_is_refused(seed_root, kinews, tmp_path):
    args = ("build", "--version", "0.1.0", "--date", "1.12.2026", "--root", seed_root)
    result = kinews(*args, "--out", tmp_path / "dist")
    assert result.exit_code == 1 and "date-invalid" in result.output


# --- splits that never leak and never move ------------------------------------------------------


def test_a_second_version_keeps_every_released_document_in_its_split(
    spread_root, kinews, tmp_path, offline
):
    assert build(kinews, spread_root, "0.1.0", tmp_path / "dist").exit_code == 0
    first = splits_of(tmp_path / "dist" / "kinews-0.1.0", offline)
    # New documents in a group with a released one join its split, whatever their hashes say.
    released = "doc-000"
    corpus = spread_root / "corpus" / "documents.jsonl"
    lines = [json.loads(line) for line in corpus.read_text("utf-8").splitlines()]
    corpus.write_text(
        "".join(
            json.dumps(dict(d, group="story-1") if d["id"] == released else d, ensure_ascii=False)
            + "\n"
            for d in lines
        ),
        "utf-8",
    )
    add_articles(spread_root, tmp_path, kinews, [f"new-{i:03d}" for i in range(20)], "story-1")
    add_articles(spread_root, tmp_path, kinews, [f"more-{i:03d}" for i in range(20)])
    assert build(kinews, spread_root, "0.2.0", tmp_path / "dist").exit_code == 0
    second = splits_of(tmp_path / "dist" / "kinews-0.2.0", offline)
    assert {doc_id: second[doc_id] for doc_id in first} == first
    assert {second[f"new-{i:03d}"] for i in range(20)} == {first[released]}
    manifest = [
        json.loads(line)
        for line in (spread_root / "releases" / "splits.jsonl").read_text().splitlines()
    ]
    assert {m["id"]: m["split"] for m in manifest} == second
    assert {m["since"] for m in manifest if m["id"] in first} == {"0.1.0"}


def test_a_build_that_would_move_a_released_document_fails_naming_the_ids(
    spread_root, kinews, tmp_path, offline
):
    assert build(kinews, spread_root, "0.1.0", tmp_path / "dist").exit_code == 0
    splits = splits_of(tmp_path / "dist" / "kinews-0.1.0", offline)
    one = min(splits)
    other = min(d for d in splits if splits[d] != splits[one])
    corpus = spread_root / "corpus" / "documents.jsonl"
    lines = [json.loads(line) for line in corpus.read_text("utf-8").splitlines()]
    corpus.write_text(
        "".join(
            json.dumps(dict(d, group="same") if d["id"] in (one, other) else d) + "\n"
            for d in lines
        ),
        "utf-8",
    )
    result = build(kinews, spread_root, "0.2.0", tmp_path / "dist")
    assert result.exit_code == 1
    assert "split-moved" in result.output
    assert (
        f"{one} in {splits[one]}" in result.output
        and f"{other} in {splits[other]}" in result.output
    )


def test_a_manifest_edited_against_a_recorded_release_is_refused(seed_root, kinews, tmp_path):
    assert build(kinews, seed_root, "0.1.0", tmp_path / "dist").exit_code == 0
    manifest = seed_root / "releases" / "splits.jsonl"
    manifest.write_text(manifest.read_text("utf-8").replace('"train"', '"test"'), "utf-8")
    result = build(kinews, seed_root, "0.2.0", tmp_path / "dist")
    assert result.exit_code == 1
    assert f"doc={SEED_ID} split-moved" in result.output and "release 0.1.0" in result.output


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text("abcdef0123456789-", min_size=1, max_size=8), unique=True, max_size=30),
    st.lists(st.text("abcdef0123456789-", min_size=1, max_size=8), unique=True, max_size=30),
    st.lists(st.sampled_from(["g1", "g2", None]), min_size=60, max_size=60),
)
def test_adding_documents_never_moves_an_assigned_one(old_ids, new_ids, groups):
    def doc(i: int, doc_id: str) -> Document:
        return Document(doc_id, "x", "0" * 64, group=groups[i])

    old = [doc(i, d) for i, d in enumerate(old_ids)]
    first = assign_splits(old, {}, "0.1.0")
    more = [doc(30 + i, d) for i, d in enumerate(new_ids) if d not in old_ids]
    second = assign_splits(old + more, first, "0.2.0")
    assert {d: second[d].split for d in first} == {d: a.split for d, a in first.items()}
    for group in ("g1", "g2"):
        assert len({a.split for a in second.values() if a.group == group}) <= 1
    assert all(second[d.id].split == assign_split(d.id) for d in more if d.group is None)
    # What the build keeps of each document (its split and group) gives the same assignments.
    placed = ((a.doc_id, a.split, a.group) for a in second.values())
    assert placements(placed, first, "0.2.0") == second


# --- card, Croissant, checksums -----------------------------------------------------------------


def test_croissant_validates_and_keeps_label_names_as_a_referenced_enumeration(
    spread_root, kinews, tmp_path
):
    assert build(kinews, spread_root, "0.1.0", tmp_path / "dist").exit_code == 0
    release = tmp_path / "dist" / "kinews-0.1.0"
    dataset = mlc.Dataset(str(release / "croissant.json"))
    assert not dataset.metadata.ctx.issues.errors and not dataset.metadata.ctx.issues.warnings
    metadata = json.loads((release / "croissant.json").read_text("utf-8"))
    assert metadata["version"] == "0.1.0"
    for item in metadata["distribution"]:
        if item["@type"] == "cr:FileObject":
            path = release / item["contentUrl"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
    files = {i["contentUrl"] for i in metadata["distribution"] if i["@type"] == "cr:FileObject"}
    assert files == {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()} - {
        "croissant.json",
        "SHA256SUMS",
    }
    sets = {r["@id"]: r for r in metadata["recordSet"]}
    scheme = load_scheme(REPO)
    assert [row["labels/name"] for row in sets["labels"]["data"]] == scheme.label_names
    assert [row["bio_tags/name"] for row in sets["bio_tags"]["data"]] == scheme.bio_names
    spans = next(f for f in sets["documents"]["field"] if f["name"] == "spans")
    label = next(f for f in spans["subField"] if f["name"] == "label")
    assert label["references"] == {"field": {"@id": "labels/id"}}
    tags = next(f for f in sets["sentences"]["field"] if f["name"] == "ner_tags")
    assert tags["references"] == {"field": {"@id": "bio_tags/id"}}
    info = next(i for i in card_header(release)["dataset_info"] if i["config_name"] == "sentences")
    records = list(dataset.records("sentences"))
    assert len(records) == sum(s["num_examples"] for s in info["splits"])


def test_sha256sums_covers_every_other_file_in_sha256sum_format(seed_root, kinews, tmp_path):
    assert build(kinews, seed_root, "0.1.0", tmp_path / "dist").exit_code == 0
    release = tmp_path / "dist" / "kinews-0.1.0"
    lines = (release / "SHA256SUMS").read_text("utf-8").splitlines()
    listed = dict(reversed(re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()) for line in lines)
    on_disk = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"SHA256SUMS"}
    assert "croissant.json" in listed and "README.md" in listed
    for name, digest in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest


SECTIONS = [
    "## Dataset description",
    "## How to load",
    "## Structure",
    "### `documents`",
    "### `sentences`",
    "### `annotations`",
    "## Labels",
    "## Size",
    "## Tokens and sentences",
    "## Splits",
    "## Motivation",
    "## Source data and selection",
    "## Annotation process",
    "## Baseline",
    "## Uses",
    "## Bias and social impact",
    "## Personal information",
    "## Limitations",
    "## Licence",
    "## Maintenance",
    "## Citation",
    "## Changelog",
]


def repository_root(tmp_path: Path, *, records: bool = True) -> Path:
    """A copy of the repository's dataset root, as a fresh clone has it (or without releases/)."""
    root = tmp_path / "repo"
    for name in ("corpus", "annotations", "schemas", *(("releases",) if records else ())):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "CHANGELOG.md", root / "CHANGELOG.md")
    return root


def test_the_repositorys_own_release_is_recorded_and_rebuilds_to_its_checksums(tmp_path, kinews):
    root = repository_root(tmp_path)
    version = current_version(root)
    record = root / "releases" / f"{version}.json"
    assert record.exists(), "run `make dataset` and commit releases/"
    before = tree(root)
    result = kinews("build", "--root", root, "--out", tmp_path / "dist")
    assert result.exit_code == 0, (
        f"the committed record of {version} no longer matches what the repository builds; while "
        f"{version} is unpublished, delete {record.relative_to(root)} and its lines in "
        f"releases/splits.jsonl and re-run `make dataset`:\n{result.output}"
    )
    assert f"reproduced the recorded release {version}" in result.output
    # Only the ignored local folders (the token cache, the lock) may have appeared.
    local = (".kinews-cache/", ".kinews-local/")
    assert {k: v for k, v in tree(root).items() if not k.startswith(local)} == before


def test_the_card_of_the_repositorys_release_has_every_section_filled_from_data(tmp_path, kinews):
    root = repository_root(tmp_path, records=False)
    assert kinews("build", "--root", root, "--out", tmp_path / "dist").exit_code == 0
    [release] = (tmp_path / "dist").iterdir()
    changelog_text = (REPO / "CHANGELOG.md").read_text("utf-8")
    card = (release / "README.md").read_text("utf-8")
    header = card_header(release)
    for key in (
        "configs",
        "dataset_info",
        "pretty_name",
        "license",
        "language",
        "task_categories",
        "task_ids",
        "annotations_creators",
        "size_categories",
        "source_datasets",
    ):
        assert header[key], key
    body = card.split("---\n", 2)[2]
    positions = [body.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for section, start, end in zip(SECTIONS, positions, [*positions[1:], len(body)], strict=True):
        text = body[start + len(section) : end].strip()
        assert len(text) > 40, f"{section} is empty"
    prose = re.sub(r"```.*?```", "", body, flags=re.DOTALL)  # code and example rows aside
    placeholders = re.compile(r"\bTODO\b|\bTBD\b|\bXXX\b|\bNone\b|\bnan\b|\{[a-z_.]*\}|lorem")
    assert not placeholders.findall(prose)
    version = header["version"]
    entry_date = re.search(rf"## \[{re.escape(version)}\] - (\S+)", changelog_text).group(1)
    assert f"# kinews {version}" in body and "SoMaJo" in body and entry_date in body
    # The repository's corpus is double-annotated and split three ways: agreement and baseline
    # are measured, and the manual the card names is the one shipped beside it.
    assert NOT_MEASURED not in body and "| entity F1, exact match |" in body
    assert "| test | **all (micro)** |" in body
    shipped = (release / "GUIDELINES.md").read_text("utf-8")
    assert shipped == (REPO / "annotations" / "GUIDELINES.md").read_text("utf-8")
    manual_version = re.search(r"\*\*Version (\S+)\*\*", shipped).group(1)
    assert f"`GUIDELINES.md` in this folder (version {manual_version})" in body
    assert f"@misc{{kinews_{version.replace('.', '_')}," in body
    assert header["train-eval-index"][0]["config"] == "sentences"


def test_agreement_figures_fill_the_slot_when_given():
    facts = CardFacts(
        version="0.1.0",
        date=DATE,
        scheme=load_scheme(REPO),
        features={c: features_of(c, load_scheme(REPO)) for c in CONFIGS},
        rows={c: {"train": 1, "validation": 0, "test": 0} for c in CONFIGS},
        num_bytes={c: {"train": 10} for c in CONFIGS},
        label_counts={s: Counter() for s in SPLITS},
        tokens={s: 0 for s in SPLITS},
        dataset=load_dataset_declaration(REPO),
        annotation=annotation_facts([], ["d1"]),
        guidelines_version="1.0",
        guidelines_file="GUIDELINES.md",
        statuses=Counter(gold=1),
        examples={},
        sources=Sources(),
        tokenizer="SoMaJo 2.5.0",
        changelog=(ChangelogEntry("0.1.0", DATE, ("- First release.",)),),
        agreement="Inter-annotator agreement: exact-match span F1 0.91 over 2 documents.",
    )
    card = render_card(facts)
    assert "exact-match span F1 0.91" in card and NOT_MEASURED not in card


def test_ingest_records_a_group_and_a_line_without_one_keeps_its_bytes(
    empty_root, kinews, tmp_path
):
    article = tmp_path / "a.txt"
    article.write_text("Peking fördert KI.", "utf-8")
    assert kinews("ingest", article, "--group", "story-1", "--root", empty_root).exit_code == 0
    [line] = (empty_root / "corpus" / "documents.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["group"] == "story-1"
    assert '"group"' not in (REPO / "corpus" / "documents.jsonl").read_text("utf-8")


def test_the_cards_load_snippet_works_as_written(spread_root, kinews, tmp_path, monkeypatch):
    assert build(kinews, spread_root, "0.1.0", tmp_path / "dist").exit_code == 0
    card = (tmp_path / "dist" / "kinews-0.1.0" / "README.md").read_text("utf-8")
    [snippet] = re.findall(r"```python\n(.*?)```", card, flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    # The snippet names no cache_dir; datasets read HF_DATASETS_CACHE at import, so patch both.
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "snippet-cache"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "snippet-cache")
    exec(compile(snippet, "card-snippet", "exec"), {})
