"""Serving under load: front page, story pages and the stories API on loopback, with POSTs in the background.

    python benchmarks/serve.py [--articles 10000] [--seconds 30] [--clients 8] [--db out/bench-serve.db]

Builds (once, cached at --db) a store of N articles through the real pipeline: the 102 shipped example
articles re-issued by ten outlets at shifted dates with a distinct closing sentence each, so the store has
many stories, sources and near-duplicates. Then starts ``storyline serve`` on 127.0.0.1 in a subprocess,
and for --seconds runs --clients concurrent readers (bounded; loopback only) while one writer POSTs an
article every --post-every seconds. Prints requests/s, p50/p99 latency and errors, per kind and overall.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

# rounds of the examples are dated 45 days apart, past today for the later ones: ingest must judge their dates
# against a later "now" (a date past it is untrusted)
os.environ.setdefault("STORYLINE_INGEST_TIME", "2100-01-01T00:00:00+00:00")

ROOT = Path(__file__).resolve().parents[1]
OUTLETS = ["Wire One", "Daily Ledger", "Harbour Post", "Capital Times", "Evening Star", "Morning Herald",
           "Coastal News", "Metro Daily", "Northern Echo", "Southern Cross"]


def build(db: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from storyline.ingest import read_sources
    from storyline.model import Document
    from storyline.pipeline import Pipeline, PipelineConfig
    from storyline.store import Store

    base = [d for d in read_sources([str(ROOT / "examples")]) if isinstance(d, Document)]
    docs = []
    for i in range(n):
        src = base[i % len(base)]
        round_ = i // len(base)
        published = None
        if src.published:
            try:
                published = (dt.date.fromisoformat(src.published[:10]) + dt.timedelta(days=45 * round_)).isoformat()
            except ValueError:
                published = src.published
        docs.append(Document(text=f"{src.text}\n\nReport {i} filed by {OUTLETS[round_ % len(OUTLETS)]} staff.",
                             origin=f"bench:{i}", title=src.title, source=OUTLETS[round_ % len(OUTLETS)],
                             url=f"https://news.example/{i}", published=published))
    started = time.process_time()
    with Store(db) as store:
        pipeline = Pipeline(store, PipelineConfig())
        pipeline.ingest_documents(docs)
        pipeline.enrich()
        pipeline.place()
    print(f"built {db}: {n} articles in {time.process_time() - started:.0f} CPU-s (main process)", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--post-every", type=float, default=1.0)
    ap.add_argument("--db", type=Path, default=ROOT / "out" / "bench-serve.db")
    args = ap.parse_args()
    args.clients = max(1, min(args.clients, 32))  # bounded
    args.seconds = max(1.0, min(args.seconds, 300.0))
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if not args.db.exists():
        build(args.db, args.articles)

    port, token = free_port(), "bench-token"
    env = {**os.environ, "STORYLINE_TOKEN": token}
    server = subprocess.Popen([sys.executable, "-m", "storyline", "serve", "--db", str(args.db), "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/facets", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        stories = httpx.get(base + "/api/stories", params={"sort": "articles", "limit": 200}, timeout=60).json()["items"]
        ids = [s["id"] for s in stories]
        facets = httpx.get(base + "/api/facets", timeout=60).json()
        print(f"store: {facets['articles']} articles, {facets['stories']} stories; warming story caches", flush=True)
        with httpx.Client(base_url=base, timeout=60) as warm:  # the first view of a story computes its timeline
            for sid in ids[:50]:
                warm.get(f"/stories/{sid}")
        kinds = {
            "front": lambda rnd: "/",
            "story": lambda rnd: f"/stories/{rnd.choice(ids[:50])}",
            "stories_api": lambda rnd: f"/api/stories?sort={rnd.choice(['latest', 'articles', 'growing'])}&limit=20",
        }
        latencies = {k: [] for k in kinds}
        errors = {k: 0 for k in kinds}
        posts = {"ok": 0, "errors": 0}
        stop = time.monotonic() + args.seconds
        lock = threading.Lock()

        def reader(seed: int) -> None:
            rnd = random.Random(seed)
            with httpx.Client(base_url=base, timeout=30) as client:
                while time.monotonic() < stop:
                    kind = rnd.choice(list(kinds))
                    t0 = time.perf_counter()
                    try:
                        ok = client.get(kinds[kind](rnd)).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    took = time.perf_counter() - t0
                    with lock:
                        latencies[kind].append(took)
                        errors[kind] += not ok

        def writer() -> None:
            n = 0
            with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
                while time.monotonic() < stop:
                    n += 1
                    body = {"articles": [{"text": f"Bench update {n}: officials in the port city said on Friday that "
                                                  f"repairs to quay {n} would take several weeks, and shipping resumed.",
                                          "title": f"Bench update {n}", "source": "Bench Wire",
                                          "published": "2020-01-17"}]}
                    try:
                        ok = client.post("/api/articles", json=body).status_code == 202
                    except httpx.HTTPError:
                        ok = False
                    posts["ok" if ok else "errors"] += 1
                    time.sleep(max(0.0, min(args.post_every, stop - time.monotonic())))

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.clients)]
        threads.append(threading.Thread(target=writer))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        every = [x for v in latencies.values() for x in v]
        result = {"clients": args.clients, "seconds": args.seconds, "requests": len(every),
                  "requests_per_s": round(len(every) / args.seconds, 1),
                  "p50_ms": round(1000 * statistics.median(every), 1),
                  "p99_ms": round(1000 * statistics.quantiles(every, n=100)[98], 1),
                  "errors": sum(errors.values()), "posts": posts}
        for kind, values in latencies.items():
            if len(values) > 2:
                result[kind] = {"requests": len(values), "p50_ms": round(1000 * statistics.median(values), 1),
                                "p99_ms": round(1000 * statistics.quantiles(values, n=100)[98], 1), "errors": errors[kind]}
        print(json.dumps(result, indent=1))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
