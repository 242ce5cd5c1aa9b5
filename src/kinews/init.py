"""`kinews init`: a new corpus repository that works on its own, from the templates in
`kinews/init_templates/`.

The new repository declares its own dataset (`schemas/dataset.yaml`, valid against the schema
kinews ships, in starter sentences that name the corpus and say what is not described yet), a
small label scheme, a guidelines template with a section per label of that scheme, empty
`corpus/` and `annotations/`, a CHANGELOG, a Makefile, a CI workflow and a pre-commit config.
Nothing of kinews' own corpus goes into it. The folder appears in one rename, complete or not at
all.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path
from string import Template

import yaml

from kinews import __version__
from kinews.declared import schema
from kinews.errors import KinewsError, Problem
from kinews.files import FOLDER_MODE, check_output_folder, write_atomic
from kinews.root import ANNOTATIONS_DIR, DATASET_FILE, DOCUMENTS_FILE, SCHEME_FILE
from kinews.scheme import Scheme, scheme_from_yaml

# template in kinews/init_templates -> path in the new repository
TEMPLATES = {
    "dataset.yaml": DATASET_FILE,
    "labels.yaml": SCHEME_FILE,
    "GUIDELINES.md": Path("annotations") / "GUIDELINES.md",
    "CHANGELOG.md": Path("CHANGELOG.md"),
    "Makefile": Path("Makefile"),
    "requirements.txt": Path("requirements.txt"),
    "gitignore": Path(".gitignore"),
    "validate.yml": Path(".github") / "workflows" / "validate.yml",
    "pre-commit-config.yaml": Path(".pre-commit-config.yaml"),
}
EMPTY_FOLDERS = (Path("corpus"), ANNOTATIONS_DIR)


def template(name: str) -> str:
    return (files("kinews") / "init_templates" / name).read_text("utf-8")


def init(target: Path, name: str, language: str = "de") -> list[Path]:
    """Write a new corpus repository to `target` (absent or empty); returns the files written.

    Raises KinewsError (`init-option-invalid`) for a name or language the dataset schema
    refuses, (`init-target-not-empty`) for a target that exists and is not an empty folder,
    and (`output-unwritable`) for one kinews cannot write.
    """
    _check_options(name, language)
    _check_target(target)
    check_output_folder(target)
    today = datetime.datetime.now(datetime.UTC).date()
    values = {
        "name": name,
        "language": language,
        "year": str(today.year),
        "date": today.isoformat(),
        # a BibTeX key starts with a letter; a dataset name may start with a digit
        "citation_key": name if name[0].isalpha() else f"corpus-{name}",
        "kinews_version": __version__,
    }
    scheme = scheme_from_yaml(yaml.safe_load(_render("labels.yaml", values)), str(SCHEME_FILE))
    values["label_sections"] = label_sections(scheme)
    target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.init."))
    try:
        for folder in EMPTY_FOLDERS:
            (staging / folder).mkdir(mode=FOLDER_MODE, parents=True)
        # An empty corpus, not none: `kinews validate` refuses a root without one.
        write_atomic(staging / DOCUMENTS_FILE, b"")
        for source, path in TEMPLATES.items():
            write_atomic(staging / path, _render(source, values).encode("utf-8"))
        staging.chmod(FOLDER_MODE)  # mkdtemp makes it 0700
        # rename(2) replaces an empty folder, so an empty target is taken over in one step
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / path for path in TEMPLATES.values()]


def label_sections(scheme: Scheme) -> str:
    """The guidelines' section per label: its definition, and room for the rules and cases."""
    parts = []
    for number, label in enumerate(scheme.labels, 1):
        parts += [
            f"### 2.{number} {label.name}",
            "",
            label.definition,
            "",
            "Examples and counterexamples: add them here and to `schemas/labels.yaml`.",
            "",
        ]
    return "\n".join(parts)


def _render(source: str, values: dict[str, str]) -> str:
    # safe_substitute: the Makefile's own `$(VENV)` and `$@` are not placeholders
    return Template(template(source)).safe_substitute(values)


def _check_options(name: str, language: str) -> None:
    properties = schema("dataset.schema.json")["properties"]
    problems = [
        Problem(
            None,
            None,
            None,
            None,
            "init-option-invalid",
            f"--{option} {value!r} does not match {properties[option]['pattern']} "
            f"({DATASET_FILE}, `{option}`)",
        )
        for option, value in (("name", name), ("language", language))
        if not re.fullmatch(properties[option]["pattern"], value)
    ]
    if problems:
        raise KinewsError(problems)


def _check_target(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise KinewsError.single(
            "init-target-not-empty", "exists and is not a folder", file=str(target)
        )
    found = sorted(p.name for p in target.iterdir())
    if found:
        shown = ", ".join(found[:3]) + (", …" if len(found) > 3 else "")
        raise KinewsError.single(
            "init-target-not-empty",
            f"the folder is not empty ({shown}); `kinews init` writes only into a new or "
            "empty folder",
            file=str(target),
        )
