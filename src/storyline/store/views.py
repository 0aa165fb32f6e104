"""Prepared views: what a cluster's page shows, stored by the writer, read by the query layer.

A view is keyed by the kind of cluster and its id (("story", id) now; threads will use the same table) and
carries the version of the membership it was computed from, so a reader knows whether it is current. The
table is built by schema migration v7 (``store/schema.py``); a cluster with no current view is computed on read
by the query layer as before.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any, Iterable

__all__ = ["get_view", "put_views", "view_versions", "view_versions_of", "drop_views"]


def view_versions(db: sqlite3.Connection, kind: str) -> dict[str, str]:
    """id -> version of every stored view of this kind (no data decoded)."""
    return dict(db.execute("SELECT id, version FROM cluster_views WHERE kind = ?", (kind,)).fetchall())


def view_versions_of(db: sqlite3.Connection, kind: str, keys: list[str]) -> dict[str, str]:
    """id -> version of the stored views of these clusters."""
    if not keys:
        return {}
    marks = ",".join("?" * len(keys))
    return dict(db.execute(f"SELECT id, version FROM cluster_views WHERE kind = ? AND id IN ({marks})",
                           (kind, *keys)).fetchall())


def get_view(db: sqlite3.Connection, kind: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """(version, data) of one prepared view, or None when none was prepared."""
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
