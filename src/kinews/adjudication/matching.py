"""Entity-level agreement of two annotators: spans matched the way nervaluate matches them.

Three variants, by nervaluate's strategies: `exact` (its "strict": same boundaries and label),
`partial` (its "partial": overlapping boundaries, label ignored, a partial match counts half) and
`type` (its "ent_type": overlapping boundaries and the same label). nervaluate's greedy matching
can depend on which side is the reference, so a pair's F1 is the mean of both directions. The
counts are integers, summed over a pair's documents in any order (`BothWays`).
tests/test_agreement.py checks the counts against nervaluate itself for any flat spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Literal

from kinews.records import Annotation

Variant = Literal["exact", "partial", "type"]
VARIANTS: tuple[Variant, ...] = ("exact", "partial", "type")


@dataclass(frozen=True)
class Counts:
    correct: int = 0
    incorrect: int = 0
    partial: int = 0
    missed: int = 0
    spurious: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def f1(self) -> float | None:
        """nervaluate's F1; a partial match scores half. None when neither side has a span."""
        actual = self.correct + self.incorrect + self.partial + self.spurious
        possible = self.correct + self.incorrect + self.partial + self.missed
        if actual == 0 and possible == 0:
            return None
        score = self.correct + 0.5 * self.partial
        precision = score / actual if actual else 0.0
        recall = score / possible if possible else 0.0
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def match(
    reference: Sequence[tuple[int, int, str]],
    hypothesis: Sequence[tuple[int, int, str]],
    variant: Variant,
) -> Counts:
    """Count matches of (start, end, label) spans the way nervaluate's strategies do.

    Greedy, in order: each hypothesis span takes the first unmatched reference span that fits.
    Overlap is any shared code point (nervaluate's default threshold of 1 % of the reference
    span differs only for references longer than 100 units).
    """
    matched: set[int] = set()
    correct = incorrect = partial = spurious = 0
    for hyp in hypothesis:
        hit: int | None = None  # the reference this span matches fully
        near: int | None = None  # the first reference it only overlaps
        best: int | None = None  # `type`: boundary distance of the current hit
        for index, ref in enumerate(reference):
            if index in matched:
                continue
            same_bounds = hyp[:2] == ref[:2]
            if variant == "exact" and same_bounds and hyp[2] == ref[2]:
                hit = index
                break
            if variant == "type" and _overlap(hyp, ref) and hyp[2] == ref[2]:
                distance = abs(hyp[0] - ref[0]) + abs(hyp[1] - ref[1])
                if best is None or distance < best:
                    hit, best = index, distance
                continue
            if variant == "partial" and same_bounds:
                hit = index
                break
            if near is None and _overlap(hyp, ref):
                near = index
        if hit is not None:
            correct += 1
            matched.add(hit)
        elif near is not None:
            if variant == "partial":
                partial += 1
            else:
                incorrect += 1
            matched.add(near)
        else:
            spurious += 1
    missed = len(reference) - len(matched)
    return Counts(correct, incorrect, partial, missed, spurious)


def _spans(ann: Annotation, label: str | None = None) -> list[tuple[int, int, str]]:
    return sorted((s.start, s.end, s.label) for s in ann.spans if label in (None, s.label))


@dataclass(frozen=True)
class BothWays:
    """A pair's match counts with either annotator as the reference, summed over documents."""

    forward: Counts = Counts()  # the first annotator's spans are the reference
    backward: Counts = Counts()

    def __add__(self, other: BothWays) -> BothWays:
        return BothWays(self.forward + other.forward, self.backward + other.backward)

    def f1(self) -> float | None:
        """The pair's F1: the mean of both directions (None: no span on either side)."""
        one, other = self.forward.f1(), self.backward.f1()
        if one is None or other is None:
            return None
        return (one + other) / 2


def compare(a: Annotation, b: Annotation, variant: Variant, label: str | None = None) -> BothWays:
    """Match counts of two annotators' records of one document, both ways. With `label`, only
    spans of that label count on both sides."""
    spans_a, spans_b = _spans(a, label), _spans(b, label)
    return BothWays(match(spans_a, spans_b, variant), match(spans_b, spans_a, variant))
