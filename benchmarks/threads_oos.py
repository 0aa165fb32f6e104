"""Out-of-sample thread figures: leave-one-set-out for the thread threshold, on the product path.

    .venv/bin/python benchmarks/threads_oos.py --stores /tmp/slq [--grid 0.2,0.25,...] [--json]

The thread threshold (``ThreadConfig.threshold``) is the one number the thread decision fits. The sets
scored at the thread level are those whose gold clusters are long-running coverage of one situation:
Timeline17's four storylines, ML-Crisis's four Spanish crises, and MultiLing's ten events in 7 languages
(fixed before scoring; see the README). Each set is enriched once through the pipeline into ``--stores``
and placed once with ``Pipeline.place`` on a copy (events, stories and the shipped threads, exactly as
``track``); the story records each placement batch handed the thread linker are kept
(``Pipeline.story_changes``) and replayed through a fresh ``ThreadLinker`` per grid value, which is the
thread level that run would have formed with that value (placement never reads threads). For each set
held out, the threshold is chosen on the other two and the held-out figure at it is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories_quality import EVAL, SETS  # noqa: E402

from storyline.normalize.clean import EmptyArticle, clean  # noqa: E402
from storyline.stories.evaluate import bcubed, load_cluster_documents  # noqa: E402
from storyline.stories.threads import ThreadConfig, replay_threads  # noqa: E402

THREAD_SETS = ("timeline17", "crisis", "ml7")
GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def placed_set(name: str, db: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str], list[list]]:
    """Place an enriched set on a copy of its store; (origin -> story id, origin -> shipped thread id,
    gold, the story records each batch gave the linker)."""
    from storyline.pipeline import Pipeline
    from storyline.store import Store

    file, _, degraded, languages = SETS[name]
    documents, gold = load_cluster_documents(EVAL / file, degrade_text=degraded, languages=languages)
    with tempfile.TemporaryDirectory(prefix="storyline-threads-") as tmp:
        copy = Path(tmp) / "placed.db"
        shutil.copyfile(db, copy)
        with Store(copy) as store:
            pipeline = Pipeline(store)
            pipeline.story_changes = []
            pipeline.place()
            articles = {a.id: a for a in store.articles()}
            by_hash = {a.content_hash: a.id for a in articles.values()}
            now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
            story_of, thread_of = {}, {}
            for document in documents:
                try:
                    probe = clean(document, now=now)
                except EmptyArticle:
                    continue
                key = probe.id if probe.id in articles else by_hash.get(probe.content_hash)
                if key is None or not articles[key].story_id:
                    continue
                story = store.get_story(articles[key].story_id)
                story_of[document.origin] = story.id
                thread_of[document.origin] = store.get_thread(story.thread_id).id if story.thread_id else story.id
            return story_of, thread_of, gold, pipeline.story_changes


def thread_f1(story_of: dict[str, str], gold: dict[str, str], batches: list[list], threshold: float) -> float:
    threads = replay_threads(batches, ThreadConfig(threshold=threshold))
    return bcubed({o: threads.get(s, s) for o, s in story_of.items()}, gold)[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", required=True, help="folder of enriched stores (made once when missing)")
    parser.add_argument("--grid", default=",".join(map(str, GRID)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}; nothing to measure", file=sys.stderr)
        return 0
    grid = [float(x) for x in args.grid.split(",")]
    stores = Path(args.stores)
    stores.mkdir(parents=True, exist_ok=True)
    scores: dict[str, dict[float, float]] = {}
    shipped: dict[str, dict[str, float]] = {}
    for name in THREAD_SETS:
        db = stores / f"{name}.db"
        if not db.exists():
            script = Path(__file__).resolve().parent / "stories_quality.py"
            subprocess.run([sys.executable, str(script), "--stores", str(stores), "--enrich-one", name], check=True)
        story_of, thread_of, gold, batches = placed_set(name, db)
        shipped[name] = {"story_f1": round(bcubed(story_of, gold)[2], 4),
                         "thread_f1_shipped": round(bcubed(thread_of, gold)[2], 4)}  # fmt: skip
        scores[name] = {t: round(thread_f1(story_of, gold, batches, t), 4) for t in grid}
        print(f"  {name:10s} {shipped[name]} " + " ".join(f"{t}:{f:.3f}" for t, f in scores[name].items()),
              file=sys.stderr, flush=True)
    out = {"grid": grid, "procedure": "leave one set out over " + ", ".join(THREAD_SETS), "shipped": shipped,
           "in_sample": scores, "held_out": {}}  # fmt: skip
    for held in THREAD_SETS:
        others = [s for s in THREAD_SETS if s != held]
        chosen = max(grid, key=lambda t: (sum(scores[s][t] for s in others), -t))
        out["held_out"][held] = {"threshold_chosen_on_others": chosen, "bcubed_f1": scores[held][chosen]}
    out["held_out_mean_f1"] = round(sum(v["bcubed_f1"] for v in out["held_out"].values()) / len(THREAD_SETS), 4)
    out["best_on_all_sets"] = max(grid, key=lambda t: (sum(scores[s][t] for s in THREAD_SETS), -t))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for held, v in out["held_out"].items():
            print(f"{held:10s} threshold {v['threshold_chosen_on_others']:.2f} (chosen on the other sets) "
                  f"held-out thread F1 {v['bcubed_f1']:.3f}; story F1 {shipped[held]['story_f1']:.3f}")
        print(f"mean held-out F1 {out['held_out_mean_f1']:.3f}; best on all sets: {out['best_on_all_sets']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
