"""The release folder: its layout, writing and reading its files, checksums and version.

    <name>-X.Y.Z/                                 <name> from schemas/dataset.yaml
      README.md                                     dataset card (card.py)
      data/{config}/{split}-00000-of-00001.parquet  documents, sentences, annotations (configs.py);
                                                    a large split in several shards (parquet.py)
      label-counts.png                              spans per label and split (chart.py)
      GUIDELINES.md                                 the annotation manual the spans follow
      croissant.json                                Croissant metadata with per-file sha256
      SHA256SUMS                                    checksums of every other file

`build` writes it, `diff` reads its `documents` shards, `publish` checks its SHA256SUMS; none of
them spells a file name of its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from kinews.declared import parse_yaml
from kinews.errors import KinewsError, Problem
from kinews.release.history import SEMVER, VERSION_PATTERN

CARD = "README.md"
CROISSANT = "croissant.json"
CHECKSUMS = "SHA256SUMS"
CHART = "label-counts.png"
GUIDELINES = "GUIDELINES.md"
_SHARD = re.compile(r"^(?P<split>.+)-\d{5}-of-\d{5}\.parquet$")
# The dataset's name (schemas/dataset.yaml: lower case, digits, `-`) and its version.
_FOLDER_VERSION = re.compile(rf"[a-z0-9][a-z0-9-]*-({SEMVER})")  # the whole name: fullmatch


def folder_name(name: str, version: str) -> str:
    """The release folder of version `version` of the dataset `name`: `<name>-X.Y.Z`."""
    return f"{name}-{version}"


def shard(config: str, split: str, index: int = 0, count: int = 1) -> str:
    """The release-relative path of shard `index` of `count` of a config's split, as the Hub
    names them: `data/{config}/{split}-0000k-of-0000n.parquet`, numbered from 0."""
    return f"data/{config}/{split}-{index:05d}-of-{count:05d}.parquet"


def documents_shards(release: Path) -> list[Path]:
    """The Parquet files of the `documents` config, sorted: a split's shards in their order."""
    return sorted((release / "data" / "documents").glob("*.parquet"))


def shard_split(file: Path) -> str | None:
    """The split a shard's file name gives, or None when it is not named like a shard."""
    found = _SHARD.match(file.name)
    return found.group("split") if found else None


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    """The sha256 of every file under `folder`, by release-relative path, in path order."""
    return {
        str(p.relative_to(folder)): sha256_of(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def add_checksums(folder: Path, known: dict[str, str], *names: str) -> dict[str, str]:
    """`known` with the sha256 of the files `names` added, in path order (as `checksums`)."""
    found = {**known, **{name: sha256_of(folder / name) for name in names}}
    return {name: found[name] for name in sorted(found, key=PurePosixPath)}


def write_checksums(folder: Path, files: dict[str, str]) -> None:
    """SHA256SUMS in the format of `sha256sum` (`sha256sum -c SHA256SUMS` checks it)."""
    (folder / CHECKSUMS).write_text(
        "".join(f"{digest}  {name}\n" for name, digest in files.items()), encoding="utf-8"
    )


_CHECKSUM_LINE = re.compile(r"(?P<digest>[0-9a-f]{64})  (?P<name>[^\n]+)")


def read_checksums(release: Path) -> dict[str, str]:
    """SHA256SUMS as path -> sha256.

    Raises KinewsError (`checksums-invalid`) for a file that cannot be read, is not UTF-8, or
    has a line not in `sha256sum`'s format or naming a file twice, each at its line.
    """
    path = release / CHECKSUMS
    where = f"{release.name}/{CHECKSUMS}"
    try:
        data = path.read_bytes()
    except OSError as err:
        raise KinewsError.single(
            "checksums-invalid", f"cannot be read: {err.strerror}", file=where
        ) from None
    listed: dict[str, str] = {}
    problems = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            message = f"not valid UTF-8: bad byte 0x{raw[err.start]:02x}"
            problems.append(Problem(where, number, None, None, "checksums-invalid", message))
            continue
        found = _CHECKSUM_LINE.fullmatch(line)
        if found is None and line:
            message = "not a line of `sha256sum`: 64 lower-case hex digits, two spaces, a path"
            problems.append(Problem(where, number, None, None, "checksums-invalid", message))
        elif found is not None and found["name"] in listed:
            message = f"{found['name']} is listed twice"
            problems.append(Problem(where, number, None, None, "checksums-invalid", message))
        elif found is not None:
            listed[found["name"]] = found["digest"]
    if problems:
        raise KinewsError(problems)
    return listed


def check_checksums(release: Path, actual: dict[str, str]) -> None:
    """Every file but SHA256SUMS (`actual`: path -> sha256) is listed there with its sha256.

    Raises KinewsError (`release-checksum-mismatch`) naming each file that differs.
    """
    actual = {name: digest for name, digest in actual.items() if name != CHECKSUMS}
    what = {
        "unlisted": f"not listed in {CHECKSUMS}",
        "absent": "missing from the release",
        "changed": f"sha256 differs from {CHECKSUMS}: the file changed after the build",
    }
    mismatched(release, read_checksums(release), actual, "release-checksum-mismatch", what)


def mismatched(
    release: Path,
    listed: Mapping[str, str],
    actual: Mapping[str, str],
    code: str,
    what: Mapping[str, str],
) -> None:
    """Raise KinewsError (`code`) naming each file of `release` whose sha256 in `actual` is not
    the one `listed`, with the message `what` says for a file `unlisted`, `absent` from the
    release, or `changed`."""
    problems = [
        Problem(
            f"{release.name}/{name}",
            None,
            None,
            None,
            code,
            what[
                "unlisted" if name not in listed else "absent" if name not in actual else "changed"
            ],
        )
        for name in sorted(listed.keys() | actual.keys())
        if listed.get(name) != actual.get(name)
    ]
    if problems:
        raise KinewsError(problems)


def release_version(path: Path) -> str:
    """The version of a release folder: from its name `<name>-X.Y.Z`, else its card's YAML.

    Raises KinewsError (`release-invalid`) when neither names a version.
    """
    found = _FOLDER_VERSION.fullmatch(path.name)
    if found:
        return found.group(1)
    version = card_version(path)
    if version is not None:
        if VERSION_PATTERN.fullmatch(version):
            return version
        raise KinewsError.single(
            "release-invalid",
            f"the card's version {version!r} is not a release version X.Y.Z",
            file=str(path / CARD),
        )
    raise KinewsError.single(
        "release-invalid",
        "cannot tell the release's version: the folder is not named <name>-X.Y.Z and its "
        "README.md has no `version`",
        file=str(path),
    )


def card_version(path: Path) -> str | None:
    """The `version` of the YAML header of the release's card (None: no card or no version)."""
    card = path / CARD
    if not card.is_file():
        return None
    data = card.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise KinewsError.single(
            "release-invalid",
            f"the card is not valid UTF-8: bad byte 0x{data[err.start]:02x} at byte offset "
            f"{err.start}",
            file=str(card),
            line=data.count(b"\n", 0, err.start) + 1,
        ) from None
    parts = text.split("---\n")
    # The header of a card someone else may have made: no aliases, errors at their line.
    header = parse_yaml(parts[1], "release-invalid", str(card), 2)[0] if len(parts) > 2 else None
    if isinstance(header, dict) and header.get("version"):
        return str(header["version"])
    return None
