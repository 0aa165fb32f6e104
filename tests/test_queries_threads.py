"""Threads through the query layer, over a store tracked from examples/: listing, filters, one thread, merges."""

from __future__ import annotations

import datetime as dt

import pytest

from storyline.model import follow_redirects
from storyline.queries import Filters, NotFound, Queries, readable_anchors
from storyline.store import Store
from tests.test_queries import ask  # noqa: F401  (the module's query layer over the examples store)


def test_thread_membership_is_read_through_each_story(ask):
    """Each thread holds exactly the stories whose thread id leads to it, and their articles."""
    store = ask.store
    redirects = store.redirects()
    expected: dict[str, set[str]] = {}
    for story in store.stories():
        if story.thread_id and store.story_articles(story):
            expected.setdefault(follow_redirects(redirects, story.thread_id), set()).add(story.id)
    rows = ask.threads(limit=None)["items"]
    assert rows and {r["id"]: set(r["story_ids"]) for r in rows} == expected
    stories = ask.stories(limit=None)["items"]
    assert sum(r["stories"] for r in rows) == len(stories)
    assert sum(r["articles"] for r in rows) == sum(s["articles"] for s in stories)
    assert len(rows) < len(stories)  # some thread joins several stories
    for s in stories:
        assert s["thread"]["id"] in expected and s["id"] in expected[s["thread"]["id"]]


def test_thread_rows_are_readable_and_sorted(ask):
    rows = ask.threads(limit=None)["items"]
    sizes = [r["articles"] for r in rows]
    assert sizes == sorted(sizes, reverse=True)
    latest = [r["last_date"] for r in ask.threads(sort="latest", limit=None)["items"]]
    assert latest == sorted(latest, reverse=True)
    for r in rows:
        assert r["display_title"] and r["first_date"] <= r["last_date"] and r["sources"] and r["languages"] == ["en"]
        assert not any(p.startswith("geo:") for p in r["places"]) and not any(a.startswith("@") for a in r["actors"])
        assert not {p.casefold() for p in r["places"]} & {a.casefold() for a in r["actors"]}
    haiti = next(r for r in rows if "Haiti" in r["places"])
    assert "Port-au-Prince" in haiti["places"]
    first, second = ask.threads(limit=2), ask.threads(limit=2, offset=2)
    assert [r["id"] for r in first["items"] + second["items"]] == [r["id"] for r in rows[:4]]
    with pytest.raises(ValueError):
        ask.threads(sort="nonsense")


def test_readable_anchors_name_places_once():
    anchors = {"geo:IQ": 1.0, "@iraq": 1.2, "geo:US": 0.5, "@charles graner": 0.9, "@bbc": 0.2}
    places, actors = readable_anchors(anchors, names={"charles graner": "Charles Graner", "bbc": "BBC"})
    assert places == ["Iraq", "United States"] and actors == ["Charles Graner", "BBC"]  # names keep their casing


def test_thread_filters(ask):
    everything = ask.threads(limit=None)["total"]
    haiti = ask.threads(Filters(entity="haiti"), limit=None)["items"]
    assert haiti and len(haiti) < everything
    recent = ask.threads(Filters(since=dt.date(2015, 1, 1)), limit=None)["items"]
    assert recent and all(r["last_date"] >= "2015-01-01" for r in recent)
    old = ask.threads(Filters(until=dt.date(2005, 12, 31)), limit=None)["items"]
    assert old and all(r["first_date"] <= "2005-12-31" for r in old)
    assert ask.threads(Filters(language="xx"), limit=None)["total"] == 0
    quake = {r["id"] for r in ask.threads(Filters(text="earthquake"), limit=None)["items"]}
    assert quake == {s["thread"]["id"] for s in ask.stories(Filters(text="earthquake"), limit=None)["items"]}


def test_one_thread_tells_its_stories_over_time(ask):
    top = next(r for r in ask.threads(limit=None)["items"] if r["stories"] > 1)
    data = ask.thread(top["id"])
    assert data["id"] == top["id"] and data["row"] == top and data["redirected_from"] is None
    starts = [s["first_date"] for s in data["stories"]]
    assert [s["id"] for s in data["stories"]] == top["story_ids"] and starts == sorted(starts)
    members = {a["id"] for s in top["story_ids"] for a in ask.story_articles(s)}
    assert {a["id"] for a in data["articles"]} == members
    assert data["timeline"] and data["summary"] and data["actors"] and data["sources"]["first_reports"]
    cited = {c["article_id"] for e in data["timeline"] for x in e["sentences"] for c in x["citations"]}
    assert cited <= members
    days = [e["date"] for e in data["timeline"]]
    assert days == sorted(days)  # dates the articles name may come before the thread's first article
    assert data["languages"] == {"en": len(members)}
    assert ask.thread(top["id"][:8])["id"] == top["id"]  # a unique prefix is enough
    with pytest.raises(NotFound):
        ask.thread("th-nope")


def test_a_one_story_thread_has_the_story_timeline(ask):
    """The thread timeline is the story timeline's code with its defaults: on one story they agree."""
    single = next(r for r in ask.threads(limit=None)["items"] if r["stories"] == 1 and r["articles"] >= 5)
    assert ask.thread(single["id"])["timeline"] == ask.story(single["story_ids"][0])["timeline"]


def test_a_merged_thread_answers_with_the_thread_it_became(examples_db_copy):
    """Merge one thread into another in the store (stories still naming the old id): every answer follows."""
    with Store(examples_db_copy) as store:
        ask = Queries(store)
        rows = ask.threads(limit=None)["items"]
        keep, gone = rows[0], rows[1]
        old = store.get_thread(gone["id"])
        old.merged_into = keep["id"]
        store.save_threads([old])
        assert ask.thread(gone["id"])["id"] == keep["id"]
        assert ask.thread(gone["id"])["redirected_from"] == gone["id"]
        merged = ask.thread_row(keep["id"])
        assert set(merged["story_ids"]) == set(keep["story_ids"]) | set(gone["story_ids"])
        assert ask.threads(limit=None)["total"] == len(rows) - 1
        assert all(ask.story_row(s)["thread"]["id"] == keep["id"] for s in gone["story_ids"])
        article = ask.story_articles(gone["story_ids"][0])[0]
        assert ask.article(article["id"])["thread_id"] == keep["id"]


def test_report_lists_the_threads_of_the_reported_stories(ask):
    stories = [s["id"] for s in ask.stories(limit=3)["items"]]
    threads = ask.thread_reports(stories)
    assert {t["id"] for t in threads} == {ask.story_row(s)["thread"]["id"] for s in stories}
    for t in threads:
        assert [s["id"] for s in t["story_list"]] == t["story_ids"]
