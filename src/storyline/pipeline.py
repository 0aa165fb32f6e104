"""The one place that knows the order of the stages: ingest → normalize → enrich → stories → (tell).

Each step reads what the previous one stored and writes its results back in one transaction per batch,
so any step can be interrupted and re-run: it picks up the articles that have not reached it yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from typing import Callable, Iterable, Iterator, Sequence

from storyline.ingest import IngestOptions, read_sources
from storyline.model import Article, DateProvenance, Document, Rejection
from storyline.normalize.clean import clean
from storyline.store import ENRICHED, INGESTED, PLACED, Store

__all__ = ["IngestReport", "Pipeline", "PipelineConfig"]

Progress = Callable[[int], None]


@dataclasses.dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = dataclasses.field(default_factory=list)
    new_ids: list[str] = dataclasses.field(default_factory=list)
    duplicate_ids: list[str] = dataclasses.field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.duplicate + len(self.rejected)

    def reasons(self) -> Counter[str]:
        return Counter(r.reason.split(" (")[0].split(":")[0] for r in self.rejected)


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    batch_size: int = 256
    enrich_batch_size: int = 64
    embedder: str = "use"
    ingest: IngestOptions = dataclasses.field(default_factory=IngestOptions)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Pipeline:
    """Runs the stages over one store. Models load lazily, once per Pipeline."""

    def __init__(self, store: Store, config: PipelineConfig | None = None) -> None:
        self.store = store
        self.config = config or PipelineConfig()
        self._enricher = None
        self._placer = None

    # --- ingest + normalize -----------------------------------------------------------------
    def ingest(self, paths: Sequence[str], progress: Progress | None = None) -> IngestReport:
        return self.ingest_documents(read_sources(paths, self.config.ingest), progress)

    def ingest_documents(self, items: Iterable[Document | Rejection], progress: Progress | None = None) -> IngestReport:
        """Clean and store new articles; a re-ingested article (same id or same text) is a no-op."""
        report = IngestReport()
        now = dt.datetime.now(dt.timezone.utc)
        for batch in _batches(items, self.config.batch_size):
            fresh: list[Article] = []
            for item in batch:
                if isinstance(item, Rejection):
                    report.rejected.append(item)
                    continue
                try:
                    fresh.append(clean(item, now=now))
                except Exception as exc:  # a record we cannot clean must not stop the batch
                    report.rejected.append(Rejection(item.origin, f"could not be cleaned: {exc}"))
            self._store_new(fresh, report)
            if progress:
                progress(len(batch))
        return report

    def _store_new(self, articles: list[Article], report: IngestReport) -> None:
        known_ids, known_hashes = self.store.known([a.id for a in articles], [a.content_hash for a in articles])
        new: list[Article] = []
        for article in articles:
            if article.id in known_ids or article.content_hash in known_hashes:
                report.duplicate += 1
                report.duplicate_ids.append(article.id)
                continue
            known_ids.add(article.id)
            known_hashes.add(article.content_hash)
            new.append(article)
        if new:
            self.store.add_articles(new, stage=INGESTED)
        report.new += len(new)
        report.new_ids.extend(a.id for a in new)

    # --- enrich -----------------------------------------------------------------------------
    @property
    def enricher(self):
        if self._enricher is None:
            from storyline.enrich import Enricher

            self._enricher = Enricher(self.store, embedder=self.config.embedder)
        return self._enricher

    def enrich(self, progress: Progress | None = None) -> int:
        """Restore and enrich every article that has not been enriched yet."""
        done = 0
        while batch := self.store.pending(ENRICHED, limit=self.config.enrich_batch_size):
            self.enricher.enrich(batch)
            with self.store.transaction():
                self.store.update_articles(batch, stage=ENRICHED)
                self.enricher.save_registry()
            done += len(batch)
            if progress:
                progress(len(batch))
        return done

    # --- stories ----------------------------------------------------------------------------
    @property
    def placer(self):
        if self._placer is None:
            from storyline.stories import StoryPlacer

            self._placer = StoryPlacer.restore(
                self.store.events(include_merged=True), self.store.stories(include_merged=True), {}
            )
        return self._placer

    def place(self, progress: Progress | None = None) -> int:
        """Place every enriched article into an event and a story, oldest publication date first."""
        done = 0
        while True:
            batch = [a for a in self.store.pending(PLACED, limit=self.config.batch_size) if True]
            batch = [a for a in batch if a.models.get("embedding")] or batch
            if not batch:
                return done
            batch.sort(key=lambda a: (a.published is None, a.published or dt.date.min))
            links = [self.placer.place(a) for a in batch]
            self._settle_dates(batch)
            with self.store.transaction():
                self.store.update_articles(batch, stage=PLACED)
                self.store.save_links(links)
                self.store.save_events(self.placer.events())
                self.store.save_stories(self.placer.stories())
            done += len(batch)
            if progress:
                progress(len(batch))

    def _settle_dates(self, articles: list[Article]) -> None:
        """An undated article that joined a dated story resolves its partial dates against the story."""
        from storyline.enrich.dates import resolve_partial

        for article in articles:
            if article.published_provenance not in (DateProvenance.UNDATED, DateProvenance.INFERRED):
                continue
            if not any(d.is_partial for d in article.dates) or not article.story_id:
                continue
            anchor = self._story_anchor(article)
            if anchor is not None:
                article.dates = resolve_partial(article.dates, anchor, DateProvenance.STORY.value)

    def _story_anchor(self, article: Article) -> dt.date | None:
        story = next((s for s in self.placer.stories() if s.id == article.story_id), None)
        if story is None:
            return None
        ids = [i for e in self.placer.events() if e.story_id == story.id for i in e.article_ids if i != article.id]
        dated = [
            a.published for a in self.store.get_articles(ids)
            if a.published and a.published_provenance not in (DateProvenance.UNDATED, DateProvenance.INFERRED)
        ]
        return max(dated) if dated else None

    # --- everything -------------------------------------------------------------------------
    def track(self, paths: Sequence[str]) -> IngestReport:
        report = self.ingest(paths)
        self.enrich()
        self.place()
        return report
