"""One document with its spans highlighted, so a reviewer checks annotations without offsets.

A view has one or more layers (annotation records of the document). The first layer is the one
highlighted in the terminal: by default the record a release uses (gold, else the only submitted
one), followed by every other record; `--annotator` picks layers by pseudonym instead. With two
or more layers the view lists where they differ: every pair of offsets that not all layers mark
with the same label. The HTML page is standalone (inline CSS, no scripts, no network assets) and
escapes every piece of text it shows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kinews.errors import KinewsError, visible
from kinews.records import Annotation, Document, Span
from kinews.root import ANNOTATIONS_DIR, DOCUMENTS_FILE
from kinews.validate import load_valid

_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_FALLBACK_COLOUR = "#a9a9a9"


@dataclass(frozen=True)
class Layer:
    annotator: str
    status: str
    spans: tuple[Span, ...]

    @property
    def name(self) -> str:
        return f"{self.annotator} ({self.status})"


@dataclass(frozen=True)
class Disagreement:
    start: int
    end: int
    text: str
    labels: tuple[str | None, ...]  # per layer; None where the layer has no span there


@dataclass(frozen=True)
class DocumentView:
    doc: Document
    layers: tuple[Layer, ...]  # the first is highlighted in the terminal
    colours: dict[str, str]  # label -> "#rrggbb"

    @property
    def disagreements(self) -> tuple[Disagreement, ...]:
        """Offsets that not every layer marks with one and the same label."""
        if len(self.layers) < 2:
            return ()
        by_offsets = [{(s.start, s.end): s.label for s in layer.spans} for layer in self.layers]
        found = []
        for start, end in sorted({key for spans in by_offsets for key in spans}):
            labels = tuple(spans.get((start, end)) for spans in by_offsets)
            if None in labels or len(set(labels)) > 1:
                found.append(Disagreement(start, end, self.doc.text[start:end], labels))
        return tuple(found)

    def differs(self, span: Span) -> bool:
        return any((d.start, d.end) == (span.start, span.end) for d in self.disagreements)


def load_view(root: Path, doc_id: str, annotators: Sequence[str] = ()) -> DocumentView:
    """The document `doc_id` with its annotation layers (all, or those of `annotators`).

    Raises KinewsError: `doc-unknown`, `annotator-unknown`, or the validator's problems of this
    document (spans that do not fit its text cannot be shown faithfully).
    """
    checked = load_valid(root, lambda p: False)  # only this document's errors refuse, below
    scheme = checked.scheme
    doc = next((d.doc for d in checked.documents if d.doc.id == doc_id), None)
    if doc is None:
        raise KinewsError.single(
            "doc-unknown",
            "no document with this id in the corpus",
            file=str(DOCUMENTS_FILE),
            doc_id=doc_id,
        )
    problems = [p for p in checked.problems if p.doc_id == doc_id and p.severity == "error"]
    if problems:
        raise KinewsError(problems)
    records = [r.ann for r in checked.annotations if r.ann.doc_id == doc_id]
    if annotators:
        missing = [a for a in annotators if a not in {r.annotator for r in records}]
        if missing:
            present = ", ".join(sorted({r.annotator for r in records})) or "none"
            raise KinewsError.single(
                "annotator-unknown",
                f"no record by {', '.join(missing)} for this document (annotators: {present})",
                file=f"{ANNOTATIONS_DIR}/",
                doc_id=doc_id,
            )
        chosen = [r for a in annotators for r in _release_first(records) if r.annotator == a]
    else:
        chosen = _release_first(records)
    colours = {
        label.name: label.color
        if label.color and _HEX_COLOUR.fullmatch(label.color)
        else _FALLBACK_COLOUR
        for label in scheme.labels
    }
    layers = tuple(Layer(r.annotator, r.status, tuple(sorted(r.spans))) for r in chosen)
    return DocumentView(doc, layers, colours)


def _release_first(records: list[Annotation]) -> list[Annotation]:
    """Gold records first, then submitted ones, each by annotator: when a release uses a record
    (gold, else the only submitted one) it comes first."""
    return sorted(records, key=lambda r: (r.status != "gold", r.annotator, r.created_at))


# --- terminal -----------------------------------------------------------------------------------


def render_terminal(view: DocumentView) -> RenderableType:
    """The view for a rich Console: header, the first layer's text with spans, disagreements."""
    doc = view.doc
    parts: list[RenderableType] = [
        Text(visible(doc.id + (f" · {doc.title}" if doc.title else "")), style="bold")
    ]
    if not view.layers:
        parts += [Text("no annotation records: text only", style="italic"), Text(_shown(doc.text))]
        return Group(*parts)
    first, *others = view.layers
    parts.append(
        Text(
            visible(
                f"spans of {first.name}"
                + (f"; compared with {', '.join(o.name for o in others)}" if others else "")
            )
        )
    )
    body = Text()
    cursor = 0
    for span in first.spans:
        body.append(_shown(doc.text[cursor : span.start]))
        colour = view.colours.get(span.label, _FALLBACK_COLOUR)
        style = f"{_ink(colour)} on {colour}"
        body.append("[", style="dim")
        body.append(_shown(doc.text[span.start : span.end]), style=style)
        body.append(
            visible(" " + span.label + (" ≠" if view.differs(span) else "")), style=f"bold {style}"
        )
        body.append("]", style="dim")
        cursor = span.end
    body.append(_shown(doc.text[cursor:]))
    parts.append(body)
    if others:
        disagreements = view.disagreements
        if not disagreements:
            parts.append(Text("all layers agree on every span", style="green"))
        else:
            table = Table(
                title=f"where the annotators differ ({len(disagreements)})", title_justify="left"
            )
            table.add_column("span")
            table.add_column("text")
            for layer in view.layers:
                table.add_column(visible(layer.name))
            for d in disagreements:
                table.add_row(
                    f"{d.start}-{d.end}",
                    Text(visible(d.text)),
                    *(
                        Text(visible(label or "—"), style="" if label else "dim")
                        for label in d.labels
                    ),
                )
            parts.append(table)
    return Group(*parts)


def _shown(text: str) -> str:
    """A document's text for a terminal: its lines and tabs kept, every other control escaped."""
    return visible(text, keep="\n\t")


def _ink(colour: str) -> str:
    """Black or white text, whichever reads better on `colour`."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "white"


# --- HTML ---------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
  color: #222; line-height: 2.4; }
h1 { line-height: 1.3; } .meta { color: #555; line-height: 1.5; }
.text { white-space: pre-wrap; }
mark.entity { padding: 0.2em 0.35em; margin: 0 0.1em; border-radius: 0.35em;
  box-decoration-break: clone; -webkit-box-decoration-break: clone; }
mark.entity .label { font-size: 0.65em; font-weight: bold; text-transform: uppercase;
  margin-left: 0.4em; vertical-align: middle; }
mark.differs { outline: 2px dashed #c00; }
table { border-collapse: collapse; line-height: 1.4; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }
td.none { color: #999; }
""".strip()


def render_html(view: DocumentView) -> str:
    """The view as a standalone HTML page: every layer highlighted, then where layers differ."""
    doc = view.doc
    esc = html.escape
    title = doc.title or doc.id
    meta = [f"document <code>{esc(doc.id)}</code>"]
    meta += [esc(value) for value in (doc.source, doc.published, doc.url) if value]
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(doc.language or "de")}">',
        '<head><meta charset="utf-8">',
        f"<title>kinews · {esc(title)}</title>",
        f"<style>\n{_CSS}\n</style></head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{" · ".join(meta)}</p>',
    ]
    if not view.layers:
        lines += [
            "<p>No annotation records: text only.</p>",
            f'<div class="text">{esc(doc.text)}</div>',
        ]
    disagreements = view.disagreements
    if len(view.layers) > 1:
        lines.append(f"<h2>Where the annotators differ ({len(disagreements)})</h2>")
        if disagreements:
            header = "".join(f"<th>{esc(layer.name)}</th>" for layer in view.layers)
            lines += ["<table>", f"<tr><th>span</th><th>text</th>{header}</tr>"]
            for d in disagreements:
                cells = "".join(
                    f"<td>{esc(label)}</td>" if label else '<td class="none">—</td>'
                    for label in d.labels
                )
                lines.append(f"<tr><td>{d.start}-{d.end}</td><td>{esc(d.text)}</td>{cells}</tr>")
            lines.append("</table>")
        else:
            lines.append("<p>All layers agree on every span.</p>")
    for layer in view.layers:
        lines += [f"<h2>{esc(layer.name)}</h2>", f'<div class="text">{_marked(view, layer)}</div>']
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines)


def _marked(view: DocumentView, layer: Layer) -> str:
    text, out, cursor = view.doc.text, [], 0
    for span in layer.spans:
        colour = view.colours.get(span.label, _FALLBACK_COLOUR)
        classes = "entity differs" if view.differs(span) else "entity"
        out.append(html.escape(text[cursor : span.start]))
        out.append(
            f'<mark class="{classes}" style="background: {colour}33; border-bottom: 2px solid '
            f'{colour}" title="{span.start}-{span.end}">{html.escape(text[span.start : span.end])}'
            f'<span class="label">{html.escape(span.label)}</span></mark>'
        )
        cursor = span.end
    out.append(html.escape(text[cursor:]))
    return "".join(out)
