"""Chance-corrected agreement over token tags: Cohen's kappa and Krippendorff's alpha (nominal).

Both are computed from counts, so they can be fed a batch of documents at a time
(`kinews.adjudication.tally`); the list-based forms are the same computation over one batch.
tests/test_agreement.py checks them against scikit-learn's `cohen_kappa_score` and the
`krippendorff` package.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two equally long tag sequences; None when chance agreement is 1."""
    return kappa_of_counts(Counter(zip(a, b, strict=True)))


def kappa_of_counts(pairs: Mapping[tuple[str, str], int]) -> float | None:
    """Cohen's kappa from how often each (tag of a, tag of b) occurs; None when there is no
    token or chance agreement is 1.

    Every sum below is of integers, so the result does not depend on the order of `pairs`.
    """
    n = sum(pairs.values())
    if n == 0:
        return None
    observed = sum(count for (x, y), count in pairs.items() if x == y) / n
    count_a: Counter[str] = Counter()
    count_b: Counter[str] = Counter()
    for (x, y), count in pairs.items():
        count_a[x] += count
        count_b[y] += count
    expected = sum(count_a[tag] * count_b[tag] for tag in count_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(units: Iterable[Sequence[str]]) -> float | None:
    """Krippendorff's alpha (nominal) over units, each the values its coders gave (missing
    coders left out); units with fewer than two values are not pairable and ignored. None when
    only one value occurs."""
    coincidences = Coincidences()
    for values in units:
        coincidences.add(values)
    return coincidences.alpha()


class Coincidences:
    """Krippendorff's coincidence matrix, built up one unit at a time.

    Its cells are sums of floats (a unit of m values adds fractions of 1 / (m - 1)), so the
    bits of alpha depend on the order units come in: the same units in the same order give the
    same alpha, however they are cut into batches.
    """

    def __init__(self) -> None:
        # Insertion order (first occurrence of each pair of values) decides the order of the
        # sums in `alpha`, so it is kept as it arises.
        self.cells: dict[tuple[str, str], float] = defaultdict(float)

    def add(self, values: Sequence[str]) -> None:
        """One unit: the values its coders gave (fewer than two: not pairable, ignored)."""
        m = len(values)
        if m < 2:
            return
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                self.cells[c, k] += pairs / (m - 1)

    def alpha(self) -> float | None:
        """Krippendorff's alpha (nominal) of the units so far; None when only one value occurs."""
        totals: dict[str, float] = defaultdict(float)
        for (c, _k), o in self.cells.items():
            totals[c] += o
        n = sum(totals.values())
        expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
        if n <= 1 or expected == 0:
            return None
        observed = sum(o for (c, k), o in self.cells.items() if c != k)
        return 1 - (n - 1) * observed / expected
