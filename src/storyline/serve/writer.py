"""The server's one writer: submitted articles are ingested at once, enriched and placed in another process.

Ingest (clean, deduplicate, store) is quick and linear in the text, and answers each item as new, duplicate or
rejected, so it runs in the request. Enrichment, placement and the stories' prepared views (``Pipeline.tell``)
take seconds of models, so they run in a separate worker process, the same ``Pipeline`` code as ``storyline
track``: the web process loads no model and never waits behind NER on the GIL, and readers keep reading the
last committed state (SQLite WAL). SQLite allows one writer at a time; the ingest lock and the single worker
keep the server to that.

The worker reports a heartbeat after every batch. One that stays silent for ``stall_seconds`` while it has work
is killed and started again: the enrichment journal (``pipeline.EnrichBounds``) then retries its batch, one
article at a time after a second death, and quarantines an article that dies alone, so no article can stall
the server or its restart for good.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from storyline.model import Document, Rejection
from storyline.pipeline import Pipeline, PipelineConfig, exit_with_parent
from storyline.store import ENRICHED, PLACED, Store

__all__ = ["Writer", "STALL_SECONDS"]

log = logging.getLogger("storyline.serve")

STALL_SECONDS = 300.0  # a worker silent this long while it has work is killed (a batch is 64 articles)
_POLL = 5.0  # the worker looks for unfinished work this often even when nobody wakes it


def _has_work(store: Store) -> bool:
    return bool(store.pending_ids(ENRICHED)) or store.count(ENRICHED) > store.count(PLACED)


def _work(db: str, config: PipelineConfig, conn: Any, parent: int) -> None:
    """The worker process: enrich, place and prepare views whenever woken, until told to stop."""
    exit_with_parent(parent)
    store = Store(db)
    pipeline = Pipeline(store, config)
    try:
        from storyline.normalize.clean import clean

        clean(Document(text="Warming up on 1 January 2020.", origin="warm-up", published="2020-01-01"))
        pipeline.embedder
        pipeline.entity_extractor.model("en")
    except Exception as exc:  # noqa: BLE001 - the first round will report it
        conn.send(("error", f"warm-up: {type(exc).__name__}: {exc}"))
    conn.send(("ready", None))
    consumed = 0
    while True:
        if conn.poll(_POLL):
            message, value = conn.recv()
            if message == "stop":
                break
            consumed = max(consumed, value)
        while conn.poll():  # every wake sent so far: their articles are committed, so the check below sees them
            message, value = conn.recv()
            if message == "stop":
                store.close()
                return
            consumed = max(consumed, value)
        try:
            while _has_work(store):
                beat = lambda n: conn.send(("beat", n))  # noqa: E731
                pipeline.enrich(progress=beat)
                pipeline.place(progress=beat)
                pipeline.tell(progress=beat)
                conn.send(("round", dict(pipeline.enrich_report.quarantined)))
        except Exception as exc:  # noqa: BLE001 - reported, retried on the next wake; the server goes on
            log.exception("background enrichment failed")
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        conn.send(("idle", consumed))
    store.close()


class Writer:
    """Ingest now; enrich, place and prepare views in a worker process; ``on_change`` runs after each round."""

    def __init__(self, db: str | Path, config: PipelineConfig | None = None,
                 on_change: Callable[[], None] | None = None, stall_seconds: float = STALL_SECONDS) -> None:
        # workers=1: the worker process enriches in order, alone (no helper processes of its own)
        self.config = config or PipelineConfig(workers=1)
        self.db = str(db)
        self._ingest_store = Store(db)
        self._ingest = Pipeline(self._ingest_store, self.config)
        self._ingest_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self.on_change = on_change
        self.stall_seconds = stall_seconds
        self.rounds = 0
        self.restarts = 0
        self.quarantined: dict[str, str] = {}  # article id -> reason, over this server's life
        self.last_error: str | None = None
        self._sent = 0  # wakes sent; the worker answers "idle" with how many it had read
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._process: Any = None
        self._conn: Any = None
        self._ready = False
        self._last_beat = time.monotonic()
        self._start_worker()
        self._thread = threading.Thread(target=self._supervise, name="storyline-writer", daemon=True)
        self._thread.start()

    # --- the request side ---------------------------------------------------------------------
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
            self._wake()  # after the commit: the worker's check for work then sees these articles
        return answers

    def get_state(self, key: str) -> str | None:
        with self._ingest_lock:
            return self._ingest_store.get_state(key)

    def set_state(self, key: str, value: str) -> None:
        with self._ingest_lock:
            self._ingest_store.set_state(key, value)

    def wait_idle(self, timeout: float = 300.0) -> bool:
        """Until every submitted article is enriched and placed and its story's view prepared (tests, benchmarks)."""
        return self._idle.wait(timeout)

    @property
    def worker_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # --- the worker ---------------------------------------------------------------------------
    def _wake(self) -> None:
        with self._send_lock:
            self._idle.clear()
            self._sent += 1
            if self._conn is None:
                return
            try:
                self._conn.send(("wake", self._sent))
            except (OSError, ValueError):  # the worker is being replaced: the new one is woken on start
                pass

    def _start_worker(self) -> None:
        import os

        with self._send_lock:
            ours, theirs = self._context.Pipe()
            process = self._context.Process(target=_work, args=(self.db, self.config, theirs, os.getpid()),
                                            name="storyline-worker", daemon=True)
            process.start()
            theirs.close()
            self._process, self._conn, self._ready = process, ours, False
            self._idle.clear()
            self._sent += 1
            ours.send(("wake", self._sent))  # finish whatever an earlier run (or a killed worker) left

    def _restart(self, why: str) -> None:
        self.last_error = why
        log.warning("%s; starting the worker again", why)
        if self._process is not None and self._process.is_alive():
            self._process.kill()
        if self._process is not None:
            self._process.join(timeout=10)
        self.restarts += 1
        self._start_worker()

    def _handle(self, message: str, value: Any) -> None:
        self._last_beat = time.monotonic()
        if message == "ready":
            self._ready = True
        elif message == "round":
            self.rounds += 1
            self.quarantined.update(value)
            if self.on_change:
                try:
                    self.on_change()
                except Exception as exc:  # noqa: BLE001 - the readers' index refreshes on their next read anyway
                    self.last_error = f"on_change: {type(exc).__name__}: {exc}"
        elif message == "error":
            self.last_error = value
        elif message == "idle":
            with self._send_lock:
                if value >= self._sent:
                    self._idle.set()

    def _supervise(self) -> None:
        """Read the worker's messages; start it again if it died or stalled on a batch."""
        while not self._stop.is_set():
            conn, process = self._conn, self._process
            try:
                if conn.poll(0.5):
                    self._handle(*conn.recv())
                    continue
            except (EOFError, OSError):
                if self._stop.is_set():
                    break
                process.join(timeout=5)
                self._restart(f"the worker process ended (exit code {process.exitcode})")
                continue
            if self._stop.is_set():
                break
            if not process.is_alive():
                self._restart(f"the worker process ended (exit code {process.exitcode})")
            elif self._ready and not self._idle.is_set() and time.monotonic() - self._last_beat > self.stall_seconds:
                self._restart(f"the worker was silent for over {self.stall_seconds:g} s on one batch")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self._send_lock:
            try:
                self._conn.send(("stop", 0))
            except (OSError, ValueError):
                pass
        self._process.join(timeout=60)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=10)
        self._conn.close()
        self._ingest_store.close()
