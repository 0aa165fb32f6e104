from __future__ import annotations

import datetime as dt

import pytest

from storyline.model import to_dict
from storyline.tell.timeline import build_timeline

from .conftest import article, assert_cited


def test_timeline_picks_the_most_reported_days_in_order(spill):
    tl = build_timeline(spill, max_dates=3)
    dates = [e.date for e in tl]
    assert dates == sorted(dates)
    assert len(tl) == 3
    assert "2010-04-20" in dates  # named by three articles
    assert "2010-07-15" in dates  # named by two, published the day after
    for e in tl:
        assert_cited(e.sentences, spill)
        assert len(e.sentences) == 1


def test_timeline_sentence_of_a_day_tells_that_day(spill):
    tl = {e.date: e for e in build_timeline(spill, max_dates=3)}
    text = tl["2010-07-15"].sentences[0].text.lower()
    assert "cap" in text


def test_timeline_is_deterministic_and_order_free(spill):
    a = [to_dict(e) for e in build_timeline(spill, max_dates=4, sentences_per_date=2)]
    b = [to_dict(e) for e in build_timeline(list(reversed(spill)), max_dates=4, sentences_per_date=2)]
    assert a == b


def test_timeline_respects_span_and_does_not_repeat_sentences(spill):
    tl = build_timeline(spill, max_dates=10, sentences_per_date=2,
                        start=dt.date(2010, 5, 1), end=dt.date(2010, 12, 31))
    assert tl and all("2010-05-01" <= e.date <= "2010-12-31" for e in tl)
    shown = [(c.article_id, c.sentence) for e in tl for s in e.sentences for c in s.citations[:1]]
    assert len(shown) == len(set(shown))


def test_timeline_without_sentences_names_the_article(spill):
    broken = article("x", "2010-04-21", ["Some text here that was never split."])
    broken.sentences = []
    with pytest.raises(ValueError, match="'x'.*restore"):
        build_timeline(spill + [broken])


def test_timeline_of_nothing_is_empty():
    assert build_timeline([]) == []


PLACES = ["Leeds", "Porto", "Dakar", "Quito", "Hanoi", "Oslo", "Lima", "Accra", "Kyiv", "Perth", "Tunis", "Baku",
          "Riga", "Cusco", "Medan", "Split", "Graz", "Tartu", "Kochi", "Sfax", "Luxor", "Arusha", "Sapporo", "Bergen"]
THINGS = ["flood", "strike", "verdict", "ceasefire", "election", "blackout", "summit", "landslide", "protest",
          "recall", "merger", "drought", "audit", "boycott", "eruption", "lockout", "referendum", "heatwave",
          "outbreak", "derailment", "walkout", "cyclone", "tribunal", "embargo"]


def _story(first: dt.date, days: int, events: int) -> list:
    """A story of ``days`` days: ``events`` event days, each reported that day and the next by several
    outlets (and recalled later), plus a quiet background article every few days."""
    out = []
    step = max(1, days // events)
    for e in range(events):
        day = first + dt.timedelta(days=e * step)
        iso, place, thing = day.isoformat(), PLACES[e % len(PLACES)], THINGS[e % len(THINGS)]
        for k, lag in enumerate((0, 1, 1, 2)):
            out.append(article(f"e{e}-{k}", (day + dt.timedelta(days=lag)).isoformat(), [
                f"The {thing} in {place} on {iso} affected {100 + 7 * e + k} residents, officials in {place} said.",
                f"Reporters in {place} described how the {thing} unfolded over the afternoon and evening.",
                f"Officials promised an inquiry into the {thing} before the end of the season in {place}.",
            ], source=f"Outlet{k}"))
    for b in range(0, days, 3):
        day = (first + dt.timedelta(days=b)).isoformat()
        out.append(article(f"bg{b}", day, [
            f"Commentators reviewed the long campaign and its many twists again in column number {b}.",
            "Readers wrote in with their views on the council and its budget for the coming years.",
        ], source="Columns"))
    return out


def test_a_year_long_story_gets_more_dates_than_a_week_long_one():
    week = build_timeline(_story(dt.date(2021, 3, 1), 7, 3))
    year = build_timeline(_story(dt.date(2021, 1, 1), 365, 24))
    assert 2 <= len(week) <= 7
    assert len(year) > 2 * len(week)
    assert len(year) >= 12  # most of the 24 events, not a fixed cap


def test_a_date_sentence_names_the_date_or_was_written_within_a_day_of_it(spill):
    for story in (spill, _story(dt.date(2021, 1, 1), 365, 24)):
        by_id = {a.id: a for a in story}
        for entry in build_timeline(story, sentences_per_date=2):
            day = dt.date.fromisoformat(entry.date)
            for s in entry.sentences:
                art, idx = by_id[s.citations[0].article_id], s.citations[0].sentence
                names_day = any(m.resolved == entry.date and m.sentence == idx for m in art.dates)
                assert names_day or 0 <= (art.published - day).days <= 1, (entry.date, s.text, art.published)
