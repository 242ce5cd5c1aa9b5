"""`kinews ls`: annotation sessions in Label Studio (push, pull, import, config, serve)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kinews.cli.common import Offsets, Root, err, out
from kinews.errors import plural

if TYPE_CHECKING:
    from rich.progress import TaskID

ls_app = typer.Typer(
    no_args_is_help=True, help="Annotation sessions in Label Studio (LABEL_STUDIO_URL/_API_KEY)."
)
LsRoot = Annotated[
    Path | None,
    typer.Option(
        "--root", help="Dataset root [default: the one given to `ls`, or .].", file_okay=False
    ),
]
Project = Annotated[str, typer.Option("--project", help="Title of the Label Studio project.")]


@ls_app.callback()
def ls_group(ctx: typer.Context, root: Root = Path(".")) -> None:
    """Push documents to Label Studio, pull annotations back, import exports, serve locally."""
    ctx.obj = root


def _ls_root(ctx: typer.Context, root: Path | None) -> Path:
    return root if root is not None else (ctx.obj or Path("."))


@ls_app.command("config")
def ls_config(ctx: typer.Context, root: LsRoot = None) -> None:
    """Print the labelling config generated from schemas/labels.yaml."""
    from kinews.labelstudio.export import label_config
    from kinews.scheme import load_scheme

    out.print(label_config(load_scheme(_ls_root(ctx, root))), end="", markup=False)


@ls_app.command("push")
def ls_push(
    ctx: typer.Context,
    project: Project,
    predictions: Annotated[
        bool, typer.Option("--predictions", help="Pre-annotate from a gazetteer of gold spans.")
    ] = False,
    update_changed: Annotated[
        bool, typer.Option("--update-changed", help="Update tasks whose document text changed.")
    ] = False,
    review: Annotated[
        bool,
        typer.Option("--review", help="Attach the open worklist items' candidates as predictions."),
    ] = False,
    root: LsRoot = None,
) -> None:
    """Create or update the project and import one task per document not yet in it.

    With --review, instead put the documents with open worklist items up for review.
    """
    from kinews.labelstudio.push import push
    from kinews.labelstudio.sessions import connect

    if review:
        if predictions or update_changed:
            raise typer.BadParameter("--review goes alone (no --predictions, --update-changed)")
        from kinews.labelstudio.review import push_review  # the worklist's: 0.3 s to import

        reviewed = push_review(connect(), _ls_root(ctx, root), project)
        verb = "created" if reviewed.project_created else "found"
        out.print(f"{verb} project {project!r} (id {reviewed.project_id})", markup=False)
        if reviewed.config_updated:
            out.print("updated the labelling config from the scheme")
        for doc_id, reason in reviewed.skipped:
            out.print(f"skipped {doc_id}: {reason}", markup=False)
        out.print(
            f"{plural(len(reviewed.documents), 'document')} with "
            f"{plural(reviewed.open_items, 'open item')}: "
            f"{len(reviewed.added)} tasks added, {reviewed.attached} review predictions attached, "
            f"{reviewed.replaced} outdated removed, {len(reviewed.up_to_date)} up to date"
        )
        return
    with _bars() as progress:
        report = push(
            connect(),
            _ls_root(ctx, root),
            project,
            predictions=predictions,
            update_changed=update_changed,
            progress=progress,
        )
    verb = "created" if report.project_created else "found"
    out.print(f"{verb} project {project!r} (id {report.project_id})", markup=False)
    if report.config_updated:
        out.print("updated the labelling config from the scheme")
    for doc_id in report.changed:
        action = "task updated" if doc_id in report.updated else "use --update-changed"
        out.print(f"changed text: {doc_id} ({action})", markup=False)
    for doc_id in report.annotated_before:
        out.print(f"re-check the annotations of {doc_id}: made on its old text", markup=False)
    out.print(
        f"{len(report.added)} tasks added, {report.unchanged} unchanged, "
        f"{len(report.changed)} changed, {report.predictions} predictions"
        + (f" ({report.model_version})" if report.model_version else "")
    )


@contextmanager
def _bars() -> Iterator[Callable[[str, int, int | None], None]]:
    """A progress callback drawing one transient bar per step on stderr."""
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        jobs: dict[str, TaskID] = {}

        def progress(step: str, done: int, total: int | None) -> None:
            if step not in jobs:
                jobs[step] = bar.add_task(step, total=total)
            bar.update(jobs[step], completed=done, total=total)

        yield progress


def _print_pull(report) -> None:
    for where in report.deleted:
        state = "pruned" if report.pruned else "kept locally (--prune removes it)"
        out.print(f"deleted on the server: {where}, {state}", markup=False)
    for where, there in report.elsewhere:
        out.print(f"skipped {where}: {there}", markup=False)
    skipped = sum(n for _, n in report.skipped)
    reasons = ", ".join(f"{n} {reason}" for reason, n in report.skipped)
    out.print(
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.deleted)} deleted, {skipped} skipped" + (f" ({reasons})" if reasons else ""),
        markup=False,
    )
    if report.incremental:
        out.print("read only the tasks changed since the last pull (--full reads all)")
    out.print(f"{'wrote' if report.written else 'unchanged:'} {report.path}", markup=False)


@ls_app.command("pull")
def ls_pull(
    ctx: typer.Context,
    project: Project,
    drafts: Annotated[bool, typer.Option("--drafts", help="Also pull unsubmitted drafts.")] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Drop records whose annotation was deleted.")
    ] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="[default: annotations/ls-<project>.jsonl]")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Read every task, not only those changed since.")
    ] = False,
    root: LsRoot = None,
) -> None:
    """Pull every annotation of the project into annotations/ (annotators as pseudonyms).

    After the first pull into a file, only the tasks changed since are read (see
    docs/annotation-session.md); --full reads them all.
    """
    from kinews.labelstudio.sessions import connect, pull

    with _bars() as progress:
        report = pull(
            connect(),
            _ls_root(ctx, root),
            project,
            drafts=drafts,
            prune=prune,
            out=out_file,
            full=full,
            progress=progress,
        )
    _print_pull(report)


@ls_app.command("import")
def ls_import(
    ctx: typer.Context,
    export: Annotated[
        Path,
        typer.Argument(help="JSON, JSON_MIN or legacy export file.", exists=True, dir_okay=False),
    ],
    label: Annotated[
        list[str] | None, typer.Option("--label", help="Map a tool label: NAME=SCHEME_LABEL.")
    ] = None,
    text_key: Annotated[str, typer.Option(help="Task data key holding the text.")] = "text",
    match_text: Annotated[
        bool, typer.Option("--match-text", help="Find tasks without doc_id by their exact text.")
    ] = False,
    offsets: Annotated[Offsets, typer.Option(help="code-points or utf-16.")] = "code-points",
    created_at: Annotated[
        str | None, typer.Option(help="Timestamp for annotations that carry none.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="[default: annotations/ls-import-<file>.jsonl]")
    ] = None,
    root: LsRoot = None,
) -> None:
    """Convert a file exported from the Label Studio UI into annotation records."""
    from kinews.labelstudio.export import Options
    from kinews.labelstudio.sessions import import_export

    pairs = [item.partition("=") for item in label or ()]
    if any(not sep or not a or not b for a, sep, b in pairs):
        raise typer.BadParameter("must be NAME=SCHEME_LABEL", param_hint="--label")
    options = Options(
        text_key=text_key,
        labels={a: b for a, _, b in pairs},
        offsets=offsets,
        match_text=match_text,
        created_at=created_at,
    )
    report = import_export(_ls_root(ctx, root), export, options, out_file)
    _print_pull(report)


@ls_app.command("serve")
def ls_serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    data_dir: Annotated[
        Path | None, typer.Option(help="[default: <root>/.labelstudio]", file_okay=False)
    ] = None,
    root: LsRoot = None,
) -> None:
    """Start Label Studio locally (scripts/label-studio) until interrupted."""
    import subprocess

    base = _ls_root(ctx, root)
    script = base / "scripts" / "label-studio"
    if not script.exists():
        script = Path(__file__).resolve().parents[3] / "scripts" / "label-studio"
    folder = data_dir or base / ".labelstudio"
    command = ["bash", str(script), "serve", "--port", str(port), "--data-dir", str(folder)]
    try:
        code = subprocess.call(command)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
