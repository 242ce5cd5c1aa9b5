"""The validator's report in its three formats: text (like a compiler), json and github.

`github` is workflow commands, which GitHub shows as annotations on the files and lines.
"""

from __future__ import annotations

import json

from kinews.errors import Problem, json_visible, visible

REPORT_FORMATS = ("text", "json", "github")
GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render_report(problems: list[Problem], format: str) -> str:
    """The whole report of `problems` (sorted by location) in one of REPORT_FORMATS."""
    if format == "json":
        report = json.dumps([p.to_json() for p in problems], ensure_ascii=False, indent=2)
        return json_visible(report)
    if format == "github":
        return "\n".join([*(github(p) for p in problems), summary(problems)])
    return grouped(problems)


def grouped(problems: list[Problem]) -> str:
    """Like a compiler: one line per problem, a blank line between files, counts per code."""
    lines: list[str] = []
    for index, problem in enumerate(problems):
        if index and problem.file != problems[index - 1].file:
            lines.append("")
        lines.append(str(problem))
    if problems:
        lines.append("")
    lines.append(summary(problems))
    counts: dict[tuple[str, str], int] = {}
    for problem in problems:
        key = (problem.severity, problem.code)
        counts[key] = counts.get(key, 0) + 1
    order = {"error": 0, "warning": 1, "info": 2}
    for (severity, code), n in sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        lines.append(f"  {code}: {n} {severity}{'s' if n != 1 else ''}")
    return "\n".join(lines)


def github(problem: Problem) -> str:
    """A workflow command: GitHub shows it as an annotation on the file and line."""

    def escape(text: str, *, prop: bool = False) -> str:
        text = visible(text, keep="\r\n").replace("%", "%25")
        text = text.replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    props = [f"file={escape(problem.file, prop=True)}"] if problem.file else []
    if problem.line is not None:
        props.append(f"line={problem.line}")
    props.append(f"title={escape(problem.code, prop=True)}")
    where = [f"doc={problem.doc_id}"] if problem.doc_id is not None else []
    if problem.span is not None:
        where.append(f"span={problem.span}")
    message = " ".join([*where, f"{problem.code}: {problem.message}"])
    return f"::{GITHUB_LEVEL[problem.severity]} {','.join(props)}::{escape(message)}"


def summary(problems: list[Problem]) -> str:
    if not problems:
        return "valid: no problems"
    counts = {severity: 0 for severity in GITHUB_LEVEL}
    for problem in problems:
        counts[problem.severity] += 1
    plural = {"error": "errors", "warning": "warnings", "info": "infos"}
    return ", ".join(
        f"{n} {severity if n == 1 else plural[severity]}" for severity, n in counts.items() if n
    )
