"""Copy the released 10kGNAD articles into seeds/, byte for byte as upstream has their text.

Issue 11 takes every article of the categories `Web` and `Wissenschaft` from 10kGNAD's
`test.csv` (licence CC BY-NC-SA 4.0, see ../shared/data/SOURCES.md); the rest of the file stays
out of the corpus. Each article becomes `seeds/10kgnad-test-RRRR.txt` (RRRR: its 1-based row in
`test.csv`, which has no header), holding exactly the CSV field's text, and gets an entry in
`seeds/sources.yaml` with its provenance. Re-running it changes nothing.

    python3 scripts/seed_10kgnad.py ../shared/data/10kgnad/test.csv
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

CATEGORIES = ("Web", "Wissenschaft")
SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SOURCE = "DER STANDARD (via 10kGNAD)"
LICENSE = "CC-BY-NC-SA-4.0"
NOTES = (
    "10kGNAD test.csv, row {row}, category {category}. Text as published in 10kGNAD: upstream "
    "removed most quotation marks and the author byline, joined the paragraphs into one, and "
    "put the subtitle first (the first sentence is usually the subtitle). Published by DER "
    "STANDARD (Vienna) in 2015-2016; title, URL and exact date are unknown."
)


def main(csv_path: str) -> None:
    with open(csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";", quotechar="'"))
    entries: list[str] = []
    for number, (category, text) in enumerate(rows, start=1):
        if category not in CATEGORIES:
            continue
        name = f"10kgnad-test-{number:04d}.txt"
        (SEEDS / name).write_bytes(text.encode("utf-8"))
        # JSON strings are YAML strings: no hand-escaping of the notes.
        notes = json.dumps(NOTES.format(row=number, category=category), ensure_ascii=False)
        entries.append(
            f"{name}:\n"
            f"  title: null\n"
            f"  source: {json.dumps(SOURCE)}\n"
            f"  url: null\n"
            f"  published: null\n"
            f"  license: {LICENSE}\n"
            f"  language: de\n"
            f"  notes: {notes}\n"
        )
    sources = SEEDS / "sources.yaml"
    kept = sources.read_text(encoding="utf-8").split("\n# --- 10kGNAD")[0].rstrip("\n")
    header = (
        "\n\n# --- 10kGNAD (Timo Block, 2019; DER STANDARD articles 2015-2016), CC BY-NC-SA 4.0.\n"
        "# Written by scripts/seed_10kgnad.py from ../shared/data/10kgnad/test.csv.\n"
    )
    sources.write_text(kept + header + "".join(entries), encoding="utf-8")
    print(f"{len(entries)} articles in {SEEDS}")


if __name__ == "__main__":
    main(sys.argv[1])
