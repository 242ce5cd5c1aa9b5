"""Benchmark `kinews build` against the floor: single-core SoMaJo alone on the same texts.

    .venv/bin/python scripts/bench_build.py                   # N = 2,000 (a few minutes)
    .venv/bin/python scripts/bench_build.py --size 100        # a smoke run

It generates a dataset root of N documents in a temporary folder, as scripts/bench_validate.py
does (real German text from ../shared/data/10kgnad/test.csv, benchmarks only, read in place and
never copied; 20 synthetic spans each, one gold record per document). Then, side by side in one
run, each in a fresh process:

- the floor: SoMaJo alone (`de_CMC`, as kinews configures it) tokenizing every text, one
  paragraph at a time, on one core; the time of the tokenizing itself, without imports;
- `kinews build --no-baseline` of a new version (0.1.0) with an empty token cache, `--workers` 2;
- `kinews build --no-baseline` of the next version (0.2.0) with no text changed, so every
  text's tokens come from the cache;
- `kinews baseline` on that release: the CRF that a build without `--no-baseline` also trains,
  once per version whose sentences changed (`--skip-crf` leaves it out: at 10,000 documents it
  takes longer than everything else together).

The build targets are measured without the CRF: training it is its own cost, which no speed of
tokenizing can shorten (docs/development.md, "The build", says why and gives its figures).

Each is also given in CPU seconds (all its processes'), which a shared machine disturbs less.

It prints each wall time beside its target (build <= 0.6 x the floor, rebuild <= 0.1 x) with
`met` or `NOT MET`, and the CRF's beside the floor without one; and each run's peak RSS.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"build": 0.6, "rebuild": 0.1}
LABELS = {
    "build": "`kinews build --no-baseline`, new version, {workers} workers",
    "rebuild": "`kinews build --no-baseline`, next version, no text changed",
    "crf": "`kinews baseline` on it: what the default `--baseline` adds to a new version",
}

# The floor: what SoMaJo alone takes on the corpus texts; prints its own seconds.
FLOOR = """
import json, sys, time
from somajo import SoMaJo
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
tokenizer = SoMaJo("de_CMC", split_camel_case=False, character_offsets=True)
started, cpu = time.perf_counter(), time.process_time()
for text in texts:
    for line in text.split("\\n"):
        if line.strip():
            for sentence in tokenizer.tokenize_text([line]):
                pass
print(time.perf_counter() - started, time.process_time() - cpu)
"""


def generate(root: Path, n: int) -> int:
    """The corpus of scripts/bench_validate.py; returns the number of spans."""
    spec = importlib.util.spec_from_file_location(
        "bench_validate", REPO / "scripts" / "bench_validate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spans = module.generate(root, n)
    # What a build needs beyond what validate reads: the dataset's declaration and its manual.
    shutil.copy(REPO / "schemas" / "dataset.yaml", root / "schemas" / "dataset.yaml")
    shutil.copy(REPO / "annotations" / "GUIDELINES.md", root / "annotations" / "GUIDELINES.md")
    return spans


def run(command: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, CPU seconds (its processes'), standard output and peak RSS in MiB (of its
    largest process: the build's own or a tokenizing worker's) of one fresh child process.

    Exits when it fails.
    """
    before, started = os.times(), time.perf_counter()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        wall, after = time.perf_counter() - started, os.times()
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        printed, complaint = stdout.read().decode(), stderr.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{printed}{complaint}")
    cpu = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    return wall, cpu, printed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2_000, help="documents (default 2,000)")
    parser.add_argument("--workers", type=int, default=2, help="build workers (default 2)")
    parser.add_argument(
        "--skip-crf",
        action="store_true",
        help="do not time `kinews baseline` (the CRF alone; at 10,000 documents the longest step)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kinews-bench-build-") as tmp:
        root, dist = Path(tmp) / "root", Path(tmp) / "dist"

        def build(version: str) -> tuple[float, float, str, float]:
            return run(
                [
                    *(sys.executable, "-m", "kinews", "build", "--date", "2026-12-01"),
                    *("--version", version, "--workers", str(args.workers), "--no-baseline"),
                    *("--root", str(root), "--out", str(dist)),
                ]
            )

        spans = generate(root, args.size)
        texts = root / "corpus" / "documents.jsonl"
        print(f"{args.size:,} documents, {spans:,} spans, {texts.stat().st_size / 1e6:.1f} MB")
        load = os.getloadavg()[0]
        _, _, printed, floor_rss = run([sys.executable, "-c", FLOOR, str(texts)])
        floor, floor_cpu = map(float, printed.split())
        wall, cpu, _, rss = build("0.1.0")
        figures = {"build": (wall, cpu, rss)}
        wall, cpu, printed, rss = build("0.2.0")
        figures["rebuild"] = (wall, cpu, rss)
        if f"tokenized 0 texts, {args.size} from the cache" not in printed:
            raise SystemExit(f"the rebuild tokenized texts again:\n{printed}")
        if not args.skip_crf:
            release = str(dist / "kinews-0.2.0")
            wall, cpu, _, rss = run([sys.executable, "-m", "kinews", "baseline", release])
            figures["crf"] = (wall, cpu, rss)
        shutil.rmtree(dist)
    # The machine may be shared: the load shows how many cores others wanted meanwhile.
    print(f"load average (1 min) before {load:.1f}, after {os.getloadavg()[0]:.1f}")
    print()
    print("| what | wall s | CPU s | peak RSS MiB | wall / floor | CPU / floor CPU | target | |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print(
        f"| floor: SoMaJo alone, 1 core | {floor:.1f} | {floor_cpu:.1f} | {floor_rss:,.0f} "
        "| 1.00 | 1.00 | | |"
    )
    for name, label in LABELS.items():
        if name not in figures:
            continue
        wall, cpu, rss = figures[name]
        target = f"<= {TARGETS[name]}" if name in TARGETS else ""
        verdict = ("met" if wall / floor <= TARGETS[name] else "NOT MET") if target else ""
        print(
            f"| {label.format(workers=args.workers)} | {wall:.1f} | {cpu:.1f} | {rss:,.0f} | "
            f"{wall / floor:.2f} | {cpu / floor_cpu:.2f} | {target} | {verdict} |"
        )


if __name__ == "__main__":
    main()
