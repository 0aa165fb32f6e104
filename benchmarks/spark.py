"""Spark batch at scale: passes, windows re-placed per pass, wall, articles/s, peak memory, agreement with track.

    python benchmarks/spark.py [--copies 21 | --archive N] [--workers 1,2] [--windows W | --window-days D]
                               [--replace-when members|records] [--no-track | --track-db STORE]

The input is ``copies`` variant rounds of the shipped Wikinews sample (``storyline.scale.synthetic``;
21 copies = 2,085 articles over ~72 years), or with ``--archive N`` an archive of N articles retold in
rounds from the human-labelled clusters in ``../shared/eval`` (``storyline.scale.synthetic.archive``: real
text, each article's ~700-character lead, ~2,600 articles a round, rounds 1,167 days apart: 100,000 articles
span 1990-2111). Each run is a fresh process (models load in the timing, as in
a real job): ``storyline track`` into a new store, then ``storyline batch run --master local[N]
--partitions N`` for each N, imported into a store of its own (``batch import``, not timed) and compared
with track's article for article (BCubed F1 at event, story and thread level, track as the reference).

Printed per run: wall and articles/s, CPU seconds of the whole process tree (sampled from /proc every
0.5 s, which a machine shared with other jobs distorts far less than wall), the peak resident memory of
the driver (the Python process that runs the job), of the JVM (driver and executors: one JVM in local
mode) and of the Python workers together, the passes with the windows each re-placed and the most
record rows one window restored, and /proc/loadavg at the start and end (timings taken under load are
not the machine's speed).
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

from storyline.scale.synthetic import write_archive, write_corpus

# variant rounds are dated up to decades on, past today: ingest must judge their dates against a later "now" (a date past it is untrusted)
os.environ.setdefault("STORYLINE_INGEST_TIME", "2200-01-01T00:00:00+00:00")

WIKINEWS = Path(__file__).resolve().parents[1] / "examples" / "wikinews" / "wikinews_en.jsonl"
EVAL = Path(os.environ.get("STORYLINE_EVAL") or Path(__file__).resolve().parents[2] / "shared" / "eval")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


def _sample(root: int, cpu: dict[int, float], peaks: dict[str, int]) -> None:
    """Record the CPU seconds so far of every process under ``root`` (the JVM and its Python workers are not
    reaped by us, so ``getrusage`` cannot see them), and the peak of each kind's resident memory together."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    stats: dict[int, tuple[float, int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, fields = raw[raw.index("(") + 1 : raw.rindex(")")], raw.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        stats[int(entry)] = ((int(fields[11]) + int(fields[12])) / tick, int(fields[21]) * PAGE, name)
    now: dict[str, int] = {"driver": 0, "jvm": 0, "python_workers": 0}
    for pid, (seconds, rss, name) in stats.items():
        node = pid
        while node in parents and node != root and node > 1:
            node = parents[node]
        if node != root:
            continue
        cpu[pid] = max(cpu.get(pid, 0.0), seconds)
        kind = "driver" if pid == root else "jvm" if name == "java" else "python_workers"
        now[kind] += rss
    for kind, rss in now.items():
        peaks[kind] = max(peaks.get(kind, 0), rss)


def _run(command: list[str], label: str) -> dict:
    """Run one measured process; its last stdout line is JSON (or nothing)."""
    load = _load()
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        cpu: dict[int, float] = {}
        peaks: dict[str, int] = {}
        while process.poll() is None:
            _sample(process.pid, cpu, peaks)
            time.sleep(0.5)
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode:
            sys.exit(f"{label} failed:\n" + stderr.read()[-3000:])
        lines = stdout.read().strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return {"wall_s": round(wall, 1), "cpu_s": round(sum(cpu.values()), 1), "load": f"{load} -> {_load()}",
            "peak_mb": {k: round(v / 2**20) for k, v in peaks.items()}, **result}


def _storyline() -> str:
    return str(Path(sys.executable).with_name("storyline"))


def _agreement(reference_db: Path, batch_db: Path) -> dict:
    from storyline.scale.documents import level_agreement
    from storyline.store import Store

    with Store(reference_db) as reference, Store(batch_db) as batch:
        return {level: scores["f1"] for level, scores in level_agreement(reference, batch).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=21)
    parser.add_argument("--archive", type=int, default=None, help="instead: an archive of this many articles retold from ../shared/eval")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--windows", type=int, default=None, help="story windows for every run (default: the job's, one a worker)")
    parser.add_argument("--window-days", type=int, default=None, help="calendar story windows of this many days instead")
    parser.add_argument("--no-track", action="store_true", help="skip track (and the agreement with it)")
    parser.add_argument("--track-db", type=Path, help="compare with this store of an earlier `track` on the same input (no track run)")
    parser.add_argument("--replace-when", default="members", choices=("members", "records"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="storyline-spark-bench-") as tmp:
        source = Path(tmp) / "in"
        source.mkdir()
        if args.archive:
            if not EVAL.is_dir():
                sys.exit(f"--archive retells the clusters in {EVAL}, which is absent (set STORYLINE_EVAL to another copy)")
            n = write_archive(EVAL, source / "articles.jsonl", args.archive)
            what = f"an archive retold from {EVAL}"
        else:
            n = write_corpus(WIKINEWS, source / "articles.jsonl", args.copies, dateline=True)
            what = f"{args.copies} variant rounds of the Wikinews sample"
        print(f"input: {n} rows ({what}), windows {args.windows or ('of ' + str(args.window_days) + ' days' if args.window_days else 'one a worker')}; "
              f"{os.cpu_count()} CPUs", flush=True)
        track_db = args.track_db or Path(tmp) / "track.db"
        track_rate = None
        if not args.no_track and not args.track_db:
            t = _run([_storyline(), "track", str(source), "--db", str(track_db)], "track")
            track_rate = n / t["wall_s"]
            print(f"track: {t['wall_s']} s wall = {track_rate:.1f} input rows/s; CPU {t['cpu_s']} s = "
                  f"{n / t['cpu_s']:.1f} rows/CPU-s; peak {t['peak_mb']['driver']} MB; load {t['load']}", flush=True)
        rates = {}
        for workers in (int(w) for w in args.workers.split(",")):
            out = Path(tmp) / f"out{workers}"
            r = _run([_storyline(), "batch", "run", str(source), str(out), "--master", f"local[{workers}]", "--partitions",
                      str(workers), *(["--windows", str(args.windows)] if args.windows else []),
                      *(["--window-days", str(args.window_days)] if args.window_days else []),
                      "--replace-when", args.replace_when, "--json"],
                     f"local[{workers}]")
            c, s = r["counts"], r["seconds"]
            rates[workers] = n / r["wall_s"]  # per input row, as for track
            enrich = s["read_enrich"]
            stories = sum(v for k, v in s.items() if k.startswith(("place", "context")) or k in ("doc_freq", "resolve"))
            print(f"local[{workers}]: {c['articles']} articles in {r['wall_s']} s wall = {c['articles'] / r['wall_s']:.1f} articles/s "
                  f"(read+enrich {enrich} s = {c['articles'] / enrich:.1f}/s, stories {stories:.1f} s, write {s.get('write')} s); "
                  f"CPU {r['cpu_s']} s = {c['articles'] / r['cpu_s']:.1f} articles/CPU-s; load {r['load']}", flush=True)
            print(f"  {c['windows']} windows, {c['passes']} placement passes ({'converged' if c['converged'] else 'NOT converged'}), "
                  f"windows re-placed per pass {c['replaced_per_pass']} (the last: 0 when converged: none whose context changed, or after pass W none left), "
                  f"partition final after pass {c['partition_final_at']}, most record rows one window restored per pass "
                  f"{c['restored_max_per_pass']}, most records the ordered resolution held open at once per pass "
                  f"{c['resolution_held_max_per_pass']}; "
                  f"peak MB: driver {r['peak_mb']['driver']}, JVM (driver+executors) {r['peak_mb']['jvm']}, "
                  f"Python workers {r['peak_mb']['python_workers']}", flush=True)
            print(f"  stage seconds {s}", flush=True)
            if not args.no_track:
                db = Path(tmp) / f"batch{workers}.db"
                subprocess.run([_storyline(), "batch", "import", str(out), "--db", str(db)], check=True, capture_output=True)
                print(f"  agreement with track (BCubed F1): {_agreement(track_db, db)}", flush=True)
        if len(rates) == 2:
            (w1, r1), (w2, r2) = sorted(rates.items())
            print(f"ratio local[{w2}] / local[{w1}] end to end: {r2 / r1:.2f}x", flush=True)
        if track_rate and rates:
            best = max(rates.values())
            print(f"batch (fastest) / track, input rows per wall second: {best / track_rate:.2f}x", flush=True)


if __name__ == "__main__":
    main()
