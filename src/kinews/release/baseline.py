"""A baseline every release reports: a linear-chain CRF trained on `train`, scored by seqeval.

The release is read the way a researcher reads it, with `datasets.load_dataset` on its
`sentences` config, so the baseline is also a check that the published files are usable for
training. The CRF (`sklearn-crfsuite`, L-BFGS with fixed settings) sees only features of each
token and its neighbours; seqeval scores entities in strict IOB2 mode (an entity counts only
when its type and both boundaries are right). Sentences are sorted by id and the optimiser has no
randomness, so the same release gives the same figures on every run.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kinews.errors import KinewsError

EVALUATED = ("validation", "test")
CRF_SETTINGS: dict[str, Any] = {
    "algorithm": "lbfgs",
    "c1": 0.1,
    "c2": 0.1,
    "max_iterations": 100,
    "all_possible_transitions": True,
}
LIBRARIES = ("sklearn-crfsuite", "python-crfsuite", "seqeval", "datasets")
FEATURES = (
    "the lower-cased token, its prefixes and suffixes of 1 to 3 characters, its shape "
    "(Xxxx, dd, …), whether it is capitalised, all upper case, all digits, contains a digit or a "
    "hyphen, its position (first, last) in the sentence, and the lower-cased form, shape and "
    "capitalisation of the tokens one and two positions to either side"
)


@dataclass(frozen=True)
class Score:
    precision: float | None
    recall: float | None
    f1: float | None
    support: int


@dataclass(frozen=True)
class SplitScore:
    split: str
    sentences: int
    overall: Score  # micro-averaged over every entity of the split
    by_label: dict[str, Score]  # every label of the scheme, in scheme order


@dataclass(frozen=True)
class BaselineReport:
    train_sentences: int
    train_tokens: int
    splits: tuple[SplitScore, ...]
    missing_splits: tuple[str, ...]  # evaluated splits the release does not have
    settings: dict[str, Any]
    libraries: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"


def _shape(token: str) -> str:
    """Runs of one character class collapsed: "iPhone-7" -> "xXx-d"."""
    classes = (
        "X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else c for c in token
    )
    shape: list[str] = []
    for c in classes:
        if not shape or shape[-1] != c:
            shape.append(c)
    return "".join(shape)


def token_features(tokens: list[str], i: int) -> dict[str, Any]:
    token = tokens[i]
    features: dict[str, Any] = {
        "bias": 1.0,
        "lower": token.lower(),
        "shape": _shape(token),
        "title": token.istitle(),
        "upper": token.isupper(),
        "digits": token.isdigit(),
        "has_digit": any(c.isdigit() for c in token),
        "hyphen": "-" in token,
        "first": i == 0,
        "last": i == len(tokens) - 1,
    }
    for n in (1, 2, 3):
        features[f"prefix{n}"] = token[:n]
        features[f"suffix{n}"] = token[-n:]
    for offset in (-2, -1, 1, 2):
        j = i + offset
        if 0 <= j < len(tokens):
            neighbour = tokens[j]
            features[f"{offset}:lower"] = neighbour.lower()
            features[f"{offset}:shape"] = _shape(neighbour)
            features[f"{offset}:title"] = neighbour.istitle()
    return features


def sentence_features(tokens: list[str]) -> list[dict[str, Any]]:
    return [token_features(tokens, i) for i in range(len(tokens))]


def _load(release: Path) -> tuple[dict[str, list[tuple[str, list[str], list[str]]]], list[str]]:
    """Sentences per split as (id, tokens, BIO tags), sorted by id, and the label names."""
    from datasets import disable_progress_bars, load_dataset

    if not (release / "data" / "sentences").is_dir():
        raise KinewsError.single(
            "baseline-no-release",
            "not a release folder with a `sentences` config (build one with `kinews build`)",
            file=str(release),
        )
    disable_progress_bars()  # the command prints its own report, nothing else
    with tempfile.TemporaryDirectory() as cache:  # never serve a stale cached copy
        loaded = load_dataset(str(release), "sentences", cache_dir=cache)
        tags = loaded[next(iter(loaded))].features["ner_tags"].feature.names
        splits = {
            name: sorted(
                (row["id"], row["tokens"], [tags[t] for t in row["ner_tags"]])
                for row in loaded[name]
            )
            for name in loaded
        }
    labels = [t[2:] for t in tags if t.startswith("B-")]
    return splits, labels


def _score(report: dict[str, Any], predicted: dict[str, Any], key: str) -> Score:
    """seqeval's figures for one label (or "micro avg"); undefined ones are None, not 0.

    `predicted` is the report with truth and prediction swapped: its support is the number of
    entities the model predicted, so a precision over no prediction is undefined, not 0.
    """
    entry = report.get(key)
    if entry is None:  # the truth has no entity of this label
        return Score(None, None, None, 0)
    support = int(entry["support"])
    guessed = int(predicted.get(key, {}).get("support", 0))
    precision = round(float(entry["precision"]), 4) if guessed else None
    if not support:
        return Score(precision, None, None, 0)
    recall = round(float(entry["recall"]), 4)
    f1 = round(float(entry["f1-score"]), 4) if guessed else 0.0
    return Score(precision, recall, f1, support)


def run_baseline(release: Path) -> BaselineReport:
    """Train on the release's `train` sentences, score on `validation` and `test`."""
    import sklearn_crfsuite
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    splits, labels = _load(release)
    if "train" not in splits:
        raise KinewsError.single(
            "baseline-no-train", "the release has no train split to train on", file=str(release)
        )
    train = splits["train"]
    crf = sklearn_crfsuite.CRF(**CRF_SETTINGS)
    crf.fit([sentence_features(tokens) for _, tokens, _ in train], [t for _, _, t in train])
    scores = []
    for name in EVALUATED:
        if name not in splits:
            continue
        rows = splits[name]
        truth = [t for _, _, t in rows]
        predicted = [list(tags) for tags in crf.predict([sentence_features(t) for _, t, _ in rows])]
        report, swapped = (
            classification_report(
                a, b, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
            )
            for a, b in ((truth, predicted), (predicted, truth))
        )
        scores.append(
            SplitScore(
                split=name,
                sentences=len(rows),
                overall=_score(report, swapped, "micro avg"),
                by_label={label: _score(report, swapped, label) for label in labels},
            )
        )
    return BaselineReport(
        train_sentences=len(train),
        train_tokens=sum(len(tokens) for _, tokens, _ in train),
        splits=tuple(scores),
        missing_splits=tuple(name for name in EVALUATED if name not in splits),
        settings=dict(CRF_SETTINGS),
        libraries={name: version(name) for name in LIBRARIES},
    )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def table(report: BaselineReport) -> list[str]:
    """The figures as a Markdown table: one row per split overall, then per label."""
    lines = [
        "| split | label | precision | recall | F1 | support |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for split in report.splits:
        rows = [("**all (micro)**", split.overall), *split.by_label.items()]
        for label, score in rows:
            lines.append(
                f"| {split.split} | {label if label.startswith('**') else f'`{label}`'} | "
                f"{_figure(score.precision)} | {_figure(score.recall)} | {_figure(score.f1)} | "
                f"{score.support} |"
            )
    return lines


def render_text(report: BaselineReport) -> str:
    lines = [
        f"CRF baseline: trained on train ({report.train_sentences} sentences, "
        f"{report.train_tokens} tokens), seqeval strict IOB2"
    ]
    for split in report.splits:
        o = split.overall
        lines.append(
            f"{split.split} ({split.sentences} sentences): precision {_figure(o.precision)}  "
            f"recall {_figure(o.recall)}  F1 {_figure(o.f1)}  support {o.support}"
        )
        for label, score in split.by_label.items():
            lines.append(
                f"  {label:<8} precision {_figure(score.precision)}  recall "
                f"{_figure(score.recall)}  F1 {_figure(score.f1)}  support {score.support}"
            )
    for name in report.missing_splits:
        lines.append(f"{name}: not in the release")
    versions = ", ".join(f"{k} {v}" for k, v in report.libraries.items())
    lines.append(f"libraries: {versions}")
    return "\n".join(lines) + "\n"


def skipped_section(reproduce: str) -> list[str]:
    """The card's "Baseline" section of a release built with `kinews build --no-baseline`."""
    return [
        "Not measured for this release: it was built with `kinews build --no-baseline`, which "
        "leaves out training the CRF (at scale it costs more than tokenizing every text). "
        f"`{reproduce}` trains and scores it on the published files.",
    ]


def markdown_section(report: BaselineReport, reproduce: str) -> list[str]:
    """The card's "Baseline" section (without its heading)."""
    settings = ", ".join(f"{k}={v}" for k, v in report.settings.items())
    versions = ", ".join(f"{k} {v}" for k, v in report.libraries.items())
    lines = [
        "How hard is the task? A linear-chain CRF (sklearn-crfsuite, "
        f"{settings}) trained on the `train` split of the `sentences` config "
        f"({report.train_sentences} sentences, {report.train_tokens} tokens) with features of "
        f"each token and its neighbours: {FEATURES}. Scored with seqeval in strict IOB2 mode "
        "(an entity counts only with the right type and both boundaries), micro-averaged; "
        "`n/a` where a label has no entity in the split.",
        "",
        *table(report),
        "",
    ]
    if report.missing_splits:
        lines += [f"Not scored (not in the release): {', '.join(report.missing_splits)}.", ""]
    lines += [
        f"Reproduce it exactly with `{reproduce}` (libraries: {versions}).",
    ]
    return lines
