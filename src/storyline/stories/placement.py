"""Online placement: each article, in arrival order, joins an event (or opens one), each event a story.

Single-pass clustering against cluster profiles, as in TDT first-story detection and Miranda et al.
(2018): an article is compared only with the events active near its date (found through the
candidate index by centroid and by shared rare terms/entities), scored on several views, and joins
the best one above a calibrated threshold. A new event is linked to the story it continues, with a
wider time window. When a cluster grows, its profile can converge with a neighbour's; the two then
merge, the younger id redirecting to the older, so ids handed out stay valid. Ids derive from the
first article's id; with the same input in the same order the output is the same.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Callable, Iterable

import numpy as np

from storyline.model import Article, Event, Link, Story
from storyline.stories.linking import Cluster, PlacementConfig, event_score, story_score
from storyline.stories.similarity import DocFreq, Features, Profile, features

try:  # the shared candidate index; a brute-force stand-in keeps this module usable without it
    from storyline.stories.index import CandidateIndex
except ImportError:  # pragma: no cover - only while index.py is being written
    CandidateIndex = None  # type: ignore[assignment,misc]

__all__ = ["PlacementConfig", "StoryPlacer"]

_DIM = 512
_QUERY_TERMS = 12  # rarest article terms used to find candidates the embedding misses
_PROFILE_KEYS = 40  # rarest profile terms a cluster is findable by


class _BruteIndex:
    """Stand-in with the CandidateIndex interface: exact scan of everything (tests, tiny inputs)."""

    def __init__(self, dim: int, window_days: int = 30) -> None:
        self.window_days = window_days
        self._rows: dict[str, tuple[np.ndarray, dt.date | None, frozenset[str]]] = {}

    def upsert(self, key, vector, date, entities) -> None:
        self._rows[key] = (np.asarray(vector, dtype=np.float32), date, frozenset(entities))

    def remove(self, key) -> None:
        self._rows.pop(key, None)

    def expire(self, before) -> None:
        for key in [k for k, (_, d, _) in self._rows.items() if d is not None and d < before]:
            del self._rows[key]

    def search(self, vector, date, entities, k=20):
        ents = set(entities)
        out = []
        for key, (vec, d, keys) in self._rows.items():
            if date is not None and d is not None and abs((d - date).days) > self.window_days:
                continue
            out.append((key, float(vec @ vector), len(ents & keys)))
        best = sorted(out, key=lambda r: (-r[1], r[0]))[:k]
        shared = sorted((r for r in out if r[2]), key=lambda r: (-r[2], -r[1], r[0]))[:k]
        keep = {r[0]: r[1] for r in best + shared}
        return sorted(keep.items(), key=lambda kv: (-kv[1], kv[0]))


def _default_factory() -> Callable[..., object]:
    return CandidateIndex if CandidateIndex is not None else _BruteIndex


class StoryPlacer:
    """Places articles into events and events into stories, online and deterministically."""

    def __init__(self, config: PlacementConfig | None = None, index_factory: Callable[..., object] | None = None) -> None:
        self.config = config or PlacementConfig()
        factory = index_factory or _default_factory()
        self._event_index = factory(_DIM, window_days=self.config.event_window_days)
        self._story_index = factory(_DIM, window_days=self.config.story_window_days)
        self._df = DocFreq()
        self._events: dict[str, Cluster] = {}
        self._stories: dict[str, Cluster] = {}
        self._frozen_events: dict[str, Event] = {}  # expired from the working set
        self._frozen_stories: dict[str, Story] = {}
        self._redirects: dict[str, str] = {}
        self._latest: dt.date | None = None
        self._placed = 0
        self._changed_events: set[str] = set()  # touched since the last ``changes()``: what a store must write
        self._changed_stories: set[str] = set()

    # ------------------------------------------------------------------ placing
    def place(self, article: Article) -> Link:
        """Put one article into an event (and story); sets ``article.event_id`` and ``story_id``."""
        if not article.id:
            raise ValueError(f"{article.origin}: article has no id; clean it (normalize.clean) before placing")
        f = features(article)
        self._df.add(list(f.words) + list(f.anchors) + list(f.entities))
        if f.date is not None and (self._latest is None or f.date > self._latest):
            self._latest = f.date
        best_id, best_score, best_parts = self._best(f, self._events, self._event_index, event_score)
        cfg = self.config
        if best_id is not None and best_score >= cfg.event_threshold:
            event = self._events[best_id]
            event.profile.add(f, cfg.profile_terms)
            event.members.append(article.id)
            story = self._stories[event.parent]
            story.profile.add(f, cfg.profile_terms)
            self._reindex(event, self._event_index)
            self._reindex(story, self._story_index)
            event = self._maybe_merge_event(event)
            story = self._maybe_merge_story(self._stories[event.parent])
        else:
            profile = Profile()
            profile.add(f, cfg.profile_terms)
            event = Cluster(id=f"ev-{article.id}", profile=profile, members=[article.id], title=article.title)
            self._events[event.id] = event
            story = self._link_story(event, article)
            self._reindex(event, self._event_index)
            best_score = max(best_score, 0.0) if best_id is not None else 0.0
        article.event_id, article.story_id = event.id, story.id
        self._changed_events.add(event.id)
        self._changed_stories.add(story.id)
        self._placed += 1
        if self._placed % cfg.expire_every == 0:
            self._expire()
        return Link(article_id=article.id, event_id=event.id, score=round(float(best_score), 4),
                    parts={k: round(float(v), 4) for k, v in (best_parts or {}).items() if v is not None})

    def _best(self, item, clusters: dict[str, Cluster], index, scorer) -> tuple[str | None, float, dict]:
        best_id, best_score, best_parts = None, -math.inf, {}
        for key in self._candidates(item, index):
            cluster = clusters.get(key)
            if cluster is None:
                continue
            score, parts = scorer(item, cluster.profile, self._df, self.config)
            if score > best_score or (score == best_score and best_id is not None and key < best_id):
                best_id, best_score, best_parts = key, score, parts
        return best_id, best_score, best_parts

    def _query_terms(self, terms: Counter[str], n: int) -> list[str]:
        ranked = sorted(terms.items(), key=lambda kv: (-(1 + math.log(kv[1])) * self._df.idf(kv[0]), kv[0]))
        return [t for t, _ in ranked[:n] if self._df.counts.get(t, 0) > 1 or n == _PROFILE_KEYS]

    def _candidates(self, item: Features | Profile, index) -> list[str]:
        if isinstance(item, Features):
            vector, date, anchors, entities = item.embedding, item.date, item.anchors, item.entities
        else:
            vector, date, anchors, entities = item.centroid, item.last, item.anchors, item.entities
        if vector is None:
            vector = np.zeros(_DIM, dtype=np.float32)
        keys = sorted(entities)[:32] + self._query_terms(anchors, _QUERY_TERMS)
        return [key for key, _ in index.search(vector, date, keys, k=self.config.candidates)]

    def _reindex(self, cluster: Cluster, index) -> None:
        p = cluster.profile
        vector = p.centroid if p.centroid is not None else np.zeros(_DIM, dtype=np.float32)
        if not np.any(vector):
            vector = np.full(_DIM, 1.0 / math.sqrt(_DIM), dtype=np.float32)
        keys = sorted(p.entities)[:64] + self._query_terms(p.anchors, _PROFILE_KEYS)
        index.upsert(cluster.id, vector, p.last, keys)

    def _link_story(self, event: Cluster, article: Article) -> Cluster:
        best_id, best_score, _ = self._best(event.profile, self._stories, self._story_index, story_score)
        if best_id is not None and best_score >= self.config.story_threshold:
            story = self._stories[best_id]
            story.profile.absorb(event.profile, self.config.profile_terms)
            story.members.append(event.id)
        else:
            profile = Profile()
            profile.absorb(event.profile, self.config.profile_terms)
            story = Cluster(id=f"st-{article.id}", profile=profile, members=[event.id], title=article.title)
            self._stories[story.id] = story
        event.parent = story.id
        self._reindex(story, self._story_index)
        return story

    # ------------------------------------------------------------------ merging
    @staticmethod
    def _checkpoint(size: int) -> bool:
        return size >= 2 and (size & (size - 1)) == 0  # 2, 4, 8, ...: profiles move most while small

    def _maybe_merge_event(self, event: Cluster) -> Cluster:
        if not self._checkpoint(len(event.members)):
            return event
        threshold = min(0.99, self.config.event_threshold + self.config.event_merge_margin)
        for key in self._candidates(event.profile, self._event_index):
            other = self._events.get(key)
            if other is None or other.id == event.id:
                continue
            score, _ = event_score(event.profile, other.profile, self._df, self.config)
            if score >= threshold:
                keep, gone = self._order(event, other, self._events)
                self._absorb(keep, gone, self._events, self._event_index)
                if keep.parent != gone.parent:
                    self._merge_stories(self._stories[keep.parent], self._stories[gone.parent])
                self._stories[keep.parent].members = [m for m in self._stories[keep.parent].members if m != gone.id]
                return keep
        return event

    def _maybe_merge_story(self, story: Cluster) -> Cluster:
        if not self._checkpoint(story.profile.size):
            return story
        threshold = self.config.story_threshold + self.config.merge_margin
        for key in self._candidates(story.profile, self._story_index):
            other = self._stories.get(key)
            if other is None or other.id == story.id:
                continue
            score, _ = story_score(story.profile, other.profile, self._df, self.config)
            if score >= threshold:
                return self._merge_stories(story, other)
        return story

    def _merge_stories(self, a: Cluster, b: Cluster) -> Cluster:
        keep, gone = self._order(a, b, self._stories)
        for event_id in gone.members:
            if event_id in self._events:
                self._events[event_id].parent = keep.id
            self._changed_events.add(event_id)
        self._absorb(keep, gone, self._stories, self._story_index)
        return keep

    @staticmethod
    def _order(a: Cluster, b: Cluster, clusters: dict[str, Cluster]) -> tuple[Cluster, Cluster]:
        """The older cluster (first created) keeps its id, so the ids users saw first survive."""
        order = {key: i for i, key in enumerate(clusters)}
        return (a, b) if order[a.id] < order[b.id] else (b, a)

    def _absorb(self, keep: Cluster, gone: Cluster, clusters: dict[str, Cluster], index) -> None:
        keep.profile.absorb(gone.profile, self.config.profile_terms)
        keep.members.extend(m for m in gone.members if m not in keep.members)
        (self._changed_events if clusters is self._events else self._changed_stories).update((keep.id, gone.id))
        self._redirects[gone.id] = keep.id
        for old, new in list(self._redirects.items()):
            if new == gone.id:
                self._redirects[old] = keep.id
        del clusters[gone.id]
        index.remove(gone.id)
        self._reindex(keep, index)

    # ------------------------------------------------------------------ memory
    def _expire(self) -> None:
        """Freeze events and stories that can no longer receive members, keeping memory bounded."""
        if self._latest is None:
            return
        event_edge = self._latest - dt.timedelta(days=self.config.event_window_days)
        story_edge = self._latest - dt.timedelta(days=self.config.story_window_days)
        for key in [k for k, c in self._events.items() if c.profile.last is not None and c.profile.last < event_edge]:
            self._frozen_events[key] = self._event_record(self._events.pop(key))
        for key in [k for k, c in self._stories.items() if c.profile.last is not None and c.profile.last < story_edge]:
            self._frozen_stories[key] = self._story_record(self._stories.pop(key))
        self._event_index.expire(event_edge)
        self._story_index.expire(story_edge)

    # ------------------------------------------------------------------ records
    def resolve(self, key: str) -> str:
        seen = set()
        while key in self._redirects and key not in seen:
            seen.add(key)
            key = self._redirects[key]
        return key

    @staticmethod
    def _terms(p: Profile) -> dict[str, float]:
        out = {f"w:{t}": float(v) for t, v in p.words.items()}
        out.update({f"a:{t}": float(v) for t, v in p.anchors.items()})
        return out

    def _event_record(self, c: Cluster) -> Event:
        p = c.profile
        return Event(id=c.id, story_id=self.resolve(c.parent) if c.parent else None, article_ids=list(c.members),
                     first_date=p.first, last_date=p.last, centroid=p.centroid, entity_counts=dict(p.entities),
                     title=c.title, terms=self._terms(p))  # fmt: skip

    def _story_record(self, c: Cluster) -> Story:
        p = c.profile
        return Story(id=c.id, event_ids=[self.resolve(e) for e in c.members], first_date=p.first, last_date=p.last,
                     centroid=p.centroid, entity_counts=dict(p.entities), title=c.title, terms=self._terms(p))  # fmt: skip

    def events(self) -> list[Event]:
        """Every event, and a member-less record per merged-away id whose ``merged_into`` says where it went.

        The merged records are what lets a store follow an id it handed out (articles placed before the
        merge still name it) and lets ``restore`` rebuild the redirects.
        """
        live = [self._event_record(c) for c in self._events.values()]
        for e in self._frozen_events.values():
            e.story_id = self.resolve(e.story_id) if e.story_id else None
        gone = [Event(id=old, story_id=None, article_ids=[], first_date=None, last_date=None, merged_into=new)
                for old, new in self.redirects().items() if old.startswith("ev-")]  # fmt: skip
        return list(self._frozen_events.values()) + live + gone

    def stories(self) -> list[Story]:
        """Every story, and a member-less ``merged_into`` record per merged-away id (as ``events``)."""
        gone = [Story(id=old, event_ids=[], first_date=None, last_date=None, merged_into=new)
                for old, new in self.redirects().items() if old.startswith("st-")]  # fmt: skip
        return list(self._frozen_stories.values()) + [self._story_record(c) for c in self._stories.values()] + gone

    def event_record(self, key: str) -> Event | None:
        """The current record of one event (live or frozen), following merges."""
        key = self.resolve(key)
        if key in self._events:
            return self._event_record(self._events[key])
        record = self._frozen_events.get(key)
        if record is not None and record.story_id:
            record.story_id = self.resolve(record.story_id)
        return record

    def story_article_ids(self, key: str) -> list[str]:
        """The ids of a story's articles, without building its records (cheap enough for every batch)."""
        key = self.resolve(key)
        if key in self._stories:
            event_ids = self._stories[key].members
        elif key in self._frozen_stories:
            event_ids = self._frozen_stories[key].event_ids
        else:
            return []
        ids: list[str] = []
        for event_id in event_ids:
            event_id = self.resolve(event_id)
            if event_id in self._events:
                ids.extend(self._events[event_id].members)
            elif event_id in self._frozen_events:
                ids.extend(self._frozen_events[event_id].article_ids)
        return ids

    def story_record(self, key: str) -> Story | None:
        key = self.resolve(key)
        if key in self._stories:
            return self._story_record(self._stories[key])
        return self._frozen_stories.get(key)

    def changes(self) -> tuple[list[Event], list[Story]]:
        """Records of the events and stories touched since the last call (merged-away ids as redirects).

        A store writes these after each batch instead of every record, so a batch costs what it changed.
        """
        def merged(cls, key):
            return cls(key, None, [], None, None, merged_into=self.resolve(key)) if cls is Event else \
                cls(key, [], None, None, merged_into=self.resolve(key))

        events = [self.event_record(k) if self.resolve(k) == k else merged(Event, k) for k in sorted(self._changed_events)]
        stories = [self.story_record(k) if self.resolve(k) == k else merged(Story, k) for k in sorted(self._changed_stories)]
        self._changed_events.clear()
        self._changed_stories.clear()
        return [e for e in events if e is not None], [s for s in stories if s is not None]

    def redirects(self) -> dict[str, str]:
        return {old: self.resolve(old) for old in self._redirects}

    @classmethod
    def restore(
        cls, events: Iterable[Event], stories: Iterable[Story], redirects: dict[str, str],
        config: PlacementConfig | None = None, index_factory: Callable[..., object] | None = None,
    ) -> "StoryPlacer":  # fmt: skip
        """Rebuild the working set from stored records (merged ones only as redirects)."""
        placer = cls(config, index_factory)
        events, stories = list(events), list(stories)
        placer._redirects = {r.id: r.merged_into for r in (*events, *stories) if r.merged_into}
        placer._redirects.update(redirects)
        for record, clusters, index, members in (
            *((e, placer._events, placer._event_index, e.article_ids) for e in events if not e.merged_into),
            *((s, placer._stories, placer._story_index, s.event_ids) for s in stories if not s.merged_into),
        ):
            p = _profile_of(record, len(members))
            parent = getattr(record, "story_id", None)
            cluster = Cluster(id=record.id, profile=p, members=list(members), parent=parent, title=record.title)
            clusters[record.id] = cluster
            if isinstance(record, Event):  # rebuild document frequencies, one document per article
                terms = list(p.words) + list(p.anchors) + list(p.entities)
                for _ in range(max(1, len(members))):
                    placer._df.add(terms)
            if p.last is not None and (placer._latest is None or p.last > placer._latest):
                placer._latest = p.last
        for clusters, index in ((placer._events, placer._event_index), (placer._stories, placer._story_index)):
            for cluster in clusters.values():
                placer._reindex(cluster, index)
        for event in placer._events.values():
            if event.parent is not None:
                event.parent = placer.resolve(event.parent)
                if event.parent not in placer._stories:
                    raise ValueError(f"restore: event {event.id} names story {event.parent}, which was not given")
        placer._expire()
        return placer


def _profile_of(record: Event | Story, size: int) -> Profile:
    p = Profile(size=max(1, size), first=record.first_date, last=record.last_date)
    if record.centroid is not None:
        p.embedding_sum = np.asarray(record.centroid, dtype=np.float32) * max(1, size)
    for key, value in (record.terms or {}).items():
        (p.words if key.startswith("w:") else p.anchors)[key[2:]] = value
    p.entities.update(record.entity_counts or {})
    return p
