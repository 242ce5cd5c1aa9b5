"""seeds → corpus: read raw articles, normalise them, give them ids, merge into the corpus.

Normalisation is exactly: strip a BOM, CRLF/CR → LF, Unicode NFC. Nothing else, so that every
character offset an annotator makes stays meaningful.

Document ids (opaque; nothing may depend on their inner structure) are assigned once, from the
article's identity, never from its text, so that a corrected text keeps its id:
  1. a `.jsonl` line with an `id` field keeps that id;
  2. else an article with a `url` gets `kn-` + the first 16 hex digits of sha256("url\\x1f" + url);
  3. else a `.txt` file gets `kn-` + sha256("file\\x1f" + file name)[:16];
  4. else (a `.jsonl` line with neither) `kn-` + sha256("text\\x1f" + sha256 of the text)[:16].
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kinews.declared import load_declaration
from kinews.errors import KinewsError, Problem
from kinews.files import iter_jsonl
from kinews.lock import root_lock
from kinews.records import Document, write_jsonl
from kinews.root import DOCUMENTS_FILE, load_annotations, load_documents
from kinews.validate.rules import ID_PATTERN, document_problems

__all__ = ["ID_PATTERN", "Article", "IngestReport", "ingest", "normalise", "read_articles"]
METADATA_FIELDS = ("title", "source", "url", "published", "license", "language", "notes", "group")
SOURCES_FILE = "sources.yaml"


def normalise(text: str) -> str:
    """The one normalisation every offset in kinews refers to."""
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _short_hash(key: str) -> str:
    return "kn-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    """One incoming article, normalised, with where it came from."""

    doc: Document
    file: str
    line: int | None


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (incoming id, existing id)
    metadata_updated: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    stale_annotations: list[str] = field(default_factory=list)  # "file:line doc=… annotator=…"

    @property
    def changed(self) -> bool:
        return bool(self.added or self.metadata_updated or self.replaced)


def read_articles(paths: Iterable[Path], overrides: Mapping[str, str | None]) -> list[Article]:
    """Read .txt and .jsonl files (folders: their files, sorted).

    Raises KinewsError listing every problem, the validator's among them: each article is
    checked at the door with the validator's own rules, so that nothing is ingested that
    `kinews validate` then refuses.
    """
    articles: list[Article] = []
    problems: list[Problem] = []
    for path in _expand(paths):
        try:
            read = _read_file(path, overrides)
        except KinewsError as err:
            problems.extend(err.problems)
            continue
        articles.extend(read)
        for article in read:
            problems += document_problems(article.doc, article.file, article.line)
    if any(p.severity == "error" for p in problems):
        # one bad sources.yaml is one problem, not one per article beside it
        raise KinewsError(dict.fromkeys(problems))
    return articles


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise KinewsError.single("input-missing", "no such file or folder", file=str(path))
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".txt", ".jsonl"))
        elif path.suffix in (".txt", ".jsonl"):
            files.append(path)
        else:
            raise KinewsError.single(
                "input-unsupported", "only .txt and .jsonl articles can be ingested", file=str(path)
            )
    return files


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise KinewsError.single(
            "file-not-utf8",
            f"not valid UTF-8: bad byte 0x{data[err.start]:02x} at byte offset {err.start}",
            file=str(path),
        ) from err


def _sidecar_metadata(path: Path) -> dict[str, Any]:
    """What sources.yaml next to the file says about it (empty when nothing).

    Raises KinewsError (`sources-invalid`) with every problem of sources.yaml at its line.
    """
    sidecar = path.parent / SOURCES_FILE
    if not sidecar.exists():
        return {}
    stat = sidecar.stat()
    entry = _read_sources(sidecar, (stat.st_mtime_ns, stat.st_size)).get(path.name) or {}
    return {k: v for k, v in entry.items() if v is not None}


@functools.lru_cache(maxsize=8)
def _read_sources(sidecar: Path, stamp: tuple[int, int]) -> dict[str, Any]:
    """sources.yaml, parsed once per folder read (`stamp`: a changed file is read again)."""
    known = load_declaration(sidecar, "sources.schema.json", "sources-invalid")
    return known or {}


def _read_file(path: Path, overrides: Mapping[str, str | None]) -> list[Article]:
    if path.suffix == ".txt":
        text = normalise(_decode(path))
        meta = {**_sidecar_metadata(path), **{k: v for k, v in overrides.items() if v is not None}}
        key = f"url\x1f{meta['url']}" if meta.get("url") else f"file\x1f{path.name}"
        return [_article(_short_hash(key), text, meta, str(path), None)]
    _decode(path)  # refuse non-UTF-8 with the byte offset before parsing lines
    articles = []
    for line, obj in iter_jsonl(path):
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise KinewsError.single(
                "article-invalid",
                "each line must be an object with a string `text`",
                file=str(path),
                line=line,
            )
        text = normalise(obj["text"])
        meta = {k: obj.get(k) for k in METADATA_FIELDS if obj.get(k) is not None}
        meta.update({k: v for k, v in overrides.items() if v is not None})
        if obj.get("id") is not None:
            doc_id = obj["id"]  # the door reports an id that is not a string
        elif meta.get("url"):
            doc_id = _short_hash(f"url\x1f{meta['url']}")
        else:
            doc_id = _short_hash(f"text\x1f{sha256_text(text)}")
        articles.append(_article(doc_id, text, meta, str(path), line))
    return articles


def _article(
    doc_id: str, text: str, meta: Mapping[str, Any], file: str, line: int | None
) -> Article:
    doc = Document(
        id=doc_id,
        text=text,
        sha256=sha256_text(text),
        language=meta.get("language") or "de",
        **{
            k: meta.get(k)
            for k in ("title", "source", "url", "published", "license", "notes", "group")
        },
    )
    return Article(doc, file, line)


def ingest(root: Path, articles: list[Article], *, replace_changed: bool = False) -> IngestReport:
    """Merge articles into corpus/documents.jsonl (sorted by id, atomic).

    Raises KinewsError when an article's text differs from the corpus text under its id and
    `replace_changed` is not set, or (`root-locked`) when another command writes into the root;
    nothing is written then.
    """
    with root_lock(root, "ingest"):
        return _merge(root, articles, replace_changed)


def _merge(root: Path, articles: list[Article], replace_changed: bool) -> IngestReport:
    corpus = {located.doc.id: located.doc for located in load_documents(root)}
    by_sha = {doc.sha256: doc.id for doc in corpus.values()}
    report = IngestReport()
    problems: list[Problem] = []
    seen: dict[str, Article] = {}
    for article in articles:
        doc = article.doc
        earlier = seen.get(doc.id)
        if earlier is not None and earlier.doc.sha256 != doc.sha256:
            problems.append(
                Problem(
                    article.file,
                    article.line,
                    doc.id,
                    None,
                    "id-conflict",
                    f"two different texts in this run get the same id "
                    f"(also {earlier.file}); give them distinct urls or ids",
                )
            )
            continue
        seen[doc.id] = article
        existing = corpus.get(doc.id)
        if existing is None:
            if doc.sha256 in by_sha:
                report.duplicates.append((doc.id, by_sha[doc.sha256]))
                continue
            corpus[doc.id] = doc
            by_sha[doc.sha256] = doc.id
            report.added.append(doc.id)
        elif existing.sha256 == doc.sha256:
            if existing != doc:
                corpus[doc.id] = doc
                report.metadata_updated.append(doc.id)
            else:
                report.unchanged.append(doc.id)
        elif replace_changed:
            corpus[doc.id] = doc
            report.replaced.append(doc.id)
        else:
            problems.append(
                Problem(
                    article.file,
                    article.line,
                    doc.id,
                    None,
                    "text-changed",
                    "a different text is already in the corpus under this id; "
                    "use --replace to replace it (its annotations become stale)",
                )
            )
    if problems:
        raise KinewsError(problems)
    if report.replaced:
        replaced = set(report.replaced)
        report.stale_annotations = [
            f"{r.file}:{r.line} doc={r.ann.doc_id} annotator={r.ann.annotator}"
            for r in load_annotations(root)
            if r.ann.doc_id in replaced and r.ann.doc_sha256 != corpus[r.ann.doc_id].sha256
        ]
    if report.changed:
        write_jsonl(root / DOCUMENTS_FILE, [corpus[k] for k in sorted(corpus)])
    return report
