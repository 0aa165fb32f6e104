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
import heapq
import math
from collections import Counter
from typing import Callable, Iterable

import numpy as np

from storyline.model import Article, Event, Link, Story, follow_redirects
from storyline.stories.linking import Cluster, PlacementConfig, event_score, story_score
from storyline.stories.similarity import (DocFreq, Features, Profile, document_terms, embedding_cosines, features,
                                          view_cosines)

from storyline.stories.index import CandidateIndex

__all__ = ["History", "PlacementConfig", "StoryPlacer"]

# (event span, story span) -> stored events and stories last active in them, with their stories' events
History = Callable[[tuple[dt.date, dt.date], tuple[dt.date, dt.date]], tuple[list[Event], list[Story]]]

_FALLBACK_DIM = 512  # only when no article carries a vector at all (the index needs some dimension)
_QUERY_TERMS = 12  # rarest article terms used to find candidates the embedding misses
_PROFILE_KEYS = 40  # rarest profile terms a cluster is findable by


class StoryPlacer:
    """Places articles into events and events into stories, online and deterministically."""

    def __init__(self, config: PlacementConfig | None = None, index_factory: Callable[..., object] | None = None,
                 reserved: Callable[[str], bool] | None = None, history: History | None = None) -> None:
        """``reserved``: whether an event or story id was ever handed out beyond what this placer holds (a
        store's lookup); it lets ``forget_frozen`` drop written records without a split reusing their ids.
        ``history``: the stored records last active in two date spans (events, stories) with their stories'
        events (``Store.records_between``), from which a late article's window is brought back; without it
        only the frozen records still in memory can be."""
        self.config = config or PlacementConfig()
        self._reserved = reserved
        self._history = history
        self._thawed: list[dt.date] = []  # days whose window was brought back in this batch (until ``_expire``)
        self._forgotten: set[str] = set()  # ids forgotten with no ``reserved`` lookup to remember them
        self._factory = index_factory or CandidateIndex
        self._dim: int | None = None  # taken from the first vector seen: any embedder's dimension works
        self._indexes: dict[str, object] = {}
        self._df = DocFreq()
        self._events: dict[str, Cluster] = {}
        self._stories: dict[str, Cluster] = {}
        self._frozen_events: dict[str, Event] = {}  # expired from the working set
        self._frozen_stories: dict[str, Story] = {}
        self._frozen_profiles: dict[str, Profile] = {}  # frozen events' profiles, rebuilt once when a story needs them
        # member exemplars: the features of recent members of live events, so an event that grew wrongly
        # can be split (a centroid alone cannot be taken apart). Bounded: dropped when the event freezes,
        # and at most ``config.exemplars`` are kept (oldest first out); events missing some cannot split.
        self._exemplars: dict[str, Features] = {}
        self._moved: dict[str, tuple[str, str]] = {}  # article id -> (event, story) after a split or a move
        self._event_of: dict[str, str] = {}  # exemplar article -> the event it was placed in (follow merges)
        self._touched: set[str] = set()  # events that gained members since the last refine()
        self._redirects: dict[str, str] = {}
        self._latest: dt.date | None = None
        self._placed = 0
        self._changed_events: set[str] = set()  # touched since the last ``changes()``: what a store must write
        self._changed_stories: set[str] = set()

    def _dimension(self) -> int:
        return self._dim or _FALLBACK_DIM

    def _index(self, kind: str):
        """The candidate index for events or stories, made on first use with the embedder's dimension."""
        index = self._indexes.get(kind)
        if index is None:
            self._dim = self._dim or _FALLBACK_DIM
            window = self.config.event_window_days if kind == "event" else self.config.story_window_days
            index = self._indexes[kind] = self._factory(self._dim, window_days=window)
        return index

    @property
    def _event_index(self):
        return self._index("event")

    @property
    def _story_index(self):
        return self._index("story")

    def _see(self, vector: np.ndarray | None) -> None:
        if vector is not None and self._dim is None and not self._indexes:
            self._dim = int(np.asarray(vector).shape[-1])

    # ------------------------------------------------------------------ placing
    def place(self, article: Article) -> Link:
        """Put one article into an event (and story); sets ``article.event_id`` and ``story_id``."""
        if not article.id:
            raise ValueError(f"{article.origin}: article has no id; clean it (normalize.clean) before placing")
        f = features(article)
        self._see(article.embedding if article.embedding is not None else f.embedding)
        self._df.add(document_terms(f))
        if f.date is not None:
            self._thaw(f.date)
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
            story = self._link_story(event, article.id)
            self._reindex(event, self._event_index)
            best_score = max(best_score, 0.0) if best_id is not None else 0.0
        self._remember(article.id, f)
        self._event_of[article.id] = event.id
        self._touched.add(event.id)
        if best_id is not None and best_score >= cfg.event_threshold:
            event, story = self._maybe_split_event(event, article.id)
        article.event_id, article.story_id = event.id, story.id
        self._changed_events.add(event.id)
        self._changed_stories.add(story.id)
        self._placed += 1
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
        memo, idf = self._df.idf_memo(), self._df.idf
        ranked = heapq.nsmallest(n, terms.items(), key=lambda kv: (-(1 + math.log(kv[1])) * (memo.get(kv[0]) or idf(kv[0])), kv[0]))
        return [t for t, _ in ranked if self._df.counts.get(t, 0) > 1 or n == _PROFILE_KEYS]

    def _candidates(self, item: Features | Profile, index) -> list[str]:
        if isinstance(item, Features):
            vector, date, anchors, entities = item.embedding, item.date, item.anchors, item.entities
        else:
            vector, date, anchors, entities = item.centroid, item.last, item.anchors, item.entities
        if vector is None:
            vector = np.zeros(self._dimension(), dtype=np.float32)
        keys = sorted(entities)[:32] + self._query_terms(anchors, _QUERY_TERMS)
        return [key for key, _ in index.search(vector, date, keys, k=self.config.candidates)]

    def _reindex(self, cluster: Cluster, index, restored: bool = False) -> None:
        """Index ``cluster`` under its centroid, last date, entities and rarest terms. A cluster ``restored``
        from its record keeps the terms it was last indexed under (``Cluster.index_terms``): the rarest by
        today's document frequencies may differ, and a story found by other terms would meet other articles."""
        p = cluster.profile
        self._see(p.centroid)
        vector = p.centroid if p.centroid is not None else np.zeros(self._dimension(), dtype=np.float32)
        if not np.any(vector):
            vector = np.full(len(vector), 1.0 / math.sqrt(len(vector)), dtype=np.float32)
        if not restored or cluster.index_terms is None:  # records from before index terms were kept: pick them now
            cluster.index_terms = self._query_terms(p.anchors, _PROFILE_KEYS)
        index.upsert(cluster.id, vector, p.last, sorted(p.entities)[:64] + cluster.index_terms)

    def _member_profiles(self, story: Cluster) -> list[tuple[Profile, int]]:
        """The story's largest member events (profile, size): the core it is judged against."""
        out: list[tuple[Profile, int]] = []
        for key in dict.fromkeys(self.resolve(e) for e in story.members):
            if key in self._events:
                profile = self._events[key].profile
            elif key in self._frozen_events:
                profile = self._frozen_profiles.get(key)
                if profile is None:
                    record = self._frozen_events[key]
                    profile = self._frozen_profiles[key] = _profile_of(record, len(record.article_ids))
            else:
                continue
            out.append((profile, profile.size))
        out.sort(key=lambda pw: -pw[1])
        return out[: self.config.story_core_events]

    def _story_affinity(self, item: Profile, story: Cluster) -> float:
        """Average link: the size-weighted mean score of ``item`` against the story's member events.

        A story is judged by its whole core, not by its nearest or newest event, so a chain A -> B -> C
        of pairwise-similar events cannot pull C into A's story through B alone.
        """
        members = self._member_profiles(story)
        if not members:
            return story_score(item, story.profile, self._df, self.config)[0]
        total = sum(w for _, w in members)
        return sum(w * story_score(item, p, self._df, self.config)[0] for p, w in members) / total

    def _best_story(self, item: Profile, exclude: str | None = None) -> tuple[str | None, float]:
        best_id, best_score = None, -math.inf
        for key in self._candidates(item, self._story_index):
            story = self._stories.get(key)
            if story is None or key == exclude:
                continue
            # a cosine with a sum of non-negative vectors is at least the mean of the cosines with its
            # parts, so a story whose whole profile is below the bar is (nearly always) below it on
            # average too: skip the member-by-member scoring for those
            rough = story_score(item, story.profile, self._df, self.config)[0]
            if rough < self.config.story_threshold and best_id is not None:
                continue
            score = self._story_affinity(item, story)
            if score > best_score or (score == best_score and best_id is not None and key < best_id):
                best_id, best_score = key, score
        return best_id, best_score

    def _link_story(self, event: Cluster, first_id: str, exclude: str | None = None) -> Cluster:
        best_id, best_score = self._best_story(event.profile, exclude)
        if best_id is not None and best_score >= self.config.story_threshold:
            story = self._stories[best_id]
            story.profile.absorb(event.profile, self.config.profile_terms)
            story.members.append(event.id)
        else:
            profile = Profile()
            profile.absorb(event.profile, self.config.profile_terms)
            key = self._fresh_id(f"st-{first_id}", self._stories)
            story = Cluster(id=key, profile=profile, members=[event.id], title=event.title)
            self._stories[story.id] = story
        event.parent = story.id
        self._reindex(story, self._story_index)
        return story

    def place_batch(self, articles: Iterable[Article], idf_at_end: tuple[int, dict[str, int]] | None = None) -> list[Link]:
        """Place articles in order, then reconsider what they touched (``refine``): what a pipeline batch does.

        ``idf_at_end`` (documents, counts): the IDF snapshot the stream holds where its batch really ends,
        for articles that are only the first part of it (the Spark job's time window ends inside a
        pipeline batch): ``refine`` then weighs terms as it would at the end of the whole batch.
        """
        links = [self.place(a) for a in articles]
        if idf_at_end is not None:
            self._df.use_snapshot(*idf_at_end)
        self.refine()
        self._expire()
        return links

    def doc_freq_changes(self) -> tuple[int, dict[str, int], tuple[int, dict[str, int]] | None]:
        """What the online document frequencies gained since the last call (a store keeps them to resume)."""
        return self._df.take_changes()

    def live_members(self) -> list[str]:
        """Articles of the events still open: those whose features a resumed placer must recompute."""
        return [m for c in self._events.values() for m in c.members]

    def remember(self, articles: Iterable[Article]) -> None:
        """Give a restored placer the member exemplars it had (articles in the order they were placed)."""
        event_of = {m: k for k, c in self._events.items() for m in c.members}
        for article in articles:
            if article.id in event_of:
                self._remember(article.id, features(article))
                self._event_of[article.id] = event_of[article.id]

    # ------------------------------------------------------------------ refining
    def refine(self) -> int:
        """Reconsider recent members of the events touched since the last call; returns how many moved.

        Online placement decides each article against the events as they were when it arrived; a few
        batches later those events have grown and an early member may fit a neighbour better, or a
        lone article may now clear the joining threshold for an event that grew towards it. Each
        reconsidered member (the first ``refine_members`` of a touched event, where first commits err)
        moves to the candidate event that scores above both the threshold and its own event without
        it: one k-means-like pass with the same event model, bounded by the touched events.
        """
        touched = {self.resolve(k) for k in self._touched}
        self._touched.clear()
        moves = 0
        for _ in range(self.config.refine_passes):
            moved = self._refine_pass(sorted(touched & set(self._events)))
            moves += len(moved)
            if not moved:
                break
            touched = {self.resolve(k) for k in moved}  # the next pass looks only where members came and went
        return moves

    def _refine_pass(self, touched: list[str]) -> set[str]:
        """One pass over the touched events' first members; returns the events members left or joined."""
        todo = [m for key in touched for m in self._events[key].members[: self.config.refine_members]
                if m in self._exemplars]  # fmt: skip
        changed: set[str] = set()
        for article_id in todo:
            source = self._events.get(self.resolve(self._event_of.get(article_id, "")))
            if source is None or article_id not in source.members:
                continue
            f = self._exemplars[article_id]
            rest = source.profile.without(f) if len(source.members) > 1 else None
            floor = self.config.event_threshold
            if rest is not None:
                floor = max(floor, event_score(f, rest, self._df, self.config)[0])
            best_id, best_score = None, floor
            for key in self._candidates(f, self._event_index):
                if key == source.id or key not in self._events:
                    continue
                score = event_score(f, self._events[key].profile, self._df, self.config)[0]
                if score > best_score or (score == best_score and best_id is not None and key < best_id):
                    best_id, best_score = key, score
            if best_id is not None:
                changed.update((source.id, best_id))
                self._move(article_id, f, source, self._events[best_id], rest)
        return changed

    def _move(self, article_id: str, f: Features, source: Cluster, target: Cluster, rest: Profile | None) -> None:
        source.members.remove(article_id)
        target.members.append(article_id)
        target.profile.add(f, self.config.profile_terms)
        self._event_of[article_id] = target.id
        self._changed_events.update((source.id, target.id))
        if rest is None:  # the source event is left empty: it lives on as a redirect to where its member went
            self._redirect_empty(source, target)
        else:
            source.profile = rest
            self._reindex(source, self._event_index)
        self._reindex(target, self._event_index)
        stories = {self.resolve(target.parent)} | ({self.resolve(source.parent)} if rest is not None else set())
        for key in sorted(stories):
            if key in self._stories:
                self._rebuild_story(self._stories[key])
                self._changed_stories.add(key)
        self._moved[article_id] = (target.id, self.resolve(target.parent))

    def _redirect_empty(self, gone: Cluster, keep: Cluster) -> None:
        story = self._stories.get(self.resolve(gone.parent))
        self._redirects[gone.id] = keep.id
        del self._events[gone.id]
        self._event_index.remove(gone.id)
        if story is not None:
            story.members = [m for m in story.members if m != gone.id]
            if not story.members:  # the story had only that event: it follows it
                self._redirects[story.id] = self.resolve(keep.parent)
                del self._stories[story.id]
                self._story_index.remove(story.id)
                self._changed_stories.add(story.id)
            else:
                self._rebuild_story(story)
                self._changed_stories.add(story.id)

    # ------------------------------------------------------------------ splitting
    def _remember(self, article_id: str, f: Features) -> None:
        self._exemplars[article_id] = f
        while len(self._exemplars) > self.config.exemplars:
            oldest = next(iter(self._exemplars))
            del self._exemplars[oldest]
            self._event_of.pop(oldest, None)

    def moved(self) -> dict[str, tuple[str, str]]:
        """Articles a split moved since the last call: article id -> (event id, story id), to write back."""
        out = {k: (self.resolve(e), self.resolve(s)) for k, (e, s) in self._moved.items()}
        self._moved.clear()
        return out

    def split(self, event_id: str) -> str | None:
        """Reconsider one live event now: the id of the event split off it, or None if it stays whole."""
        event = self._events.get(self.resolve(event_id))
        if event is None:
            return None
        before = set(self._events)
        self._maybe_split_event(event, event.members[-1], force=True)
        new = set(self._events) - before
        return next(iter(new), None)

    def _maybe_split_event(self, event: Cluster, newest: str, force: bool = False) -> tuple[Cluster, Cluster]:
        """At checkpoint sizes, take an event apart when its members form two groups that are not one event.

        Online placement commits early: a few ambiguous articles can bridge two happenings, and merges
        alone never undo that. The members are bisected (average link over embedding and word
        similarity); if the two halves, scored as profiles with the same event model, fall below the
        joining threshold, the half without the event's first member becomes an event of its own and
        is linked to a story as any new event is. The newest article's (event, story) is returned.
        """
        story = self._stories[event.parent]
        if len(event.members) < 4 or not (force or self._checkpoint(len(event.members))):
            return event, story
        feats = [self._exemplars.get(m) for m in event.members]
        if any(f is None for f in feats):
            return event, story
        groups = _bisect(feats, self._df)  # type: ignore[arg-type]
        if groups is None:
            return event, story
        keep_idx, leave_idx = groups if 0 in groups[0] else (groups[1], groups[0])
        halves = []
        for idx in (keep_idx, leave_idx):
            profile = Profile()
            for i in idx:
                profile.add(feats[i], self.config.profile_terms)  # type: ignore[arg-type]
            halves.append(profile)
        score, _ = event_score(halves[1], halves[0], self._df, self.config)
        if score >= self.config.event_threshold:
            return event, story
        leaving = [event.members[i] for i in leave_idx]
        event.members = [event.members[i] for i in keep_idx]
        event.profile = halves[0]
        key = self._fresh_id("ev-" + leaving[0], self._events)
        split = Cluster(id=key, profile=halves[1], members=leaving, title=event.title)
        self._events[key] = split
        self._reindex(event, self._event_index)
        self._reindex(split, self._event_index)
        story.members = [m for m in story.members]
        new_story = self._link_story(split, leaving[0], exclude=story.id)
        self._rebuild_story(story)
        self._changed_events.update((event.id, split.id))
        self._changed_stories.update((story.id, new_story.id))
        for article_id in leaving:
            self._moved[article_id] = (split.id, new_story.id)
            self._event_of[article_id] = split.id
        if newest in leaving:
            return split, new_story
        return event, story

    def _fresh_id(self, key: str, clusters: dict[str, Cluster]) -> str:
        """An id never handed out before (a split must not revive a merged-away or frozen id)."""
        def taken(k: str) -> bool:
            return (k in clusters or k in self._redirects or k in self._frozen_events or k in self._frozen_stories
                    or k in self._forgotten or (self._reserved is not None and self._reserved(k)))

        if not taken(key):
            return key
        n = 2
        while taken(f"{key}~{n}"):
            n += 1
        return f"{key}~{n}"

    def _rebuild_story(self, story: Cluster) -> None:
        """A story's profile after a member event left: its remaining events' profiles, summed again."""
        profile = Profile()
        for key in story.members:
            key = self.resolve(key)
            if key in self._events:
                profile.absorb(self._events[key].profile, self.config.profile_terms)
            elif key in self._frozen_events:
                record = self._frozen_events[key]
                profile.absorb(_profile_of(record, len(record.article_ids)), self.config.profile_terms)
        story.profile = profile
        self._reindex(story, self._story_index)

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
            if story_score(story.profile, other.profile, self._df, self.config)[0] < threshold:
                continue  # profiles far apart: their members' average link is no closer (cheap filter first)
            if self._stories_affinity(story, other) >= threshold:
                return self._merge_stories(story, other)
        return story

    def _stories_affinity(self, a: Cluster, b: Cluster) -> float:
        """Average link between two stories: each of ``a``'s core events against ``b``'s core."""
        members = self._member_profiles(a)
        if not members:
            return story_score(a.profile, b.profile, self._df, self.config)[0]
        total = sum(w for _, w in members)
        return sum(w * self._story_affinity(p, b) for p, w in members) / total

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
        """The older cluster (earliest first date, then id) keeps its id, so the ids users saw first survive.

        A function of the clusters alone, not of the order they were created in, so a placer restored
        from the store merges exactly as the one that wrote it would have.
        """
        def age(c: Cluster) -> tuple:
            return (c.profile.first is None, c.profile.first or dt.date.min, c.id)

        return (a, b) if age(a) <= age(b) else (b, a)

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
    def _thaw(self, day: dt.date) -> None:
        """Bring back the events and stories open around a late article's own date.

        The working set follows the newest date seen; an article dated before it (a backfill, yesterday's
        wire copy, a feed that lags) must still meet what was open around *its* date, or it opens a new
        story beside the one it belongs to. Records last active within the event window (events) or the
        story window (stories) of ``day``, padded by one event window so that nearby late articles need no
        second load, come back as live clusters (every event of such a story at least as frozen, so the
        story is judged by its whole core) until the batch ends, when ``_expire`` freezes them again.
        Articles in date order never reach here: only ``day`` before the newest date does.
        """
        if self._latest is None or day >= self._latest:
            return
        pad = dt.timedelta(days=self.config.event_window_days)
        if any(abs((day - done).days) <= pad.days for done in self._thawed):
            return
        self._thawed.append(day)
        spans = tuple((day - dt.timedelta(days=w) - pad, day + dt.timedelta(days=w) + pad)
                      for w in (self.config.event_window_days, self.config.story_window_days))  # fmt: skip
        if self._history is not None:
            events, stories = self._history(spans[0], spans[1])
        else:
            events, stories = self._frozen_between(spans[0], spans[1])
        self._bring_back(events, stories, spans[0])

    def _frozen_between(self, event_span: tuple[dt.date, dt.date],
                        story_span: tuple[dt.date, dt.date]) -> tuple[list[Event], list[Story]]:
        """What ``history`` would give, from the frozen records still in memory (a placer with no store)."""
        def within(date: dt.date | None, span: tuple[dt.date, dt.date]) -> bool:
            return date is not None and span[0] <= date <= span[1]

        stories = {k: s for k, s in self._frozen_stories.items() if within(s.last_date, story_span)}
        events = {k: e for k, e in self._frozen_events.items() if within(e.last_date, event_span)}
        for event in list(events.values()):
            parent = self.resolve(event.story_id) if event.story_id else None
            if parent in self._frozen_stories:
                stories.setdefault(parent, self._frozen_stories[parent])
        wanted = set(stories)
        for key, event in self._frozen_events.items():
            if event.story_id and self.resolve(event.story_id) in wanted:
                events.setdefault(key, event)
        return list(events.values()), list(stories.values())

    def _bring_back(self, events: list[Event], stories: list[Story], event_span: tuple[dt.date, dt.date]) -> None:
        """Make frozen (or forgotten) records live again; events outside ``event_span`` stay frozen members."""
        for story in sorted(stories, key=lambda r: (r.first_date or dt.date.min, r.id)):
            if story.merged_into or story.id in self._stories:
                continue
            self._frozen_stories.pop(story.id, None)
            cluster = _cluster_of(story, story.event_ids)
            self._stories[story.id] = cluster
            self._reindex(cluster, self._story_index, restored=True)
        for event in sorted(events, key=lambda r: (r.first_date or dt.date.min, r.id)):
            if event.merged_into or event.id in self._events:
                continue
            parent = self.resolve(event.story_id) if event.story_id else None
            live = event.last_date is not None and event_span[0] <= event.last_date <= event_span[1]
            if not live or parent not in self._stories:
                self._frozen_events.setdefault(event.id, event)  # read through its story only
                continue
            self._frozen_events.pop(event.id, None)
            self._frozen_profiles.pop(event.id, None)
            cluster = _cluster_of(event, event.article_ids)
            cluster.parent = parent
            self._events[event.id] = cluster
            self._reindex(cluster, self._event_index, restored=True)

    def _expire(self) -> None:
        """Freeze events and stories that can no longer receive members, keeping memory bounded."""
        self._thawed.clear()
        if self._latest is None:
            return
        event_edge = self._latest - dt.timedelta(days=self.config.event_window_days)
        story_edge = self._latest - dt.timedelta(days=self.config.story_window_days)
        for key in [k for k, c in self._stories.items() if c.profile.last is not None and c.profile.last < story_edge]:
            self._frozen_stories[key] = self._story_record(self._stories.pop(key))
        # an event freezes past the event window, or with its story: an event of undated articles has no last
        # date of its own, and left open under a frozen story, its next member would find no story to join
        for key in [k for k, c in self._events.items() if (c.profile.last is not None and c.profile.last < event_edge)
                    or (c.parent is not None and self.resolve(c.parent) not in self._stories)]:
            cluster = self._events.pop(key)
            for member in cluster.members:
                self._exemplars.pop(member, None)
                self._event_of.pop(member, None)
            self._frozen_events[key] = self._event_record(cluster)
        self._event_index.expire(event_edge)
        self._story_index.expire(story_edge)

    def forget_frozen(self) -> int:
        """Drop frozen records nothing can read or change again; returns how many went. Call it once the
        records from ``changes()`` are written: what it drops lives on only in the store.

        A frozen story has left the story window, so no article joins it and no live story merges with it;
        a frozen event is read only through its story (average link, rebuilds, settling dates), so it goes
        when its story is frozen too. Live stories keep their frozen events. What a restored placer loads
        (``Store.placement_records``) is the same set, so a resumed run decides as an uninterrupted one.
        """
        if self._changed_events or self._changed_stories:
            raise RuntimeError("forget_frozen: records changed since the last changes(); write those first")
        events = [k for k, e in self._frozen_events.items()
                  if e.story_id is None or self.resolve(e.story_id) not in self._stories]  # fmt: skip
        stories = list(self._frozen_stories)
        for key in events:
            del self._frozen_events[key]
            self._frozen_profiles.pop(key, None)
        for key in stories:
            del self._frozen_stories[key]
        if self._reserved is None:
            self._forgotten.update(events, stories)
        return len(events) + len(stories)

    # ------------------------------------------------------------------ records
    def resolve(self, key: str) -> str:
        return follow_redirects(self._redirects, key)

    @staticmethod
    def _terms(p: Profile) -> dict[str, float]:
        out = {f"w:{t}": float(v) for t, v in p.words.items()}
        out.update({f"a:{t}": float(v) for t, v in p.anchors.items()})
        out.update({f"p:{t}": float(v) for t, v in p.places.items()})
        return out

    def _event_record(self, c: Cluster) -> Event:
        p = c.profile
        return Event(id=c.id, story_id=self.resolve(c.parent) if c.parent else None, article_ids=list(c.members),
                     first_date=p.first, last_date=p.last, centroid=p.centroid, entity_counts=dict(p.entities),
                     title=c.title, terms=self._terms(p), size=p.size, embedding_sum=p.embedding_sum,
                     index_terms=_copy(c.index_terms))  # fmt: skip

    def _story_record(self, c: Cluster) -> Story:
        p = c.profile
        return Story(id=c.id, event_ids=[self.resolve(e) for e in c.members], first_date=p.first, last_date=p.last,
                     centroid=p.centroid, entity_counts=dict(p.entities), title=c.title, terms=self._terms(p),
                     size=p.size, embedding_sum=p.embedding_sum, index_terms=_copy(c.index_terms))  # fmt: skip

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
        doc_freq: tuple[int, dict[str, int], int, dict[str, int]] | None = None,
        reserved: Callable[[str], bool] | None = None, history: History | None = None,
    ) -> "StoryPlacer":  # fmt: skip
        """Rebuild the working set from stored records (merged ones only as redirects).

        With ``doc_freq`` (what ``doc_freq_changes`` reported, as the store accumulated it) the document
        frequencies are exact; without it (stores from before schema v2) they are estimated from the
        profiles. Member exemplars are given afterwards with ``remember``. The records may be only those
        ``forget_frozen`` would keep (with ``reserved`` naming the rest): the placer decides the same.
        """
        placer = cls(config, index_factory, reserved, history)
        if doc_freq is not None and doc_freq[0]:
            placer._df = DocFreq.restore(*doc_freq)
        events, stories = list(events), list(stories)
        for record in (*events, *stories):  # the indexes take the stored vectors' dimension
            placer._see(record.embedding_sum if record.embedding_sum is not None else record.centroid)
        placer._redirects = {r.id: r.merged_into for r in (*events, *stories) if r.merged_into}
        placer._redirects.update(redirects)
        for record, clusters, index, members in (
            *((e, placer._events, placer._event_index, e.article_ids) for e in events if not e.merged_into),
            *((s, placer._stories, placer._story_index, s.event_ids) for s in stories if not s.merged_into),
        ):
            cluster = clusters[record.id] = _cluster_of(record, members)
            p = cluster.profile
            if isinstance(record, Event) and not (doc_freq and doc_freq[0]):  # estimate: one document per article
                terms = document_terms(p)
                for _ in range(max(1, len(members))):
                    placer._df.add(terms)
            if p.last is not None and (placer._latest is None or p.last > placer._latest):
                placer._latest = p.last
        for clusters, index in ((placer._events, placer._event_index), (placer._stories, placer._story_index)):
            for cluster in clusters.values():
                placer._reindex(cluster, index, restored=True)
        for event in placer._events.values():
            if event.parent is not None:
                event.parent = placer.resolve(event.parent)
                if event.parent not in placer._stories:
                    raise ValueError(f"restore: event {event.id} names story {event.parent}, which was not given")
        placer._expire()
        return placer


def _bisect(feats: list[Features], df: DocFreq) -> tuple[list[int], list[int]] | None:
    """Two groups of members by average-link clustering on embedding and TF-IDF word similarity."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = len(feats)
    lexical = np.maximum(view_cosines(feats, "words", df), view_cosines(feats, "anchors", df))
    emb = embedding_cosines(feats)
    sim = np.where(np.isnan(emb), lexical, (np.maximum(np.nan_to_num(emb), 0.0) + lexical) / 2)
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2  # exactly symmetric, whatever order the products summed in
    labels = fcluster(linkage(squareform(dist, checks=False), "average"), 2, "maxclust")
    groups = [[i for i in range(n) if labels[i] == g] for g in sorted(set(labels))]
    return (groups[0], groups[1]) if len(groups) == 2 else None


def _cluster_of(record: Event | Story, members: list[str]) -> Cluster:
    """A live cluster from a stored record, as ``restore`` and ``_thaw`` rebuild it."""
    return Cluster(id=record.id, profile=_profile_of(record, len(members)), members=list(members),
                   parent=getattr(record, "story_id", None), title=record.title, index_terms=_copy(record.index_terms))


def _copy(terms: list[str] | None) -> list[str] | None:
    return None if terms is None else list(terms)


def _profile_of(record: Event | Story, size: int) -> Profile:
    p = Profile(size=record.size or max(1, size), first=record.first_date, last=record.last_date)
    if record.embedding_sum is not None:  # the exact running sum (stores written since schema v2)
        p.embedding_sum = np.asarray(record.embedding_sum, dtype=np.float32).copy()
    elif record.centroid is not None:
        p.embedding_sum = np.asarray(record.centroid, dtype=np.float32) * max(1, size)
    views = {"w:": p.words, "a:": p.anchors, "p:": p.places}
    for key, value in (record.terms or {}).items():
        views.get(key[:2], p.anchors)[key[2:]] = value
    p.entities.update(record.entity_counts or {})
    return p
