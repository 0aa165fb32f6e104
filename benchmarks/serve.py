"""Serving under load: 8 clients on the front page, story and thread pages (first visits included), search, the
API and similar articles, with a real article POSTed every second.

    python benchmarks/serve.py [--articles 10000] [--seconds 60] [--clients 8] [--db out/bench-serve-N.db]

Builds (once, cached at --db) a store of N distinct real articles through the real pipeline (``track``'s
steps: ingest, enrich, place, tell): the corpus of ``benchmarks/track.py`` (DUC 2007, MultiLing 2011
English and Timeline17 from ``../shared/eval``, then retold re-dated variants, and DUC 2004's 500 as the
last), so the store has many real stories, sources and near-duplicates. The POSTed articles are further
retold variants, new to the store. Then starts ``storyline serve`` on 127.0.0.1 in a subprocess and for
--seconds runs --clients concurrent readers (bounded; loopback only), each picking a kind of request at
random: the front page, a story page or its API answer (any story, so most are first visits), a thread page
or its API answer, an article page or its API answer, similar articles, search (page and API) for a word of
a stored title, the stories listing; while one writer POSTs an article every --post-every seconds. With
--rate the readers together offer that many requests a second (Poisson arrivals); without it each reader
asks again as soon as it is answered, which saturates the server, so latency is then its queue. Prints
requests/s, p50/p99 latency and errors per kind and overall, the peak memory of the server's whole process
tree (web process and its write worker; PSS, so pages they share count once; sampled every second) and
the machine's load average: take figures on a quiet machine only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

# rounds of the examples are dated 45 days apart, past today for the later ones: ingest must judge their dates
# against a later "now" (a date past it is untrusted)
os.environ.setdefault("STORYLINE_INGEST_TIME", "2100-01-01T00:00:00+00:00")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from proctree import tree_memory  # noqa: E402 - benchmarks/proctree.py
from track import corpus  # noqa: E402 - benchmarks/track.py: the same corpus as the speed profile


def articles(n: int, posts: int) -> tuple[list[dict], list[dict]]:
    """(the N stored rows, ``posts`` further distinct rows to POST) from ``track.corpus``."""
    rest, probe = corpus(n + posts)
    stored = rest[: n - len(probe)] + probe
    return stored, rest[n - len(probe):]


def build(db: Path, rows: list[dict]) -> None:
    from storyline.model import Document
    from storyline.pipeline import Pipeline
    from storyline.store import Store

    docs = [Document(text=r["text"], origin=f"bench:{r['id']}", title=r.get("title"), source=r.get("source"),
                     published=r.get("published"), source_id=r["id"]) for r in rows]
    started = time.perf_counter()
    with Store(db) as store:
        pipeline = Pipeline(store)
        pipeline.ingest_documents(docs)
        pipeline.enrich()
        pipeline.place()
        pipeline.tell()
    print(f"built {db}: {len(rows)} articles in {time.perf_counter() - started:.0f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--post-every", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=0.0,
                    help="requests/s offered by all readers together, Poisson arrivals (0: each reader sends its next "
                         "request as soon as the last is answered, which saturates the server and measures its queue)")
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    args.clients = max(1, min(args.clients, 32))  # bounded
    args.seconds = max(1.0, min(args.seconds, 600.0))
    db = args.db or ROOT / "out" / f"bench-serve-{args.articles}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    stored, to_post = articles(args.articles, int(args.seconds / max(args.post_every, 0.1)) + 10)
    if not db.exists():
        build(db, stored)
    words = sorted({w for r in stored if r.get("title") for w in re.findall(r"[A-Za-z]{5,}", r["title"])})

    port, token = free_port(), "bench-token"
    env = {**os.environ, "STORYLINE_TOKEN": token, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-m", "storyline", "serve", "--db", str(db), "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/facets", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        facets = httpx.get(base + "/api/facets", timeout=60).json()
        story_ids = [s["id"] for s in httpx.get(base + "/api/stories", params={"sort": "articles", "limit": 200},
                                                timeout=60).json()["items"]]
        story_ids += [s["id"] for s in httpx.get(base + "/api/stories", params={"sort": "latest", "limit": 200},
                                                 timeout=60).json()["items"]]
        article_ids = [a["id"] for a in httpx.get(base + "/api/articles", params={"limit": 200, "offset": 0},
                                                  timeout=60).json()["items"]]
        thread_ids = [t["id"] for t in httpx.get(base + "/api/threads", params={"limit": 200}, timeout=60).json()["items"]]
        print(f"store: {facets['articles']} articles, {facets['stories']} stories; load average "
              f"{open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} cores; no warm-up", flush=True)
        kinds = {
            "front": lambda rnd: "/",
            "story_page": lambda rnd: f"/stories/{rnd.choice(story_ids)}",
            "story_api": lambda rnd: f"/api/stories/{rnd.choice(story_ids)}",
            "stories_api": lambda rnd: f"/api/stories?sort={rnd.choice(['latest', 'articles', 'growing'])}&limit=20",
            "thread_page": lambda rnd: f"/threads/{rnd.choice(thread_ids)}",
            "thread_api": lambda rnd: f"/api/threads/{rnd.choice(thread_ids)}",
            "article_page": lambda rnd: f"/articles/{rnd.choice(article_ids)}",
            "article_api": lambda rnd: f"/api/articles/{rnd.choice(article_ids)}",
            "similar_api": lambda rnd: f"/api/articles/{rnd.choice(article_ids)}/similar",
            "search_page": lambda rnd: f"/search?q={rnd.choice(words)}",
            "search_api": lambda rnd: f"/api/search?q={rnd.choice(words)}",
        }
        latencies: dict[str, list[float]] = {k: [] for k in kinds}
        timeline: list[tuple[float, float, str]] = []
        errors = {k: 0 for k in kinds}
        posts = {"ok": 0, "errors": 0}
        stop = time.monotonic() + args.seconds
        lock = threading.Lock()

        def reader(seed: int) -> None:
            rnd = random.Random(seed)
            with httpx.Client(base_url=base, timeout=60) as client:
                while time.monotonic() < stop:
                    if args.rate > 0:  # each reader offers rate / clients requests a second
                        time.sleep(rnd.expovariate(args.rate / args.clients))
                    kind = rnd.choice(list(kinds))
                    t0 = time.perf_counter()
                    try:
                        ok = client.get(kinds[kind](rnd)).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    took = time.perf_counter() - t0
                    with lock:
                        latencies[kind].append(took)
                        timeline.append((t0, took, kind))
                        errors[kind] += not ok

        def writer() -> None:
            queue = list(to_post)
            with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
                while time.monotonic() < stop and queue:
                    row = queue.pop(0)
                    body = {"articles": [{"text": row["text"], "title": row.get("title"), "source": row.get("source"),
                                          "published": row.get("published")}]}
                    try:
                        ok = client.post("/api/articles", json=body).status_code == 202
                    except httpx.HTTPError:
                        ok = False
                    posts["ok" if ok else "errors"] += 1
                    time.sleep(max(0.0, min(args.post_every, stop - time.monotonic())))

        peak = [tree_memory(server.pid)]

        def sampler() -> None:
            while time.monotonic() < stop:
                peak[0] = max(peak[0], tree_memory(server.pid))
                time.sleep(1.0)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.clients)]
        threads += [threading.Thread(target=writer), threading.Thread(target=sampler)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        every = [x for v in latencies.values() for x in v]
        result = {"clients": args.clients, "seconds": args.seconds, "offered_rate": args.rate or "saturating",
                  "requests": len(every),
                  "requests_per_s": round(len(every) / args.seconds, 1),
                  "p50_ms": round(1000 * statistics.median(every), 1),
                  "p99_ms": round(1000 * statistics.quantiles(every, n=100)[98], 1),
                  "errors": sum(errors.values()), "posts": posts, "server_peak_mb": round(peak[0] / 2**20),
                  "load_average_after": open("/proc/loadavg").read().split()[0]}
        for kind, values in latencies.items():
            if len(values) > 2:
                result[kind] = {"requests": len(values), "p50_ms": round(1000 * statistics.median(values), 1),
                                "p99_ms": round(1000 * statistics.quantiles(values, n=100)[98], 1), "errors": errors[kind]}
        if timeline:  # when the slowest hundredth came, per 10 s: a tail only at the start is the server warming
            first = min(t for t, _, _ in timeline)
            slow = sorted(timeline, key=lambda r: -r[1])[: max(1, len(timeline) // 100)]
            bins = sorted(Counter(int((t - first) // 10) * 10 for t, _, _ in slow).items())
            result["slowest_1pct_per_10s"] = {f"{b}-{b + 10}s": n for b, n in bins}
        print(json.dumps(result, indent=1))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
