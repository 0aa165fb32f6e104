"""Out-of-sample story figures: leave-one-set-out for the placement fields fitted across sets.

    .venv/bin/python benchmarks/stories_oos.py [--stores /tmp/slq] [--grid story_threshold=0.16,0.2,...] [--json]

A thin caller of ``storyline.evaluation.stories.leave_one_set_out``: for each labelled set held out,
the grid values are chosen (best mean BCubed F1) on the OTHER sets only, and the held-out set's figure
at those values is reported; MultiLing ar+en+fr is scored at the values chosen without MultiLing.
The event model is fitted on DUC 2004 only, so its figures on the other sets are out of sample by
construction; DUC's own event figure comes from ``storyline eval stories --folds 5``. Sets are
enriched once through the pipeline (``stories_quality.py --stores``) and placed with ``Pipeline.place``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories_quality import EVAL, SETS, enriched  # noqa: E402

from storyline.evaluation.data import load_cluster_documents  # noqa: E402
from storyline.evaluation.stories import leave_one_set_out  # noqa: E402

STORY_SETS = ("duc-story", "ml7", "wikiref")  # Timeline17 is scored at the thread level (threads_oos.py)
GRID = {"story_threshold": (0.16, 0.20, 0.24, 0.28, 0.32)}


def _gold(name: str) -> dict[str, str]:
    file, _, degraded, languages = SETS[name]
    return load_cluster_documents(EVAL / file, degrade_text=degraded, languages=languages)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default=None, help="folder of enriched stores (made once when missing)")
    parser.add_argument("--grid", action="append", default=[], help="FIELD=v1,v2,... (PlacementConfig field)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}; nothing to measure", file=sys.stderr)
        return 0
    grid = {k: tuple(json.loads(x) for x in v.split(",")) for k, v in (g.split("=", 1) for g in args.grid)} or GRID
    with tempfile.TemporaryDirectory(prefix="storyline-stores-") as tmp:
        stores = Path(args.stores or tmp)
        stores.mkdir(parents=True, exist_ok=True)
        sets = {name: (enriched(name, stores), _gold(name)) for name in STORY_SETS}
        out = leave_one_set_out(sets, grid, level="story", subsets={"ml3": ("ml7", _gold("ml3"))})
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for held, v in out["held_out"].items():
            print(f"{held:11s} {v['chosen']} (chosen on {', '.join(v['fitted_on']['sets'])}) held-out F1 {v['bcubed_f1']:.3f}")
        print(f"mean held-out F1 {out['held_out_mean_f1']:.3f}; best on all sets: {out['best_on_all_sets']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
