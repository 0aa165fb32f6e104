"""Spark batch throughput: articles/s with 1 and 2 local workers on the same input, and the ratio.

    python benchmarks/spark.py [--copies 20] [--workers 1,2] [--window-days 365]

The input is ``copies`` variant rounds of the shipped Wikinews sample (``storyline.scale.synthetic``;
20 copies = 2,040 articles). Each run is a fresh ``storyline batch run`` in its own process (models load
in the timing, as in a real job) with ``--master local[N] --partitions N``. Printed per run: wall-clock
articles/s, the job's own per-stage seconds, and CPU seconds of the run's whole process tree (JVM and
Python workers, from ``getrusage(RUSAGE_CHILDREN)``), which a machine shared with other jobs distorts
far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyline.scale.synthetic import write_corpus

WIKINEWS = Path(__file__).resolve().parents[1] / "examples" / "wikinews" / "wikinews_en.jsonl"


def run(source: Path, out: Path, workers: int, window_days: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("storyline")), "batch", "run", str(source), str(out), "--master", f"local[{workers}]",
         "--partitions", str(workers), "--window-days", str(window_days), "--json"],
        capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"workers": workers, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--window-days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storyline-spark-bench-") as tmp:
        source = Path(tmp) / "in"
        source.mkdir()
        n = write_corpus(WIKINEWS, source / "articles.jsonl", args.copies)
        runs = []
        for workers in (int(w) for w in args.workers.split(",")):
            r = run(source, Path(tmp) / f"out{workers}", workers, args.window_days)
            articles = r["counts"]["articles"]
            enrich = r["seconds"]["read_enrich"]
            stories = sum(v for k, v in r["seconds"].items() if k.startswith("place") or k == "resolve")
            print(f"local[{workers}]: {n} input rows, {articles} articles in {r['wall_s']} s wall = "
                  f"{articles / r['wall_s']:.1f} articles/s; read+enrich {enrich} s ({articles / enrich:.1f}/s), "
                  f"stories {stories:.1f} s; CPU {r['cpu_s']} s = {articles / r['cpu_s']:.1f} articles/CPU-s; "
                  f"stages {r['seconds']}", flush=True)
            runs.append((workers, articles / r["wall_s"], articles / enrich))
        if len(runs) == 2:
            (w1, total1, enrich1), (w2, total2, enrich2) = runs
            print(f"ratio local[{w2}] / local[{w1}]: end to end {total2 / total1:.2f}x, read+enrich {enrich2 / enrich1:.2f}x")


if __name__ == "__main__":
    main()
