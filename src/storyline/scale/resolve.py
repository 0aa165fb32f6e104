"""Id resolution over the windows' placements: what each window's pieces mean once every window is placed.

A window's task (``stages.place_pass_window``) writes the records its placer touched under the ids its own
placer gave them; an id a window restored stands for a record an earlier window formed. This module follows
those ids back window by window to the final ids (``resolve_ids``), decides which records each later window
restores in the next pass (``context_targets``, the placer's open-window rule) and whether that changed
(``context_digest``), and merges the pieces into the job's final records (``final_records``). Plain Python, no
Spark. ``resolve_ids`` and ``context_targets`` read a whole pass at once: the job runs the same steps as one
ordered scan that holds only the records still open (``rolling.py``, over ``lean`` records: ids, members,
dates; the profiles stay in Spark), and the tests hold the scan to these functions' results.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
import pickle
from collections import defaultdict
from typing import Any, Callable, Container, Iterable, Mapping

from storyline.model import Event, Story

__all__ = [
    "PROFILE",
    "Resolution",
    "Resolver",
    "WindowPlacement",
    "context_digest",
    "context_targets",
    "dumps",
    "effective_context",
    "epoch_day",
    "final_records",
    "lean",
    "lean_blob",
    "loads",
    "mapping_before",
    "merge_records",
    "placements_of",
    "resolve_ids",
    "with_profile",
]

_EPOCH = dt.date(1970, 1, 1)


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
    # per restored id, the first article of the record as this window restored it (a story: its first
    # event's): where ``resolve_ids`` follows the id back to
    firsts: dict[str, str] = dataclasses.field(default_factory=dict)


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
        if restored:  # True, or the first article as the window restored it (``place_pass_window``)
            placed.restored.add(record.id)
            if isinstance(restored, str):
                placed.firsts[record.id] = restored
        if r["kind"] == "event":
            placed.own[record.id] = own
    return placements


def epoch_day(date: dt.date | None) -> int | None:
    """Days since 1970-01-01: how record rows carry a date (``last_day``) and the open-window rule compares them."""
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


def resolve_ids(placements: Mapping[int, WindowPlacement]) -> Resolution:
    """Final (event, story) for every (window, raw event id) of one pass.

    A raw id the window created is final for its event. A restored id stands for the cluster that the
    record's first article, as the window restored it (``WindowPlacement.firsts``), ended up in, in its own
    window's placement in this pass, followed back window by window; a story likewise, by its first event's
    first article. Windows are resolved oldest first, so everything a window points back to is already known.
    """
    resolver = Resolver()
    for window in sorted(placements):
        resolver.add(placements[window])
    follow = resolver.follow
    # the merges later windows made, applied to what earlier windows decided
    article_event = {a: follow(fe) for a, fe in resolver.article_event.items()}
    event_story = {fe: follow(fs) for fe, fs in resolver.event_story.items() if follow(fe) == fe}
    return Resolution(mapping_before(resolver.mapping, resolver.moves, math.inf), article_event, event_story,
                      resolver.home, resolver.mapping, resolver.moves)


class Resolver:
    """``resolve_ids`` a window at a time, oldest first (``add``): ``mapping`` (as each window decided),
    ``moves`` (the merges later windows made) and, per final event, its story and home window.

    ``remember`` (None: every article) says which articles' events to keep: only a restored record's first
    article is ever looked up (``WindowPlacement.firsts``), so a scan that knows those ahead holds an entry
    per restored record rather than one per article (``rolling``). Entries may be dropped (``forget``) for
    pieces whose records have closed."""

    def __init__(self, remember: Callable[[str], bool] | None = None) -> None:
        self.article_event: dict[str, str] = {}  # an article -> its event, as the latest window placed it
        self.event_story: dict[str, str] = {}  # a final event -> its story, as the window that created it said
        self.mapping: dict[tuple[int, str], tuple[str, str]] = {}
        self.home: dict[str, int] = {}  # final event -> window it was created in
        # a later window that merged a restored record into another: every piece of the first is the second's
        # (the pieces earlier windows wrote still name the first; ``track`` moves the members with the merge)
        self.moves: dict[str, tuple[int, str]] = {}
        self._into: dict[str, str] = {}  # the same, without the window
        self._remember = remember

    def follow(self, key: str) -> str:
        return _follow(self._into, key)

    def _restored_event(self, raw: str, firsts: Mapping[str, str]) -> str:
        past = firsts.get(raw)
        return self.follow(self.article_event.get(past, raw)) if past else raw

    def _restored_story(self, raw: str, firsts: Mapping[str, str]) -> str | None:
        past = firsts.get(raw)
        target = self.article_event.get(past) if past is not None else None
        if target is not None and self.follow(target) in self.event_story:
            return self.follow(self.event_story[self.follow(target)])
        return None

    def add(self, placed: WindowPlacement) -> None:
        """Resolve one window's pieces; every window before it must have been added."""
        window, firsts = placed.window, placed.firsts
        hops = _redirects([*placed.events, *placed.stories])
        raw_story = {e.id: hops.get(e.story_id, e.story_id) for e in placed.events if not e.merged_into}

        def final_event(raw: str) -> str:
            raw = hops.get(raw, raw)
            return self._restored_event(raw, firsts) if raw in placed.restored else raw

        def final_story(raw_event: str) -> str:
            raw = raw_story.get(hops.get(raw_event, raw_event))
            if raw is None:
                return "st-" + raw_event.removeprefix("ev-")
            return (self._restored_story(raw, firsts) or raw) if raw in placed.restored else raw

        for e in placed.events:
            if e.merged_into:
                continue
            fe = final_event(e.id)
            if fe not in self.event_story:  # the window that created it decides its story
                self.event_story[fe] = final_story(e.id)
                self.home[fe] = window
            for member in placed.own.get(e.id, []):
                if self._remember is None or self._remember(member):
                    self.article_event[member] = fe
        for record in (*placed.events, *placed.stories):
            if record.merged_into and record.id in placed.restored:
                story = record.id.startswith("st-")
                gone = (self._restored_story(record.id, firsts) or record.id) if story \
                    else self._restored_event(record.id, firsts)
                if story:
                    target = hops.get(record.id, record.id)
                    target = (self._restored_story(target, firsts) or target) if target in placed.restored else target
                else:
                    target = final_event(record.id)
                if gone != target:
                    self.moves[gone], self._into[gone] = (window, target), target
        for e in placed.events:
            raw = hops.get(e.id, e.id)
            fe = final_event(raw)
            self.mapping[(window, e.id)] = (fe, self.event_story.get(fe) or final_story(raw))

    def view(self, keys: Iterable[tuple[int, str]], window: float) -> dict[tuple[int, str], tuple[str, str]]:
        """``mapping_before`` for ``keys`` only: the final ids of those pieces as ``window`` restores them."""
        return mapping_before({k: self.mapping[k] for k in keys if k in self.mapping}, self.moves, window)

    def forget(self, keys: Iterable[tuple[int, str]], events: Iterable[str]) -> None:
        """Drop the pieces ``keys`` and the final ``events``: records that closed, which no later window's id
        can lead to (``rolling`` keeps a record open while a remembered article's event leads to it)."""
        for key in keys:
            self.mapping.pop(key, None)
        for event in events:
            self.event_story.pop(event, None)
            self.home.pop(event, None)


def context_targets(placements: Mapping[int, WindowPlacement],
                    view: Callable[[int], Mapping[tuple[int, str], tuple[str, str]]],
                    windows: Iterable[int], event_days: int, story_days: int, exclude: Container[str] = ()
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
    the windows before it are. Costs one ``final_records`` over the earlier windows per window (``exclude``:
    articles none of these pieces holds, as there).
    """
    out: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for target in sorted(windows):
        before = {w: p for w, p in placements.items() if w < target}
        if not before:
            continue
        mapping = view(target)
        events, stories = final_records(before, mapping, exclude=exclude)
        event_last = {e.id: epoch_day(e.last_date) for e in events}
        story_last = {s.id: epoch_day(s.last_date) for s in stories}

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


def effective_context(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """A window's context rows less what cannot change its placement: the ``exemplar`` rows when no event is
    restored. Exemplars are looked up only for members of live events (``StoryPlacer`` splits and moves
    members by them), and a window's own articles are never among them; with no event restored none is
    read, and those the placer evicts to make room are older than any of its own. So a window that
    restores nothing (one that starts after a quiet spell longer than the story window) hashes the same
    in pass 2 as in pass 1 and is not placed again (before, the exemplars pass 2 added re-placed it)."""
    rows = list(rows)
    if any(r["kind"] == "event" for r in rows):
        return rows
    return [r for r in rows if r["kind"] != "exemplar"]


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
    for r in effective_context(rows):
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


def final_records(placements: Mapping[int, WindowPlacement], mapping: Mapping[tuple[int, str], tuple[str, str]],
                  sources: dict[tuple[str, str], tuple[int, str]] | None = None, exclude: Container[str] = ()
                  ) -> tuple[list[Event], list[Story]]:
    """The events and stories the windows' pieces make, under their final ids (``Resolution.mapping``).

    Over every window: the job's result. Over the windows before one: what that window restores in the
    next pass, so a story chained across several windows comes back whole rather than in pieces.
    ``sources`` (filled when given): per (kind, final id) the (window, raw id) of the piece whose profile
    the final record carries, so records made from ``lean`` pieces get theirs back (``with_profile``).
    ``exclude``: articles whose latest piece is not among ``placements`` (``rolling``: a window moved them
    into a record outside these pieces), so the earlier pieces that list them do not hold them.
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
    members = {k: {m: None for m in v if held[m] == k and m not in exclude}  # a moved article: only where it went
               for k, v in members.items()}
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

