"""What the `kinews` command's modules share: the output consoles, common options, failing.

`kinews.cli` holds the app and the stage commands, `kinews.cli.ls` the `kinews ls` group; only
these three modules print or exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from kinews.errors import KinewsError

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


def fail(error: KinewsError, code: int = 1) -> typer.Exit:
    for problem in error.problems:
        err.print(str(problem), markup=False)
    return typer.Exit(code)
