"""The docs pages document every command and every problem code; every code is tested.

docs/commands.md has a section per command, docs/problem-codes.md a table row per code; the README
stays a short front page that links to every page (mkdocs build --strict, run by make test, checks
the links between the pages).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import typer.main

from conftest import CASES, REPO
from kinews.cli import app

DOCS = REPO / "docs"
COMMANDS = (DOCS / "commands.md").read_text("utf-8")
PROBLEM_CODES = (DOCS / "problem-codes.md").read_text("utf-8")
README = (REPO / "README.md").read_text("utf-8")
CODE = re.compile(r"^[a-z]+(?:-[a-z0-9]+)+$")
TABLE_ROW = re.compile(r"^\| `([a-z0-9-]+)` \| ([a-z, ]+) \|", re.MULTILINE)


def codes_raised_in_source() -> set[str]:
    """Kebab-case constants passed to Problem, KinewsError.single, Rule, _Fields.problem, the
    readers of YAML declarations or a release folder's comparison of digests (mismatched)."""
    found = set()
    for path in (REPO / "src" / "kinews").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in {
                "Problem",
                "single",
                "Rule",
                "problem",
                "load_declaration",
                "read_declaration",
                "mismatched",
            }:
                found |= {
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and CODE.match(arg.value)
                }
    return found


def documented_codes() -> dict[str, str]:
    return {code: stages for code, stages in TABLE_ROW.findall(PROBLEM_CODES)}


def has_section(command: str) -> bool:
    return re.search(rf"^## `kinews {re.escape(command)}\b", COMMANDS, re.MULTILINE) is not None


def test_every_command_has_its_section_in_the_docs():
    for name, command in typer.main.get_command(app).commands.items():
        assert has_section(name), name
        # a group (kinews ls) documents each of its commands in a section of its own
        for sub in getattr(command, "commands", {}):
            assert has_section(f"{name} {sub}"), f"{name} {sub}"


def test_readme_is_a_short_front_page_linking_every_docs_page():
    assert len(README.encode("utf-8")) <= 10_000
    linked = set(re.findall(r"\]\(docs/([a-z-]+\.md)\)", README))
    assert linked == {page.name for page in DOCS.glob("*.md")}


def test_the_quick_start_commands_are_make_targets():
    makefile = (REPO / "Makefile").read_text("utf-8")
    for target in ("dataset", "test"):
        assert f"make {target}" in README, target
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_every_command_takes_root():
    for name, command in typer.main.get_command(app).commands.items():
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert "--root" in options, name


def test_every_code_raised_is_documented_and_every_documented_code_is_raised():
    assert codes_raised_in_source() == set(documented_codes())


def test_every_validator_code_has_its_case_folder():
    validator_codes = {c for c, stages in documented_codes().items() if "validate" in stages}
    case_folders = {p.name for p in (CASES / "validate").iterdir() if p.name != "base"}
    assert validator_codes == case_folders


def test_python_dash_m_kinews_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "kinews", "--help"], capture_output=True, text=True, check=True
    )
    for name in typer.main.get_command(app).commands:
        assert name in result.stdout
