"""The `kinews` command: one subcommand per stage, the `ls` group in `kinews.cli.ls`.

With `kinews.cli.common` and `kinews.cli.ls`, the only modules that print or exit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from kinews.cli.common import (
    OWN_PROCESS,
    Commands,
    ReportFormat,
    Root,
    TextOrJson,
    err,
    out,
)
from kinews.cli.ls import ls_app
from kinews.errors import plural
from kinews.release import MAX_SHARD_SIZE
from kinews.root import GOLD_FILE, WORKLIST_FILE

app = typer.Typer(
    cls=Commands,
    no_args_is_help=True,
    add_completion=False,
    help="Grow, check and release the kinews corpus.",
)
app.add_typer(ls_app, name="ls")


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new repository's folder (new or empty).")],
    name: Annotated[
        str, typer.Option("--name", help="The dataset's name: lower case, digits and -.")
    ],
    language: Annotated[str, typer.Option(help="Language code of the texts.")] = "de",
    root: Root = Path("."),
) -> None:
    """Start a new corpus repository: its declarations, guidelines template, Makefile and CI."""
    from kinews.init import init as run

    target = root / folder
    written = run(target, name, language)
    out.print(f"created the corpus repository {name} in {target}:", markup=False)
    for path in written:
        out.print(f"  {path.relative_to(target)}", markup=False)
    out.print(
        f"next: describe {name} in schemas/dataset.yaml, adapt schemas/labels.yaml and "
        "annotations/GUIDELINES.md, then `kinews ingest` your texts",
        markup=False,
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help=".txt files, .jsonl files or folders.")],
    title: Annotated[str | None, typer.Option(help="Title of every article read.")] = None,
    source: Annotated[str | None, typer.Option(help="Publishing outlet.")] = None,
    url: Annotated[str | None, typer.Option(help="URL of the article.")] = None,
    published: Annotated[str | None, typer.Option(help="Publication date, ISO 8601.")] = None,
    license: Annotated[str | None, typer.Option("--license", help="Licence id (SPDX).")] = None,
    language: Annotated[str | None, typer.Option(help="Language code (default: de).")] = None,
    group: Annotated[
        str | None, typer.Option(help="Group sharing one split (same story, a series).")
    ] = None,
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
        "group": group,
    }
    report = run(root, read_articles(paths, overrides), replace_changed=replace)
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
    ctx: typer.Context,
    root: Root = Path("."),
    format: Annotated[
        ReportFormat, typer.Option("--format", help="text, json or github (workflow annotations).")
    ] = "text",
    strict: Annotated[bool, typer.Option(help="Warnings fail too.")] = False,
) -> None:
    """Check corpus and annotations; exit 1 on errors, listing every problem with its location."""
    from kinews.validate.command import run

    # typer.echo, not rich: a report can have millions of lines and needs no markup.
    code = run(root, format, strict, typer.echo, own_process=ctx.obj == OWN_PROCESS)
    raise typer.Exit(code)


@app.command()
def build(
    version: Annotated[
        str | None,
        typer.Option(help="Release version X.Y.Z [default: newest entry of CHANGELOG.md]."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for releases.")] = Path("dist"),
    date: Annotated[
        str | None,
        typer.Option(help="Date YYYY-MM-DD of a new release without a dated CHANGELOG entry."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes tokenizing new texts [default: one per core]."),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Tokenize new texts on this dask.distributed scheduler (needs kinews[dask])."
        ),
    ] = None,
    max_shard_size: Annotated[
        str,
        typer.Option(
            help="A config's split larger than this (in Arrow memory, e.g. 500MB, 64MiB) is "
            "written as several Parquet files."
        ),
    ] = MAX_SHARD_SIZE,
    baseline: Annotated[
        bool,
        typer.Option(
            help="Train the card's CRF baseline (--no-baseline: the card says how to measure "
            "it; a rebuild of the version needs the same choice)."
        ),
    ] = True,
    root: Root = Path("."),
) -> None:
    """Build dist/<name>-X.Y.Z (configs, card, Croissant, checksums); record or reproduce it."""
    from rich.progress import Progress

    from kinews.lock import root_lock
    from kinews.release.build import build as run
    from kinews.release.build import current_version
    from kinews.release.parquet import parse_size

    shard_size = parse_size(max_shard_size)
    chosen = version or current_version(root)
    # it records the release in releases/ and CHANGELOG.md; the bar shows only while new texts
    # are tokenized (on stderr, gone when done)
    with root_lock(root, "build"), Progress(console=err, transient=True) as bar:
        job = bar.add_task("tokenizing new texts", total=None, visible=False)

        def tokenized(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total, visible=True)

        if scheduler is None:
            release = run(
                root,
                chosen,
                out_dir,
                date=date,
                workers=workers,
                baseline=baseline,
                max_shard_size=shard_size,
                progress=tokenized,
            )
        else:
            with _dask_client(scheduler) as client:
                release = run(
                    root,
                    chosen,
                    out_dir,
                    date=date,
                    executor=client.get_executor(),
                    baseline=baseline,
                    max_shard_size=shard_size,
                    progress=tokenized,
                )
    sizes = ", ".join(f"{split} {n}" for split, n in release.documents.items())
    out.print(
        f"built {release.path}: {plural(sum(release.documents.values()), 'document')} ({sizes}), "
        f"{plural(release.spans, 'span')}; tokenized {plural(release.tokenized, 'text')}, "
        f"{release.tokens_cached} from the cache"
    )
    if release.recorded:
        out.print(
            f"recorded release {release.version} ({release.date}) in "
            f"releases/{release.version}.json and releases/splits.jsonl"
            + ("; added its entry to CHANGELOG.md" if release.changelog_added else "")
            + ": commit them with the data"
        )
    else:
        out.print(f"reproduced the recorded release {release.version}: identical checksums")
    if release.unannotated:
        out.print(
            f"left out {plural(len(release.unannotated), 'document')} without annotation: "
            + ", ".join(release.unannotated)
        )


def _dask_client(address: str):
    """A dask.distributed client of the scheduler at `address`; a usage error when out of reach."""
    try:
        from distributed import Client
    except ImportError as error:
        raise typer.BadParameter(
            "needs dask.distributed: pip install 'kinews[dask]'", param_hint="--scheduler"
        ) from error
    try:
        return Client(address, timeout=10)
    except (OSError, TimeoutError) as error:
        raise typer.BadParameter(
            f"no dask scheduler answers at {address}: {error}", param_hint="--scheduler"
        ) from error


@app.command()
def diff(
    old_release: Annotated[Path, typer.Argument(help="The older release folder.")],
    new_release: Annotated[Path, typer.Argument(help="The newer release folder.")],
    format: TextOrJson = "text",
    root: Root = Path("."),
) -> None:
    """Span-aware diff of two releases: documents and spans per split and label, totals first."""
    from kinews.release.diff import diff_releases
    from kinews.release.diff_report import render_json, render_text

    result = diff_releases(root / old_release, root / new_release)
    out.print((render_json if format == "json" else render_text)(result), end="", markup=False)


@app.command()
def show(
    doc_id: Annotated[str, typer.Argument(help="The document id.")],
    annotator: Annotated[
        list[str] | None,
        typer.Option(help="Show this annotator's record (repeat to compare several)."),
    ] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write a standalone HTML page here instead.")
    ] = None,
    root: Root = Path("."),
) -> None:
    """Show a document with its spans highlighted, and where annotators differ."""
    from kinews.files import write_atomic
    from kinews.show import load_view, render_html, render_terminal

    view = load_view(root, doc_id, annotator or ())
    if html_file is not None:
        write_atomic(html_file, render_html(view).encode("utf-8"))
        out.print(f"wrote {html_file}", markup=False)
    else:
        out.print(render_terminal(view))


@app.command()
def publish(
    release_dir: Annotated[Path, typer.Argument(help="The release folder, dist/<name>-X.Y.Z.")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="Dataset repository ORG/NAME.")],
    private: Annotated[bool, typer.Option(help="Create the repository private.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List every operation; send nothing.")
    ] = False,
    root: Root = Path("."),
) -> None:
    """Upload a release to the Hub in one commit "Release vX.Y.Z" and tag it vX.Y.Z."""
    from kinews.release.publish import plan_publish
    from kinews.release.publish import publish as run

    plan = plan_publish(root / release_dir, repo_id, root, private=private)
    if dry_run:
        out.print("dry run: nothing is sent; a publish would", markup=False)
        for operation in plan.operations():
            out.print(f"  {operation}", markup=False)
        return
    report = run(plan)
    if report.created_repo:
        out.print(f"created dataset repository {plan.repo_id}", markup=False)
    for path in report.deleted:
        out.print(f"deleted {path} (not in this release)", markup=False)
    out.print(
        f'committed {plural(len(plan.files), "file")} as "{plan.message}": {report.commit_url}',
        markup=False,
    )
    out.print(
        f"verified {plural(report.verified, 'file')} on the Hub; tagged {plan.tag}", markup=False
    )


@app.command()
def baseline(
    release: Annotated[Path, typer.Argument(help="A release folder (dist/<name>-X.Y.Z).")],
    format: TextOrJson = "text",
    root: Root = Path("."),
) -> None:
    """Train a CRF on the release's train sentences; seqeval scores on validation and test."""
    from kinews.release.baseline import render_text, run_baseline

    report = run_baseline(root / release)
    out.print(report.to_json() if format == "json" else render_text(report), end="", markup=False)


@app.command()
def agree(
    by_label: Annotated[bool, typer.Option("--by-label", help="Entity F1 per label too.")] = False,
    format: TextOrJson = "text",
    root: Root = Path("."),
) -> None:
    """Inter-annotator agreement over documents with two or more annotators."""
    from kinews.adjudication.agreement import agree as run

    report = run(root)
    if format == "json":
        data = report.to_json()
        if not by_label:
            del data["by_label"]
        out.print(json.dumps(data, ensure_ascii=False, indent=2), markup=False)
        return
    for line in _agreement_lines(report, by_label):
        out.print(line, markup=False)


def _agreement_lines(report, by_label: bool) -> list[str]:
    def f(value: float | None) -> str:
        return "  n/a" if value is None else f"{value:.3f}"

    if not report.documents:
        return ["no document has two or more annotators: nothing to compare"]
    e, t, i = report.entities, report.tokens, report.entity_tokens
    lines = [
        f"{plural(report.documents, 'document')}, {plural(report.annotators, 'annotator')}, "
        f"{plural(report.pairs, 'pair')}",
        f"entity F1 (mean over pairs): exact {f(e.exact)}  partial {f(e.partial)}  "
        f"type {f(e.type)}",
        f"Cohen's kappa (mean over pairs): all tokens {f(t.kappa)}  entity tokens {f(i.kappa)}",
        f"Krippendorff's alpha: all tokens {f(t.alpha)} ({t.tokens})  "
        f"entity tokens {f(i.alpha)} ({i.tokens})",
    ]
    if by_label:
        lines.append(f"{'label':<10} {'spans':>6} {'exact':>6} {'partial':>7} {'type':>6}")
        for label, a in report.by_label.items():
            lines.append(
                f"{label:<10} {a.spans:>6} {f(a.exact):>6} {f(a.partial):>7} {f(a.type):>6}"
            )
    if report.pairs > 1:
        for p in report.per_pair:
            lines.append(
                f"pair {p.annotators[0]} / {p.annotators[1]}: {plural(p.documents, 'document')}, "
                f"exact {f(p.exact)}, kappa {f(p.kappa)}"
            )
    lines.append(f"tokens: {report.tokenizer}")
    return lines


@app.command()
def adjudicate(
    min_agree: Annotated[
        int, typer.Option("--min-agree", min=1, help="Annotators who must mark a span exactly.")
    ] = 2,
    root: Root = Path("."),
) -> None:
    """Build gold records from several annotators; disagreements go to a worklist."""
    from kinews.adjudication.adjudicate import adjudicate as run

    report = run(root, min_agree)
    out.print(
        f"{plural(len(report.documents), 'document')} adjudicated into {GOLD_FILE}: "
        f"{plural(report.spans, 'span')}; "
        f"{report.open_items} open and {report.resolved_items} resolved items in {WORKLIST_FILE}",
        markup=False,
    )
    for doc_id in report.kept_edited:
        out.print(f"kept gold edited by hand: {doc_id}", markup=False)
    for doc_id in report.skipped:
        out.print(f"skipped {doc_id}: it has a hand-made gold record", markup=False)
    for where in report.reopened:
        out.print(f"reopened {where}: the candidates changed since it was resolved", markup=False)
    for doc_id in report.removed:
        out.print(f"removed the adjudicated gold of {doc_id}: no longer needed", markup=False)
    if not report.changed:
        out.print("nothing changed")


def main() -> None:
    # numpy's OpenBLAS starts a thread per core when imported, and idle, they spin for a while.
    # kinews does no linear algebra; on a 2-core machine that spinning takes a core from the
    # validator's parsing. (Before any import of numpy; a value the user set is kept.)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # The commands learn that they run in a process of their own, which ends when they do.
    app(obj=OWN_PROCESS)
