"""YAML declarations checked against their JSON Schema, every problem at once, each with its line.

`schemas/labels.yaml` and `schemas/dataset.yaml` are what everything else is derived from, so a
mistake in them must be reported as precisely as one in the data: every schema violation of a
file in one error, at the line of the offending key or value. Anchors and aliases are refused
(a few hundred bytes of nested aliases can expand to gigabytes), and so is text that is not
UTF-8.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from kinews.errors import KinewsError, Problem


class _NoAliases(yaml.SafeLoader):
    """A safe loader that refuses anchors and aliases instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed in kinews declarations", event.start_mark
            )
        return super().compose_node(parent, index)


# A schema error repeats the offending value; a whole mapping would bury the message.
_MESSAGE_LIMIT = 200


def read_yaml(path: Path, code: str, display: str | None = None) -> tuple[Any, yaml.Node | None]:
    """The parsed document and its node tree (for line numbers). Raises KinewsError(code)."""
    name = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KinewsError.single(code, f"cannot be read: {err.strerror}", file=name) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise KinewsError.single(
            code,
            f"not valid UTF-8: bad byte 0x{data[err.start]:02x} at byte offset {err.start}",
            file=name,
            line=data.count(b"\n", 0, err.start) + 1,
        ) from None
    return parse_yaml(text, code, name)


def parse_yaml(text: str, code: str, name: str, first_line: int = 1) -> tuple[Any, Any]:
    """YAML text (starting at line `first_line` of the file `name`), parsed without aliases;
    the document and its node tree. Raises KinewsError(code) at the line of what is wrong."""
    try:
        # Parsed once: the node tree, then the document constructed from it (what yaml.load
        # does after composing the same tree); pure-Python YAML is slow enough to matter.
        loader = _NoAliases(text)
        try:
            node = loader.get_single_node()
            parsed = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + first_line if mark is not None else None
        reason = getattr(err, "problem", None) or str(err)
        raise KinewsError.single(code, f"not valid YAML: {reason}", file=name, line=line) from None
    except RecursionError:  # thousands of nested `[`: no declaration nests more than a few levels
        raise KinewsError.single(
            code, "not valid YAML for kinews: nested too deeply", file=name
        ) from None
    return parsed, node


def _line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """The 1-based line of the value at `path` (or of the deepest part of it that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == step), None)
            key = next((k for k, _ in node.value if k.value == step), None)
            if match is None:
                return line
            line, node = (key or match).start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return line
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped with kinews (the same file as `schemas/<name>` in the repository)."""
    text = files("kinews").joinpath("schemas", name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@dataclass(frozen=True)
class Declaration:
    """A YAML declaration that passed its schema, and where each of its values is written."""

    data: Any
    line_of: Callable[[tuple[Any, ...]], int | None]


def load_declaration(path: Path, schema_name: str, code: str) -> Any:
    """Read a YAML declaration and check it against its schema; every violation is reported."""
    return read_declaration(path, schema_name, code).data


def read_declaration(
    path: Path, schema_name: str, code: str, display: str | None = None
) -> Declaration:
    """`load_declaration` with the lines of its values, for checks beyond the schema.

    Raises KinewsError(code) with every schema violation (file shown as `display`).
    """
    from jsonschema import Draft202012Validator

    name = display or str(path)
    data, node = read_yaml(path, code, name)
    validator = Draft202012Validator(schema(schema_name))
    problems = []
    for error in validator.iter_errors(data):
        where = tuple(error.absolute_path)
        keys: list[Any] = [None]
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            # one problem per unexpected key, at that key's own line
            known = set(error.schema.get("properties", {}))
            keys = sorted(k for k in error.instance if k not in known)
        for key in keys:
            at = where if key is None else (*where, key)
            message = error.message if key is None else f"unknown key {key!r}"
            if len(message) > _MESSAGE_LIMIT:
                message = message[: _MESSAGE_LIMIT - 1] + "…"
            problems.append(
                Problem(
                    name,
                    _line_of(node, at),
                    None,
                    None,
                    code,
                    f"{'.'.join(str(p) for p in at) or 'the file'}: {message}",
                )
            )
    if problems:
        raise KinewsError(sorted(problems, key=lambda p: (p.line or 0, p.message)))
    return Declaration(data, lambda at: _line_of(node, at))
