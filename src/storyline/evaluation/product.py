"""The product path every evaluation takes: ``track``'s pipeline on a store, read back as a user reads it.

A labelled set is ingested and enriched ONCE into a store (``enrich_set``); each placement setting to
score is then ``Pipeline.place`` on a copy of that store (``place_set``), so refitting a threshold costs
a placement, not an enrichment, and every figure comes from the code ``storyline track`` runs. Which
cluster an article is in, at each level, is read from the placed store through ``LEVELS``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from storyline.model import Document
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.store import ENRICHED, INGESTED, Store

if TYPE_CHECKING:
    from storyline.model import Article
    from storyline.stories.linking import PlacementConfig

__all__ = ["LEVELS", "EnrichedSet", "Level", "cluster_ids", "enrich_set", "level", "open_enriched", "place_set",
           "placed_store"]


@dataclasses.dataclass(frozen=True)
class Level:
    """One clustering level: the placed article's attribute naming its cluster, and the store lookup that
    follows a merged cluster's redirect to the one it became."""

    attribute: str
    lookup: str


# a thread is read through the article's story (a story may move between threads; articles do not say)
LEVELS: dict[str, Level] = {
    "event": Level("event_id", "get_event"),
    "story": Level("story_id", "get_story"),
    "thread": Level("story_id", "thread_of_story"),
}


def level(name: str) -> Level:
    if name not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {name!r}")
    return LEVELS[name]


@dataclasses.dataclass(frozen=True)
class EnrichedSet:
    """A store holding a labelled set ingested and enriched by the pipeline, nothing placed yet."""

    name: str
    path: Path
    stored: Mapping[str, str]  # document origin -> id of the stored article (a re-post maps to the one kept)


def enrich_set(name: str, documents: Sequence[Document], path: str | Path) -> EnrichedSet:
    """Ingest and enrich ``documents`` into a new store at ``path`` through ``Pipeline``."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path}: a store is already there; enrich a set into a new file")
    with Store(path) as store:
        pipeline = Pipeline(store)
        report = pipeline.ingest_documents(documents)
        pipeline.enrich()
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file: copies of it are whole
    Path(f"{path}.stored.json").write_text(json.dumps(report.stored), encoding="utf-8")
    return EnrichedSet(name, path, dict(report.stored))


def open_enriched(name: str, documents: Sequence[Document], path: str | Path) -> EnrichedSet:
    """The set enriched at ``path`` by an earlier ``enrich_set`` (kept between benchmark runs), else a new one."""
    path = Path(path)
    stored = Path(f"{path}.stored.json")
    if path.exists() and stored.exists():
        return EnrichedSet(name, path, json.loads(stored.read_text(encoding="utf-8")))
    return enrich_set(name, documents, path)


def placed_store(enriched: EnrichedSet, path: str | Path, config: "PlacementConfig | None" = None,
                 only: Iterable[str] | None = None, deliveries: Sequence[Sequence[str]] | None = None) -> Path:
    """Copy the enriched store to ``path`` and run ``Pipeline.place`` on it with ``config``.

    ``only`` (article ids): place only these; the others are held back (left unplaced in the copy), so a
    fold's training articles or a subset of a set (MultiLing's ar+en+fr of all seven) can be placed
    from one enrichment. ``deliveries`` (groups of article ids): hold every article back, then release and
    place one group at a time, as a ``track`` per delivery would (``evaluation.arrival``).
    """
    path = Path(path)
    shutil.copyfile(enriched.path, path)
    with Store(path) as store:
        every = {a.id: a for a in store.articles(stage=ENRICHED)}
        keep = set(only) if only is not None else set(every) if deliveries is None else set()
        store.update_articles([a for k, a in every.items() if k not in keep], stage=INGESTED)
        pipeline = Pipeline(store, PipelineConfig(placement=config))
        for group in deliveries or [[]]:
            store.update_articles([every[k] for k in group if k in every], stage=ENRICHED)
            pipeline.place()
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def cluster_ids(store: Store, ids: Iterable[str], levels: Sequence[str]) -> dict[str, dict[str, str]]:
    """level -> stored article id -> the id of the cluster that holds it now (redirects followed)."""
    out: dict[str, dict[str, str]] = {name: {} for name in levels}
    articles: list[Article] = store.get_articles(sorted(set(ids)))
    for name in levels:
        lv = level(name)
        lookup = getattr(store, lv.lookup)
        for article in articles:
            key = getattr(article, lv.attribute)
            if key is None:
                continue
            record = lookup(key)
            out[name][article.id] = record.id if record else key
    return out


def place_set(enriched: EnrichedSet, workdir: str | Path, config: "PlacementConfig | None" = None,
              levels: Sequence[str] = ("event", "story"), only: Iterable[str] | None = None,
              tag: str = "placed") -> dict[str, dict[str, str]]:
    """Place a copy of the enriched set (``placed_store``) and return level -> origin -> cluster id."""
    path = placed_store(enriched, Path(workdir) / f"{enriched.name}-{tag}.db", config, only)
    try:
        with Store(path) as store:
            by_id = cluster_ids(store, enriched.stored.values(), levels)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {name: {origin: ids[key] for origin, key in enriched.stored.items() if key in ids}
            for name, ids in by_id.items()}
