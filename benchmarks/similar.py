"""``Queries.similar`` at scale: p50/p99 latency over a store of N synthetic articles (random unit vectors).

    python benchmarks/similar.py [--articles 1000000] [--queries 200] [--pool 20000] [--db out/bench-similar.db]

Builds (once, cached at --db) a store of N articles dated evenly over two years (a few undated), each with a
random 512-d float32 unit vector as its embedding, written straight into the articles table (the pipeline's
models are not what is measured here). Then asks ``similar`` (limit 10, ±90 days) for --queries random
articles, dated and undated, and prints p50/p99 wall and CPU milliseconds and what each search compared
(``similar_search``'s ``searched``). The target is p99 <= 50 ms at 1M articles on a quiet 2-core machine:
state the machine's load with any figure (printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIM = 512
DAYS = 730


def build(db: Path, n: int, seed: int = 11) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from storyline.store import ENRICHED, Store

    with Store(db):  # creates the schema
        pass
    rng = np.random.default_rng(seed)
    first = dt.date(2022, 1, 1)
    started = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    for start in range(0, n, 10_000):
        count = min(10_000, n - start)
        vectors = rng.normal(size=(count, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = []
        for j in range(count):
            i = start + j
            published = None if i % 500 == 499 else (first + dt.timedelta(days=i * DAYS // n)).isoformat()
            text = f"synthetic article {i}"
            rows.append((f"s{i:08d}", hashlib.sha256(text.encode()).hexdigest(), text, text, "bench",
                         published, "metadata" if published else "undated", "2024-01-01T00:00:00+00:00",
                         ENRICHED, vectors[j].tobytes()))
        with con:
            con.executemany("INSERT INTO articles (id, content_hash, text, original_text, origin, published, "
                            "published_provenance, ingested_at, stage, embedding) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        print(f"\r  {start + count:,} / {n:,} articles", end="", flush=True)
    con.close()
    print(f"\nbuilt {db}: {n:,} articles in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--pool", type=int, default=None, help="articles nearest in date compared (default: SIMILAR_POOL)")
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    db = args.db or ROOT / "out" / f"bench-similar-{args.articles}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        build(db, args.articles)
    sys.path.insert(0, str(ROOT / "src"))
    from storyline.queries import SIMILAR_POOL, Queries
    from storyline.store import Store

    pool = args.pool or SIMILAR_POOL
    print(f"load average {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores; "
          f"{args.articles:,} articles, {DIM}-d, pool {pool:,}, limit 10, ±90 days")
    rng = random.Random(5)
    with Store(db) as store:
        ask = Queries(store)
        ask.index()  # built once, as a server holds it; not part of a query's time
        t = time.perf_counter()
        ask.similar_search("s00000000", limit=10, pool=pool)  # the first search loads every vector
        print(f"first search (loads {args.articles:,} vectors): {time.perf_counter() - t:.1f} s", flush=True)
        ids = [f"s{rng.randrange(args.articles):08d}" for _ in range(args.queries)]
        wall, cpu, compared, whole = [], [], [], 0
        for key in ids:
            t, c = time.perf_counter(), time.process_time()
            found = ask.similar_search(key, limit=10, pool=pool)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            compared.append(found["searched"]["articles"])
            whole += found["searched"]["whole_window"]
    q = statistics.quantiles(wall, n=100)
    qc = statistics.quantiles(cpu, n=100)
    print(f"similar: wall p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms; CPU p50 {qc[49]:.1f} ms, p99 {qc[98]:.1f} ms; "
          f"compared {min(compared):,}-{max(compared):,} articles a query; whole ±90-day window in {whole}/{len(ids)}")


if __name__ == "__main__":
    main()
