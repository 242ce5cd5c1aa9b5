"""`kinews validate` from its own entry: the report handed to the CLI, then, in a process of its
own, the end of that process at once.

The CLI only says whether the command runs in a process that ends with it (`kinews.cli.main`)
or in-process (the tests); the speed measures of a whole run live here, beside the validator.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path

from kinews.validate.report import render_report
from kinews.validate.validator import validate


def run(
    root: Path, format: str, strict: bool, emit: Callable[[str], None], *, own_process: bool
) -> int:
    """Validate `root`, hand the report to `emit`; the exit code: 1 when anything fails.

    With `own_process`, the process ends right after the report (flushed), with that code.
    Raises KinewsError (`scheme-missing`, `scheme-invalid`) when there is no usable scheme.
    """
    if own_process:
        # No cyclic garbage collection for the rest of a process that ends with the report:
        # re-enabled after the run, its first pass would walk every object the run made.
        gc.disable()
    problems = validate(root)
    failing = [p for p in problems if p.severity == "error" or (strict and p.severity == "warning")]
    emit(render_report(problems, format))
    code = 1 if failing else 0
    if own_process:
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """End the process at once, without the interpreter's teardown.

    After a validator run pandas, pandera, polars and pyarrow are loaded and up to 1 GB of tables
    has been allocated: the teardown took 0.3 to 0.5 s, a sixth of a run at 100,000 documents.
    Like mypy's hard_exit: flush what was written, then leave.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
