"""Dated timelines: which days mattered, and one or two sentences that say what happened on each.

The method follows news-tls DATEWISE (Gholipour Ghalandari & Ifrim, 2020) in outline: rank days by
the evidence that articles point at them, then summarise each chosen day from the sentences that
mention it or were written within a day of it. What we do differently, and why:

* **No fitted date ranker.** DATEWISE learns a regression over date statistics per dataset; here each
  kind of evidence counts as ``log(1 + n)`` and the kinds are summed with equal weight: articles that
  name the day, articles that still name it three or more days later (the day lasted), articles
  written on the day or the day after, outlets beyond the first, and whether the day opens a burst of
  coverage. Logarithms make one kind unable to drown the others, and there is nothing to tune, so the
  ranking behaves the same on stories nobody looked at. (A per-fold logistic regression over the same
  evidence did no better out of sample on Timeline17: date F1 0.687 against 0.692, see the README.)
* **How many days** (when the caller does not say) follows from the story: the knee of the sorted day
  scores (the point farthest from the chord between the best and the worst day), among days at least
  two articles point at. A week of coverage has a handful of candidate days and a shallow knee; a
  year of coverage has hundreds and a knee far down the list. No constant cap. Each calendar month the
  story has articles in adds its best day (``monthly_days``), so a year-long story gets its later turning
  points and not only its busiest week. A day before the story's first article is kept only when its text
  names it, and is marked ``background`` (the chart draws it apart from the coverage's axis).
* **Dates as the story knows them**: "the July 7 bombers" in a 2008 article names 2005-07-07 when the
  story attests that day (``enrich.dates.settle_named_events``), not 2008-07-07.
* **What a day's sentence may be**: one that names the day, or one of the first sentences of an
  article written on the day or the day after. Among those, the one closest to the day's own
  centroid (DATEWISE's "PM-mean": only words that both the naming sentences and the same-day reports
  use), with a pull towards the story as a whole (``topic``, the one fitted knob) so asides lose.
  Captions, credits and page furniture never are candidates (``_units``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from storyline.enrich.dates import settle_named_events
from storyline.model import Article, DateProvenance, Granularity, TimelineEntry
from storyline.tell._units import all_units, also_citing, centroid, dateline_length, tfidf

__all__ = ["TimelineWeights", "background", "build_timeline", "date_evidence", "knee", "monthly_days"]

_ONE_DAY = dt.timedelta(days=1)
_NO_KNEE = 5  # a curve of five points or fewer has no meaningful knee: such a story keeps all its days


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineWeights:
    """Knobs of the sentence choice. The date ranking has none (see the module docstring).

    ``topic`` is the only value chosen on data: by leave-one-topic-out over Timeline17's four topics
    (``storyline eval timelines DIR --folds 4``), each fold choosing from ``evaluation.tell.TIMELINE_GRID`` on
    the other three topics (the H1N1, Michael Jackson and Haiti folds chose 0.5, BP oil spill 0.0; see
    the README). The default 0.5 is the value best on all 10 Timeline17 timelines (in-sample), used
    outside evaluations; the other knobs are structural, from news-tls or from what a sentence may be.
    """

    topic: float = 0.5  # pull towards the whole story's centroid (fitted on all of Timeline17: in-sample)
    lead_sentences: int = 5  # an article's first N sentences describe its day (news-tls clip_sents=5)
    late_after: int = 3  # a mention written this many days after the day shows the day lasted
    redundancy: float = 0.5  # cosine above which a sentence repeats one already chosen
    max_words: int = 70  # longer sentences are not candidates (they dilute a day's summary)
    # when the story decides how many dates: also each covered month's best day (``monthly_days``)
    monthly: bool = True


@dataclasses.dataclass(slots=True)
class DayEvidence:
    """What points at one day: counts of articles by kind, and the sentences that name it."""

    naming: set[str] = dataclasses.field(default_factory=set)  # articles that name the day
    later: set[str] = dataclasses.field(default_factory=set)  # ... written late_after+ days after it
    written: set[str] = dataclasses.field(default_factory=set)  # articles written on the day or the next
    outlets: set[str] = dataclasses.field(default_factory=set)
    burst: float = 0.0  # log ratio of coverage starting on the day to coverage in the week before
    mentions: set[int] = dataclasses.field(default_factory=set)  # units naming the day

    @property
    def articles(self) -> set[str]:
        return self.naming | self.written

    def score(self) -> float:
        """Equal-weight sum of log evidence (nothing fitted)."""
        return (math.log1p(len(self.naming)) + math.log1p(len(self.later)) + math.log1p(len(self.written))
                + math.log1p(max(len(self.outlets) - 1, 0)) + max(self.burst, 0.0))


def _as_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _sentence_of(article: Article, char: int) -> int:
    pos = char - article.text_offset
    for i, s in enumerate(article.sentences):
        if s.start <= pos < s.end:
            return i
    return -1


def _day_precise(article: Article) -> bool:
    """A publication date is a timeline day only when it is known to the day (not inferred or missing)."""
    return article.published is not None and article.published_provenance not in (
        DateProvenance.INFERRED, DateProvenance.UNDATED)


def _named_days(article: Article) -> dict[dt.date, list[int]]:
    """Day -> sentence indices naming it, leaving out the dateline (it restates the publication date)."""
    stamp = 0
    if article.sentences:
        first = article.sentences[0]
        stamp = first.start + dateline_length(article.text[first.start:first.end])
    out: dict[dt.date, list[int]] = defaultdict(list)
    for m in article.dates:
        if m.granularity is not Granularity.DAY or m.start - article.text_offset < stamp:
            continue
        day = _as_date(m.resolved)
        if day is not None:
            out[day].append(m.sentence if m.sentence >= 0 else _sentence_of(article, m.start))
    return out


def date_evidence(
    articles: Sequence[Article],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    weights: TimelineWeights = TimelineWeights(),
    index: dict[tuple[str, int], int] | None = None,
) -> dict[dt.date, DayEvidence]:
    """Every day inside ``start``..``end`` that some article names or was written on, with its evidence."""
    days: dict[dt.date, DayEvidence] = defaultdict(DayEvidence)
    index = index or {}

    def inside(day: dt.date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    written_on: dict[dt.date, int] = defaultdict(int)
    for art in articles:
        outlet = art.source or ""
        for day, sents in _named_days(art).items():
            if not inside(day):
                continue
            ev = days[day]
            ev.naming.add(art.id)
            if art.published and (art.published - day).days >= weights.late_after:
                ev.later.add(art.id)
            if outlet:
                ev.outlets.add(outlet)
            ev.mentions.update(index[(art.id, s)] for s in sents if (art.id, s) in index)
        if _day_precise(art):
            written_on[art.published] += 1
            for day in (art.published, art.published - _ONE_DAY):
                if inside(day):
                    days[day].written.add(art.id)
                    if outlet:
                        days[day].outlets.add(outlet)
    def near(day: dt.date, k: int) -> dt.date | None:  # the calendar ends: 9999-12-31 has no tomorrow
        try:
            return day + k * _ONE_DAY
        except OverflowError:
            return None

    for day, ev in days.items():
        before = sum(written_on.get(near(day, -k), 0) for k in range(1, 8)) / 7
        after = sum(written_on.get(near(day, k), 0) for k in range(3)) / 3
        ev.burst = math.log((1 + after) / (1 + before))
    return days


def knee(values: Sequence[float]) -> int:
    """How many of ``values`` (sorted, best first) stand out: the point farthest from the chord.

    Parameter-free (the "Kneedle" idea); all of them when fewer than three or all equal.
    """
    n = len(values)
    if n < 3 or values[0] == values[-1]:
        return n
    x = np.arange(n, dtype=float) / (n - 1)
    y = (np.asarray(values, dtype=float) - values[-1]) / (values[0] - values[-1])
    return int(np.argmax(np.abs(1 - x - y))) + 1


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

    ``max_dates=None`` lets the story decide: the days at least two articles point at (every day, for a
    story of a few articles), cut at the knee of their scores when there are more than five (so a long,
    busy story gets more dates than a short one). The dates are spread over the story's life in
    proportion to its coverage: the knee's strongest days plus each covered month's best (``monthly_days``).
    A day before the story's first article is kept only as
    background its text names (``background``). ``start``/``end`` restrict the days considered. Articles
    need ``sentences`` (normalize) and ``dates`` (enrich).
    """
    w = weights
    articles = _story_dated(articles)
    units = all_units(articles, max_words=w.max_words)
    if not units:
        return []
    index = {(u.article_id, u.index): i for i, u in enumerate(units)}
    days = date_evidence(articles, start=start, end=end, weights=w, index=index)
    published = coverage_days(articles)
    first_day = published[0] if published else None
    coverage = [d for d in published if (start is None or d >= start) and (end is None or d <= end)]
    days = {d: ev for d, ev in days.items() if first_day is None or d >= first_day or background(ev)}
    if not days:
        return []
    ranked = sorted(days.items(), key=lambda kv: (-kv[1].score(), kv[0]))
    months: list[list[dt.date]] = []
    if max_dates is None:
        if w.monthly:  # every month the story was covered in has its best day: a year gets its later turns
            months = monthly_days(ranked, coverage)
        strong = [kv for kv in ranked if len(kv[1].articles) >= 2]
        ranked = strong if len(strong) >= 3 else ranked  # a story of two or three articles: every day it has
        max_dates = knee([ev.score() for _, ev in ranked]) if len(ranked) > _NO_KNEE else len(ranked)
    matrix = tfidf([u.text for u in units], languages={u.language for u in units})
    topical = np.asarray(matrix @ centroid(matrix)).ravel()
    leads: dict[dt.date, list[int]] = defaultdict(list)
    for i, u in enumerate(units):
        if u.published and u.position < w.lead_sentences:
            leads[u.published].append(i)
            leads[u.published - _ONE_DAY].append(i)
    chosen_rows: list[int] = []
    entries: list[TimelineEntry] = []

    def take(day: dt.date, ev: DayEvidence) -> bool:
        picked = _summarise_day(sorted(ev.mentions), leads.get(day, []), matrix, topical, chosen_rows,
                                sentences_per_date, w)
        if not picked:
            return False
        chosen_rows.extend(i for i, _ in picked)
        entries.append(TimelineEntry(
            date=day.isoformat(),
            sentences=[units[i].cite(s, also_citing(units, matrix, i, 0.8)) for i, s in picked],
            score=round(ev.score(), 6),
            article_count=len(ev.articles),
            background=first_day is not None and day < first_day,
        ))
        return True

    tried: set[dt.date] = set()
    order = {d: r for r, d in enumerate(sorted(days, key=lambda d: (-days[d].score(), d)))}
    for month in sorted(months, key=lambda m: order[m[0]]):  # each month's best day that can be told
        for day in month:
            if day not in tried:
                tried.add(day)
                if take(day, days[day]):
                    break
    told = {e.date for e in entries}
    budget = max_dates
    for day, ev in ranked:  # then the strongest days of all, up to the knee (or the caller's number)
        if budget <= 0:
            break
        if day.isoformat() in told:
            budget -= 1
        elif day not in tried:
            tried.add(day)
            budget -= take(day, ev)
    return sorted(entries, key=lambda e: e.date)


def coverage_days(articles: Sequence[Article]) -> list[dt.date]:
    """The articles' publication days, sorted (inferred ones too: the story's coverage, as its chart draws it)."""
    return sorted(a.published for a in articles if a.published is not None)


def background(ev: DayEvidence) -> bool:
    """Whether a day before the story's first article is background its text names ("an August 7 suicide
    attack", "born on 29 August 1958"), not a day only the publication dates point at (the day before the
    first report, which nothing says happened)."""
    return bool(ev.naming)


def monthly_days(ranked: Sequence[tuple[dt.date, DayEvidence]], coverage: Sequence[dt.date]) -> list[list[dt.date]]:
    """The candidate days of each calendar month the story has articles in, best first, one list a month.

    When the story decides how many dates it gets, each such month adds its best day to the knee's: a
    year of coverage gets its later turning points, not only the days of its first, busiest week. (Spread
    in proportion to coverage also when the caller gives the number of dates scored lower against the
    reference timelines, which favour the busiest days: Timeline17 and the Spanish crises, README.)"""
    months = {(d.year, d.month) for d in coverage}
    by_month: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    for day, _ in ranked:
        if (day.year, day.month) in months:
            by_month[(day.year, day.month)].append(day)
    return [by_month[m] for m in sorted(by_month)]


def _story_dated(articles: Sequence[Article]) -> list[Article]:
    """Copies whose month-days naming a past event of this story carry that event's date
    (``enrich.dates.settle_named_events``); the caller's articles are left as they are."""
    copies = [dataclasses.replace(a, dates=list(a.dates)) for a in articles]
    settle_named_events(copies)
    return copies


def _day_centroid(matrix: sparse.csr_matrix, naming: list[int], written: list[int]) -> np.ndarray:
    """DATEWISE's PM-mean: the words both the naming sentences and the same-day reports use."""
    if naming and written:
        c_name = np.asarray(matrix[naming].mean(axis=0)).ravel()
        c_pub = np.asarray(matrix[written].mean(axis=0)).ravel()
        vec = np.where((c_name > 0) & (c_pub > 0), c_name + c_pub, 0.0)
        if vec.any():
            return vec / np.linalg.norm(vec)
    return centroid(matrix[naming or written])


def _summarise_day(
    naming: list[int], leads: list[int], matrix: sparse.csr_matrix, topical: np.ndarray,
    chosen: list[int], k: int, w: TimelineWeights,
) -> list[tuple[int, float]]:
    """The day's ``k`` most central sentences that repeat nothing already chosen."""
    written = [r for r in leads if r not in set(naming)]
    rows = sorted(set(naming) | set(written))
    if not rows:
        return []
    cen = _day_centroid(matrix, naming, written)
    score = np.asarray(matrix[rows] @ cen).ravel() + w.topic * topical[rows]
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
