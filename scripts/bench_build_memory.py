"""Benchmark the memory of `kinews build` (and `kinews validate`) as the corpus grows tenfold.

    .venv/bin/python scripts/bench_build_memory.py --keep DIR       # N = 100,000 and 1,000,000
    .venv/bin/python scripts/bench_build_memory.py --sizes 2000 20000   # a smoke run

Issue 14's target: peak RSS at 1,000,000 documents (20 spans each) at most 1.5 times the figure
at 100,000. For each N it generates a dataset root as scripts/bench_validate.py does (real German
sentences from ../shared/data/10kgnad/test.csv, benchmarks only, read in place and never copied;
20 word-aligned spans per document, one gold record each), then runs, each in a fresh process,
`kinews validate` and `kinews build --no-baseline` of a new version, and prints each one's peak
RSS (of its largest process, from the child's rusage) and wall time, and the ratios.

The build's tokens come from the root's token cache, filled before the build. A build of
1,000,000 new texts would spend about eleven hours in SoMaJo on this machine's two cores; what
this benchmark measures is what the build itself holds, which does not depend on where the
tokens come from (a new text's tokens are made by the worker processes, which hold one shard of
texts at a time). So each document's text is three paragraphs of a pool of `--pool` distinct
paragraphs (each a few real sentences), a combination no other document has: SoMaJo tokenizes
each paragraph of the pool once, and a document's cache entry is put together from its
paragraphs' proposals, which is exactly how `kinews.tokens.propose` makes it (one line at a
time, offsets shifted by the line's start). Before the build, the benchmark checks that for a
sample of documents against `propose` on the whole text, and the build must report every text
found in the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kinews.proposals import _write_entry, cache_folder  # noqa: E402  (the cache's own writer)
from kinews.tokens import Proposals, propose, propose_each  # noqa: E402

TARGET_N, FLAT_N = 100_000, 1_000_000  # issue 14: peak RSS at FLAT_N <= 1.5 x at TARGET_N
SAMPLE = 200  # documents whose put-together entries are checked against `propose`
SHARD = 2_000  # lines per task of the tokenizing pool


def bench_validate():  # the module, loaded from its file
    spec = importlib.util.spec_from_file_location(
        "bench_validate", REPO / "scripts" / "bench_validate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus(folder: Path, n: int, pool_size: int) -> tuple[Path, int]:
    """The dataset root of n documents under `folder` (made once: its span count is written
    last, when the root and its token cache are complete) and its number of spans."""
    root = folder / str(n)
    done = root / "spans.txt"
    if done.exists():
        return root, int(done.read_text())
    if root.exists():
        shutil.rmtree(root)  # an interrupted generation
    module = bench_validate()
    rng = random.Random(1)
    sentences = module.german_sentences()
    pool: set[str] = set()
    while len(pool) < pool_size:
        pool.add(" ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4))))
    paragraphs = sorted(pool)
    # Distinct combinations of three paragraphs: no two documents share a text.
    combinations = rng.sample(range(pool_size**3), n)
    texts = [
        "\n".join(
            paragraphs[i] for i in (c // pool_size**2, c // pool_size % pool_size, c % pool_size)
        )
        for c in combinations
    ]
    started = time.perf_counter()
    spans = module.generate(root, n, texts=texts)
    # What a build needs beyond what validate reads: the dataset's declaration and its manual.
    shutil.copy(REPO / "schemas" / "dataset.yaml", root / "schemas" / "dataset.yaml")
    shutil.copy(REPO / "annotations" / "GUIDELINES.md", root / "annotations" / "GUIDELINES.md")
    print(f"  generated {n:,} documents in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    fill_cache(root)
    print(f"  filled the token cache in {time.perf_counter() - started:.0f} s", flush=True)
    done.write_text(str(spans))
    return root, spans


def fill_cache(root: Path) -> None:
    """Each document's token cache entry, put together from its lines' proposals."""
    texts = [
        json.loads(line)["text"]
        for line in (root / "corpus" / "documents.jsonl").open(encoding="utf-8")
    ]
    distinct = sorted({line for text in texts for line in text.split("\n") if line.strip()})
    shards = [distinct[i : i + SHARD] for i in range(0, len(distinct), SHARD)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as workers:
        proposed = dict(
            zip(
                distinct,
                (p for shard in workers.map(propose_each, shards) for p in shard),
                strict=True,
            )
        )
    folder = cache_folder(root)
    sample = set(random.Random(2).sample(range(len(texts)), min(SAMPLE, len(texts))))
    for index, text in enumerate(texts):
        entry = composed(text, proposed)
        if index in sample and entry != propose(text):
            raise SystemExit(f"document {index}: its lines' proposals do not make its own")
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        _write_entry(folder / key[:2] / f"{key}.json", key, entry)


def composed(text: str, proposed: dict[str, Proposals]) -> Proposals:
    """`propose(text)` from each line's own proposals (see `kinews.tokens.propose`)."""
    cuts: set[int] = set()
    breaks: set[int] = set()
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            breaks.add(offset)
            own = proposed[line]
            cuts.update(offset + c for c in own.cuts)
            breaks.update(offset + b for b in own.breaks)
        offset += len(line) + 1
    return Proposals(tuple(sorted(cuts)), tuple(sorted(breaks)))


def run(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB (of its largest process) and standard output of one fresh
    child process. Exits when it fails."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        printed, complaint = stdout.read().decode(), stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{printed}{complaint}")
    return wall, usage.ru_maxrss / 1024, printed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[TARGET_N, FLAT_N])
    parser.add_argument(
        "--pool", type=int, default=1_000, help="distinct paragraphs (default 1,000)"
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="generate each root (and its token cache) into DIR/N once and reuse it; "
        "1,000,000 documents take about 8 GB",
    )
    args = parser.parse_args()
    kinews = [sys.executable, "-m", "kinews"]
    peaks: dict[str, dict[int, float]] = {"validate": {}, "build": {}}
    rows = []
    with tempfile.TemporaryDirectory(prefix="kinews-bench-memory-") as tmp:
        for n in args.sizes:
            print(f"N = {n:,}", flush=True)
            root, spans = corpus(Path(args.keep or tmp), n, args.pool)
            size = sum(p.stat().st_size for p in root.rglob("*.jsonl")) / 1e6
            v_wall, v_rss, _ = run([*kinews, "validate", "--root", str(root)])
            dist = Path(tmp) / "dist"
            b_wall, b_rss, printed = run(
                [
                    *(*kinews, "build", "--no-baseline", "--version", "0.1.0"),
                    *("--date", "2026-12-01", "--workers", "2"),
                    *("--root", str(root), "--out", str(dist)),
                ]
            )
            if f"tokenized 0 texts, {n} from the cache" not in printed:
                raise SystemExit(f"the build tokenized texts:\n{printed}")
            shutil.rmtree(dist)
            # The build recorded 0.1.0 in the root: gone again, so that a rerun builds it anew.
            shutil.rmtree(root / "releases")
            (root / "CHANGELOG.md").unlink(missing_ok=True)
            peaks["validate"][n], peaks["build"][n] = v_rss, b_rss
            rows.append(
                f"| {n:,} | {spans:,} | {size:,.0f} | {v_rss:,.0f} | {v_wall:.1f} "
                f"| {b_rss:,.0f} | {b_wall:.1f} |"
            )
            print(
                f"  validate {v_rss:,.0f} MiB {v_wall:.1f} s, build {b_rss:,.0f} MiB "
                f"{b_wall:.1f} s",
                flush=True,
            )
    print()
    print(
        "| N documents | spans | input MB | validate peak RSS MiB | validate s "
        "| build peak RSS MiB | build s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print()
    small, large = (TARGET_N, FLAT_N) if FLAT_N in args.sizes else (args.sizes[0], args.sizes[-1])
    for command, by_n in peaks.items():
        if small in by_n and large in by_n and small != large:
            ratio = by_n[large] / by_n[small]
            print(
                f"{command}: peak RSS {by_n[large]:,.0f} MiB at N = {large:,}, {ratio:.2f} times "
                f"the {by_n[small]:,.0f} MiB at N = {small:,} (target <= 1.5): "
                + ("met" if ratio <= 1.5 else "NOT MET")
            )


if __name__ == "__main__":
    main()
