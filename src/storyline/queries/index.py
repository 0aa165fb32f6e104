"""The light index every listing and filter runs over: one row per article, event, story and thread, no text
or vectors, rebuilt only when the store changed; with the titles and matching rules the answers share."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
from collections import Counter
from typing import Any

from unidecode import unidecode

from storyline.model import Article, Story, follow_redirects
from storyline.queries.defaults import DELIVERY_SECONDS, GROWTH_HOURS
from storyline.store import PLACED


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


def top_entities(counts: dict[str, int], n: int = 6, names: dict[str, str] | None = None) -> list[str]:
    """Names of the most counted entity keys ("person:zalmay khalilzad" → "Zalmay Khalilzad" when ``names``,
    lowercase name → canonical name, knows it; names keep their own casing: "Port-au-Prince", "BBC")."""
    keys = [k.split(":", 1)[-1].lstrip("@") for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
    return [(names or {}).get(k, k) for k in keys]


def story_title(story: Story, articles: list[Article]) -> str:
    """The story's headline (``tell.titles.headline``: its most central article title, else its most central
    lead sentence); the stored title or the id only when the story has no text at all."""
    from storyline.tell.titles import headline

    return headline(articles) or story.title or story.id


@dataclasses.dataclass(slots=True)
class ArticleRow:
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
        from storyline.tell.titles import article_title

        return {
            "id": self.id, "title": article_title(self.title, self.opening), "title_from_text": not self.title,
            "published": self.published,
            "date_provenance": self.provenance, "language": self.language, "source": self.source,
            "url": self.url, "origin": self.origin, "story_id": self.story_id, "event_id": self.event_id,
            "duplicate_of": self.duplicate_of, "ingested_at": self.ingested_at,
        }


@dataclasses.dataclass(slots=True)
class StoryEntry:
    id: str
    title: str | None
    first_date: str | None
    last_date: str | None
    entity_counts: dict[str, int]
    article_ids: list[str] = dataclasses.field(default_factory=list)  # by date, then id
    event_ids: list[str] = dataclasses.field(default_factory=list)
    originals: int = 0
    arrivals: list[str] = dataclasses.field(default_factory=list)  # originals' ingested_at, sorted
    born: str = ""  # the first arrival of any member
    sources: Counter = dataclasses.field(default_factory=Counter)
    languages: Counter = dataclasses.field(default_factory=Counter)
    last_arrival: str = ""
    thread_id: str | None = None  # the live thread it belongs to (redirects followed), None when it has none

    def display_title(self, index: "Index") -> str:
        """The story's headline (``tell.titles.headline``), the same rule and inputs as ``story_title``."""
        from storyline.tell.titles import headline

        key = ("headline", self.id)
        if key not in index.memo:
            index.memo[key] = headline([index.articles[i] for i in self.article_ids]) or self.title or self.id
        return index.memo[key]

    def growth(self, new_since: str | None) -> int:
        """Originals that arrived after ``new_since`` and after the delivery that opened the story."""
        if not new_since or not self.born:
            return 0
        after = max(new_since, (dt.datetime.fromisoformat(self.born) + dt.timedelta(seconds=DELIVERY_SECONDS)).isoformat())
        return len(self.arrivals) - bisect.bisect_right(self.arrivals, after)

    def row(self, index: "Index", new_since: str | None = None) -> dict[str, Any]:
        thread = index.threads.get(self.thread_id or "")
        return {
            "id": self.id, "title": self.title, "display_title": self.display_title(index),
            "first_date": self.first_date, "last_date": self.last_date,
            "events": len(self.event_ids), "articles": self.originals,
            "near_duplicates": len(self.article_ids) - self.originals,
            "entities": top_entities(self.entity_counts, names=index.names),
            "sources": [k for k, _ in self.sources.most_common(8)],
            "languages": [k for k, _ in self.languages.most_common()],
            "growth": self.growth(new_since or index.window_start), "last_arrival": self.last_arrival,
            "thread": {"id": thread.id, "title": thread.display_title(index)} if thread else None,
        }


def thread_title(articles: list, title: str | None, thread_id: str) -> str:
    """What a thread is called: the headline of its articles (``tell.titles.headline``, the rule stories'
    titles follow: the most central article title, else the most central lead sentence), else its record's
    title, else its id. The one place a thread's title is decided."""
    from storyline.tell.titles import headline

    return headline(articles) or title or thread_id


def readable_anchors(anchors: dict[str, float], n: int = 6, names: dict[str, str] | None = None
                     ) -> tuple[list[str], list[str]]:
    """A thread's strongest anchors as a reader knows them: (places by gazetteer name, other actors by name).

    Place ids come first, so an actor that is also one of the places ("@iraq" beside "geo:IQ") shows once."""
    from storyline.enrich.places import place_label

    ranked = sorted(anchors.items(), key=lambda kv: (-kv[1], kv[0]))
    places = [place_label(k) for k, _ in ranked if k.startswith("geo:")]
    seen = {p.casefold() for p in places}
    actors = []
    for key, _ in ranked:
        name = (names or {}).get(key.lstrip("@"), key.lstrip("@"))  # names keep their own casing
        if not key.startswith("geo:") and name.casefold() not in seen:
            seen.add(name.casefold())
            actors.append(name)
    return list(dict.fromkeys(places))[:n], actors[:n]


@dataclasses.dataclass(slots=True)
class ThreadEntry:
    """A live thread and the live stories that name it (a story's thread is read from the story, never the
    thread record's own list, since a story may have moved)."""

    id: str
    title: str | None
    anchors: dict[str, float]
    story_ids: list[str] = dataclasses.field(default_factory=list)  # by first date, then id

    def stories(self, index: "Index") -> list[StoryEntry]:
        return [index.stories[s] for s in self.story_ids]

    def article_ids(self, index: "Index") -> list[str]:
        """Every article of its stories, by date then id."""
        ids = [i for s in self.stories(index) for i in s.article_ids]
        return sorted(ids, key=lambda i: (index.articles[i].published is None, index.articles[i].published or "", i))

    def display_title(self, index: "Index") -> str:
        key = ("thread headline", self.id)
        if key not in index.memo:
            index.memo[key] = thread_title([index.articles[i] for i in self.article_ids(index)], self.title, self.id)
        return index.memo[key]

    def row(self, index: "Index") -> dict[str, Any]:
        stories = self.stories(index)
        sources: Counter = sum((s.sources for s in stories), Counter())
        languages: Counter = sum((s.languages for s in stories), Counter())
        entities: Counter = sum((Counter(s.entity_counts) for s in stories), Counter())
        places, actors = readable_anchors(self.anchors, names=index.names)
        firsts = [s.first_date for s in stories if s.first_date]
        lasts = [s.last_date for s in stories if s.last_date]
        originals = sum(s.originals for s in stories)
        return {
            "id": self.id, "title": self.title, "display_title": self.display_title(index),
            "first_date": min(firsts, default=None), "last_date": max(lasts, default=None),
            "stories": len(stories), "events": sum(len(s.event_ids) for s in stories), "articles": originals,
            "near_duplicates": sum(len(s.article_ids) for s in stories) - originals,
            "places": places, "actors": actors, "entities": top_entities(dict(entities)),
            "sources": [k for k, _ in sources.most_common(8)], "languages": [k for k, _ in languages.most_common()],
            "growth": sum(s.growth(index.window_start) for s in stories), "last_arrival": max((s.last_arrival for s in stories), default=""),
            "story_ids": list(self.story_ids),
        }


class Index:
    """Articles, events and stories as light rows, and which articles each live story holds."""

    def __init__(self, version: tuple, article_rows: list, event_rows: list, story_rows: list,
                 thread_rows: list = (), entity_rows: list | None = None) -> None:
        self.version = version
        # an entity key's name (placement folds it: unidecode, lowercase) -> the canonical name as written
        self.names = {unidecode(str(r[1])).lower(): str(r[1]) for r in entity_rows or ()}
        self.memo: dict[str, Any] = {}  # answers that depend on nothing but this index (facets, version)
        self.articles: dict[str, ArticleRow] = {}
        for r in article_rows:
            self.articles[r["id"]] = ArticleRow(
                r["rowid"], r["id"], r["title"], r["opening"] or "", r["source"], r["url"], r["language"],
                r["published"], r["published_provenance"], r["origin"], r["ingested_at"], r["stage"],
                r["event_id"], r["story_id"], r["duplicate_of"])
        events = {r["id"]: r for r in event_rows}
        stories = {r["id"]: r for r in story_rows}
        threads = {r["id"]: r for r in thread_rows}
        self.redirects = {k: r["merged_into"] for k, r in {**events, **stories, **threads}.items() if r["merged_into"]}
        self.events = {k: r for k, r in events.items() if not r["merged_into"]}
        self.stories: dict[str, StoryEntry] = {}
        for key, r in stories.items():
            if r["merged_into"]:
                continue
            counts = json.loads(r["entity_counts"]) if r["entity_counts"] else {}
            self.stories[key] = StoryEntry(key, r["title"], r["first_date"], r["last_date"], counts,
                                            thread_id=r["thread_id"] if "thread_id" in r.keys() else None)
        self.event_articles: dict[str, list[str]] = {}
        arrivals = [a.ingested_at for a in self.articles.values()]
        self.newest_arrival = max(arrivals, default=None)
        self.window_start = (dt.datetime.fromisoformat(self.newest_arrival) - dt.timedelta(hours=GROWTH_HOURS)).isoformat() \
            if self.newest_arrival else None
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
            story.born = min(story.born or art.ingested_at, art.ingested_at)
            if not art.duplicate_of:
                story.originals += 1
                story.arrivals.append(art.ingested_at)
        for story in self.stories.values():
            story.arrivals.sort()
            story.article_ids.sort(key=lambda i: (self.articles[i].published is None, self.articles[i].published or "", i))
            story.event_ids = sorted({self.articles[i].event_id for i in story.article_ids},
                                     key=lambda e: (self.events[e]["first_date"] or "9999", e))
        self.threads = self._threads(threads)

    def _threads(self, rows: dict[str, Any]) -> dict[str, ThreadEntry]:
        """Live threads holding at least one story with articles; each story's ``thread_id`` is resolved."""
        out = {k: ThreadEntry(k, r["title"], json.loads(r["anchors"]) if r["anchors"] else {})
               for k, r in rows.items() if not r["merged_into"]}
        for story in sorted(self.stories.values(), key=lambda s: (s.first_date or "9999", s.id)):
            thread = out.get(self.resolve(story.thread_id)) if story.thread_id else None
            story.thread_id = thread.id if thread and story.article_ids else None
            if story.thread_id:
                thread.story_ids.append(story.id)
        return {k: t for k, t in out.items() if t.story_ids}

    def resolve(self, key: str) -> str:
        return follow_redirects(self.redirects, key)


def live_id(index: Index, live: dict[str, Any], key: str, what: str, hint: str) -> str:
    """The live id ``key`` names: itself, the one it merged into, or the only id it is a prefix of (4+ chars)."""
    resolved = index.resolve(key)
    if resolved in live:
        return resolved
    matches = [k for k in live if k.startswith(key)] if len(key) >= 4 else []
    if len(matches) != 1:
        raise NotFound(what, key, hint)
    return matches[0]


def one_page(items: list[Any], limit: int | None, offset: int) -> dict[str, Any]:
    """One page of ``items``; ``limit=None`` is all of them (the CLI's ``--limit 0``; HTTP caps it)."""
    offset = max(0, offset)
    end = None if limit is None else offset + max(0, limit)
    return {"total": len(items), "limit": limit, "offset": offset, "items": items[offset:end]}


def utc_instant(value: str | None) -> str | None:
    """``value`` as the ISO instant arrivals are compared with (UTC when no zone is given), or None."""
    try:
        moment = dt.datetime.fromisoformat(value) if value else None
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()
    except (ValueError, OverflowError):  # not an instant, or one whose UTC falls off the calendar
        return None


def descending(text: str) -> tuple[int, ...]:
    """A sort key that orders strings descending inside an ascending sort."""
    return tuple(-ord(c) for c in text) + (0,)


def article_matches(a: ArticleRow, f: Filters, hits: set[str] | None, entity_stories: set[str] | None) -> bool:
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
