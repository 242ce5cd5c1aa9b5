"""The label-count chart embedded in the dataset card: spans per label and split, as a PNG.

The PNG must be reproducible like every other file of a release (the build promises identical
bytes for identical inputs), so the chart is drawn on a private Agg figure with matplotlib's
default style (no user matplotlibrc), the bundled DejaVu font, fixed size and dpi, and PNG
metadata reduced to nothing that names the matplotlib version or the time.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import matplotlib.style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kinews.files import write_atomic

# One colour per split, in split order; fixed so the picture does not change between builds.
_SPLIT_COLOURS = ("#4363d8", "#f58231", "#3cb44b", "#911eb4", "#808080")


def render_label_chart(
    label_counts: dict[str, Counter[str]], labels: list[str], path: Path
) -> None:
    """Write a grouped bar chart of span counts (labels on the x axis, one bar per split) to `path`.

    `label_counts` maps split name → Counter of label name; splits are drawn in its order and
    labels in the order of `labels` (the scheme's). The file is written atomically; the same
    counts give the same bytes.
    """
    write_atomic(path, label_chart_png(label_counts, labels))


def label_chart_png(label_counts: dict[str, Counter[str]], labels: list[str]) -> bytes:
    """The chart of `render_label_chart` as PNG bytes."""
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
