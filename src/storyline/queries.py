"""The one query layer: every read question the CLI, the Python API, the HTTP API and the web pages ask.

All four ways in call ``Queries`` and none of them reads the store itself, so a listing, a story page and
``storyline story --json`` can never disagree. Answers are plain JSON-ready dicts and lists.

Listings and filters run over a light in-memory index (one row per article, event and story, no text or
vectors) rebuilt only when the store changed (``Store.version``); what is expensive to tell (timeline,
summary, what's new) is cached per story and per set of member articles, so a story that gained an article
is recomputed and every other one is served from the cache.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections import Counter, OrderedDict
from typing import Any, Callable

import numpy as np

from storyline.model import Article, Story, follow_redirects, to_dict
from storyline.store import PLACED, Store

__all__ = ["Filters", "Queries", "NotFound", "story_title", "top_entities", "GROWTH_HOURS"]

GROWTH_HOURS = 24  # "fastest-growing": original articles that arrived within a day of the newest arrival
MAX_PAGE = 200  # largest page any listing returns
DEFAULT_DATES: int | None = None  # None: the story decides how many dates (tell.timeline: the knee of the day scores)


class NotFound(LookupError):
    """No such story / event / article; ``hint`` says how to find one."""

    def __init__(self, what: str, key: str, hint: str) -> None:
        super().__init__(f"no {what} {key!r} ({hint})")
        self.what, self.key, self.hint = what, key, hint


@dataclasses.dataclass(frozen=True)
class Filters:
    """What a listing may be narrowed by; every field is optional and they combine with AND."""

    since: dt.date | None = None  # active on or after (a story's last date / an article's date)
    until: dt.date | None = None  # active on or before
    entity: str | None = None  # part of an entity's name, case-insensitive
    source: str | None = None  # outlet name, case-insensitive
    language: str | None = None  # ISO code
    text: str | None = None  # full-text query (FTS5)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def top_entities(counts: dict[str, int], n: int = 6) -> list[str]:
    """Names of the most counted entity keys ("person:zalmay khalilzad" → "zalmay khalilzad")."""
    return [k.split(":", 1)[-1].lstrip("@") for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def story_title(story: Story, articles: list[Article]) -> str:
    """The story's own title, else its first titled article's, else its main actors."""
    if story.title:
        return story.title
    titled = next((a.title for a in articles if a.title), None)
    if titled:
        return titled
    return ", ".join(t.title() for t in top_entities(story.entity_counts, 3)) or story.id


@dataclasses.dataclass(slots=True)
class _ArticleRow:
    rowid: int
    id: str
    title: str | None
    opening: str
    source: str | None
    url: str | None
    language: str | None
    published: str | None
    provenance: str
    origin: str
    ingested_at: str
    stage: int
    event_id: str | None
    story_id: str | None
    duplicate_of: str | None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title or self.opening[:80], "published": self.published,
            "date_provenance": self.provenance, "language": self.language, "source": self.source,
            "url": self.url, "origin": self.origin, "story_id": self.story_id, "event_id": self.event_id,
            "duplicate_of": self.duplicate_of, "ingested_at": self.ingested_at,
        }


@dataclasses.dataclass(slots=True)
class _StoryEntry:
    id: str
    title: str | None
    first_date: str | None
    last_date: str | None
    entity_counts: dict[str, int]
    article_ids: list[str] = dataclasses.field(default_factory=list)  # by date, then id
    event_ids: list[str] = dataclasses.field(default_factory=list)
    originals: int = 0
    growth: int = 0
    sources: Counter = dataclasses.field(default_factory=Counter)
    languages: Counter = dataclasses.field(default_factory=Counter)
    last_arrival: str = ""

    def row(self, index: "_Index") -> dict[str, Any]:
        first_titled = next((index.articles[i].title for i in self.article_ids if index.articles[i].title), None)
        display = self.title or first_titled or ", ".join(t.title() for t in top_entities(self.entity_counts, 3)) or self.id
        return {
            "id": self.id, "title": self.title, "display_title": display,
            "first_date": self.first_date, "last_date": self.last_date,
            "events": len(self.event_ids), "articles": self.originals,
            "near_duplicates": len(self.article_ids) - self.originals,
            "entities": top_entities(self.entity_counts),
            "sources": [k for k, _ in self.sources.most_common(8)],
            "languages": [k for k, _ in self.languages.most_common()],
            "growth": self.growth, "last_arrival": self.last_arrival,
        }


class _Index:
    """Articles, events and stories as light rows, and which articles each live story holds."""

    def __init__(self, version: tuple, article_rows: list, event_rows: list, story_rows: list) -> None:
        self.version = version
        self.memo: dict[str, Any] = {}  # answers that depend on nothing but this index (facets, version)
        self.articles: dict[str, _ArticleRow] = {}
        for r in article_rows:
            self.articles[r["id"]] = _ArticleRow(
                r["rowid"], r["id"], r["title"], r["opening"] or "", r["source"], r["url"], r["language"],
                r["published"], r["published_provenance"], r["origin"], r["ingested_at"], r["stage"],
                r["event_id"], r["story_id"], r["duplicate_of"])
        events = {r["id"]: r for r in event_rows}
        stories = {r["id"]: r for r in story_rows}
        self.redirects = {k: r["merged_into"] for k, r in {**events, **stories}.items() if r["merged_into"]}
        self.events = {k: r for k, r in events.items() if not r["merged_into"]}
        self.stories: dict[str, _StoryEntry] = {}
        for key, r in stories.items():
            if r["merged_into"]:
                continue
            counts = json.loads(r["entity_counts"]) if r["entity_counts"] else {}
            self.stories[key] = _StoryEntry(key, r["title"], r["first_date"], r["last_date"], counts)
        self.event_articles: dict[str, list[str]] = {}
        arrivals = [a.ingested_at for a in self.articles.values()]
        recent = (dt.datetime.fromisoformat(max(arrivals)) - dt.timedelta(hours=GROWTH_HOURS)).isoformat() if arrivals else None
        for art in self.articles.values():
            if art.stage < PLACED or not art.event_id:
                continue
            event_id = self.resolve(art.event_id)
            event = self.events.get(event_id)
            story = self.stories.get(self.resolve(event["story_id"] or "")) if event else None
            if story is None:
                continue
            art.event_id, art.story_id = event_id, story.id
            self.event_articles.setdefault(event_id, []).append(art.id)
            story.article_ids.append(art.id)
            story.sources[art.source or "(unknown outlet)"] += 1
            story.languages[art.language or "und"] += 1
            story.last_arrival = max(story.last_arrival, art.ingested_at)
            if not art.duplicate_of:
                story.originals += 1
                story.growth += bool(recent and art.ingested_at >= recent)
        for story in self.stories.values():
            story.article_ids.sort(key=lambda i: (self.articles[i].published is None, self.articles[i].published or "", i))
            story.event_ids = sorted({self.articles[i].event_id for i in story.article_ids},
                                     key=lambda e: (self.events[e]["first_date"] or "9999", e))

    def resolve(self, key: str) -> str:
        return follow_redirects(self.redirects, key)


def _page(items: list[Any], limit: int | None, offset: int) -> dict[str, Any]:
    """One page of ``items``; ``limit=None`` is all of them (the CLI's ``--limit 0``; HTTP caps it)."""
    offset = max(0, offset)
    end = None if limit is None else offset + max(0, limit)
    return {"total": len(items), "limit": limit, "offset": offset, "items": items[offset:end]}


class Queries:
    """Read answers over one store. Thread-safe: one lock around the store connection and the caches.

    When the store changed, the first reader rebuilds the index while the others keep answering from the
    previous one, so a burst of writes never stalls every reader at once.
    """

    def __init__(self, store: Store, cache_size: int = 256) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._building = threading.Lock()
        self._index: _Index | None = None
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_size = cache_size

    # --- plumbing -----------------------------------------------------------------------------
    def index(self) -> _Index:
        """The light index, rebuilt when the store changed since it was built (stale while another rebuilds)."""
        with self._lock:
            version = self.store.version()
        current = self._index
        if current is not None and current.version == version:
            return current
        if not self._building.acquire(blocking=current is None):
            return current  # another thread is rebuilding: answer from the last index meanwhile
        try:
            with self._lock:
                version = self.store.version()
                if self._index is not None and self._index.version == version:
                    return self._index
                rows = (self.store.article_index_rows(), self.store.event_index_rows(), self.store.story_index_rows())
            self._index = _Index(version, *rows)
            return self._index
        finally:
            self._building.release()

    def version(self) -> dict[str, Any]:
        """What a live page polls: changes whenever an article is stored or placed."""
        index = self.index()
        if "version" not in index.memo:
            index.memo["version"] = self._version(index)
        return dict(index.memo["version"])

    @staticmethod
    def _version(index: _Index) -> dict[str, Any]:
        placed = sum(1 for a in index.articles.values() if a.stage >= PLACED)
        return {"articles": len(index.articles), "placed": placed, "stories": len(index.stories),
                "token": f"{len(index.articles)}-{placed}-{len(index.stories)}"}

    def _cached(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return value

    def _articles(self, ids: list[str]) -> list[Article]:
        with self._lock:
            return self.store.get_articles(ids)

    def _find_story(self, story_id: str) -> tuple[_Index, _StoryEntry]:
        index = self.index()
        key = index.resolve(story_id)
        if key not in index.stories:
            matches = [k for k in index.stories if k.startswith(story_id)] if len(story_id) >= 4 else []
            if len(matches) != 1:
                raise NotFound("story", story_id, "list them with: storyline stories")
            key = matches[0]
        return index, index.stories[key]

    def _find_article(self, article_id: str) -> Article:
        with self._lock:
            article = self.store.get_article(article_id)
            shared = self.store.ids_with_source_id(article_id) if article is None else []
        if article is None and shared:
            raise NotFound("article", article_id, f"source id {article_id!r} is used by {len(shared)} articles of "
                           f"different sources: {', '.join(shared)} (show one by its id)")
        if article is None:
            raise NotFound("article", article_id, "list ids with: storyline articles")
        return article

    def _story_record(self, entry: _StoryEntry) -> Story:
        with self._lock:
            story = self.store.get_story(entry.id)
        if story is None:
            raise NotFound("story", entry.id, "it was removed while being read; try again")
        return story

    # --- stories ------------------------------------------------------------------------------
    def _story_matches(self, index: _Index, story: _StoryEntry, f: Filters, hits: set[str] | None) -> bool:
        if f.since and story.last_date and story.last_date < f.since.isoformat():
            return False
        if f.until and story.first_date and story.first_date > f.until.isoformat():
            return False
        if f.entity:
            needle = f.entity.casefold()
            if not any(needle in key.casefold() for key in story.entity_counts):
                return False
        if f.source and f.source.casefold() not in {s.casefold() for s in story.sources}:
            return False
        if f.language and f.language.casefold() not in {s.casefold() for s in story.languages}:
            return False
        if hits is not None and not any(i in hits for i in story.article_ids):
            return False
        return True

    def stories(self, filters: Filters | None = None, sort: str = "articles", limit: int | None = 50,
                offset: int = 0) -> dict[str, Any]:
        """Stories matching ``filters``, sorted by ``articles`` (largest), ``latest`` or ``growing``; a page."""
        f = filters or Filters()
        index = self.index()
        hits = {i for i, _ in self._search_ids(f.text)} if f.text else None
        chosen = [s for s in index.stories.values() if s.article_ids and self._story_matches(index, s, f, hits)]
        keys: dict[str, Callable[[_StoryEntry], tuple]] = {
            "articles": lambda s: (-s.originals, s.first_date or "", s.id),
            "latest": lambda s: (_neg(s.last_date or ""), _neg(s.last_arrival), -s.originals, s.id),
            "growing": lambda s: (-s.growth, -s.originals, s.id),
        }
        if sort not in keys:
            raise ValueError(f"sort must be one of {', '.join(keys)}, got {sort!r}")
        chosen.sort(key=keys[sort])
        page = _page(chosen, limit, offset)
        page["items"] = [s.row(index) for s in page["items"]]
        return page

    def story(self, story_id: str, *, words: int = 120, dates: int | None = DEFAULT_DATES,
              language: str = "en", query: str | None = None) -> dict[str, Any]:
        """One story, everything a page shows: row, events, articles, timeline, cited summary, actors,
        sources (who reported first, coverage per day and week), what each article added."""
        from storyline.tell import story_data

        index, entry = self._find_story(story_id)
        key = ("story", entry.id, tuple(entry.article_ids), words, dates, language, query)

        def make() -> dict[str, Any]:
            story = self._story_record(entry)
            articles = self._articles(entry.article_ids)
            data = story_data(articles, story, title=story_title(story, articles), max_words=words,
                              reader_language=language, max_dates=dates, query=query)
            data.update(row=entry.row(index), events=[self._event_row(index, e) for e in entry.event_ids])
            return data

        data = dict(self._cached(key, make))
        data["redirected_from"] = story_id if entry.id != story_id and not entry.id.startswith(story_id) else None
        return data

    def story_row(self, story_id: str) -> dict[str, Any]:
        index, entry = self._find_story(story_id)
        return entry.row(index)

    def story_articles(self, story_id: str) -> list[dict[str, Any]]:
        index, entry = self._find_story(story_id)
        return [index.articles[i].summary() for i in entry.article_ids]

    def timeline(self, story_id: str, dates: int | None = DEFAULT_DATES, sentences: int = 1, *,
                 start: dt.date | None = None, end: dt.date | None = None, weights: Any = None) -> list[dict[str, Any]]:
        """The story's dated timeline; ``start``/``end`` bound its days, ``weights`` (``TimelineWeights``)
        replace the shipped ones (the evaluations fit them)."""
        from storyline.tell import TimelineWeights, build_timeline

        _, entry = self._find_story(story_id)
        key = ("timeline", entry.id, tuple(entry.article_ids), dates, sentences, start, end, weights)
        return self._cached(key, lambda: [to_dict(e) for e in build_timeline(
            self._articles(entry.article_ids), max_dates=dates, sentences_per_date=sentences, start=start, end=end,
            weights=weights or TimelineWeights())])

    def summary(self, story_id: str, words: int = 120, query: str | None = None,
                language: str = "en", *, since: dt.date | None = None, until: dt.date | None = None,
                weights: Any = None) -> list[dict[str, Any]]:
        """The story's cited summary; with ``since``, what its articles published after that day add to the
        ones before (a returning reader's update); with ``until``, the story as it stood that day.
        ``weights``: ``SummaryWeights`` (the evaluations fit them)."""
        from storyline.tell import summarize, update_summary

        _, entry = self._find_story(story_id)
        key = ("summary", entry.id, tuple(entry.article_ids), words, query, language, since, until, weights)

        def make() -> list[dict[str, Any]]:
            articles = [a for a in self._articles(entry.article_ids)
                        if until is None or a.published is None or a.published <= until]
            if since is None:
                chosen = summarize(articles, max_words=words, query=query, reader_language=language, weights=weights)
            else:
                new = [a for a in articles if a.published is not None and a.published > since]
                before = [a for a in articles if a.published is None or a.published <= since]
                chosen = update_summary(new, before, max_words=words, query=query, reader_language=language,
                                        weights=weights)
            return [to_dict(s) for s in chosen]

        return self._cached(key, make)

    def report(self, limit: int | None = None, words: int = 120) -> list[dict[str, Any]]:
        """Report data for the largest stories (most distinct articles first), as ``storyline report`` writes."""
        ids = [s["id"] for s in self.stories(sort="articles", limit=limit)["items"]]
        out = []
        for story_id in ids:
            data = self.story(story_id, words=words, dates=DEFAULT_DATES)
            out.append({k: v for k, v in data.items() if k not in ("row", "events", "redirected_from")})
        return out

    # --- events -------------------------------------------------------------------------------
    def _event_row(self, index: _Index, event_id: str) -> dict[str, Any]:
        event = index.events[event_id]
        ids = index.event_articles.get(event_id, [])
        ids = sorted(ids, key=lambda i: (index.articles[i].published or "9999", i))
        first = index.articles[ids[0]] if ids else None
        label = event["title"] or (first.title if first and first.title else None) or (first.opening[:90] if first else event_id)
        return {"id": event_id, "story_id": index.resolve(event["story_id"] or ""), "title": event["title"],
                "label": label, "first_date": event["first_date"], "last_date": event["last_date"],
                "articles": len(ids), "article_ids": ids,
                "first_arrival": min((index.articles[i].ingested_at for i in ids), default=None)}

    def event(self, event_id: str) -> dict[str, Any]:
        index = self.index()
        key = index.resolve(event_id)
        if key not in index.events:
            matches = [k for k in index.events if k.startswith(event_id)] if len(event_id) >= 4 else []
            if len(matches) != 1:
                raise NotFound("event", event_id, "see: storyline story ID")
            key = matches[0]
        row = self._event_row(index, key)
        row["article_list"] = [index.articles[i].summary() for i in row["article_ids"]]
        return row

    # --- articles -----------------------------------------------------------------------------
    def articles(self, filters: Filters | None = None, limit: int | None = 20, offset: int = 0) -> dict[str, Any]:
        """Stored articles in arrival order (newest last), narrowed by ``filters``; a page."""
        f = filters or Filters()
        index = self.index()
        hits = {i for i, _ in self._search_ids(f.text)} if f.text else None
        entity_stories = None
        if f.entity:
            needle = f.entity.casefold()
            entity_stories = {s.id for s in index.stories.values() if any(needle in k.casefold() for k in s.entity_counts)}
        rows = [a for a in index.articles.values() if _article_matches(a, f, hits, entity_stories)]
        page = _page(rows, limit, offset)
        page["items"] = [a.summary() for a in page["items"]]
        return page

    def article(self, article_id: str, *, new_limit: int = 5) -> dict[str, Any]:
        """One article: metadata, date and provenance, text (sentences marked new), what's new, near-duplicates."""
        article = self._find_article(article_id)
        index = self.index()
        row = index.articles.get(article.id)
        data = to_dict(article, drop=("embedding", "fingerprint"))
        data["has_embedding"] = article.embedding is not None
        if row:  # follow merges: the event and story the article is in now
            data["event_id"], data["story_id"] = row.event_id, row.story_id
        new = self.whats_new(article.id, new_limit) if row and row.story_id in index.stories else []
        data["whats_new"] = new
        new_sentences = {c["sentence"] for s in new for c in s["citations"][:1] if c["article_id"] == article.id}
        data["sentence_list"] = [{"index": i, "text": s.text, "new": i in new_sentences}
                                 for i, s in enumerate(article.sentences)]
        data["near_duplicates"] = self._near_duplicates(index, article)
        story = index.stories.get(row.story_id) if row and row.story_id else None
        data["story"] = story.row(index) if story else None
        return data

    def _near_duplicates(self, index: _Index, article: Article) -> list[dict[str, Any]]:
        leader = article.duplicate_of or article.id
        group = [a for a in index.articles.values()
                 if a.id != article.id and (a.id == leader or a.duplicate_of == leader)]
        return [a.summary() for a in sorted(group, key=lambda a: (a.published or "9999", a.id))]

    def whats_new(self, article_id: str, limit: int = 5) -> list[dict[str, Any]]:
        """What the article added to its story: its sentences the story did not carry before it arrived."""
        from storyline.tell import whats_new

        article = self._find_article(article_id)
        index = self.index()
        row = index.articles.get(article.id)
        if not row or not row.story_id or row.story_id not in index.stories:
            raise NotFound("placed article", article.id, "it is not placed in a story yet; run: storyline enrich")
        entry = index.stories[row.story_id]
        key = ("new", article.id, tuple(entry.article_ids), limit)

        def make() -> list[dict[str, Any]]:
            members = self._articles(entry.article_ids)
            position = next((i for i, a in enumerate(members) if a.id == article.id), len(members))
            return [to_dict(s) for s in whats_new(article, members[:position], max_sentences=limit)]

        return self._cached(key, make)

    def similarity(self, article_id: str, other_id: str) -> float | None:
        """The score ``similar`` ranks by (embedding cosine) for one pair; None when either is not embedded."""
        a, b = self._find_article(article_id), self._find_article(other_id)
        if a.embedding is None or b.embedding is None or a.embedding.shape != b.embedding.shape:
            return None
        return float(a.embedding @ b.embedding)

    def similar(self, article_id: str, limit: int = 10, window_days: int = 90) -> list[dict[str, Any]]:
        """Nearest stored articles by embedding within ±``window_days`` of the article's date (all, if undated)."""
        article = self._find_article(article_id)
        if article.embedding is None:
            raise NotFound("enriched article", article.id, "it is not enriched yet; run: storyline track or storyline enrich")
        with self._lock:
            if article.published:
                span = dt.timedelta(days=window_days)  # clipped at the calendar's ends (0001-01-01, 9999-12-31)
                lo = (article.published - min(span, article.published - dt.date.min)).isoformat()
                hi = (article.published + min(span, dt.date.max - article.published)).isoformat()
                pool = self.store.articles_between(lo, hi)
            else:
                pool = [a for a in self.store.articles() if a.embedding is not None]
        pool = [a for a in pool if a.id != article.id and a.embedding is not None
                and a.embedding.shape == article.embedding.shape]
        if not pool:
            return []
        scores = np.stack([a.embedding for a in pool]) @ article.embedding
        order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool[i].id))[: max(0, limit)]
        index = self.index()
        out = []
        for i in order:
            row = index.articles.get(pool[i].id)
            if row:
                out.append({**row.summary(), "similarity": round(float(scores[i]), 4)})
        return out

    # --- search and facets --------------------------------------------------------------------
    def _search_ids(self, text: str | None, limit: int = 1000) -> list[tuple[str, float]]:
        if not text:
            return []
        with self._lock:
            return self.store.search_ids(text, limit=limit)

    def search(self, query: str, filters: Filters | None = None, limit: int | None = 20, offset: int = 0) -> dict[str, Any]:
        """Full-text hits (SQLite FTS5, bm25), best first, narrowed by ``filters``; a page."""
        f = dataclasses.replace(filters or Filters(), text=None)
        index = self.index()
        rows = []
        for article_id, score in self._search_ids(query):
            row = index.articles.get(article_id)
            if row and _article_matches(row, f, None, None):
                rows.append({**row.summary(), "score": round(score, 4)})
        return _page(rows, limit, offset)

    def facets(self) -> dict[str, Any]:
        """Outlets and languages with their article counts, and the store's size and date span."""
        index = self.index()
        if "facets" not in index.memo:
            index.memo["facets"] = self._facets(index)
        return index.memo["facets"]

    @staticmethod
    def _facets(index: _Index) -> dict[str, Any]:
        arts = list(index.articles.values())
        dates = sorted(a.published for a in arts if a.published)
        return {
            "articles": len(arts), "placed": sum(a.stage >= PLACED for a in arts),
            "stories": sum(1 for s in index.stories.values() if s.article_ids),
            "sources": dict(Counter(a.source or "(unknown outlet)" for a in arts).most_common(30)),
            "languages": dict(Counter(a.language or "und" for a in arts).most_common()),
            "first_date": dates[0] if dates else None, "last_date": dates[-1] if dates else None,
        }

    # --- feeds --------------------------------------------------------------------------------
    def story_updates(self, story_ids: list[str], limit: int = 50) -> list[dict[str, Any]]:
        """What the stories gained, newest first: one entry per event with its articles' what's-new sentences."""
        entries = []
        for story_id in story_ids:
            data = self.story(story_id)
            for event in data["events"]:
                new = [s for a in event["article_ids"] for s in data["whats_new"].get(a, [])]
                if not new and event["article_ids"] and event["article_ids"][0] == data["articles"][0]["id"]:
                    new = data["summary"][:3]  # the story's opening event: what the story is about
                entries.append({"story_id": data["id"], "story_title": data["title"], "event": event,
                                "sentences": new, "updated": event["first_arrival"]})
        entries.sort(key=lambda e: (e["updated"] or "", e["event"]["id"]), reverse=True)
        return entries[:limit]

    def entity_story_ids(self, entity: str) -> list[str]:
        return [s["id"] for s in self.stories(Filters(entity=entity), sort="latest", limit=20)["items"]]

    def search_story_ids(self, text: str) -> list[str]:
        return [s["id"] for s in self.stories(Filters(text=text), sort="latest", limit=20)["items"]]


def _neg(text: str) -> tuple[int, ...]:
    """A sort key that orders strings descending inside an ascending sort."""
    return tuple(-ord(c) for c in text) + (0,)


def _article_matches(a: _ArticleRow, f: Filters, hits: set[str] | None, entity_stories: set[str] | None) -> bool:
    if f.since and (not a.published or a.published < f.since.isoformat()):
        return False
    if f.until and (not a.published or a.published > f.until.isoformat()):
        return False
    if f.source and (a.source or "").casefold() != f.source.casefold():
        return False
    if f.language and (a.language or "").casefold() != f.language.casefold():
        return False
    if hits is not None and a.id not in hits:
        return False
    if entity_stories is not None and a.story_id not in entity_stories:
        return False
    return True
