"""``similar`` compares a bounded pool: the stored articles nearest in date, and says what it searched (issue 22)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from storyline.queries import Queries
from storyline.store import ENRICHED, Store

from tests.conftest import make_article

DIM = 16


@pytest.fixture
def store(tmp_path):
    """60 articles, one a day from 2020-01-01, random unit vectors; #59 is the query's near twin but 59 days away;
    one undated article."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(60, DIM)).astype(np.float32)
    vectors[59] = vectors[0] + 0.01 * vectors[59]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    articles = []
    for i in range(60):
        a = make_article(f"Article number {i} about the harbour.", id=f"a{i:02d}",
                         published=dt.date(2020, 1, 1) + dt.timedelta(days=i))
        a.embedding = vectors[i]
        articles.append(a)
    undated = make_article("An undated article about the harbour.", id="u", published=None)
    undated.embedding = vectors[0]
    with Store(tmp_path / "s.db") as s:
        s.add_articles(articles + [undated], stage=ENRICHED)
        yield s, vectors


def _exact(vectors, query: int, candidates: list[int], k: int) -> list[str]:
    scores = vectors[candidates] @ vectors[query]
    return [f"a{candidates[i]:02d}" for i in sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i]))[:k]]


def test_a_small_pool_searches_the_articles_nearest_in_date_and_says_so(store):
    s, vectors = store
    found = Queries(s).similar_search("a30", limit=5, window_days=90, pool=10)
    searched = found["searched"]
    assert searched["articles"] == 10 and not searched["whole_window"]
    assert (searched["first_date"], searched["last_date"]) == ("2020-01-26", "2020-02-05")  # 5 days each side
    nearest = [i for i in range(25, 36) if i != 30]
    assert [r["id"] for r in found["items"]] == _exact(vectors, 30, nearest, 5)


def test_the_whole_window_is_searched_when_it_fits(store):
    s, vectors = store
    ask = Queries(s)
    found = ask.similar_search("a00", limit=3, window_days=90, pool=1000)
    assert found["searched"]["whole_window"] and found["searched"]["articles"] == 59  # the dated ones but itself
    assert [r["id"] for r in found["items"]] == _exact(vectors, 0, list(range(1, 60)), 3)
    assert found["items"][0]["id"] == "a59"  # its near twin, 59 days later
    narrow = ask.similar_search("a00", limit=3, window_days=30)
    assert "a59" not in {r["id"] for r in narrow["items"]} and narrow["searched"]["window"] == ["2019-12-02", "2020-01-31"]
    assert ask.similar("a00", limit=3) == found["items"]


def test_articles_enriched_after_a_search_are_found_by_the_next(store):
    s, vectors = store
    ask = Queries(s)
    assert "late" not in {r["id"] for r in ask.similar("a00", limit=60)}
    late = make_article("A late article about the harbour.", id="late", published=dt.date(2020, 1, 2))
    s.add_articles([late])  # stored, not enriched yet
    assert "late" not in {r["id"] for r in ask.similar("a00", limit=60)}
    late.embedding = vectors[0]
    s.update_articles([late], stage=ENRICHED)
    assert ask.similar("a00", limit=1)[0]["id"] == "late"


def test_an_undated_article_searches_the_latest_days(store):
    s, vectors = store
    found = Queries(s).similar_search("u", limit=2, pool=5)
    assert found["searched"]["articles"] == 5 and found["searched"]["window"] is None
    assert found["searched"]["order"].startswith("latest dates")
    assert (found["searched"]["first_date"], found["searched"]["last_date"]) == ("2020-02-25", "2020-02-29")
    assert {r["id"] for r in found["items"]} <= {"a55", "a56", "a57", "a58", "a59"}
