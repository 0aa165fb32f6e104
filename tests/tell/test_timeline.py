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
