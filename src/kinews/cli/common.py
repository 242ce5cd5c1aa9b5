"""What the `kinews` command's modules share: the output consoles, common options, and the one
place where a `KinewsError` becomes output and an exit code.

`kinews.cli.app` holds the app and the stage commands, `kinews.cli.ls` the `kinews ls` group;
only the modules of `kinews.cli` print or exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from typer.core import TyperGroup

from kinews.errors import KinewsError

# No console markup at all: output interpolates paths, titles and ids, and a folder named
# `out[/]x` or `[bold]x` must print as it is named (rich would style it, or raise MarkupError).
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

Root = Annotated[
    Path,
    typer.Option(
        "--root", help="Dataset root holding corpus/, annotations/, schemas/.", file_okay=False
    ),
]
# Choices are declared as Literal types: click refuses anything else (exit 2).
TextOrJson = Annotated[Literal["text", "json"], typer.Option("--format", help="text or json.")]
ReportFormat = Literal["text", "json", "github"]  # kinews.validate.report.REPORT_FORMATS
Offsets = Literal["code-points", "utf-16"]  # kinews.labelstudio.export.Options.offsets
# `kinews.cli.main` runs the app with this context object: a process that ends with the command.
OWN_PROCESS = "own-process"

# A command whose KinewsError means it could not run at all, not that the data has errors:
# `kinews validate` exits 1 for problems it found and 2 when it cannot check (no scheme).
CANNOT_RUN = {"validate": 2}


class Commands(TyperGroup):
    """The `kinews` group: every KinewsError of a command is printed, one problem a line, to
    stderr, and ends the command with exit code 1 (or its CANNOT_RUN code)."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer's own Context
        try:
            return super().invoke(ctx)
        except KinewsError as error:
            for problem in error.problems:
                err.print(str(problem), markup=False)
            raise typer.Exit(CANNOT_RUN.get(ctx.invoked_subcommand or "", 1)) from None
