"""Annotator pseudonyms: e-mail (or tool user id) → `annotator-NN`, kept in an ignored local file.

The map lives in `.kinews-local/annotators.json` under the dataset root (ignored by git): it never
reaches `annotations/`, a log or a release, and it keeps a pseudonym stable across pulls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from kinews.errors import KinewsError
from kinews.files import write_atomic
from kinews.root import PSEUDONYMS_FILE

_PSEUDONYM = re.compile(r"annotator-[0-9]+")  # whole string: fullmatch


class Pseudonyms:
    """E-mail (or user id) → `annotator-NN`, assigned once and kept in an ignored local file."""

    def __init__(self, path: Path, mapping: dict[str, str]):
        self.path, self.mapping, self._saved = path, mapping, dict(mapping)
        self._taken: set[str] = set()

    @classmethod
    def load(cls, root: Path) -> Pseudonyms:
        """The map under `root` (empty if there is none). Raises KinewsError if unreadable."""
        path = root / PSEUDONYMS_FILE
        if not path.exists():
            return cls(path, {})
        try:
            mapping = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
            raise KinewsError.single(
                "ls-pseudonyms-invalid", f"unreadable pseudonym map: {err}", file=str(path)
            ) from err
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and _PSEUDONYM.fullmatch(v)
            for k, v in mapping.items()
        ):
            raise KinewsError.single(
                "ls-pseudonyms-invalid",
                "expected an object mapping identities to annotator-NN",
                file=str(path),
            )
        # One person may be known by an e-mail and by their Label Studio user id (an export
        # names no e-mails); two e-mails under one pseudonym are two people merged.
        emails = [p for k, p in mapping.items() if "@" in k]
        shared = sorted({p for p in emails if emails.count(p) > 1})
        if shared:
            # Two people under one pseudonym would merge their annotations without a word.
            raise KinewsError.single(
                "ls-pseudonyms-invalid",
                f"{', '.join(shared)} stands for more than one identity; give each its own",
                file=str(path),
            )
        return cls(path, mapping)

    def reserve(self, names: Iterable[str]) -> None:
        """Pseudonyms the root's records already use: a new identity never gets one of them
        (on a clone without the map, `annotator-01` may already be someone in annotations/)."""
        self._taken.update(n for n in names if _PSEUDONYM.fullmatch(n))

    def adopt(self, identity: str, pseudonym: str) -> None:
        """Give the identity the pseudonym a record of its own annotation already names."""
        self.mapping.setdefault(identity, pseudonym)

    def assign(self, identity: str) -> str:
        """The identity's pseudonym; a new identity gets the next number no one uses."""
        if identity not in self.mapping:
            used = {*self.mapping.values(), *self._taken}
            numbers = [int(p.rsplit("-", 1)[1]) for p in used]
            self.mapping[identity] = f"annotator-{max(numbers, default=0) + 1:02d}"
        return self.mapping[identity]

    def save(self) -> None:
        """Write the map atomically if it gained an identity."""
        if self.mapping != self._saved:
            text = json.dumps(self.mapping, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            write_atomic(self.path, text.encode("utf-8"))
            self._saved = dict(self.mapping)
