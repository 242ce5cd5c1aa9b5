"""Chance-corrected agreement over token tags: Cohen's kappa and Krippendorff's alpha (nominal).

tests/test_agreement.py checks them against scikit-learn's `cohen_kappa_score` and the
`krippendorff` package.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two equally long tag sequences; None when chance agreement is 1."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[tag] * count_b[tag] for tag in count_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(units: Iterable[Sequence[str]]) -> float | None:
    """Krippendorff's alpha (nominal) over units, each the values its coders gave (missing
    coders left out); units with fewer than two values are not pairable and ignored. None when
    only one value occurs."""
    coincidence: dict[tuple[str, str], float] = defaultdict(float)
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                coincidence[c, k] += pairs / (m - 1)
    totals: dict[str, float] = defaultdict(float)
    for (c, _k), o in coincidence.items():
        totals[c] += o
    n = sum(totals.values())
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if n <= 1 or expected == 0:
        return None
    observed = sum(o for (c, k), o in coincidence.items() if c != k)
    return 1 - (n - 1) * observed / expected
