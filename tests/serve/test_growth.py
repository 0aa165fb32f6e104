"""Growth by arrival: "new" and "fastest growing" count articles by when they arrived, not by bulk import.

The examples store is one bulk import (one ``track``). Moved two days into the past, it is "yesterday's
import"; a follow-up POSTed now to one of its stories must put that story first, alone, with +1 new.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from fastapi.testclient import TestClient

from storyline.serve import create_app
from storyline.serve.web import SEEN_COOKIE
from tests.serve.conftest import TOKEN
from tests.serve.test_pages import elements

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _age(db, days: float) -> None:
    """Move every arrival ``days`` into the past (as if the import had run then)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT rowid, ingested_at FROM articles").fetchall()
        conn.executemany("UPDATE articles SET ingested_at = ? WHERE rowid = ?", [
            ((dt.datetime.fromisoformat(at) - dt.timedelta(days=days)).isoformat(), rowid) for rowid, at in rows])


def _growing_cards(html: str) -> list[str]:
    side = html.split('class="side"', 1)[1].split("<h2>Sources</h2>", 1)[0]
    return [a["href"] for t, a in elements(side) if t == "a" and a.get("class") == "story-link"]


def test_a_bulk_import_is_not_growth(client):
    listing = client.get("/api/stories", params={"sort": "growing", "limit": 200}).json()
    assert listing["total"] > 10 and all(s["growth"] == 0 for s in listing["items"])
    front = client.get("/").text
    assert 'class="growth"' not in front
    assert _growing_cards(front) == [] and "No story grew in the last day" in front


@pytest.fixture
def aged_client(examples_db_copy):
    _age(examples_db_copy, 2)
    app = create_app(examples_db_copy, token=TOKEN)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c


def _follow_up(client) -> tuple[str, dict]:
    """A follow-up to the latest story (its last article's opening plus a new sentence)."""
    story = client.get("/api/stories", params={"sort": "latest", "limit": 1}).json()["items"][0]
    last_id = client.get(f"/api/stories/{story['id']}").json()["articles"][-1]["id"]
    last = client.get(f"/api/articles/{last_id}").json()
    opening = " ".join(s["text"] for s in last["sentence_list"][: max(2, len(last["sentence_list"]) // 2)])
    return story["id"], {"title": "Follow-up: talks to resume", "source": "Growth Test Wire", "published": "2020-01-17",
                         "text": opening + " Officials said on Friday that the talks would resume in Doha next week."}


def test_a_story_that_gets_a_new_article_ranks_first_in_fastest_growing(aged_client):
    c = aged_client
    assert all(s["growth"] == 0 for s in c.get("/api/stories", params={"sort": "growing", "limit": 200}).json()["items"])
    story_id, follow_up = _follow_up(c)
    fresh = {"title": "Glacier lake bursts in the Andes", "source": "Growth Test Wire", "published": "2020-02-03",
             "text": ("A glacier lake burst above the village of Huaraz on Monday, sending a flood of mud down the valley. "
                      "Engineers from Lima inspected the dam of the second lake on Tuesday.")}
    answer = c.post("/api/articles", json={"articles": [follow_up, fresh]}, headers=AUTH).json()
    assert [r["status"] for r in answer["results"]] == ["new", "new"]
    assert c.app_state.writer.wait_idle(300)
    placed = c.get(f"/api/articles/{answer['results'][0]['id']}").json()
    assert placed["story_id"] == story_id, "the follow-up opened another story"
    opened = c.get(f"/api/articles/{answer['results'][1]['id']}").json()["story_id"]
    assert opened and opened != story_id

    growing = c.get("/api/stories", params={"sort": "growing", "limit": 200}).json()
    assert growing["items"][0]["id"] == story_id and growing["items"][0]["growth"] == 1
    others = {s["id"]: s["growth"] for s in growing["items"][1:]}
    assert set(others.values()) == {0} and opened in others  # a story a delivery opens did not "grow"

    front = c.get("/")
    assert _growing_cards(front.text) == [f"/stories/{story_id}"] and "+1 new" in front.text
    seen = front.cookies.get(SEEN_COOKIE)
    assert seen and seen >= placed["ingested_at"]

    # the reader's last visit is the reference: nothing arrived since it, so nothing grew since it
    since_visit = c.get("/api/stories", params={"sort": "growing", "new_since": seen}).json()
    assert all(s["growth"] == 0 for s in since_visit["items"])
    before = c.get("/api/stories", params={"sort": "growing", "new_since": "2000-01-01T00:00:00"}).json()
    assert before["items"][0]["id"] == story_id and before["items"][0]["growth"] == 1

    # a reader whose last visit was before the follow-up is told it is new since then
    c.cookies.set(SEEN_COOKIE, (dt.datetime.fromisoformat(placed["ingested_at"]) - dt.timedelta(hours=1)).isoformat())
    again = c.get("/").text
    assert "since your last visit" in again and _growing_cards(again) == [f"/stories/{story_id}"]
