"""Validated records → a versioned release folder that `datasets.load_dataset` reads.

    dist/<name>-X.Y.Z/     the release folder (folder.py: its layout, checksums, version)

A split with no rows is left out (no file, no entry in the card's `configs`), in every config
alike: datasets 5.2 cannot load an empty split at all ("Instruction ... corresponds to no data",
and a zero-row row group fails earlier with a batch size of 0), so the release lists only the
splits that have rows and `load_dataset` returns exactly those. The card says which are empty.

The same inputs and version give byte-identical files: rows are sorted, nothing records the time
of the build (the release date comes from the CHANGELOG entry or the release record), and
Parquet is written with fixed settings. The first build of a version records it in the dataset
root (releases/X.Y.Z.json, releases/splits.jsonl, a CHANGELOG.md entry); a later build of that
version must reproduce the recorded checksums or is refused (releases.py).
"""

from __future__ import annotations

import datetime
import functools
import gc
import re
import shutil
import sys
import tempfile
from array import array
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

from kinews.dataset import load_dataset_declaration
from kinews.errors import KinewsError
from kinews.files import (
    FOLDER_MODE,
    check_output_folder,
    clean_leftovers,
    replace_folder,
    unwritable,
)
from kinews.proposals import Progress, default_workers, unsupported_languages
from kinews.release import MAX_SHARD_SIZE
from kinews.release.card_facts import ChangelogEntry
from kinews.release.configs import (
    CONFIGS,
    document_features,  # noqa: F401  (re-exported: the documents features, as tests use them)
    features_of,
)
from kinews.release.describe import describe
from kinews.release.folder import folder_name
from kinews.release.history import (
    CHANGELOG_ENTRY,
    CHANGELOG_VERSION_HEADING,
    VERSION_PATTERN,
    ReleaseRecord,
    add_changelog_entry,
    changelog_date,
    differences,
    load_records,
    read_changelog,
    summarise_changes,
    tool_versions,
    version_key,
    write_record,
)
from kinews.release.parquet import parse_size
from kinews.release.reading import BATCH_BYTES, Outline, batches, read_outline
from kinews.release.selection import released_index, select_release_annotations
from kinews.release.splits import (
    assign_splits,
    load_manifest,
    merge_recorded,
    placements,
    write_manifest,
)
from kinews.release.writing import Tokenizing, write_rows
from kinews.scheme import Scheme
from kinews.tokens import model_for, tokenizer_version
from kinews.validate.valid import is_error
from kinews.validate.validator import check
from kinews.worklist import open_items

DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # the whole string: fullmatch


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    documents: dict[str, int]  # per split
    spans: int
    unannotated: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    date: str = ""
    recorded: bool = False  # True: this build recorded the version in the dataset root
    changelog_added: bool = False
    tokenized: int = 0  # texts SoMaJo tokenized in this build
    tokens_cached: int = 0  # texts whose tokens came from the cache


def current_version(root: Path) -> str:
    """The dataset version: the newest entry of CHANGELOG.md at the root. Raises KinewsError."""
    changelog = root / "CHANGELOG.md"
    text = read_changelog(root) or ""
    heading = CHANGELOG_VERSION_HEADING.search(text)
    found = CHANGELOG_ENTRY.search(text)
    if heading is not None and (found is None or found.start() != heading.start()):
        # The newest entry is a pre-release or not canonical: not a release, nor is the one below.
        raise KinewsError.single(
            "version-invalid",
            f"the newest entry {heading[0]!r} is not a release version X.Y.Z (ASCII digits, "
            "no leading zeros, no pre-release); pass --version",
            file=str(changelog),
            line=text.count("\n", 0, heading.start()) + 1,
        )
    if found is None:
        raise KinewsError.single(
            "version-unknown",
            "no `## [X.Y.Z]` entry in CHANGELOG.md; pass --version",
            file=str(changelog),
        )
    return found["version"]


P = ParamSpec("P")
R = TypeVar("R")


def _collecting_less(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with every object alive frozen out of the cyclic collector's walks.

    The imported modules and the corpus' records are millions of objects in no garbage cycle,
    which the collector walked again at every collection: about a tenth of a rebuild's time.
    Frozen (gc.freeze) once they exist, they are left out of its walks; what the build frees
    meanwhile is freed as always, and unfreezing at the end puts them back.
    """

    @functools.wraps(function)
    def frozen(*args: P.args, **kwargs: P.kwargs) -> R:
        gc.freeze()
        try:
            return function(*args, **kwargs)
        finally:
            gc.unfreeze()

    return frozen


@_collecting_less
def build(
    root: Path,
    version: str,
    out: Path,
    *,
    date: str | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    cache: bool = True,
    baseline: bool = True,
    max_shard_size: int = parse_size(MAX_SHARD_SIZE),
    progress: Progress | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Release:
    """Build dist/<name>-VERSION (name: schemas/dataset.yaml) from the data under `root`.

    A new version is recorded in the root; a recorded one must be reproduced exactly. `date`
    (YYYY-MM-DD) is used for a new version without a dated CHANGELOG entry (default: today).
    Texts not in the root's token cache (`cache`) are tokenized on `executor` when given, else
    by `workers` processes (default: one per core); the files do not depend on either. The
    baseline's figures also come from the root's cache when its sentences are unchanged;
    `baseline` False leaves it out (the card says so, and a rebuild needs the same choice). A
    config's split larger than `max_shard_size` bytes (in Arrow memory) is written as several
    shards; a rebuild of a recorded version needs the size it was recorded with. `progress`
    hears, while new texts are tokenized, how many of the released documents are done so far,
    of how many. The documents
    are read and written `batch_bytes` of input at a time (kinews.release.writing); the files do
    not depend on it.
    Raises KinewsError when the input does not validate, a document needs adjudication, a
    released document would change split, the version is not newer than the recorded ones, or
    a recorded version would come out differently; the output folder and root are then left
    as they were.
    """
    if not VERSION_PATTERN.fullmatch(version):
        raise KinewsError.single(
            "version-invalid",
            f"version {version!r} must be X.Y.Z in ASCII digits without leading zeros "
            "(such as 0.2.0; no pre-release)",
        )
    if date is not None and not is_calendar_date(date):
        raise KinewsError.single(
            "date-invalid", f"--date {date!r} must be a real calendar date YYYY-MM-DD"
        )
    check_output_folder(out)  # before the work, not after it
    scheme = _valid_scheme(root)
    outline = read_outline(root)
    gc.freeze()
    dataset = load_dataset_declaration(root)
    choices = [released_index(outline.statuses_of(i)) for i in range(len(outline.heads))]
    _refuse_doubtful(outline, [i for i, c in enumerate(choices) if c == -1])
    # An array, not a list of a million ints (36 bytes each).
    chosen = array("q", (i for i, c in enumerate(choices) if c is not None))
    if not chosen:
        raise KinewsError.single(
            "nothing-to-release", "no document has an annotation; annotate before building"
        )
    records = load_records(root)
    recorded = records.get(version)
    newest = max(records, key=version_key, default=None)
    if recorded is None and newest is not None and version_key(version) < version_key(newest):
        raise KinewsError.single(
            "version-not-newer",
            f"version {version} is older than the recorded release {newest}; "
            "a new release needs a higher version",
        )
    release_date = _release_date(root, version, recorded, date)
    manifest = merge_recorded(
        load_manifest(root),
        ((v, doc_id, e.split) for v, r in records.items() for doc_id, e in r.documents.items()),
    )
    released = [outline.heads[i] for i in chosen]
    # One split name per released document, in the order of `chosen`: their Assignments would
    # be 100 bytes a document all through the build. The manifest's lines are made again at the
    # end from the record's entries, which hold each document's split and group.
    assigned = assign_splits(released, manifest, version)
    splits = [assigned[head.id].split for head in released]
    del assigned
    unsupported = unsupported_languages(released)
    if unsupported:
        raise KinewsError(unsupported)
    tokenizer = tokenizer_version(model_for(head.language) or "" for head in released)
    unannotated = tuple(h.id for h, c in zip(outline.heads, choices, strict=True) if c is None)
    items = _open_items(root, {head.id for head in released})
    features = {config: features_of(config, scheme) for config in CONFIGS}

    target = out / folder_name(dataset.name, version)
    if target.exists() and not target.is_dir():
        raise unwritable(target, "is a file; the release folder would replace it")
    made = _missing_from(out)
    try:
        out.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        clean_leftovers(out)
        staging = Path(tempfile.mkdtemp(dir=out, prefix=f".{target.name}."))
    except OSError as err:
        raise unwritable(out, f"cannot write here: {err.strerror or err}") from None
    try:
        tokenizing = Tokenizing(
            cache=root if cache else None,
            workers=default_workers() if workers is None else workers,
            executor=executor,
            progress=progress,
        )
        rows = write_rows(
            outline,
            chosen,
            splits,
            staging,
            scheme,
            features,
            max_shard_size,
            tokenizing,
            batch_bytes,
        )
        # The outline has done its work: what the card and the record still need is in `rows`,
        # and its memory goes to the folder `datasets` prepares next.
        del outline, choices, chosen, released, splits
        contents = rows.tally.contents()
        current = ReleaseRecord(version, release_date, tokenizer, tool_versions(), {}, rows.entries)
        history = [r for v, r in records.items() if version_key(v) < version_key(version)]
        changelog = [
            ChangelogEntry(r.version, r.date, tuple(summarise_changes(prev, r)))
            for prev, r in zip([None, *history], [*history, current], strict=True)
        ]
        files = describe(
            staging,
            root=root,
            dataset=dataset,
            version=version,
            date=release_date,
            scheme=scheme,
            features=features,
            contents=contents,
            num_bytes={
                c: {s: w.num_bytes for s, w in by.items()} for c, by in rows.written.items()
            },
            shards={c: {s: w.files for s, w in by.items()} for c, by in rows.written.items()},
            tokenizer=tokenizer,
            changelog=changelog,
            unannotated=len(unannotated),
            open_items=items,
            cache=root if cache else None,
            baseline=baseline,
        )
        current = ReleaseRecord(
            version, release_date, current.tokenizer, current.tools, files, current.documents
        )
        if recorded is not None:
            problems = differences(recorded, current)
            if problems:
                raise KinewsError(problems)
        staging.chmod(FOLDER_MODE)  # mkdtemp makes it 0700; a release is for everyone to read
        replace_folder(staging, target)
    except OSError as err:
        _abandon(staging, out, made)
        raise unwritable(target, f"cannot write the release here: {err.strerror or err}") from None
    except BaseException:
        _abandon(staging, out, made)
        raise
    changelog_added = False
    if recorded is None:
        write_record(root, current)
        placed = ((doc_id, e.split, e.group) for doc_id, e in current.documents.items())
        write_manifest(root, {**manifest, **placements(placed, manifest, version)})
        changelog_added = add_changelog_entry(root, current, list(changelog[-1].lines))
    return Release(
        version=version,
        path=target,
        documents=contents.rows["documents"],
        spans=contents.spans,
        unannotated=unannotated,
        files=files,
        date=release_date,
        recorded=recorded is None,
        changelog_added=changelog_added,
        tokenized=rows.computed,
        tokens_cached=rows.cached,
    )


def _valid_scheme(root: Path) -> Scheme:
    """The scheme of a root that validates. Raises KinewsError listing every error."""
    scheme, problems = check(root)
    errors = [p for p in problems if is_error(p)]
    if errors:
        raise KinewsError(errors)
    return scheme


def _refuse_doubtful(outline: Outline, doubtful: list[int]) -> None:
    """Raise what `select_release_annotations` says of the documents whose records leave the
    choice to a person (several gold records, or several submitted and no gold)."""
    if doubtful:
        for batch in batches(outline, doubtful, batch_bytes=sys.maxsize):
            select_release_annotations([d.doc for d in batch.documents], batch.records)
        raise AssertionError("documents refused by their statuses were accepted")


def _missing_from(path: Path) -> Path | None:
    """The outermost folder of `path` (itself included) that does not exist yet."""
    missing = None
    while not path.exists():
        missing, path = path, path.parent
    return missing


def _abandon(staging: Path, out: Path, made: Path | None) -> None:
    """Remove what a failed build wrote: its staging folder, and the folders it made for `out`
    (from `out` up to `made`), each only if empty: another build may be writing there."""
    shutil.rmtree(staging, ignore_errors=True)
    if made is None:
        return
    for folder in (out, *out.parents):
        try:
            folder.rmdir()
        except OSError:
            return
        if folder == made:
            return


def _release_date(
    root: Path, version: str, recorded: ReleaseRecord | None, date: str | None
) -> str:
    """The recorded date, else the CHANGELOG entry's, else `date`, else today (UTC)."""
    if recorded is not None:
        return recorded.date
    chosen = changelog_date(root, version) or date
    if chosen is None:
        return datetime.datetime.now(datetime.UTC).date().isoformat()
    if not is_calendar_date(chosen):
        raise KinewsError.single(
            "date-invalid", f"release date {chosen!r} must be a real calendar date YYYY-MM-DD"
        )
    return chosen


def is_calendar_date(value: str) -> bool:
    """YYYY-MM-DD in ASCII digits, and a day that exists (not 2026-02-30)."""
    if not DATE_PATTERN.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _open_items(root: Path, ids: set[str]) -> dict[str, int]:
    """Open adjudication items of the released documents (doc_id -> count)."""
    return {doc_id: n for doc_id, n in open_items(root).items() if doc_id in ids}
