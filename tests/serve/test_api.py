"""The HTTP API through FastAPI's TestClient over a store tracked from examples/."""

from __future__ import annotations

import json

from tests.serve.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_openapi_lists_every_read_and_the_write(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/stories", "/api/stories/{story_id}", "/api/events/{event_id}", "/api/articles",
                 "/api/articles/{article_id}", "/api/articles/{article_id}/similar", "/api/search", "/api/facets"):
        assert "get" in paths[path], path
    assert "post" in paths["/api/articles"]
    params = {p["name"] for p in paths["/api/stories"]["get"]["parameters"]}
    assert {"since", "until", "entity", "source", "language", "q", "limit", "offset", "sort"} <= params


def test_story_listing_pages_and_filters(client):
    everything = client.get("/api/stories", params={"sort": "articles", "limit": 200}).json()
    assert everything["total"] == len(everything["items"]) > 5
    page = client.get("/api/stories", params={"sort": "articles", "limit": 4, "offset": 4}).json()
    assert [s["id"] for s in page["items"]] == [s["id"] for s in everything["items"][4:8]]
    ranged = client.get("/api/stories", params={"since": "2010-01-01", "until": "2010-12-31", "limit": 200}).json()
    assert ranged["items"] and all(s["last_date"] >= "2010-01-01" and s["first_date"] <= "2010-12-31" for s in ranged["items"])
    assert client.get("/api/stories", params={"entity": "haiti"}).json()["total"] >= 1
    assert client.get("/api/stories", params={"language": "en", "limit": 200}).json()["total"] == everything["total"]
    assert client.get("/api/stories", params={"source": "No Such Outlet"}).json()["total"] == 0
    text = client.get("/api/stories", params={"q": "tsunami", "limit": 200}).json()
    assert 0 < text["total"] < everything["total"]
    assert client.get("/api/stories", params={"limit": 201}).status_code == 422
    assert client.get("/api/stories", params={"since": "not-a-date"}).status_code == 422
    assert client.get("/api/stories", params={"sort": "random"}).status_code == 422


def test_story_article_event_search(client):
    top = client.get("/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    story = client.get(f"/api/stories/{top['id']}").json()
    assert story["timeline"] and story["summary"] and story["actors"] and story["sources"]["first_reports"]
    event = client.get(f"/api/events/{story['events'][0]['id']}").json()
    assert event["story_id"] == top["id"] and event["article_list"]
    article = client.get(f"/api/articles/{story['articles'][-1]['id']}").json()
    assert article["story_id"] == top["id"] and article["published_provenance"] and "whats_new" in article
    assert client.get(f"/api/articles/{article['id']}/similar", params={"limit": 3}).status_code == 200
    hits = client.get("/api/search", params={"q": "earthquake", "limit": 5}).json()
    assert hits["items"] and hits["total"] >= len(hits["items"])
    filtered = client.get("/api/search", params={"q": "earthquake", "since": "2010-03-01", "until": "2010-03-31"}).json()
    assert filtered["items"] and all("2010-03-01" <= h["published"] <= "2010-03-31" for h in filtered["items"])
    assert client.get("/api/articles", params={"limit": 5}).json()["total"] == 102
    assert client.get("/api/stories/st-nope").status_code == 404
    assert client.get("/api/articles/nope").status_code == 404
    assert client.get("/api/facets").json()["articles"] == 102


def test_write_endpoint_is_off_without_a_token(client):
    response = client.post("/api/articles", json={"articles": [{"text": "Some text about a harbour. " * 5}]})
    assert response.status_code == 403 and "STORYLINE_TOKEN" in response.json()["detail"]


def test_write_endpoint_refuses_missing_or_wrong_token(write_client):
    body = {"articles": [{"text": "Some text about a harbour. " * 5}]}
    assert write_client.post("/api/articles", json=body).status_code == 401
    assert write_client.post("/api/articles", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert write_client.post("/api/articles", json=body, headers={"Authorization": TOKEN}).status_code == 401
    assert write_client.get("/api/articles", params={"limit": 0}).json()["total"] == 102  # nothing was stored


def test_submit_answers_each_item_then_places_in_the_background(write_client):
    text = ("Rescue teams reached the coastal town of Pichilemu on Sunday after the magnitude 8.8 earthquake, "
            "officials in Santiago said, as aftershocks continued across central Chile.")
    known = write_client.get("/api/articles", params={"limit": 1}).json()["items"][0]
    body = {"articles": [{"text": text, "title": "Rescuers reach Pichilemu", "published": "2010-02-28",
                          "source": "Test Wire", "url": "https://example.org/pichilemu"},
                         {"text": text, "title": "Rescuers reach Pichilemu (again)"},
                         {"text": "   "}]}
    response = write_client.post("/articles", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["new", "duplicate", "rejected"]
    assert results[1]["id"] == results[0]["id"] and results[2]["reason"]
    assert response.json()["queued"] == 1
    assert write_client.app_state.writer.wait_idle(300)
    placed = write_client.get(f"/api/articles/{results[0]['id']}").json()
    assert placed["story_id"] and placed["event_id"]
    story = write_client.get(f"/api/stories/{placed['story_id']}").json()
    assert results[0]["id"] in {a["id"] for a in story["articles"]}
    assert known["id"] != results[0]["id"]


def test_body_and_item_limits(write_client):
    many = {"articles": [{"text": f"article {i} " * 10} for i in range(101)]}
    assert write_client.post("/api/articles", json=many, headers=AUTH).status_code == 422
    huge = json.dumps({"articles": [{"text": "x" * (6 * 1024 * 1024)}]})
    response = write_client.post("/api/articles", content=huge, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == 413
    assert write_client.post("/api/articles", json={"articles": [{"text": "a", "extra": 1}]}, headers=AUTH).status_code == 422


def test_reads_go_on_while_a_writer_holds_the_store(write_client, examples_db_copy):
    """A write transaction open on another connection (as the background writer's are) blocks no read."""
    import sqlite3

    other = sqlite3.connect(examples_db_copy, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE articles SET title = 'being rewritten' WHERE rowid = 1")
    try:
        assert write_client.get("/api/stories").status_code == 200
        assert write_client.get("/").status_code == 200
        titles = [a["title"] for a in write_client.get("/api/articles", params={"limit": 1}).json()["items"]]
        assert titles != ["being rewritten"]  # the reader sees the last committed state
    finally:
        other.execute("ROLLBACK")
        other.close()
