"""Arrival order: the same articles placed in one run in date order, in daily deliveries, and shuffled within
each week (deliveries of 1-4 articles), each through ``Pipeline.place``; BCubed F1 of each against the one run.

    python benchmarks/arrival_order.py                 # the examples and DUC 2004 (from ../shared/eval)
    python benchmarks/arrival_order.py --sets examples

Prints the agreement per level and the CPU seconds it took. Enriched stores are kept under --work between runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from storyline.evaluation.arrival import agreement
from storyline.evaluation.data import load_cluster_documents
from storyline.evaluation.product import EnrichedSet, open_enriched
from storyline.pipeline import Pipeline
from storyline.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _examples(work: Path) -> EnrichedSet:
    path = work / "examples-enriched.db"
    stored = Path(f"{path}.stored.json")
    if not stored.exists():
        with Store(path) as store:
            pipeline = Pipeline(store)
            report = pipeline.ingest([str(ROOT / "examples")])
            pipeline.enrich()
        stored.write_text(json.dumps(report.stored), encoding="utf-8")
    return EnrichedSet("examples", path, json.loads(stored.read_text(encoding="utf-8")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["examples", "duc"], choices=["examples", "duc"])
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "storyline-arrival")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for name in args.sets:
        if name == "examples":
            enriched = _examples(args.work)
        else:
            documents, _ = load_cluster_documents(args.eval / "duc2004_clusters.jsonl")
            enriched = open_enriched("duc2004", documents, args.work / "duc2004-enriched.db")
        start = time.process_time()
        result = agreement(enriched, args.work)
        cpu = time.process_time() - start
        for order, levels in result.items():
            figures = "  ".join(f"{level} {f1:.4f}" for level, f1 in levels.items())
            print(f"{name:9s} {order:24s} vs one run: {figures}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{name:9s} placement CPU {cpu:.1f} s for {len(result) + 1} orders; peak memory {peak:.0f} MB; load {open('/proc/loadavg').read().split()[0]}")


if __name__ == "__main__":
    main()
