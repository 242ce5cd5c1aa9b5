"""Specification of the root lock: one command at a time writes into a dataset root."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SEED, tree
from kinews import lock

HOLD = """
import sys, time
from pathlib import Path
from kinews.lock import root_lock
with root_lock(Path(sys.argv[1]), "ingest"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held(seed_root: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the seed root's lock (as a running `kinews ingest` would)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seed_root)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    try:
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "ARTICLE"],
        ["adjudicate"],
        ["ls", "import", "EXPORT"],
        ["build", "--version", "0.1.0", "--date", "2026-01-01", "--out", "DIST"],
    ],
)
def test_a_command_refuses_a_root_another_process_writes_into_and_names_it(
    held, seed_root, tmp_path, kinews, monkeypatch, command
):
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    article = tmp_path / "neu.txt"
    article.write_text("Ein neuer Artikel aus Berlin.", "utf-8")
    export = tmp_path / "export.json"
    export.write_text(json.dumps([]), "utf-8")
    args = [
        {"ARTICLE": article, "EXPORT": export, "DIST": tmp_path / "dist"}.get(a, a) for a in command
    ]
    before = tree(seed_root)
    if command[0] == "ls":
        result = kinews("ls", "--root", seed_root, *args[1:])
    else:
        result = kinews(*args, "--root", seed_root)
    assert result.exit_code == 1, result.output
    assert "root-locked" in result.output
    assert f"pid {held.pid}: kinews ingest" in result.output
    assert tree(seed_root) == before
    assert not (tmp_path / "dist").exists()


def test_the_lock_is_free_again_when_the_holder_dies(held, seed_root, kinews, monkeypatch):
    monkeypatch.setattr(lock, "WAIT_SECONDS", 5)
    held.kill()
    held.wait()
    assert kinews("ingest", SEED, "--root", seed_root).exit_code == 0
