"""The `kinews` command: one subcommand per stage. The only module that prints or exits."""

from __future__ import annotations

import gc
import json
import os
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer
from rich.console import Console

from kinews.errors import KinewsError

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
# The report formats of the commands that print a report; click refuses anything else (exit 2).
TextOrJson = Annotated[Literal["text", "json"], typer.Option("--format", help="text or json.")]


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
    format: Annotated[
        str, typer.Option("--format", help="text, json or github (workflow annotations).")
    ] = "text",
    strict: Annotated[bool, typer.Option(help="Warnings fail too.")] = False,
) -> None:
    """Check corpus and annotations; exit 1 on errors, listing every problem with its location."""
    from kinews.report import REPORT_FORMATS, render_report
    from kinews.validate import validate as run

    if format not in REPORT_FORMATS:
        choices = ", ".join(REPORT_FORMATS)
        raise typer.BadParameter(f"must be one of {choices}", param_hint="--format")
    standalone = _standalone.get()
    if standalone:
        # No cyclic garbage collection for the rest of a process that ends with the report:
        # re-enabled after the run, its first pass would walk every object the run made.
        gc.disable()
    try:
        problems = run(root)
    except KinewsError as error:
        raise _fail(error, 2) from None
    failing = [p for p in problems if p.severity == "error" or (strict and p.severity == "warning")]
    # typer.echo, not rich: a report can have millions of lines and needs no markup.
    typer.echo(render_report(problems, format))
    if standalone:
        _exit_now(1 if failing else 0)
    raise typer.Exit(1 if failing else 0)


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
    root: Root = Path("."),
) -> None:
    """Build dist/kinews-X.Y.Z (configs, card, Croissant, checksums); record or reproduce it."""
    from kinews.build import build as run
    from kinews.build import current_version

    try:
        release = run(root, version or current_version(root), out_dir, date=date)
    except KinewsError as error:
        raise _fail(error) from None
    sizes = ", ".join(f"{split} {n}" for split, n in release.documents.items())
    out.print(
        f"built {release.path}: {sum(release.documents.values())} documents ({sizes}), "
        f"{release.spans} spans"
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
            f"left out {len(release.unannotated)} document(s) without annotation: "
            + ", ".join(release.unannotated)
        )


@app.command()
def diff(
    old_release: Annotated[Path, typer.Argument(help="The older release folder.")],
    new_release: Annotated[Path, typer.Argument(help="The newer release folder.")],
    format: TextOrJson = "text",
    root: Root = Path("."),
) -> None:
    """Span-aware diff of two releases: documents and spans per split and label, totals first."""
    from kinews.diff import diff_releases, render_json, render_text

    try:
        result = diff_releases(root / old_release, root / new_release)
    except KinewsError as error:
        raise _fail(error) from None
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
    from kinews.records import write_atomic
    from kinews.show import load_view, render_html, render_terminal

    try:
        view = load_view(root, doc_id, annotator or ())
    except KinewsError as error:
        raise _fail(error) from None
    if html_file is not None:
        write_atomic(html_file, render_html(view).encode("utf-8"))
        out.print(f"wrote {html_file}", markup=False)
    else:
        out.print(render_terminal(view))


@app.command()
def publish(
    release_dir: Annotated[Path, typer.Argument(help="The release folder, dist/kinews-X.Y.Z.")],
    repo_id: Annotated[str, typer.Option("--repo-id", help="Dataset repository ORG/NAME.")],
    private: Annotated[bool, typer.Option(help="Create the repository private.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List every operation; send nothing.")
    ] = False,
    root: Root = Path("."),
) -> None:
    """Upload a release to the Hub in one commit "Release vX.Y.Z" and tag it vX.Y.Z."""
    from kinews.publish import plan_publish
    from kinews.publish import publish as run

    try:
        plan = plan_publish(root / release_dir, repo_id, private=private)
        if dry_run:
            out.print("dry run: nothing is sent; a publish would", markup=False)
            for operation in plan.operations():
                out.print(f"  {operation}", markup=False)
            return
        report = run(plan)
    except KinewsError as error:
        raise _fail(error) from None
    if report.created_repo:
        out.print(f"created dataset repository {plan.repo_id}", markup=False)
    for path in report.deleted:
        out.print(f"deleted {path} (not in this release)", markup=False)
    out.print(
        f'committed {len(plan.files)} files as "{plan.message}": {report.commit_url}', markup=False
    )
    out.print(f"verified {report.verified} files on the Hub; tagged {plan.tag}", markup=False)


@app.command()
def agree(
    by_label: Annotated[bool, typer.Option("--by-label", help="Entity F1 per label too.")] = False,
    format: TextOrJson = "text",
    root: Root = Path("."),
) -> None:
    """Inter-annotator agreement over documents with two or more annotators."""
    from kinews.agreement import agree as run

    try:
        report = run(root)
    except KinewsError as error:
        raise _fail(error) from None
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
        f"{report.documents} documents, {report.annotators} annotators, {report.pairs} pairs",
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
                f"pair {p.annotators[0]} / {p.annotators[1]}: {p.documents} documents, "
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
    from kinews.adjudicate import GOLD_FILE
    from kinews.adjudicate import adjudicate as run
    from kinews.worklist import WORKLIST_FILE

    try:
        report = run(root, min_agree)
    except KinewsError as error:
        raise _fail(error) from None
    out.print(
        f"{len(report.documents)} documents adjudicated into {GOLD_FILE}: {report.spans} spans; "
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


# --- kinews ls: annotation sessions in Label Studio --------------------------------------------

ls_app = typer.Typer(
    no_args_is_help=True, help="Annotation sessions in Label Studio (LABEL_STUDIO_URL/_API_KEY)."
)
app.add_typer(ls_app, name="ls")
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
    from kinews.labelstudio import label_config
    from kinews.scheme import load_scheme

    try:
        out.print(label_config(load_scheme(_ls_root(ctx, root))), end="", markup=False)
    except KinewsError as error:
        raise _fail(error) from None


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
    from rich.progress import Progress

    from kinews.review import push_review
    from kinews.sessions import connect, push

    if review:
        if predictions or update_changed:
            raise typer.BadParameter("--review goes alone (no --predictions, --update-changed)")
        try:
            reviewed = push_review(connect(), _ls_root(ctx, root), project)
        except KinewsError as error:
            raise _fail(error) from None
        verb = "created" if reviewed.project_created else "found"
        out.print(f"{verb} project {project!r} (id {reviewed.project_id})", markup=False)
        if reviewed.config_updated:
            out.print("updated the labelling config from the scheme")
        for doc_id, reason in reviewed.skipped:
            out.print(f"skipped {doc_id}: {reason}", markup=False)
        out.print(
            f"{len(reviewed.documents)} documents with {reviewed.open_items} open items: "
            f"{len(reviewed.added)} tasks added, {reviewed.attached} review predictions attached, "
            f"{reviewed.replaced} outdated removed, {len(reviewed.up_to_date)} up to date"
        )
        return
    try:
        with Progress(console=err, transient=True) as bar:
            job = bar.add_task("importing tasks", total=None)
            report = push(
                connect(),
                _ls_root(ctx, root),
                project,
                predictions=predictions,
                update_changed=update_changed,
                progress=lambda done, total: bar.update(job, completed=done, total=total),
            )
    except KinewsError as error:
        raise _fail(error) from None
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


def _print_pull(report) -> None:
    for where in report.deleted:
        state = "pruned" if report.pruned else "kept locally (--prune removes it)"
        out.print(f"deleted on the server: {where}, {state}", markup=False)
    skipped = sum(n for _, n in report.skipped)
    reasons = ", ".join(f"{n} {reason}" for reason, n in report.skipped)
    out.print(
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.deleted)} deleted, {skipped} skipped" + (f" ({reasons})" if reasons else ""),
        markup=False,
    )
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
    root: LsRoot = None,
) -> None:
    """Pull every annotation of the project into annotations/ (annotators as pseudonyms)."""
    from kinews.sessions import connect, pull

    try:
        report = pull(
            connect(), _ls_root(ctx, root), project, drafts=drafts, prune=prune, out=out_file
        )
    except KinewsError as error:
        raise _fail(error) from None
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
    offsets: Annotated[str, typer.Option(help="code-points or utf-16.")] = "code-points",
    created_at: Annotated[
        str | None, typer.Option(help="Timestamp for annotations that carry none.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="[default: annotations/ls-import-<file>.jsonl]")
    ] = None,
    root: LsRoot = None,
) -> None:
    """Convert a file exported from the Label Studio UI into annotation records."""
    from kinews.labelstudio import Options
    from kinews.sessions import import_export

    if offsets not in ("code-points", "utf-16"):
        raise typer.BadParameter("must be code-points or utf-16", param_hint="--offsets")
    pairs = [item.partition("=") for item in label or ()]
    if any(not sep or not a or not b for a, sep, b in pairs):
        raise typer.BadParameter("must be NAME=SCHEME_LABEL", param_hint="--label")
    options = Options(
        text_key=text_key,
        labels={a: b for a, _, b in pairs},
        offsets=offsets,  # type: ignore[arg-type]
        match_text=match_text,
        created_at=created_at,
    )
    try:
        report = import_export(_ls_root(ctx, root), export, options, out_file)
    except KinewsError as error:
        raise _fail(error) from None
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
        script = Path(__file__).resolve().parents[2] / "scripts" / "label-studio"
    folder = data_dir or base / ".labelstudio"
    command = ["bash", str(script), "serve", "--port", str(port), "--data-dir", str(folder)]
    try:
        code = subprocess.call(command)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


# True when `main` runs the command, in a process of its own that ends when the command does;
# False when a test calls `app` in-process.
_standalone: ContextVar[bool] = ContextVar("standalone", default=False)


def _exit_now(code: int) -> NoReturn:
    """End the process at once, without the interpreter's teardown.

    After a validator run pandas, pandera, polars and pyarrow are loaded and up to 1 GB of tables
    has been allocated: the teardown took 0.3 to 0.5 s, a sixth of a run at 100,000 documents.
    Like mypy's hard_exit: flush what was written, then leave.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    # numpy's OpenBLAS starts a thread per core when imported, and idle, they spin for a while.
    # kinews does no linear algebra; on a 2-core machine that spinning takes a core from the
    # validator's parsing. (Before any import of numpy; a value the user set is kept.)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _standalone.set(True)
    app()
