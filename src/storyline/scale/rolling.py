"""Id resolution as one ordered scan over a pass's windows, holding only the records still open.

``resolve.resolve_ids``, ``resolve.context_targets`` and ``resolve.final_records`` read every piece of every
window at once: ~1.2 KB an article on the driver. But a record closes for good: only a window that restores
a record adds to it, merges it or moves its members, and a window restores only what is open at its start
(the placer's open-window rule), so a record that one window passes by no later window reaches. The scan
(``resolve_windows``) visits the windows oldest first. At each window's start it says which open pieces the
window restores and under which final ids (``target`` rows), then writes out the records that closed there
(``event`` and ``story`` rows, with their pieces' final ids: ``map`` rows) and forgets them. The job runs it
as one ordered Spark task (``windowing.resolve_pass``), so nothing per article reaches the driver.

Its memory is the open records (the context ``track``'s placer holds at a window's start), plus what it
must know ahead (``Hints``, read from the pass's rows first): per restored record, its first article, the
one its id is followed back by (``WindowPlacement.firsts``), until the last window that needs it; and per
article a window moved out of an earlier window's event, the last window that moved it. A record stays open
while a later window still needs its first article, so an id is never followed into a record already
written out. The output equals the driver functions' on the same placements (``tests/scale/test_rolling.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import math
from collections import Counter
from typing import Any, Iterable, Iterator, Mapping

from storyline.scale.resolve import Resolver, WindowPlacement, context_targets, final_records

__all__ = ["Hints", "hint_rows", "hints_of", "partition_digest", "resolve_windows"]

_MODULUS = 1 << 256


@dataclasses.dataclass
class Hints:
    """What the scan reads ahead: per first article of a restored record, the last window that restored one
    with it first (``firsts``); per article a window moved into one of its events from an earlier window's,
    the last window that did (``moved``). Both are bounded by the restored records, not by the archive."""

    firsts: dict[str, int] = dataclasses.field(default_factory=dict)
    moved: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, kind: str, article: str, window: int) -> None:
        table = self.firsts if kind == "first" else self.moved
        table[article] = max(window, table.get(article, window))


def hint_rows(window: int, restored: Any, moved: Iterable[str]) -> Iterator[tuple[str, str, int]]:
    """("first" | "moved", article, window) for one record row's blob parts (``stages.place_pass_window``)."""
    if isinstance(restored, str):
        yield "first", restored, window
    for article in moved:
        yield "moved", article, window


def hints_of(placements: Iterable[WindowPlacement]) -> Hints:
    """The hints for placements at hand (the Spark task gets them as rows: ``hint_rows``)."""
    hints = Hints()
    for placed in placements:
        for article in placed.firsts.values():
            hints.add("first", article, placed.window)
        for article in placed.moved:
            hints.add("moved", article, placed.window)
    return hints


def partition_digest(triples: Iterable[tuple[str, str, str | None]]) -> str:
    """What a pass decided, (article, final event, final story) for every article, as one hash that does not
    depend on the order the triples come in (the scan writes records out as they close)."""
    return f"{sum(_triple_hash(*t) for t in triples) % _MODULUS:064x}"


def _triple_hash(article: str, event: str, story: str | None) -> int:
    return int.from_bytes(hashlib.sha256(f"{article}\t{event}\t{story}\n".encode()).digest(), "big")


def resolve_windows(placements: Iterable[WindowPlacement], windows: Iterable[int], hints: Hints,
                    event_days: int, story_days: int) -> Iterator[tuple]:
    """The scan (see the module docstring). ``placements`` in window order, ``windows`` every window of the
    pass (one that wrote no record still restores). Yields:

    - ("target", source window, kind, raw id, target window, final event, final story): the piece is restored
      by that window; an event's final ids as that window restores them (``Resolution.before``);
    - ("map", window, raw event id, final event, final story): ``Resolution.mapping``;
    - ("event" | "story", final record (as ``final_records`` makes it), source window, source raw id);
    - ("moved", article, final event, final story) for every article a window moved;
    - ("stat", {"partition": ``partition_digest``, "cross_window_event_joins": n, "held_max": n}) last.
    """
    scan = _Scan(hints, event_days, story_days)
    source = iter(placements)
    upcoming = next(source, None)
    for window in sorted(windows):
        yield from scan.start(window)
        while upcoming is not None and upcoming.window <= window:
            if upcoming.window != window:
                raise ValueError(f"placements of window {upcoming.window} out of order or not among the pass's windows")
            scan.add(upcoming)
            upcoming = next(source, None)
    if upcoming is not None:
        raise ValueError(f"placements of window {upcoming.window} out of order or not among the pass's windows")
    yield from scan.finish()


class _Scan:
    """The scan's state between windows: the open pieces, the resolver over them, the pins that keep a record
    open while a later window still follows an id into it, and where each moved article now is."""

    def __init__(self, hints: Hints, event_days: int, story_days: int) -> None:
        self.event_days, self.story_days = event_days, story_days
        self.pending = dict(hints.firsts)  # first article -> the last window that follows an id by it
        self.expiry = [(window, article) for article, window in hints.firsts.items()]
        heapq.heapify(self.expiry)
        self.resolver = Resolver(remember=self.pending.__contains__)
        self.where: dict[str, str] = {}  # a pending first article -> its event (as its latest window placed it)
        self.pins: Counter[str] = Counter()  # per event: pending first articles in it (it must stay open)
        self.last_mover = hints.moved
        self.holder: dict[str, tuple[int, str]] = {}  # a moved article -> the latest piece that holds it
        self.orphans: set[str] = set()  # moved articles whose latest piece was written out
        self.state: dict[int, WindowPlacement] = {}  # the open pieces
        self.cross = 0
        self.digest = 0
        self.held_max = 0

    def add(self, placed: WindowPlacement) -> None:
        self.resolver.add(placed)
        for raw, members in placed.own.items():
            for member in members:
                if member in self.pending:
                    self._pin(member, self.resolver.article_event.get(member))
                if member in self.last_mover:
                    self.holder[member] = (placed.window, raw)
                    self.orphans.discard(member)
        self.cross += sum(1 for e in placed.events if e.id in placed.restored and placed.own.get(e.id))
        self.state[placed.window] = placed
        self.held_max = max(self.held_max, sum(len(p.events) + len(p.stories) for p in self.state.values()))

    def _pin(self, article: str, event: str | None) -> None:
        old = self.where.pop(article, None)
        if old is not None:
            self.pins[old] -= 1
            if not self.pins[old]:
                del self.pins[old]
        if event is not None:
            self.where[article] = event
            self.pins[event] += 1

    def _expire(self, window: float) -> None:
        while self.expiry and self.expiry[0][0] < window:
            _, article = heapq.heappop(self.expiry)
            self.pending.pop(article, None)
            self._pin(article, None)
            self.resolver.article_event.pop(article, None)

    def start(self, window: int) -> Iterator[tuple]:
        self._expire(window)
        if not self.state:
            return
        view = self.resolver.view(self._keys(self.state), window)
        targets = context_targets(self.state, lambda _: view, [window], self.event_days, self.story_days,
                                  exclude=self.orphans)
        for (source, kind, raw), _ in sorted(targets.items()):
            final = view.get((source, raw), (None, None)) if kind == "event" else (None, None)
            yield ("target", source, kind, raw, window, *final)
        keep = {self._group(key, view) for key in targets}
        keep |= {view[(w, e.id)][1] for w, p in self.state.items() for e in p.events
                 if self.pins.get(self.resolver.mapping[(w, e.id)][0])}
        yield from self._close(view, window, self._together(keep, view))

    def finish(self) -> Iterator[tuple]:
        self._expire(math.inf)
        if self.state:
            yield from self._close(self.resolver.view(self._keys(self.state), math.inf), math.inf, set())
        yield ("stat", {"partition": f"{self.digest % _MODULUS:064x}", "cross_window_event_joins": self.cross,
                        "held_max": self.held_max})

    @staticmethod
    def _keys(state: Mapping[int, WindowPlacement]) -> list[tuple[int, str]]:
        return [(w, e.id) for w, p in state.items() for e in p.events]

    def _group(self, key: tuple[int, str, str], view: Mapping[tuple[int, str], tuple[str, str]]) -> str | None:
        """A piece's final story: its records close together (an event is open while its story is)."""
        window, kind, raw = key
        if kind == "event":
            return view[(window, raw)][1]
        return self._story_final(window, view).get(raw)

    def _story_final(self, window: int, view: Mapping[tuple[int, str], tuple[str, str]]) -> dict[str, str]:
        """As ``final_records`` reads a story piece: through its window's live events."""
        out: dict[str, str] = {}
        for e in self.state[window].events:
            if not e.merged_into and e.story_id:
                out.setdefault(e.story_id, view[(window, e.id)][1])
        return out

    def _together(self, keep: set, view: Mapping[tuple[int, str], tuple[str, str]]) -> set:
        """``keep`` with every final story that shares a window's story piece with one kept: a window's raw
        story and its events close together, so a story piece is always read with all its window's events."""
        links = []
        for w, placed in self.state.items():
            by_raw: dict[str, set[str]] = {}
            for e in placed.events:
                if e.story_id:
                    by_raw.setdefault(e.story_id, set()).add(view[(w, e.id)][1])
            links.extend(finals for finals in by_raw.values() if len(finals) > 1)
        grown = True
        while grown:
            grown = False
            for finals in links:
                if finals & keep and not finals <= keep:
                    keep |= finals
                    grown = True
        return keep

    def _close(self, view: Mapping[tuple[int, str], tuple[str, str]], window: float, keep: set) -> Iterator[tuple]:
        """Write out and forget the groups no piece of which is kept open at ``window``."""
        closing: dict[int, WindowPlacement] = {}
        for w, placed in list(self.state.items()):
            story_final = self._story_final(w, view)
            events = [e for e in placed.events if view[(w, e.id)][1] not in keep]
            # a story piece no live event of its window leads to is never read: it goes with the first close
            stories = [s for s in placed.stories if story_final.get(s.id) not in keep or s.merged_into]
            if not events and not stories:
                continue
            gone, written = {e.id for e in events}, {s.id for s in stories}
            closing[w] = dataclasses.replace(placed, events=events, stories=stories, assignments=[], story_batches=[],
                                             own={k: v for k, v in placed.own.items() if k in gone})
            rest = dataclasses.replace(placed, events=[e for e in placed.events if e.id not in gone],
                                       stories=[s for s in placed.stories if s.id not in written],
                                       own={k: v for k, v in placed.own.items() if k not in gone})
            if rest.events or rest.stories:
                self.state[w] = rest
            else:
                del self.state[w]
        if not closing:
            return
        keys = set(self._keys(closing))
        # a moved article belongs to its latest piece: a closing piece that lists it where a later one took it
        # (still open, already written out, or in a window still to come) does not hold it
        exclude = set(self.orphans)
        for placed in closing.values():
            for members in placed.own.values():
                exclude.update(m for m in members if m in self.last_mover
                               and (self.last_mover[m] >= window or self.holder.get(m) not in keys))
        sources: dict[tuple[str, str], tuple[int, str]] = {}
        events, stories = final_records(closing, view, sources, exclude=exclude)
        for e in events:
            yield ("event", e, *sources[("event", e.id)])
            for article in e.article_ids:
                self.digest += _triple_hash(article, e.id, e.story_id)  # ``partition_digest``, a record at a time
                if article in self.last_mover:
                    yield ("moved", article, e.id, e.story_id)
        for s in stories:
            yield ("story", s, *sources[("story", s.id)])
        for key in sorted(keys):
            yield ("map", *key, *view[key])
        for w, placed in closing.items():
            for raw, members in placed.own.items():
                self.orphans.update(m for m in members if self.holder.get(m) == (w, raw))
        self.resolver.forget(keys, {self.resolver.mapping[k][0] for k in keys})
