"""The one place that knows the order of the stages: ingest → normalize → enrich → stories → (tell).

Each step reads what the previous one stored and writes its results back in one transaction per batch,
so any step can be interrupted and re-run: it picks up the articles that have not reached it yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from storyline.ingest import IngestOptions, read_sources
from storyline.model import Article, DateProvenance, Document, Rejection
from storyline.normalize.clean import EmptyArticle, clean
from storyline.store import ENRICHED, INGESTED, PLACED, Store

if TYPE_CHECKING:
    from storyline.stories.linking import PlacementConfig

__all__ = ["EnrichReport", "IngestReport", "Pipeline", "PipelineConfig", "clean_item", "cpu_clock", "distinct_id",
           "enrich_articles", "failed_stages", "place_batches", "prepare_batch", "reconcile_entities", "track_documents"]

Progress = Callable[[int], None]
DUPLICATE_MEMORY = 50_000  # recent articles whose fingerprints are kept to catch copies (~3.5 KiB each)


@dataclasses.dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = dataclasses.field(default_factory=list)
    stored: dict[str, str] = dataclasses.field(default_factory=dict)  # origin -> id of the stored article (new or earlier)

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
    workers: int = 2  # >1: that many helper processes prepare batches ahead while this one reconciles names
    parallel_from: int = 256  # fewer pending articles than this are not worth starting a process for
    ingest: IngestOptions = dataclasses.field(default_factory=IngestOptions)
    placement: "PlacementConfig | None" = None  # None: the shipped defaults (stories.linking)


ENRICH_STAGES = ("restore", "dates", "places", "embedding", "fingerprint", "entities")


@contextmanager
def cpu_clock(times: Counter[str] | None, stage: str) -> Iterator[None]:
    """Add the CPU seconds this process spends in the block to ``times[stage]`` (nothing when None).

    CPU rather than wall time: the profile (``benchmarks/track.py``) must mean the same on a busy machine,
    and a helper process's share is counted where it is spent, then added when its batch comes back.
    """
    if times is None:
        yield
        return
    start = time.process_time()
    try:
        yield
    finally:
        times[stage] += time.process_time() - start


def _guard(stage: str, article: Article, step: Callable[[Article], None]) -> None:
    try:
        step(article)
    except Exception as exc:  # noqa: BLE001 - recorded on the article, never fatal
        article.problems.append(f"{stage}: failed ({type(exc).__name__}: {exc})")


def failed_stages(article: Article) -> set[str]:
    """The enrichment stages that failed on this article (as recorded in its problems)."""
    return {p.split(":", 1)[0] for p in article.problems if p.split(":", 1)[0] in ENRICH_STAGES
            and p.split(":", 1)[1].lstrip().startswith("failed")}


@dataclasses.dataclass
class EnrichReport:
    """How many articles one ``enrich`` run handled, and how many each stage failed on.

    A stage that failed on every article (a broken or missing model) makes the run a failure: the
    articles are still stored, but the command must not report success.
    """

    done: int = 0
    failures: Counter[str] = dataclasses.field(default_factory=Counter)

    def count(self, batch: list[Article]) -> None:
        self.done += len(batch)
        for article in batch:
            self.failures.update(failed_stages(article))

    @property
    def broken_stages(self) -> list[str]:
        return sorted(stage for stage, n in self.failures.items() if self.done and n >= self.done)


def _guard_batch(stage: str, batch: list[Article], step: Callable[[list[Article]], None]) -> None:
    try:
        step(batch)
    except Exception:  # noqa: BLE001 - retry one by one so one bad article does not sink the batch
        for article in batch:
            _guard(stage, article, lambda a: step([a]))


def prepare_batch(batch: list[Article], embedder, recogniser=None, times: Counter[str] | None = None) -> list:
    """The per-article part of enrichment: restore, dates, places, embedding, fingerprint and the model's
    entity recognition (any process). Returns what ``recogniser`` (an ``EntityExtractor``) found, for its
    ordered ``reconcile``; None for an article whose recognition failed (recorded on it), or for every
    article when no recogniser is given. ``times`` collects CPU seconds per stage (``cpu_clock``).
    """
    from storyline.enrich.dates import enrich_dates
    from storyline.enrich.embed import embed_articles
    from storyline.enrich.fingerprint import fingerprint_articles
    from storyline.enrich.places import tag_places
    from storyline.normalize.restore import restore

    with cpu_clock(times, "restore"):
        for article in batch:
            _guard("restore", article, restore)
    with cpu_clock(times, "dates"):
        for article in batch:
            _guard("dates", article, enrich_dates)
    with cpu_clock(times, "places"):
        for article in batch:
            _guard("places", article, tag_places)
    with cpu_clock(times, "embedding"):
        _guard_batch("embedding", batch, lambda b: embed_articles(b, embedder))
    with cpu_clock(times, "fingerprint"):
        _guard_batch("fingerprint", batch, fingerprint_articles)
    if recogniser is None:
        return [None] * len(batch)
    before = recogniser.cpu["ner"]
    recognised = _recognise(batch, recogniser)
    if times is not None:
        times["ner"] += recogniser.cpu["ner"] - before
    return recognised


def _recognise(batch: list[Article], recogniser) -> list:
    """The model's findings per article; a batch that fails is retried article by article."""
    try:
        return recogniser.recognise(batch)
    except Exception:  # noqa: BLE001 - one bad article must not cost its batch its entities
        out = []
        for article in batch:
            try:
                out.extend(recogniser.recognise([article]))
            except Exception as exc:  # noqa: BLE001 - recorded on the article, never fatal
                article.problems.append(f"entities: failed ({type(exc).__name__}: {exc})")
                out.append(None)
        return out


def distinct_id(article_id: str, content_hash: str) -> str:
    """The id an article is stored under when its id is taken by an article with another text (a different
    or a corrected article: neither may be lost), so that both are kept."""
    return hashlib.sha1(f"{article_id}\x00{content_hash}".encode()).hexdigest()[:16]


def clean_item(item: Document | Rejection, now: dt.datetime) -> Article | Rejection:
    """One ingested item as an Article, or the Rejection that says why not (never raises)."""
    if isinstance(item, Rejection):
        return item
    try:
        return clean(item, now=now)
    except EmptyArticle as exc:
        return Rejection(item.origin, str(exc))
    except Exception as exc:  # noqa: BLE001 - a record we cannot clean must not stop the batch
        return Rejection(item.origin, f"could not be cleaned ({type(exc).__name__}: {exc})")


def reconcile_entities(batch: list[Article], recognised: list, extractor, times: Counter[str] | None = None) -> None:
    """Canonical names for what ``prepare_batch`` recognised, in order, through ``extractor``'s registry (the
    one step of enrichment that must be ordered)."""
    found = dict(zip(map(id, batch), recognised))

    def step(part: list[Article]) -> None:
        extractor.reconcile(part, [found[id(a)] for a in part])

    with cpu_clock(times, "entities"):
        _guard_batch("entities", batch, step)


def enrich_articles(batch: list[Article], embedder, extractor, times: Counter[str] | None = None) -> None:
    """All of enrichment for one batch: the per-article part and the model's recognition, then canonical
    names through ``extractor``'s registry.

    Shared by ``Pipeline.enrich_batch`` and the Spark job (``storyline.scale``), which runs it per partition.
    """
    reconcile_entities(batch, prepare_batch(batch, embedder, extractor, times), extractor, times)


_WORKER_EMBEDDER = None
_WORKER_RECOGNISER = None


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """End this helper process as soon as the process that started it is gone.

    A helper blocks on a pipe whose other end it holds itself, so a parent killed with SIGKILL (which
    runs no clean-up) would leave it waiting forever, holding its models in memory.
    """
    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            threading.Event().wait(interval)

    threading.Thread(target=watch, name="storyline-parent-watch", daemon=True).start()


def _worker_init(embedder_name: str, parent: int) -> None:
    global _WORKER_EMBEDDER, _WORKER_RECOGNISER
    from storyline.enrich.embed import get_embedder
    from storyline.enrich.entities import EntityExtractor

    _exit_with_parent(parent)
    _WORKER_EMBEDDER = get_embedder(embedder_name)
    _WORKER_RECOGNISER = EntityExtractor()  # recognition reads no registry: an empty one is the same


def _worker_prepare(batch: list[Article]) -> tuple[list[Article], list, Counter[str]]:
    times: Counter[str] = Counter()
    recognised = prepare_batch(batch, _WORKER_EMBEDDER, _WORKER_RECOGNISER, times)
    return batch, recognised, times


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def place_batches(placer, batches: Iterable[list[Article]], prepare: Callable[[Article], None] | None = None,
                  idf_at_end: tuple[int, dict[str, int]] | None = None,
                  times: Counter[str] | None = None) -> Iterator[tuple[list[Article], list, dict[str, tuple[str, str]]]]:
    """The one placement loop, shared by ``Pipeline.place``, the evaluations (through it) and the Spark
    windows (``scale.stages.place_window``), so all of them place exactly as ``track`` does.

    For each batch: ``prepare`` each article (near-duplicate marking, renames), place the batch and refine
    what it touched (``StoryPlacer.place_batch``), then give each article the event and story that hold it
    at the batch's end (a split may move it, a later merge in the batch may rename its cluster). Yields
    (batch, links, moved): ``moved`` holds earlier batches' articles a split moved, to write back. A
    generator: the next batch is only read once the caller has handled (written) the one before.
    ``idf_at_end`` is the IDF snapshot for the last batch when it ends beyond ``batches`` (a Spark window).
    """
    it = iter(batches)
    batch = next(it, None)
    while batch:
        following = next(it, None) if idf_at_end is not None else None  # look ahead only where the end matters
        if prepare is not None:
            with cpu_clock(times, "duplicates"):
                for article in batch:
                    prepare(article)
        with cpu_clock(times, "placement"):
            links = placer.place_batch(batch, idf_at_end if idf_at_end is not None and not following else None)
            moved = placer.moved()  # members a split took out of an event, this batch's or earlier ones
            for article in batch:  # an event or story that merged later in this batch is written as what it became
                article.event_id, article.story_id = moved.pop(article.id, (article.event_id, article.story_id))
                article.event_id = placer.resolve(article.event_id)
                article.story_id = placer.resolve(article.story_id)
        yield batch, links, moved
        batch = following if idf_at_end is not None else next(it, None)


class Pipeline:
    """Runs the stages over one store. Models load lazily, once per Pipeline."""

    def __init__(self, store: Store, config: PipelineConfig | None = None) -> None:
        self.store = store
        self.config = config or PipelineConfig()
        self._entities = None
        self._embedder = None
        self._placer = None
        self._duplicates = None
        self.enrich_report = EnrichReport()
        self.cpu: Counter[str] = Counter()  # CPU seconds per stage over this Pipeline's life, any process

    # --- ingest + normalize -----------------------------------------------------------------
    def ingest(self, paths: Sequence[str], progress: Progress | None = None) -> IngestReport:
        return self.ingest_documents(read_sources(paths, self.config.ingest), progress)

    def ingest_documents(self, items: Iterable[Document | Rejection], progress: Progress | None = None) -> IngestReport:
        """Clean and store new articles; a re-ingested article (same id or same text) is a no-op."""
        report = IngestReport()
        now = dt.datetime.now(dt.timezone.utc)
        clock = time.process_time()
        for batch in _batches(items, self.config.batch_size):
            fresh: list[Article] = []
            for item in batch:
                cleaned = clean_item(item, now)
                (report.rejected if isinstance(cleaned, Rejection) else fresh).append(cleaned)
            with self.store.transaction():  # check and insert at once: a concurrent ingest waits, then sees ours
                self._store_new(fresh, report)
            if progress:
                progress(len(batch))
        self.cpu["ingest"] += time.process_time() - clock  # reading, decoding, cleaning and storing
        return report

    def _store_new(self, articles: list[Article], report: IngestReport) -> None:
        """Store the articles not stored yet. Same text, or same source id with the same text: a no-op.

        An article whose (scoped) id is taken by a different text is a different article, or a corrected
        one: neither may be lost, so it is stored under an id that also hashes its text.
        """
        known_ids, known_hashes = self.store.known([a.id for a in articles], [a.content_hash for a in articles])
        new: list[Article] = []
        for article in articles:
            if article.content_hash in known_hashes:
                report.duplicate += 1
                report.stored[article.origin] = known_hashes[article.content_hash]
                continue
            if article.id in known_ids:  # a stored article (or one earlier in this batch) has another text
                article.id = distinct_id(article.id, article.content_hash)
            known_ids.add(article.id)
            known_hashes[article.content_hash] = article.id
            report.stored[article.origin] = article.id
            new.append(article)
        if new:
            self.store.add_articles(new, stage=INGESTED)
        report.new += len(new)

    # --- normalize (restoration) + enrich -----------------------------------------------------
    @property
    def entity_extractor(self):
        if self._entities is None:
            from storyline.enrich.entities import EntityExtractor, EntityRegistry

            self._entities = EntityExtractor(EntityRegistry.from_rows(self.store.entity_rows()))
        return self._entities

    @property
    def embedder(self):
        if self._embedder is None:
            from storyline.enrich.embed import get_embedder

            self._embedder = get_embedder(self.config.embedder)
        return self._embedder

    def enrich_batch(self, batch: list[Article]) -> None:
        """Restore, dates, vectors and fingerprints (per article), then entities (store-wide names).

        A failing step records why on the article and the others still run: enrichment never fails ingest.
        """
        enrich_articles(batch, self.embedder, self.entity_extractor, self.cpu)

    def _reconcile(self, batch: list[Article], recognised: list) -> None:
        """Canonical names, in order, through the store-wide registry (the one step that must be ordered)."""
        reconcile_entities(batch, recognised, self.entity_extractor, self.cpu)

    def _save_enriched(self, batch: list[Article]) -> None:
        with self.store.transaction(), cpu_clock(self.cpu, "save"):
            self.store.update_articles(batch, stage=ENRICHED)
            self.store.update_entity_rows(*self.entity_extractor.registry.take_changes())
        self.enrich_report.count(batch)

    def enrich(self, progress: Progress | None = None) -> int:
        """Enrich every article that has not been enriched yet (resumable, one transaction per batch).

        Returns how many; ``self.enrich_report`` counts, per stage, the articles it failed on.

        With ``workers`` > 1 and enough to do, that many helper processes prepare the next batches (restore,
        dates, places, embedding, fingerprint, the model's entity recognition: all per article) while this
        one reconciles canonical names for the current batch, which must stay in one process and in order
        for store-wide names to be the same on every run. The stores are identical either way.
        """
        self.enrich_report = EnrichReport()
        ids = self.store.pending_ids(ENRICHED)
        size = self.config.enrich_batch_size
        batches = [ids[i : i + size] for i in range(0, len(ids), size)]
        if self.config.workers > 1 and len(ids) >= self.config.parallel_from:
            return self._enrich_overlapped(batches, progress)
        for chunk in batches:
            batch = self.store.get_articles(chunk)
            self.enrich_batch(batch)
            self._save_enriched(batch)
            if progress:
                progress(len(batch))
        return len(ids)

    def _enrich_overlapped(self, batches: list[list[str]], progress: Progress | None) -> int:
        import multiprocessing
        from collections import deque
        from concurrent.futures import ProcessPoolExecutor

        done = 0
        # fork: works from any caller's script (spawn would re-import an unguarded __main__); the helpers
        # only run the per-article stages, whose models the parent has not loaded in this mode
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        workers = self.config.workers
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                                 initargs=(self.config.embedder, os.getpid())) as pool:
            ahead: deque = deque()
            queued = 0
            for index in range(len(batches)):
                while queued < len(batches) and queued <= index + workers:  # keep every helper busy
                    ahead.append(pool.submit(_worker_prepare, self.store.get_articles(batches[queued])))
                    queued += 1
                batch, recognised, times = ahead.popleft().result()
                self.cpu.update(times)
                self._reconcile(batch, recognised)
                self._save_enriched(batch)
                done += len(batch)
                if progress:
                    progress(len(batch))
        return done

    # --- stories ----------------------------------------------------------------------------
    @property
    def placer(self):
        if self._placer is None:
            from storyline.stories.placement import PlacementConfig, StoryPlacer

            cfg, doc_freq = self.config.placement or PlacementConfig(), self.store.doc_freq()
            redirects = self.store.redirects()
            if doc_freq[0]:  # only what a placer still reads: the rest is final and stays in the store
                events, stories = self.store.placement_records(cfg.event_window_days, cfg.story_window_days, redirects)
            else:  # a store from before schema v2 estimates document frequencies from every event
                events, stories = self.store.events(include_merged=True), self.store.stories(include_merged=True)
            placer = StoryPlacer.restore(events, stories, redirects, config=cfg, doc_freq=doc_freq,
                                         reserved=self.store.cluster_id_taken)
            members = self.store.placement_order(placer.live_members())
            placer.remember(self._articles_in_order(members))
            self._placer = placer
        return self._placer

    def _articles_in_order(self, ids: list[str]) -> Iterator[Article]:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            by_id = {a.id: a for a in self.store.get_articles(chunk)}
            yield from (by_id[k] for k in chunk if k in by_id)

    @property
    def duplicates(self):
        """Near-duplicate groups over recent articles, rebuilt from the store's fingerprints on start."""
        if self._duplicates is None:
            from storyline.stories.duplicates import NearDuplicates

            self._duplicates = NearDuplicates(capacity=DUPLICATE_MEMORY)
            for key, fingerprint in self.store.recent_fingerprints(DUPLICATE_MEMORY):
                self._duplicates.find(key, fingerprint)
        return self._duplicates

    def _mark_duplicate(self, article: Article) -> None:
        if article.fingerprint is not None:
            article.duplicate_of = self.duplicates.find(article.id, article.fingerprint)

    def place(self, progress: Progress | None = None) -> int:
        """Place every enriched article into an event and a story, oldest publication date first."""
        first = self.store.ready_to_place(self.config.batch_size)
        if not first:
            return 0
        done = 0
        # read lazily: each batch is read after the one before it was written
        batches = itertools.chain([first], iter(lambda: self.store.ready_to_place(self.config.batch_size), []))
        for batch, links, moved in place_batches(self.placer, batches, self._mark_duplicate, times=self.cpu):
            self._save_placed(batch, links, moved)
            done += len(batch)
            if progress:
                progress(len(batch))
        return done

    def _save_placed(self, batch: list[Article], links: list, moved: dict[str, tuple[str, str]]) -> None:
        """One placed batch, its settled dates and what a split moved, in one transaction."""
        with cpu_clock(self.cpu, "settle dates"):
            settled = self._settle_dates(batch)
        with self.store.transaction(), cpu_clock(self.cpu, "save placed"):
            self.store.update_articles(batch, stage=PLACED)
            self.store.update_articles(settled, stage=PLACED)
            self.store.save_links(links)
            self.store.reassign(moved)
            self.store.save_doc_freq(*self.placer.doc_freq_changes())
            events, stories = self.placer.changes()
            self.store.save_events(events)
            self.store.save_stories(stories)
        self.placer.forget_frozen()  # written: memory stays bounded by the open window, not the store

    def _settle_dates(self, batch: list[Article]) -> list[Article]:
        """Undated (or date-inferred) members of a story resolve their partial dates against its dated ones.

        Runs for every story the batch touched, so it also fires when the dated article arrives after the
        undated one. Returns the already-stored articles it changed (the batch is written anyway).
        """
        from storyline.enrich.dates import resolve_partial

        weak = (DateProvenance.UNDATED, DateProvenance.INFERRED)
        in_batch = {a.id: a for a in batch}
        changed: list[Article] = []
        for story_id in sorted({a.story_id for a in batch if a.story_id}):
            ids = self.placer.story_article_ids(story_id)
            stored_anchor, stored_weak = self.store.date_anchor_and_weak([i for i in ids if i not in in_batch])
            members = stored_weak + [in_batch[i] for i in ids if i in in_batch]
            anchors = [m.published for m in members if m.published and m.published_provenance not in weak]
            if stored_anchor:
                anchors.append(dt.date.fromisoformat(stored_anchor))
            if not anchors:
                continue
            anchor = max(anchors)
            for member in members:
                if member.published_provenance in weak and any(d.is_partial for d in member.dates):
                    member.dates = resolve_partial(member.dates, anchor, DateProvenance.STORY.value)
                    if member.id not in in_batch:
                        changed.append(member)
        return changed

    # --- everything -------------------------------------------------------------------------
    def track(self, paths: Sequence[str]) -> IngestReport:
        report = self.ingest(paths)
        self.enrich()
        self.place()
        return report


def track_documents(documents: Sequence[Document], config: PipelineConfig | None = None,
                    db_path: str | None = None) -> dict[str, Article]:
    """Run ``track`` over Documents on a fresh temporary store (the evaluations use ``evaluation.product``,
    which keeps the enriched store so each setting only re-places it).

    Returns origin → the stored, placed Article, with ``event_id``/``story_id`` followed through merges.
    A document whose text was already stored (a re-post) maps to the stored article it duplicates.
    """
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="storyline-eval-") as tmp:
        with Store(db_path or Path(tmp) / "eval.db") as store:
            pipeline = Pipeline(store, config)
            report = pipeline.ingest_documents(documents)
            pipeline.enrich()
            pipeline.place()
            placed = {a.id: a for a in store.get_articles(sorted(set(report.stored.values())))}
            for article in placed.values():
                event = store.get_event(article.event_id) if article.event_id else None
                story = store.get_story(article.story_id) if article.story_id else None
                article.event_id = event.id if event else article.event_id
                article.story_id = story.id if story else article.story_id
    return {origin: placed[key] for origin, key in report.stored.items() if key in placed}
