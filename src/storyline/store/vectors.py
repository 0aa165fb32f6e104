"""The articles' vectors by publication day, in memory: what ``Queries.similar`` searches.

A cache of the store (rebuilt from it, kept in step incrementally): one block of float16 rows per day, so a
search takes the days nearest to the query's date, outward, until it holds ``pool`` articles, and compares
them all exactly. Reading vectors from SQLite per request cost ~10 ms per 1,000 articles (the vector sits
behind the text and enrichment in each row); here a 20,000-article pool is one float32 matrix product.
Memory: 1 KiB per 512-d article (float16), 1 GiB at 1M articles.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import sqlite3

import numpy as np

from storyline.store.sqlite import QUARANTINED

__all__ = ["DayVectors", "Pool"]


@dataclasses.dataclass
class _Block:
    rows: np.ndarray  # float16 (capacity, dim)
    ids: list[str] = dataclasses.field(default_factory=list)

    def add(self, key: str, vector: np.ndarray) -> None:
        if len(self.ids) == len(self.rows):
            grown = np.empty((max(8, 2 * len(self.rows)), self.rows.shape[1]), dtype=np.float16)
            grown[: len(self.rows)] = self.rows
            self.rows = grown
        self.rows[len(self.ids)] = vector
        self.ids.append(key)


@dataclasses.dataclass
class Pool:
    """The articles one search compares: their ids, vectors (float32) and days; whether that is the whole window."""

    ids: list[str]
    vectors: np.ndarray
    days: np.ndarray  # day ordinal of each row
    whole_window: bool


class DayVectors:
    """float16 article vectors grouped by publication day (undated ones apart), refreshed from the store."""

    def __init__(self) -> None:
        self.dim: int | None = None
        self.blocks: dict[int, _Block] = {}
        self.days: list[int] = []  # sorted keys of ``blocks``
        self.undated = _Block(np.empty((0, 0), dtype=np.float16))
        self.seen = 0  # highest rowid read
        self.waiting: set[int] = set()  # rowids read before they had a vector (enriched later)
        self.size = 0

    def refresh(self, db: sqlite3.Connection) -> None:
        """Add what was stored or enriched since the last refresh (one indexed read of the new rows)."""
        rows = db.execute("SELECT rowid, id, published, embedding, stage FROM articles WHERE rowid > ?", (self.seen,)).fetchall()
        if self.waiting:
            waiting = sorted(self.waiting)
            for start in range(0, len(waiting), 500):
                part = waiting[start : start + 500]
                rows += db.execute("SELECT rowid, id, published, embedding, stage FROM articles WHERE rowid IN "
                                   f"({','.join('?' * len(part))}) AND embedding IS NOT NULL", part).fetchall()
        for rowid, key, published, blob, stage in rows:
            self.seen = max(self.seen, rowid)
            if blob is None:
                if stage < QUARANTINED:  # not enriched yet: look again next time
                    self.waiting.add(rowid)
                continue
            self.waiting.discard(rowid)
            vector = np.frombuffer(blob, dtype=np.float32)
            if self.dim is None:
                self.dim = len(vector)
                self.undated = _Block(np.empty((0, self.dim), dtype=np.float16))
            if len(vector) != self.dim:
                continue  # another embedder's vector: not comparable
            self._block(published).add(key, vector)
            self.size += 1

    def _block(self, published: str | None) -> _Block:
        if not published:
            return self.undated
        day = dt.date.fromisoformat(published[:10]).toordinal()
        if day not in self.blocks:
            self.blocks[day] = _Block(np.empty((0, self.dim), dtype=np.float16))
            bisect.insort(self.days, day)
        return self.blocks[day]

    def pool(self, day: int | None, first: int, last: int, size: int) -> Pool:
        """The ``size`` articles dated in [``first``, ``last``] nearest to ``day`` (whole days, nearest first,
        the earlier of two equally near days first; the farthest day taken may be cut, in arrival order).
        ``day`` None: the latest days (an undated article), ``first``/``last`` ignored."""
        dim = self.dim or 0
        if day is None:
            order = list(reversed(self.days))
        else:
            lo, hi = bisect.bisect_left(self.days, first), bisect.bisect_right(self.days, last)
            in_window = self.days[lo:hi]
            order = sorted(in_window, key=lambda d: (abs(d - day), d))
        parts, ids, days = [], [], []
        for d in order:
            if len(ids) >= size:
                break
            block = self.blocks[d]
            n = min(len(block.ids), size - len(ids))
            parts.append(block.rows[:n])
            ids += block.ids[:n]
            days += [d] * n
        whole = day is not None and len(ids) == sum(len(self.blocks[d].ids) for d in order)
        vectors = np.concatenate(parts, dtype=np.float32) if parts else np.empty((0, dim), dtype=np.float32)
        return Pool(ids, vectors, np.asarray(days, dtype=np.int64), whole)
