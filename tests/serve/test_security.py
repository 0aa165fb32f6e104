"""Hostile article fields stay inert in every page, feed and the report; only http(s) URLs become links."""

from __future__ import annotations

import feedparser

from storyline.serve.security import safe_href
from storyline.tell import render_html
from tests.serve.conftest import TOKEN
from tests.serve.test_pages import elements

HOSTILE = {
    "title": '<script>alert("title")</script>Harbour quake <img src=x onerror=alert(1)>',
    "text": ('The harbour of Valparaiso was damaged by an earthquake on Tuesday, officials said. '
             '<script>alert("text")</script> Witnesses described <img src=x onerror=alert(2)> cracked quays. '
             'Rescue teams from Santiago arrived <a href="javascript:alert(3)">here</a> on Wednesday morning.'),
    "url": "javascript:alert(4)",
    "source": '<b onmouseover="alert(5)">Evil Wire</b>',
    "published": "2010-03-02",
}


def _inert(html: str, where: str) -> None:
    for tag, attrs in elements(html):
        assert tag not in ("img", "iframe", "object", "embed"), (where, tag)
        if tag == "script":
            assert attrs.get("src") == "/static/app.js", (where, attrs)
        for key, value in attrs.items():
            assert not key.startswith("on"), (where, tag, key)
            if key in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:", "vbscript:")), (where, value)


def test_hostile_article_is_inert_in_pages_feeds_and_report(write_client):
    answer = write_client.post("/api/articles", json={"articles": [HOSTILE]}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202 and answer.json()["results"][0]["status"] == "new"
    article_id = answer.json()["results"][0]["id"]
    assert write_client.app_state.writer.wait_idle(300)
    data = write_client.get(f"/api/articles/{article_id}").json()
    assert data["story_id"], data
    pages = {
        "front": write_client.get("/").text,
        "filtered": write_client.get("/", params={"source": HOSTILE["source"]}).text,
        "story": write_client.get(f"/stories/{data['story_id']}").text,
        "article": write_client.get(f"/articles/{article_id}").text,
        "search": write_client.get("/search", params={"q": "Valparaiso harbour"}).text,
    }
    assert "&lt;script&gt;" in pages["article"] and "Evil Wire" in pages["article"]
    for where, html in pages.items():
        _inert(html, where)
    feed = write_client.get(f"/feeds/stories/{data['story_id']}.atom").text
    assert not feedparser.parse(feed).bozo and "<script>" not in feed
    report = render_html({"id": "s", "title": HOSTILE["title"], "articles": [
        {"id": article_id, "title": HOSTILE["title"], "source": HOSTILE["source"], "url": HOSTILE["url"], "published": None}]})
    _inert(report.replace('src="/static/app.js"', ""), "report")
    assert "javascript:" not in report


def test_only_http_urls_become_links():
    assert safe_href("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_href("http://example.org") == "http://example.org"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd",
                "vbscript:x", "//example.org/x", "/relative", "http://", "https://exa mple.org", "java\nscript:x", None, 3):
        assert safe_href(bad) is None, bad
    html = render_html({"id": "s", "title": "t", "articles": [
        {"id": "a", "title": "ok", "url": "https://example.org/x"}, {"id": "b", "title": "bad", "url": "javascript:alert(1)"}]})
    assert 'href="https://example.org/x"' in html and "javascript:" not in html
