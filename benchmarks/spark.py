"""Spark batch throughput: articles/s with 1 and 2 local workers on the same input, and the ratio.

    python benchmarks/spark.py [--copies 20] [--workers 1,2] [--window-days 365]

The input is ``copies`` variant rounds of the shipped Wikinews sample (``storyline.scale.synthetic``;
20 copies = 2,040 articles). Each run is a fresh ``storyline batch run`` in its own process (models load
in the timing, as in a real job) with ``--master local[N] --partitions N``. Printed per run: wall-clock
articles/s, the job's own per-stage seconds, and CPU seconds of the run's whole process tree (JVM and
Python workers, sampled from /proc every 0.5 s), which a machine shared with other jobs distorts
far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyline.scale.synthetic import write_corpus

# variant rounds are dated up to decades on, past today: ingest must judge their dates against a later "now" (a date past it is untrusted)
os.environ.setdefault("STORYLINE_INGEST_TIME", "2100-01-01T00:00:00+00:00")

WIKINEWS = Path(__file__).resolve().parents[1] / "examples" / "wikinews" / "wikinews_en.jsonl"


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of every process under ``root`` (the JVM and its Python workers are
    not reaped by us, so ``getrusage`` cannot see them)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    for pid, cpu in times.items():
        node = pid
        while node in parents and node != root and node > 1:
            node = parents[node]
        if node == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu)


def run(source: Path, out: Path, workers: int, window_days: int) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("storyline")), "batch", "run", str(source), str(out), "--master",
             f"local[{workers}]", "--partitions", str(workers), "--window-days", str(window_days), "--json"],
            stdout=stdout, stderr=stderr, text=True)
        seen: dict[int, float] = {}
        while process.poll() is None:
            _tree_cpu(process.pid, seen)
            time.sleep(0.5)
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode:
            sys.exit(f"local[{workers}] failed:\n" + stderr.read()[-3000:])
        result = json.loads(stdout.read().strip().splitlines()[-1])
    cpu = sum(seen.values())  # up to the last sample (0.5 s) of each process is missed
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
        n = write_corpus(WIKINEWS, source / "articles.jsonl", args.copies, dateline=True)
        runs = []
        for workers in (int(w) for w in args.workers.split(",")):
            r = run(source, Path(tmp) / f"out{workers}", workers, args.window_days)
            articles = r["counts"]["articles"]
            enrich = r["seconds"]["read_enrich"]
            stories = sum(v for k, v in r["seconds"].items() if k.startswith("place") or k in ("doc_freq", "resolve"))
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
