"""Dates mentioned in an article, resolved against the best date the article has.

A regex pass (``dates_find``) picks candidate spans, ``dateparser`` parses each in the article's language,
and the anchor settles what the text leaves open:

* explicit dates ("the end of november 2020", "25 April 2009", "2020") need no anchor; their ``anchor``
  is None;
* month-days ("august 7"), bare months ("in november") and relative dates ("yesterday", "last month",
  "on tuesday", "30 years ago") need a **day-precise** anchor: the publication date from any source but
  inference, or an inferred dateline. They take the year that puts them closest to the anchor, in the past
  unless the words around speak of the future;
* without such an anchor a month-day stays partial (``--08-07``, ``Granularity.MONTH_DAY``) until
  ``resolve_partial`` is given one (an undated article joining a dated story); bare months and relative
  dates are dropped, since nothing can place them. A month- or year-precise inference is never used to
  settle them: "august 7" in an article inferred to be "about 2019-09" could be 2019 or 2018.

Nothing reads the wall clock: dateparser's RELATIVE_BASE is always the anchor (or a fixed base whose year
is discarded), so the same article gives the same dates on any day.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Sequence

import dateparser
from dateparser.date import DateDataParser

from storyline.enrich.dates_find import (
    MAX_SCAN_CHARS,
    Candidate,
    Lexicon,
    find_candidates,
    lexicon,
    tense_of,
)
from storyline.enrich.dates_infer import Inference, infer, precision_of_evidence
from storyline.model import Article, DateMention, DateProvenance, Granularity
from storyline.normalize.clean import date_doubt

__all__ = ["MODEL", "WEAK_DATES", "enrich_dates", "find_dates", "infer_publication_date", "resolve_partial", "settle_dates",
           "settle_named_events"]

MODEL = f"storyline regex candidates + dateparser {dateparser.__version__}"
_FIXED_BASE = dt.datetime(2000, 1, 1)  # a leap year, so "february 29" parses; its year is never used
_REL_ALIASES = {"tonight": "today", "this morning": "today", "this afternoon": "today", "this evening": "today",
                "last night": "yesterday", "the day before yesterday": "day before yesterday"}


@dataclasses.dataclass(frozen=True, slots=True)
class _Anchor:
    date: dt.date
    provenance: str
    precision: Granularity


@functools.lru_cache(maxsize=64)
def _parser(language: str, order: str, prefer: str, base: dt.datetime) -> DateDataParser:
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer, "PREFER_DAY_OF_MONTH": "first",
                "DATE_ORDER": order, "RETURN_TIME_AS_PERIOD": False}
    return DateDataParser(languages=[language], settings=settings)


@functools.lru_cache(maxsize=16384)
def _parse_calendar(core: str, language: str, order: str) -> tuple[int, int, int] | None:
    """(year, month, day) as dateparser reads ``core``; parts the text lacks come from a fixed base."""
    data = _parser(language, order, "current_period", _FIXED_BASE).get_date_data(core)
    d = data.date_obj
    return None if d is None else (d.year, d.month, d.day)


@functools.lru_cache(maxsize=4096)
def _parse_relative(core: str, language: str, anchor: dt.date, prefer: str) -> tuple[dt.date, str] | None:
    base = dt.datetime(anchor.year, anchor.month, anchor.day, 12)
    data = _parser(language, "MDY" if language == "en" else "DMY", prefer, base).get_date_data(core)
    return None if data.date_obj is None else (data.date_obj.date(), data.period or "day")


def _lexicon_for(article: Article) -> tuple[Lexicon, str | None]:
    try:
        return lexicon(article.language), None
    except Exception:  # noqa: BLE001 - dateparser raises several types for a locale it lacks
        return lexicon("en"), (f"dates: dateparser has no locale for language {article.language!r} "
                               f"(article {article.id}); used English date patterns")


def _anchor(article: Article, text: str, cands: list[Candidate]) -> _Anchor | None:
    if article.published is not None and article.published_provenance is not DateProvenance.UNDATED:
        precision = Granularity.DAY
        if article.published_provenance is DateProvenance.INFERRED:
            precision = precision_of_evidence(article.date_evidence)
        return _Anchor(article.published, str(article.published_provenance.value), precision)
    guess = infer(text, cands)
    if guess is None:
        return None
    return _Anchor(guess.date, DateProvenance.INFERRED.value, guess.precision)


def _pick_year(month: int, day: int, anchor: dt.date, future: bool) -> dt.date | None:
    """The month-day's year closest to the anchor; the wrong side of it (future for past-tense news)
    costs double."""
    best: tuple[float, dt.date] | None = None
    for year in range(anchor.year - 4, anchor.year + 5):
        try:
            cand = dt.date(year, month, day)
        except ValueError:
            continue  # february 29 outside leap years
        gap = (cand - anchor).days
        cost = (2 * gap if gap > 0 else -gap) if not future else (-2 * gap if gap < 0 else gap)
        if best is None or cost < best[0]:
            best = (cost, cand)
    return None if best is None else best[1]


def _pick_month(month: int, anchor: dt.date, direction: int, future: bool) -> tuple[int, int]:
    here = anchor.year * 12 + anchor.month - 1
    options = [y * 12 + month - 1 for y in (anchor.year - 1, anchor.year, anchor.year + 1)]
    if direction < 0:
        idx = max(o for o in options if o < here)
    elif direction > 0:
        idx = min(o for o in options if o > here)
    else:
        idx = min(options, key=lambda o: (2 * (o - here) if o > here else here - o) if not future
                  else (2 * (here - o) if o < here else o - here))
    return idx // 12, idx % 12 + 1


def _weekday(c: Candidate, text: str, anchor: dt.date) -> dt.date | None:
    """The weekday nearest the anchor on the side the text points to; "on thursday" in a Thursday's paper
    is that day (dateparser would count back a week), "last thursday" is 1-7 days back."""
    word = c.core.split()[-1]
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    wd = next((i for i, n in enumerate(names) if n.startswith(word[:3])), None)
    if wd is None:
        return None
    back = (anchor.weekday() - wd) % 7
    ahead = (wd - anchor.weekday()) % 7
    if c.direction < 0:
        return anchor - dt.timedelta(days=back or 7)
    if c.direction > 0:
        return anchor + dt.timedelta(days=ahead or 7)
    if tense_of(text, c.start, c.end) > 0:
        return anchor + dt.timedelta(days=ahead)
    return anchor - dt.timedelta(days=back)


def _mention(article: Article, text: str, c: Candidate, resolved: str, gran: Granularity,
             anchor: _Anchor | None, starts: list[int]) -> DateMention:
    sentence = -1
    if starts:
        i = bisect.bisect_right(starts, c.start) - 1
        if i >= 0 and c.start < article.sentences[i].end:
            sentence = i
    return DateMention(surface=article.text[c.start:c.end], start=c.start + article.text_offset,
                       end=c.end + article.text_offset, resolved=resolved, granularity=gran, sentence=sentence,
                       anchor=anchor.date.isoformat() if anchor else None,
                       anchor_provenance=anchor.provenance if anchor else None)


def _resolve(c: Candidate, text: str, lex: Lexicon, anchor: _Anchor | None) -> tuple[str, Granularity, bool] | None:
    """(resolved, granularity, used the anchor) for one candidate, or None to drop it."""
    dated = anchor if anchor is not None and anchor.precision is Granularity.DAY else None
    if c.kind == "date":
        parsed = _parse_calendar(c.core, lex.language, lex.date_order)
        if parsed is None:
            return None
        year, month, day = parsed
        if c.year is not None:
            if c.day is not None:
                return f"{year:04d}-{month:02d}-{day:02d}", Granularity.DAY, False
            if c.month is not None:
                return f"{year:04d}-{month:02d}", Granularity.MONTH, False
            return f"{year:04d}", Granularity.YEAR, False
        future = tense_of(text, c.start, c.end) > 0
        if c.day is not None:
            if dated is None:
                return f"--{month:02d}-{day:02d}", Granularity.MONTH_DAY, False
            settled = _pick_year(month, day, dated.date, future)
            return (settled.isoformat(), Granularity.DAY, True) if settled else None
        if dated is None:
            return None
        y, m = _pick_month(month, dated.date, c.direction, future)
        return f"{y:04d}-{m:02d}", Granularity.MONTH, True
    if dated is None:
        return None  # "yesterday" with nothing to count from
    if c.kind == "weekday":
        settled = _weekday(c, text, dated.date)
        return None if settled is None else (settled.isoformat(), Granularity.DAY, True)
    prefer = "future" if c.direction > 0 or (c.direction == 0 and tense_of(text, c.start, c.end) > 0) else "past"
    core = _REL_ALIASES.get(c.core, c.core)
    got = _parse_relative(core, lex.language, dated.date, prefer)
    if got is None:
        return None
    date, period = got
    unit = c.unit or period
    if unit == "year":
        return f"{date.year:04d}", Granularity.YEAR, True
    if unit == "month":
        return f"{date.year:04d}-{date.month:02d}", Granularity.MONTH, True
    if unit == "day" or period == "day":
        return date.isoformat(), Granularity.DAY, True
    return None  # weeks and other periods have no granularity here


def find_dates(article: Article) -> list[DateMention]:
    """Dates mentioned in ``article``, in reading order (see the module docstring for the rules)."""
    text = article.display_text[:MAX_SCAN_CHARS]
    if not text.strip():
        return []
    lex, _ = _lexicon_for(article)
    cands = find_candidates(text, lex)
    anchor = _anchor(article, text, cands)
    starts = [s.start for s in article.sentences]
    out: list[DateMention] = []
    for c in cands:
        got = _resolve(c, text, lex, anchor)
        if got is not None:
            resolved, gran, used = got
            out.append(_mention(article, text, c, resolved, gran, anchor if used else None, starts))
    return out


def _inference(article: Article) -> Inference | None:
    text = article.display_text[:MAX_SCAN_CHARS]
    if not text.strip():
        return None
    lex, _ = _lexicon_for(article)
    return infer(text, find_candidates(text, lex))


def infer_publication_date(article: Article) -> tuple[dt.date, str] | None:
    """When an undated article was probably written, from its text alone, with the evidence; the
    evidence starts with the precision ("day precision: ...", "month precision: ...")."""
    guess = _inference(article)
    return None if guess is None else (guess.date, guess.evidence)


def resolve_partial(mentions: list[DateMention], anchor: dt.date, provenance: str) -> list[DateMention]:
    """``mentions`` with each month-day settled to the year closest to ``anchor`` (a past date preferred);
    other mentions are returned unchanged."""
    out: list[DateMention] = []
    for m in mentions:
        if m.granularity is not Granularity.MONTH_DAY:
            out.append(m)
            continue
        month, day = int(m.resolved[2:4]), int(m.resolved[5:7])
        settled = _pick_year(month, day, anchor, future=False)
        if settled is None:
            out.append(m)
            continue
        out.append(dataclasses.replace(m, resolved=settled.isoformat(), granularity=Granularity.DAY,
                                       anchor=anchor.isoformat(), anchor_provenance=str(provenance)))
    return out


# "the July 7 bombers", "the April 20 explosion", "Haiti's Jan. 12 earthquake": a month-day used as the
# name of an event (a determiner before it, a noun after it), not as "when" this sentence happens
_NAMING_BEFORE = re.compile(r"(?:\bthe|'s|\u2019s)\s+$", re.IGNORECASE)
_NAMING_AFTER = re.compile(r"^,?\s+(?!(?:of|to|and|or|in|at|on|by|for|from|through|until|with|as|when|that|was|is|will|,)\b)"
                           r"[a-z][a-z-]{2,}")


# "the bombings on July 7", "the anniversary of July 7": the event is named before the date
_NAMED_BEFORE = re.compile(r"\bthe\s+[a-z]{4,}\s+(?:on|of)\s+$", re.IGNORECASE)


def _names_an_event(article: Article, mention: DateMention) -> bool:
    start, end = mention.start - article.text_offset, mention.end - article.text_offset
    before = article.text[max(0, start - 30):start]
    if _NAMED_BEFORE.search(before):
        return True
    return bool(_NAMING_BEFORE.search(before[-12:]) and _NAMING_AFTER.match(article.text[end:end + 30]))


def _known_days(articles: Sequence[Article]) -> Counter[dt.date]:
    """Days the story itself attests, with how often: a full date written out with its year, or a day
    articles were written on (and the day before it, which those articles report)."""
    known: Counter[dt.date] = Counter()
    for art in articles:
        if art.published and art.published_provenance not in (DateProvenance.UNDATED, DateProvenance.INFERRED):
            known.update((art.published, art.published - dt.timedelta(days=1)))
        for m in art.dates:
            if m.granularity is Granularity.DAY and m.anchor is None:
                known[dt.date.fromisoformat(m.resolved[:10])] += 1
    return known


def settle_named_events(articles: Sequence[Article]) -> list[Article]:
    """Month-days that name a past event the story knows take that event's year.

    "The July 7 bombers" in a 2008 article got its year from the article's date (2008-07-07); when the
    story attests 2005-07-07 (an article written then, or "July 7, 2005" written out) and nothing
    attests 2008-07-07, the phrase names the 2005 event. Only month-days whose year came from the anchor
    and that read as an event's name (``_names_an_event``) are moved, to the best-attested earlier year
    (so "the night of 25 June" in 2011 is Jackson's death in 2009, not its 2010 anniversary coverage); the mention's ``anchor`` becomes that day with provenance ``story``. Returns the articles
    changed (in place), so a caller can store them.
    """
    known = _known_days(articles)
    changed: list[Article] = []
    for art in articles:
        updated: list[DateMention] = []
        touched = False
        for m in art.dates:
            day = dt.date.fromisoformat(m.resolved[:10]) if m.granularity is Granularity.DAY else None
            if (day is None or m.anchor is None or day in known or not any(c.isdigit() for c in m.surface)
                    or not _names_an_event(art, m)):
                updated.append(m)  # weekdays and "yesterday" say when, they do not name an event
                continue
            earlier = [k for k in known if (k.month, k.day) == (day.month, day.day) and k.year < day.year]
            if not earlier:
                updated.append(m)
                continue
            event = max(earlier, key=lambda k: (known[k], -k.year))  # the best-attested; then the first
            updated.append(dataclasses.replace(m, resolved=event.isoformat(), anchor=event.isoformat(),
                                               anchor_provenance=DateProvenance.STORY.value))
            touched = True
        if touched:
            art.dates = updated
            changed.append(art)
    return changed


def enrich_dates(article: Article) -> None:
    """Give an undated article an inferred date, then fill ``article.dates``; never raises."""
    article.models["dates"] = MODEL
    try:
        _, problem = _lexicon_for(article)
        if problem and problem not in article.problems:
            article.problems.append(problem)
        if len(article.display_text) > MAX_SCAN_CHARS:
            article.problems.append(f"dates: article {article.id} is {len(article.display_text)} characters; "
                                    f"dates were read from the first {MAX_SCAN_CHARS} only")
        if article.published is None or article.published_provenance is DateProvenance.UNDATED:
            guess = _inference(article)
            if guess is not None and date_doubt(guess.date, article.ingested_at) is not None:
                article.problems.append(f"dates: the date inferred from the text ({guess.date.isoformat()}) is "
                                        f"{date_doubt(guess.date, article.ingested_at)}; not used")
                guess = None
            if guess is not None:
                if article.published_provenance is DateProvenance.UNTRUSTED:  # keep what the source said
                    guess = dataclasses.replace(guess, evidence=f"{guess.evidence}; the source's untrusted date "
                                                                f"was {article.date_evidence!r}")
                article.published = guess.date
                article.published_provenance = DateProvenance.INFERRED
                article.date_evidence = guess.evidence
            else:
                article.problems.append(f"dates: article {article.id} is undated and its text names no month of a "
                                        "year to infer one from; it stays undated until it joins a dated story")
        article.dates = find_dates(article)
    except Exception as exc:  # noqa: BLE001 - a date stage must not stop the pipeline; say what failed
        article.dates = []
        article.problems.append(f"dates: failed on article {article.id}: {type(exc).__name__}: {exc}")


WEAK_DATES = (DateProvenance.UNDATED, DateProvenance.INFERRED, DateProvenance.UNTRUSTED)


def settle_dates(members: list[Article], anchor: dt.date | None = None) -> list[Article]:
    """Settle the partial dates (month and day, no year) of a story's weakly dated members against the
    latest firm publication date among ``members`` (and ``anchor``, one known elsewhere: the store's).
    Returns the members it changed. ``track`` runs it for each story a placed batch touched; the batch
    path (``scale.stages.settle_story_dates``) replays those batches per final story."""
    anchors = [m.published for m in members if m.published and m.published_provenance not in WEAK_DATES]
    if anchor is not None:
        anchors.append(anchor)
    if not anchors:
        return []
    latest = max(anchors)
    changed = []
    for member in members:
        if member.published_provenance in WEAK_DATES and any(d.is_partial for d in member.dates):
            member.dates = resolve_partial(member.dates, latest, DateProvenance.STORY.value)
            changed.append(member)
    return changed
