"""The document frequencies ``track``'s placer holds at each window's first article, from each window's own
terms: a window adds its articles' terms (``window_terms``), and the plan (``doc_freq_plan``) says which
whole windows and which partial counts make each window's state, with its IDF snapshots
(``doc_freq_states`` on the driver, ``windowing.doc_freq_in_spark`` in Spark). Plain Python, no Spark."""

from __future__ import annotations

import bisect
import dataclasses
import pickle
from collections import Counter
from typing import Iterator, Mapping

from storyline.model import Article

__all__ = ["Cut", "DocFreqPlan", "DocFreqState", "FINAL", "Snapshot", "cut_counts", "doc_freq_plan", "doc_freq_states",
           "docfreq_blob", "term_rows", "window_terms"]


def window_terms(articles: list[Article], offset: int) -> tuple[int, dict[str, int], dict[int, dict[str, int]]]:
    """What one window adds to the placer's document frequencies: (articles, term counts, and the counts at
    each IDF snapshot that falls inside the window, keyed by the placement position it falls at).

    ``articles`` in placement order, the first at position ``offset`` (0-based) of the whole run. The
    terms are the placer's own (``features``, ``document_terms``), counted by ``DocFreq`` itself.
    """
    from storyline.stories.similarity import DocFreq, document_terms, features

    points = {p for p in DocFreq.refreshes(offset + len(articles)) if p > offset}
    df = DocFreq()
    partial: dict[int, dict[str, int]] = {}
    for position, article in enumerate(articles, offset + 1):
        df.add(document_terms(features(article)))
        if position in points:
            partial[position] = dict(df.counts)
    return len(articles), dict(df.counts), partial


DocFreqState = tuple[int, dict[str, int], int, dict[str, int]]  # what ``StoryPlacer.restore(doc_freq=)`` takes
Snapshot = tuple[int, dict[str, int]]  # an IDF snapshot: (documents, counts), as ``place_batch(idf_at_end=)`` takes


FINAL = -(2**62)  # the plan's key for the frequencies after the last article (no window: those before 1970 are negative)
Cut = tuple[int | None, int | None]  # counts after a point: every window before ``[0]`` (None: all), plus ``[0]``'s own up to ``[1]``


@dataclasses.dataclass(frozen=True)
class DocFreqPlan:
    """Which counts make each window's starting document frequencies, from the windows' sizes alone.

    Per window (and ``FINAL``): the documents before it, the IDF snapshot's position and cut (None: none
    yet) and, where the window ends inside one of ``track``'s batches, the snapshot ``track`` refines that
    batch with at its real end, if another (position and cut). A cut names whole earlier windows and at
    most one window's partial counts (``window_terms`` keeps them at the refresh points): so the counts
    can be summed anywhere, on the driver (``doc_freq_states``) or in Spark (the job, past a size)."""

    docs: dict[int, int]
    idf: dict[int, tuple[int, Cut] | None]
    end: dict[int, tuple[int, Cut] | None]


def doc_freq_plan(sizes: Mapping[int, int], batch_size: int) -> DocFreqPlan:
    from storyline.stories.similarity import DocFreq

    order = sorted(sizes)
    starts, total = {}, 0
    for window in order:
        starts[window] = total
        total += sizes[window]
    ends = [starts[w] + sizes[w] for w in order]
    points = DocFreq.refreshes(total)

    def snapshot_at(position: int) -> int:  # the last refresh at or before ``position``
        return points[bisect.bisect_right(points, position) - 1] if points and position >= points[0] else 0

    def cut(position: int) -> Cut:  # position > 0: inside (or at the end of) the window that holds it
        window = order[bisect.bisect_left(ends, position)]
        return (None, None) if position == total else (window, position)

    def snapshot(position: int) -> tuple[int, Cut] | None:
        point = snapshot_at(position)
        return (point, cut(point)) if point else None

    docs, idf, end = {FINAL: total}, {FINAL: snapshot(total)}, {FINAL: None}
    for window, stop in zip(order, ends):
        docs[window], idf[window] = starts[window], snapshot(starts[window])
        batch_end = min(-(-stop // batch_size) * batch_size, total)
        end[window] = snapshot(batch_end) if snapshot_at(batch_end) != snapshot_at(stop) else None
    return DocFreqPlan(docs, idf, end)


def cut_counts(cut: Cut, before: Mapping[int, Counter[str]], partial: Mapping[int, Mapping[int, dict[str, int]]],
               everything: Counter[str]) -> dict[str, int]:
    """A cut's counts from the running totals before each window and the windows' partial counts."""
    window, point = cut
    if window is None:
        return dict(everything)
    return dict(before[window] + Counter(partial[window][point])) if point is not None else dict(before[window])


def doc_freq_states(windows: Mapping[int, tuple[int, dict[str, int], dict[int, dict[str, int]]]], batch_size: int
                    ) -> tuple[dict[int, tuple[DocFreqState, Snapshot | None]], DocFreqState]:
    """What ``track``'s placer holds, from every window's ``window_terms``, summed on the driver: exact,
    because document frequencies depend only on which articles came before, never on where they were placed.

    Per window: the frequencies at its first article; and where the window ends inside one of
    ``track``'s batches, the IDF snapshot ``track`` refines that batch with at its end (``doc_freq_plan``).
    Also the frequencies after the last article (what the store keeps).
    """
    plan = doc_freq_plan({w: v[0] for w, v in windows.items()}, batch_size)
    before: dict[int, Counter[str]] = {}
    running: Counter[str] = Counter()
    for window in sorted(windows):
        before[window] = running.copy()
        running.update(windows[window][1])
    partial = {w: v[2] for w, v in windows.items()}

    def snap(entry: tuple[int, Cut] | None) -> Snapshot:
        return (entry[0], cut_counts(entry[1], before, partial, running)) if entry else (0, {})

    def state(window: int) -> DocFreqState:
        counts = dict(running) if window == FINAL else dict(before[window])
        return (plan.docs[window], counts, *snap(plan.idf[window]))

    out = {w: (state(w), snap(plan.end[w]) if plan.end[w] else None) for w in sorted(windows)}
    return out, state(FINAL)


def term_rows(window: int, terms: tuple[int, dict[str, int], dict[int, dict[str, int]]]) -> Iterator[tuple]:
    """A window's ``window_terms`` as rows (window, point, term, count): point None for the whole window,
    else the refresh point of a partial count."""
    _, totals, partial = terms
    yield from ((window, None, t, c) for t, c in totals.items())
    for point, counts in partial.items():
        yield from ((window, point, t, c) for t, c in counts.items())


def docfreq_blob(plan: DocFreqPlan, window: int, parts: Mapping[str, dict[str, int]]) -> bytes:
    """A window's ``docfreq`` context row from its summed counts (``parts``: counts, idf, end), as
    ``doc_freq_states`` gives it."""
    idf, end = plan.idf[window], plan.end[window]
    state = (plan.docs[window], dict(parts["counts"]), idf[0] if idf else 0, dict(parts["idf"]) if idf else {})
    return pickle.dumps((state, (end[0], dict(parts["end"])) if end else None), protocol=pickle.HIGHEST_PROTOCOL)
