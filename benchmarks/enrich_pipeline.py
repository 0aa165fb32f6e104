"""Pipeline.enrich end to end, one process vs. the overlapped helper process: articles/s, peak memory.

    python benchmarks/enrich_pipeline.py [--n 500] [--workers 1 2] [--source duc2004|wikinews]

Articles are ingested into a fresh store (not timed), then ``Pipeline.enrich`` runs (timed, model
loading included, as a user sees it). A digest of the results shows both modes give identical output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import tempfile
import time
from pathlib import Path

from storyline.pipeline import Pipeline, PipelineConfig
from storyline.store import Store

ROOT = Path(__file__).resolve().parents[1]
DUC = ROOT.parent / "shared" / "eval" / "duc2004_clusters.jsonl"


def documents(source: str, n: int):
    if source == "duc2004":
        if not DUC.exists():
            raise SystemExit(f"skipped: {DUC} not found (research data lives in ../shared/eval)")
        from storyline.evaluation.data import load_cluster_documents

        return load_cluster_documents(DUC)[0][:n]
    from storyline.ingest import read_sources

    return list(read_sources([ROOT / "examples" / "wikinews" / "wikinews_en.jsonl"]))[:n]


def run(docs, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
        pipeline = Pipeline(store, PipelineConfig(workers=workers, parallel_from=1))
        pipeline.ingest_documents(docs)
        started, cpu = time.perf_counter(), time.process_time()
        count = pipeline.enrich()
        wall = time.perf_counter() - started
        digest = hashlib.sha1()
        for a in store.articles():
            digest.update(json.dumps([a.restored_text, [(e.canonical, e.start) for e in a.entities],
                                      [(d.resolved, d.start) for d in a.dates]]).encode())
            digest.update(a.embedding.tobytes())
    return {"workers": workers, "articles": count, "seconds": round(wall, 1),
            "articles_per_second": round(count / wall, 1), "main_process_cpu_seconds": round(time.process_time() - cpu, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "digest": digest.hexdigest()[:16]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--source", choices=["duc2004", "wikinews"], default="duc2004")
    args = parser.parse_args()
    docs = documents(args.source, args.n)
    for workers in args.workers:
        print(json.dumps(run(docs, workers)), flush=True)


if __name__ == "__main__":
    main()
