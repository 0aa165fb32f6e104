"""Profile of ``track`` end to end: articles/s, CPU per article per stage, peak memory, and how they grow.

    python benchmarks/track.py [--n 500 2000 10000] [--workers 2] [--batch 64]

Each N runs in a fresh process, as ``storyline track FILE --db NEW`` would: the corpus is written to a
JSONL file, read, cleaned, enriched, placed, and the HTML report is built (``tell``, timed apart). Models
are loaded before the clock starts and their load time is printed on its own line.

The corpus is real news text from ``../shared/eval``: DUC 2007, MultiLing 2011 English and Timeline17
(~2,650 distinct articles), and beyond that retold rounds: each round retells the pool ``round × 3 years``
later, each article without one of its paragraphs or sentences (so its text and id differ) and opening
with its new date. These are new articles to ``track``, though many are near-duplicates of their
originals (``duplicate_of``), as re-published news is. The last 500 articles of every N are the same
probe: DUC 2004's 500 articles (~600 words each) retold 30 years on, after everything else. So N = 500
is the probe alone, and the probe's cost at N = 10,000 against N = 500 is the cost of the same work on
a store that already holds 9,500 articles (the whole-run figures also change with what the corpus holds).

Printed: one JSON line per N (``--json``) or a table: wall-clock articles/s, CPU-ms per article for each
stage (from ``Pipeline.cpu``; the helper process's stages are counted where they run), total CPU of the
main and helper processes, peak RSS of each, the peak of all of them together as PSS (pages the forked
helpers share with the main process counted once), and the ratio of each per-article cost at the largest N to
the smallest (1.0 = flat). Take figures on a quiet machine: wall time on a shared one means little, the
CPU columns much more.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import tree_memory  # noqa: E402 - benchmarks/proctree.py

# the probe and the later rounds are retold up to 30 years on, past today: ingest must judge their dates against a later "now" (a date past it is untrusted)
os.environ.setdefault("STORYLINE_INGEST_TIME", "2100-01-01T00:00:00+00:00")

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
STAGES = ("ingest", "restore", "dates", "places", "embedding", "fingerprint", "ner", "entities", "save",
          "duplicates", "placement", "settle dates", "save placed", "tell")
LABELS = {"entities": "canonical names", "ner": "NER (spaCy)", "save": "save enriched", "tell": "tell (report)"}


def _cluster_rows(name: str, english_only: bool = True) -> list[dict]:
    rows = []
    with open(EVAL / name, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            cluster = json.loads(line)
            language = cluster.get("language") or "en"
            if english_only and language.lower() not in ("en", "english"):
                continue
            for doc in cluster["docs"]:
                rows.append({"id": f"{cluster['cluster_id']}/{doc['doc_id']}", "title": doc.get("headline"),
                             "text": doc["text"], "published": (doc.get("date") or "")[:10] or None,
                             "source": doc.get("source"), "language": "en"})
    return rows


def _timeline17_rows() -> list[dict]:
    rows = []
    root = EVAL / "timeline17"
    for topic in sorted(p.name for p in root.iterdir() if (p / "articles.json").is_file()):
        for record in json.loads((root / topic / "articles.json").read_text(encoding="utf-8")):
            if record.get("text", "").strip():
                rows.append({"id": f"{topic}/{record['uid']}", "text": record["text"],
                             "published": (record.get("dct") or "")[:10] or None, "source": topic.split("_")[-1],
                             "language": "en"})
    return rows


PROBE = 500  # DUC 2004's articles, the last of every N
PROBE_ROUND = 10  # retold 30 years on: after every date of the rest


def corpus(n: int) -> tuple[list[dict], list[dict]]:
    """``n`` articles of real text as (the rest, the probe): see the module docstring."""
    if not EVAL.is_dir():
        raise SystemExit(f"skipped: {EVAL} not found (the research data lives in ../shared/eval)")
    if n < PROBE:
        raise SystemExit(f"--n must be at least {PROBE} (the probe)")
    probe = [_retold(row, PROBE_ROUND) for row in _cluster_rows("duc2004_clusters.jsonl")][:PROBE]
    pool = _cluster_rows("duc2007_update_clusters.jsonl") + _cluster_rows("multiling2011_clusters.jsonl") + _timeline17_rows()
    rest: list[dict] = []
    round_ = 0
    while len(rest) < n - PROBE:
        if round_ >= PROBE_ROUND:
            raise SystemExit(f"--n {n} is too large: the rest would reach the probe's dates")
        for row in pool[: n - PROBE - len(rest)]:
            rest.append(row if round_ == 0 else _retold(row, round_))
        round_ += 1
    return rest, probe


def _retold(row: dict, round_: int) -> dict:
    """The row retold ``round_ × 3 years`` later, without one of its paragraphs (one of its sentences when
    it has two paragraphs or fewer), opening with its new date (which ``clean`` takes as its date stamp)."""
    parts = [p for p in row["text"].split("\n") if p.strip()]
    joiner = "\n"
    if len(parts) <= 2:
        parts, joiner = [p for p in re.split(r"(?<=[.!?])\s+", row["text"]) if p.strip()], " "
    if len(parts) > 2:
        drop = 1 + round_ % (len(parts) - 1)
        parts = parts[:drop] + parts[drop + 1:]
    published = row.get("published")
    text = joiner.join(parts)
    if published:
        published = (dt.date.fromisoformat(published) + dt.timedelta(days=round_ * 1096)).isoformat()
        text = f"{published} -\n{text}"
    return {**row, "id": f"{row['id']}~{round_}", "published": published, "text": text}


def _write_parts(folder: Path, rows: list[dict]) -> str:
    """Rows as JSONL files of 1,000 (a daily file's size), in order."""
    folder.mkdir()
    for part in range(0, len(rows), 1000):
        (folder / f"part-{part // 1000:05d}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[part : part + 1000]), encoding="utf-8")
    return str(folder)


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_one(n: int, workers: int, batch: int) -> dict:
    """One N in this process: load models, then track and report, timed."""
    from storyline.pipeline import Pipeline, PipelineConfig
    from storyline.queries import Queries
    from storyline.store import Store
    from storyline.tell import render_html

    rest, probe = corpus(n)
    with tempfile.TemporaryDirectory(prefix="storyline-track-") as tmp:
        parts = {"rest": _write_parts(Path(tmp) / "rest", rest), "probe": _write_parts(Path(tmp) / "probe", probe)}
        with Store(Path(tmp) / "track.db") as store:
            pipeline = Pipeline(store, PipelineConfig(workers=workers, enrich_batch_size=batch))
            start = time.perf_counter()
            pipeline.embedder.embed_texts(["warm up"])  # load the models before the clock starts, as a server would
            pipeline.entity_extractor.model("en")
            models_s = time.perf_counter() - start
            cpu_before = _cpu(resource.RUSAGE_SELF)
            start = time.perf_counter()
            reports = [pipeline.track([parts["rest"]])] if rest else []
            before_probe, stored_before, probe_start = dict(pipeline.cpu), store.count(), time.perf_counter()
            reports.append(pipeline.track([parts["probe"]]))
            probe_stored, probe_s = store.count() - stored_before, time.perf_counter() - probe_start
            probe_cpu = {k: pipeline.cpu.get(k, 0.0) - before_probe.get(k, 0.0) for k in STAGES}
            placed_s = time.perf_counter() - start
            clock = time.process_time()
            (Path(tmp) / "report.html").write_text(render_html(Queries(store).report()), encoding="utf-8")
            pipeline.cpu["tell"] += time.process_time() - clock
            wall = time.perf_counter() - start
            stored = store.count()
            if not probe_stored:
                raise SystemExit(f"nothing of the probe was stored: {reports[-1].reasons()}")
            stats = {"events": len(store.events()), "stories": len(store.stories())}
    main_cpu = _cpu(resource.RUSAGE_SELF) - cpu_before
    return {
        "n": n, "stored": stored, "duplicates_skipped": sum(r.duplicate for r in reports),
        "rejected": sum(len(r.rejected) for r in reports),
        **stats, "workers": workers, "models_s": round(models_s, 1), "wall_s": round(wall, 1),
        "track_wall_s": round(placed_s, 1), "articles_per_s": round(stored / wall, 2),
        "cpu_ms_per_article": {k: round(1000 * pipeline.cpu.get(k, 0.0) / stored, 2) for k in STAGES},
        "probe_stored": probe_stored, "probe_articles_per_s": round(probe_stored / probe_s, 2),
        "probe_cpu_ms_per_article": {k: round(1000 * v / probe_stored, 2) for k, v in probe_cpu.items() if k != "tell"},
        "main_cpu_s": round(main_cpu, 1), "helper_cpu_s": round(_cpu(resource.RUSAGE_CHILDREN), 1),
        "peak_rss_mb": round(_peak_mb(resource.RUSAGE_SELF)), "helper_peak_rss_mb": round(_peak_mb(resource.RUSAGE_CHILDREN)),
    }


def table(results: list[dict]) -> str:
    ns = [r["n"] for r in results]
    head = "| | " + " | ".join(f"N = {n:,}" for n in ns) + " | largest / smallest |"
    lines = [head, "|---" * (len(ns) + 2) + "|"]

    def row(label: str, values: list[float], fmt: str = "{:.2f}") -> None:
        ratio = f"{values[-1] / values[0]:.2f}" if len(values) > 1 and values[0] else ""
        lines.append(f"| {label} | " + " | ".join(fmt.format(v) for v in values) + f" | {ratio} |")

    row("articles/s, track (wall, models loaded)", [r["stored"] / r["track_wall_s"] for r in results], "{:.1f}")
    row("articles/s with the HTML report", [r["articles_per_s"] for r in results], "{:.1f}")
    for stage in STAGES:
        row(f"CPU-ms/article: {LABELS.get(stage, stage)}", [r["cpu_ms_per_article"][stage] for r in results], "{:.1f}")
    row("CPU-ms/article: all stages", [sum(r["cpu_ms_per_article"].values()) for r in results], "{:.1f}")
    row(f"probe ({PROBE} DUC articles, tracked last): articles/s", [r["probe_articles_per_s"] for r in results], "{:.1f}")
    for stage in STAGES[:-1]:
        row(f"probe CPU-ms/article: {LABELS.get(stage, stage)}", [r["probe_cpu_ms_per_article"][stage] for r in results], "{:.1f}")
    row("probe CPU-ms/article: all stages", [sum(r["probe_cpu_ms_per_article"].values()) for r in results], "{:.1f}")
    row("CPU-s, main + helper processes", [r["main_cpu_s"] + r["helper_cpu_s"] for r in results], "{:.0f}")
    row("peak RSS MB, main process", [r["peak_rss_mb"] for r in results], "{:.0f}")
    row("peak RSS MB, largest helper process", [r["helper_peak_rss_mb"] for r in results], "{:.0f}")
    row("peak MB, all processes together (PSS)", [r["peak_pss_mb_all"] for r in results], "{:.0f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--workers", type=int, default=2, help="PipelineConfig.workers (1 = one process)")
    parser.add_argument("--batch", type=int, default=64, help="PipelineConfig.enrich_batch_size")
    parser.add_argument("--json", action="store_true", help="one JSON line per N instead of the table")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process for one N
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.workers, args.batch)))
        return
    results = []
    for n in args.n:
        child = subprocess.Popen([sys.executable, __file__, "--one", str(n), "--workers", str(args.workers),
                                  "--batch", str(args.batch)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=os.environ)
        peak = [0]

        def sample(pid: int = child.pid) -> None:  # every process of the run together, shared pages once (PSS)
            while child.poll() is None:
                peak[0] = max(peak[0], tree_memory(pid))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = child.communicate()
        sampler.join()
        if child.returncode:
            raise SystemExit(f"N = {n} failed:\n{err[-3000:]}")
        results.append({**json.loads(out.strip().splitlines()[-1]), "peak_pss_mb_all": round(peak[0] / 2**20)})
        print(json.dumps(results[-1]) if args.json else
              f"N = {n}: {results[-1]['articles_per_s']} articles/s, {results[-1]['wall_s']} s", flush=True)
    if not args.json:
        print(table(results))


if __name__ == "__main__":
    main()
