"""The server's one writer: submitted articles are ingested at once, enriched and placed in the background.

Ingest (clean, deduplicate, store) is quick and answers each item as new, duplicate or rejected, so it runs
in the request. Enrichment and placement take seconds (models), so one background thread does them, one
batch after another, on its own connection: readers keep reading the last committed state (SQLite WAL)
and are never blocked. SQLite allows one writer at a time; the ingest lock and the single enrichment
thread keep this process to that as well.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from storyline.model import Document, Rejection
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.store import ENRICHED, Store

__all__ = ["Writer"]

log = logging.getLogger("storyline.serve")


class Writer:
    """Ingest now, enrich and place in the background; ``on_change`` runs after each placement round."""

    def __init__(self, db: str | Path, config: PipelineConfig | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        # workers=1: no helper process inside a server thread (fork from a threaded process is unsafe)
        self.config = config or PipelineConfig(workers=1)
        self._ingest_store = Store(db)
        self._ingest = Pipeline(self._ingest_store, self.config)
        self._work_store = Store(db)
        self._work = Pipeline(self._work_store, self.config)
        self._ingest_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.on_change = on_change
        self.rounds = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="storyline-writer", daemon=True)
        self._thread.start()
        self._wake.set()  # finish whatever an earlier run left unenriched

    def submit(self, items: Sequence[Document | Rejection]) -> list[dict[str, Any]]:
        """Ingest each item through ``Pipeline.ingest_documents``; one answer per item, in order."""
        answers: list[dict[str, Any]] = []
        with self._ingest_lock:
            for item in items:
                report = self._ingest.ingest_documents([item])
                if report.rejected:
                    answers.append({"status": "rejected", "id": None, "reason": report.rejected[0].reason})
                else:
                    answers.append({"status": "new" if report.new else "duplicate",
                                    "id": report.stored.get(item.origin),
                                    "reason": "; ".join(n.reason for n in report.notes) or None})
        if any(a["status"] == "new" for a in answers):
            self._wake.set()  # before clearing idle: the thread only sets idle when no wake is pending
            self._idle.clear()
        return answers

    def get_state(self, key: str) -> str | None:
        with self._ingest_lock:
            return self._ingest_store.get_state(key)

    def set_state(self, key: str, value: str) -> None:
        with self._ingest_lock:
            self._ingest_store.set_state(key, value)

    def _warm_up(self) -> None:
        """Load what ingest and enrichment need now, not in the first request (date parser, models)."""
        from storyline.normalize.clean import clean

        try:
            clean(Document(text="Warming up on 1 January 2020.", origin="warm-up", published="2020-01-01"))
            self._work.embedder
        except Exception as exc:  # noqa: BLE001 - the first real request will report it
            self.last_error = f"warm-up: {type(exc).__name__}: {exc}"

    def _run(self) -> None:
        self._warm_up()
        while not self._stop.is_set():
            self._wake.wait(timeout=5.0)
            if self._stop.is_set():
                break
            self._wake.clear()
            try:
                if self._work_store.pending_ids(ENRICHED) or self._work_store.count(ENRICHED) > self._work_store.count(2):
                    self._idle.clear()
                    self._work.enrich()
                    self._work.place()
                    self.rounds += 1
                    if self.on_change:
                        self.on_change()
            except Exception as exc:  # noqa: BLE001 - logged and retried on the next wake; the server goes on
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("background enrichment failed")
            if not self._wake.is_set():
                self._idle.set()

    def wait_idle(self, timeout: float = 300.0) -> bool:
        """Until every submitted article is enriched and placed (tests and benchmarks)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=60)
        self._ingest_store.close()
        self._work_store.close()
