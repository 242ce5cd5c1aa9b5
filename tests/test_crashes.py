"""Bad input of every class the commands read or write ends in a located problem with a stable
code and exit code 1 or 2, never in a Python traceback (issue 13, the crashes still open; issue
12: labels.yaml read against its published JSON Schema, every problem at its line)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, SEED, SEED_ID, tree
from hub_standin import HubStandin
from kinews.errors import KinewsError
from kinews.ingest import read_articles

LABELS = Path("schemas") / "labels.yaml"
SEED_DOCUMENT = read_articles([SEED], {})[0].doc


def assert_located(result, code: str, where: str, exit_code: int = 1) -> None:
    """Exit code, no traceback, and a line of output naming both the place and the code."""
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert any(where in line and code in line for line in result.output.splitlines()), result.output


# --- schemas/labels.yaml ------------------------------------------------------------------------


def test_a_labels_yaml_that_is_not_utf8_is_located_at_its_line(empty_root, kinews):
    path = empty_root / LABELS
    lines = path.read_bytes().split(b"\n")
    lines[20] = b"# caf\xe9"
    path.write_bytes(b"\n".join(lines))
    assert_located(kinews("validate", "--root", empty_root), "scheme-invalid", f"{LABELS}:21", 2)
    assert_located(kinews("ls", "config", "--root", empty_root), "scheme-invalid", f"{LABELS}:21")


def test_a_wrongly_typed_labels_yaml_reports_every_problem_at_its_line(empty_root, kinews):
    (empty_root / LABELS).write_text(
        "name: test\n"
        "labels:\n"
        "  - name: PER\n"
        "    definition: A person.\n"
        "    max_length: many\n"  # line 5
        "  - name: ORG\n"
        "    definition: [an, organisation]\n"  # line 7
        "    hotkey: 5\n"  # line 8
        "  - name: LOC\n"
        "    definition: A place.\n"
        "    colour: '#00ff00'\n",  # line 11: an unknown key
        "utf-8",
    )
    result = kinews("validate", "--root", empty_root)
    for line in (5, 7, 8, 11):
        assert_located(result, "scheme-invalid", f"{LABELS}:{line}", 2)


def test_a_labels_yaml_with_an_alias_is_refused_at_the_alias(empty_root, kinews):
    (empty_root / LABELS).write_text(
        "labels:\n  - &per {name: PER, definition: A person.}\n  - *per\n",
        "utf-8",
    )
    assert_located(kinews("validate", "--root", empty_root), "scheme-invalid", f"{LABELS}:3", 2)


def test_a_repeated_hotkey_is_located_at_the_label_that_repeats_it(empty_root, kinews):
    (empty_root / LABELS).write_text(
        "labels:\n"
        "  - {name: PER, definition: A person., hotkey: p}\n"
        "  - {name: ORG, definition: An organisation., hotkey: p}\n",
        "utf-8",
    )
    result = kinews("ls", "config", "--root", empty_root)
    assert_located(result, "scheme-invalid", f"{LABELS}:3")
    assert "repeated: p" in result.output


# --- seeds' sources.yaml ------------------------------------------------------------------------


def seed_folder(tmp_path: Path, sources: bytes) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    (folder / "sources.yaml").write_bytes(sources)
    return folder


ALIAS_BOMB = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + b"".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n".encode()
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + f"{SEED.name}:\n  notes: *i\n".encode()
)


def test_an_alias_bomb_in_sources_yaml_is_refused_without_expanding(empty_root, tmp_path, kinews):
    assert len(ALIAS_BOMB) < 1100
    folder = seed_folder(tmp_path, ALIAS_BOMB)
    started = time.monotonic()
    result = kinews("ingest", folder, "--root", empty_root)
    assert time.monotonic() - started < 5
    assert_located(result, "sources-invalid", "sources.yaml:2")
    assert not (empty_root / "corpus").exists()


def test_wrongly_typed_sources_yaml_values_are_each_located(empty_root, tmp_path, kinews):
    folder = seed_folder(
        tmp_path,
        f"{SEED.name}:\n  title: 5\n  group: [a]\n  language: true\n  lang: de\n".encode(),
    )
    result = kinews("ingest", folder, "--root", empty_root)
    for line in (2, 3, 4, 5):
        assert_located(result, "sources-invalid", f"sources.yaml:{line}")
    assert result.output.count("sources-invalid") == 4  # once, not once per article beside it


def test_a_sources_yaml_that_is_not_utf8_is_located(empty_root, tmp_path, kinews):
    folder = seed_folder(tmp_path, f"{SEED.name}:\n  notes: caf".encode() + b"\xe9\n")
    result = kinews("ingest", folder, "--root", empty_root)
    assert_located(result, "sources-invalid", "sources.yaml:2")


def test_the_repositorys_own_sources_yaml_fits_its_schema(empty_root, kinews):
    from kinews.declared import load_declaration

    known = load_declaration(REPO / "seeds" / "sources.yaml", "sources.schema.json", "x")
    assert SEED.name in known


# --- CHANGELOG.md and SHA256SUMS ----------------------------------------------------------------


def build_args(root: Path, out: object, *more: object) -> list[object]:
    return ["build", "--date", "2026-01-01", "--out", out, "--root", root, *more]


def test_a_changelog_that_is_not_utf8_is_located_at_its_line(seed_root, tmp_path, kinews):
    (seed_root / "CHANGELOG.md").write_bytes(b"# Changelog\n\n## [0.1.0] - 2026-01-01\n\ncaf\xe9\n")
    result = kinews(*build_args(seed_root, tmp_path / "dist"))  # the version from the CHANGELOG
    assert_located(result, "changelog-invalid", "CHANGELOG.md:5")
    result = kinews(*build_args(seed_root, tmp_path / "dist", "--version", "0.1.0"))
    assert_located(result, "changelog-invalid", "CHANGELOG.md:5")
    assert not (tmp_path / "dist").exists()


def test_a_changelog_with_two_entries_for_one_version_is_located_at_the_second(
    seed_root, tmp_path, kinews
):
    (seed_root / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [0.1.0] - 2026-01-01\n\n- one\n\n## [0.1.0] - 2026-02-01\n", "utf-8"
    )
    result = kinews(*build_args(seed_root, tmp_path / "dist", "--version", "0.1.0"))
    assert_located(result, "changelog-invalid", "CHANGELOG.md:7")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One release of the seed, copied by the tests that spoil it."""
    from typer.testing import CliRunner

    from kinews.cli import app

    root = tmp_path_factory.mktemp("built") / "root"
    shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "annotations").mkdir()
    shutil.copy(REPO / "annotations" / "GUIDELINES.md", root / "annotations")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(SEED), "--root", str(root)]).exit_code == 0
    shutil.copy(REPO / "annotations" / "gold.jsonl", root / "annotations" / "gold.jsonl")
    args = build_args(root, root / "dist", "--version", "0.1.0")
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return root


def spoiled_release(built: Path, tmp_path: Path) -> Path:
    (release,) = (built / "dist").iterdir()
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    return copy


@pytest.mark.parametrize(
    ("sums", "line"),
    [
        (b"caf\xe9  README.md\n", 1),  # not UTF-8
        (b"0123  README.md\n", 1),  # not a sha256
        (b"%s  README.md\n%s  README.md\n" % (b"0" * 64, b"0" * 64), 2),  # listed twice
    ],
)
def test_a_malformed_sha256sums_is_located_at_its_line(built, tmp_path, kinews, sums, line):
    release = spoiled_release(built, tmp_path)
    (release / "SHA256SUMS").write_bytes(sums)
    result = kinews("publish", release, "--repo-id", "org/name", "--dry-run", "--root", tmp_path)
    assert_located(result, "checksums-invalid", f"{release.name}/SHA256SUMS:{line}")


# --- output options -----------------------------------------------------------------------------


def own_root(built: Path, tmp_path: Path) -> Path:
    """A copy of the built root (its token cache too: a rebuild tokenizes nothing)."""
    root = tmp_path / "root"
    shutil.copytree(built, root)
    return root


def output_cases(root: Path, tmp_path: Path) -> dict[str, tuple[list[object], Path]]:
    """Each output option pointed at a place it cannot write: (arguments, the place named)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("kept\n", "utf-8")
    a_folder = tmp_path / "a-folder"
    a_folder.mkdir()
    export = tmp_path / "export.json"
    export.write_text("[]", "utf-8")
    release = ["--version", "0.2.0", "--root", root]
    ls_import = ["ls", "import", export, "--root", root, "--out"]
    return {
        "build --out a file": (["build", *release, "--out", a_file], a_file),
        "build --out inside a file": (["build", *release, "--out", a_file / "x"], a_file / "x"),
        "build --out /proc": (["build", *release, "--out", "/proc"], Path("/proc")),
        "show --html a folder": (["show", SEED_ID, "--root", root, "--html", a_folder], a_folder),
        "show --html in /proc": (
            ["show", SEED_ID, "--root", root, "--html", "/proc/x.html"],
            Path("/proc/x.html"),
        ),
        "ls import --out a folder": ([*ls_import, a_folder], a_folder),
        "ls import --out inside a file": ([*ls_import, a_file / "x.jsonl"], a_file / "x.jsonl"),
        "init in /proc": (["init", "/proc/new", "--name", "new"], Path("/proc/new")),
    }


CASES = [
    "build --out a file",
    "build --out inside a file",
    "build --out /proc",
    "show --html a folder",
    "show --html in /proc",
    "ls import --out a folder",
    "ls import --out inside a file",
    "init in /proc",
]


@pytest.mark.parametrize("case", CASES)
def test_an_output_option_naming_a_place_it_cannot_write_is_refused_and_nothing_is_written(
    built, tmp_path, kinews, case
):
    root = own_root(built, tmp_path)
    args, place = output_cases(root, tmp_path)[case]
    before, files_before = tree(root), tree(tmp_path)
    result = kinews(*args)
    assert_located(result, "output-unwritable", str(place))
    assert tree(root) == before  # no release recorded, no records written
    assert tree(tmp_path) == files_before


def test_paths_with_rich_markup_are_printed_as_they_are_named(built, tmp_path, kinews):
    root = tmp_path / "[bold]x"
    shutil.copytree(built, root)
    out = tmp_path / "out[/]x"
    result = kinews("build", "--version", "0.1.0", "--out", out, "--root", root)
    assert result.exit_code == 0, result.output
    assert f"built {out}/" in result.output
    html = tmp_path / "a[/]b.html"
    result = kinews("show", SEED_ID, "--html", html, "--root", root)
    assert result.exit_code == 0, result.output
    assert f"wrote {html}" in result.output
    (root / "corpus" / "documents.jsonl").write_text("[bold]{\n", "utf-8")
    result = kinews("ingest", tmp_path / "[red]missing.txt", "--root", root)
    assert_located(result, "input-missing", f"{tmp_path}/[red]missing.txt")


# --- a rebuild after killed runs ----------------------------------------------------------------


def test_a_rebuild_cleans_what_killed_runs_left_and_leaves_the_release_whole(
    built, tmp_path, kinews
):
    root = own_root(built, tmp_path)
    dist = root / "dist"
    (release,) = dist.iterdir()
    sums = (release / "SHA256SUMS").read_bytes()
    staging = dist / f".{release.name}.k1ll3d_x"  # a build killed while writing
    shutil.copytree(release, staging)
    aside = dist / f".{release.name}.replaced"  # a build killed while replacing
    shutil.copytree(release, aside)
    (dist / ".SHA256SUMS.a1b2c3d4.tmp").write_bytes(b"half")  # a write killed before its rename
    (dist / "notes.txt").write_text("someone's notes\n", "utf-8")
    (release / "data" / "documents" / "train-00000-of-00001.parquet").unlink()  # half deleted

    result = kinews(*build_args(root, dist, "--version", "0.1.0"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dist.iterdir()) == sorted([release.name, "notes.txt"])
    assert (release / "SHA256SUMS").read_bytes() == sums
    from kinews.release.folder import check_checksums, checksums

    check_checksums(release, checksums(release))


# --- Label Studio exports -----------------------------------------------------------------------


def seed_task(**annotation: object) -> dict:
    """A task of the seed document with one annotation, its fields replaced by `annotation`."""
    text = SEED.read_text("utf-8")
    region = {"id": "r1", "type": "labels", "from_name": "label", "to_name": "text",
              "value": {"start": 0, "end": 3, "text": text[:3], "labels": ["PER"]}}  # fmt: skip
    item = {"id": 7, "completed_by": 1, "created_at": "2026-01-01T00:00:00Z", "result": [region]}
    return {"id": 3, "data": {"text": text, "doc_id": SEED_ID}, "annotations": [item | annotation]}


def region(value: object) -> list[dict]:
    return [{"id": "r1", "type": "labels", "value": value}]


MALFORMED_EXPORTS = {
    "annotations: [5]": ({**seed_task(), "annotations": [5]}, "ls-export-invalid", "task 3"),
    "annotations: 5": ({**seed_task(), "annotations": 5}, "ls-export-invalid", "task 3"),
    "drafts: {}": ({**seed_task(), "drafts": {}}, "ls-export-invalid", "task 3"),
    "predictions: [null]": (
        {**seed_task(), "predictions": [None]},
        "ls-export-invalid",
        "task 3",
    ),
    "result: 5": (seed_task(result=5), "ls-result-invalid", "task 3 annotation 7"),
    "value: 5": (seed_task(result=region(5)), "ls-result-invalid", "task 3 annotation 7 region r1"),
    'value: {"start": "x"}': (
        seed_task(result=region({"start": "x", "end": 3, "labels": ["PER"]})),
        "ls-result-invalid",
        "task 3 annotation 7 region r1",
    ),
    "labels not a list": (
        seed_task(result=region({"start": 0, "end": 3, "labels": "PER"})),
        "ls-result-invalid",
        "task 3 annotation 7 region r1",
    ),
    "a label that is a list": (
        seed_task(result=region({"start": 0, "end": 3, "labels": [["PER"]]})),
        "ls-result-invalid",
        "task 3 annotation 7 region r1",
    ),
    "value.text a number": (
        seed_task(result=region({"start": 0, "end": 3, "labels": ["X"], "text": 5})),
        "ls-label-unknown",
        "task 3 annotation 7 region r1",
    ),
    "an id of 1e309": ({**seed_task(), "id": 1e309}, "ls-export-invalid", "export.json"),
}


@pytest.mark.parametrize("case", list(MALFORMED_EXPORTS))
def test_a_malformed_label_studio_export_is_located_at_its_task_and_annotation(
    seed_root, tmp_path, kinews, case
):
    task, code, where = MALFORMED_EXPORTS[case]
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task]).replace("Infinity", "1e309"), "utf-8")
    before = tree(seed_root)
    result = kinews("ls", "import", export, "--root", seed_root)
    assert_located(result, code, where)
    assert f"{export}" in result.output
    assert tree(seed_root) == before


def test_predictions_listed_by_id_as_label_studio_exports_them_are_taken(
    seed_root, tmp_path, kinews
):
    """Label Studio 1.23's JSON export lists a task's predictions by id, not as objects."""
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{**seed_task(), "predictions": [11, 12]}]), "utf-8")
    result = kinews("ls", "import", export, "--root", seed_root)
    assert result.exit_code == 0, result.output
    assert "ls-export-invalid" not in result.output


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def shaped(keys: list[str], leaf: st.SearchStrategy) -> st.SearchStrategy:
    """Objects with some of an export's own keys, each holding any JSON (or `leaf`)."""
    return st.fixed_dictionaries({}, optional={key: leaf | JSON for key in keys})


VALUES = shaped(["start", "end", "labels", "text"], st.sampled_from([0, 3, ["PER"], "Lu"]))
RESULTS = shaped(["id", "type", "value"], st.just("labels") | VALUES)
ITEMS = shaped(
    ["id", "result", "created_at", "completed_by", "was_cancelled", "annotation", "lead_time"],
    st.lists(RESULTS | JSON, max_size=3),
)
TASKS = shaped(
    ["id", "data", "annotations", "completions", "drafts", "predictions"],
    st.lists(ITEMS | JSON, max_size=3) | st.just({"text": SEED.read_text("utf-8")}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export=st.lists(TASKS | JSON, max_size=3) | TASKS | JSON)
def test_any_json_fed_to_the_export_reader_ends_in_records_or_located_problems(export):
    from kinews.labelstudio.export import Options, convert_tasks
    from kinews.labelstudio.export_file import read_export
    from kinews.records import dumps
    from kinews.scheme import load_scheme

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.json"
        path.write_text(json.dumps(export), "utf-8")
        try:
            tasks = read_export(path)
            for task in tasks:  # with the seed's id, so that conversion reaches the annotations
                if isinstance(task.get("data"), dict):
                    task["data"]["doc_id"] = SEED_ID
            options = Options(match_text=True, created_at="2026-01-01T00:00:00Z")
            docs = {SEED_ID: SEED_DOCUMENT}
            conversion = convert_tasks(
                tasks, docs, load_scheme(REPO), lambda item: "annotator-01", {}, options, "x"
            )
            for record in conversion.records:
                dumps(record)
        except KinewsError as error:
            assert error.problems


# --- scripts/label-studio serve -----------------------------------------------------------------


def test_label_studio_serve_refuses_a_port_already_in_use_before_starting(tmp_path):
    """Something else listens on the port (and would answer /health): nothing is started."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = os.environ | {
            "LABEL_STUDIO_USERNAME": "admin@example.org",
            "LABEL_STUDIO_PASSWORD": "not-a-real-password",
            "LABEL_STUDIO_API_KEY": "not-a-real-key",
        }
        kinews = Path(sys.executable).with_name("kinews")
        data = tmp_path / "ls-data"
        args = [kinews, "ls", "serve", "--port", str(port), "--data-dir", data, "--root", tmp_path]
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "is up" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not data.exists()  # not even the data folder was made


# --- servers answering wrongly: the Hub (stand-in) and a wrong Label Studio URL -----------------

TOKEN = "hf_" + secrets.token_hex(16)  # made per run: no token-shaped string is committed


def hub_env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "LABEL_STUDIO_"))}
    return env | {
        "HF_ENDPOINT": endpoint,
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_TOKEN": TOKEN,
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }


@pytest.mark.parametrize("misbehave", ["wrong-shape", "html", "error-500"])
def test_a_hub_answering_in_the_wrong_shape_is_a_short_located_problem_without_the_token(
    built, tmp_path, misbehave
):
    """Against the Hub stand-in (tests/hub_standin.py), made to answer wrongly; the release is
    the recorded one of its root, so only the Hub's answers are wrong."""
    release = spoiled_release(built, tmp_path)  # a whole copy, not spoiled
    kinews = Path(sys.executable).with_name("kinews")
    with HubStandin(TOKEN, misbehave=misbehave) as hub:
        args = [kinews, "publish", release, "--repo-id", "org/name", "--root", built]
        result = subprocess.run(
            args, env=hub_env(tmp_path, hub.endpoint), capture_output=True, text=True, timeout=120
        )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert any(line.startswith("org/name hub-error: ") for line in output.splitlines()), output
    assert TOKEN not in output and TOKEN[3:] not in output
    assert len(output) < 1000 and "<" not in output  # shortened, no HTML


@pytest.mark.parametrize("misbehave", ["wrong-shape", "html", "error-500"])
def test_a_label_studio_url_answering_wrongly_is_a_short_located_problem_without_the_key(
    tmp_path, misbehave
):
    """LABEL_STUDIO_URL at a server that is not Label Studio: the Hub stand-in answering
    wrongly (error-500: a 170 kB page echoing the request's Authorization header)."""
    key = "ls-" + secrets.token_hex(20)
    kinews = Path(sys.executable).with_name("kinews")
    with HubStandin(TOKEN, misbehave=misbehave) as other:
        env = hub_env(tmp_path, "http://127.0.0.1:9") | {
            "LABEL_STUDIO_URL": other.endpoint,
            "LABEL_STUDIO_API_KEY": key,
        }
        args = [kinews, "ls", "pull", "--project", "p", "--root", tmp_path]
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert f"{other.endpoint} ls-server-error: " in output
    assert ("HTTP 500" in output) == (misbehave == "error-500")
    assert key not in output and TOKEN not in output
    assert len(output) < 1000 and "<" not in output


@pytest.mark.parametrize(
    ("card", "line"),
    [
        (b"---\nversion: caf\xe9\n---\n", 2),  # not UTF-8
        (b"---\nbase: &v 0.1.0\nversion: *v\n---\n", 3),  # an alias
    ],
)
def test_a_card_that_is_not_utf8_or_holds_an_alias_is_located(built, tmp_path, card, line):
    """A folder not named <name>-X.Y.Z is known by its card's version (publish reads it so),
    read strictly: a located release-invalid, never a traceback or an expanded alias."""
    from kinews.errors import KinewsError
    from kinews.release.folder import release_version

    release = spoiled_release(built, tmp_path).rename(tmp_path / "some-release")
    (release / "README.md").write_bytes(card)
    with pytest.raises(KinewsError) as raised:
        release_version(release)
    [problem] = raised.value.problems
    assert problem.code == "release-invalid"
    assert (problem.file, problem.line) == (str(release / "README.md"), line)
