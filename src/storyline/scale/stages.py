"""What each Spark task runs, in plain Python: no Spark in this module, so it can be tested and read alone.

Every function here calls the same stage code as ``storyline track`` (``ingest``, ``pipeline.clean_item``,
``pipeline.enrich_articles``, ``StoryPlacer``); the job (``job.py``) only decides which rows go to
which task. Articles travel between tasks as the store's own row mapping (``store.records``), so a
row written here is a row the store can take as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pickle
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping

from storyline.ingest import IngestOptions, read_file_bytes, read_record
from storyline.model import Article, Document, EntityType, Event, Rejection, Story
from storyline.store.records import ARTICLE_COLUMNS, article_row, row_article

__all__ = [
    "UNDATED_WINDOW",
    "WindowPlacement",
    "article_from_row",
    "article_to_row",
    "clean_items",
    "documents_of_file",
    "documents_of_records",
    "enrich_rows",
    "entity_names",
    "place_window",
    "reconcile_names",
    "rename_entities",
    "resolve_ids",
    "Resolution",
    "window_of",
]

UNDATED_WINDOW = 1_000_000_000  # undated articles are placed last, as ``track`` places them
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


def documents_of_records(records: Iterable[tuple[str, Mapping[str, Any]]], options: IngestOptions | None = None
                         ) -> Iterator[Document | Rejection]:
    """(origin, record) pairs from a table (Parquet) as Documents, by the same field map as JSON input."""
    for origin, record in records:
        try:
            yield read_record(dict(record), origin, options)
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


def enrich_rows(rows: Iterable[dict[str, Any]], embedder: str = "use", batch_size: int = 64) -> Iterator[dict[str, Any]]:
    """Enrich one partition's articles (in the order given) with ``pipeline.enrich_articles``.

    Models are loaded once per worker process; the canonical-name registry is fresh for each partition,
    so a partition's names depend only on its own articles (``reconcile_names`` joins them afterwards).
    """
    from storyline.enrich.canonical import EntityRegistry
    from storyline.pipeline import enrich_articles
    from storyline.store import ENRICHED

    model, extractor = _models(embedder)
    extractor.registry = EntityRegistry()
    batch: list[tuple[dict, Article]] = []

    def flush() -> Iterator[dict[str, Any]]:
        articles = [a for _, a in batch]
        enrich_articles(articles, model, extractor)
        for row, article in batch:
            yield {**row, **article_to_row(article, ENRICHED)}
        batch.clear()

    for row in rows:
        batch.append((row, article_from_row(row)))
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()


# ----------------------------------------------------------------------------- canonical names
def entity_names(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(canonical name, type) of every entity mention in an enriched article row."""
    raw = row.get("enrichment")
    if not raw:
        return []
    return [(e["canonical"], e["type"]) for e in json.loads(raw).get("entities", [])]


def reconcile_names(names: Iterable[tuple[str, str, Any, int]]) -> tuple[dict[str, str], list[tuple]]:
    """One canonical name per thing across partitions, whatever the partitioning found per partition.

    ``names`` are (partition's canonical name, type, first position in the input, mentions). Replayed
    through one ``EntityRegistry`` in input order (ties by name), so a surname one partition kept bare
    joins the full name another partition learned, exactly as the store-wide registry of ``track`` joins
    them; a bare name learned before its full name is followed to where the registry moved it. Returns
    the mapping (partition name -> global name) and the registry rows for the store.
    """
    from storyline.enrich.canonical import EntityRegistry, name_key

    registry = EntityRegistry()
    first: dict[str, str] = {}
    for name, etype, _, count in sorted(names, key=lambda n: (n[2], n[0], n[1])):
        kind = EntityType(etype)
        resolved, resolved_type = registry.resolve(name, kind)
        if count > 1:
            registry.add(resolved, resolved_type, count=count - 1)
        first.setdefault(name, resolved)
    mapping = {}
    for name, resolved in first.items():
        mapping[name] = registry.known(name_key(resolved)) or resolved
    return {k: v for k, v in mapping.items() if k != v}, registry.to_rows()


def rename_entities(article: Article, mapping: Mapping[str, str]) -> None:
    for mention in article.entities:
        mention.canonical = mapping.get(mention.canonical, mention.canonical)


# ----------------------------------------------------------------------------- stories
def window_of(published: dt.date | None, days: int) -> int:
    """The time window an article is placed in (undated ones last, like ``track``)."""
    return UNDATED_WINDOW if published is None else (published - _EPOCH).days // days


@dataclasses.dataclass
class WindowPlacement:
    """One window's placement: per-article raw assignments and the placer's records.

    ``own`` maps each record id to the members that are this window's own articles; ``restored`` names
    the ids that came in from earlier windows (so they are links, not new clusters).
    """

    window: int
    assignments: list[tuple[str, str, str, float, str, str | None]]  # article, event, story, score, parts, dup
    events: list[Event]
    stories: list[Story]
    restored: set[str]
    own: dict[str, list[str]]


def place_window(window: int, articles: list[Article], restored_events: list[Event] = (),
                 restored_stories: list[Story] = (), names: Mapping[str, str] | None = None,
                 config=None) -> WindowPlacement:
    """Place one window's articles with ``StoryPlacer``, after restoring what earlier windows formed.

    Order is ``track``'s: oldest publication first, undated last, then input order (the caller sorts).
    With restored records, an article that joins a restored event (or an event that joins a restored
    story) is the cross-window link, decided by the placement code itself.
    """
    from storyline.stories.duplicates import NearDuplicates
    from storyline.stories.placement import StoryPlacer

    restored_stories = list(restored_stories)
    given = {s.id for s in restored_stories}
    restored_events = [e for e in restored_events if e.story_id in given]  # restore needs each event's story
    placer = StoryPlacer.restore(restored_events, restored_stories, {}, config) if (restored_events or restored_stories) \
        else StoryPlacer(config)
    duplicates = NearDuplicates()
    out: list[tuple] = []
    own_ids = {a.id for a in articles}
    for article in articles:
        if names:
            rename_entities(article, names)
        dup = duplicates.find(article.id, article.fingerprint) if article.fingerprint is not None else None
        try:
            link = placer.place(article)
        except Exception as exc:  # noqa: BLE001 - one article must not stop its window; it stays unplaced
            article.problems.append(f"stories: failed ({type(exc).__name__}: {exc})")
            continue
        out.append((article.id, article.event_id, article.story_id, link.score, json.dumps(link.parts), dup))
    events, stories = placer.events(), placer.stories()
    restored = {r.id for r in (*restored_events, *restored_stories)}
    own: dict[str, list[str]] = {}
    for e in events:
        own[e.id] = [m for m in e.article_ids if m in own_ids]
    return WindowPlacement(window, out, events, stories, restored, own)


def _redirects(records: Iterable[Event | Story]) -> dict[str, str]:
    hops = {r.id: r.merged_into for r in records if r.merged_into}

    def follow(key: str) -> str:
        seen = set()
        while key in hops and key not in seen:
            seen.add(key)
            key = hops[key]
        return key

    return {k: follow(k) for k in hops}


@dataclasses.dataclass
class Resolution:
    """Where every raw id ended up: per (window, raw event id) the final (event, story); per article its
    final event; per final event its story and the window that created it."""

    mapping: dict[tuple[int, str], tuple[str, str]]
    article_event: dict[str, str]
    event_story: dict[str, str]
    home: dict[str, int]


def resolve_ids(first_pass: Mapping[int, tuple[list[Event], list[Story]]],
                second_pass: Mapping[int, WindowPlacement]) -> Resolution:
    """Final (event, story) for every (window, raw event id) of the second pass.

    A raw id the window created is final for its event. A restored id (a first-pass cluster of an
    earlier window) stands for the cluster that cluster's first article ended up in, in its own window's
    second pass, followed back window by window. A story likewise: the one its first event ended up in.
    Windows are resolved oldest first, so everything a window points back to is already known.
    """
    event_home: dict[str, tuple[int, str]] = {}  # first-pass id -> (window, first article)
    story_first_event: dict[str, str] = {}
    for window, (events, stories) in first_pass.items():
        for e in events:
            if e.article_ids and not e.merged_into:
                event_home[e.id] = (window, e.article_ids[0])
        for s in stories:
            if s.event_ids and not s.merged_into:
                story_first_event[s.id] = s.event_ids[0]
    article_event: dict[str, str] = {}  # an article -> its final event (filled window by window)
    event_story: dict[str, str] = {}  # a final event -> its final story
    mapping: dict[tuple[int, str], tuple[str, str]] = {}
    home: dict[str, int] = {}  # final event -> window it was created in
    for window in sorted(second_pass):
        placed = second_pass[window]
        hops = _redirects([*placed.events, *placed.stories])
        raw_story = {e.id: hops.get(e.story_id, e.story_id) for e in placed.events if not e.merged_into}

        def final_event(raw: str) -> str:
            raw = hops.get(raw, raw)
            if raw in placed.restored:
                past = event_home.get(raw)
                return article_event.get(past[1], raw) if past else raw
            return raw

        def final_story(raw_event: str) -> str:
            raw = raw_story.get(hops.get(raw_event, raw_event))
            if raw is None:
                return "st-" + raw_event.removeprefix("ev-")
            if raw in placed.restored:
                first_event = story_first_event.get(raw)
                past = event_home.get(first_event) if first_event else None
                if past is not None:
                    target = article_event.get(past[1])
                    if target is not None and target in event_story:
                        return event_story[target]
            return raw

        for e in placed.events:
            if e.merged_into:
                continue
            fe = final_event(e.id)
            if fe not in event_story:  # the window that created it decides its story
                event_story[fe] = final_story(e.id)
                home[fe] = window
            for member in placed.own.get(e.id, []):
                article_event[member] = fe
        for e in placed.events:
            raw = hops.get(e.id, e.id)
            fe = final_event(raw)
            mapping[(window, e.id)] = (fe, event_story.get(fe) or final_story(raw))
    return Resolution(mapping, article_event, event_story, home)


def merge_records(pieces: Mapping[str, list[tuple[int, Any]]], **fields: Mapping[str, Any]) -> list:
    """Final event (or story) records from the windows' pieces. ``fields`` give per final id what the
    resolution decided (members, story); the profile (centroid, terms, entity counts) comes from the
    latest piece, which carries what the earlier ones restored; dates span all pieces, the title is the first's."""
    out = []
    for key in sorted(pieces):
        parts = sorted(pieces[key], key=lambda p: p[0])
        firsts = [p.first_date for _, p in parts if p.first_date]
        lasts = [p.last_date for _, p in parts if p.last_date]
        decided = {name: (list(values.get(key, [])) if name.endswith("_ids") else values.get(key))
                   for name, values in fields.items()}
        out.append(dataclasses.replace(
            parts[-1][1], id=key, first_date=min(firsts) if firsts else None, last_date=max(lasts) if lasts else None,
            title=parts[0][1].title, merged_into=None, **decided))
    return out


def dumps(record: Any) -> bytes:
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def loads(blob: bytes) -> Any:
    return pickle.loads(blob)


def reasons(rejections: Iterable[str]) -> Counter[str]:
    """Rejection reasons grouped by their leading words (as ``IngestReport.reasons``)."""
    return Counter(r.split(" (")[0].split(":")[0] for r in rejections)
