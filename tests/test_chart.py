"""Specification of the label-count chart the dataset card embeds: a reproducible PNG."""

from __future__ import annotations

import subprocess
import sys
import zlib
from collections import Counter

from conftest import REPO
from kinews.cache_entry import read_entry
from kinews.release.chart import FOLDER, label_chart_png, render_label_chart
from kinews.scheme import load_scheme

COUNTS = {
    "train": Counter({"ORG": 12, "LOC": 7, "TECH": 20}),
    "validation": Counter({"ORG": 2}),
    "test": Counter(),
}


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert zlib.crc32(kind + body) == int.from_bytes(data[at + 8 + length : at + 12 + length])
        chunks.append((kind, body))
        at += 12 + length
    return chunks


def test_two_renders_are_byte_identical(tmp_path):
    labels = load_scheme(REPO).label_names
    render_label_chart(COUNTS, labels, tmp_path / "a.png")
    render_label_chart(COUNTS, labels, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_a_render_in_another_process_is_byte_identical():
    """No state of one Python process (font cache, rcParams) leaks into the picture."""
    code = (
        "import sys, collections; from kinews.release.chart import label_chart_png; "
        "sys.stdout.buffer.write(label_chart_png({'train': collections.Counter(ORG=3)}, "
        "['PER', 'ORG']))"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert other == label_chart_png({"train": Counter(ORG=3)}, ["PER", "ORG"])


def test_the_png_is_valid_and_records_neither_software_nor_time():
    chunks = png_chunks(label_chart_png(COUNTS, load_scheme(REPO).label_names))
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(kinds)


def test_other_counts_give_another_picture():
    labels = ["ORG", "LOC", "TECH"]
    changed = dict(COUNTS, test=Counter({"LOC": 1}))
    assert label_chart_png(COUNTS, labels) != label_chart_png(changed, labels)


def test_the_chart_cache_gives_the_same_bytes_and_a_damaged_entry_is_drawn_again(tmp_path):
    labels = load_scheme(REPO).label_names
    root = tmp_path / "root"
    render_label_chart(COUNTS, labels, tmp_path / "plain.png")
    render_label_chart(COUNTS, labels, tmp_path / "first.png", cache=root)
    [entry] = (root / FOLDER).glob("*.png")
    render_label_chart(COUNTS, labels, tmp_path / "cached.png", cache=root)
    entry.write_bytes(entry.read_bytes()[:-10])  # truncated
    render_label_chart(COUNTS, labels, tmp_path / "redrawn.png", cache=root)
    plain = (tmp_path / "plain.png").read_bytes()
    for name in ("first", "cached", "redrawn"):
        assert (tmp_path / f"{name}.png").read_bytes() == plain
    assert read_entry(entry) == plain  # rewritten whole


def test_other_counts_have_another_cache_entry(tmp_path):
    labels = ["ORG", "LOC", "TECH"]
    render_label_chart(COUNTS, labels, tmp_path / "a.png", cache=tmp_path)
    render_label_chart(
        dict(COUNTS, test=Counter({"LOC": 1})), labels, tmp_path / "b.png", cache=tmp_path
    )
    assert len(list((tmp_path / FOLDER).glob("*.png"))) == 2
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()
