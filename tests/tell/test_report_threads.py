"""The report's threads section (HTML, Markdown, JSON) from the query layer over a store tracked from examples/."""

from __future__ import annotations

import html
import json

import pytest

from storyline.queries import Queries
from storyline.store import Store
from storyline.tell.report import render_html, render_json, render_markdown
from tests.tell.test_report import _Collect


@pytest.fixture(scope="module")
def reported(examples_db):
    with Store(examples_db) as store:
        ask = Queries(store)
        stories = ask.report(limit=4, words=40)
        yield stories, ask.thread_reports([s["id"] for s in stories])


def test_html_lists_each_thread_with_its_stories_linked_into_the_report(reported):
    stories, threads = reported
    page = render_html(stories, threads=threads)
    p = _Collect()
    p.feed(page)
    p.close()
    assert {f"thread-{t['id']}" for t in threads} <= p.ids
    story_links = [h for h in p.hrefs if h.startswith("story-")]
    assert set(story_links) == {f"story-{s['id']}" for s in stories}  # every reported story, none elsewhere
    assert all(h in p.ids for h in p.hrefs)
    for t in threads:
        assert all(html.escape(s["display_title"], quote=True) in page for s in t["story_list"])
    assert page.index('id="threads"') < page.index('class="story"')
    assert render_html(stories) == render_html(stories, threads=None) and 'id="threads"' not in render_html(stories)


def test_markdown_and_json_carry_the_threads(reported):
    stories, threads = reported
    text = render_markdown(stories, threads=threads)
    assert text.startswith("# Threads")
    assert text.count("\n## ") >= len(threads)
    data = json.loads(render_json(stories, threads=threads))
    assert [t["id"] for t in data["threads"]] == [t["id"] for t in threads]
    assert {s["id"] for t in data["threads"] for s in t["story_list"]} >= {s["id"] for s in stories}
    assert "threads" not in json.loads(render_json(stories))
