"""The query layer over a store tracked from examples/: listings, filters, pages, story and article answers."""

from __future__ import annotations

import datetime as dt

import pytest

from storyline.queries import Filters, NotFound, Queries
from storyline.store import Store


@pytest.fixture(scope="module")
def ask(examples_db):
    store = Store(examples_db)
    yield Queries(store)
    store.close()


def test_story_membership_matches_the_stores_own_walk(ask):
    """The light index (article → event → story, merges followed) gives what Store.story_articles gives."""
    store = ask.store
    for story in store.stories():
        members = [a.id for a in store.story_articles(story)]
        assert sorted(members) == sorted(a["id"] for a in ask.story_articles(story.id))


def test_stories_pages_and_sorts(ask):
    everything = ask.stories(limit=None)
    assert everything["total"] == len(everything["items"]) > 5
    sizes = [s["articles"] for s in everything["items"]]
    assert sizes == sorted(sizes, reverse=True)
    first, second = ask.stories(limit=3), ask.stories(limit=3, offset=3)
    assert [s["id"] for s in first["items"] + second["items"]] == [s["id"] for s in everything["items"][:6]]
    latest = [s["last_date"] for s in ask.stories(sort="latest", limit=None)["items"]]
    assert latest == sorted(latest, reverse=True)
    with pytest.raises(ValueError):
        ask.stories(sort="nonsense")


def test_story_filters(ask):
    haiti = ask.stories(Filters(entity="haiti"), limit=None)["items"]
    assert haiti and all(any("haiti" in k.casefold() for k in ask.index().stories[s["id"]].entity_counts) for s in haiti)
    recent = ask.stories(Filters(since=dt.date(2015, 1, 1)), limit=None)["items"]
    assert recent and all(s["last_date"] >= "2015-01-01" for s in recent)
    old = ask.stories(Filters(until=dt.date(2005, 12, 31)), limit=None)["items"]
    assert old and all(s["first_date"] <= "2005-12-31" for s in old)
    assert ask.stories(Filters(source="wikinews"), limit=None)["total"] >= ask.stories(limit=None)["total"] - 1
    assert ask.stories(Filters(language="xx"), limit=None)["total"] == 0
    quake = ask.stories(Filters(text="earthquake"), limit=None)["items"]
    hits = {h["story_id"] for h in ask.search("earthquake", limit=None)["items"]}
    assert quake and {s["id"] for s in quake} == hits


def test_story_answer_has_everything_a_page_shows(ask):
    top = ask.stories(limit=1)["items"][0]
    data = ask.story(top["id"])
    assert data["id"] == top["id"] and data["row"] == top
    assert {a["id"] for a in data["articles"]} == {a["id"] for a in ask.story_articles(top["id"])}
    assert data["timeline"] and data["summary"] and data["actors"] and data["events"]
    known = {a["id"] for a in data["articles"]}
    cited = [c["article_id"] for s in data["summary"] for c in s["citations"]]
    assert cited and set(cited) <= known
    assert sum(data["sources"]["per_day"].values()) + data["sources"]["undated"] == len(data["articles"])
    assert ask.story(top["id"][:8])["id"] == top["id"]  # unique prefix
    with pytest.raises(NotFound):
        ask.story("st-nope")


def test_article_answer_marks_new_sentences_and_provenance(ask):
    top = ask.stories(limit=1)["items"][0]
    last = ask.story(top["id"])["articles"][-1]["id"]
    data = ask.article(last)
    assert data["published_provenance"] and data["story"]["id"] == top["id"]
    marked = [s["index"] for s in data["sentence_list"] if s["new"]]
    assert marked and {c["sentence"] for s in data["whats_new"] for c in s["citations"][:1]} == set(marked)
    assert data["whats_new"] == ask.whats_new(last)


def test_articles_search_similar_and_facets(ask):
    page = ask.articles(limit=10, offset=5)
    assert page["total"] == 102 and len(page["items"]) == 10
    dated = ask.articles(Filters(since=dt.date(2010, 1, 1), until=dt.date(2010, 12, 31)), limit=None)["items"]
    assert dated and all("2010-01-01" <= a["published"] <= "2010-12-31" for a in dated)
    hits = ask.search("tsunami", limit=5)["items"]
    assert hits and hits == sorted(hits, key=lambda h: -h["score"])
    similar = ask.similar(hits[0]["id"], limit=3)
    assert len(similar) == 3 and hits[0]["id"] not in {s["id"] for s in similar}
    facets = ask.facets()
    assert facets["articles"] == 102 and facets["languages"] == {"en": 102}


def test_index_follows_new_writes(examples_db_copy):
    """A write by another connection is seen by the next read (the index is rebuilt on a new version)."""
    from storyline.pipeline import Pipeline
    from storyline.model import Document

    reader, writer = Store(examples_db_copy), Store(examples_db_copy)
    ask = Queries(reader)
    before = ask.version()
    Pipeline(writer).ingest_documents([Document(text="A brand new article about the harbour of Valparaiso. " * 3,
                                                origin="test:1", title="Valparaiso harbour")])
    after = ask.version()
    assert after["articles"] == before["articles"] + 1 and after["token"] != before["token"]
    reader.close(), writer.close()


def test_a_server_index_rebuilds_at_most_its_share_of_the_time_and_at_once_after_a_post_or_a_round(examples_db_copy):
    """With ``rebuild_share`` (the server) readers keep the last index until the next rebuild is due, so a
    writer committing many times a second does not keep the web process rebuilding; a POST in this process
    (``invalidate``) and the writer's end of round (``refresh``) make the next read see the store."""
    from storyline.pipeline import Pipeline
    from storyline.model import Document

    reader, writer = Store(examples_db_copy), Store(examples_db_copy)
    ask = Queries(reader, rebuild_share=1e-6)  # the next rebuild is due in days: only invalidate/refresh rebuild
    before = ask.version()["articles"]

    def post(n: int) -> None:
        Pipeline(writer).ingest_documents([Document(text=f"Article {n} about the harbour of Valparaiso, new today. " * 3,
                                                    origin=f"test:{n}", title=f"Valparaiso harbour {n}")])

    post(1)
    assert ask.version()["articles"] == before  # not due: the last index answers
    ask.invalidate()
    assert ask.version()["articles"] == before + 1
    post(2)
    assert ask.version()["articles"] == before + 1
    ask.refresh()
    assert ask.version()["articles"] == before + 2
    assert Queries(reader).version()["articles"] == before + 2  # without a share: every read is current
    with pytest.raises(ValueError, match="rebuild_share"):
        Queries(reader, rebuild_share=0)
    reader.close(), writer.close()


def test_titles_read_like_headlines_in_every_view(ask):
    """An untitled article (the seeds are plain text files) gets its first sentence as title, the same in the
    listing, the article answer and the story answer; a story's title is one of its articles' titles (never
    a list of entities); entity names keep the casing they were written with."""
    import re

    rows = ask.articles(limit=None)["items"]
    untitled = [r for r in rows if r["title_from_text"]]
    assert untitled and all(r["title"] and not re.fullmatch(r"[0-9a-f]{16}", r["title"]) for r in untitled)
    for row in untitled + rows[:3]:
        assert ask.article(row["id"])["title"] == row["title"]
    for story in ask.stories(limit=None)["items"]:
        data = ask.story(story["id"])
        titles = {a["title"] for a in data["articles"]}
        assert story["display_title"] == data["title"] and data["title"] in titles
        for event in data["events"]:
            assert event["label"] in titles
    names = {e for s in ask.stories(limit=None)["items"] for e in s["entities"]}
    assert any(n != n.lower() for n in names)
    assert all(n in ask.index().names.values() or n == n.lower() for n in names)


def test_preparing_every_view_reads_the_light_index_once(examples_db_copy, monkeypatch):
    """Each view stored changes the store's version; a view made after it must not rebuild the index
    (it did once per story: telling 100,000 articles took hours)."""
    from storyline.store import views as stored_views

    store = Store(examples_db_copy)
    with store.transaction():
        store.db.execute("DELETE FROM cluster_views")  # every view due again
    queries = Queries(store)
    rebuilds = []
    original = Queries._rebuild
    monkeypatch.setattr(Queries, "_rebuild", lambda self: rebuilds.append(1) or original(self))
    made = queries.prepare_views()
    stories = len(stored_views.view_versions(store.db, "story"))
    store.close()
    assert made >= stories > 1 and len(rebuilds) == 1
