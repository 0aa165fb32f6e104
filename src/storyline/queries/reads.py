"""``Queries``: every read answer over one store (see the package docstring)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from typing import Any, Callable

import numpy as np

from storyline.model import Article, Story, to_dict
from storyline.queries.defaults import (DEFAULT_DATES, DEFAULT_WORDS, GROWTH_HOURS, SIMILAR_POOL, VIEW_DATES,
                                        VIEW_FORMAT, VIEW_LANGUAGE, VIEW_NEW, VIEW_WORDS)
from storyline.queries.index import (Filters, Index, NotFound, StoryEntry, ThreadEntry, article_matches, descending,
                                     live_id, one_page, story_title, utc_instant)
from storyline.store import PLACED, QUARANTINED, Store
from storyline.store import views as stored_views
from storyline.store.vectors import DayVectors

VERSION_POLL_SECONDS = 0.05  # with ``rebuild_share``, how long an unchanged version is taken as read


class Queries:
    """Read answers over one store. Thread-safe: one lock around the store connection and the caches.

    When the store changed, the first reader rebuilds the index while the others keep answering from the
    previous one, so a burst of writes never stalls every reader at once.
    """

    def __init__(self, store: Store, cache_size: int = 256, stale_views: bool = False,
                 rebuild_share: float | None = None) -> None:
        """``stale_views``: answer from a prepared view even when its cluster changed since (the server, whose
        writer is preparing the new one); otherwise a changed cluster is computed on read.

        ``rebuild_share``: None rebuilds the index on the first read after any change (the CLI, the Python
        API: a read after a write sees it). A share (the server: 0.2) lets readers answer from the last index
        until rebuilding would take at most that share of the time: after a rebuild that took d seconds, the
        next one waits d / share seconds. A writer commits several times a round (ingest, enrich, place,
        views), and rebuilding on each ran the web process out of time under a POST a second; ``refresh``
        (the writer's end of round) rebuilds at once."""
        if rebuild_share is not None and not 0 < rebuild_share <= 1:
            raise ValueError(f"rebuild_share must be in (0, 1], got {rebuild_share}")
        self.store = store
        self.stale_views = stale_views
        self.rebuild_share = rebuild_share
        self._lock = threading.RLock()
        self._building = threading.Lock()
        self._index: Index | None = None
        self._index_db: Store | None = None  # the server's rebuilds read on a connection of their own
        self._next_rebuild = 0.0  # monotonic time before which readers keep the last index (rebuild_share)
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._cache_size = cache_size
        self._vectors = DayVectors()  # filled on the first ``similar`` (or by ``warm``)
        self._vectors_lock = threading.Lock()
        self._vector_db: sqlite3.Connection | None = None

    # --- plumbing -----------------------------------------------------------------------------
    def index(self) -> Index:
        """The light index, rebuilt when the store changed since it was built (stale while another rebuilds,
        and with ``rebuild_share`` until the next rebuild is due)."""
        current = self._index
        if current is not None and self.rebuild_share is not None and time.monotonic() < self._next_rebuild:
            return current  # not due: not even the version is read (it waits for the store's lock)
        with self._lock:
            version = self.store.version()
        if current is not None and current.version == version:
            if self.rebuild_share is not None:
                self._next_rebuild = time.monotonic() + VERSION_POLL_SECONDS
            return current
        if not self._building.acquire(blocking=current is None):
            return current  # another thread is rebuilding: answer from the last index meanwhile
        try:
            return self._rebuild()
        finally:
            self._building.release()

    def invalidate(self) -> None:
        """Let the next read rebuild the index whatever ``rebuild_share`` (this process stored articles: a
        client that posted them and reads next must find them)."""
        self._next_rebuild = 0.0

    def refresh(self) -> Index:
        """Rebuild the index now if the store changed (a writer's round is complete), whatever ``rebuild_share``."""
        with self._building:
            return self._rebuild()

    def _rebuild(self) -> Index:
        """Under ``_building``. The version is read before the rows, so the rows are at least that new."""
        with self._lock:
            version = self.store.version()
            if self._index is not None and self._index.version == version:
                return self._index
        started = time.monotonic()
        if self.rebuild_share is not None and not self.store.read_only and str(self.store.path) != ":memory:":
            # rows on a connection of their own: reads of the store's connection do not wait behind them
            if self._index_db is None:
                self._index_db = Store(self.store.path)
            rows = self._index_rows(self._index_db)
        else:
            with self._lock:
                rows = self._index_rows(self.store)
        self._index = Index(version, *rows)
        if self.rebuild_share is not None:
            self._next_rebuild = time.monotonic() + (time.monotonic() - started) / self.rebuild_share
        return self._index

    @staticmethod
    def _index_rows(store: Store) -> tuple:
        return (store.article_index_rows(), store.event_index_rows(), store.story_index_rows(),
                store.thread_index_rows(), store.entity_rows())

    def version(self) -> dict[str, Any]:
        """What a live page polls: changes whenever an article is stored or placed."""
        index = self.index()
        if "version" not in index.memo:
            index.memo["version"] = self._version(index)
        return dict(index.memo["version"])

    @staticmethod
    def _version(index: Index) -> dict[str, Any]:
        placed = sum(1 for a in index.articles.values() if a.stage == PLACED)
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

    def _find_story(self, story_id: str) -> tuple[Index, StoryEntry]:
        index = self.index()
        return index, index.stories[live_id(index, index.stories, story_id, "story", "list them with: storyline stories")]

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

    def _story_record(self, entry: StoryEntry) -> Story:
        with self._lock:
            story = self.store.get_story(entry.id)
        if story is None:
            raise NotFound("story", entry.id, "it was removed while being read; try again")
        return story

    # --- stories ------------------------------------------------------------------------------
    def _story_matches(self, index: Index, story: StoryEntry, f: Filters, hits: set[str] | None) -> bool:
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
                offset: int = 0, new_since: str | None = None) -> dict[str, Any]:
        """Stories matching ``filters``, sorted by ``articles`` (largest), ``latest`` or ``growing``; a page.

        ``growth`` (what ``growing`` sorts by) counts originals that arrived after ``new_since`` (an ISO
        instant: the reader's last visit), by default within ``GROWTH_HOURS`` of the newest arrival."""
        f = filters or Filters()
        index = self.index()
        since = utc_instant(new_since) or index.window_start
        # the same listing is asked for by every front-page view until the store changes
        key = ("stories", index.version, f, sort, limit, offset, since)  # ``since`` counts each row's growth
        page = self._cached(key, lambda: self._stories(index, f, sort, limit, offset, since))
        return {**page, "items": list(page["items"])}

    def _stories(self, index: Index, f: Filters, sort: str, limit: int | None, offset: int, since: str | None
                 ) -> dict[str, Any]:
        hits = {i for i, _ in self._search_ids(f.text)} if f.text else None
        chosen = [s for s in index.stories.values() if s.article_ids and self._story_matches(index, s, f, hits)]
        keys: dict[str, Callable[[StoryEntry], tuple]] = {
            "articles": lambda s: (-s.originals, s.first_date or "", s.id),
            "latest": lambda s: (descending(s.last_date or ""), descending(s.last_arrival), -s.originals, s.id),
            "growing": lambda s: (-s.growth(since), descending(s.last_arrival), -s.originals, s.id),
        }
        if sort not in keys:
            raise ValueError(f"sort must be one of {', '.join(keys)}, got {sort!r}")
        chosen.sort(key=keys[sort])
        page = one_page(chosen, limit, offset)
        page["items"] = [s.row(index, since) for s in page["items"]]
        page["new_since"], page["newest_arrival"] = since, index.newest_arrival
        return page

    def story(self, story_id: str, *, words: int = DEFAULT_WORDS, dates: int | None = DEFAULT_DATES,
              language: str = "en", query: str | None = None) -> dict[str, Any]:
        """One story, everything a page shows: row, events, articles, timeline, cited summary, actors,
        sources (who reported first, coverage per day and week), what each article added."""
        index, entry = self._find_story(story_id)
        view = self._view(index, "story", entry.id, entry.article_ids) if (words, language, query) == (
            VIEW_WORDS, VIEW_LANGUAGE, None) and dates in VIEW_DATES else None
        if view is not None:
            data = {k: v for k, v in view.items() if k not in ("timelines", "article_new")}
            data["timeline"] = view["timelines"][str(dates)]
        else:
            key = ("story", entry.id, tuple(entry.article_ids), words, dates, language, query)
            data = dict(self._cached(key, lambda: self._story_data(index, entry, words, dates, language, query)))
        data.update(row=entry.row(index), events=[self._event_row(index, e) for e in entry.event_ids])
        data["redirected_from"] = story_id if entry.id != story_id and not entry.id.startswith(story_id) else None
        return data

    def _story_data(self, index: Index, entry: StoryEntry, words: int, dates: int | None, language: str,
                    query: str | None) -> dict[str, Any]:
        """From ``index``, the one the caller read ``entry`` from: ``prepare_views`` stores a view after each
        story, which changes the store's version, so asking for the index here rebuilt it for every story
        (``track`` on 100,000 articles spent hours telling)."""
        from storyline.tell import story_data

        story = self._story_record(entry)
        articles = self._articles(entry.article_ids)
        if "outlets" not in index.memo:  # outlets are not actors
            index.memo["outlets"] = sorted({a.source for a in index.articles.values() if a.source})
        return story_data(articles, story, title=story_title(story, articles), max_words=words,
                          reader_language=language, max_dates=dates, query=query, outlets=index.memo["outlets"])

    # --- prepared views (the writer prepares, readers read) -----------------------------------
    @staticmethod
    def view_version(index: Index, article_ids: list[str]) -> str:
        """The membership a view is computed from: its articles in order, with their dates and duplicate marks."""
        rows = (index.articles[i] for i in article_ids)
        text = "\n".join([VIEW_FORMAT, *(f"{r.id}\t{r.published}\t{r.duplicate_of}" for r in rows)])
        return hashlib.sha1(text.encode()).hexdigest()

    def _story_view(self, index: Index, key: str) -> dict[str, Any]:
        """What a story page and the API's story answer hold, for every timeline length they ask for."""
        from storyline.tell import build_timeline
        from storyline.tell.novelty import whats_new_each

        entry = index.stories[key]
        data = self._story_data(index, entry, VIEW_WORDS, DEFAULT_DATES, VIEW_LANGUAGE, None)
        ordered = sorted(self._articles(entry.article_ids), key=lambda a: (a.published or dt.date.max, a.id))
        data["timelines"] = {str(d): data["timeline"] if d == DEFAULT_DATES else
                             [to_dict(e) for e in build_timeline(ordered, max_dates=d)] for d in VIEW_DATES}
        each = whats_new_each(ordered, max_sentences=VIEW_NEW)  # the article pages' what's new
        data["article_new"] = {k: [to_dict(x) for x in v] for k, v in each.items()}
        return data

    def _view_kinds(self) -> dict[str, tuple[Callable[[Index], dict[str, list[str]]], Callable[[Index, str], dict]]]:
        """Each kind of cluster with prepared views: (its live clusters' member ids, how to make one's view).
        A thread's view is its page's default answer."""
        return {"story": (lambda index: {k: s.article_ids for k, s in index.stories.items() if s.article_ids},
                          self._story_view),
                "thread": (lambda index: {k: t.article_ids(index) for k, t in index.threads.items() if t.story_ids},
                           lambda index, key: self._thread_data(index, index.threads[key], VIEW_WORDS, DEFAULT_DATES,
                                                                VIEW_LANGUAGE))}  # fmt: skip

    def _view(self, index: Index, kind: str, key: str, article_ids: list[str]) -> dict[str, Any] | None:
        """The prepared view of a cluster: when current (or ``stale_views``), else None (compute on read)."""
        with self._lock:
            version = stored_views.view_versions_of(self.store.db, kind, [key]).get(key)
        if version is None or (version != self.view_version(index, article_ids) and not self.stale_views):
            return None

        def load() -> dict[str, Any] | None:
            with self._lock:
                found = stored_views.get_view(self.store.db, kind, key)
            return found[1] if found else None

        return self._cached(("view", kind, key, version), load)

    def prepare_views(self, kinds: tuple[str, ...] | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Compute and store the view of every cluster whose membership changed since its view was prepared,
        and forget those of clusters that are gone. The writer runs it after placement; returns how many.
        ``progress`` is called after each view stored (the server's worker reports it as a heartbeat)."""
        index = self.index()
        made = 0
        for kind, (members, make) in self._view_kinds().items():
            if kinds is not None and kind not in kinds:
                continue
            clusters = members(index)
            with self._lock:
                stored = stored_views.view_versions(self.store.db, kind)
            gone = [k for k in stored if k not in clusters]
            for key in sorted(clusters):
                version = self.view_version(index, clusters[key])
                if stored.get(key) == version:
                    continue
                data = make(index, key)
                with self._lock, self.store.transaction():
                    stored_views.put_views(self.store.db, kind, [(key, version, data)])
                made += 1
                if progress:
                    progress(1)
            if gone:
                with self._lock, self.store.transaction():
                    stored_views.drop_views(self.store.db, kind, gone)
        return made

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

        index, entry = self._find_story(story_id)
        defaults = sentences == 1 and dates in VIEW_DATES and (start, end, weights) == (None, None, None)
        view = self._view(index, "story", entry.id, entry.article_ids) if defaults else None
        if view is not None:
            return view["timelines"][str(dates)]
        key = ("timeline", entry.id, tuple(entry.article_ids), dates, sentences, start, end, weights)
        return self._cached(key, lambda: [to_dict(e) for e in build_timeline(
            self._articles(entry.article_ids), max_dates=dates, sentences_per_date=sentences, start=start, end=end,
            weights=weights or TimelineWeights())])

    def summary(self, story_id: str, words: int = DEFAULT_WORDS, query: str | None = None,
                language: str = "en", *, since: dt.date | None = None, until: dt.date | None = None,
                weights: Any = None) -> list[dict[str, Any]]:
        """The story's cited summary; with ``since``, what its articles published after that day add to the
        ones before (a returning reader's update); with ``until``, the story as it stood that day.
        ``weights``: ``SummaryWeights`` (the evaluations fit them)."""
        from storyline.tell import summarize, update_summary

        index, entry = self._find_story(story_id)
        defaults = (words, query, language, since, until, weights) == (VIEW_WORDS, None, VIEW_LANGUAGE, None, None, None)
        view = self._view(index, "story", entry.id, entry.article_ids) if defaults else None
        if view is not None:
            return view["summary"]
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

    def report(self, limit: int | None = None, words: int = DEFAULT_WORDS) -> list[dict[str, Any]]:
        """Report data for the largest stories (most distinct articles first), as ``storyline report`` writes."""
        ids = [s["id"] for s in self.stories(sort="articles", limit=limit)["items"]]
        out = []
        for story_id in ids:
            data = self.story(story_id, words=words, dates=DEFAULT_DATES)
            out.append({k: v for k, v in data.items() if k not in ("row", "events", "redirected_from")})
        return out

    # --- threads ------------------------------------------------------------------------------
    def _find_thread(self, thread_id: str) -> tuple[Index, ThreadEntry]:
        index = self.index()
        return index, index.threads[live_id(index, index.threads, thread_id, "thread", "list them with: storyline threads")]

    @staticmethod
    def _thread_matches(index: Index, row: dict[str, Any], thread: ThreadEntry, f: Filters,
                        hits: set[str] | None) -> bool:
        """As a story's filters, over the thread's stories together (its span, outlets, languages, entities)."""
        if f.since and row["last_date"] and row["last_date"] < f.since.isoformat():
            return False
        if f.until and row["first_date"] and row["first_date"] > f.until.isoformat():
            return False
        stories = thread.stories(index)
        if f.entity:
            needle = f.entity.casefold()
            names = [k for s in stories for k in s.entity_counts] + row["places"] + row["actors"]
            if not any(needle in name.casefold() for name in names):
                return False
        if f.source and f.source.casefold() not in {k.casefold() for s in stories for k in s.sources}:
            return False
        if f.language and f.language.casefold() not in {k.casefold() for s in stories for k in s.languages}:
            return False
        if hits is not None and not any(i in hits for s in stories for i in s.article_ids):
            return False
        return True

    def threads(self, filters: Filters | None = None, sort: str = "articles", limit: int | None = 50,
                offset: int = 0) -> dict[str, Any]:
        """Threads matching ``filters``, sorted by ``articles`` (largest), ``latest`` or ``growing``; a page of
        rows like the stories' (with their story count, readable places and actors)."""
        f = filters or Filters()
        index = self.index()
        if "thread_rows" not in index.memo:
            index.memo["thread_rows"] = {k: t.row(index) for k, t in index.threads.items()}
        rows: dict[str, dict[str, Any]] = index.memo["thread_rows"]
        hits = {i for i, _ in self._search_ids(f.text)} if f.text else None
        chosen = [r for k, r in rows.items() if self._thread_matches(index, r, index.threads[k], f, hits)]
        keys: dict[str, Callable[[dict[str, Any]], tuple]] = {
            "articles": lambda r: (-r["articles"], r["first_date"] or "", r["id"]),
            "latest": lambda r: (descending(r["last_date"] or ""), descending(r["last_arrival"]), -r["articles"], r["id"]),
            "growing": lambda r: (-r["growth"], -r["articles"], r["id"]),
        }
        if sort not in keys:
            raise ValueError(f"sort must be one of {', '.join(keys)}, got {sort!r}")
        chosen.sort(key=keys[sort])
        page = one_page(chosen, limit, offset)
        page["items"] = [dict(r) for r in page["items"]]
        return page

    def thread_row(self, thread_id: str) -> dict[str, Any]:
        index, entry = self._find_thread(thread_id)
        return entry.row(index)

    def thread(self, thread_id: str, *, words: int = DEFAULT_WORDS, dates: int | None = DEFAULT_DATES,
               language: str = "en") -> dict[str, Any]:
        """One thread, everything its page shows: its row, its stories over time (their rows), a long timeline
        over all its articles (the story timeline's code and defaults), a cited summary, actors, sources and
        languages. A merged thread's id answers with the thread it became part of."""
        index, entry = self._find_thread(thread_id)
        article_ids = entry.article_ids(index)
        view = self._view(index, "thread", entry.id, article_ids) if (words, dates, language) == (
            VIEW_WORDS, DEFAULT_DATES, VIEW_LANGUAGE) else None
        if view is not None:  # what the writer prepared when the thread's membership last changed
            data = dict(view)
        else:
            key = ("thread", entry.id, tuple(entry.story_ids), tuple(article_ids), words, dates, language)
            data = dict(self._cached(key, lambda: self._thread_data(index, entry, words, dates, language)))
        data["redirected_from"] = thread_id if entry.id != thread_id and not entry.id.startswith(thread_id) else None
        return data

    def _thread_data(self, index: Index, entry: ThreadEntry, words: int, dates: int | None,
                     language: str) -> dict[str, Any]:
        article_ids = entry.article_ids(index)
        row = entry.row(index)
        told = _tell_thread(self._articles(article_ids), words=words, dates=dates, language=language)
        return {"id": entry.id, "title": row["display_title"], "first_date": row["first_date"],
                "last_date": row["last_date"], "reader_language": language, "row": row,
                "stories": [s.row(index) for s in entry.stories(index)],
                "articles": [index.articles[i].summary() for i in article_ids], **told}

    def thread_reports(self, story_ids: list[str]) -> list[dict[str, Any]]:
        """The threads holding any of ``story_ids``, largest first, each with all its stories' rows
        (what ``storyline report`` lists above the stories)."""
        index = self.index()
        wanted = {index.stories[s].thread_id for s in story_ids if s in index.stories} - {None}
        rows = [r for r in self.threads(limit=None)["items"] if r["id"] in wanted]
        return [{**r, "story_list": [index.stories[s].row(index) for s in r["story_ids"]]} for r in rows]

    # --- events -------------------------------------------------------------------------------
    def _event_row(self, index: Index, event_id: str) -> dict[str, Any]:
        event = index.events[event_id]
        ids = index.event_articles.get(event_id, [])
        ids = sorted(ids, key=lambda i: (index.articles[i].published or "9999", i))
        from storyline.tell.titles import headline

        label = headline([index.articles[i] for i in ids]) or event["title"] or event_id
        return {"id": event_id, "story_id": index.resolve(event["story_id"] or ""), "title": event["title"],
                "label": label, "first_date": event["first_date"], "last_date": event["last_date"],
                "articles": len(ids), "article_ids": ids,
                "first_arrival": min((index.articles[i].ingested_at for i in ids), default=None)}

    def event(self, event_id: str) -> dict[str, Any]:
        index = self.index()
        row = self._event_row(index, live_id(index, index.events, event_id, "event", "see: storyline story ID"))
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
        rows = [a for a in index.articles.values() if article_matches(a, f, hits, entity_stories)]
        page = one_page(rows, limit, offset)
        page["items"] = [a.summary() for a in page["items"]]
        return page

    def article(self, article_id: str, *, new_limit: int = 5) -> dict[str, Any]:
        """One article: metadata, date and provenance, text (sentences marked new), what's new, near-duplicates."""
        article = self._find_article(article_id)
        index = self.index()
        row = index.articles.get(article.id)
        from storyline.tell.titles import article_title

        data = to_dict(article, drop=("embedding", "fingerprint"))
        data["title"], data["title_from_text"] = article_title(article.title, article.display_text), not article.title
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
        data["thread_id"] = story.thread_id if story else None  # through its story: stories move between threads
        return data

    def _near_duplicates(self, index: Index, article: Article) -> list[dict[str, Any]]:
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
        view = self._view(index, "story", entry.id, entry.article_ids) if limit <= VIEW_NEW else None
        if view is not None:  # computed for the whole story in one pass (scores may differ slightly from one-off)
            return view["article_new"].get(article.id, [])[:limit]
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
        """Nearest stored articles by embedding among those nearest in date (``similar_search``'s items)."""
        return self.similar_search(article_id, limit, window_days)["items"]

    def similar_search(self, article_id: str, limit: int = 10, window_days: int = 90,
                       pool: int = SIMILAR_POOL) -> dict[str, Any]:
        """The ``limit`` articles most similar (embedding cosine) to one, searched among the ``pool`` stored
        articles nearest to its date within ±``window_days`` (an undated article: those of the latest days),
        from the in-memory vectors by day (``store.vectors``). Bounded whatever the store's size; ``searched``
        says exactly what was compared: how many articles, the days they span, and whether that was the
        whole window."""
        article = self._find_article(article_id)
        if article.embedding is None:
            raise NotFound("enriched article", article.id, "it is not enriched yet; run: storyline track or storyline enrich")
        pool = max(1, pool)
        with self._vectors_lock:
            self._refresh_vectors()
            if article.published:
                day = article.published.toordinal()
                span = window_days  # clipped at the calendar's ends (0001-01-01, 9999-12-31)
                lo, hi = max(1, day - span), min(dt.date.max.toordinal(), day + span)
                found = self._vectors.pool(day, lo, hi, pool + 1)
            else:
                lo = hi = None
                found = self._vectors.pool(None, 0, 0, pool + 1)
        valid = np.ones(len(found.ids), dtype=bool)  # the pool but the article itself, at most ``pool`` of them
        if article.id in found.ids:
            valid[found.ids.index(article.id)] = False
        cut = bool(valid.sum() > pool)
        if cut:
            valid[np.flatnonzero(valid)[-1]] = False
        days = found.days[valid]
        iso = lambda d: dt.date.fromordinal(int(d)).isoformat()  # noqa: E731
        searched = {"articles": int(valid.sum()), "pool": pool, "window": [iso(lo), iso(hi)] if lo else None,
                    "first_date": iso(days.min()) if len(days) else None,
                    "last_date": iso(days.max()) if len(days) else None,
                    "whole_window": found.whole_window and not cut,
                    "order": "nearest in date" if lo else "latest dates (the article is undated)"}
        if not valid.any() or article.embedding.shape[0] != found.vectors.shape[1]:
            return {"items": [], "searched": searched}
        scores = found.vectors @ article.embedding.astype(np.float32)
        scores[~valid] = -np.inf
        take = min(max(0, limit), int(valid.sum()))
        best = np.argpartition(-scores, take - 1)[:take] if 0 < take < len(scores) else np.flatnonzero(valid)[:take]
        order = sorted(best.tolist(), key=lambda i: (-scores[i], found.ids[i]))
        index = self.index()
        out = []
        for i in order:
            row = index.articles.get(found.ids[i])
            if row:
                out.append({**row.summary(), "similarity": round(float(scores[i]), 4)})
        return {"items": out, "searched": searched}

    def _refresh_vectors(self) -> None:
        """Bring the vectors by day up to date, on a connection of their own (a first load of a large store
        takes a while and must not hold the lock every other read waits on). Under ``_vectors_lock``."""
        if self.store.read_only or str(self.store.path) == ":memory:":
            with self._lock:
                self._vectors.refresh(self.store.db)
            return
        if self._vector_db is None:
            self._vector_db = sqlite3.connect(str(self.store.path), check_same_thread=False, timeout=30)
            self._vector_db.execute("PRAGMA query_only=ON")
        self._vectors.refresh(self._vector_db)

    def warm(self) -> None:
        """Build the index and load the vectors now (a server starting), not in its first requests."""
        self.index()
        with self._vectors_lock:
            self._refresh_vectors()

    # --- search and facets --------------------------------------------------------------------
    def _search_ids(self, text: str | None, limit: int = 1000) -> list[tuple[str, float]]:
        """Full-text hits, cached until the index changes (a query holds the store's lock while it runs)."""
        if not text:
            return []

        def run() -> list[tuple[str, float]]:
            with self._lock:
                return self.store.search_ids(text, limit=limit)

        return self._cached(("search ids", self.index().version, text, limit), run)

    def search(self, query: str, filters: Filters | None = None, limit: int | None = 20, offset: int = 0) -> dict[str, Any]:
        """Full-text hits (SQLite FTS5, bm25), best first, narrowed by ``filters``; a page."""
        f = dataclasses.replace(filters or Filters(), text=None)
        index = self.index()
        rows = []
        for article_id, score in self._search_ids(query):
            row = index.articles.get(article_id)
            if row and article_matches(row, f, None, None):
                rows.append({**row.summary(), "score": round(score, 4)})
        return one_page(rows, limit, offset)

    def facets(self) -> dict[str, Any]:
        """Outlets and languages with their article counts, and the store's size and date span."""
        index = self.index()
        if "facets" not in index.memo:
            index.memo["facets"] = self._facets(index)
        return index.memo["facets"]

    @staticmethod
    def _facets(index: Index) -> dict[str, Any]:
        arts = list(index.articles.values())
        dates = sorted(a.published for a in arts if a.published)
        return {
            "articles": len(arts), "placed": sum(a.stage == PLACED for a in arts),
            "quarantined": sum(a.stage == QUARANTINED for a in arts),
            "stories": sum(1 for s in index.stories.values() if s.article_ids),
            "sources": dict(Counter(a.source or "(unknown outlet)" for a in arts).most_common(30)),
            "languages": dict(Counter(a.language or "und" for a in arts).most_common()),
            "first_date": dates[0] if dates else None, "last_date": dates[-1] if dates else None,
        }

    # --- feeds --------------------------------------------------------------------------------
    def story_updates(self, story_ids: list[str], limit: int = 50, filters: Filters | None = None) -> list[dict[str, Any]]:
        """What the stories gained, newest first: one entry per event with its articles' what's-new sentences;
        with ``filters``, only events with an article of that date span, source and language."""
        entries = []
        index = self.index()
        f = dataclasses.replace(filters, text=None, entity=None) if filters else None
        for story_id in story_ids:
            data = self.story(story_id)
            for event in data["events"]:
                if f and not any(article_matches(index.articles[a], f, None, None)
                                 for a in event["article_ids"] if a in index.articles):
                    continue
                new = [s for a in event["article_ids"] for s in data["whats_new"].get(a, [])]
                if not new and event["article_ids"] and event["article_ids"][0] == data["articles"][0]["id"]:
                    new = data["summary"][:3]  # the story's opening event: what the story is about
                entries.append({"story_id": data["id"], "story_title": data["title"], "event": event,
                                "sentences": new, "updated": event["first_arrival"]})
        entries.sort(key=lambda e: (e["updated"] or "", e["event"]["id"]), reverse=True)
        return entries[:limit]

    def entity_story_ids(self, entity: str) -> list[str]:
        return [s["id"] for s in self.stories(Filters(entity=entity), sort="latest", limit=20)["items"]]

    def search_story_ids(self, text: str, filters: Filters | None = None) -> list[str]:
        f = dataclasses.replace(filters or Filters(), text=text)
        return [s["id"] for s in self.stories(f, sort="latest", limit=20)["items"]]


def _tell_thread(articles: list[Article], *, words: int, dates: int | None, language: str) -> dict[str, Any]:
    """A thread told from all its articles with the story's telling code: a long timeline (as many dates as
    the thread's span and coverage call for, ``tell.timeline``), a cited summary, actors and sources."""
    from storyline.tell import actors, build_timeline, sources, summarize

    covered = sources(articles)
    return {
        "timeline": [to_dict(e) for e in build_timeline(articles, max_dates=dates)],
        "summary": [to_dict(s) for s in summarize(articles, words, None, language)],
        "actors": [to_dict(a) for a in actors(articles)],
        "sources": to_dict(covered),
        "languages": dict(covered.languages),
    }

