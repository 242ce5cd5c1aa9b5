"""Specification of `kinews publish`, against the local Hub stand-in (tests/hub_standin.py).

`kinews` runs as a subprocess with the environment a user would set: `HF_ENDPOINT` pointing at
the stand-in (which shows that huggingface_hub honours it), `HF_TOKEN`, and `HF_HOME` in
tmp_path so no cached login or cache of the machine is used or touched. huggingface_hub's debug
logging is switched on, so a leaked token would show up in the captured output.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tree
from hub_standin import GITATTRIBUTES, HubStandin
from kinews.release.build import build

# Made per run, so no token-shaped string is committed (secret scanners would flag one).
TOKEN = "hf_" + secrets.token_hex(16)
REPO_ID = "kinews-test/kinews"


@pytest.fixture
def release(seed_root: Path) -> Path:
    return build(seed_root, "0.1.0", seed_root / "dist").path


@pytest.fixture
def hub():
    with HubStandin(TOKEN) as standin:
        yield standin


@pytest.fixture
def publish(hub: HubStandin, tmp_path: Path, seed_root: Path):
    """Run `kinews publish ... --root <the seed root>` in a subprocess (the root records the
    release); every output is kept to check for the token."""
    outputs: list[str] = []

    def run(
        *args: object, token: str | None = TOKEN, endpoint: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env |= {
            "HF_ENDPOINT": endpoint or hub.endpoint,
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_HUB_VERBOSITY": "debug",
            "HF_DEBUG": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        if token is not None:
            env["HF_TOKEN"] = token
        result = subprocess.run(
            [sys.executable, "-m", "kinews", "publish", *map(str, args), "--root", str(seed_root)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs.append(result.stdout + result.stderr)
        return result

    run.outputs = outputs  # type: ignore[attr-defined]
    return run


def writes(hub: HubStandin) -> list[str]:
    return [f"{r.method} {r.path}" for r in hub.requests if r.method != "GET"]


def test_publish_uploads_the_release_in_one_commit_verifies_it_and_tags_it(release, hub, publish):
    result = publish(release, "--repo-id", REPO_ID, "--private")
    assert result.returncode == 0, result.stderr
    assert f"created dataset repository {REPO_ID}" in result.stdout
    assert "tagged v0.1.0" in result.stdout

    repo = hub.repos[REPO_ID]
    assert repo.private
    commits = [c for c in repo.commits.values() if c.message == "Release v0.1.0"]
    assert len(commits) == 1
    [commit] = commits
    assert commit.files == {".gitattributes": GITATTRIBUTES, **tree(release)}
    assert repo.tags == {"v0.1.0": commit.oid}
    assert repo.branches["main"] == commit.oid
    assert [w for w in writes(hub) if "/commit/" in w] == [
        f"POST /api/datasets/{REPO_ID}/commit/main"
    ]
    # Verification read the tree at the new commit before the tag was made.
    paths = [r.path for r in hub.requests]
    assert paths.index(f"/api/datasets/{REPO_ID}/tree/{commit.oid}") < paths.index(
        f"/api/datasets/{REPO_ID}/tag/{commit.oid}"
    )


def test_a_version_that_is_already_tagged_is_refused_and_nothing_is_sent(release, hub, publish):
    assert publish(release, "--repo-id", REPO_ID).returncode == 0
    before = writes(hub)
    result = publish(release, "--repo-id", REPO_ID)
    assert result.returncode == 1
    assert "tag-exists" in result.stderr and "v0.1.0" in result.stderr
    assert writes(hub) == before


def test_dry_run_lists_every_operation_and_sends_nothing(release, hub, publish):
    result = publish(release, "--repo-id", REPO_ID, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert hub.requests == []
    assert 'commit "Release v0.1.0" to main' in result.stdout
    assert "tag the commit v0.1.0" in result.stdout
    for path in tree(release):
        assert f"add {path} (" in result.stdout
    assert REPO_ID not in hub.repos


def test_the_token_never_appears_in_output_or_files(release, hub, publish, tmp_path):
    publish(release, "--repo-id", REPO_ID, "--dry-run")
    publish(release, "--repo-id", REPO_ID)
    publish(release, "--repo-id", REPO_ID)  # refused: tag exists
    # The token did reach the Hub: every request but the public harness list carried it.
    assert all(r.authorized for r in hub.requests if r.path != "/api/agent-harnesses")
    assert TOKEN not in "".join(publish.outputs)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_without_a_token_nothing_is_sent(release, hub, publish):
    result = publish(release, "--repo-id", REPO_ID, token=None)
    assert result.returncode == 1
    assert "hub-token-missing" in result.stderr
    assert writes(hub) == []


def test_a_release_changed_after_its_build_is_refused_before_anything_is_sent(
    release, hub, publish
):
    card = release / "README.md"
    card.write_text(card.read_text("utf-8") + "edited by hand\n", "utf-8")
    result = publish(release, "--repo-id", REPO_ID)
    assert result.returncode == 1
    assert "release-checksum-mismatch" in result.stderr and "README.md" in result.stderr
    assert hub.requests == []


def test_an_invalid_repository_id_is_refused(release, publish):
    result = publish(release, "--repo-id", "no-slash", "--dry-run")
    assert result.returncode == 1
    assert "repo-id-invalid" in result.stderr


def test_an_unreachable_hub_is_a_located_problem_not_a_traceback(release, publish):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = publish(release, "--repo-id", REPO_ID, endpoint=f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert "hub-error" in result.stderr and "Traceback" not in result.stderr


def test_every_shard_is_uploaded_and_shards_of_an_earlier_layout_are_removed(
    seed_root, hub, publish
):
    whole = build(seed_root, "0.1.0", seed_root / "dist")
    assert publish(whole.path, "--repo-id", REPO_ID).returncode == 0
    sharded = build(seed_root, "0.2.0", seed_root / "dist", max_shard_size=2_000).path
    shards = sorted(p.name for p in (sharded / "data" / "sentences").iterdir())
    assert len(shards) > 1 and "train-00000-of-00001.parquet" not in shards

    result = publish(sharded, "--repo-id", REPO_ID)
    assert result.returncode == 0, result.stderr
    repo = hub.repos[REPO_ID]
    commit = repo.commits[repo.tags["v0.2.0"]]
    # Every shard, and nothing of 0.1.0's one-file layout: the Hub's tree is the release's.
    assert commit.files == {".gitattributes": GITATTRIBUTES, **tree(sharded)}
