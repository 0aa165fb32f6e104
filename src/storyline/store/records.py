"""Rows ↔ records. Kept apart from the SQL so the mapping can be read (and tested) on its own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from typing import Any

import numpy as np

from storyline.model import (
    Article,
    DateMention,
    DateProvenance,
    EntityMention,
    EntityType,
    Event,
    Granularity,
    Restoration,
    Sentence,
    Story,
    Thread,
    distrust_date,
    to_dict,
)

__all__ = ["ARTICLE_COLUMNS", "RECORD_COLUMNS", "article_row", "row_article", "event_row", "row_event", "story_row", "row_story",
           "thread_row", "row_thread"]

ARTICLE_COLUMNS = (
    "id", "content_hash", "title", "text", "original_text", "origin", "source", "url", "author", "language",
    "language_confidence", "published", "published_provenance", "date_evidence", "text_offset", "ingested_at",
    "extra", "stage", "restored_text", "enrichment", "embedding", "fingerprint", "event_id", "story_id",
    "duplicate_of", "source_id",
)


def _blob(array: np.ndarray | None, dtype: Any) -> bytes | None:
    return None if array is None else np.ascontiguousarray(array, dtype=dtype).tobytes()


def _array(blob: bytes | None, dtype: Any) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=dtype).copy()


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def enrichment_json(article: Article) -> str:
    return json.dumps(
        {
            "sentences": [[s.start, s.end, s.text] for s in article.sentences],
            "restoration": to_dict(article.restoration),
            "entities": [to_dict(e) for e in article.entities],
            "dates": [to_dict(d) for d in article.dates],
            "places": article.places,
            "models": article.models,
            "problems": article.problems,
        },
        ensure_ascii=False,
    )


def article_row(article: Article, stage: int) -> tuple:
    return (
        article.id, article.content_hash, article.title, article.text, article.original_text, article.origin,
        article.source, article.url, article.author, article.language, article.language_confidence,
        article.published.isoformat() if article.published else None, article.published_provenance.value,
        article.date_evidence, article.text_offset, article.ingested_at.isoformat(),
        json.dumps(article.extra, ensure_ascii=False, default=str), stage, article.restored_text,
        enrichment_json(article), _blob(article.embedding, np.float32), _blob(article.fingerprint, np.uint64),
        article.event_id, article.story_id, article.duplicate_of, article.source_id,
    )


def _fill_enrichment(article: Article, raw: str | None) -> None:
    if not raw:
        return
    data = json.loads(raw)
    article.sentences = [Sentence(start, end, text) for start, end, text in data.get("sentences", [])]
    article.restoration = Restoration(**data.get("restoration", {}))
    article.entities = [
        EntityMention(**{**e, "type": EntityType(e["type"])}) for e in data.get("entities", [])
    ]
    article.dates = [
        DateMention(**{**d, "granularity": Granularity(d["granularity"])}) for d in data.get("dates", [])
    ]
    article.places = data.get("places", {})
    article.models = data.get("models", {})
    article.problems = data.get("problems", [])


def row_article(row: sqlite3.Row) -> Article:
    article = Article(
        id=row["id"],
        text=row["text"],
        original_text=row["original_text"],
        origin=row["origin"],
        content_hash=row["content_hash"],
        ingested_at=dt.datetime.fromisoformat(row["ingested_at"]),
        title=row["title"],
        source=row["source"],
        url=row["url"],
        author=row["author"],
        language=row["language"],
        language_confidence=row["language_confidence"] or 0.0,
        published=_date(row["published"]),
        published_provenance=DateProvenance(row["published_provenance"]),
        date_evidence=row["date_evidence"],
        text_offset=row["text_offset"],
        extra=json.loads(row["extra"] or "{}"),
        restored_text=row["restored_text"],
        embedding=_array(row["embedding"], np.float32),
        fingerprint=_array(row["fingerprint"], np.uint64),
        event_id=row["event_id"],
        story_id=row["story_id"],
        duplicate_of=row["duplicate_of"],
        source_id=row["source_id"],
    )
    _fill_enrichment(article, row["enrichment"])
    distrust_date(article)  # a date stored before dates were judged must not crash or place anything
    return article


# the columns ``event_row``, ``story_row`` and ``thread_row`` fill, in order (the store's tables and the Spark
# job's datasets alike)
RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "event": ("id", "story_id", "first_date", "last_date", "data", "centroid", "merged_into", "embedding_sum"),
    "story": ("id", "first_date", "last_date", "data", "centroid", "merged_into", "embedding_sum", "thread_id"),
    "thread": ("id", "first_date", "last_date", "data", "centroid", "merged_into", "embedding_sum"),
}

_COLUMNS = {"id", "story_id", "thread_id", "first_date", "last_date", "centroid", "merged_into", "embedding_sum"}


def _data(record: Event | Story | Thread) -> str:
    """Every field without a column of its own, as JSON (so new profile fields persist unchanged)."""
    return json.dumps(
        {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in _COLUMNS},
        ensure_ascii=False,
    )


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def event_row(event: Event) -> tuple:
    return (event.id, event.story_id, _iso(event.first_date), _iso(event.last_date), _data(event),
            _blob(event.centroid, np.float32), event.merged_into, _blob(event.embedding_sum, np.float32))


def row_event(row: sqlite3.Row) -> Event:
    return Event(
        id=row["id"], story_id=row["story_id"], first_date=_date(row["first_date"]), last_date=_date(row["last_date"]),
        centroid=_array(row["centroid"], np.float32), merged_into=row["merged_into"],
        embedding_sum=_array(row["embedding_sum"], np.float32), **_known(Event, json.loads(row["data"])),
    )


def story_row(story: Story) -> tuple:
    return (story.id, _iso(story.first_date), _iso(story.last_date), _data(story),
            _blob(story.centroid, np.float32), story.merged_into, _blob(story.embedding_sum, np.float32),
            story.thread_id)


def row_story(row: sqlite3.Row) -> Story:
    return Story(
        id=row["id"], first_date=_date(row["first_date"]), last_date=_date(row["last_date"]),
        centroid=_array(row["centroid"], np.float32), merged_into=row["merged_into"],
        embedding_sum=_array(row["embedding_sum"], np.float32),
        thread_id=row["thread_id"] if "thread_id" in row.keys() else None,
        **_known(Story, json.loads(row["data"])),
    )


def thread_row(thread: Thread) -> tuple:
    return (thread.id, _iso(thread.first_date), _iso(thread.last_date), _data(thread),
            _blob(thread.centroid, np.float32), thread.merged_into, _blob(thread.embedding_sum, np.float32))


def row_thread(row: sqlite3.Row) -> Thread:
    return Thread(
        id=row["id"], first_date=_date(row["first_date"]), last_date=_date(row["last_date"]),
        centroid=_array(row["centroid"], np.float32), merged_into=row["merged_into"],
        embedding_sum=_array(row["embedding_sum"], np.float32), **_known(Thread, json.loads(row["data"])),
    )
