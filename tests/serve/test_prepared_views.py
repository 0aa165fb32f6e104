"""Reads never compute what a write could prepare (issue 22): story views are prepared by the writer."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter

import pytest
from fastapi.testclient import TestClient

import storyline.tell as tell
import storyline.tell.report as report
from storyline.queries import VIEW_DATES, Queries
from storyline.serve import create_app
from storyline.store import Store

from tests.serve.conftest import TOKEN


@pytest.fixture
def computations(monkeypatch) -> Counter:
    """Counts the calls of the functions that tell a story (the real functions still run)."""
    calls: Counter = Counter()

    def counted(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    for module in (tell, report):
        counted(module, "build_timeline")
        counted(module, "summarize")
    counted(tell, "whats_new")
    counted(report, "whats_new_each")
    return calls


def _visit_every_story(client: TestClient) -> int:
    ids = [s["id"] for s in client.get("/api/stories", params={"limit": 200}).json()["items"]]
    for story_id in ids:
        assert client.get(f"/stories/{story_id}").status_code == 200
        story = client.get(f"/api/stories/{story_id}").json()
        assert client.get(f"/feeds/stories/{story_id}.atom").status_code == 200
        for article in story["articles"][:3]:
            assert client.get(f"/articles/{article['id']}").status_code == 200
            assert client.get(f"/api/articles/{article['id']}").json()["story_id"] == story["id"]
    return len(ids)


def test_a_page_view_computes_no_timeline_summary_or_whats_new(examples_db, computations):
    with TestClient(create_app(examples_db, token="", writer=False)) as client:
        assert _visit_every_story(client) > 3
    assert not computations


def test_without_prepared_views_the_same_visits_compute_and_the_answers_are_the_same(examples_db, tmp_path, computations):
    """The control: the counter does count, and a prepared view answers exactly what computing gives."""
    copy = tmp_path / "bare.db"
    shutil.copyfile(examples_db, copy)
    with Store(copy) as store:
        store.db.execute("DELETE FROM cluster_views")
    with Store(examples_db) as prepared_store, Store(copy) as bare_store:
        prepared, bare = Queries(prepared_store), Queries(bare_store)
        ids = [s["id"] for s in prepared.stories(limit=None)["items"]]
        for story_id in ids:
            for dates in VIEW_DATES:  # what the pages and the API ask for by default
                before = sum(computations.values())
                read = json.dumps(prepared.story(story_id, dates=dates), sort_keys=True)
                assert sum(computations.values()) == before
                assert read == json.dumps(bare.story(story_id, dates=dates), sort_keys=True)
            before = sum(computations.values())
            read_timeline, read_summary = prepared.timeline(story_id), prepared.summary(story_id)
            assert sum(computations.values()) == before
            assert read_timeline == bare.timeline(story_id) and read_summary == bare.summary(story_id)
            assert bare.timeline(story_id, dates=10) == prepared.timeline(story_id, dates=10)  # computed on read
    assert computations["build_timeline"] and computations["summarize"]


def test_posted_articles_are_enriched_in_another_process_and_their_story_view_prepared(examples_db_copy, computations):
    app = create_app(examples_db_copy, token=TOKEN)
    with TestClient(app) as client:
        writer = app.state.writer
        assert writer.worker_pid and writer.worker_pid != os.getpid()
        text = ("Rescue teams reached the coastal town of Pichilemu on Sunday after the magnitude 8.8 earthquake, "
                "officials in Santiago said, as aftershocks continued across central Chile.")
        answer = client.post("/api/articles", json={"articles": [{"text": text, "published": "2010-02-28"}]},
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 202, answer.text
        assert client.get("/api/stories").status_code == 200  # reads answer while the worker enriches
        assert writer.wait_idle(300), writer.last_error
        article = client.get(f"/api/articles/{answer.json()['results'][0]['id']}").json()
        assert article["story_id"] and article["entities"]
        assert _visit_every_story(client)
    assert not computations  # neither the web process's reads nor its writes told a story
    with Store(examples_db_copy) as store:
        ask = Queries(store)
        index = ask.index()
        entry = index.stories[article["story_id"]]
        version = store.db.execute("SELECT version FROM cluster_views WHERE kind = 'story' AND id = ?",
                                   (entry.id,)).fetchone()[0]
        assert version == ask.view_version(index, entry.article_ids)


def test_a_post_opening_with_a_long_run_of_symbols_blocks_nothing(examples_db_copy):
    """20 KB of "!" (44.7 s of NER in the web process before) and 20,000 emoji: reads answer at once, the
    worker enriches and places both, and the next article is placed after them."""
    app = create_app(examples_db_copy, token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    story = "Officials in Haiti said the river flooded the lower town of Jacmel on Monday."
    with TestClient(app) as client:
        body = {"articles": [{"text": "!" * 20_000 + " " + story, "published": "2010-01-20"},
                             {"text": "😀" * 20_000 + " " + story + " Rescuers arrived.", "published": "2010-01-20"}]}
        answer = client.post("/api/articles", json=body, headers=auth)
        assert answer.status_code == 202, answer.text
        for _ in range(5):
            assert client.get("/").status_code == 200 and client.get("/api/stories").status_code == 200
        after = client.post("/api/articles", json={"articles": [{"text": story + " Aid arrived.", "published": "2010-01-21"}]},
                            headers=auth)
        assert app.state.writer.wait_idle(300), app.state.writer.last_error
        ids = [r["id"] for r in answer.json()["results"] + after.json()["results"]]
        placed = [client.get(f"/api/articles/{i}").json() for i in ids]
        assert all(a["story_id"] for a in placed), [a["problems"] for a in placed]
        assert {"Haiti", "Jacmel"} <= {e["canonical"] for e in placed[0]["entities"]}


def test_a_worker_that_dies_is_started_again_and_nothing_is_lost(examples_db_copy):
    import signal
    import time

    app = create_app(examples_db_copy, token=TOKEN)
    with TestClient(app) as client:
        writer = app.state.writer
        assert writer.wait_idle(300)
        first = writer.worker_pid
        os.kill(first, signal.SIGKILL)
        for _ in range(600):  # bounded: the supervisor notices within a second
            if writer.restarts:
                break
            time.sleep(0.1)
        assert writer.restarts == 1 and writer.worker_pid != first and "ended" in writer.last_error
        answer = client.post("/api/articles", json={"articles": [{"text": "Ferry services to the island of Gozo "
                             "resumed on Tuesday after the storm, the operator said.", "published": "2020-02-04"}]},
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert writer.wait_idle(300), writer.last_error
        assert client.get(f"/api/articles/{answer.json()['results'][0]['id']}").json()["story_id"]
