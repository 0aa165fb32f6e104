"""The one place that knows the order of the stages: ingest → normalize → enrich → stories → (tell).

Each step reads what the previous one stored and writes its results back in one transaction per batch,
so any step can be interrupted and re-run: it picks up the articles that have not reached it yet.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import itertools
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

from storyline.ingest import IngestOptions, read_sources
from storyline.model import Article, Document, Rejection
from storyline.enrich.bounds import EnrichBounds, oversized, quarantine, quarantine_reason
from storyline.enrich.dates import settle_dates
from storyline.normalize.clean import EmptyArticle, clean
from storyline.store import ENRICHED, INGESTED, PLACED, QUARANTINED, Store

if TYPE_CHECKING:
    from storyline.stories.linking import PlacementConfig
    from storyline.stories.threads import ThreadConfig

__all__ = ["EnrichBounds", "EnrichReport", "available_cores", "load_models", "IngestReport", "Pipeline", "PipelineConfig",
           "clean_item", "cpu_clock", "distinct_id", "enrich_articles", "exit_with_parent", "failed_stages", "ingest_time",
           "place_batches", "prepare_batch", "quarantine_reason", "reconcile_entities", "track_documents"]

Progress = Callable[[int], None]
DUPLICATE_MEMORY = 50_000  # recent articles whose fingerprints are kept to catch copies (~3.5 KiB each)


@dataclasses.dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    rejected: list[Rejection] = dataclasses.field(default_factory=list)
    stored: dict[str, str] = dataclasses.field(default_factory=dict)  # origin -> id of the stored article (new or earlier)
    notes: list[Rejection] = dataclasses.field(default_factory=list)  # stored, but a field was ignored (a date that is none)

    @property
    def seen(self) -> int:
        return self.new + self.duplicate + len(self.rejected)

    def reasons(self) -> Counter[str]:
        return Counter(r.reason.split(" (")[0].split(":")[0] for r in self.rejected)


MAX_WORKERS = 8  # helper processes at most by default: each adds what it writes to the shared models' pages


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, so a container's or ``taskset``'s limit counts),
    at most ``MAX_WORKERS``: the default number of enrichment helpers."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def ingest_time() -> dt.datetime:
    """Now, as ingest records it and judges publication dates against (a date past it cannot be true):
    ``$STORYLINE_INGEST_TIME`` (ISO 8601) when set, for replaying an archive retold into the future (the
    benchmarks do), else the clock."""
    raw = os.environ.get("STORYLINE_INGEST_TIME")
    if raw:
        try:
            when = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"STORYLINE_INGEST_TIME={raw!r} is not an ISO date-time (e.g. 2100-01-01T00:00:00+00:00)") from None
        return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def _seconds_from_env(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if 0 <= value < float("inf") else default


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    batch_size: int = 256
    enrich_batch_size: int = 64
    embedder: str = "use"
    # >1: that many helper processes prepare batches ahead while this one reconciles names; by default one a core
    workers: int = dataclasses.field(default_factory=lambda: available_cores())
    parallel_from: int = 256  # fewer pending articles than this are not worth starting a process for
    ingest: IngestOptions = dataclasses.field(default_factory=IngestOptions)
    placement: "PlacementConfig | None" = None  # None: the shipped defaults (stories.linking)
    threads: "ThreadConfig | None" = None  # None: the shipped defaults (stories.threads)
    bounds: EnrichBounds = dataclasses.field(default_factory=EnrichBounds)
    # seconds enrich/place wait for another writer of the store (Store.writer); $STORYLINE_LOCK_WAIT overrides
    lock_wait: float = dataclasses.field(default_factory=lambda: _seconds_from_env("STORYLINE_LOCK_WAIT", 300.0))


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


def _per_article(stage: str, batch: list[Article], step: Callable[[Article], None], times: Counter[str] | None,
                 seconds: float | None) -> None:
    """``step`` on each article (guarded); one that spent over ``seconds`` CPU seconds in it is quarantined."""
    with cpu_clock(times, stage):
        for article in batch:
            start = time.process_time()
            _guard(stage, article, step)
            spent = time.process_time() - start
            if seconds is not None and spent > seconds:
                quarantine(article, f"{stage} took {spent:.1f} CPU seconds, over the bound of {seconds:g} "
                                     "(PipelineConfig.bounds.stage_seconds)")


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
    quarantined: dict[str, str] = dataclasses.field(default_factory=dict)  # article id -> reason

    def count(self, batch: list[Article]) -> None:
        self.done += len(batch)
        for article in batch:
            self.failures.update(failed_stages(article))
            reason = quarantine_reason(article)
            if reason is not None:
                self.quarantined[article.id] = reason

    @property
    def broken_stages(self) -> list[str]:
        return sorted(stage for stage, n in self.failures.items() if self.done and n >= self.done)


def _guard_batch(stage: str, batch: list[Article], step: Callable[[list[Article]], None]) -> None:
    try:
        step(batch)
    except Exception:  # noqa: BLE001 - retry one by one so one bad article does not sink the batch
        for article in batch:
            _guard(stage, article, lambda a: step([a]))


def prepare_batch(batch: list[Article], embedder, recogniser=None, times: Counter[str] | None = None,
                  seconds: float | None = None) -> list:
    """The per-article part of enrichment: restore, dates, places, embedding, fingerprint and the model's
    entity recognition (any process). Returns what ``recogniser`` (an ``EntityExtractor``) found, for its
    ordered ``reconcile``; None for an article whose recognition failed (recorded on it), or for every
    article when no recogniser is given. ``times`` collects CPU seconds per stage (``cpu_clock``); an article
    over ``seconds`` in restore, dates or places is quarantined (``EnrichBounds.stage_seconds``).
    """
    from storyline.enrich.dates import enrich_dates
    from storyline.enrich.embed import embed_articles
    from storyline.enrich.fingerprint import fingerprint_articles
    from storyline.enrich.places import tag_places
    from storyline.normalize.restore import restore

    _per_article("restore", batch, restore, times, seconds)
    _per_article("dates", batch, enrich_dates, times, seconds)
    _per_article("places", batch, tag_places, times, seconds)
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


def enrich_articles(batch: list[Article], embedder, extractor, times: Counter[str] | None = None,
                    seconds: float | None = None) -> None:
    """All of enrichment for one batch: the per-article part and the model's recognition, then canonical
    names through ``extractor``'s registry.

    Shared by ``Pipeline.enrich_batch`` and the Spark job (``storyline.scale``), which runs it per partition.
    """
    reconcile_entities(batch, prepare_batch(batch, embedder, extractor, times, seconds), extractor, times)


class _Journal:
    """Which batch enrichment is working on, in the store, so a batch whose process died is known on restart.

    ``batch`` is the batch begun and not saved, ``tries`` how many times it was begun, ``alone`` the ids to
    enrich one at a time (a batch that died ``EnrichBounds.tries`` times). A first retry takes the same batch
    whole, so one crash resumes to the same store as one run.
    """

    KEY = "enrich.journal"

    def __init__(self, store: Store) -> None:
        self.store = store
        raw = store.get_state(self.KEY)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        self.batch: list[str] = list(data.get("batch", []))
        self.tries: int = int(data.get("tries", 0))
        self.alone: set[str] = set(data.get("alone", []))

    def _write(self) -> None:
        self.store.set_state(self.KEY, json.dumps({"batch": self.batch, "tries": self.tries,
                                                   "alone": sorted(self.alone)}))

    def begin(self, ids: list[str]) -> None:
        self.tries = self.tries + 1 if ids == self.batch else 1
        self.batch = list(ids)
        self._write()

    def done(self, ids: list[str]) -> None:
        """Inside the transaction that saves the batch."""
        self.batch, self.tries = [], 0
        self.alone.difference_update(ids)
        self._write()


_WORKER_EMBEDDER = None
_WORKER_RECOGNISER = None
_WORKER_SECONDS: float | None = None
_SHARED_MODELS: tuple | None = None  # (embedder, recogniser) loaded by the parent before it forks its helpers

_WARM_UP = ("Talks resumed in Paris on 16 January 2020, the French minister said. The talks will go on.",
            "the minister said on monday that the talks would resume in paris next week and that the two sides "
            "had agreed to meet again before the end of the month the talks were described as useful")


def load_models(embedder, recogniser) -> None:
    """Load every model enrichment may use, in this process, before helpers are forked from it: they then
    share the models' memory (copy-on-write) instead of each loading its own. Runs two short texts (one
    punctuated, one lowercased without punctuation) through the per-article stages, and loads the entity
    model of every language that has one."""
    from storyline.enrich.entities import MODELS
    from storyline.normalize.clean import clean

    now = dt.datetime.now(dt.timezone.utc)
    articles = [clean(Document(text=t, origin=f"warm-up:{i}", language="en"), now=now) for i, t in enumerate(_WARM_UP)]
    prepare_batch(articles, embedder, recogniser)
    for language in MODELS:
        recogniser.model(language)


def exit_with_parent(parent: int, interval: float = 0.5) -> None:
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


def _worker_init(embedder_name: str, parent: int, seconds: float | None = None) -> None:
    global _WORKER_EMBEDDER, _WORKER_RECOGNISER, _WORKER_SECONDS
    from storyline.enrich.embed import get_embedder
    from storyline.enrich.entities import EntityExtractor

    exit_with_parent(parent)
    if _SHARED_MODELS is not None:  # forked after the parent loaded them: the same pages, not a copy
        _WORKER_EMBEDDER, _WORKER_RECOGNISER = _SHARED_MODELS
    else:
        _WORKER_EMBEDDER = get_embedder(embedder_name)
        _WORKER_RECOGNISER = EntityExtractor()  # recognition reads no registry: an empty one is the same
    _WORKER_SECONDS = seconds


def _worker_prepare(batch: list[Article]) -> tuple[list[Article], list, Counter[str]]:
    times: Counter[str] = Counter()
    recognised = prepare_batch(batch, _WORKER_EMBEDDER, _WORKER_RECOGNISER, times, _WORKER_SECONDS)
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
        self._threads = None
        self._duplicates = None
        self._generation: str | None = None  # the writer-lock token of this Pipeline's last write (Store.writer)
        self.enrich_report = EnrichReport()
        self.cpu: Counter[str] = Counter()  # CPU seconds per stage over this Pipeline's life, any process
        # set to a list to keep each placement batch's changed story records as the thread linker got them:
        # what lets an evaluation score other thread settings on exactly this run's input (``replay_threads``)
        self.story_changes: list[list] | None = None

    # --- ingest + normalize -----------------------------------------------------------------
    def ingest(self, paths: Sequence[str], progress: Progress | None = None) -> IngestReport:
        return self.ingest_documents(read_sources(paths, self.config.ingest), progress)

    def ingest_documents(self, items: Iterable[Document | Rejection], progress: Progress | None = None) -> IngestReport:
        """Clean and store new articles; a re-ingested article (same id or same text) is a no-op."""
        report = IngestReport()
        now = ingest_time()
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
            report.notes.extend(Rejection(article.origin, p) for p in article.problems if p.startswith("published:"))
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
        enrich_articles(batch, self.embedder, self.entity_extractor, self.cpu, self.config.bounds.stage_seconds)

    def _reconcile(self, batch: list[Article], recognised: list) -> None:
        """Canonical names, in order, through the store-wide registry (the one step that must be ordered)."""
        reconcile_entities(batch, recognised, self.entity_extractor, self.cpu)

    def _save_enriched(self, batch: list[Article], ids: list[str], journal: _Journal | None) -> None:
        """Save a batch (a quarantined article as such: never placed) and mark ``ids`` done, in one transaction."""
        with self.store.transaction(), cpu_clock(self.cpu, "save"):
            self.store.update_articles([a for a in batch if quarantine_reason(a) is None], stage=ENRICHED)
            self.store.update_articles([a for a in batch if quarantine_reason(a) is not None], stage=QUARANTINED)
            self.store.update_entity_rows(*self.entity_extractor.registry.take_changes())
            if journal is not None:
                journal.done(ids)
        self.enrich_report.count(batch)

    def _plan(self, ids: list[str], journal: _Journal) -> list[list[str]]:
        """Batches of the pending ``ids``; those of a batch that died ``tries`` times one at a time, and an
        article that died alone that often quarantined at once (the journal says which)."""
        bounds = self.config.bounds
        if journal.batch and journal.tries >= bounds.tries:
            if len(journal.batch) == 1:
                pending = set(ids)
                stuck = [a for a in self.store.get_articles(journal.batch) if a.id in pending]
                for article in stuck:
                    quarantine(article, f"its enrichment never finished: the process ended {journal.tries} times "
                                         "while enriching it alone (killed, out of memory or over the server's time bound)")
                self._save_enriched(stuck, journal.batch, journal)
            else:
                journal.alone.update(journal.batch)
        stuck_ids = set(self.enrich_report.quarantined)
        batches: list[list[str]] = []
        current: list[str] = []
        for key in ids:
            if key in stuck_ids:
                continue
            if key in journal.alone:
                batches += [current, [key]] if current else [[key]]
                current = []
                continue
            current.append(key)
            if len(current) >= self.config.enrich_batch_size:
                batches.append(current)
                current = []
        return batches + ([current] if current else [])

    def _load_batch(self, ids: list[str], journal: _Journal) -> list[Article]:
        """The batch's articles, the oversized ones quarantined (and saved) already; the journal says it began."""
        journal.begin(ids)
        batch = self.store.get_articles(ids)
        kept = oversized(batch, self.config.bounds)
        if len(kept) < len(batch):
            self._save_enriched([a for a in batch if quarantine_reason(a) is not None], [], None)
        return kept

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the store's writer lock; when another process wrote since, forget what this Pipeline keeps
        in memory about the store (name registry, open events and stories, near-duplicates) and reload it."""
        with self.store.writer(self.config.lock_wait) as (found, mine):
            if found is None or found != self._generation:
                self._entities = self._placer = self._duplicates = self._threads = None
            try:
                yield
            finally:
                self._generation = mine

    def enrich(self, progress: Progress | None = None) -> int:
        """Enrich every article not enriched yet, holding the store's writer lock (see ``_enrich``)."""
        with self._writing():
            return self._enrich(progress)

    def _enrich(self, progress: Progress | None = None) -> int:
        """Enrich every article that has not been enriched yet (resumable, one transaction per batch).

        Returns how many; ``self.enrich_report`` counts, per stage, the articles it failed on.

        With ``workers`` > 1 and enough to do, that many helper processes prepare the next batches (restore,
        dates, places, embedding, fingerprint, the model's entity recognition: all per article) while this
        one reconciles canonical names for the current batch, which must stay in one process and in order
        for store-wide names to be the same on every run. The stores are identical either way.
        """
        self.enrich_report = EnrichReport()
        ids = self.store.pending_ids(ENRICHED)
        journal = _Journal(self.store)
        batches = self._plan(ids, journal)
        if self.config.workers > 1 and len(ids) >= self.config.parallel_from:
            return self._enrich_overlapped(batches, progress, journal)
        for chunk in batches:
            batch = self._load_batch(chunk, journal)
            self.enrich_batch(batch)
            self._save_enriched(batch, chunk, journal)
            if progress:
                progress(len(chunk))
        return len(ids)

    def _enrich_overlapped(self, batches: list[list[str]], progress: Progress | None, journal: _Journal) -> int:
        import multiprocessing

        global _SHARED_MODELS
        # fork after the models are loaded: the helpers share their memory (copy-on-write) instead of each
        # loading a copy, and start at once; it also works from any caller's script (spawn would re-import an
        # unguarded __main__). gc.freeze keeps the collector from touching, and so copying, the shared objects.
        forking = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if forking else "spawn")
        if forking:
            from storyline.enrich.entities import EntityExtractor

            recogniser = EntityExtractor()  # recognition reads no registry: one apart from the ordered one
            with cpu_clock(self.cpu, "load models"):
                load_models(self.embedder, recogniser)
            _SHARED_MODELS = (self.embedder, recogniser)
            gc.freeze()
        try:
            return self._enrich_in_pool(batches, progress, journal, context, self.config.workers)
        finally:
            if forking:
                _SHARED_MODELS = None
                gc.unfreeze()

    def _enrich_in_pool(self, batches: list[list[str]], progress: Progress | None, journal: _Journal,
                        context, workers: int) -> int:
        from collections import deque
        from concurrent.futures import ProcessPoolExecutor

        done = 0
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                                 initargs=(self.config.embedder, os.getpid(), self.config.bounds.stage_seconds)) as pool:
            ahead: deque = deque()
            queued = 0
            for index in range(len(batches)):
                while queued < len(batches) and queued <= index + workers:  # keep every helper busy
                    chunk = self.store.get_articles(batches[queued])
                    ahead.append((pool.submit(_worker_prepare, oversized(chunk, self.config.bounds)), chunk))
                    queued += 1
                future, chunk = ahead.popleft()
                journal.begin(batches[index])
                batch, recognised, times = future.result()
                self.cpu.update(times)
                self._reconcile(batch, recognised)
                returned = {a.id: a for a in batch}  # the helpers' copies; the oversized ones stayed here
                self._save_enriched([returned.get(a.id, a) for a in chunk], batches[index], journal)
                done += len(chunk)
                if progress:
                    progress(len(chunk))
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
                                         reserved=self.store.cluster_id_taken, history=self.store.records_between)
            members = self.store.placement_order(placer.live_members())
            placer.remember(self._articles_in_order(members))
            self._placer = placer
        return self._placer

    @property
    def threads(self):
        """The thread linker, restored from the open threads and their stories' records."""
        if self._threads is None:
            from storyline.stories.threads import ThreadConfig, ThreadLinker

            cfg = self.config.threads or ThreadConfig()
            threads, stories = self.store.thread_records(cfg.window_days)
            self._threads = ThreadLinker.restore(threads, stories, self.store.redirects(), config=cfg,
                                                 reserved=self.store.cluster_id_taken, history=self.store.threads_between)
        return self._threads

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
        with self._writing():
            return self._place(progress)

    def _place(self, progress: Progress | None) -> int:
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
            if self.story_changes is not None:
                self.story_changes.append(copy.deepcopy(stories))
            threads = self.threads.update(stories)  # gives each changed story its thread
            self.store.save_events(events)
            self.store.save_stories(stories)
            self.store.save_threads(threads)
        self.placer.forget_frozen()  # written: memory stays bounded by the open window, not the store

    def _settle_dates(self, batch: list[Article]) -> list[Article]:
        """Undated (or date-inferred) members of a story resolve their partial dates against its dated ones
        (``settle_dates``).

        Runs for every story the batch touched, so it also fires when the dated article arrives after the
        undated one. Returns the already-stored articles it changed (the batch is written anyway).
        """
        in_batch = {a.id: a for a in batch}
        changed: list[Article] = []
        for story_id in sorted({a.story_id for a in batch if a.story_id}):
            ids = self.placer.story_article_ids(story_id)
            stored_anchor, stored_weak = self.store.date_anchor_and_weak([i for i in ids if i not in in_batch])
            members = stored_weak + [in_batch[i] for i in ids if i in in_batch]
            anchor = dt.date.fromisoformat(stored_anchor) if stored_anchor else None
            changed.extend(m for m in settle_dates(members, anchor) if m.id not in in_batch)
        return changed

    # --- tell: prepared views ------------------------------------------------------------------
    def tell(self, progress: Progress | None = None) -> int:
        """Prepare the views (timeline, summary, actors, sources, what's new) of every story whose membership
        changed, so that no read computes them (``Queries.prepare_views``). Returns how many were prepared."""
        from storyline.queries import Queries

        with cpu_clock(self.cpu, "tell"):
            return Queries(self.store).prepare_views(progress=progress)

    # --- everything -------------------------------------------------------------------------
    def track(self, paths: Sequence[str]) -> IngestReport:
        report = self.ingest(paths)
        self.enrich()
        self.place()
        self.tell()
        return report


def track_documents(documents: Sequence[Document], config: PipelineConfig | None = None,
                    db_path: str | None = None) -> dict[str, Article]:
    """Run ``track`` over Documents on a fresh temporary store (the evaluations use ``evaluation.product``,
    which keeps the enriched store so each setting only re-places it).

    Returns origin → the stored, placed Article, with ``event_id``/``story_id`` followed through merges and
    ``thread_id`` taken from its story.
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
                thread = store.get_thread(story.thread_id) if story and story.thread_id else None
                article.thread_id = thread.id if thread else None
    return {origin: placed[key] for origin, key in report.stored.items() if key in placed}
