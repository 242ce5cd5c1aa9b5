"""Bad input of every class the commands read or write ends in a located problem with a stable
code and exit code 1 or 2, never in a Python traceback (issue 13, the crashes still open; issue
12: labels.yaml read against its published JSON Schema, every problem at its line)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from conftest import REPO, SEED

LABELS = Path("schemas") / "labels.yaml"


def assert_located(result, code: str, where: str, exit_code: int = 1) -> None:
    """Exit code, no traceback, and a line of output naming both the place and the code."""
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert any(where in line and code in line for line in result.output.splitlines()), result.output


# --- schemas/labels.yaml ------------------------------------------------------------------------


def test_a_labels_yaml_that_is_not_utf8_is_located_at_its_line(empty_root, kinews):
    path = empty_root / LABELS
    lines = path.read_bytes().split(b"\n")
    lines[20] = b"# caf\xe9"
    path.write_bytes(b"\n".join(lines))
    assert_located(kinews("validate", "--root", empty_root), "scheme-invalid", f"{LABELS}:21", 2)
    assert_located(kinews("ls", "config", "--root", empty_root), "scheme-invalid", f"{LABELS}:21")


def test_a_wrongly_typed_labels_yaml_reports_every_problem_at_its_line(empty_root, kinews):
    (empty_root / LABELS).write_text(
        "name: test\n"
        "labels:\n"
        "  - name: PER\n"
        "    definition: A person.\n"
        "    max_length: many\n"  # line 5
        "  - name: ORG\n"
        "    definition: [an, organisation]\n"  # line 7
        "    hotkey: 5\n"  # line 8
        "  - name: LOC\n"
        "    definition: A place.\n"
        "    colour: '#00ff00'\n",  # line 11: an unknown key
        "utf-8",
    )
    result = kinews("validate", "--root", empty_root)
    for line in (5, 7, 8, 11):
        assert_located(result, "scheme-invalid", f"{LABELS}:{line}", 2)


def test_a_labels_yaml_with_an_alias_is_refused_at_the_alias(empty_root, kinews):
    (empty_root / LABELS).write_text(
        "labels:\n  - &per {name: PER, definition: A person.}\n  - *per\n",
        "utf-8",
    )
    assert_located(kinews("validate", "--root", empty_root), "scheme-invalid", f"{LABELS}:3", 2)


def test_a_repeated_hotkey_is_located_at_the_label_that_repeats_it(empty_root, kinews):
    (empty_root / LABELS).write_text(
        "labels:\n"
        "  - {name: PER, definition: A person., hotkey: p}\n"
        "  - {name: ORG, definition: An organisation., hotkey: p}\n",
        "utf-8",
    )
    result = kinews("ls", "config", "--root", empty_root)
    assert_located(result, "scheme-invalid", f"{LABELS}:3")
    assert "repeated: p" in result.output


# --- seeds' sources.yaml ------------------------------------------------------------------------


def seed_folder(tmp_path: Path, sources: bytes) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    (folder / "sources.yaml").write_bytes(sources)
    return folder


ALIAS_BOMB = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + b"".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n".encode()
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + f"{SEED.name}:\n  notes: *i\n".encode()
)


def test_an_alias_bomb_in_sources_yaml_is_refused_without_expanding(empty_root, tmp_path, kinews):
    assert len(ALIAS_BOMB) < 1100
    folder = seed_folder(tmp_path, ALIAS_BOMB)
    started = time.monotonic()
    result = kinews("ingest", folder, "--root", empty_root)
    assert time.monotonic() - started < 5
    assert_located(result, "sources-invalid", "sources.yaml:2")
    assert not (empty_root / "corpus").exists()


def test_wrongly_typed_sources_yaml_values_are_each_located(empty_root, tmp_path, kinews):
    folder = seed_folder(
        tmp_path,
        f"{SEED.name}:\n  title: 5\n  group: [a]\n  language: true\n  lang: de\n".encode(),
    )
    result = kinews("ingest", folder, "--root", empty_root)
    for line in (2, 3, 4, 5):
        assert_located(result, "sources-invalid", f"sources.yaml:{line}")
    assert result.output.count("sources-invalid") == 4  # once, not once per article beside it


def test_a_sources_yaml_that_is_not_utf8_is_located(empty_root, tmp_path, kinews):
    folder = seed_folder(tmp_path, f"{SEED.name}:\n  notes: caf".encode() + b"\xe9\n")
    result = kinews("ingest", folder, "--root", empty_root)
    assert_located(result, "sources-invalid", "sources.yaml:2")


def test_the_repositorys_own_sources_yaml_fits_its_schema(empty_root, kinews):
    from kinews.declared import load_declaration

    known = load_declaration(REPO / "seeds" / "sources.yaml", "sources.schema.json", "x")
    assert SEED.name in known


# --- CHANGELOG.md and SHA256SUMS ----------------------------------------------------------------


def build_args(root: Path, out: object, *more: object) -> list[object]:
    return ["build", "--date", "2026-01-01", "--out", out, "--root", root, *more]


def test_a_changelog_that_is_not_utf8_is_located_at_its_line(seed_root, tmp_path, kinews):
    (seed_root / "CHANGELOG.md").write_bytes(b"# Changelog\n\n## [0.1.0] - 2026-01-01\n\ncaf\xe9\n")
    result = kinews(*build_args(seed_root, tmp_path / "dist"))  # the version from the CHANGELOG
    assert_located(result, "changelog-invalid", "CHANGELOG.md:5")
    result = kinews(*build_args(seed_root, tmp_path / "dist", "--version", "0.1.0"))
    assert_located(result, "changelog-invalid", "CHANGELOG.md:5")
    assert not (tmp_path / "dist").exists()


def test_a_changelog_with_two_entries_for_one_version_is_located_at_the_second(
    seed_root, tmp_path, kinews
):
    (seed_root / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [0.1.0] - 2026-01-01\n\n- one\n\n## [0.1.0] - 2026-02-01\n", "utf-8"
    )
    result = kinews(*build_args(seed_root, tmp_path / "dist", "--version", "0.1.0"))
    assert_located(result, "changelog-invalid", "CHANGELOG.md:7")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One release of the seed, copied by the tests that spoil it."""
    from typer.testing import CliRunner

    from kinews.cli import app

    root = tmp_path_factory.mktemp("built") / "root"
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "GUIDELINES.md", root / "annotations")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(SEED), "--root", str(root)]).exit_code == 0
    shutil.copy(REPO / "annotations" / "gold.jsonl", root / "annotations" / "gold.jsonl")
    args = build_args(root, root / "dist", "--version", "0.1.0")
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return root


def spoiled_release(built: Path, tmp_path: Path) -> Path:
    (release,) = (built / "dist").iterdir()
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    return copy


@pytest.mark.parametrize(
    ("sums", "line"),
    [
        (b"caf\xe9  README.md\n", 1),  # not UTF-8
        (b"0123  README.md\n", 1),  # not a sha256
        (b"%s  README.md\n%s  README.md\n" % (b"0" * 64, b"0" * 64), 2),  # listed twice
    ],
)
def test_a_malformed_sha256sums_is_located_at_its_line(built, tmp_path, kinews, sums, line):
    release = spoiled_release(built, tmp_path)
    (release / "SHA256SUMS").write_bytes(sums)
    result = kinews("publish", release, "--repo-id", "org/name", "--dry-run", "--root", tmp_path)
    assert_located(result, "checksums-invalid", f"{release.name}/SHA256SUMS:{line}")
