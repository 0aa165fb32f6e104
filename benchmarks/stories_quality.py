"""Quality of event/story placement and pair similarity on the labelled sets in ../shared/eval.

    .venv/bin/python benchmarks/stories_quality.py [--only duc,ml3] [--stores /tmp/slq] [--set key=value ...] [--json]

A thin caller of ``storyline.evaluation``: each set is enriched ONCE through the pipeline into
``--stores DIR/<set>.db`` (kept between runs; a temporary folder without it), then placed with
``Pipeline.place`` on a copy, so placement can be iterated on in seconds with the figures
``storyline eval stories`` gives (``--set event_threshold=0.3`` overrides PlacementConfig).
Each store is enriched in a fresh process: restoration keeps what it learnt within a process, so a
degraded set enriched after its clean twin would borrow the clean casing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from storyline.evaluation.data import load_cluster_documents
from storyline.evaluation.pairs import evaluate_pairs
from storyline.evaluation.product import EnrichedSet, open_enriched
from storyline.evaluation.stories import evaluate_clusters

EVAL = Path(os.environ.get("STORYLINE_EVAL") or Path(__file__).resolve().parents[1].parent / "shared" / "eval")
SETS = {  # name: (file, level reported, degraded, languages)
    "duc": ("duc2004_clusters.jsonl", "event", False, None),
    "duc-degraded": ("duc2004_clusters.jsonl", "event", True, None),
    "duc-story": ("duc2004_clusters.jsonl", "story", False, None),  # 50 distinct topics: story over-merging
    "ml3": ("multiling2011_clusters.jsonl", "story", False, ["ar", "en", "fr"]),
    "ml7": ("multiling2011_clusters.jsonl", "story", False, None),
    "timeline17": ("timeline17_storylines.jsonl", "story", False, None),
    "wikiref": ("wikiref220.jsonl", "story", False, None),
    "crisis": ("crisis_es_threads.jsonl", "thread", False, None),  # scored by threads_oos.py
}
STORE_OF = {"duc-story": "duc", "ml3": "ml7"}  # sets placed from another set's store (a subset, or the same)


def _open(store: str, stores: Path) -> EnrichedSet:
    file, _, degraded, languages = SETS[store]
    documents, _ = load_cluster_documents(EVAL / file, degrade_text=degraded, languages=languages)
    return open_enriched(store, documents, stores / f"{store}.db")


def enriched(name: str, stores: Path) -> EnrichedSet:
    """The set's enriched store under ``stores``, made in a child process when missing."""
    store = STORE_OF.get(name, name)
    if not (stores / f"{store}.db").exists():
        subprocess.run([sys.executable, __file__, "--stores", str(stores), "--enrich-one", store], check=True)
    return _open(store, stores)


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join([*SETS, "semeval"]))
    parser.add_argument("--stores", default=None, help="folder of enriched stores (made once when missing)")
    parser.add_argument("--set", action="append", default=[], help="PlacementConfig override, key=value")
    parser.add_argument("--enrich-one", default=None, help=argparse.SUPPRESS)  # internal: child process
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}; nothing to measure", file=sys.stderr)
        return 0
    if args.enrich_one:
        _open(args.enrich_one, Path(args.stores))
        return 0
    from storyline.stories.linking import PlacementConfig

    config = PlacementConfig(**{k: _value(v) for k, v in (item.split("=", 1) for item in args.set)})
    wanted = [s for s in args.only.split(",") if s] or [*SETS, "semeval"]
    results = []
    with tempfile.TemporaryDirectory(prefix="storyline-stores-") as tmp:
        stores = Path(args.stores or tmp)
        stores.mkdir(parents=True, exist_ok=True)
        for name in wanted:
            if name == "semeval":
                r = evaluate_pairs(EVAL / "semeval2022_pairs_dev.csv")
            else:
                file, level, degraded, languages = SETS[name]
                r = evaluate_clusters(EVAL / file, level=level, degrade=degraded, languages=languages, config=config,
                                      enriched=enriched(name, stores))
            r["set"] = name
            results.append(r)
            if not args.json:
                if name == "semeval":
                    print(f"{name:13s} pairs={r['pairs']} pearson={r['pearson']:.3f}", flush=True)
                else:
                    print(f"{name:13s} {r['level']:5s} n={r['articles']:4d} gold={r['gold_clusters']:3d} "
                          f"pred={r['clusters']:3d} P={r['bcubed_precision']:.3f} R={r['bcubed_recall']:.3f} "
                          f"F1={r['bcubed_f1']:.3f} (in sample: {r['fitted_on']['in_sample']})", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
