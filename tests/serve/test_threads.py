"""Threads over HTTP (JSON API, pages, Atom feed) on a store tracked from examples/."""

from __future__ import annotations

import feedparser

from tests.serve.test_pages import elements


def _top(client, **params):
    rows = client.get("/api/threads", params={"sort": "articles", "limit": 200, **params}).json()["items"]
    return rows, next(r for r in rows if r["stories"] > 1)


def test_openapi_declares_the_thread_endpoints_with_their_models(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/threads", "/api/threads/{thread_id}", "/feeds/threads/{thread_id}.atom"):
        assert "get" in paths[path], path
    listing = paths["/api/threads"]["get"]
    assert {"since", "until", "entity", "source", "language", "q", "limit", "offset", "sort"} <= {p["name"] for p in listing["parameters"]}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ThreadPage")
    one = paths["/api/threads/{thread_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert one["$ref"].endswith("/ThreadOut")
    assert {"places", "actors", "stories", "story_ids"} <= set(schema["components"]["schemas"]["ThreadRow"]["properties"])


def test_thread_listing_pages_filters_and_one_thread(client):
    rows, top = _top(client)
    assert len(rows) > 5 and [r["articles"] for r in rows] == sorted((r["articles"] for r in rows), reverse=True)
    page = client.get("/api/threads", params={"sort": "articles", "limit": 2, "offset": 2}).json()
    assert page["total"] == len(rows) and [r["id"] for r in page["items"]] == [r["id"] for r in rows[2:4]]
    haiti = client.get("/api/threads", params={"entity": "haiti"}).json()
    assert 0 < haiti["total"] < len(rows)
    assert client.get("/api/threads", params={"language": "xx"}).json()["total"] == 0
    assert client.get("/api/threads", params={"sort": "random"}).status_code == 422
    assert client.get("/api/threads", params={"since": "not-a-date"}).status_code == 422
    data = client.get(f"/api/threads/{top['id']}").json()
    assert data["row"] == top and [s["id"] for s in data["stories"]] == top["story_ids"]
    assert data["timeline"] and data["summary"] and data["actors"] and data["sources"]["first_reports"] and data["languages"]
    story = client.get(f"/api/stories/{top['story_ids'][0]}").json()
    assert story["row"]["thread"] == {"id": top["id"], "title": top["display_title"]}


def test_a_missing_thread_is_a_404_shaped_like_a_missing_story(client):
    thread, story = client.get("/api/threads/th-nope"), client.get("/api/stories/st-nope")
    assert thread.status_code == story.status_code == 404
    assert set(thread.json()) == set(story.json()) and "storyline threads" in thread.json()["detail"]
    assert client.get("/threads/th-nope").status_code == 404
    assert client.get("/feeds/threads/th-nope.atom").status_code == 404


def test_thread_page_shows_stories_over_time_timeline_actors_sources_languages(client):
    _, top = _top(client)
    page = client.get(f"/threads/{top['id']}").text
    for section in ('id="stories"', 'id="timeline"', 'id="summary"', 'id="actors"', 'id="sources"', 'id="languages"', "<svg"):
        assert section in page, section
    tags = elements(page)
    assert sum(t == "h1" for t, _ in tags) == 1 and any(t == "main" for t, _ in tags)
    stories = [a["href"] for t, a in tags if t == "a" and "story-link" in (a.get("class") or "")]
    assert stories == [f"/stories/{s}" for s in top["story_ids"]]
    for path in stories:
        assert client.get(path).status_code == 200
    cites = [a["href"] for t, a in tags if t == "a" and "cite" in (a.get("class") or "")]
    assert cites
    target, _, fragment = cites[0].partition("#")
    assert f'id="{fragment}"' in client.get(target).text
    for tag, attrs in tags:  # nothing from elsewhere
        value = attrs.get("href" if tag == "link" else "src")
        assert value is None or value.startswith("/"), (tag, value)
    assert f'href="/feeds/threads/{top["id"]}.atom"' in page


def test_story_and_article_pages_link_their_thread_and_the_front_page_lists_threads(client):
    _, top = _top(client)
    story_page = client.get(f"/stories/{top['story_ids'][-1]}").text
    assert f'href="/threads/{top["id"]}"' in story_page
    article = client.get(f"/api/stories/{top['story_ids'][0]}").json()["articles"][0]["id"]
    assert f'href="/threads/{top["id"]}"' in client.get(f"/articles/{article}").text
    front = client.get("/").text
    assert 'id="front-threads"' in front and 'href="/threads"' in front
    listed = [a["href"] for t, a in elements(front) if t == "a" and "thread-link" in (a.get("class") or "")]
    assert listed and all(client.get(h).status_code == 200 for h in listed[:2])
    listing = client.get("/threads").text
    every = [a["href"] for t, a in elements(listing) if t == "a" and "thread-link" in (a.get("class") or "")]
    assert f"/threads/{top['id']}" in every and sum(t == "h1" for t, _ in elements(listing)) == 1
    narrowed = client.get("/threads", params={"entity": "haiti"}).text
    assert 0 < narrowed.count('class="thread-link"') < len(every)


def test_thread_atom_feed_is_valid_and_covers_its_stories(client):
    _, top = _top(client)
    response = client.get(f"/feeds/threads/{top['id']}.atom")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.text)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == f"Storyline thread: {top['display_title']}"
    assert feed.entries and all(e.summary for e in feed.entries)
    linked = {e.link.removeprefix("http://testserver/stories/") for e in feed.entries}
    assert linked == set(top["story_ids"])


def test_a_merged_thread_id_redirects_in_the_api_pages_and_feed(examples_db_copy):
    from fastapi.testclient import TestClient

    from storyline.serve import create_app
    from storyline.store import Store

    with Store(examples_db_copy) as store:
        rows = sorted(store.threads(), key=lambda t: t.id)
        keep, gone = rows[0], rows[1]
        gone.merged_into = keep.id
        store.save_threads([gone])
    with TestClient(create_app(examples_db_copy, token="", writer=False)) as client:
        data = client.get(f"/api/threads/{gone.id}").json()
        assert data["id"] == keep.id and data["redirected_from"] == gone.id
        assert set(gone.story_ids) <= {s["id"] for s in data["stories"]}
        assert f"merged from {gone.id}" in client.get(f"/threads/{gone.id}").text
        feed = feedparser.parse(client.get(f"/feeds/threads/{gone.id}.atom").text)
        assert feed.feed.id == f"urn:storyline:thread:{keep.id}"
        assert gone.id not in {r["id"] for r in client.get("/api/threads", params={"limit": 200}).json()["items"]}


def test_a_store_without_threads_still_serves_every_page(examples_db_copy):
    """Stories placed before threads existed (or imported without them) have none: nothing breaks."""
    import sqlite3

    from fastapi.testclient import TestClient

    from storyline.serve import create_app

    with sqlite3.connect(examples_db_copy) as db:
        db.execute("UPDATE stories SET thread_id = NULL")
    with TestClient(create_app(examples_db_copy, token="", writer=False)) as client:
        assert client.get("/api/threads").json()["total"] == 0
        story = client.get("/api/stories", params={"limit": 1}).json()["items"][0]
        assert story["thread"] is None
        for path in ("/", "/threads", f"/stories/{story['id']}"):
            response = client.get(path)
            assert response.status_code == 200 and "/threads/th-" not in response.text, path
