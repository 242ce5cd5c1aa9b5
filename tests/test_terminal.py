"""What kinews prints to a terminal is seen, never obeyed: control and escape characters in texts,
titles, ids and annotator names come out as visible escapes (`\\x1b`, `\\u202e`) in `kinews
validate` (every format) and `kinews show`."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from conftest import CASES, REPO
from kinews.ingest import sha256_text
from kinews.records import Annotation, Document, Span, dumps, write_jsonl
from kinews.show import load_view, render_terminal

# ESC starts terminal commands (retitle the window, clear the screen), BEL ends one, C1 0x9b is
# a command introducer of its own, U+202E reverses what follows it on screen.
UNSAFE = {"\x1b", "\x07", "\x9b", "\u202e"}
TEXT = "Q&A <KI>: Huawei & Siemens bauen in München.\nZweite Zeile."


def span(surface: str, label: str) -> Span:
    start = TEXT.index(surface)
    return Span(start, start + len(surface), label, surface)


def record(annotator: str, *spans: Span) -> Annotation:
    return Annotation(
        "doc-1",
        sha256_text(TEXT),
        annotator,
        "submitted",
        "2026-11-28T00:00:00Z",
        None,
        None,
        spans,
    )


@pytest.fixture
def hostile_text_root(tmp_path: Path) -> Path:
    """The validator's base case plus a document whose id and text carry ESC, BEL, C1 and bidi
    controls: the validator refuses both, and its report names the id."""
    root = tmp_path / "root"
    shutil.copytree(REPO / "schemas", root / "schemas")
    shutil.copytree(CASES / "validate" / "base", root, dirs_exist_ok=True)
    text = "Ein \x1b]0;pwned\x07 Text \x9b2J mit \u202eevil darin."
    line = Document("d9\x1b]0;pwned\x07\u202e", text, sha256_text(text), title="\x1b[2J Titel")
    with (root / "corpus" / "documents.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(dumps(line) + "\n")
    return root


@pytest.mark.parametrize("format", ["text", "github"])
def test_validate_shows_control_characters_of_a_text_as_escapes(hostile_text_root, kinews, format):
    result = kinews("validate", "--format", format, "--root", hostile_text_root)
    assert result.exit_code == 1
    assert "doc-text-control-char" in result.output
    assert not set(result.output) & UNSAFE
    assert "d9\\x1b]0;pwned\\x07\\u202e" in result.output


def test_validates_json_report_escapes_them_and_still_reads_back_to_the_same_text(
    hostile_text_root, kinews
):
    result = kinews("validate", "--format", "json", "--root", hostile_text_root)
    assert not set(result.output) & UNSAFE
    problems = json.loads(result.output)
    # the JSON escapes read back to the characters themselves
    assert "d9\x1b]0;pwned\x07\u202e" in {p["doc_id"] for p in problems}


def test_control_and_bidi_characters_in_titles_and_names_are_shown_escaped_not_obeyed(tmp_path):
    """A title that would retitle the terminal window or clear the screen, and an annotator name
    that would turn the rest red or reverse it, come out as visible escapes."""
    root = tmp_path / "root"
    shutil.copytree(REPO / "schemas", root / "schemas")
    title = "\x1b]0;pwned\x07 \x1b[2J Tom \u202eevil"
    write_jsonl(
        root / "corpus" / "documents.jsonl",
        [Document("doc-1", TEXT, sha256_text(TEXT), title=title)],
    )
    write_jsonl(
        root / "annotations" / "team.jsonl",
        [record("eve\x1b[31m", span("Huawei", "ORG")), record("bert")],
    )
    stream = io.StringIO()
    console = Console(file=stream, width=120, force_terminal=True, color_system=None)
    console.print(render_terminal(load_view(root, "doc-1")))
    shown = stream.getvalue()
    assert not set(shown) & {"\x1b", "\x07", "\u202e"}
    assert "\\x1b]0;pwned\\x07 \\x1b[2J Tom \\u202eevil" in shown
    assert "eve\\x1b[31m" in shown
    # the text's own line break is still a line break
    assert any(line.startswith("Zweite Zeile.") for line in shown.splitlines())
