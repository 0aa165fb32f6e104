"""Print the tell stage's quality figures as JSON (a thin caller of ``storyline.evaluation.tell``).

    .venv/bin/python benchmarks/tell_eval.py timelines [--limit N] [--topics a,b] [--folds K] [--details] [--stores DIR]
    .venv/bin/python benchmarks/tell_eval.py crisis-timelines [--folds K] [--details] [--stores DIR]   # Spanish
    .venv/bin/python benchmarks/tell_eval.py summaries FILE.jsonl [--limit N] [--language en] [--fit-on F] [--details]

Data default: ../shared/eval relative to the repository root (research copies, never in the repo).
Each topic is tracked through the pipeline; the built story's timeline or summary is scored, with the
gold topic's (``oracle_story``) beside it. Needs the eval extra (pip install -e '.[eval]').
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from storyline.evaluation import tell


def main() -> int:
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "eval"))
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["timelines", "crisis-timelines", "summaries"])
    ap.add_argument("path", nargs="?")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--topics")
    ap.add_argument("--language", default="en")
    ap.add_argument("--max-words", type=int)
    ap.add_argument("--details", action="store_true")
    ap.add_argument("--folds", type=int, help="timelines: leave-topics-out folds (4 = one topic each)")
    ap.add_argument("--stores", help="folder keeping the enriched stores between runs (made when missing)")
    ap.add_argument("--fit-on", help="summaries: choose the weights on this other cluster file")
    args = ap.parse_args()
    started = time.perf_counter()
    if args.what in ("timelines", "crisis-timelines"):
        # crisis-timelines: ML-Crisis's four Spanish timelines, scored with the weights shipped from Timeline17
        # (out of sample), or with --folds 4 choosing them on the other crises
        path = args.path or os.path.join(root, "timeline17" if args.what == "timelines" else "crisis_es_timelines")
        if not os.path.isdir(path):
            print(f"skipped: {path} not found (research data lives in ../shared/eval)", file=sys.stderr)
            return 0
        topics = args.topics.split(",") if args.topics else None
        out = tell.evaluate_timelines(path, topics=topics, limit=args.limit, details=args.details, folds=args.folds,
                                      stores=args.stores)
    else:
        path = args.path or os.path.join(root, "duc2007_update_clusters.jsonl")
        if not os.path.isfile(path):
            print(f"skipped: {path} not found (research data lives in ../shared/eval)", file=sys.stderr)
            return 0
        out = tell.evaluate_summaries(path, language=args.language or None, max_words=args.max_words,
                                      limit=args.limit, details=args.details, fit_on=args.fit_on, stores=args.stores)
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
