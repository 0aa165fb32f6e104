"""Out-of-sample thread figures: leave-one-set-out for the thread threshold, on the product path.

    .venv/bin/python benchmarks/threads_oos.py [--stores /tmp/slq] [--grid 0.2,0.25,...] [--json]

A thin caller of ``storyline.evaluation.threads.thread_leave_one_set_out`` over the sets scored at the
thread level (Timeline17's storylines, ML-Crisis's Spanish crises, MultiLing's events in 7 languages): each
set is placed once with ``Pipeline.place``, the thread linker's input is kept and replayed per threshold,
and each set held out is reported at the threshold chosen on the other two. Sets are enriched once
through the pipeline (``stories_quality.py --stores``).
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
from storyline.evaluation.threads import THREAD_GRID, thread_leave_one_set_out  # noqa: E402

THREAD_SETS = ("timeline17", "crisis", "ml7")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default=None, help="folder of enriched stores (made once when missing)")
    parser.add_argument("--grid", default=",".join(map(str, THREAD_GRID)), help="thread thresholds to choose from")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}; nothing to measure", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="storyline-stores-") as tmp:
        stores = Path(args.stores or tmp)
        stores.mkdir(parents=True, exist_ok=True)
        sets = {}
        for name in THREAD_SETS:
            file, _, degraded, languages = SETS[name]
            gold = load_cluster_documents(EVAL / file, degrade_text=degraded, languages=languages)[1]
            sets[name] = (enriched(name, stores), gold)
        out = thread_leave_one_set_out(sets, [float(x) for x in args.grid.split(",")])
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for held, v in out["held_out"].items():
            print(f"{held:10s} threshold {v['threshold']:.2f} (chosen on {', '.join(v['fitted_on']['sets'])}) "
                  f"held-out thread F1 {v['bcubed_f1']:.3f}; story F1 {v['story']['bcubed_f1']:.3f}")
        print(f"mean held-out F1 {out['held_out_mean_f1']:.3f}; shipped threshold {out['shipped']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
