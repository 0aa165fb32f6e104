"""Threads through the Python API (storyline.open) over a store tracked from examples/."""

from __future__ import annotations

import storyline


def test_threads_and_one_thread(examples_db):
    with storyline.open(examples_db) as sl:
        page = sl.threads(limit=100)
        assert page["total"] == len(page["items"]) > 5
        stories = sl.stories(limit=100)["items"]
        assert {s["thread"]["id"] for s in stories} == {t["id"] for t in page["items"]}
        recent = sl.threads(since="2010-01-01", limit=100)["items"]
        assert recent and all(t["last_date"] >= "2010-01-01" for t in recent) and len(recent) < page["total"]
        assert [t["id"] for t in sl.threads(entity="haiti")["items"]] == [
            t["id"] for t in page["items"] if "Haiti" in t["places"]]
        top = page["items"][0]
        thread = sl.thread(top["id"][:10])
        assert thread["id"] == top["id"] and thread["timeline"] and [s["id"] for s in thread["stories"]] == top["story_ids"]
        assert sl.thread(top["id"], words=40)["summary"]
