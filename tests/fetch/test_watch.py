"""Feed watching against a local feed server (--allow-private): new items arrive, unchanged feeds cost a 304,
a broken feed is reported and retried later while the others go on; the CLI commands end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from storyline.cli import app
from storyline.fetch import SafeFetcher
from storyline.fetch.watch import Watcher, parse_every, read_feed_list
from storyline.queries import Queries
from storyline.serve.writer import Writer
from storyline.store import Store

runner = CliRunner()


def test_poll_new_items_then_not_modified_then_one_more(site, tmp_path):
    db = tmp_path / "w.db"
    writer = Writer(db)
    feeds = [f"{site.base}/feed.xml", f"{site.base}/down.xml", f"{site.base}/malformed.xml"]
    watcher = Watcher(feeds, every=600, fetcher=SafeFetcher(allow_private=True))
    watcher.attach(writer.get_state, writer.set_state)
    try:
        first = {r.url: r for r in watcher.poll_due(writer.submit)}
        good = first[feeds[0]]
        assert good.error is None and good.new == 2 and good.pages == 2
        assert [a["status"] for a in good.answers] == ["new", "new"]
        assert "503" in first[feeds[1]].error and "malformed" in first[feeds[2]].error
        assert watcher.states[feeds[1]].failures == 1
        assert watcher.states[feeds[1]].next_poll > watcher.states[feeds[0]].next_poll  # backoff: later than the rest

        hits = dict(site.hits)
        again = watcher.poll(feeds[0], writer.submit)
        assert again.not_modified and again.pages == 0 and again.answers == []
        assert site.hits["/feed.xml"] == hits["/feed.xml"] + 1
        assert {k: v for k, v in site.hits.items() if k != "/feed.xml"} == {k: v for k, v in hits.items() if k != "/feed.xml"}

        site.items = 3  # the feed gains an item (and a new ETag)
        third = watcher.poll(feeds[0], writer.submit)
        assert third.new == 1 and third.pages == 1 and third.answers[0]["status"] == "new"
        assert site.hits["/pages/0.html"] == 1  # seen items are never fetched again
        assert writer.wait_idle(300)
    finally:
        writer.close()
    with Store(db) as store:
        ask = Queries(store)
        rows = ask.articles(limit=None)["items"]
        assert len(rows) == 3 and all(r["story_id"] for r in rows) and {r["source"] for r in rows} == {"Rhine Courier"}
        assert all(r["date_provenance"] in ("html", "metadata") for r in rows)
        state = json.loads(store.get_state(f"feed:{feeds[0]}"))
        assert state["etag"] == '"v3"' and len(state["seen"]) == 3


def test_state_survives_a_restart(site, tmp_path):
    """ETag, seen items and the schedule are remembered in the store: a restarted watcher does not refetch."""
    db, feed = tmp_path / "w.db", f"{site.base}/feed.xml"
    results = []
    for _ in range(2):
        writer = Writer(db)
        watcher = Watcher([feed], every=600, fetcher=SafeFetcher(allow_private=True))
        watcher.attach(writer.get_state, writer.set_state)
        results.append(watcher.poll_due(writer.submit))
        if not results[-1]:  # not due yet after the restart; asked now, it is a conditional GET
            results[-1] = [watcher.poll(feed, writer.submit)]
        writer.close()
    assert results[0][0].new == 2 and results[1][0].not_modified
    assert site.hits["/feed.xml"] == 2 and site.hits["/pages/0.html"] == 1


def test_watch_and_ingest_url_commands(site, tmp_path):
    db = str(tmp_path / "c.db")
    refused = runner.invoke(app, ["ingest", f"{site.base}/pages/0.html", "--db", db, "--json"])
    assert refused.exit_code == 1 and "loopback" in refused.output
    fetched = runner.invoke(app, ["ingest", f"{site.base}/pages/0.html", "--db", db, "--allow-private", "--json"])
    assert fetched.exit_code == 0 and json.loads(fetched.stdout.splitlines()[0])["new"] == 1
    opml = tmp_path / "feeds.opml"
    opml.write_text(f'<opml version="2.0"><body><outline text="Rhine" xmlUrl="{site.base}/feed.xml"/>'
                    f'<outline text="Down" xmlUrl="{site.base}/down.xml"/></body></opml>')
    watched = runner.invoke(app, ["watch", str(opml), "--once", "--allow-private", "--db", db])
    assert watched.exit_code == 0, watched.output
    assert "feed failed" in watched.output and "503" in watched.output
    assert "2 unseen" in watched.output and "1 new, 1 duplicate" in watched.output  # page 0 was already ingested
    rows = [json.loads(line) for line in runner.invoke(app, ["articles", "--db", db, "--json"]).stdout.splitlines()]
    assert len(rows) == 2
    bad = runner.invoke(app, ["watch", "http://169.254.169.254/feed", "--once", "--db", db])
    assert bad.exit_code == 1 and "link-local" in bad.output


def test_feed_list_and_every():
    assert parse_every("10m") == 600 and parse_every("30s") == 30 and parse_every("2h") == 7200
    with pytest.raises(ValueError):
        parse_every("soon")
    with pytest.raises(ValueError):
        read_feed_list(["/no/such/file.opml"])


def test_serve_with_watch_feeds_the_same_writer(site, tmp_path):
    """``storyline serve --watch``: the app starts the watcher, whose items reach the API once placed."""
    import time

    from fastapi.testclient import TestClient

    from storyline.serve import create_app

    watcher = Watcher([f"{site.base}/feed.xml"], every=600, fetcher=SafeFetcher(allow_private=True))
    app = create_app(tmp_path / "s.db", watcher=watcher)
    with TestClient(app) as client:
        deadline = time.monotonic() + 300
        rows: list = []
        while time.monotonic() < deadline and not (len(rows) == 2 and all(r["story_id"] for r in rows)):
            time.sleep(0.5)
            rows = client.get("/api/articles").json()["items"]
        assert len(rows) == 2 and all(r["story_id"] for r in rows)
        assert site.hits["/feed.xml"] == 1
