"""A build reads and writes its documents a batch at a time; the release does not show it.

`kinews build` keeps only an outline of every document (kinews.release.reading) and turns the
released ones into rows a batch of about `batch_bytes` of input at a time, so its memory follows
the batch, not the corpus. Whatever the batches, the files are the same bytes.
"""

from __future__ import annotations

import json

import pytest

from conftest import REPO, tree, write_records
from kinews.errors import KinewsError
from kinews.release.build import build
from kinews.release.history import DocumentEntry, ReleaseRecord, load_records
from kinews.release.reading import batches, read_outline
from test_release import repository_root


def test_the_repositorys_release_rebuilds_to_its_checksums_one_document_per_batch(tmp_path):
    # The recorded release is refused (`release-changed`) unless every file comes out the same:
    # card (agreement of the doubly annotated documents included), Parquet, Croissant.
    root = repository_root(tmp_path)
    heard: list[tuple[int, int]] = []
    release = build(
        root, "0.2.0", tmp_path / "dist", batch_bytes=1, progress=lambda *n: heard.append(n)
    )
    assert not release.recorded
    assert sum(release.documents.values()) == 226
    # Progress counts the released documents across the batches, as new texts are tokenized.
    assert heard[-1] == (226, 226)
    assert heard == sorted(heard)
    heard.clear()
    build(root, "0.2.0", tmp_path / "again", progress=lambda *n: heard.append(n))
    assert heard == []  # every text came from the cache: nothing to show


def test_batches_and_shards_together_give_the_same_bytes_as_one_batch(tmp_path):
    root = repository_root(tmp_path, records=False)
    # Small shards (and no CRF: the card's baseline is not what is compared here).
    settings = {"max_shard_size": 40_000, "baseline": False}
    whole = build(root, "0.3.0", tmp_path / "whole", date="2026-12-01", **settings)
    # The same version again, from the same inputs: recorded by the first build, so this one
    # must reproduce it, in batches of about one document's input.
    cut = build(root, "0.3.0", tmp_path / "cut", batch_bytes=20_000, **settings)
    assert whole.files == cut.files
    assert any("-of-" in name for name in whole.files), "the shard size cut no split"
    assert tree(tmp_path / "whole") == tree(tmp_path / "cut")


def test_the_outline_has_every_document_in_id_order_with_its_records_in_file_order(tmp_path):
    root = tmp_path / "root"
    (root / "corpus").mkdir(parents=True)
    fields = {"sha256": "0" * 64, "language": "de", "title": None, "source": None, "url": None}
    fields |= {"published": None, "license": None}
    lines = [json.dumps({"id": i, "text": f"Text {i}."} | fields) for i in ("c", "a", "b")]
    # A blank line is skipped, and still counts for the line numbers.
    (root / "corpus" / "documents.jsonl").write_text(
        "\n".join([*lines[:2], "", lines[2]]) + "\n", encoding="utf-8"
    )
    record = {"annotator": "x", "created_at": "2026-12-01T00:00:00Z", "updated_at": None}
    record |= {"origin": None, "spans": [], "doc_sha256": "0" * 64}
    write_records(
        root / "annotations" / "one.jsonl",
        [record | {"doc_id": "b", "status": "gold"}, record | {"doc_id": "a", "status": "draft"}],
    )
    write_records(root / "annotations" / "two.jsonl", [record | {"doc_id": "a", "status": "gold"}])

    outline = read_outline(root)
    assert [h.id for h in outline.heads] == ["a", "b", "c"]
    assert outline.statuses_of(0) == ["draft", "gold"]  # one.jsonl, then two.jsonl
    assert outline.statuses_of(2) == []
    [batch] = batches(outline, [0, 2])
    assert [(d.doc.id, d.line) for d in batch.documents] == [("a", 2), ("c", 1)]
    assert [(r.file, r.line, r.ann.status) for r in batch.records] == [
        ("annotations/one.jsonl", 2, "draft"),
        ("annotations/two.jsonl", 1, "gold"),
    ]
    assert [d.doc.id for b in batches(outline) for d in b.documents] == ["a", "b", "c"]
    assert len(list(batches(outline, batch_bytes=1))) == 3  # a document per batch at least


def test_a_failed_build_removes_the_output_folder_it_made(tmp_path, seed_root):
    # The manual is looked for when the card is written, after the rows: the output folder
    # exists by then, and must go again, as if the build had never started.
    (seed_root / "annotations" / "GUIDELINES.md").unlink()
    out = tmp_path / "new" / "dist"
    with pytest.raises(KinewsError):
        build(seed_root, "0.1.0", out)
    assert not (tmp_path / "new").exists()  # nor the folder the build made to hold it


def _dumped_whole(record: ReleaseRecord) -> str:
    """The record as one json.dumps, as it was written before it was written in pieces."""
    documents = {
        k: {f: getattr(e, f) for f in e.__dataclass_fields__} for k, e in record.documents.items()
    }
    data = {**vars(record), "documents": documents}
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def test_a_release_record_is_written_a_document_at_a_time_with_the_same_bytes(tmp_path):
    records = load_records(repository_root(tmp_path))
    assert records, "the repository has recorded releases"
    entry = DocumentEntry("train", None, "a" * 64, "b" * 64, "gold", {})
    odd = ReleaseRecord(
        "9.9.9",
        "2026-12-01",
        "SoMaJo",
        {"datasets": "5"},
        {"x": "y"},
        {
            'Zürich "1"': entry,
            "ä": DocumentEntry("test", "g", "c", "d", "gold", {"ORG": 2, "PER": 1}),
        },
    )
    empty = ReleaseRecord("0.0.1", "2026-12-01", "SoMaJo", {}, {}, {})
    for record in [*records.values(), odd, empty]:
        assert record.to_json() == _dumped_whole(record)
    for version, record in records.items():
        assert record.to_json() == (REPO / "releases" / f"{version}.json").read_text("utf-8")
