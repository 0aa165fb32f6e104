"""Prepared views: what a cluster's page shows, stored by the writer, read by the query layer.

A view is keyed by the kind of cluster and its id (("story", id) now; threads will use the same table) and
carries the version of the membership it was computed from, so a reader knows whether it is current. The
table is created on first write (``CREATE TABLE IF NOT EXISTS``), not by a schema migration: a store that
never had a view prepared simply has none, and the query layer then computes on read as before.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any, Iterable

__all__ = ["ensure", "get_view", "put_views", "view_versions", "view_versions_of", "drop_views"]

_TABLE = """
CREATE TABLE IF NOT EXISTS cluster_views (
    kind TEXT NOT NULL,          -- 'story' (and 'thread' later)
    id TEXT NOT NULL,
    version TEXT NOT NULL,       -- the membership it was computed from (Queries.view_version)
    data TEXT NOT NULL,          -- JSON: timeline(s), summary, actors, sources, what's new, articles
    prepared_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)
"""


def ensure(db: sqlite3.Connection) -> None:
    """Create the table if this store has none yet (idempotent; the writer calls it before writing)."""
    db.execute(_TABLE)


def _exists(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cluster_views'").fetchone() is not None


def view_versions(db: sqlite3.Connection, kind: str) -> dict[str, str]:
    """id -> version of every stored view of this kind (no data decoded)."""
    if not _exists(db):
        return {}
    return dict(db.execute("SELECT id, version FROM cluster_views WHERE kind = ?", (kind,)).fetchall())


def view_versions_of(db: sqlite3.Connection, kind: str, keys: list[str]) -> dict[str, str]:
    """id -> version of the stored views of these clusters."""
    if not keys or not _exists(db):
        return {}
    marks = ",".join("?" * len(keys))
    return dict(db.execute(f"SELECT id, version FROM cluster_views WHERE kind = ? AND id IN ({marks})",
                           (kind, *keys)).fetchall())


def get_view(db: sqlite3.Connection, kind: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """(version, data) of one prepared view, or None when none was prepared."""
    if not _exists(db):
        return None
    row = db.execute("SELECT version, data FROM cluster_views WHERE kind = ? AND id = ?", (kind, key)).fetchone()
    return (row[0], json.loads(row[1])) if row else None


def put_views(db: sqlite3.Connection, kind: str, views: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
    """Store (id, version, data) views of one kind, replacing older ones (the caller holds the transaction)."""
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    db.executemany("INSERT OR REPLACE INTO cluster_views (kind, id, version, data, prepared_at) VALUES (?,?,?,?,?)",
                   [(kind, key, version, json.dumps(data, ensure_ascii=False, sort_keys=True), now)
                    for key, version, data in views])


def drop_views(db: sqlite3.Connection, kind: str, keys: Iterable[str]) -> None:
    """Forget the views of clusters that are gone (merged into another, emptied)."""
    db.executemany("DELETE FROM cluster_views WHERE kind = ? AND id = ?", [(kind, k) for k in keys])
