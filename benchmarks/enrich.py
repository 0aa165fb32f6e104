"""Enrich throughput: articles/s per stage and end to end, wall and CPU time, and peak memory.

    .venv/bin/python benchmarks/enrich.py [--n 2000] [--source timeline17|duc2004|wikinews] [--degraded]
                                          [--batch 64] [--warmup 8] [--no-e2e] [--embed-threads N]
                                          [--restore-batch]

Articles are real-length news read at run time from ``../shared/eval`` (Timeline17: ~2,300 articles of
~980 words; DUC 2004: 500 of ~600 words), or the shipped Wikinews sample (100 articles) with
``--source wikinews``. They go through the real ingest path (``normalize.clean.clean``), then each
stage is timed alone by calling the functions ``Pipeline.enrich_batch`` calls, in the order it calls
them, in batches of 64. Model loading is timed separately: a few extra articles (not counted) go
through every stage first. The last line runs ``Pipeline(store).enrich_batch`` over the same articles
read back from a fresh temporary store, with the store reads and writes timed beside it.

``--restore-batch`` times the restore stage as ``restore_batch`` over each batch (one tagger pass per
batch) instead of ``restore`` per article, as ``enrich_batch`` does today; the end-to-end line always
runs ``enrich_batch`` as it is.

``--degraded`` lowercases the text and strips its punctuation first (the shape of seed 000), so the
restoration path (boundary model + truecase) is timed too.

One JSON object per line: ``stage``, ``articles``, ``seconds`` (wall), ``cpu_seconds``
(``time.process_time``: all threads of this process, so it is the figure to trust on a shared machine;
it can exceed wall time where a stage runs threads), ``articles_per_second`` (wall) and
``articles_per_cpu_second``; the last line also has ``peak_rss_mb`` (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from storyline.model import Article, Document
from storyline.normalize.clean import clean

ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("STORYLINE_EVAL") or ROOT / ".." / "shared" / "eval")  # env: another checkout's data
WIKINEWS = ROOT / "examples" / "wikinews" / "wikinews_en.jsonl"
STAGES = ("restore", "entities", "dates", "embedding", "fingerprint")
NOW = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)  # fixed ingest time: same input, same articles


def degrade(text: str) -> str:
    """Lowercase, punctuation to spaces, whitespace collapsed: the shape of seed 000."""
    return " ".join(re.sub(r"[^\w\s]|_", " ", text.lower()).split())


# ---------- sources --------------------------------------------------------------------------
def _timeline17() -> Iterator[Document]:
    """Round-robin over the timelines, so any --n mixes topics and outlets."""
    folders = sorted((EVAL / "timeline17").glob("*/articles.json"))
    per_topic = []
    for path in folders:
        topic = path.parent.name
        rows = json.loads(path.read_text(encoding="utf-8"))
        per_topic.append([
            Document(text=r["text"], origin=f"timeline17/{topic}/articles.json#{r['uid']}", source=topic,
                     source_id=f"{topic}-{r['uid']}", published=r.get("dct"))
            for r in rows
        ])
    for k in range(max((len(p) for p in per_topic), default=0)):
        for docs in per_topic:
            if k < len(docs):
                yield docs[k]


def _duc2004() -> Iterator[Document]:
    path = EVAL / "duc2004_clusters.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        cluster = json.loads(line)
        for d in cluster["docs"]:
            yield Document(text=d["text"], origin=f"duc2004_clusters.jsonl#{d['doc_id']}", title=d.get("headline") or None,
                           source=d.get("source"), source_id=d["doc_id"], published=d.get("date"))


def _wikinews() -> Iterator[Document]:
    for i, line in enumerate(WIKINEWS.read_text(encoding="utf-8").splitlines(), 1):
        r = json.loads(line)
        yield Document(text=r["text"], origin=f"{WIKINEWS.name}:{i}", title=r.get("title"), source=r.get("source"),
                       source_id=r.get("id"), published=r.get("published"))


SOURCES: dict[str, tuple[Callable[[], Iterator[Document]], Path]] = {
    "timeline17": (_timeline17, EVAL / "timeline17"),
    "duc2004": (_duc2004, EVAL / "duc2004_clusters.jsonl"),
    "wikinews": (_wikinews, WIKINEWS),
}


def documents(source: str, limit: int, degraded: bool) -> list[Document]:
    read, path = SOURCES[source]
    if not path.exists():
        print(f"skipped: {path} is absent (research data is read from ../shared/eval at run time); "
              "use --source wikinews for the shipped sample", file=sys.stderr)
        sys.exit(0)
    docs = []
    for doc in read():
        if len(docs) >= limit:
            break
        if degraded:
            doc.text = degrade(doc.text)
            doc.title = degrade(doc.title) if doc.title else None
        docs.append(doc)
    return docs


# ---------- timing ---------------------------------------------------------------------------
def line(stage: str, articles: int, wall: float, cpu: float, **extra: object) -> None:
    out = {
        "stage": stage,
        "articles": articles,
        "seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "articles_per_second": round(articles / wall, 1) if wall > 0 else None,
        "articles_per_cpu_second": round(articles / cpu, 1) if cpu > 0 else None,
        **extra,
    }
    print(json.dumps(out), flush=True)


class Clock:
    """Wall and process-CPU seconds accumulated over many timed calls."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> "Clock":
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._w
        self.cpu += time.process_time() - self._c


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def stage_steps(pipeline, restore_batched: bool = False) -> dict[str, Callable[[list[Article]], None]]:
    """The calls ``Pipeline.enrich_batch`` makes, one per stage (per article where it loops per article)."""
    from storyline.enrich.dates import enrich_dates
    from storyline.enrich.embed import embed_articles
    from storyline.enrich.fingerprint import fingerprint_articles
    from storyline.normalize.restore import restore, restore_batch

    def per_article(step: Callable[[Article], None]) -> Callable[[list[Article]], None]:
        return lambda batch: [step(a) for a in batch] and None

    return {
        "restore": restore_batch if restore_batched else per_article(restore),
        "entities": lambda b: pipeline.entity_extractor.extract(b),
        "dates": per_article(enrich_dates),
        "embedding": lambda b: embed_articles(b, pipeline.embedder),
        "fingerprint": fingerprint_articles,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="articles to time (default 2000)")
    parser.add_argument("--source", choices=sorted(SOURCES), default="timeline17")
    parser.add_argument("--degraded", action="store_true", help="lowercase and strip punctuation first")
    parser.add_argument("--batch", type=int, default=64, help="articles per enrich batch (the pipeline's 64)")
    parser.add_argument("--warmup", type=int, default=8, help="extra articles that load the models (not counted)")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end Pipeline line")
    parser.add_argument("--embed-threads", type=int, default=None,
                        help="experiment: BLAS threads for the USE embedder (default: the pipeline's own choice)")
    parser.add_argument("--restore-batch", action="store_true",
                        help="time the restore stage as restore_batch per batch (stage lines only)")
    args = parser.parse_args(argv)

    from storyline.pipeline import Pipeline, PipelineConfig
    from storyline.store import Store

    docs = documents(args.source, args.n + args.warmup, args.degraded)
    if len(docs) <= args.warmup:
        sys.exit(f"only {len(docs)} articles in {args.source}; need more than --warmup {args.warmup}")
    warm_docs, docs = docs[: args.warmup], docs[args.warmup :]
    words = sum(len(d.text.split()) for d in docs)
    print(json.dumps({"source": args.source, "degraded": args.degraded, "articles": len(docs),
                      "mean_words": round(words / len(docs)), "batch": args.batch}), flush=True)

    with Clock() as c:
        articles = [clean(d, now=NOW) for d in docs]
    line("clean (ingest, not enrich)", len(articles), c.wall, c.cpu)

    config = PipelineConfig(enrich_batch_size=args.batch)
    with tempfile.TemporaryDirectory() as tmp:
        # Stage by stage: models come from a Pipeline over an empty store, exactly as enrich_batch gets them.
        pipeline = Pipeline(Store(Path(tmp) / "stages.db"), config)
        set_embed_threads(pipeline, args.embed_threads)
        steps = stage_steps(pipeline, args.restore_batch)
        warm = [clean(d, now=NOW) for d in warm_docs]
        for stage in STAGES:  # first call loads the model; the rest of the warm-up runs it once warm
            with Clock() as c:
                steps[stage](warm[:1])
                steps[stage](warm[1:])
            line(f"load+warmup:{stage}", len(warm), c.wall, c.cpu)
        total = Clock()
        for stage in STAGES:
            with Clock() as c:
                for batch in batches(articles, args.batch):
                    steps[stage](batch)
            total.wall += c.wall
            total.cpu += c.cpu
            line(stage, len(articles), c.wall, c.cpu)
        line("sum of stages", len(articles), total.wall, total.cpu)
        failures = Counter(p[:160] for a in articles for p in a.problems if "failed" in p)
        if failures:
            print(json.dumps({"warning": f"{sum(failures.values())} stage failures recorded on articles",
                              "most_common": failures.most_common(3)}), flush=True)

        if not args.no_e2e:
            end_to_end(docs, warm_docs, Path(tmp) / "e2e.db", config, Pipeline, Store, args.embed_threads)
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}), flush=True)


def set_embed_threads(pipeline, threads: int | None) -> None:
    """Experiment knob: give the Pipeline a USE embedder with this many BLAS threads (None: leave it)."""
    if threads is not None:
        from storyline.enrich.embed import USEEmbedder

        pipeline._embedder = USEEmbedder(threads=threads)


def end_to_end(docs, warm_docs, db: Path, config, Pipeline, Store, embed_threads: int | None = None) -> None:
    """``Pipeline.enrich_batch`` over the articles as the store hands them out (fresh store, fresh models)."""
    store = Store(db)
    pipeline = Pipeline(store, config)
    set_embed_threads(pipeline, embed_threads)
    report = pipeline.ingest_documents(iter(docs))
    with Clock() as c:
        pipeline.enrich_batch([clean(d, now=NOW) for d in warm_docs])  # loads the models; not stored
    line("load+warmup:end_to_end", len(warm_docs), c.wall, c.cpu)
    from storyline.store import ENRICHED

    run, io = Clock(), Clock()
    done = 0
    while True:
        with io:
            batch = store.get_articles(store.pending_ids(ENRICHED)[: config.enrich_batch_size])
        if not batch:
            break
        with run:
            pipeline.enrich_batch(batch)
        with io:
            with store.transaction():
                store.update_articles(batch, stage=ENRICHED)
                store.update_entity_rows(*pipeline.entity_extractor.registry.take_changes())
        done += len(batch)
    line("end_to_end (enrich_batch)", done, run.wall, run.cpu, duplicates_skipped=report.duplicate)
    line("end_to_end (+ store read/write)", done, run.wall + io.wall, run.cpu + io.cpu, peak_rss_mb=peak_rss_mb())
    store.close()


if __name__ == "__main__":
    main()
