"""Files as kinews reads and writes them: strict JSON Lines in, atomic writes out.

Reading is strict (no NaN, no lone surrogates, nesting bounded, every bad line located); writing
goes through a temporary file in the same folder and one rename, so a failed run leaves the old
file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Container, Iterable, Iterator
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError, Problem


def iter_jsonl(path: Path, display: str | None = None) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for each non-blank line of raw input; a BOM is allowed.

    Raises KinewsError for a file that is not UTF-8 or a line that is not JSON; callers that
    want every problem at once use `scan_jsonl` instead.
    """
    values, problems = scan_jsonl(path, display, allow_bom=True)
    if problems:
        raise KinewsError(problems)
    yield from values


def scan_jsonl(
    path: Path, display: str | None = None, *, allow_bom: bool = False
) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """Parse every line of a JSON Lines file, collecting the lines that are not JSON.

    kinews' own files must not start with a BOM (`file-bom`); raw articles may (`allow_bom`).
    """
    return scan_jsonl_bytes(path.read_bytes(), display or str(path), allow_bom=allow_bom)


def scan_jsonl_bytes(
    data: bytes, name: str, *, allow_bom: bool = False, only: Container[int] | None = None
) -> tuple[list[tuple[int, Any]], list[Problem]]:
    """`scan_jsonl` of a file's bytes; with `only`, of just those (1-based) lines of it."""
    problems: list[Problem] = []
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if bom and not allow_bom:
        problems.append(
            Problem(
                name,
                1,
                None,
                None,
                "file-bom",
                "file starts with a byte order mark; save it as UTF-8 without BOM",
            )
        )
    values: list[tuple[int, Any]] = []
    offset = bom  # byte offsets count from the start of the file, BOM included
    for number, raw in enumerate(data[bom:].split(b"\n"), start=1):
        start, offset = offset, offset + len(raw) + 1
        if only is not None and number not in only:
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = start + err.start
            problems.append(
                Problem(
                    name,
                    number,
                    None,
                    None,
                    "file-not-utf8",
                    f"not valid UTF-8: bad byte 0x{data[bad]:02x} at byte offset {bad}",
                )
            )
            continue
        if not line.strip():
            continue
        try:
            values.append((number, parse_json_line(line)))
        except ValueError as err:
            problems.append(Problem(name, number, None, None, "line-not-json", str(err)))
    return values, problems


def parse_json_line(line: str) -> Any:
    """One line of strict JSON: no NaN/Infinity, no unpaired surrogate escapes.

    Raises ValueError with a message saying what is wrong and where.
    """
    try:
        value = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise ValueError(f"line is not valid JSON: {err.msg} (column {err.colno})") from None
    except RecursionError:  # no kinews record nests more than a few levels
        raise ValueError("line is not valid JSON for kinews: nested too deeply") from None
    if "\\u" in line and _has_lone_surrogate(value):
        raise ValueError("line is not valid JSON: a \\u escape is an unpaired surrogate")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"line is not valid JSON: {name} is not a JSON number")


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


FILE_MODE = 0o644
FOLDER_MODE = 0o755


def unwritable(path: Path, message: str) -> KinewsError:
    return KinewsError.single("output-unwritable", message, file=str(path))


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_folder(path: Path) -> None:
    """Refuse an output folder kinews could not write into, before any work is done.

    Creates nothing: a run that fails later on its input leaves no empty folder behind.
    Raises KinewsError (`output-unwritable`) for a file, or a place that takes no new files.
    """
    existing = _nearest_existing(path)
    if not existing.is_dir():
        what = "is a file" if existing == path else f"is inside {existing}, which is a file"
        raise unwritable(path, f"{what}; a folder is expected here")
    try:  # as root, os.access says yes to /proc; only trying tells
        tempfile.TemporaryDirectory(dir=existing, prefix=".kinews-probe.").cleanup()
    except OSError as err:
        raise unwritable(path, f"cannot write into {existing}: {err.strerror or err}") from None


def check_output_file(path: Path) -> None:
    """Refuse an output file that is a folder, or inside a file. Raises `output-unwritable`."""
    if path.is_dir():
        raise unwritable(path, "is a folder; a file is expected here")
    parent = _nearest_existing(path.parent)
    if not parent.is_dir():
        raise unwritable(path, f"is inside {parent}, which is a file; a folder is expected there")


def write_atomic(path: Path, content: bytes | Iterable[bytes]) -> None:
    """Replace `path` with `content` (bytes, or pieces of them) in one rename; a crash leaves
    the old file intact.

    The file is 0644 and new folders 0755: corpus, annotations and releases are shared, and
    mkstemp's 0600 would keep them from the rest of the team (and from a web server).
    Raises KinewsError (`output-unwritable`) when the file cannot be written there (a folder
    at `path`, a file among its parents, a read-only place); nothing is then left behind.
    """
    check_output_file(path)
    try:
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise unwritable(path, f"cannot write here: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            if isinstance(content, bytes):
                handle.write(content)
            else:
                handle.writelines(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise unwritable(path, f"cannot write here: {err.strerror or err}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# What write_atomic's mkstemp and the build's mkdtemp leave when a run is killed mid-way.
_LEFTOVER_FILE = re.compile(r"\..+\.[A-Za-z0-9_]{8}\.tmp")
_LEFTOVER_FOLDER = re.compile(r"\..+-\d+\.\d+\.\d+\.(?:[A-Za-z0-9_]{8}|replaced)")


def replace_folder(staging: Path, target: Path) -> None:
    """Put `staging` in the place of `target`, never leaving a half-deleted `target`.

    The old folder is renamed aside first and deleted only once the new one is in place: a
    run killed in between leaves both whole (the aside one is a leftover of `clean_leftovers`).
    """
    if not target.exists():
        staging.rename(target)
        return
    aside = target.with_name(f".{target.name}.replaced")
    if aside.exists():
        shutil.rmtree(aside)
    target.rename(aside)
    staging.rename(target)
    shutil.rmtree(aside)


def clean_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files and staging folders earlier killed runs left in `folder`.

    Only names kinews makes (`.<name>.<8 random>.tmp`, `.<name>-X.Y.Z.<8 random>` and
    `.<name>-X.Y.Z.replaced`) are touched; returns what was deleted.
    """
    removed = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.is_file() and _LEFTOVER_FILE.fullmatch(path.name):
            path.unlink()
        elif path.is_dir() and not path.is_symlink() and _LEFTOVER_FOLDER.fullmatch(path.name):
            shutil.rmtree(path)
        else:
            continue
        removed.append(path)
    return removed
