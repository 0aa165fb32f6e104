"""Quality of event/story placement and pair similarity on the labelled sets in ../shared/eval.

    .venv/bin/python benchmarks/stories_quality.py [--only duc,ml3] [--cache /tmp/storyline-emb] [--json]
    .venv/bin/python benchmarks/stories_quality.py --stores /tmp/slq [--only ...] [--set key=value ...]

Prints BCubed P/R/F1 per set (and Pearson for SemEval pairs). Without ``--stores`` the articles take
the direct path (clean, embed, place: no restoration, no entities); embeddings can be cached between
runs with ``--cache``. With ``--stores DIR`` each set is enriched ONCE through the real pipeline
(ingest, clean, restore, entities, dates, embeddings) into ``DIR/<set>.db``, then every run only
re-places those articles in pipeline order, so placement can be iterated on in seconds with the
figures ``storyline eval stories`` gives (``--set event_threshold=0.3`` overrides PlacementConfig).
Each store is enriched in a fresh process: restoration keeps what it learnt within a process, so a
degraded set enriched after its clean twin would borrow the clean casing.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

from storyline.stories.evaluate import (
    bcubed,
    evaluate_clusters,
    evaluate_pairs,
    load_cluster_documents,
)

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
SETS = {
    "duc": ("duc2004_clusters.jsonl", "event", False, None),
    "duc-degraded": ("duc2004_clusters.jsonl", "event", True, None),
    "duc-story": ("duc2004_clusters.jsonl", "story", False, None),  # 50 distinct topics: story over-merging
    "ml3": ("multiling2011_clusters.jsonl", "story", False, ["ar", "en", "fr"]),
    "ml7": ("multiling2011_clusters.jsonl", "story", False, None),
    "timeline17": ("timeline17_storylines.jsonl", "story", False, None),
    "wikiref": ("wikiref220.jsonl", "story", False, None),
    "crisis": ("crisis_es_threads.jsonl", "thread", False, None),  # scored by threads_oos.py
}


def _enrich(name: str, db: Path) -> None:
    """Ingest and enrich one set into ``db`` (run in its own process; see the module docstring)."""
    from storyline.pipeline import Pipeline
    from storyline.store import Store

    file, _, degraded, languages = SETS[name]
    documents, _ = load_cluster_documents(EVAL / file, degrade_text=degraded, languages=languages)
    with Store(db) as store:
        pipeline = Pipeline(store)
        pipeline.ingest_documents(documents)
        pipeline.enrich()


def _place_store(name: str, db: Path, config) -> dict:
    """Re-place a stored, enriched set the way ``Pipeline.place`` orders it, and score it like the CLI."""
    from storyline.normalize.clean import clean
    from storyline.pipeline import PipelineConfig
    from storyline.store import Store
    from storyline.stories.placement import StoryPlacer

    file, level, degraded, languages = SETS[name]
    documents, gold = load_cluster_documents(EVAL / file, degrade_text=degraded, languages=languages)
    with Store(db) as store:
        articles = list(store.articles())  # rowid order; the sort below is stable, as ready_to_place
    articles.sort(key=lambda a: (a.published is None, str(a.published or "")))
    by_hash = {a.content_hash: a.id for a in articles}
    ids = {a.id for a in articles}
    now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    stored: dict[str, str] = {}  # origin -> stored article id (a re-post maps to the copy kept)
    for document in documents:
        probe = clean(document, now=now)
        found = probe.id if probe.id in ids else by_hash.get(probe.content_hash)
        if found is not None:
            stored[document.origin] = found
    wanted = set(stored.values())  # a store may hold more (ml3 placed from an ml7 store)
    articles = [a for a in articles if a.id in wanted]
    placer = StoryPlacer(config)
    start = time.perf_counter()
    ids_of: dict[str, tuple[str, str]] = {}  # article id -> (event id, story id) as placed
    batch_size = PipelineConfig().batch_size  # the pipeline places (and refines) in batches of this size
    for i in range(0, len(articles), batch_size):
        batch = [copy.copy(a) for a in articles[i : i + batch_size]]
        placer.place_batch(batch)
        ids_of.update((a.id, (a.event_id, a.story_id)) for a in batch)
    for article_id, ids in placer.moved().items():
        ids_of[article_id] = ids
    seconds = time.perf_counter() - start
    result = {"set": name, "level": level, "articles": len(gold), "gold_clusters": len(set(gold.values()))}
    for which, lv in enumerate(("event", "story")):
        pred = {origin: placer.resolve(ids_of[article_id][which]) for origin, article_id in stored.items()}
        p, r, f = bcubed(pred, gold)
        result[lv] = {"clusters": len(set(pred.values())), "bcubed_precision": round(p, 4),
                      "bcubed_recall": round(r, 4), "bcubed_f1": round(f, 4)}  # fmt: skip
    result.update(result[level])
    result["articles_per_second"] = round(len(articles) / seconds, 1) if seconds > 0 else None
    return result


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join([*SETS, "semeval"]))
    parser.add_argument("--cache", default=None, help="folder to cache embeddings in (direct path)")
    parser.add_argument("--stores", default=None, help="folder of enriched stores (made once when missing)")
    parser.add_argument("--set", action="append", default=[], help="PlacementConfig override, key=value")
    parser.add_argument("--enrich-one", default=None, help=argparse.SUPPRESS)  # internal: child process
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}; nothing to measure", file=sys.stderr)
        return 0
    if args.enrich_one:
        _enrich(args.enrich_one, Path(args.stores) / f"{args.enrich_one}.db")
        return 0
    from storyline.stories.linking import PlacementConfig

    config = PlacementConfig(**{k: _value(v) for k, v in (item.split("=", 1) for item in args.set)})
    wanted = [s for s in args.only.split(",") if s] or [*SETS, "semeval"]
    results = []
    for name in wanted:
        if name == "semeval":
            r = evaluate_pairs(EVAL / "semeval2022_pairs_dev.csv", cache_dir=args.cache)
            r["set"] = name
        elif args.stores:
            stores = Path(args.stores)
            stores.mkdir(parents=True, exist_ok=True)
            db = stores / f"{name}.db"
            if not db.exists():
                subprocess.run([sys.executable, __file__, "--stores", str(stores), "--enrich-one", name], check=True)
            r = _place_store(name, db, config)
        else:
            file, level, degraded, languages = SETS[name]
            r = evaluate_clusters(EVAL / file, level=level, degrade=degraded, languages=languages,
                                  cache_dir=args.cache, config=config)  # fmt: skip
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
