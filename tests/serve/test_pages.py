"""The web pages over a store tracked from examples/: what each page shows, links, feeds, no outside resources."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import feedparser


class Elements(HTMLParser):
    """Every start tag with its attributes (to check links, scripts and handlers)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def test_front_page_lists_latest_and_growing_with_filters(client):
    page = client.get("/")
    assert page.status_code == 200 and "Latest stories" in page.text and "Fastest growing" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    links = [a["href"] for t, a in elements(page.text) if t == "a" and a.get("href", "").startswith("/stories/")]
    assert len(links) >= 10
    narrowed = client.get("/", params={"entity": "haiti"}).text
    narrowed_links = {a["href"] for t, a in elements(narrowed) if t == "a" and a.get("href", "").startswith("/stories/")}
    assert narrowed_links and len(narrowed_links) < len(set(links)) + 10
    assert "No story matches" in client.get("/", params={"source": "No Such Outlet"}).text


def test_nothing_is_loaded_from_elsewhere(client):
    for path in ("/", "/search?q=earthquake"):
        for tag, attrs in elements(client.get(path).text):
            for key in ("src",) if tag != "link" else ("href",):
                value = attrs.get(key)
                assert value is None or value.startswith("/"), (path, tag, value)
    assert client.get("/static/app.js").status_code == 200 and client.get("/static/style.css").status_code == 200


def test_story_page_cites_articles_and_citations_land_on_the_sentence(client):
    top = client.get("/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    page = client.get(f"/stories/{top['id']}").text
    for section in ('id="summary"', 'id="timeline"', 'id="actors"', 'id="sources"', 'id="coverage"', 'id="events"', "<svg"):
        assert section in page, section
    assert "First reported by" in page
    cites = [a["href"] for t, a in elements(page) if t == "a" and "cite" in (a.get("class") or "")]
    assert cites
    target, _, fragment = cites[0].partition("#")
    article = client.get(target)
    assert article.status_code == 200 and f'id="{fragment}"' in article.text


def test_article_page_marks_whats_new_and_says_where_the_date_came_from(client):
    top = client.get("/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    last = client.get(f"/api/stories/{top['id']}").json()["articles"][-1]
    page = client.get(f"/articles/{last['id']}").text
    assert "<mark>" in page and "What's new" in page
    assert "date from: metadata" in page and "Original text" in page and 'id="duplicates"' in page


def test_search_page_and_not_found(client):
    page = client.get("/search", params={"q": "tsunami"}).text
    assert len(re.findall(r'class="article-link"', page)) >= 2
    assert client.get("/stories/st-nope").status_code == 404
    assert client.get("/articles/nope").status_code == 404


def test_atom_feeds_for_story_entity_and_saved_search(client):
    top = client.get("/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    for path in (f"/feeds/stories/{top['id']}.atom", "/feeds/entities/haiti.atom", "/feeds/search.atom?q=earthquake"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.text)
        assert not feed.bozo, (path, feed.bozo_exception)
        assert feed.entries and all(e.link.startswith("http://testserver/stories/") for e in feed.entries)
        assert all(e.summary for e in feed.entries)
