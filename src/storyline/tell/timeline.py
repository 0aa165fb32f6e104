"""Dated timelines: which days mattered, and one or two sentences that say what happened on each.

The method follows news-tls DATEWISE (Gholipour Ghalandari & Ifrim, 2020): rank days by how
often articles point at them, then summarise each chosen day from the sentences that mention it or
were published on it. What we change, and why:

* a day is supported by *articles*, not sentences (a chronology box repeating a date counts once),
  and a mention counts more when it is written soon after the day (reports of the event itself)
  than weeks later in background paragraphs or before it, in announcements;
* publication days count too, but less than explicit mentions, since most articles are about
  what happened the day before;
* a day's sentence is central among that day's candidates (TF-IDF centroid) *and* central to
  the whole story (so asides, comment threads and off-topic paragraphs that happen to carry the
  date lose), prefers leads and articles written close to the day, and must not repeat a
  sentence already chosen for another day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from storyline.model import Article, DateProvenance, Granularity, TimelineEntry
from storyline.tell._units import Unit, all_units, also_citing, centroid, dateline_length, tfidf

__all__ = ["TimelineWeights", "build_timeline"]


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineWeights:
    """Tuning knobs (defaults measured on Timeline17, see benchmarks/tell_eval.py)."""

    publication: float = 0.5  # weight of an article published on the day, vs. one mentioning it
    lag_scale: float = 7.0  # days after which a mention's weight has halved
    future: float = 0.3  # weight of a mention written before the day (announcements)
    mention_bonus: float = 0.0  # sentence-level: it names the day
    lead_bonus: float = 0.2  # sentence-level: among the first sentences of its article
    redundancy: float = 0.5  # cosine above which a sentence repeats one already chosen
    topic: float = 3.0  # sentence-level: similarity with the whole story (keeps off-topic text out)
    max_words: int = 70  # longer sentences are not candidates (they dilute a day's summary)
    window: int = 7  # a published-on-day sentence may describe the day up to this many days later


@dataclasses.dataclass(slots=True)
class _Day:
    score: float = 0.0
    articles: set[str] = dataclasses.field(default_factory=set)
    mentions: dict[int, float] = dataclasses.field(default_factory=dict)  # unit -> weight


def _as_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _mention_weight(lag_days: int, w: TimelineWeights) -> float:
    if lag_days < 0:
        return w.future
    return 1.0 / (1.0 + lag_days / w.lag_scale)


def _sentence_of(article: Article, char: int) -> int:
    pos = char - article.text_offset
    for i, s in enumerate(article.sentences):
        if s.start <= pos < s.end:
            return i
    return -1


def _collect_days(
    articles: Sequence[Article],
    index: dict[tuple[str, int], int],
    start: dt.date | None,
    end: dt.date | None,
    w: TimelineWeights,
) -> dict[dt.date, _Day]:
    days: dict[dt.date, _Day] = defaultdict(_Day)

    def inside(day: dt.date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    for art in articles:
        best: dict[dt.date, float] = {}
        stamp = 0
        if art.sentences:
            first = art.sentences[0]
            stamp = first.start + dateline_length(art.text[first.start:first.end])
        for m in art.dates:
            if m.granularity is not Granularity.DAY or m.start - art.text_offset < stamp:
                continue  # a dateline restates the publication date
            day = _as_date(m.resolved)
            if day is None or not inside(day):
                continue
            lag = (art.published - day).days if art.published else 0
            weight = _mention_weight(lag, w)
            best[day] = max(best.get(day, 0.0), weight)
            sent = m.sentence if m.sentence >= 0 else _sentence_of(art, m.start)
            unit = index.get((art.id, sent))
            if unit is not None:
                slot = days[day].mentions
                slot[unit] = max(slot.get(unit, 0.0), weight)
        if art.published and inside(art.published) and _day_precise(art):
            best[art.published] = best.get(art.published, 0.0) + w.publication
        for day, weight in best.items():
            days[day].score += weight
            days[day].articles.add(art.id)
    return days


def _candidates(
    day: dt.date, info: _Day, units: list[Unit], by_article_pub: dict[dt.date, list[int]], mentioned: set[int],
) -> dict[int, float]:
    """Unit -> prior weight: sentences naming the day, and leads of articles written that day."""
    cands = dict(info.mentions)
    for u in by_article_pub.get(day, []):
        if u not in mentioned and units[u].position < 3:
            cands.setdefault(u, 0.5)
    return cands


def _day_precise(article: Article) -> bool:
    """A publication date is a timeline day only when it is known to the day (not inferred or missing)."""
    return article.published_provenance not in (DateProvenance.INFERRED, DateProvenance.UNDATED)


def build_timeline(
    articles: Sequence[Article],
    max_dates: int | None = None,
    sentences_per_date: int = 1,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    weights: TimelineWeights = TimelineWeights(),
) -> list[TimelineEntry]:
    """A chronological timeline of the story told by ``articles``.

    ``max_dates=None`` keeps every day at least two articles point at (at most 30). ``start``/``end``
    restrict the days considered. Articles need ``sentences`` (normalize) and ``dates`` (enrich).
    """
    w = weights
    units = all_units(articles, max_words=w.max_words)
    if not units:
        return []
    index = {(u.article_id, u.index): i for i, u in enumerate(units)}
    days = _collect_days(articles, index, start, end, w)
    if not days:
        return []
    ranked = sorted(days.items(), key=lambda kv: (-kv[1].score, kv[0]))
    if max_dates is None:
        ranked = [kv for kv in ranked if len(kv[1].articles) >= 2][:30] or ranked[:1]
    matrix = tfidf([u.text for u in units])
    topical = np.asarray(matrix @ centroid(matrix)).ravel() if w.topic else None
    mentioned = {u for d in days.values() for u in d.mentions}
    by_pub: dict[dt.date, list[int]] = defaultdict(list)
    for i, u in enumerate(units):
        if u.published:
            by_pub[u.published].append(i)
    chosen_rows: list[int] = []
    entries: list[TimelineEntry] = []
    for day, info in ranked:
        if max_dates is not None and len(entries) >= max_dates:
            break
        picked = _summarise_day(day, info, units, by_pub, mentioned, matrix, chosen_rows,
                                sentences_per_date, w, topical)
        if not picked:
            continue
        chosen_rows.extend(i for i, _ in picked)
        entries.append(TimelineEntry(
            date=day.isoformat(),
            sentences=[units[i].cite(s, also_citing(units, matrix, i, 0.8)) for i, s in picked],
            score=round(info.score, 6),
            article_count=len(info.articles),
        ))
    return sorted(entries, key=lambda e: e.date)


def _summarise_day(
    day: dt.date, info: _Day, units: list[Unit], by_pub: dict[dt.date, list[int]],
    mentioned: set[int], matrix, chosen: list[int], k: int, w: TimelineWeights,
    topical: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    cands = _candidates(day, info, units, by_pub, mentioned)
    if not cands:
        return []
    rows = sorted(cands)
    prior = np.array([cands[r] for r in rows], dtype=np.float32)
    sub = matrix[rows]
    cen = centroid(sub, prior)
    central = np.asarray(sub @ cen).ravel()
    score = central.copy()
    if topical is not None:
        score += w.topic * topical[rows]
    for j, r in enumerate(rows):
        u = units[r]
        if r in info.mentions:
            score[j] += w.mention_bonus * info.mentions[r]
        if u.position < 2:
            score[j] += w.lead_bonus
        if u.published and 0 <= (u.published - day).days <= w.window:
            score[j] += 0.05 * math.exp(-(u.published - day).days / w.lag_scale)
    taken: list[tuple[int, float]] = []
    against = list(chosen)
    for j in np.lexsort((np.array(rows), -score)):
        r = rows[j]
        if against:
            sim = np.asarray((matrix[against] @ matrix[r].T).todense()).ravel()
            if sim.max() > w.redundancy:
                continue
        taken.append((r, float(score[j])))
        against.append(r)
        if len(taken) >= k:
            break
    return taken
