"""One entry of a cache kinews keeps (token proposals, baseline figures): a checksummed file.

An entry is the sha256 of its payload, a line break, then the payload. A cache is a cache: an
entry that does not read back exactly is recomputed by its caller, and one that cannot be
written (a read-only or full disk) is left unwritten while the command goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def read_entry(path: Path) -> bytes | None:
    """The payload at `path` if its checksum holds, else None (missing, unreadable, damaged)."""
    try:
        digest, _, payload = path.read_bytes().partition(b"\n")
    except OSError:
        return None
    if hashlib.sha256(payload).hexdigest().encode("ascii") != digest:
        return None
    return payload


def write_entry(path: Path, payload: bytes) -> None:
    """Write an entry atomically (one rename), or nothing if the cache cannot be written."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
