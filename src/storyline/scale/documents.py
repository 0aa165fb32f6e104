"""Documents in memory through the batch job, and batch results compared with ``track``'s.

``run_documents`` is what ``storyline eval stories --engine spark`` runs: the documents are written as
JSON lines in their given order (so input order is arrival order, as for ``track_documents``), the job
runs on them, and each document is mapped to its placed article, re-posts to the article they repeat.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Sequence

from storyline.model import Document

__all__ = ["agreement", "level_agreement", "run_documents", "store_partitions", "write_jsonl"]


def write_jsonl(documents: Sequence[Document], path: Path) -> None:
    """One JSON object per document, with the field names ``ingest`` reads by default."""
    with open(path, "w", encoding="utf-8") as handle:
        for d in documents:
            record = {"id": d.source_id, "title": d.title, "text": d.text, "published": d.published,
                      "source": d.source, "url": d.url, "language": d.language, "author": d.author}
            handle.write(json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False) + "\n")


def run_documents(documents: Sequence[Document], master: str = "local[2]", partitions: int = 2,
                  window_days: int | None = None, spark=None) -> dict[str, tuple[str, str]]:
    """origin → (event id, story id) of every document, through the Spark batch job."""
    import pyarrow.parquet as pq

    from storyline.model import Rejection
    from storyline.pipeline import clean_item
    from storyline.scale.job import BatchConfig, run_batch, session

    with tempfile.TemporaryDirectory(prefix="storyline-batch-") as tmp:
        source = Path(tmp) / "documents.jsonl"
        write_jsonl(documents, source)
        own = spark is None
        spark = spark or session(master, partitions)
        try:
            run_batch(spark, str(source), str(Path(tmp) / "out"), BatchConfig(partitions=partitions, window_days=window_days))
        finally:
            if own:
                spark.stop()
        rows = pq.read_table(Path(tmp) / "out" / "articles", columns=["id", "content_hash", "origin", "event_id", "story_id"]).to_pylist()
    by_origin = {r["origin"]: r for r in rows}
    by_hash = {r["content_hash"]: r for r in rows}
    now = dt.datetime.now(dt.timezone.utc)
    out: dict[str, tuple[str, str]] = {}
    for number, document in enumerate(documents, 1):
        row = by_origin.get(f"{source}:{number}")
        if row is None:  # a re-post: the stored article with the same text, as the store answers
            cleaned = clean_item(document, now)
            row = None if isinstance(cleaned, Rejection) else by_hash.get(cleaned.content_hash)
        if row is not None and row["event_id"]:
            out[document.origin] = (row["event_id"], row["story_id"])
    return out


def agreement(reference: dict[str, str], other: dict[str, str]) -> dict[str, float]:
    """BCubed precision/recall/F1 of ``other``'s partition against ``reference``'s (same keys)."""
    from storyline.evaluation.scores import bcubed

    p, r, f = bcubed(other, reference)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def store_partitions(store) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Per placed article of a store: its event, story and thread (merged ones followed to what they became)."""
    events, stories, threads = {}, {}, {}
    for article in store.articles():
        events[article.id] = article.event_id and store.get_event(article.event_id).id
        story = article.story_id and store.get_story(article.story_id)
        stories[article.id] = story and story.id
        threads[article.id] = story and story.thread_id and store.get_thread(story.thread_id).id
    return events, stories, threads


def level_agreement(reference, other) -> dict[str, dict[str, float]]:
    """BCubed of ``other``'s events, stories and threads against ``reference``'s (two stores, same articles)."""
    (te, ts, tt), (be, bs, bt) = store_partitions(reference), store_partitions(other)
    if te.keys() != be.keys():
        raise ValueError(f"the stores hold different articles ({len(te.keys() ^ be.keys())} differ): compare runs on the same input")
    return {"events": agreement(te, be), "stories": agreement(ts, bs), "threads": agreement(tt, bt)}
