"""Atom feeds that validate: every filter a page's follow link carries, IRIs, published/updated, hostile URLs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit

import feedparser
import pytest

ATOM = "{http://www.w3.org/2005/Atom}"
NOT_IRI = re.compile(r"[\x00-\x20\x7f<>\"{}|\\^`]")  # RFC 3987: no spaces, controls or these delimiters
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _atom(client, path: str, **params) -> ET.Element:
    response = client.get(path, params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.text)
    assert not parsed.bozo, (path, params, parsed.get("bozo_exception"))
    return ET.fromstring(response.content)  # well-formed XML, or this raises


def _iris(feed: ET.Element) -> list[str]:
    ids = [e.text or "" for e in feed.iter(f"{ATOM}id")]
    links = [e.get("href") or "" for e in feed.iter(f"{ATOM}link")]
    return ids + links


def _assert_valid(feed: ET.Element) -> None:
    for iri in _iris(feed):
        assert iri and not NOT_IRI.search(iri), iri
        assert urlsplit(iri).scheme in ("urn", "http", "https"), iri
    for entry in feed.iter(f"{ATOM}entry"):
        published, updated = entry.findtext(f"{ATOM}published"), entry.findtext(f"{ATOM}updated")
        assert published and INSTANT.match(published) and updated and INSTANT.match(updated), (published, updated)
        assert published <= updated
    assert INSTANT.match(feed.findtext(f"{ATOM}updated") or "")


def test_multi_word_entity_feed_has_valid_iris_and_dates(client):
    feed = _atom(client, "/feeds/entities/united states.atom")
    assert feed.findall(f"{ATOM}entry")
    _assert_valid(feed)
    self_link = next(e.get("href") for e in feed.iter(f"{ATOM}link") if e.get("rel") == "self")
    assert self_link == "http://testserver/feeds/entities/united%20states.atom"
    assert feed.findtext(f"{ATOM}id") == "urn:storyline:entity:united%20states"


def test_entry_dates_are_the_events_dates_and_stable(client):
    top = client.get("/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    path = f"/feeds/stories/{top['id']}.atom"
    first, again = client.get(path).text, client.get(path).text
    assert first == again  # nothing in a feed depends on when it is read
    feed = _atom(client, path)
    _assert_valid(feed)
    events = {e["id"]: e for e in client.get(f"/api/stories/{top['id']}").json()["events"]}
    for entry in feed.findall(f"{ATOM}entry"):
        event = events[entry.findtext(f"{ATOM}id").rsplit(":", 1)[1]]
        assert entry.findtext(f"{ATOM}published") == f"{event['first_date']}T00:00:00Z"
        assert entry.findtext(f"{ATOM}updated") == f"{event['last_date']}T00:00:00Z"


def _event_articles(client, feed: ET.Element) -> list[list[dict]]:
    out = []
    for entry in feed.findall(f"{ATOM}entry"):
        event_id = entry.findtext(f"{ATOM}id").rsplit(":", 1)[1]
        out.append(client.get(f"/api/events/{event_id}").json()["article_list"])
    return out


def test_search_feed_honours_every_filter_the_follow_links_carry(client):
    everything = _event_articles(client, _atom(client, "/feeds/search.atom", q="peace"))
    assert any(all(a["source"] != "Wikinews" for a in arts) for arts in everything)  # the seeds have no outlet
    by_source = _event_articles(client, _atom(client, "/feeds/search.atom", q="peace", source="Wikinews"))
    assert by_source and len(by_source) < len(everything)
    assert all(any(a["source"] == "Wikinews" for a in arts) for arts in by_source)
    recent = _event_articles(client, _atom(client, "/feeds/search.atom", q="peace", since="2020-01-01"))
    assert recent and len(recent) < len(everything)
    assert all(any((a["published"] or "") >= "2020-01-01" for a in arts) for arts in recent)
    old = _event_articles(client, _atom(client, "/feeds/search.atom", q="peace", until="2005-12-31"))
    assert old and all(any((a["published"] or "9") <= "2005-12-31" for a in arts) for arts in old)
    assert not _event_articles(client, _atom(client, "/feeds/search.atom", q="peace", language="fr"))
    assert _event_articles(client, _atom(client, "/feeds/search.atom", q="peace", language="en"))
    haiti = _event_articles(client, _atom(client, "/feeds/search.atom", q="earthquake", entity="haiti"))
    assert haiti and len(haiti) < len(_event_articles(client, _atom(client, "/feeds/search.atom", q="earthquake")))


def test_the_pages_follow_links_reach_a_feed_with_the_same_filters(client):
    from tests.serve.test_pages import elements

    page = client.get("/search", params={"q": "peace", "source": "Wikinews", "since": "2005-01-01"}).text
    follow = next(a["href"] for t, a in elements(page) if t == "a" and a.get("href", "").startswith("/feeds/search.atom"))
    assert "source=Wikinews" in follow and "since=2005-01-01" in follow
    feed = _atom(client, follow.split("?")[0], **dict(p.split("=", 1) for p in follow.split("?")[1].split("&")))
    _assert_valid(feed)
    assert "source Wikinews" in feed.findtext(f"{ATOM}title")


@pytest.mark.parametrize("hostile", ["haiti\x01\x02", "a\x0bb\x7f", "x\x00y", "\ufffe\uffff"])
def test_control_characters_in_a_feed_url_still_give_well_formed_xml(client, hostile):
    for feed in (_atom(client, f"/feeds/entities/{quote(hostile, safe='')}.atom"), _atom(client, "/feeds/search.atom", q=hostile),
                 _atom(client, "/feeds/search.atom", q="earthquake", entity=hostile)):
        _assert_valid(feed)
