"""What each Spark task runs, in plain Python: no Spark in this module, so it can be tested and read alone.

Every function here calls the same stage code as ``storyline track`` (``ingest``, ``pipeline.clean_item``,
``pipeline.enrich_articles``, ``StoryPlacer.place_batch``, ``DocFreq``); the job (``job.py``) only decides
which rows go to which task. Articles travel between tasks as the store's own row mapping (``store.records``), so a
row written here is a row the store can take as it is.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime as dt
import json
import math
import pickle
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from storyline.ingest import IngestOptions, read_file_bytes, read_record
from storyline.model import Article, Document, EntityType, Event, Rejection, Story
from storyline.scale.docfreq import DocFreqState, Snapshot
from storyline.store.records import ARTICLE_COLUMNS, article_row, row_article

__all__ = [
    "UNDATED_WINDOW",
    "WindowPlacement",
    "article_from_row",
    "article_to_row",
    "clean_items",
    "context_digest",
    "context_targets",
    "documents_of_file",
    "documents_of_records",
    "prepare_rows",
    "reconcile_rows",
    "final_records",
    "lean",
    "lean_blob",
    "link_threads",
    "partition",
    "place_pass_window",
    "place_window",
    "placements_of",
    "settle_story_dates",
    "resolve_ids",
    "Resolution",
    "mapping_before",
    "window_cuts",
    "window_of",
    "with_profile",
]

UNDATED_WINDOW = 1_000_000_000  # the window of a run whose articles are all undated (``job._with_window``)
_EPOCH = dt.date(1970, 1, 1)


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


@dataclasses.dataclass
class WindowPlacement:
    """One window's placement: per-article assignments and the placer's records.

    ``own`` maps each record id to the members this window decided: its own articles, and articles of
    earlier windows that its placement moved out of the restored event that held them (refinement and
    splits move members, as in ``track``: ``moved`` names those); ``restored`` names the ids that came
    in from earlier windows (so they are links, not new clusters). A later window's word on an article wins.
    """

    window: int
    assignments: list[tuple[str, str, str, float, str, str | None]]  # article, event, story, score, parts, dup
    events: list[Event]
    stories: list[Story]
    restored: set[str]
    own: dict[str, list[str]]
    # per placement batch (its number in the whole run), the story records it changed: what ``track``'s
    # thread linker is given after that batch (``link_threads`` replays them)
    story_batches: list[tuple[int, list[Story]]] = dataclasses.field(default_factory=list)
    moved: set[str] = dataclasses.field(default_factory=set)


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
    return WindowPlacement(window, out, events, stories, restored, own, story_batches, moved)


def place_pass_window(window: int, articles: list[Article], context: Iterable[Mapping[str, Any]],
                      mapping: Mapping[tuple[int, str], tuple[str, str]] | None, offset: int, batch_size: int) -> list[tuple]:
    """One window's task in one placement pass: rows (window, kind, id, last day, blob) of its assignments
    and of the records it touched.

    ``context`` holds the window's ``docfreq`` row (``docfreq.doc_freq_states``), the articles placed last before
    it (``exemplar`` rows: the member exemplars ``track``'s placer holds there, its last
    ``PlacementConfig.exemplars``, with their placement position as ``last_day``) and the record rows the previous
    pass wrote for the windows before it (``source``: the window that wrote each); those are merged
    under their final ids (``mapping``: the previous pass's ``Resolution.before(window)``; None in the first
    pass, which restores nothing) and restored before the window's articles are placed (``place_window``).
    """
    rows = sorted(context, key=lambda r: (r.get("source", -1), r["kind"], r["id"] or ""))  # the same merge whatever order Spark sends
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
    out += [(window, "event", e.id, _day(e.last_date), dumps((e, e.id in restored, own.get(e.id, []),
                                                               [m for m in own.get(e.id, []) if m in placed.moved])))
            for e in touched_events]
    out += [(window, "story", s.id, _day(s.last_date), dumps((s, s.id in restored, [], []))) for s in touched_stories]
    out += [(window, "storybatch", str(number), None, dumps((number, changed))) for number, changed in placed.story_batches]
    return out


def placements_of(rows: Iterable[Mapping[str, Any]], window: str = "window") -> dict[int, WindowPlacement]:
    """The windows' placements back from their record rows (``place_pass_window``); ``window`` names the
    column that says which window wrote a row."""
    placements: dict[int, WindowPlacement] = {}
    for r in rows:
        if r["kind"] not in ("event", "story"):
            continue
        record, restored, own, moved = loads(r["blob"])
        placed = placements.setdefault(r[window], WindowPlacement(r[window], [], [], [], set(), {}))
        placed.moved.update(moved)
        (placed.events if r["kind"] == "event" else placed.stories).append(record)
        if restored:
            placed.restored.add(record.id)
        if r["kind"] == "event":
            placed.own[record.id] = own
    return placements


def _day(date: dt.date | None) -> int | None:
    return None if date is None else (date - _EPOCH).days


def _follow(hops: Mapping[str, str], key: str) -> str:
    """Where ``key`` ends up through ``hops`` (a cycle stops where it would repeat)."""
    seen = {key}
    while key in hops and hops[key] not in seen:
        key = hops[key]
        seen.add(key)
    return key


def _redirects(records: Iterable[Event | Story]) -> dict[str, str]:
    from storyline.model import follow_redirects

    hops = {r.id: r.merged_into for r in records if r.merged_into}
    return {k: follow_redirects(hops, k) for k in hops}


@dataclasses.dataclass
class Resolution:
    """Where every raw id ended up: per (window, raw event id) the final (event, story); per article its
    final event; per final event its story and the window that created it."""

    mapping: dict[tuple[int, str], tuple[str, str]]
    article_event: dict[str, str]
    event_story: dict[str, str]
    home: dict[str, int]
    # as each window decided, before the merges later windows made (``mapping_before``), and those merges:
    # a final id a window merged away -> (that window, the final id it went into)
    base: dict[tuple[int, str], tuple[str, str]] = dataclasses.field(default_factory=dict)
    moves: dict[str, tuple[int, str]] = dataclasses.field(default_factory=dict)

    def before(self, window: int) -> dict[tuple[int, str], tuple[str, str]]:
        """The final ids as ``window`` restores them (``mapping_before``)."""
        return mapping_before(self.base, self.moves, window)


def mapping_before(base: Mapping[tuple[int, str], tuple[str, str]], moves: Mapping[str, tuple[int, str]],
                   window: float) -> dict[tuple[int, str], tuple[str, str]]:
    """``base`` with the merges windows before ``window`` made: what ``track``'s placer holds when that window
    starts. A window's own merges are not in it (they are what placing it decides), so a window's context
    never depends on its own placement; ``window`` = inf gives the job's result."""
    hops = {gone: into for gone, (made, into) in moves.items() if made < window}
    if not hops:
        return dict(base)

    def follow(key: str) -> str:
        return _follow(hops, key)

    story_of: dict[str, str] = {}
    for fe, fs in base.values():
        story_of.setdefault(fe, fs)
    return {k: (follow(fe), follow(story_of.get(follow(fe), fs))) for k, (fe, fs) in base.items()}


def resolve_ids(earlier: tuple[Iterable[Event], Iterable[Story]], placements: Mapping[int, WindowPlacement]) -> Resolution:
    """Final (event, story) for every (window, raw event id) of one pass.

    ``earlier`` are the records the windows restored (the previous pass's, each window getting those of
    the windows before it; none in the first pass). A raw id the window created is final for its event. A restored id stands
    for the cluster that record's first article ended up in, in its own window's placement in this
    pass, followed back window by window. A story likewise: the one its first event ended up in.
    Windows are resolved oldest first, so everything a window points back to is already known.
    """
    first_article: dict[str, str] = {}  # restored event id -> its first article
    story_first_event: dict[str, str] = {}
    events, stories = earlier
    for e in events:
        if e.article_ids and not e.merged_into:
            first_article[e.id] = e.article_ids[0]
    for s in stories:
        if s.event_ids and not s.merged_into:
            story_first_event[s.id] = s.event_ids[0]
    article_event: dict[str, str] = {}  # an article -> its final event (filled window by window)
    event_story: dict[str, str] = {}  # a final event -> its final story
    mapping: dict[tuple[int, str], tuple[str, str]] = {}
    home: dict[str, int] = {}  # final event -> window it was created in
    # a later window that merged a restored record into another: every piece of the first is the second's
    # (the pieces earlier windows wrote still name the first; ``track`` moves the members with the merge)
    moved: dict[str, tuple[int, str]] = {}
    into: dict[str, str] = {}  # the same, without the window

    def follow(key: str) -> str:
        return _follow(into, key)

    def restored_event(raw: str) -> str:
        past = first_article.get(raw)
        return follow(article_event.get(past, raw)) if past else raw

    def restored_story(raw: str) -> str | None:
        first_event = story_first_event.get(raw)
        past = first_article.get(first_event) if first_event else None
        target = article_event.get(past) if past is not None else None
        if target is not None and follow(target) in event_story:
            return follow(event_story[follow(target)])
        return None

    for window in sorted(placements):
        placed = placements[window]
        hops = _redirects([*placed.events, *placed.stories])
        raw_story = {e.id: hops.get(e.story_id, e.story_id) for e in placed.events if not e.merged_into}

        def final_event(raw: str) -> str:
            raw = hops.get(raw, raw)
            return restored_event(raw) if raw in placed.restored else raw

        def final_story(raw_event: str) -> str:
            raw = raw_story.get(hops.get(raw_event, raw_event))
            if raw is None:
                return "st-" + raw_event.removeprefix("ev-")
            return (restored_story(raw) or raw) if raw in placed.restored else raw

        for e in placed.events:
            if e.merged_into:
                continue
            fe = final_event(e.id)
            if fe not in event_story:  # the window that created it decides its story
                event_story[fe] = final_story(e.id)
                home[fe] = window
            for member in placed.own.get(e.id, []):
                article_event[member] = fe
        for record in (*placed.events, *placed.stories):
            if record.merged_into and record.id in placed.restored:
                story = record.id.startswith("st-")
                gone = (restored_story(record.id) or record.id) if story else restored_event(record.id)
                if story:
                    target = hops.get(record.id, record.id)
                    target = (restored_story(target) or target) if target in placed.restored else target
                else:
                    target = final_event(record.id)
                if gone != target:
                    moved[gone], into[gone] = (window, target), target
        for e in placed.events:
            raw = hops.get(e.id, e.id)
            fe = final_event(raw)
            mapping[(window, e.id)] = (fe, event_story.get(fe) or final_story(raw))
    # the merges later windows made, applied to what earlier windows decided
    article_event = {a: follow(fe) for a, fe in article_event.items()}
    event_story = {fe: follow(fs) for fe, fs in event_story.items() if follow(fe) == fe}
    return Resolution(mapping_before(mapping, moved, math.inf), article_event, event_story, home, mapping, moved)


def context_targets(placements: Mapping[int, WindowPlacement],
                    view: Callable[[int], Mapping[tuple[int, str], tuple[str, str]]],
                    windows: Iterable[int], event_days: int, story_days: int
                    ) -> dict[tuple[int, str, str], list[int]]:
    """Per record row a pass wrote ((window, kind, raw id)), the later windows that restore it in the next pass.

    The placer's open-window rule (``StoryPlacer._expire``/``forget_frozen``, ``Store.placement_records``),
    applied at each window's first day D (a window is named by its first day, ``window_cuts``; no article
    of the window is older): a story is restored while its
    final story's last date is within ``story_days`` of D; an event while its own last date is within
    ``event_days`` of D or its story is open (a live story keeps its old events: average link reads them).
    Every piece of a final record gets the same windows, so a window restores each record whole (undated
    articles are placed last in the last dated window, ``job._with_window``, so no window is undated unless
    every article is). A record without dates (a story of undated articles) stays open. So what a window restores depends on what is
    open at its start, never on how many windows came before it.

    What is open at window t's start is judged from the windows before t only, under the ids as t restores
    them (``view(t)``: ``Resolution.before``), as ``track``'s placer knows it there: a window's own placement
    (a member it moved, a story it extended) never changes what it restores, so its context is fixed once
    the windows before it are. Costs one ``final_records`` over the earlier windows per window.
    """
    out: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for target in sorted(windows):
        before = {w: p for w, p in placements.items() if w < target}
        if not before:
            continue
        mapping = view(target)
        events, stories = final_records(before, mapping)
        event_last = {e.id: _day(e.last_date) for e in events}
        story_last = {s.id: _day(s.last_date) for s in stories}

        def story_reach(final: str | None) -> float:
            if final not in story_last:
                return -math.inf
            last = story_last[final]
            return math.inf if last is None else last + story_days

        for window in sorted(before):
            placed = before[window]
            story_final: dict[str, str] = {}
            for e in placed.events:
                if e.merged_into or (window, e.id) not in mapping:
                    continue
                fe, fs = mapping[(window, e.id)]
                if e.story_id:
                    story_final.setdefault(e.story_id, fs)
                if fe in event_last:  # else no member is left in it: ``final_records`` drops it too
                    last = event_last[fe]
                    own = -math.inf if last is None else last + event_days  # an undated event only with its story
                    if target <= max(own, story_reach(fs)):
                        out[(window, "event", e.id)].append(target)
            for st in placed.stories:
                if not st.merged_into and target <= story_reach(story_final.get(st.id)):
                    out[(window, "story", st.id)].append(target)
    return dict(out)


def context_digest(rows: Iterable[Mapping[str, Any]], mapping: Mapping[tuple[int, str], tuple[str, str]] | None,
                   members_only: bool = False) -> str:
    """What a window restores in a pass, as one hash: its context rows (who wrote them, and their bytes) and
    the final ids ``mapping`` gives their events. ``place_pass_window`` is a function of these and the
    window's own articles, so a window whose digest did not change would be placed exactly as before: the
    job does not place it again.

    ``members_only``: only the ids and the members (which articles each event holds, which events each
    story, what merged into what), not the profiles. A story that runs through many windows changes its
    profile in each one, so the exact digest re-places the windows after it one pass at a time (passes
    grow with the longest chain); a profile alone rarely changes a decision, and a decision that changes
    changes the members, which this digest sees."""
    import hashlib

    keys = []
    for r in rows:
        source = r.get("source", r.get("window"))
        final = mapping.get((source, r["id"])) if mapping is not None and r["kind"] == "event" else None
        if members_only and r["kind"] in ("event", "story"):
            record, restored, own, _ = loads(bytes(r["blob"]))
            shape = (restored, tuple(own), record.merged_into,
                     record.story_id if r["kind"] == "event" else tuple(record.event_ids))
            content = repr(shape)
        else:
            content = hashlib.sha256(bytes(r["blob"])).hexdigest()
        keys.append((source, r["kind"], r["id"] or "", content, final))
    return hashlib.sha256(repr(sorted(keys, key=repr)).encode()).hexdigest()


def partition(resolution: Resolution) -> str:
    """What a pass decided (article -> final event, final story), as one hash: the job reports the first pass
    after which it stayed the same, and keeps a hash a pass rather than a dict an article a pass."""
    import hashlib

    digest = hashlib.sha256()
    for article in sorted(resolution.article_event):
        event = resolution.article_event[article]
        digest.update(f"{article}\t{event}\t{resolution.event_story.get(event)}\n".encode())
    return digest.hexdigest()


def final_records(placements: Mapping[int, WindowPlacement], mapping: Mapping[tuple[int, str], tuple[str, str]],
                  sources: dict[tuple[str, str], tuple[int, str]] | None = None) -> tuple[list[Event], list[Story]]:
    """The events and stories the windows' pieces make, under their final ids (``Resolution.mapping``).

    Over every window: the job's result. Over the windows before one: what that window restores in the
    next pass, so a story chained across several windows comes back whole rather than in pieces.
    ``sources`` (filled when given): per (kind, final id) the (window, raw id) of the piece whose profile
    the final record carries, so records made from ``lean`` pieces get theirs back (``with_profile``).
    """
    event_pieces: dict[str, list] = defaultdict(list)
    story_pieces: dict[str, list] = defaultdict(list)
    members: dict[str, dict[str, None]] = defaultdict(dict)
    held: dict[str, str] = {}  # article -> the final event the latest window put it in
    story_of: dict[str, str] = {}
    for window in sorted(placements):
        placed = placements[window]
        story_final: dict[str, str] = {}
        for e in placed.events:
            if e.merged_into:
                continue
            fe, fs = mapping[(window, e.id)]
            event_pieces[fe].append((window, e))
            members[fe].update(dict.fromkeys(placed.own.get(e.id, [])))
            held.update(dict.fromkeys(placed.own.get(e.id, []), fe))
            story_of.setdefault(fe, fs)
            if e.story_id:
                story_final.setdefault(e.story_id, fs)
        for st in placed.stories:
            if not st.merged_into and st.id in story_final:
                story_pieces[story_final[st.id]].append((window, st))
    members = {k: {m: None for m in v if held[m] == k} for k, v in members.items()}  # a moved article: only where it went
    events = merge_records({k: v for k, v in event_pieces.items() if members.get(k)},
                           article_ids={k: list(v) for k, v in members.items()}, story_id=story_of,
                           sources=None if sources is None else ("event", sources))
    by_story = _story_events(events, story_of, story_pieces, mapping)
    stories = merge_records({k: v for k, v in story_pieces.items() if k in by_story}, event_ids=by_story,
                            sources=None if sources is None else ("story", sources))
    return events, stories


def _story_events(events: list[Event], story_of: Mapping[str, str], story_pieces: Mapping[str, list[tuple[int, Story]]],
                  mapping: Mapping[tuple[int, str], tuple[str, str]]) -> dict[str, list[str]]:
    """Per final story, its final events in the order they joined it, as ``track``'s placer holds them: each
    window's piece lists its events in its placer's order (what it restored first, then what joined), so the
    pieces read in window order give ``track``'s order. The order matters: a story is judged by its
    ``story_core_events`` largest events, ties kept in that order, so a story restored in another order
    could take an event ``track`` leaves out. Events no piece lists come last, oldest first."""
    alive = {e.id for e in events}
    order: dict[str, dict[str, None]] = defaultdict(dict)
    for story, pieces in story_pieces.items():
        for window, piece in sorted(pieces, key=lambda p: p[0]):
            for raw in piece.event_ids:
                final = mapping.get((window, raw), (raw, None))[0]  # a restored event it did not touch: its final id
                if final in alive and story_of[final] == story:
                    order[story].setdefault(final)
    for e in sorted(events, key=lambda e: (e.first_date or dt.date.max, e.id)):
        order[story_of[e.id]].setdefault(e.id)  # listed by no piece: last, oldest first
    return {story: list(ids) for story, ids in order.items()}


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


def merge_records(pieces: Mapping[str, list[tuple[int, Any]]],
                  sources: tuple[str, dict[tuple[str, str], tuple[int, str]]] | None = None, **fields: Mapping[str, Any]) -> list:
    """Final event (or story) records from the windows' pieces. ``fields`` give per final id what the
    resolution decided (members, story); the profile (centroid, terms, entity counts) comes from the
    latest piece, which carries what the earlier ones restored (``sources``: (kind, a dict that gets
    per (kind, final id) that piece's (window, raw id))); dates span all pieces, the title is the first's."""
    out = []
    for key in sorted(pieces):
        parts = sorted(pieces[key], key=lambda p: p[0])
        if sources is not None:
            sources[1][(sources[0], key)] = (parts[-1][0], parts[-1][1].id)
        firsts = [p.first_date for _, p in parts if p.first_date]
        lasts = [p.last_date for _, p in parts if p.last_date]
        decided = {name: (list(values.get(key, [])) if name.endswith("_ids") else values.get(key))
                   for name, values in fields.items()}
        out.append(dataclasses.replace(
            parts[-1][1], id=key, first_date=min(firsts) if firsts else None, last_date=max(lasts) if lasts else None,
            title=parts[0][1].title, merged_into=None, **decided))
    return out


_NO_PROFILE = {"centroid": None, "entity_counts": {}, "terms": {}, "embedding_sum": None, "index_terms": None}
PROFILE = tuple(_NO_PROFILE)  # what ids, members and dates never need


def lean(record: Event | Story) -> Event | Story:
    """``record`` without its profile: what the driver needs to resolve ids, members and dates (a few hundred
    bytes, against kilobytes with the vectors and term weights); ``with_profile`` puts it back."""
    return dataclasses.replace(record, **{name: copy.copy(empty) for name, empty in _NO_PROFILE.items()})


def lean_blob(blob: bytes) -> bytes:
    """A record row's blob (``place_pass_window``: record, restored, own, moved) with the record ``lean``."""
    record, restored, own, moved = loads(blob)
    return dumps((lean(record), restored, own, moved))


def with_profile(record: Event | Story, source: Event | Story) -> Event | Story:
    """A final record made from lean pieces, with the profile of the piece it came from (``final_records``'
    ``sources``): the record ``final_records`` makes from the whole pieces."""
    return dataclasses.replace(record, **{name: getattr(source, name) for name in PROFILE})


def dumps(record: Any) -> bytes:
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: bytes) -> Any:
    return pickle.loads(blob)


def reasons(rejections: Iterable[str]) -> Counter[str]:
    """Rejection reasons grouped by their leading words (as ``IngestReport.reasons``)."""
    return Counter(r.split(" (")[0].split(":")[0] for r in rejections)
