"""Ingest throughput: articles/s and peak memory for N generated plain-text articles.

    python benchmarks/ingest.py [--n 20000] [--format txt|jsonl]

Articles are generated (seeded) as one .txt file each (the slow path: one open/read/decode per
article) or one JSONL file, then ingested into a fresh store by the same Pipeline the CLI uses.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path

from storyline.model import Document
from storyline.pipeline import Pipeline
from storyline.store import Store

WORDS = ("government minister talks peace agreement troops withdrawal election protest police city "
         "council vote economy market shares bank storm flood rescue officials said on tuesday after "
         "the report that a new plan would").split()


def article(rng: random.Random, i: int) -> str:
    sentences = []
    for _ in range(rng.randint(15, 35)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
        sentences.append(" ".join(words).capitalize() + ".")
    day = 1 + i % 28
    return f" date 2021-03-{day:02d} Article {i}. " + " ".join(sentences)


def generate(folder: Path, n: int, fmt: str) -> list[str]:
    rng = random.Random(13)
    if fmt == "jsonl":  # one file, however large: JSONL is read a line at a time, the limit bounds each record
        sub = folder / "jsonl"
        sub.mkdir()
        with (sub / "articles.jsonl").open("w") as f:
            for i in range(n):
                f.write(json.dumps({"id": f"a{i}", "title": f"Article {i}", "text": article(rng, i)}) + "\n")
        return [str(sub)]
    sub = folder / "txt"
    for i in range(n):
        shard = sub / f"{i // 1000:03d}"
        shard.mkdir(parents=True, exist_ok=True)
        (shard / f"{i:06d}.txt").write_text(article(rng, i))
    return [str(sub)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--format", choices=["txt", "jsonl"], default="txt")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = generate(folder, args.n, args.format)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        with Store(folder / "warm.db") as store:  # load the language model outside the timed run
            Pipeline(store).ingest_documents([Document(text="A short warm-up article.", origin="warm-up")])
        with Store(folder / "bench.db") as store:
            started = time.perf_counter()
            report = Pipeline(store).ingest(paths)
            seconds = time.perf_counter() - started
            stored = store.count()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "articles": args.n, "format": args.format, "input_mb": round(size / 2**20, 1), "stored": stored,
        "new": report.new, "seconds": round(seconds, 2), "articles_per_second": round(args.n / seconds, 1),
        "peak_rss_mb": round(peak_mb, 1),
    }))


if __name__ == "__main__":
    main()
