"""The root lock: one command at a time writes into a dataset root.

Two runs that read, change and rewrite the same file (two `kinews ingest`, a pull during an
adjudication) would each write what they read, and one run's work would vanish with both
exiting 0. Every command that writes into a root holds `.kinews-local/lock` (a `filelock` lock,
released by the operating system when the process dies) while it reads and writes; a second one
waits `WAIT_SECONDS`, then refuses, naming the process that holds the lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from kinews.errors import KinewsError
from kinews.root import LOCK_FILE, OWNER_FILE

WAIT_SECONDS = 5.0
_held: dict[Path, int] = {}  # roots this process holds, with their nesting depth


@contextmanager
def root_lock(root: Path, command: str) -> Iterator[None]:
    """Hold the root's lock while the block runs; nested holds in one process are one.

    Raises KinewsError (`root-locked`) when another process holds it for `WAIT_SECONDS`.
    """
    key = root.resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    path = root / LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KinewsError.single(
            "root-unwritable", f"cannot create the root's lock: {err.strerror}", file=str(path)
        ) from err
    lock = FileLock(path, timeout=WAIT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        raise KinewsError.single(
            "root-locked",
            f"another kinews command is writing into this root ({_owner(root)}); "
            "wait for it to finish, then run this one again",
            file=str(root),
        ) from None
    try:
        (root / OWNER_FILE).write_text(f"pid {os.getpid()}: kinews {command}\n", "utf-8")
        _held[key] = 1
        yield
    finally:
        _held.pop(key, None)
        lock.release()


def _owner(root: Path) -> str:
    try:
        return (root / OWNER_FILE).read_text("utf-8").strip() or "a process"
    except (OSError, UnicodeDecodeError):
        return "a process that did not say which"
