"""The README documents every command and every problem code; every code is tested."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import typer.main

from conftest import CASES, REPO
from kinews.cli import app

README = (REPO / "README.md").read_text("utf-8")
CODE = re.compile(r"^[a-z]+(?:-[a-z0-9]+)+$")
TABLE_ROW = re.compile(r"^\| `([a-z0-9-]+)` \| ([a-z, ]+) \|", re.MULTILINE)


def codes_raised_in_source() -> set[str]:
    """Kebab-case constants passed to Problem, KinewsError.single, Rule or _Fields.problem."""
    found = set()
    for path in (REPO / "src" / "kinews").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in {"Problem", "single", "Rule", "problem"}:
                found |= {
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and CODE.match(arg.value)
                }
    return found


def documented_codes() -> dict[str, str]:
    return {code: stages for code, stages in TABLE_ROW.findall(README)}


def test_every_command_is_in_the_readme():
    for command in typer.main.get_command(app).commands:
        assert f"### `kinews {command}" in README, command


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
