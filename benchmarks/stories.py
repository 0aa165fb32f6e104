"""Speed and memory of placing one article into events (stories stage), embedding excluded.

    nice .venv/bin/python benchmarks/stories.py                      # smoke run: 20k articles
    nice .venv/bin/python benchmarks/stories.py --n 100000
    nice .venv/bin/python benchmarks/stories.py --n 1000000 --measure 20000
    nice .venv/bin/python benchmarks/stories.py --backends 20000     # vector index libraries compared

Synthetic corpus: clustered unit vectors in 512-d (stories -> events of 5-20 articles -> articles, cosine
~0.7 article-to-event, ~0.5 between events of one story), spread over ~2 years, entity ids with Zipf
frequencies. The first ``n - measure`` articles are "already stored": their events are bulk-loaded into
the CandidateIndex (one upsert per event). The last ``measure`` articles (chronological) then go through a
minimal placement loop with the real cost shape: search k=20, exact rescoring (cosine + entity overlap),
centroid update, upsert. Run twice: without expiry (index holds every event of the 2 years) and with
expiry (``expire(date - window)`` as the stream moves). Prints p50/p99 per article, articles/s and peak RSS
(ru_maxrss of this process, which includes the synthetic data).

Measured 2026-11-24 on the shared 2-core box (load 2-7; wall p99 there is other processes' preemption, the
CPU-time figures are the code's cost), --n 1000000 --measure 20000, 80k events: CPU p50 0.69 / p99 6.2 ms
per placement without expiry, 0.57 / 5.2 ms with; peak RSS 1.24 GiB. --n 300000: 0.25 / 0.47 ms, 3,500/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import time

import numpy as np

from storyline.stories.index import CandidateIndex

DIM = 512
DAYS = 730
DAY0 = dt.date(2023, 1, 1)
SEED = 20240101


class Corpus:
    """Events and a chronological article stream; vectors are generated chunk by chunk, never all at once."""

    def __init__(self, n: int, seed: int = SEED) -> None:
        rng = np.random.default_rng(seed)
        sizes = rng.integers(5, 21, n // 5 + 1)  # 5-20 articles an event; more than enough events
        sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
        sizes[-1] -= int(sizes.sum()) - n
        n_events = len(sizes)
        n_topics = max(1, n_events // 8)
        topics = _unit(rng.standard_normal((n_topics, DIM), dtype=np.float32))
        topic_of = rng.integers(0, n_topics, n_events)
        self.centers = np.empty((n_events, DIM), dtype=np.float32)
        for s in range(0, n_events, 8192):  # event = its story's topic + noise (cos ~0.7 to the topic)
            e = slice(s, min(n_events, s + 8192))
            noise = rng.standard_normal((e.stop - e.start, DIM), dtype=np.float32) / np.sqrt(DIM)
            self.centers[e] = _unit(topics[topic_of[e]] + noise)
        start = rng.integers(0, DAYS, n_events)
        self.event = np.repeat(np.arange(n_events), sizes)
        self.day = np.minimum(DAYS - 1, start[self.event] + rng.integers(0, 6, n))  # an event lasts <= 6 days
        order = np.lexsort((self.event, self.day))
        self.event, self.day = self.event[order], self.day[order]
        vocab = 50_000
        self.event_entities = np.minimum(rng.zipf(1.3, (n_events, 4)), vocab)
        self.extra_entity = np.minimum(rng.zipf(1.3, n), vocab)
        self.n, self.n_events, self.rng = n, n_events, rng

    def vectors(self, lo: int, hi: int, chunk: int = 4096) -> np.ndarray:
        """Article vectors lo..hi; the same article gets the same vector whatever the slicing."""
        parts = []
        for c in range(lo // chunk, (hi - 1) // chunk + 1):
            noise = np.random.default_rng([SEED, c]).standard_normal((chunk, DIM), dtype=np.float32)
            parts.append(noise[max(lo, c * chunk) - c * chunk : min(hi, (c + 1) * chunk) - c * chunk])
        return _unit(self.centers[self.event[lo:hi]] + np.concatenate(parts) / np.sqrt(DIM))

    def entities(self, i: int) -> list[str]:
        own = self.event_entities[self.event[i]]
        return sorted({f"e{x}" for x in own[: 2 + i % 3]} | {f"e{self.extra_entity[i]}"})


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class Placer:
    """The placement loop's state: event sums, sizes, latest dates, entity counts."""

    def __init__(self, index: CandidateIndex) -> None:
        self.index = index
        self.sums: dict[str, np.ndarray] = {}
        self.last: dict[str, dt.date] = {}
        self.entities: dict[str, dict[str, int]] = {}
        self.created = 0
        self.search_cpu: list[float] = []  # CPU seconds of each search, to split the placement cost

    def load(self, key: str, total: np.ndarray, last: dt.date, entities: dict[str, int]) -> None:
        self.sums[key], self.last[key], self.entities[key] = total, last, entities
        self.index.upsert(key, total, last, entities)

    def place(self, vec: np.ndarray, date: dt.date, ents: list[str], threshold: float = 0.45) -> str:
        c = time.thread_time()
        hits = self.index.search(vec, date, ents, k=20)
        self.search_cpu.append(time.thread_time() - c)
        best, best_score = None, threshold
        wanted = set(ents)
        for key, cos in hits:  # exact rescoring: cosine + overlap of canonical entities
            have = self.entities[key]
            overlap = len(wanted.intersection(have)) / max(1, len(wanted))
            score = 0.8 * cos + 0.2 * overlap
            if score > best_score:
                best, best_score = key, score
        if best is None:
            best = f"new{self.created}"
            self.created += 1
            self.sums[best] = np.zeros(DIM, dtype=np.float32)
            self.entities[best] = {}
            self.last[best] = date
        self.sums[best] += vec
        counts = self.entities[best]
        for e in ents:
            counts[e] = counts.get(e, 0) + 1
        self.last[best] = max(self.last[best], date)
        self.index.upsert(best, self.sums[best], self.last[best], counts)
        return best


Stored = tuple[np.ndarray, dict[int, int], dict[int, dict[str, int]]]


def stored_events(corpus: Corpus, upto: int) -> Stored:
    """Centroid sums, latest days and entity counts of the events of the first ``upto`` articles."""
    sums = np.zeros((corpus.n_events, DIM), dtype=np.float32)
    for lo in range(0, upto, 4096):
        hi = min(upto, lo + 4096)
        events = corpus.event[lo:hi]
        order = np.argsort(events, kind="stable")
        ids, starts = np.unique(events[order], return_index=True)
        sums[ids] += np.add.reduceat(corpus.vectors(lo, hi)[order], starts)  # np.add.at is 10x slower
    last: dict[int, int] = {}
    ents: dict[int, dict[str, int]] = {}
    for i in range(upto):
        e = int(corpus.event[i])
        last[e] = int(corpus.day[i])
        counts = ents.setdefault(e, {})
        for name in corpus.entities(i):
            counts[name] = counts.get(name, 0) + 1
    return sums, last, ents


def bulk_load(stored: Stored, placer: Placer) -> None:
    """One upsert per stored event, what a rebuild of the index from the store does."""
    sums, last, ents = stored
    for e in sorted(last):
        placer.load(f"ev{e}", sums[e].copy(), DAY0 + dt.timedelta(days=last[e]), dict(ents[e]))


def run(corpus: Corpus, stored: Stored, measure: int, window: int, expire: bool) -> None:
    index = CandidateIndex(DIM, window_days=window)
    placer = Placer(index)
    start = corpus.n - measure
    t0 = time.perf_counter()
    bulk_load(stored, placer)
    load_s = time.perf_counter() - t0
    first_day = int(corpus.day[start]) if measure else DAYS
    if expire:
        index.expire(DAY0 + dt.timedelta(days=first_day - window))
    size_before = len(index)
    lat = np.empty(measure)
    cpu = np.empty(measure)  # thread CPU time: what the code costs, without the shared box's preemption
    day_seen = first_day
    gc.collect()
    t_all = time.perf_counter()
    for lo in range(start, corpus.n, 4096):
        hi = min(corpus.n, lo + 4096)
        vecs = corpus.vectors(lo, hi)
        ents = [corpus.entities(i) for i in range(lo, hi)]
        for j in range(hi - lo):
            day = int(corpus.day[lo + j])
            date = DAY0 + dt.timedelta(days=day)
            t, c = time.perf_counter(), time.thread_time()
            if expire and day != day_seen:
                index.expire(date - dt.timedelta(days=window))
                day_seen = day
            placer.place(vecs[j], date, ents[j])
            lat[lo + j - start] = time.perf_counter() - t
            cpu[lo + j - start] = time.thread_time() - c
    total = time.perf_counter() - t_all
    ms, cpu_ms = lat * 1e3, cpu * 1e3
    search_ms = np.array(placer.search_cpu) * 1e3
    print(
        f"  {'with' if expire else 'without':7s} expiry: events in index {size_before:,} -> {len(index):,} "
        f"(bulk load {load_s:.1f} s); placed {measure:,}: p50 {np.percentile(ms, 50):.2f} ms, "
        f"p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.1f} ms (CPU time p50 {np.percentile(cpu_ms, 50):.2f}, "
        f"p99 {np.percentile(cpu_ms, 99):.2f} ms; search alone p50 {np.percentile(search_ms, 50):.2f}, "
        f"p99 {np.percentile(search_ms, 99):.2f} ms), {measure / total:,.0f} articles/s; "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB",
        flush=True,
    )
    q = corpus.vectors(0, 200)
    index.search(q[0], None, [], k=20)  # the first large undated search builds the ANN graph
    c = time.thread_time()
    for v in q:
        index.search(v, None, [], k=20)
    print(f"    undated search (no time filter, {len(index):,} events): "
          f"{(time.thread_time() - c) / len(q) * 1e3:.2f} ms CPU mean", flush=True)


def compare_backends(n: int, queries: int = 300, updates: int = 500, k: int = 20) -> None:
    """Incremental add, query, update (move) and memory of the vector index libraries; one thread, CPU time."""
    rng = np.random.default_rng(SEED)
    topics = rng.standard_normal((max(1, n // 50), DIM), dtype=np.float32)
    x = _unit(topics[rng.integers(0, len(topics), n)] + 0.9 * rng.standard_normal((n, DIM), dtype=np.float32))
    qs = _unit(x[rng.integers(0, n, queries)] + 0.5 * rng.standard_normal((queries, DIM), dtype=np.float32))
    moved = rng.integers(0, n, updates)
    new = _unit(x[moved] + 0.1 * rng.standard_normal((updates, DIM), dtype=np.float32))
    truth = np.argsort(-(qs @ x.T), axis=1)[:, :k]
    print(f"{n:,} vectors, {DIM}-d, k={k}, one thread; load average {open('/proc/loadavg').read().split()[0]}")

    def rss() -> float:
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

    def measure(name: str, build, query, update) -> None:
        gc.collect()
        m0, t = rss(), time.thread_time()
        index = build()
        add_us = (time.thread_time() - t) / n * 1e6
        mem = rss() - m0
        lat, rec = [], []
        for q, want in zip(qs, truth):
            t = time.thread_time()
            got = query(index, q)
            lat.append((time.thread_time() - t) * 1e3)
            rec.append(len(set(map(int, got)) & set(want.tolist())) / k)
        t = time.thread_time()
        upd = update(index)
        upd_us = (time.thread_time() - t) / updates * 1e6
        print(f"  {name:16s} add {add_us:6.1f} us  query p50 {np.percentile(lat, 50):6.3f} ms "
              f"p99 {np.percentile(lat, 99):6.3f} ms  recall@{k} {np.mean(rec):.3f}  "
              f"update {'n/a (' + upd + ')' if isinstance(upd, str) else f'{upd_us:7.1f} us'}  memory +{mem:.0f} MiB",
              flush=True)

    def flat_update(index: np.ndarray) -> None:
        for i, v in zip(moved, new):
            index[i] = v

    measure("numpy f32", lambda: x.copy(), lambda ix, q: np.argpartition(-(ix @ q), k)[:k], flat_update)
    measure("numpy f16", lambda: x.astype(np.float16),
            lambda ix, q: np.argpartition(-(ix @ q.astype(np.float16)), k)[:k], flat_update)
    import hnswlib  # noqa: PLC0415

    def hnsw_build():
        index = hnswlib.Index("cosine", DIM)
        index.init_index(n, ef_construction=100, M=16, random_seed=1)
        for s in range(0, n, 1000):
            index.add_items(x[s : s + 1000], np.arange(s, min(n, s + 1000)), num_threads=1)
        index.set_ef(64)
        return index

    def hnsw_update(index) -> None:
        for i, v in zip(moved, new):
            index.add_items(v[None], [i], num_threads=1)  # same label: hnswlib re-links the point

    measure("hnswlib M16 ef64", hnsw_build, lambda ix, q: ix.knn_query(q, k=k, num_threads=1)[0][0], hnsw_update)
    from usearch.index import Index  # noqa: PLC0415

    for dtype in ("f32", "f16", "i8"):
        def us_build(dtype: str = dtype):
            index = Index(ndim=DIM, metric="cos", dtype=dtype, connectivity=16, expansion_add=100, expansion_search=64)
            for s in range(0, n, 1000):
                index.add(np.arange(s, min(n, s + 1000)), x[s : s + 1000], threads=1)
            return index

        def us_update(index) -> None:
            for i, v in zip(moved, new):
                index.remove(int(i))
                index.add(int(i), v, threads=1)

        measure(f"usearch {dtype} ef64", us_build, lambda ix, q: ix.search(q, k, threads=1).keys, us_update)
    import faiss  # noqa: PLC0415

    faiss.omp_set_num_threads(1)

    def faiss_build():
        index = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction, index.hnsw.efSearch = 100, 64
        for s in range(0, n, 1000):
            index.add(x[s : s + 1000])
        return index

    def faiss_update(index) -> str | None:
        try:
            index.remove_ids(np.array([0], dtype=np.int64))
        except RuntimeError:
            return "HNSW has no remove_ids"
        return None

    measure("faiss HNSWFlat", faiss_build, lambda ix, q: ix.search(q[None], k)[1][0], faiss_update)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="stored articles (default: a smoke run)")
    parser.add_argument("--measure", type=int, default=None, help="articles placed and timed (default min(n, 20000))")
    parser.add_argument("--window", type=int, default=30, help="window_days of the CandidateIndex")
    parser.add_argument("--backends", type=int, default=0, help="instead: compare vector index libraries at this size")
    args = parser.parse_args()
    if args.backends:
        compare_backends(args.backends)
        return
    measure = min(args.n, args.measure if args.measure is not None else 20_000)
    t = time.perf_counter()
    corpus = Corpus(args.n)
    print(f"load average {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores")
    print(f"n={args.n:,} articles, {corpus.n_events:,} events over {DAYS} days, window ±{args.window} days "
          f"(corpus built in {time.perf_counter() - t:.1f} s)", flush=True)
    t = time.perf_counter()
    stored = stored_events(corpus, args.n - measure)
    print(f"stored events computed in {time.perf_counter() - t:.1f} s", flush=True)
    for expire in (False, True):
        run(corpus, stored, measure, args.window, expire)


if __name__ == "__main__":
    main()
