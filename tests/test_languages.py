"""Each document is tokenized with SoMaJo's model for its own language: German (`de_CMC`, also
for `de-CH` or an unknown language) and English (`en_PTB`); a language SoMaJo has no model for
is refused by the build, naming the documents, rather than cut with the German rules."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from conftest import gold_record, spans_of
from kinews.tokens import model_for, propose, split_sentences, tokenizer_version

ENGLISH = "Ada Lovelace didn't work at IBM in London."
SCHEME = {
    "name": "english-ner",
    "span_policy": "flat",
    "labels": [{"name": n, "definition": f"A {n} name."} for n in ("PER", "ORG", "LOC")],
}


def tokens(text: str, model: str) -> list[str]:
    return [
        t.text
        for s in split_sentences(text, proposals=propose(text, model=model))
        for t in s.tokens
    ]


def test_the_model_follows_the_language_subtag():
    assert model_for("de") == model_for("de-CH") == model_for(None) == "de_CMC"
    assert model_for("en") == model_for("en-GB") == "en_PTB"
    assert model_for("fr") is None


def test_english_text_is_cut_by_the_english_rules():
    assert tokens(ENGLISH, "en_PTB")[2:4] == ["did", "n't"]
    assert "didn't" in tokens(ENGLISH, "de_CMC")


def test_a_german_corpus_records_the_tokenizer_as_before():
    assert tokenizer_version(["de_CMC"]) == tokenizer_version()
    assert tokenizer_version(["de_CMC", "en_PTB"]).endswith("(de_CMC, en_PTB)")


def english_corpus(tmp_path: Path, kinews, language: str) -> Path:
    root = tmp_path / "corpus-en"
    assert kinews("init", root, "--name", "english-news", "--language", "en").exit_code == 0
    (root / "schemas" / "labels.yaml").write_text(yaml.safe_dump(SCHEME), "utf-8")
    article = tmp_path / "a.txt"
    article.write_text(ENGLISH, "utf-8")
    ingested = kinews("ingest", article, "--language", language, "--root", root)
    assert ingested.exit_code == 0, ingested.output
    [doc] = [json.loads(line) for line in (root / "corpus" / "documents.jsonl").open()]
    names = (("Ada Lovelace", "PER"), ("IBM", "ORG"), ("London", "LOC"))
    gold = gold_record(doc["id"], ENGLISH, spans_of(ENGLISH, *names))
    (root / "annotations" / "gold.jsonl").write_text(json.dumps(gold) + "\n", "utf-8")
    return root


def test_an_english_corpus_is_released_with_english_tokens(tmp_path, kinews, offline):
    root = english_corpus(tmp_path, kinews, "en")
    built = kinews("build", "--root", root, "--out", root / "dist")
    assert built.exit_code == 0, built.output
    [release] = (root / "dist").iterdir()
    [shard] = (release / "data" / "sentences").glob("*.parquet")
    [row] = pq.read_table(shard).to_pylist()
    assert row["tokens"][2:4] == ["did", "n't"]
    assert "en_PTB" in (release / "README.md").read_text("utf-8")


def test_a_language_the_tokenizer_has_no_model_for_is_refused_by_the_build(
    tmp_path, kinews, offline
):
    root = english_corpus(tmp_path, kinews, "fr")
    built = kinews("build", "--root", root, "--out", root / "dist")
    assert built.exit_code == 1
    assert "tokenizer-language" in built.output and "'fr'" in built.output
    assert "Traceback" not in built.output
    assert not (root / "dist").exists() or not any((root / "dist").iterdir())
