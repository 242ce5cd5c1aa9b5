"""Specification of `kinews init`: another corpus, started from scratch, releases as itself.

The rule for kinews' own name: in a card, a Croissant file or a command's message of another
corpus, "kinews" may appear only where it names the tool - a command (`kinews build`,
`kinews adjudicate`), the tool's record names (`kinews-adjudicate`) or the package's own version
line. Never the corpus' name, its topic, its labels, its manual or its citation.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
import typer.main
import yaml
from datasets import load_dataset

from conftest import REPO, gold_record, spans_of
from kinews.cli import app
from kinews.dataset import load_dataset_declaration
from kinews.init import TEMPLATES
from kinews.scheme import load_scheme

NAME = "mein-korpus"
OWN_LABELS = ["PER", "ORG", "LOC"]
TEXTS = {
    "a.txt": "Angela Merkel besuchte Siemens in München.",
    "b.txt": "Die Stadt Wien und die Universität Graz arbeiten zusammen.",
}
KINEWS = load_dataset_declaration(REPO)
KINEWS_SCHEME = load_scheme(REPO)
COMMANDS = sorted(typer.main.get_command(app).commands)
# Where "kinews" names the tool: a command, a record's tool name, or the package's version.
TOOL = re.compile(rf"kinews(?: (?:{'|'.join(COMMANDS)})\b|-adjudicate\b| \d+\.\d+\.\d+\b)")


def own_scheme() -> dict:
    """A scheme of the corpus' own: three labels with definitions of its own words."""
    return {
        "name": f"{NAME}-ner",
        "span_policy": "flat",
        "labels": [
            {"name": label, "definition": f"Ein benannter Ausdruck der Klasse {label}."}
            for label in OWN_LABELS
        ],
    }


def gold(doc_id: str, text: str, *names: tuple[str, str]) -> dict:
    return gold_record(doc_id, text, spans_of(text, *names))


def outside_the_tool(text: str) -> list[str]:
    """Each mention of kinews that does not name the tool, with its surroundings."""
    return [
        text[max(0, m.start() - 30) : m.end() + 30]
        for m in re.finditer("kinews", text, flags=re.IGNORECASE)
        if not TOOL.match(text, m.start())
    ]


def kinews_topic() -> list[str]:
    """What kinews declares about itself and its labels, sentence by sentence."""
    texts = [
        KINEWS.pretty_name,
        KINEWS.summary,
        KINEWS.description,
        KINEWS.selection,
        KINEWS.curation_rationale,
        KINEWS.citation.title,
        *KINEWS.limitations,
        *(KINEWS.bias or "",),
        *(label.limitation for label in KINEWS_SCHEME.labels if label.limitation),
    ]
    return [s.strip() for t in texts for s in re.split(r"(?<=[.:;])\s+", t) if len(s) > 20]


def kinews_topic_words(root: Path) -> set[str]:
    """The words of kinews' pretty name that the new corpus does not use of its own."""
    own = " ".join(
        [
            (root / "schemas" / "dataset.yaml").read_text("utf-8"),
            (root / "schemas" / "labels.yaml").read_text("utf-8"),
            *TEXTS.values(),
        ]
    ).lower()
    words = set(re.findall(r"[a-zäöüß]{4,}", KINEWS.pretty_name.lower()))
    return {w for w in words if w not in own and w != "kinews"}


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return str(tmp_path / "hf-cache")


@pytest.fixture
def released(tmp_path: Path, kinews, offline) -> dict:
    """A corpus from `kinews init` with its own scheme, two texts and their gold, built."""
    root = tmp_path / NAME
    made = kinews("init", root, "--name", NAME)
    assert made.exit_code == 0, made.output
    (root / "schemas" / "labels.yaml").write_text(yaml.safe_dump(own_scheme()), "utf-8")
    for file, text in TEXTS.items():
        (tmp_path / file).write_text(text, "utf-8")
    ingested = kinews("ingest", *(tmp_path / f for f in TEXTS), "--root", root)
    assert ingested.exit_code == 0, ingested.output
    docs = {
        d["text"]: d["id"]
        for d in map(json.loads, (root / "corpus" / "documents.jsonl").read_text().splitlines())
    }
    a, b = TEXTS.values()
    records = [
        gold(docs[a], a, ("Angela Merkel", "PER"), ("Siemens", "ORG"), ("München", "LOC")),
        gold(docs[b], b, ("Wien", "LOC"), ("Universität Graz", "ORG")),
    ]
    (root / "annotations" / "gold.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8"
    )
    validated = kinews("validate", "--root", root)
    built = kinews("build", "--root", root, "--out", root / "dist")
    assert built.exit_code == 0, built.output
    release = root / "dist" / f"{NAME}-0.1.0"
    return {
        "root": root,
        "release": release,
        "messages": made.output + ingested.output + validated.output + built.output,
        "card": (release / "README.md").read_text("utf-8"),
        "croissant": (release / "croissant.json").read_text("utf-8"),
        "documents": load_dataset(str(release), "documents", cache_dir=offline),
        "sentences": load_dataset(str(release), "sentences", cache_dir=offline),
    }


def test_init_writes_a_repository_that_works_on_its_own(tmp_path, kinews):
    root = tmp_path / "neu"
    result = kinews("init", root, "--name", "neu", "--language", "de")
    assert result.exit_code == 0, result.output
    for path in TEMPLATES.values():
        assert (root / path).is_file(), path
    assert sorted(p.name for p in (root / "corpus").iterdir()) == ["documents.jsonl"]
    dataset = load_dataset_declaration(root)  # valid against the schema kinews ships
    assert (dataset.name, dataset.language) == ("neu", "de")
    assert load_scheme(root).label_names  # a small scheme of its own
    validated = kinews("validate", "--root", root)
    assert validated.exit_code == 0, validated.output
    guidelines = (root / "annotations" / "GUIDELINES.md").read_text("utf-8")
    assert re.search(r"^\*\*Version 0\.1\*\*", guidelines, re.MULTILINE)
    for label in load_scheme(root).label_names:
        assert f" {label}\n" in guidelines, label  # a section per label of its scheme
    makefile = (root / "Makefile").read_text("utf-8")
    assert re.search(r"^dataset:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)
    workflow = (root / ".github" / "workflows" / "validate.yml").read_text("utf-8")
    assert "kinews validate --format github" in workflow


def test_the_starter_declaration_names_the_corpus_and_leaves_no_placeholder(tmp_path, kinews):
    root = tmp_path / "neu"
    assert kinews("init", root, "--name", "neu").exit_code == 0
    for path in TEMPLATES.values():
        text = (root / path).read_text("utf-8")
        assert not re.search(r"\bTODO\b|\bTBD\b|FIXME|\$\{?[a-z_]+\b(?!\))", text), path
    dataset = load_dataset_declaration(root)
    assert "neu" in dataset.summary and "neu" in dataset.selection
    declared = yaml.safe_load((root / "schemas" / "dataset.yaml").read_text("utf-8"))
    assert "kinews" not in json.dumps(declared)  # only its comments name the tool


def test_the_pre_commit_hook_is_the_one_kinews_publishes(tmp_path, kinews):
    root = tmp_path / "neu"
    assert kinews("init", root, "--name", "neu").exit_code == 0
    published = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))[0]
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text("utf-8"))
    hook = config["repos"][0]["hooks"][0]
    for key in ("id", "entry", "pass_filenames", "files"):
        assert hook[key] == published[key], key


def test_init_writes_files_0644_and_folders_0755(tmp_path, kinews):
    root = tmp_path / "neu"
    assert kinews("init", root, "--name", "neu").exit_code == 0
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(tmp_path, kinews):
    root = tmp_path / "busy"
    root.mkdir()
    (root / "notes.txt").write_text("mine", "utf-8")
    result = kinews("init", root, "--name", "busy")
    assert result.exit_code == 1
    assert f"{root} init-target-not-empty: the folder is not empty (notes.txt)" in result.output
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]


def test_an_empty_folder_is_taken(tmp_path, kinews):
    (tmp_path / "leer").mkdir()
    assert kinews("init", tmp_path / "leer", "--name", "leer").exit_code == 0
    assert (tmp_path / "leer" / "schemas" / "dataset.yaml").is_file()


def test_a_name_or_language_the_schema_refuses_is_reported_at_once(tmp_path, kinews):
    result = kinews("init", tmp_path / "x", "--name", "Mein Korpus", "--language", "Deutsch")
    assert result.exit_code == 1
    assert result.output.count("init-option-invalid") == 2
    assert not (tmp_path / "x").exists()


def test_the_release_is_named_after_the_corpus_and_loads(released):
    assert released["release"].is_dir()
    docs = released["documents"]
    split = next(iter(docs))
    assert docs[split].features["spans"].feature["label"].names == OWN_LABELS
    tags = released["sentences"][split].features["ner_tags"].feature.names
    assert tags == ["O", *(f"{p}-{label}" for label in OWN_LABELS for p in "BI")]
    assert sum(len(docs[s]) for s in docs) == len(TEXTS)


def test_card_croissant_and_messages_carry_the_corpus_and_nothing_of_kinews(released):
    card, croissant = released["card"], released["croissant"]
    assert card.startswith("---\n") and f"# {NAME} 0.1.0" in card
    assert NAME in json.loads(croissant)["name"]
    assert f"{NAME}-0.1.0" in released["messages"]
    others = [label for label in KINEWS_SCHEME.label_names if label not in OWN_LABELS]
    for where, text in (
        ("card", card),
        ("croissant", croissant),
        ("messages", released["messages"]),
    ):
        assert outside_the_tool(text) == [], where
        for label in others:
            assert not re.search(rf"\b[BI]?-?{label}\b", text), (where, label)
        for sentence in kinews_topic():
            assert sentence not in text, (where, sentence)
        for word in kinews_topic_words(released["root"]):
            assert word not in text.lower(), (where, word)
    for label in OWN_LABELS:
        assert f"`{label}`" in card, label
