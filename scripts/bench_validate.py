"""Benchmark `kinews validate` against the floor: pyarrow reading the same JSON Lines into tables.

    .venv/bin/python scripts/bench_validate.py                 # N = 1,000, 10,000, 100,000
    .venv/bin/python scripts/bench_validate.py --sizes 50      # a smoke run

For each N it generates a dataset root in a temporary folder: N documents of real German text
(sentences drawn from ../shared/data/10kgnad/test.csv, CC BY-NC-SA 4.0: read in place, never
copied into the repository) with ~20 word-aligned spans each, all valid. Then it runs, each in a
fresh process, `kinews validate` and the floor, alternately, `--repeat` times (default 3), and
prints the best wall time, documents/s and spans/s, peak RSS (from the child's own rusage) for
both, and the ratio of the best times: the machine is shared, and the best of several runs is
the least disturbed one.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TENKGNAD = REPO.parent / "shared" / "data" / "10kgnad" / "test.csv"
SPANS_PER_DOC = 20
TARGET_N = 100_000  # where the issue sets the targets
FLAT_N = 1_000_000  # peak RSS here at most 1.5 times the figure at TARGET_N (issue 14)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])")
WORD = re.compile(r"\w+(?:-\w+)*")

# The floor: what it costs just to get the same JSON Lines into Arrow tables.
FLOOR = """
import sys
from pathlib import Path
import pyarrow.json as pj
root = Path(sys.argv[1])
tables = [pj.read_json(root / "corpus" / "documents.jsonl")]
tables += [pj.read_json(p) for p in sorted((root / "annotations").glob("*.jsonl"))]
print(sum(t.num_rows for t in tables))
"""


def german_sentences() -> list[str]:
    """Sentences of the 10kGNAD test articles (`category;'text'`, quote character ')."""
    with TENKGNAD.open(encoding="utf-8", newline="") as handle:
        articles = [row[1] for row in csv.reader(handle, delimiter=";", quotechar="'")]
    return [s.strip() for a in articles for s in SENTENCE.split(a) if len(s.strip()) > 20]


def labels() -> list[str]:
    sys.path.insert(0, str(REPO / "src"))
    from kinews.scheme import load_scheme

    return load_scheme(REPO).label_names


def corpus(folder: Path, n: int, kept: bool) -> tuple[Path, int]:
    """The dataset root of n documents under `folder` and its number of spans; a kept one is
    generated only once (its span count written last, when it is complete)."""
    root = folder / str(n) if kept else folder
    done = root / "spans.txt"
    if kept and done.exists():
        return root, int(done.read_text())
    if kept and root.exists():
        shutil.rmtree(root)  # an interrupted generation
    spans = generate(root, n)
    if kept:
        done.write_text(str(spans))
    return root, spans


def generate(root: Path, n: int, seed: int = 0, texts: list[str] | None = None) -> int:
    """Write a valid dataset root with n documents; returns the number of spans.

    `texts`: the documents' texts, distinct (default: paragraphs of sentences drawn at random,
    after a first line that makes each text unique).
    """
    rng = random.Random(seed)
    sentences, names = german_sentences(), labels()
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir()
    (root / "schemas").mkdir()
    (root / "schemas" / "labels.yaml").write_bytes((REPO / "schemas" / "labels.yaml").read_bytes())
    spans_total = 0
    with (
        (root / "corpus" / "documents.jsonl").open("w", encoding="utf-8") as docs,
        (root / "annotations" / "bench.jsonl").open("w", encoding="utf-8") as anns,
    ):
        for index in range(n):
            if texts is None:
                paragraphs = [
                    " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
                    for _ in range(rng.randint(2, 4))
                ]
                # Unique per document, so no two documents share a text.
                text = f"Meldung {index}.\n" + "\n".join(paragraphs)
            else:
                text = texts[index]
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            doc_id = f"bench-{index:07d}"
            words = list(WORD.finditer(text))
            spans = []
            for match in sorted(rng.sample(words, min(SPANS_PER_DOC, len(words))), key=_start):
                spans.append(
                    {
                        "start": match.start(),
                        "end": match.end(),
                        "label": rng.choice(names),
                        "text": match.group(),
                    }
                )
            spans_total += len(spans)
            docs.write(
                json.dumps(
                    {
                        "id": doc_id,
                        "text": text,
                        "sha256": digest,
                        "language": "de",
                        "title": f"Artikel {index}",
                        "source": "10kGNAD (benchmark only)",
                        "url": None,
                        "published": "2026-11-28",
                        "license": None,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            anns.write(
                json.dumps(
                    {
                        "doc_id": doc_id,
                        "doc_sha256": digest,
                        "annotator": f"annotator-{index % 3 + 1:02d}",
                        "status": "gold",
                        "created_at": "2026-11-28T10:00:00Z",
                        "updated_at": None,
                        "origin": {"tool": "bench", "task": index},
                        "spans": spans,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return spans_total


def _start(match: re.Match[str]) -> int:
    return match.start()


def measure(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB and exit code of one fresh child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.stderr.close()
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="generate each corpus into DIR/N once and reuse it on later runs (1,000,000 "
        "documents take about 3 GB and ten minutes to generate)",
    )
    args = parser.parse_args()
    kinews = [sys.executable, "-m", "kinews", "validate", "--root"]
    floor = [sys.executable, "-c", FLOOR]
    print(
        "| N documents | spans | MB | validate s | docs/s | spans/s | RSS MiB "
        "| floor s | floor docs/s | floor spans/s | floor RSS MiB | validate / floor |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    peaks: dict[int, float] = {}
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="kinews-bench-") as tmp:
            root, spans = corpus(Path(args.keep or tmp), n, kept=bool(args.keep))
            size = sum(p.stat().st_size for p in root.rglob("*.jsonl")) / 1e6
            runs, floors = [], []
            for _ in range(args.repeat):
                runs.append(measure([*kinews, str(root)]))
                floors.append(measure([*floor, str(root)]))
            if any(code != 0 for *_, code in runs):
                raise SystemExit("kinews validate failed on the generated corpus")
            if any(code != 0 for *_, code in floors):
                raise SystemExit("the floor failed")
            wall, _, _ = min(runs)
            rss = max(r for _, r, _ in runs)  # the peak of every run: memory is not noise
            peaks[n] = rss
            f_wall, f_rss, _ = min(floors)
            print(
                f"| {n:,} | {spans:,} | {size:,.0f} | {wall:.2f} | {n / wall:,.0f} "
                f"| {spans / wall:,.0f} | {rss:,.0f} | {f_wall:.2f} | {n / f_wall:,.0f} "
                f"| {spans / f_wall:,.0f} | {f_rss:,.0f} | {wall / f_wall:.1f} |",
                flush=True,
            )
            if n == TARGET_N:
                verdicts.append(targets(wall, f_wall, rss).strip())
    if TARGET_N in peaks and FLAT_N in peaks:
        ratio = peaks[FLAT_N] / peaks[TARGET_N]
        verdicts.append(
            f"Flat memory: peak RSS {peaks[FLAT_N]:,.0f} MiB at N = {FLAT_N:,}, {ratio:.2f} times "
            f"the {peaks[TARGET_N]:,.0f} MiB at N = {TARGET_N:,} (<= 1.5): "
            + ("met" if ratio <= 1.5 else "NOT MET")
        )
    for verdict in verdicts:
        print(verdict)


def targets(wall: float, floor: float, rss_mib: float) -> str:
    """The issue's targets at N = 100,000, each with the measured figure."""

    def met(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    return (
        f"\nTargets at N = {TARGET_N:,}: wall {wall:.2f} s < 10 s: {met(wall < 10)}; "
        f"{wall / floor:.1f} times the floor <= 3: {met(wall <= 3 * floor)}; "
        f"peak RSS {rss_mib:,.0f} MiB < 2 GB: {met(rss_mib * 2**20 < 2e9)}"
    )


if __name__ == "__main__":
    main()
