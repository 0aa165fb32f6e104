"""One writer at a time per store: an advisory lock on ``<store>.lock`` beside the SQLite file.

SQLite keeps each transaction whole, but enrichment and placement also keep state in memory between
transactions (the canonical-name registry, the open events and stories, the near-duplicate index). Two
processes enriching or placing one store at once each wrote from their own stale copy: articles ended in
no live event. So every enrichment or placement run (``Pipeline.enrich``/``place``, ``batch import``)
holds this lock; a second writer waits a bounded time, then fails with a message naming the holder.

The lock file also records a generation token, renewed by each hold: a writer that finds another token
than the one its last hold left knows another writer (another process, or another Pipeline on this
Store) wrote in between, and reloads what it keeps in memory.
``flock`` is released by the kernel when a holder dies, even by ``kill -9``; ingest needs no lock (it
checks and inserts in one transaction and keeps nothing in memory).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

__all__ = ["StoreBusy", "WriterLock", "DEFAULT_WAIT"]

DEFAULT_WAIT = 300.0  # seconds a writer waits for another to finish before it gives up


class StoreBusy(RuntimeError):
    """Another process holds the store's writer lock for longer than this one would wait."""


class WriterLock:
    """A re-entrant (within one holder) inter-process writer lock for the store at ``db_path``."""

    def __init__(self, db_path: Path) -> None:
        self.store_path = Path(db_path)
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None
        self._depth = 0
        self.generation: str | None = None  # the token of this holder's current or last hold

    def acquire(self, wait: float = DEFAULT_WAIT) -> str | None:
        """Take the lock (waiting at most ``wait`` seconds). Returns the generation token the last holder left
        (None for a new lock); this holder's own is ``generation`` from now on. A caller that remembers the
        token of its own last hold knows, when the two differ, that another writer wrote in between.
        Re-entrant: a nested hold returns the current token."""
        import fcntl

        if self._depth:
            self._depth += 1
            return self.generation
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # said as the store's own read-only error is (cli.common.open_store)
            import sqlite3

            raise sqlite3.OperationalError(f"cannot open the writer lock {self.path}: {exc.strerror or exc} "
                                           "(the store or its folder is read-only)") from None
        deadline = time.monotonic() + max(0.0, wait)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(self._busy_message(fd, wait)) from None
                    time.sleep(0.05)
            found = _read(fd).get("generation")
            self.generation = uuid.uuid4().hex
            _write(fd, {"pid": os.getpid(), "command": _command(), "since": dt.datetime.now().isoformat(timespec="seconds"),
                        "generation": self.generation})
        except BaseException:
            os.close(fd)  # closing the descriptor releases a lock taken on it
            raise
        self._fd, self._depth = fd, 1
        return found if isinstance(found, str) else None

    def release(self) -> None:
        if not self._depth:
            return
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        """Let go whatever the holder still holds (its store is closing)."""
        self._depth = 1 if self._depth else 0
        self.release()

    def _busy_message(self, fd: int, wait: float) -> str:
        holder = _read(fd)
        who = (f"process {holder.get('pid')} ({holder.get('command') or 'unknown command'}, since {holder.get('since')})"
               if holder.get("pid") else "another process")
        return (f"store {self.store_path} is being written by "
                f"{who}; waited {wait:g} s for it. Run this again when it has finished (one writer at a time: "
                f"the lock is {self.path})")


def _command() -> str:
    text = " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])
    return text if len(text) <= 200 else text[:197] + "..."


def _read(fd: int) -> dict:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # a holder writing at this moment, or a damaged file: nothing known about the holder


def _write(fd: int, data: dict) -> None:
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, raw, 0)
