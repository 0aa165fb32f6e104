"""What each Spark task runs, in plain Python: no Spark in this module, so it can be tested and read alone.

Every function here calls the same stage code as ``storyline track`` (``ingest``, ``pipeline.clean_item``,
``pipeline.enrich_articles``, ``StoryPlacer.place_batch``, ``DocFreq``); the job (``job.py``) only decides
which rows go to which task. Articles travel between tasks as the store's own row mapping (``store.records``), so a
row written here is a row the store can take as it is.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import json
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping, Sequence

from storyline.ingest import IngestOptions, read_file_bytes, read_record
from storyline.model import Article, Document, EntityType, Event, Rejection, Story
from storyline.scale.docfreq import DocFreqState, Snapshot
from storyline.scale.resolve import (WindowPlacement, dumps, effective_context, epoch_day, final_records, loads,
                                     placements_of)
from storyline.store.records import ARTICLE_COLUMNS, article_row, row_article

__all__ = [
    "UNDATED_WINDOW",
    "article_from_row",
    "article_to_row",
    "clean_items",
    "documents_of_file",
    "documents_of_records",
    "dumps",
    "is_missing",
    "link_threads",
    "loads",
    "place_pass_window",
    "place_window",
    "prepare_rows",
    "reasons",
    "reconcile_rows",
    "settle_story_dates",
    "window_cuts",
    "window_of",
]

UNDATED_WINDOW = 1_000_000_000  # the window of a run whose articles are all undated (``windowing.with_window``)


# ----------------------------------------------------------------------------- rows <-> records
def article_to_row(article: Article, stage: int) -> dict[str, Any]:
    """The store's row for an article, as a dict (one Parquet/Arrow row)."""
    return dict(zip(ARTICLE_COLUMNS, article_row(article, stage)))


def article_from_row(row: Mapping[str, Any]) -> Article:
    """The article back from ``article_to_row`` (``store.records.row_article`` reads any mapping)."""
    return row_article({k: (None if is_missing(row[k]) else row[k]) for k in ARTICLE_COLUMNS})


def is_missing(value: Any) -> bool:
    try:
        return value is None or (isinstance(value, float) and value != value)
    except TypeError:
        return False


# ----------------------------------------------------------------------------- ingest + normalize
def documents_of_file(name: str, data: bytes, options: IngestOptions | None = None) -> Iterator[Document | Rejection]:
    """A file's Documents, read by the same readers as ``storyline ingest`` (format from the name)."""
    return read_file_bytes(data, name, options)


def documents_of_records(records: Iterable[tuple[str, str, Mapping[str, Any]]], options: IngestOptions | None = None
                         ) -> Iterator[Document | Rejection]:
    """(origin, file, record) triples from a table (Parquet) as Documents, by the same field map as JSON
    input; source ids are scoped by the file, as for records read from a file."""
    for origin, scope, record in records:
        try:
            yield read_record(dict(record), origin, options, scope=scope)
        except Exception as exc:  # noqa: BLE001 - one bad row is a rejection, never the job's end
            yield Rejection(origin, f"unreadable record: {type(exc).__name__}: {exc}")


def clean_items(items: Iterable[Document | Rejection], now: dt.datetime) -> Iterator[Article | Rejection]:
    """``pipeline.clean_item`` over a stream (ids, content hashes, dates, language)."""
    from storyline.pipeline import clean_item

    for item in items:
        yield clean_item(item, now)


# ----------------------------------------------------------------------------- enrich
_MODELS: dict[str, Any] = {}  # one embedder and one NER extractor per Python worker, loaded on first use


def _models(embedder: str):
    from storyline.enrich.embed import get_embedder
    from storyline.enrich.entities import EntityExtractor

    if _MODELS.get("embedder_name") != embedder:
        _MODELS["embedder"], _MODELS["embedder_name"] = get_embedder(embedder), embedder
    if "extractor" not in _MODELS:
        _MODELS["extractor"] = EntityExtractor()
    return _MODELS["embedder"], _MODELS["extractor"]


def prepare_rows(rows: Iterable[dict[str, Any]], embedder: str = "use", batch_size: int = 64) -> Iterator[dict[str, Any]]:
    """The per-article part of enrichment for one partition (``pipeline.prepare_batch``: restore, dates,
    places, embedding, fingerprint, the model's entity recognition), any partition in any order; each row
    carries what recognition found (``recognised``, pickled) for the ordered ``reconcile_rows``.

    Models are loaded once per worker process."""
    from storyline.pipeline import prepare_batch
    from storyline.store import INGESTED

    model, extractor = _models(embedder)
    batch: list[tuple[dict, Article]] = []

    def flush() -> Iterator[dict[str, Any]]:
        found = prepare_batch([a for _, a in batch], model, extractor)
        for (row, article), recognised in zip(batch, found):
            yield {**row, **article_to_row(article, INGESTED), "recognised": dumps(recognised)}
        batch.clear()

    for row in rows:
        batch.append((row, article_from_row(row)))
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()


def reconcile_rows(rows: Iterable[dict[str, Any]], batch_size: int = 64, chunk: int = 10_000) -> Iterator[dict[str, Any]]:
    """Canonical names for every article, in input order, through one registry, in ``track``'s enrichment
    batches (``pipeline.reconcile_entities``): the one ordered step of enrichment, so the batch path names
    and types entities exactly as ``track`` does (a registry per partition, joined afterwards, named a
    surname or a known name differently wherever a partition began). Rows must come in input order.

    Yields the enriched rows, then the registry's rows (alias, canonical, type, mentions) in pickled
    chunks as ``{"registry": blob}``: the store's entity table, never gathered in one place.
    """
    from storyline.enrich.canonical import EntityRegistry
    from storyline.enrich.entities import EntityExtractor
    from storyline.pipeline import reconcile_entities
    from storyline.store import ENRICHED

    extractor = EntityExtractor(EntityRegistry())
    batch: list[tuple[dict, Article, Any]] = []

    def flush() -> Iterator[dict[str, Any]]:
        articles = [a for _, a, _ in batch]
        reconcile_entities(articles, [found for _, _, found in batch], extractor)
        for row, article, _ in batch:
            yield {**{k: v for k, v in row.items() if k != "recognised"}, **article_to_row(article, ENRICHED)}
        batch.clear()

    for row in rows:
        batch.append((row, article_from_row(row), loads(row["recognised"]) if row.get("recognised") else None))
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()
    registry = [tuple(r) for r in extractor.registry.to_rows()]
    for start in range(0, len(registry), chunk):
        yield {"registry": dumps(registry[start:start + chunk])}


# ----------------------------------------------------------------------------- stories
def window_cuts(day_counts: Mapping[int, int], windows: int | None = None, days: int | None = None,
                batch_size: int | None = None) -> dict[int, int]:
    """Where each story window starts: {its first day (days since 1970-01-01, the window's name): the rank,
    in ``track``'s placement order within that day, of its first article}. An article of day d and rank r
    belongs to the last window starting at or before (d, r) (``window_of``).

    Every window starts on one of ``track``'s placement batch boundaries (a multiple of ``batch_size``
    articles from the first): a window placed as ``track`` places it then ends where one of ``track``'s
    batches ends, so the batch that refines it is the one ``track`` refines, and the batch path equals
    ``track``'s there (a cut between days split a batch: its refinement saw only the window's part, and
    on a 10,000-article archive in 365-day windows the job agreed with ``track`` at 0.996 / 0.987 / 0.973).

    With ``days``: calendar windows of that many days, each starting at the first batch boundary on or
    after its period's first article (so its first article may be a few days into the period). Otherwise
    ``windows`` contiguous runs of about equal numbers of articles. A day may be split; two windows never
    start on one day (the later cut is dropped), so the first day names a window. Why runs of equal size:
    a pass makes one more window exact (the first restores nothing; window k restores what window k - 1
    formed in the pass before), so the passes are bounded by the number of windows, and as many windows
    as workers keep every worker busy in the first pass, which places everything.
    """
    if days is not None and days < 1:
        raise ValueError(f"window days must be at least 1, got {days}")
    if days is None and (windows is None or windows < 1):
        raise ValueError(f"the number of story windows must be at least 1, got {windows}")
    if batch_size is None or batch_size < 1:
        raise ValueError(f"story windows start on placement batch boundaries: give a batch size (got {batch_size})")
    ordered = sorted(day_counts)
    if not ordered:
        return {}
    starts, seen = [], 0
    for day in ordered:
        starts.append(seen)
        seen += day_counts[day]
    if days is not None:  # each period's first article, moved on to the batch boundary at or after it
        firsts: dict[int, int] = {}
        for day, start in zip(ordered, starts):
            firsts.setdefault(day // days * days, start)
        wanted = [-(-start // batch_size) * batch_size for start in list(firsts.values())[1:]]
    else:
        wanted = [round(i * seen / windows / batch_size) * batch_size for i in range(1, windows)]
    cuts = {ordered[0]: 0}
    last = 0
    for position in wanted:
        if position <= last or position >= seen:
            continue
        k = bisect.bisect_right(starts, position) - 1
        if ordered[k] not in cuts:
            cuts[ordered[k]] = position - starts[k]
            last = position
    return cuts


def window_of(cuts: Sequence[tuple[int, int]], day: int | None, rank: int) -> int:
    """The window (its first day) of the article of ``day`` at ``rank`` within it, given the sorted
    ``window_cuts`` items; an undated article joins the last window (``track`` places it after every dated one)."""
    if not cuts:
        return UNDATED_WINDOW
    if day is None:
        return cuts[-1][0]
    return cuts[max(0, bisect.bisect_right(cuts, (day, rank)) - 1)][0]


def place_window(window: int, articles: list[Article], restored_events: list[Event] = (),
                 restored_stories: list[Story] = (), exemplars: Iterable[Article] = (),
                 config=None, doc_freq: DocFreqState | None = None, offset: int = 0,
                 batch_size: int | None = None, idf_at_end: Snapshot | None = None) -> WindowPlacement:
    """Place one window's articles as ``Pipeline.place`` does, after restoring what earlier windows formed.

    Order is ``track``'s: oldest publication first, undated last, then input order (the caller sorts);
    ``offset`` is the placement position of the first article in the whole run, so the batches
    (``StoryPlacer.place_batch``: place, refine, expire) start and end where ``track``'s do, and
    ``doc_freq`` is what ``track``'s placer holds there (``docfreq.doc_freq_states``), as is ``idf_at_end``
    where the last batch ends in a later window (its refinement weighs terms as ``track``'s does at the
    batch's real end; that batch's articles from later windows are beyond it). With restored records,
    an article that joins a restored event (or an event that joins a restored story) is the
    cross-window link, decided by the placement code itself. Each article's event is the one that holds
    it when the window is done (refinement and splits may move an article after it was placed).
    """
    from storyline.pipeline import PipelineConfig, place_batches
    from storyline.stories.duplicates import NearDuplicates
    from storyline.stories.placement import StoryPlacer

    size = batch_size or PipelineConfig().batch_size
    restored_stories = list(restored_stories)
    given = {s.id for s in restored_stories}
    restored_events = [e for e in restored_events if e.story_id in given]  # restore needs each event's story
    firsts = _first_articles(restored_events, restored_stories)  # before placing: the placer changes the records
    placer = StoryPlacer.restore(restored_events, restored_stories, {}, config, doc_freq=doc_freq)
    placer.remember(exemplars)  # as ``track``'s placer holds them: so refinement can move a restored member
    duplicates = NearDuplicates()
    links: dict[str, Any] = {}
    dups: dict[str, str | None] = {}

    position = {a.id: i for i, a in enumerate(articles)}
    story_batches: list[tuple[int, list[Story]]] = []

    def batches() -> Iterator[list[Article]]:
        start = 0
        while start < len(articles):
            end = start + size - (offset + start) % size  # the next multiple of the batch size, as in ``track``
            yield articles[start:end]
            start = end

    def prepare(article: Article) -> None:
        dups[article.id] = duplicates.find(article.id, article.fingerprint) if article.fingerprint is not None else None

    # the events are read at the end from the records, so what a split moved needs no writing back; the story
    # records each batch changed are kept, numbered as in the whole run: what track's thread linker is given
    for placed_batch, placed_links, _ in place_batches(placer, batches(), prepare, idf_at_end=idf_at_end):
        links.update((link.article_id, link) for link in placed_links)
        number = (offset + position[placed_batch[0].id]) // size
        story_batches.append((number, copy.deepcopy(placer.changes()[1])))
    events, stories = placer.events(), placer.stories()
    restored = {r.id for r in (*restored_events, *restored_stories)}
    own_ids = {a.id for a in articles}
    held = {m: e.id for e in restored_events for m in e.article_ids}  # where each restored article came in
    own = {e.id: [m for m in e.article_ids if m in own_ids or held.get(m, e.id) != e.id] for e in events if not e.merged_into}
    moved = {m for members in own.values() for m in members if m not in own_ids}
    event_of = {m: key for key, members in own.items() for m in members}
    story_of = {e.id: e.story_id for e in events if not e.merged_into}
    out = [(a.id, event_of[a.id], story_of[event_of[a.id]], links[a.id].score, json.dumps(links[a.id].parts), dups[a.id])
           for a in articles if a.id in event_of]
    return WindowPlacement(window, out, events, stories, restored, own, story_batches, moved, firsts)


def _first_articles(events: list[Event], stories: list[Story]) -> dict[str, str]:
    """Per restored record, its first article as restored (a story: its first event's): what its id stands for
    once every window is placed (``resolve.resolve_ids``)."""
    firsts = {e.id: e.article_ids[0] for e in events if e.article_ids}
    firsts.update((s.id, firsts[s.event_ids[0]]) for s in stories if s.event_ids and s.event_ids[0] in firsts)
    return firsts


def place_pass_window(window: int, articles: list[Article], context: Iterable[Mapping[str, Any]],
                      mapping: Mapping[tuple[int, str], tuple[str, str]] | None, offset: int, batch_size: int) -> list[tuple]:
    """One window's task in one placement pass: rows (window, kind, id, last day, blob) of its assignments
    and of the records it touched.

    ``context`` holds the window's ``docfreq`` row (``docfreq.doc_freq_states``), the articles placed last before
    it (``exemplar`` rows: the member exemplars ``track``'s placer holds there, its last
    ``PlacementConfig.exemplars``, with their placement position as ``last_day``) and the record rows the previous
    pass wrote for the windows before it (``source``: the window that wrote each); those are merged
    under their final ids (``mapping``: as the window restores them, carried on its context rows by the previous pass's
    resolution, ``windowing.resolve_pass``; None in the first
    pass, which restores nothing) and restored before the window's articles are placed (``place_window``).
    """
    rows = sorted(effective_context(context), key=lambda r: (r.get("source", -1), r["kind"], r["id"] or ""))  # the same merge whatever order Spark sends
    state = next((loads(r["blob"]) for r in rows if r["kind"] == "docfreq"), (None, None))
    events, stories = final_records(placements_of((r for r in rows if r["kind"] in ("event", "story")), "source"), mapping) \
        if mapping is not None else ([], [])
    events.sort(key=lambda r: (r.first_date or dt.date.min, r.id))
    stories.sort(key=lambda r: (r.first_date or dt.date.min, r.id))
    exemplars = [article_from_row(loads(r["blob"])) for r in sorted((r for r in rows if r["kind"] == "exemplar"),
                                                                    key=lambda r: r["last_day"])]
    placed = place_window(window, articles, events, stories, exemplars, doc_freq=state[0], offset=offset,
                          batch_size=batch_size, idf_at_end=state[1])
    out = [(window, "assign", a[0], None, dumps(a)) for a in placed.assignments]
    # restored records this window did not touch are left out: they are earlier windows' business,
    # and sending every window the whole context back would grow with windows x history
    restored, own = placed.restored, placed.own
    touched_events = [e for e in placed.events if e.id not in restored or own.get(e.id) or e.merged_into]
    touched = {e.story_id for e in touched_events}
    touched_stories = [s for s in placed.stories if s.id not in restored or s.id in touched or s.merged_into]
    # a restored record says what it was restored as: its first article (``WindowPlacement.firsts``)
    out += [(window, "event", e.id, epoch_day(e.last_date), dumps((e, placed.firsts.get(e.id, e.id in restored),
                                                               own.get(e.id, []), [m for m in own.get(e.id, []) if m in placed.moved])))
            for e in touched_events]
    out += [(window, "story", s.id, epoch_day(s.last_date), dumps((s, placed.firsts.get(s.id, s.id in restored), [], [])))
            for s in touched_stories]
    out += [(window, "storybatch", str(number), None, dumps((number, changed))) for number, changed in placed.story_batches]
    return out


def settle_story_dates(members: Iterable[tuple[int, Article]]) -> None:
    """``track``'s date settling (``enrich.dates.settle_dates``) for one final story's members, given as
    (placement batch number in the whole run, article) in placement order: replayed batch by batch, each
    batch settling the members so far, as ``track`` settles a story after each batch that gave it members
    (a partial date settles against the firm dates known by then, and stays settled)."""
    from storyline.enrich.dates import settle_dates

    so_far: list[Article] = []
    members = list(members)
    for i, (number, article) in enumerate(members):
        so_far.append(article)
        if i + 1 == len(members) or members[i + 1][0] != number:  # the batch's last member of this story
            settle_dates(so_far)


def link_threads(batches: Iterable[tuple[int, int, list[Story]]], stories: Iterable[Story] = (), config=None
                 ) -> Iterator[tuple[str, str, str | None, Any]]:
    """Threads for the job's final stories with ``track``'s ``ThreadLinker``, given what ``track``'s is given.

    ``batches`` are the last pass's (batch number, window, changed story records) per placement batch
    (``WindowPlacement.story_batches``), in the run's order (number, then window): replayed, they are the
    updates ``track``'s linker gets after each batch (a batch cut by a window edge is one update, its two
    windows' records together, the later window's record of a story winning). ``stories``: the job's final
    stories, read after every batch; one the replay never named (none, when the last pass restored every
    earlier window) is linked after, oldest first.

    As in ``track``, each update's stories and threads are saved to a store (a temporary one here, on the
    task's disk), and the linker reads it back for a story whose thread it has closed (``history``:
    ``Store.threads_between``): a story that grows after its thread closed keeps that thread. Streams, so it
    runs as one ordered Spark task whose memory is the linker's open threads and an id per story: yields
    ("thread", id, merged_into, record) each time a thread record is written (the last one per id is the
    result), then ("story", story id, thread id, None) for every final live story.
    """
    import tempfile
    from pathlib import Path

    from storyline.store import Store
    from storyline.stories.threads import ThreadLinker

    with tempfile.TemporaryDirectory(prefix="storyline-threads-") as tmp, Store(Path(tmp) / "threads.db") as store:
        yield from _link_threads(batches, stories, ThreadLinker(config, reserved=store.cluster_id_taken,
                                                                history=store.threads_between), store)


def _link_threads(batches: Iterable[tuple[int, int, list[Story]]], stories: Iterable[Story], linker, store
                  ) -> Iterator[tuple[str, str, str | None, Any]]:
    named: dict[str, str] = {}  # story -> the thread an update gave it (a closed thread leaves the linker)

    def update(records: list[Story]) -> Iterator[tuple[str, str, str | None, Any]]:
        written = linker.update(records)
        with store.transaction():  # what track saves after each batch, and its linker's history reads
            store.save_stories(records)
            store.save_threads(written)
        for record in written:
            yield "thread", record.id, record.merged_into, record
        named.update((s.id, s.thread_id) for s in records if s.thread_id and not s.merged_into)

    group: dict[str, Story] = {}
    current, last = None, None
    for number, window, changed in batches:
        if last is not None and (number, window) < last:
            raise ValueError(f"story batches out of order: ({number}, {window}) after {last}")
        last = (number, window)
        if number != current and group:
            yield from update(list(group.values()))
            group = {}
        current = number
        group.update((story.id, story) for story in changed)
    if group:
        yield from update(list(group.values()))
    yield from update(sorted((s for s in stories if not s.merged_into and s.id not in named),
                             key=lambda s: (s.first_date or dt.date.max, s.id)))
    for thread in linker.threads():
        yield "thread", thread.id, thread.merged_into, thread
    for story_id in sorted(named):
        yield "story", story_id, linker.resolve(named[story_id]), None


def reasons(rejections: Iterable[str]) -> Counter[str]:
    """Rejection reasons grouped by their leading words (as ``IngestReport.reasons``)."""
    return Counter(r.split(" (")[0].split(":")[0] for r in rejections)
