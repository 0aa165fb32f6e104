"""The short Python API: ``storyline.open(db)`` → a ``Storyline`` that tracks files and answers questions.

    import storyline
    with storyline.open("news.db") as sl:
        sl.track(["examples/"])
        for story in sl.stories(limit=5)["items"]:
            print(story["display_title"], story["articles"])

Writes go through the same ``Pipeline`` as ``storyline track``; reads through the same ``Queries`` as the
CLI, the HTTP API and the web pages, so every way in gives the same answers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable, Sequence

from storyline.model import Document
from storyline.pipeline import IngestReport, Pipeline, PipelineConfig
from storyline.queries import DEFAULT_DATES, DEFAULT_WORDS, Filters, Queries
from storyline.store import Store

__all__ = ["Storyline", "open_store"]


def _filters(since: str | dt.date | None, until: str | dt.date | None, **rest: str | None) -> Filters:
    def day(value: str | dt.date | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    return Filters(since=day(since), until=day(until), **rest)


class Storyline:
    """One store, its pipeline (models load on first write) and its query layer."""

    def __init__(self, db: str | Path | None = None, config: PipelineConfig | None = None) -> None:
        self.store = Store(db)
        self.queries = Queries(self.store)
        self._config = config
        self._pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = Pipeline(self.store, self._config)
        return self._pipeline

    # --- writing ------------------------------------------------------------------------------
    def track(self, paths: Sequence[str | Path]) -> IngestReport:
        """Ingest files/folders, then enrich and place everything not placed yet."""
        return self.pipeline.track([str(p) for p in paths])

    def add(self, documents: Iterable[Document | dict[str, Any]]) -> IngestReport:
        """Ingest Documents (or dicts with Document's fields: text, title, url, published, ...), then enrich and place."""
        docs = [d if isinstance(d, Document) else Document(**{"origin": f"python:{i}", **d}) for i, d in enumerate(documents)]
        report = self.pipeline.ingest_documents(docs)
        self.pipeline.enrich()
        self.pipeline.place()
        self.pipeline.tell()
        return report

    # --- reading ------------------------------------------------------------------------------
    def stories(self, *, since: str | dt.date | None = None, until: str | dt.date | None = None,
                entity: str | None = None, source: str | None = None, language: str | None = None,
                text: str | None = None, sort: str = "articles", limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """A page of stories: ``{"total", "limit", "offset", "items": [story rows]}``."""
        f = _filters(since, until, entity=entity, source=source, language=language, text=text)
        return self.queries.stories(f, sort=sort, limit=limit, offset=offset)

    def story(self, story_id: str, **options: Any) -> dict[str, Any]:
        """Timeline, cited summary, actors, sources, events and articles of one story (merged ids redirect)."""
        return self.queries.story(story_id, **options)

    def threads(self, *, since: str | dt.date | None = None, until: str | dt.date | None = None,
                entity: str | None = None, source: str | None = None, language: str | None = None,
                text: str | None = None, sort: str = "articles", limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """A page of threads (long-running coverage made of stories): ``{"total", ..., "items": [thread rows]}``."""
        f = _filters(since, until, entity=entity, source=source, language=language, text=text)
        return self.queries.threads(f, sort=sort, limit=limit, offset=offset)

    def thread(self, thread_id: str, **options: Any) -> dict[str, Any]:
        """One thread: its stories over time, its long timeline, cited summary, actors, sources, languages
        (merged ids redirect)."""
        return self.queries.thread(thread_id, **options)

    def articles(self, *, since: str | dt.date | None = None, until: str | dt.date | None = None,
                 entity: str | None = None, source: str | None = None, language: str | None = None,
                 text: str | None = None, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        f = _filters(since, until, entity=entity, source=source, language=language, text=text)
        return self.queries.articles(f, limit=limit, offset=offset)

    def article(self, article_id: str) -> dict[str, Any]:
        """One article with its date provenance, what's new in it and its near-duplicates."""
        return self.queries.article(article_id)

    def search(self, query: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        return self.queries.search(query, limit=limit, offset=offset)

    def similar(self, article_id: str, limit: int = 10) -> list[dict[str, Any]]:
        return self.queries.similar(article_id, limit)

    def timeline(self, story_id: str, dates: int | None = DEFAULT_DATES) -> list[dict[str, Any]]:
        """The story's dated timeline (``dates=None``: as many dates as the story calls for, as every view)."""
        return self.queries.timeline(story_id, dates)

    def summary(self, story_id: str, words: int = DEFAULT_WORDS, query: str | None = None) -> list[dict[str, Any]]:
        return self.queries.summary(story_id, words, query)

    # --- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Storyline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(db: str | Path | None = None, config: PipelineConfig | None = None) -> Storyline:
    """Open (or create) the store at ``db`` (default ``$STORYLINE_DB`` or ./storyline.db)."""
    return Storyline(db, config)
