"""Quality of event/story placement and pair similarity on the labelled sets in ../shared/eval.

    .venv/bin/python benchmarks/stories_quality.py [--only duc,ml3] [--cache /tmp/storyline-emb] [--json]

Prints BCubed P/R/F1 per set (and Pearson for SemEval pairs). Embeddings can be cached between runs
with ``--cache``; the data is read in place and never copied.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from storyline.stories.evaluate import evaluate_clusters, evaluate_pairs

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
SETS = {
    "duc": ("duc2004_clusters.jsonl", "event", False, None),
    "duc-degraded": ("duc2004_clusters.jsonl", "event", True, None),
    "ml3": ("multiling2011_clusters.jsonl", "story", False, ["ar", "en", "fr"]),
    "ml7": ("multiling2011_clusters.jsonl", "story", False, None),
    "timeline17": ("timeline17_storylines.jsonl", "story", False, None),
    "wikiref": ("wikiref220.jsonl", "story", False, None),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join([*SETS, "semeval"]))
    parser.add_argument("--cache", default=None, help="folder to cache embeddings in")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}; nothing to measure", file=sys.stderr)
        return 0
    wanted = [s for s in args.only.split(",") if s] or [*SETS, "semeval"]
    results = []
    for name in wanted:
        if name == "semeval":
            r = evaluate_pairs(EVAL / "semeval2022_pairs_dev.csv", cache_dir=args.cache)
            r["set"] = name
        else:
            file, level, degraded, languages = SETS[name]
            r = evaluate_clusters(EVAL / file, level=level, degrade=degraded, languages=languages, cache_dir=args.cache)
            r["set"] = name
        results.append(r)
        if not args.json:
            if name == "semeval":
                print(f"{name:13s} pairs={r['pairs']} pearson={r['pearson']:.3f}", flush=True)
            else:
                print(f"{name:13s} {r['level']:5s} n={r['articles']:4d} gold={r['gold_clusters']:3d} "
                      f"pred={r['clusters']:3d} P={r['bcubed_precision']:.3f} R={r['bcubed_recall']:.3f} "
                      f"F1={r['bcubed_f1']:.3f} {r['articles_per_second']:.0f} art/s", flush=True)  # fmt: skip
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
