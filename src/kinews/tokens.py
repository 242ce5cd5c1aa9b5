"""Sentences and tokens with exact character offsets; spans ↔ BIO tags without loss.

The tokenizer is SoMaJo (German `de_CMC`; English texts get its `en_PTB`, the one other language
it has, by each document's `language`), chosen on the seed article for quality first: it
keeps "20. März" and "Beiniao Nr. 1" inside their sentence, where syntok ends a sentence after
"20." and spaCy's blank German pipeline after "ff."; speed came second (SoMaJo ≈16k tokens/s
on this machine, spaCy ≈156k, syntok ≈235k: fast enough for a corpus built once per release).

SoMaJo only proposes boundaries. The tokens themselves are cut here from the document text, so
they are exact by construction: a token is a piece of a whitespace-free run of the text, cut at
every boundary SoMaJo proposes and at every span edge. Nothing SoMaJo normalises or drops (soft
hyphens, BOMs, control characters) can shift an offset or lose a character. Every line break
ends a sentence (the corpus holds one paragraph per line); no sentence ends inside a span.

What SoMaJo proposes (`Proposals`) depends on the text alone, so `kinews.proposals` computes it
once per text, in parallel, and keeps it in a cache; span edges are applied afterwards, here.
"""

from __future__ import annotations

import bisect
import importlib.metadata
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kinews.errors import KinewsError
from kinews.records import Span

TOKENIZER = "SoMaJo"
# SoMaJo's models by the language subtag of a document's language (`de`, `de-CH`, `en-GB`).
MODELS = {"de": "de_CMC", "en": "en_PTB"}
DEFAULT_MODEL = MODELS["de"]
_RUN = re.compile(r"\S+")


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    tokens: tuple[Token, ...]


@dataclass(frozen=True)
class Proposals:
    """What SoMaJo proposes for one text: token boundaries and sentence starts, sorted offsets."""

    cuts: tuple[int, ...]
    breaks: tuple[int, ...]


def tokenizer_version(models: Iterable[str] = ()) -> str:
    """Name and version of the tokenizer, as the dataset card records it, with the models used
    when any is not the German default (a German corpus' record stays "SoMaJo X.Y.Z")."""
    name = f"{TOKENIZER} {importlib.metadata.version('somajo')}"
    used = sorted(set(models))
    return name if set(used) <= {DEFAULT_MODEL} else f"{name} ({', '.join(used)})"


def model_for(language: str | None) -> str | None:
    """SoMaJo's model for a BCP 47 language (German when unknown), None when it has none."""
    if language is None:
        return DEFAULT_MODEL
    return MODELS.get(language.split("-")[0].lower())


# One SoMaJo per thread: a dask worker may run several tasks at once in threads of one process,
# and nothing in SoMaJo promises that one instance may tokenize two texts at the same time.
_local = threading.local()


def _somajo(model: str = DEFAULT_MODEL):
    tokenizers = _local.__dict__.setdefault("somajo", {})
    tokenizer = tokenizers.get(model)
    if tokenizer is None:
        from somajo import SoMaJo

        tokenizer = SoMaJo(model, split_camel_case=False, character_offsets=True)
        if importlib.metadata.version("somajo") == EMOJI_FAST_PATH_VERSION:
            inner = tokenizer._tokenizer
            inner._split_emojis = _skip_emoji_free(inner._split_emojis)
        tokenizers[model] = tokenizer
    return tokenizer


# Half of SoMaJo 2.5.0's time goes into `Tokenizer._split_emojis`, which runs a regex search on
# every grapheme of every token to find the few emoji. It can only split a token that holds an
# Extended_Pictographic or Emoji_Presentation character or U+FE0F (its two searches look for
# nothing else), and with no split found it changes nothing: so a token without any of them is
# passed by after one search of the whole token, and the output is the same. Only for the version
# whose code this was read from; tests/test_tokens.py compares both on 10kGNAD text and emoji.
EMOJI_FAST_PATH_VERSION = "2.5.0"


def _skip_emoji_free(split_emojis):
    import regex

    may_split = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Presentation}\uFE0F]")

    def split(node, token_class: str = "emoticon") -> None:
        if may_split.search(node.value.text):
            split_emojis(node, token_class)

    return split


@dataclass(frozen=True)
class Cut:
    """A text's tokens and sentences as plain offsets: what `split_sentences` returns, without a
    `Token` per token (a build cuts millions of them and needs only their offsets)."""

    starts: list[int]  # each token's start, in text order
    ends: list[int]
    sentences: list[tuple[int, int]]  # (first token, one past the last token) of each sentence


def cut_text(text: str, spans: Sequence[Span] = (), proposals: Proposals | None = None) -> Cut:
    """`split_sentences` as offsets: the same tokens and sentences, in the same order."""
    if proposals is None:
        proposals = propose(text)
    edges = {edge for span in spans for edge in (span.start, span.end)}
    starts, ends = _cut_offsets(text, edges.union(proposals.cuts))
    kept_breaks = [b for b in proposals.breaks if not any(s.start < b < s.end for s in spans)]
    # Tokens are in text order, so each sentence is a run of them: a new one begins at the first
    # token at or after each kept break (breaks no token reaches give no sentence).
    sentences: list[tuple[int, int]] = []
    first = 0
    for b in sorted(kept_breaks):
        index = bisect.bisect_left(starts, b, first)
        if index > first:
            sentences.append((first, index))
            first = index
    if first < len(starts):
        sentences.append((first, len(starts)))
    return Cut(starts, ends, sentences)


def split_sentences(
    text: str, spans: Sequence[Span] = (), proposals: Proposals | None = None
) -> list[Sentence]:
    """Sentences of `text`, tokens cut at every span edge and no sentence break inside a span.

    `spans` may come from several annotators and overlap: every edge becomes a token boundary
    and sentences are merged across every span. Offsets index `text` (code points).
    `proposals`: SoMaJo's proposals for this text, when already known (`propose(text)`).
    """
    cut = cut_text(text, spans, proposals)
    tokens = [Token(s, e, text[s:e]) for s, e in zip(cut.starts, cut.ends, strict=True)]
    return [
        Sentence(tokens[first].start, tokens[last - 1].end, tuple(tokens[first:last]))
        for first, last in cut.sentences
    ]


def bio_of_cut(cut: Cut, spans: Sequence[Span]) -> list[str] | None:
    """BIO tags of every token of `cut` (all sentences in a row) for flat spans that lie on its
    token boundaries, each inside one sentence; None for anything else, which `spans_to_bio`
    then refuses with its located error (so both agree on every input they both accept)."""
    tags = ["O"] * len(cut.starts)
    first_of = {start: index for index, start in enumerate(cut.starts)}
    last_of = {end: index for index, end in enumerate(cut.ends)}
    sentence_of = [0] * len(cut.starts)
    for number, (begin, stop) in enumerate(cut.sentences):
        sentence_of[begin:stop] = [number] * (stop - begin)
    reached = -1  # the last token tagged so far: spans are sorted, so an overlap starts before it
    for span in sorted(spans):
        first, last = first_of.get(span.start), last_of.get(span.end)
        if first is None or last is None or last < first or first <= reached:
            return None
        if sentence_of[first] != sentence_of[last]:
            return None
        tags[first : last + 1] = [f"B-{span.label}"] + [f"I-{span.label}"] * (last - first)
        reached = last
    return tags


def propose(text: str, tokenizer=None, model: str = DEFAULT_MODEL) -> Proposals:
    """Token boundaries and sentence starts proposed by SoMaJo, one paragraph (line) at a time.

    `tokenizer`: a SoMaJo instance to use instead of kinews's own (tests compare with a stock one).
    `model`: SoMaJo's model for the text's language (`model_for`).
    """
    tokenizer = tokenizer or _somajo(model)
    cuts: set[int] = set()
    breaks: set[int] = set()
    offset = 0
    for line in text.split("\n"):
        if line.strip():
            breaks.add(offset)
            for sentence in tokenizer.tokenize_text([line]):
                located = [t.character_offset for t in sentence if t.character_offset]
                if located:
                    breaks.add(offset + located[0][0])
                for start, end in located:
                    cuts.update((offset + start, offset + end))
        offset += len(line) + 1
    return Proposals(tuple(sorted(cuts)), tuple(sorted(breaks)))


def propose_each(texts: Sequence[str], model: str = DEFAULT_MODEL) -> list[Proposals]:
    """`propose` for each of several texts: one shard of work for a worker process."""
    return [propose(text, model=model) for text in texts]


def _cut_offsets(text: str, cuts: Iterable[int]) -> tuple[list[int], list[int]]:
    """Starts and ends of every whitespace-free run of `text` cut at the given positions."""
    ordered = sorted(cuts)
    starts: list[int] = []
    ends: list[int] = []
    # `\s` of a str pattern is exactly str.isspace (both are Py_UNICODE_ISSPACE).
    for run in _RUN.finditer(text):
        position, run_end = run.span()
        inner = ordered[
            bisect.bisect_right(ordered, position) : bisect.bisect_left(ordered, run_end)
        ]
        starts.append(position)
        starts += inner
        ends += inner
        ends.append(run_end)
    return starts, ends


def spans_to_bio(sentence: Sentence, spans: Sequence[Span]) -> list[str]:
    """BIO tags of the sentence's tokens for the spans that lie inside the sentence.

    Spans outside the sentence are ignored. Raises KinewsError (`span-untokenisable`) for a
    span that the tokens cannot represent exactly (an edge not on a token boundary, partly
    outside the sentence, or edged with whitespace), and (`span-overlap`) for overlapping spans:
    BIO cannot hold them, and widening, shifting or dropping an entity is never an option.
    """
    tags = ["O"] * len(sentence.tokens)
    starts = {token.start: index for index, token in enumerate(sentence.tokens)}
    ends = {token.end: index for index, token in enumerate(sentence.tokens)}
    inside = [s for s in spans if s.start < sentence.end and s.end > sentence.start]
    for span in sorted(inside):
        first, last = starts.get(span.start), ends.get(span.end)
        if first is None or last is None or last < first:
            raise KinewsError.single(
                "span-untokenisable",
                "no token boundary at this span's edges in the sentence at "
                f"{sentence.start}-{sentence.end}; split the sentence with these spans",
                span=span.render(),
            )
        if any(tag != "O" for tag in tags[first : last + 1]):
            raise KinewsError.single(
                "span-overlap",
                "overlaps another span; BIO tags hold flat spans only",
                span=span.render(),
            )
        tags[first : last + 1] = [f"B-{span.label}"] + [f"I-{span.label}"] * (last - first)
    return tags


def bio_to_spans(sentence: Sentence, tags: Sequence[str], text: str) -> list[Span]:
    """The spans a BIO sequence marks; an `I-` tag that continues nothing starts a span.

    Raises KinewsError (`bio-invalid`) when tags and tokens differ in number or a tag is not
    `O`, `B-X` or `I-X`.
    """
    if len(tags) != len(sentence.tokens):
        raise KinewsError.single(
            "bio-invalid",
            f"{len(tags)} tags for {len(sentence.tokens)} tokens in the sentence at "
            f"{sentence.start}-{sentence.end}",
        )
    spans: list[Span] = []
    open_label: str | None = None
    open_start = open_end = 0
    for token, tag in zip(sentence.tokens, tags, strict=True):
        prefix, _, label = tag.partition("-")
        if tag != "O" and (prefix not in ("B", "I") or not label):
            raise KinewsError.single("bio-invalid", f"tag {tag!r} is not O, B-LABEL or I-LABEL")
        if prefix == "I" and label == open_label:
            open_end = token.end
            continue
        if open_label is not None:
            spans.append(Span(open_start, open_end, open_label, text[open_start:open_end]))
            open_label = None
        if tag != "O":
            open_label, open_start, open_end = label, token.start, token.end
    if open_label is not None:
        spans.append(Span(open_start, open_end, open_label, text[open_start:open_end]))
    return spans
