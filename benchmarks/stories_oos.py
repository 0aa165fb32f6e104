"""Out-of-sample story figures: leave-one-set-out for the story-link threshold.

    .venv/bin/python benchmarks/stories_oos.py --stores /tmp/slq [--grid 0.16,0.18,...] [--json]

The story threshold is the one number the story decision fits. For each labelled set held out, the
threshold is chosen (best mean BCubed F1 on a grid) on the OTHER sets only, and the held-out set's
figure at that threshold is reported; the shipped default is then chosen on all of them and says so.
The event model is fitted on DUC 2004 only (``stories.fit``), so its figures on the other sets are out
of sample by construction; DUC's own event figure comes from ``storyline eval stories --folds 5``.

Sets are enriched once through the real pipeline into ``--stores`` (see ``stories_quality.py``) and
re-placed per threshold with ``StoryPlacer``, exactly as ``Pipeline.place`` orders them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories_quality import EVAL, SETS, _place_store  # noqa: E402

from storyline.stories.linking import PlacementConfig  # noqa: E402

STORY_SETS = ("duc-story", "timeline17", "ml7", "wikiref")
GRID = (0.16, 0.18, 0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.32)


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
    for name in STORY_SETS:
        db = stores / f"{name}.db"
        if not db.exists():
            script = Path(__file__).resolve().parent / "stories_quality.py"
            subprocess.run([sys.executable, str(script), "--stores", str(stores), "--enrich-one", name], check=True)
        scores[name] = {}
        for t in grid:
            result = _place_store(name, db, PlacementConfig(story_threshold=t))
            scores[name][t] = result["bcubed_f1"]
            print(f"  {name:11s} story_threshold={t:.2f} F1={result['bcubed_f1']:.3f}", file=sys.stderr, flush=True)
    out = {"grid": grid, "in_sample": scores, "held_out": {}}
    for held in STORY_SETS:
        others = [s for s in STORY_SETS if s != held]
        chosen = max(grid, key=lambda t: (sum(scores[s][t] for s in others) / len(others), -abs(t - 0.24)))
        out["held_out"][held] = {"threshold_chosen_on_others": chosen, "bcubed_f1": scores[held][chosen]}
    out["held_out_mean_f1"] = round(sum(v["bcubed_f1"] for v in out["held_out"].values()) / len(STORY_SETS), 4)
    out["default_on_all_sets"] = max(grid, key=lambda t: sum(scores[s][t] for s in STORY_SETS))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for held, v in out["held_out"].items():
            print(f"{held:11s} threshold {v['threshold_chosen_on_others']:.2f} (chosen on the other sets) "
                  f"held-out F1 {v['bcubed_f1']:.3f}")
        print(f"mean held-out F1 {out['held_out_mean_f1']:.3f}; best on all sets: {out['default_on_all_sets']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
