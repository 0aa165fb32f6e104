"""Candidate events for a new article, without scanning every event ever seen.

Events live in time buckets (``window_days // 4`` days wide) keyed by their latest date. A dated search
touches only the buckets that overlap ``date ± window_days``; inside them candidates come from

* the vectors: top ``k`` event centroids by cosine, and
* the inverted index over canonical entities: up to ``k`` events sharing the most query entities
  (an entity shared by more than ``max_entity_postings`` in-window events is skipped: it says nothing
  about which event this is, and it would make the search cost grow with the window),

and every candidate carries its exact cosine. ``expire`` drops whole buckets, so memory stays bounded
by the events active in the window when the caller expires as the stream moves on.

Why exact scans inside the window and an ANN graph only beyond ``exact_limit`` rows: placement upserts
one centroid per article, and an HNSW update costs 0.8-2 ms while overwriting a float32 row costs ~1 us;
a window holds few events (at 1M articles over 2 years, ~7k in ±30 days) and scanning them is cheap.
Measured with ``nice .venv/bin/python benchmarks/stories.py --backends 20000`` (20k clustered unit
vectors, 512-d, k=20, one thread, CPU time, shared 2-core box at load ~10 so memory-bound scans look
slow; recall against the exact top-20 of hard, near-random data, which understates HNSW on real text):

    ================ ========= ============== ======== =========== ========
    index            add (us)  query p50/p99  recall   update      memory
    ================ ========= ============== ======== =========== ========
    numpy f32 (flat) 2         3.9 / 7.9 ms   1.000    0.7 us      39 MiB
    numpy f16 (flat) 1         30.6 / 31.9 ms 0.998    1.5 us      20 MiB
    hnswlib M16 ef64 220       0.20 / 0.36 ms 0.546    2.1 ms      42 MiB
    usearch f32      566       0.74 / 1.17 ms 0.547    1.3 ms      43 MiB
    usearch f16      318       0.58 / 0.96 ms 0.545    1.0 ms      23 MiB
    usearch i8       166       0.26 / 0.60 ms 0.529    0.8 ms      14 MiB
    faiss HNSWFlat   261       0.20 / 0.38 ms 0.562    no removal  54 MiB
    ================ ========= ============== ======== =========== ========

On a quieter moment of the same box the flat 20k scan took 0.76 ms. faiss's HNSW cannot remove ids
(events move every placement), hnswlib updates cost 2 ms, numpy float16 has no BLAS path (31 ms a query).
So: exact float32 rows per bucket, and for searches whose rows exceed
``exact_limit`` (undated queries over a long history, bursts) a usearch int8 HNSW over all keys, synced
lazily (moved keys re-added just before an ANN query), queried with oversampling and post-filtered by
date; its hits get exact cosines from the float32 rows. Single-threaded adds in key-id order and ties
broken by key make the same input give the same output.
"""

from __future__ import annotations

import datetime as dt
import heapq
from typing import Iterable

import numpy as np

__all__ = ["CandidateIndex"]

_UNDATED = -(2**62)  # bucket id (and day) of keys without a date: searched by every query, never expired


class _Bucket:
    """Rows of one time slice: float32 vectors, day ordinals, keys, entity postings; O(1) swap-removal."""

    __slots__ = ("vectors", "days", "keys", "row_of", "size", "postings")

    def __init__(self, dim: int) -> None:
        self.vectors = np.empty((8, dim), dtype=np.float32)
        self.days = np.empty(8, dtype=np.int64)
        self.keys: list[str] = []
        self.row_of: dict[str, int] = {}
        self.size = 0
        self.postings: dict[str, set[str]] = {}

    def put(self, key: str, vector: np.ndarray, day: int, added: Iterable[str]) -> None:
        row = self.row_of.get(key)
        if row is None:
            if self.size == len(self.vectors):
                grow = max(8, self.size)
                self.vectors = np.concatenate([self.vectors, np.empty((grow, self.vectors.shape[1]), np.float32)])
                self.days = np.concatenate([self.days, np.empty(grow, np.int64)])
            row = self.size
            self.size += 1
            self.row_of[key] = row
            self.keys.append(key)
        self.vectors[row] = vector
        self.days[row] = day
        for entity in added:
            self.postings.setdefault(entity, set()).add(key)

    def unpost(self, key: str, entities: Iterable[str]) -> None:
        for entity in entities:
            keys = self.postings.get(entity)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self.postings[entity]

    def drop(self, key: str, entities: Iterable[str]) -> None:
        row = self.row_of.pop(key)
        last = self.size - 1
        if row != last:
            moved = self.keys[last]
            self.vectors[row] = self.vectors[last]
            self.days[row] = self.days[last]
            self.keys[row] = moved
            self.row_of[moved] = row
        self.keys.pop()
        self.size = last
        self.unpost(key, entities)
        if self.size * 4 < len(self.vectors) and len(self.vectors) > 64:  # give memory back after expiry
            self.vectors = self.vectors[: max(8, self.size * 2)].copy()
            self.days = self.days[: len(self.vectors)].copy()


class _Ann:
    """usearch int8 HNSW over all keys, kept in step lazily: only searches that need it pay for syncing."""

    def __init__(self, dim: int) -> None:
        from usearch.index import Index  # noqa: PLC0415 (only large searches need it)

        self.index = Index(ndim=dim, metric="cos", dtype="i8", connectivity=16, expansion_add=128, expansion_search=128)
        self.present: set[int] = set()

    def sync(self, dirty: Iterable[int], vector_of) -> None:
        for ident in sorted(dirty):
            if ident in self.present:
                self.index.remove(ident)
                self.present.discard(ident)
            vector = vector_of(ident)
            if vector is not None:
                self.index.add(ident, vector, threads=1)
                self.present.add(ident)

    def search(self, q: np.ndarray, count: int) -> np.ndarray:
        count = min(count, len(self.present))
        if count == 0:
            return np.empty(0, dtype=np.uint64)
        return self.index.search(q, count, threads=1).keys


class CandidateIndex:
    """Candidate events for a new article: those active in a time window around its date, found via a
    vector index over their centroids and an inverted index over shared canonical entities. Never scans
    everything."""

    def __init__(
        self,
        dim: int,
        window_days: int = 30,
        *,
        exact_limit: int = 32_768,
        max_entity_postings: int = 256,
    ) -> None:
        if dim <= 0 or window_days < 0:
            raise ValueError(f"CandidateIndex needs dim > 0 and window_days >= 0, got {dim}, {window_days}")
        self.dim = dim
        self.window_days = window_days
        self.bucket_days = max(1, window_days // 4)
        self.exact_limit = exact_limit
        self.max_entity_postings = max_entity_postings
        self._buckets: dict[int, _Bucket] = {}
        self._where: dict[str, tuple[int, frozenset[str]]] = {}  # key -> (bucket id, entities)
        self._ids: dict[str, int] = {}  # stable integer id per key, for the ANN graph
        self._keys: dict[int, str] = {}
        self._ann: _Ann | None = None
        self._dirty: set[int] = set()
        self._next_id = 0

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def _bucket_of(self, day: int | None) -> int:
        return _UNDATED if day is None else day // self.bucket_days

    def _unit(self, vector: np.ndarray, what: str) -> np.ndarray:
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if v.shape[0] != self.dim:
            raise ValueError(f"{what}: vector has {v.shape[0]} dims, index has {self.dim}; embed with the same model")
        norm = float(np.linalg.norm(v))
        if not np.isfinite(norm):
            raise ValueError(f"{what}: vector has NaN or inf values; check the embedding of this record")
        return v / norm if norm > 0 else v

    def upsert(self, key: str, vector: np.ndarray, date: dt.date | None, entities: Iterable[str]) -> None:
        """Add ``key`` or move it (new centroid, new latest date, new entity set)."""
        v = self._unit(vector, f"upsert({key!r})")
        day = _UNDATED if date is None else date.toordinal()
        bid = self._bucket_of(None if date is None else day)
        ents = frozenset(entities)
        old = self._where.get(key)
        added: Iterable[str] = ents
        if old is not None:
            if old[0] != bid:
                self._buckets[old[0]].drop(key, old[1])
                if self._buckets[old[0]].size == 0:
                    del self._buckets[old[0]]
            else:
                self._buckets[bid].unpost(key, old[1] - ents)
                added = ents - old[1]
        bucket = self._buckets.get(bid)
        if bucket is None:
            bucket = self._buckets[bid] = _Bucket(self.dim)
        bucket.put(key, v, day, added)
        self._where[key] = (bid, ents)
        ident = self._ids.get(key)
        if ident is None:
            ident = self._ids[key] = self._next_id
            self._next_id += 1
            self._keys[ident] = key
        if self._ann is not None:
            self._dirty.add(ident)

    def remove(self, key: str) -> None:
        old = self._where.pop(key, None)
        if old is None:
            return
        bucket = self._buckets[old[0]]
        bucket.drop(key, old[1])
        if bucket.size == 0:
            del self._buckets[old[0]]
        ident = self._ids.pop(key)
        if self._ann is not None and ident in self._ann.present:
            self._dirty.add(ident)  # the ANN forgets it at its next sync
        else:
            del self._keys[ident]

    def expire(self, before: dt.date) -> None:
        """Drop dated keys last active before ``before`` (undated keys stay: nothing says when they end)."""
        limit = before.toordinal()
        edge = limit // self.bucket_days  # the one bucket that may hold days on both sides of ``limit``
        for bid in sorted(b for b in self._buckets if b != _UNDATED and b <= edge):
            bucket = self._buckets[bid]
            stale = [bucket.keys[r] for r in range(bucket.size) if bid < edge or bucket.days[r] < limit]
            for key in stale:
                self.remove(key)

    def _window(self, day: int | None) -> list[tuple[int, _Bucket]]:
        if day is None:
            return [(b, self._buckets[b]) for b in sorted(self._buckets)]
        lo = (day - self.window_days) // self.bucket_days
        hi = (day + self.window_days) // self.bucket_days
        if hi - lo + 1 < len(self._buckets):
            ids = [b for b in range(lo, hi + 1) if b in self._buckets]
        else:
            ids = sorted(b for b in self._buckets if lo <= b <= hi)
        if _UNDATED in self._buckets:
            ids.append(_UNDATED)
        return [(b, self._buckets[b]) for b in ids]

    def _active(self, days: np.ndarray, day: int | None) -> np.ndarray | bool:
        if day is None:
            return True
        return (np.abs(days - day) <= self.window_days) | (days == _UNDATED)

    def search(
        self, vector: np.ndarray, date: dt.date | None, entities: Iterable[str], k: int = 20
    ) -> list[tuple[str, float]]:
        """(key, cosine) best first: the top ``k`` by cosine plus up to ``k`` events sharing entities,
        all active within ``window_days`` of ``date`` (undated: no time filter). Ties go by key, never by
        the order the index was filled in: a zero ``vector`` (a language the embedder does not know) ties
        every row, and a placer restored in another order (a resumed run, a Spark window) must meet the
        same candidates as the run that never stopped."""
        q = self._unit(vector, "search")
        day = None if date is None else date.toordinal()
        buckets = self._window(day)
        rows = sum(b.size for _, b in buckets)
        if k <= 0 or rows == 0:
            return []
        sims: dict[int, np.ndarray] = {}  # bucket id -> cosines of all its rows, when scanned exactly
        if not np.any(q):  # every cosine is 0: the first keys, as an exact scan's ties give them, graph or not
            scored = self._zero_hits(day, k, buckets)
        elif rows > self.exact_limit:
            scored = self._ann_hits(q, day, k, rows)
        else:
            scored = self._exact_hits(q, day, k, buckets, sims)
        best = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        keep = {key for key, _ in best}
        shared = self._entity_hits(sorted(set(entities)), day, buckets)
        if shared:
            counts = sorted(shared.values(), reverse=True)
            cut = counts[min(k, len(counts)) - 1]
            pool = [key for key, c in shared.items() if c >= cut]  # only these can make the entity top k
            self._cosines(sorted(key for key in pool if key not in scored), q, sims, scored)
            keep.update(sorted(pool, key=lambda key: (-shared[key], -scored[key], key))[:k])
        return sorted(((key, scored[key]) for key in keep), key=lambda kv: (-kv[1], kv[0]))

    def _cosines(self, keys: list[str], q: np.ndarray, sims: dict[int, np.ndarray], out: dict[str, float]) -> None:
        by_bucket: dict[int, list[str]] = {}
        for key in keys:
            by_bucket.setdefault(self._where[key][0], []).append(key)
        for bid, group in by_bucket.items():
            bucket = self._buckets[bid]
            rows = [bucket.row_of[key] for key in group]
            s = sims[bid][rows] if bid in sims else bucket.vectors[rows] @ q
            out.update(zip(group, s.tolist()))

    def _exact_hits(
        self, q: np.ndarray, day: int | None, k: int, buckets: list[tuple[int, _Bucket]], cache: dict[int, np.ndarray]
    ) -> dict[str, float]:
        keys: list[str] = []
        sims: list[np.ndarray] = []
        for bid, bucket in buckets:
            n = bucket.size
            s = cache[bid] = bucket.vectors[:n] @ q
            ok = self._active(bucket.days[:n], day)
            idx = np.arange(n) if ok is True else np.flatnonzero(ok)
            # the k best and every row tied with the k-th (clusters without a vector share one uniform vector):
            # ``search`` then breaks ties by key
            if len(idx) > k:
                kth = -np.partition(-s[idx], k - 1)[k - 1]
                idx = idx[s[idx] >= kth]
            keys.extend(bucket.keys[i] for i in idx)
            sims.append(s[idx])
        flat = np.concatenate(sims) if sims else np.empty(0, np.float32)
        return dict(zip(keys, flat.tolist()))

    def _zero_hits(self, day: int | None, k: int, buckets: list[tuple[int, _Bucket]]) -> dict[str, float]:
        active: list[str] = []
        for _, bucket in buckets:
            ok = self._active(bucket.days[: bucket.size], day)
            active.extend(bucket.keys[i] for i in (range(bucket.size) if ok is True else np.flatnonzero(ok)))
        return dict.fromkeys(heapq.nsmallest(k, active), 0.0)

    def _ann_hits(self, q: np.ndarray, day: int | None, k: int, rows: int) -> dict[str, float]:
        if self._ann is None:
            self._ann = _Ann(self.dim)
            self._dirty = set(self._ids.values())
        if self._dirty:
            self._ann.sync(self._dirty, self._vector_of)
            for ident in self._dirty:  # removed keys are now gone from the graph too
                if self._ids.get(self._keys.get(ident, "")) != ident:
                    self._keys.pop(ident, None)
            self._dirty = set()
        # oversample by how much of the graph lies outside the window: the post-filter by date drops those
        want = 2 * k if day is None else min(4096, 2 * k * -(-len(self._where) // rows))
        out: dict[str, float] = {}
        for ident in self._ann.search(q, max(want, 64)):
            key = self._keys[int(ident)]
            bucket = self._buckets[self._where[key][0]]
            row = bucket.row_of[key]
            if day is None or self._active(bucket.days[row : row + 1], day)[0]:
                out[key] = float(bucket.vectors[row] @ q)
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:k])

    def _vector_of(self, ident: int) -> np.ndarray | None:
        key = self._keys.get(ident)
        if key is None or key not in self._where or self._ids.get(key) != ident:
            return None
        bucket = self._buckets[self._where[key][0]]
        return bucket.vectors[bucket.row_of[key]]

    def _entity_hits(self, entities: list[str], day: int | None, buckets: list[tuple[int, _Bucket]]) -> dict[str, int]:
        """Events in the window sharing query entities, with how many they share; too-common ones skipped."""
        if not entities:
            return {}
        postings = []
        for entity in entities:
            found = [(bid, b, b.postings[entity]) for bid, b in buckets if entity in b.postings]
            if 0 < sum(len(keys) for _, _, keys in found) <= self.max_entity_postings:
                postings.extend(found)
        shared: dict[str, int] = {}
        for bid, bucket, keys in postings:
            inside = (
                day is None
                or bid == _UNDATED
                or (bid * self.bucket_days >= day - self.window_days
                    and (bid + 1) * self.bucket_days - 1 <= day + self.window_days)
            )
            for key in keys:
                if inside or abs(int(bucket.days[bucket.row_of[key]]) - day) <= self.window_days:
                    shared[key] = shared.get(key, 0) + 1
        return shared
