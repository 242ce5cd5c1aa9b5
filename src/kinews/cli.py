"""The `kinews` command: one subcommand per stage. The only module that prints or exits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kinews.errors import KinewsError, Problem

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Grow, check and release the kinews corpus."
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

Root = Annotated[
    Path,
    typer.Option(
        "--root", help="Dataset root holding corpus/, annotations/, schemas/.", file_okay=False
    ),
]


def _fail(error: KinewsError, code: int = 1) -> typer.Exit:
    for problem in error.problems:
        err.print(str(problem), markup=False)
    return typer.Exit(code)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help=".txt files, .jsonl files or folders.")],
    title: Annotated[str | None, typer.Option(help="Title of every article read.")] = None,
    source: Annotated[str | None, typer.Option(help="Publishing outlet.")] = None,
    url: Annotated[str | None, typer.Option(help="URL of the article.")] = None,
    published: Annotated[str | None, typer.Option(help="Publication date, ISO 8601.")] = None,
    license: Annotated[str | None, typer.Option("--license", help="Licence id (SPDX).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code (default: de).")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a changed text under an existing id.")
    ] = False,
    root: Root = Path("."),
) -> None:
    """Add articles to corpus/documents.jsonl (normalised: BOM, CRLF/CR → LF, NFC)."""
    from kinews.ingest import ingest as run
    from kinews.ingest import read_articles

    overrides = {
        "title": title,
        "source": source,
        "url": url,
        "published": published,
        "license": license,
        "language": language,
    }
    try:
        report = run(root, read_articles(paths, overrides), replace_changed=replace)
    except KinewsError as error:
        raise _fail(error) from None
    for doc_id in report.added:
        out.print(f"added {doc_id}")
    for doc_id in report.metadata_updated:
        out.print(f"updated metadata of {doc_id}")
    for doc_id in report.replaced:
        out.print(f"replaced text of {doc_id}")
    for doc_id in report.unchanged:
        out.print(f"unchanged {doc_id} (already ingested)")
    for incoming, existing in report.duplicates:
        out.print(f"skipped {incoming}: the same text is already in the corpus as {existing}")
    for stale in report.stale_annotations:
        out.print(f"stale annotation (re-check it): {stale}", markup=False)
    if not report.changed:
        out.print("corpus unchanged")


@app.command()
def validate(
    root: Root = Path("."),
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    strict: Annotated[bool, typer.Option(help="Warnings fail too.")] = False,
) -> None:
    """Check corpus and annotations; exit 1 on errors, listing every problem with its location."""
    from kinews.validate import validate as run

    if format not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--format")
    try:
        problems = run(root)
    except KinewsError as error:
        raise _fail(error, 2) from None
    failing = [p for p in problems if p.severity == "error" or (strict and p.severity == "warning")]
    if format == "json":
        out.print(
            json.dumps([p.to_json() for p in problems], ensure_ascii=False, indent=2), markup=False
        )
    else:
        for problem in problems:
            out.print(str(problem), markup=False)
        out.print(_summary(problems))
    raise typer.Exit(1 if failing else 0)


def _summary(problems: list[Problem]) -> str:
    if not problems:
        return "valid: no problems"
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.severity] = counts.get(problem.severity, 0) + 1
    return ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in counts.items())


@app.command()
def build(
    version: Annotated[
        str | None,
        typer.Option(help="Release version X.Y.Z [default: newest entry of CHANGELOG.md]."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for releases.")] = Path("dist"),
    root: Root = Path("."),
) -> None:
    """Build dist/kinews-X.Y.Z: Parquet splits, dataset card, checksums."""
    from kinews.build import build as run
    from kinews.build import current_version

    try:
        release = run(root, version or current_version(root), out_dir)
    except KinewsError as error:
        raise _fail(error) from None
    sizes = ", ".join(f"{split} {n}" for split, n in release.documents.items())
    out.print(
        f"built {release.path}: {sum(release.documents.values())} documents ({sizes}), "
        f"{release.spans} spans"
    )
    if release.unannotated:
        out.print(
            f"left out {len(release.unannotated)} document(s) without annotation: "
            + ", ".join(release.unannotated)
        )


def main() -> None:
    app()
