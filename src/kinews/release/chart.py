"""The label-count chart embedded in the dataset card: spans per label and split, as a PNG.

The PNG must be reproducible like every other file of a release (the build promises identical
bytes for identical inputs), so the chart is drawn on a private Agg figure with matplotlib's
default style (no user matplotlibrc), the bundled DejaVu font, fixed size and dpi, and PNG
metadata reduced to nothing that names the matplotlib version or the time.

Since the same counts give the same bytes, a build keeps the PNG under the dataset root, by
the sha256 of the counts, the labels, this module's code and the matplotlib version:

    .kinews-cache/chart/c1/3f2a….png

A rebuild with the same spans (a new version where no text or span changed) then neither
imports matplotlib nor draws: a second or more of its fixed cost. Like the other caches it is
only a cache: deletable, an entry that does not read back exactly is drawn again, and the
release bytes are the same with or without it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from importlib.metadata import version
from pathlib import Path

from kinews.cache_entry import read_entry, write_entry
from kinews.files import write_atomic

# Raised whenever an entry's form changes (what is drawn is keyed by this module's own code).
FORMAT = "c1"
FOLDER = Path(".kinews-cache") / "chart" / FORMAT

# One colour per split, in split order; fixed so the picture does not change between builds.
_SPLIT_COLOURS = ("#4363d8", "#f58231", "#3cb44b", "#911eb4", "#808080")


def render_label_chart(
    label_counts: dict[str, Counter[str]], labels: list[str], path: Path, cache: Path | None = None
) -> None:
    """Write a grouped bar chart of span counts (labels on the x axis, one bar per split) to `path`.

    `label_counts` maps split name → Counter of label name; splits are drawn in its order and
    labels in the order of `labels` (the scheme's). The file is written atomically; the same
    counts give the same bytes. `cache`: the dataset root whose chart cache may hold the PNG
    (None: none).
    """
    if cache is None:
        write_atomic(path, label_chart_png(label_counts, labels))
        return
    entry = cache / FOLDER / f"{_key(label_counts, labels)}.png"
    png = read_entry(entry)
    if png is None:
        png = label_chart_png(label_counts, labels)
        write_entry(entry, png)
    write_atomic(path, png)


def _key(label_counts: dict[str, Counter[str]], labels: list[str]) -> str:
    """What the picture depends on: the counts (splits in order), labels, code and matplotlib."""
    counts = [
        [split, [[label, label_counts[split][label]] for label in labels]] for split in label_counts
    ]
    facts = [counts, labels, version("matplotlib"), Path(__file__).read_text("utf-8")]
    return hashlib.sha256(json.dumps(facts).encode("utf-8")).hexdigest()


def label_chart_png(label_counts: dict[str, Counter[str]], labels: list[str]) -> bytes:
    """The chart of `render_label_chart` as PNG bytes."""
    # Imported here: a build whose chart is in the cache never needs matplotlib.
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    splits = list(label_counts)
    with matplotlib.style.context("default"):
        figure = Figure(figsize=(max(6.0, 0.8 * len(labels) + 2), 3.6), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        width = 0.8 / max(len(splits), 1)
        for index, split in enumerate(splits):
            heights = [label_counts[split][label] for label in labels]
            positions = [x + (index - (len(splits) - 1) / 2) * width for x in range(len(labels))]
            bars = axes.bar(
                positions,
                heights,
                width,
                label=split,
                color=_SPLIT_COLOURS[index % len(_SPLIT_COLOURS)],
            )
            axes.bar_label(bars, labels=[str(h) if h else "" for h in heights], fontsize=7)
        axes.set_xticks(range(len(labels)), labels)
        axes.set_ylabel("spans")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title("Entity spans per label and split")
        axes.spines[["top", "right"]].set_visible(False)
        axes.margins(y=0.15)
        if splits:
            axes.legend(frameon=False)
        figure.tight_layout()
        buffer = io.BytesIO()
        # Software would name the matplotlib version: a library upgrade must not change bytes.
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
