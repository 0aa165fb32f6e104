"""Atom feeds of what a story, an entity or a saved search gained: one entry per event, with its new sentences.

So people can follow a story in the feed reader they already use. Entries are plain text (no markup to
sanitise in a reader) and their links point back at the story and article pages. Every id and link is a
valid IRI (names and queries percent-encoded), every value is text XML 1.0 can carry, and dates come from
the news, not from the store: ``published`` is the event's first date, ``updated`` its latest one, so an
entry changes only when its event does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from storyline.queries import Filters, Queries
from storyline.serve.api import ONE_ERRORS, READ_ERRORS, filters, queries, single_values
from storyline.serve.security import xml_text

__all__ = ["router", "render_feed"]

router = APIRouter(tags=["feeds"], responses=READ_ERRORS, dependencies=[Depends(single_values)])
ATOM = "application/atom+xml; charset=utf-8"
EPOCH = "1970-01-01T00:00:00Z"
# every value printed into a feed passes through xml_text: one control character makes a feed unreadable
FEEDS = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), auto_reload=False,
                    autoescape=select_autoescape(default=True, default_for_string=True), finalize=xml_text)
FEEDS.filters["iri"] = lambda value: quote(str(value), safe="")


def _instant(day: str | None) -> str | None:
    """A day (YYYY-MM-DD…) as an RFC 3339 instant at 00:00 UTC."""
    return f"{day[:10]}T00:00:00Z" if day and len(day) >= 10 and day[4] == "-" else None


def _entry(e: dict[str, Any]) -> dict[str, Any]:
    event = e["event"]
    published = _instant(event.get("first_date"))
    updated = _instant(event.get("last_date")) or published or _arrival(event.get("first_arrival"))
    return {**e, "published": published, "updated": updated}


def _arrival(value: str | None) -> str:
    return (value[:19] + "Z") if value and len(value) >= 19 else EPOCH


def render_feed(base: str, feed_id: str, title: str, self_path: str, entries: list[dict[str, Any]]) -> str:
    """The Atom document; ``feed_id`` is already an IRI (percent-encoded), ``self_path`` an encoded path."""
    dated = sorted((_entry(e) for e in entries), key=lambda e: (e["updated"], e["event"]["id"]), reverse=True)
    updated = max((e["updated"] for e in dated), default=EPOCH)
    return FEEDS.get_template("feed.atom").render(base=base.rstrip("/"), feed_id=feed_id, title=title,
                                                  self_path=self_path, updated=updated, entries=dated)


def _self_path(request: Request) -> str:
    """The feed's own address, re-encoded (the path arrives decoded: a name may hold spaces)."""
    query = urlencode(list(request.query_params.multi_items()))
    return quote(request.url.path, safe="/") + (f"?{query}" if query else "")


def _respond(request: Request, feed_id: str, title: str, entries: list[dict[str, Any]]) -> Response:
    return Response(render_feed(str(request.base_url), feed_id, title, _self_path(request), entries), media_type=ATOM)


@router.get("/feeds/stories/{story_id}.atom", response_class=Response, responses=ONE_ERRORS)
def story_feed(story_id: str, request: Request, ask: Queries = Depends(queries)) -> Response:
    """What the story gained: its events, newest first, with the sentences each added."""
    row = ask.story_row(story_id)
    return _respond(request, f"story:{quote(row['id'], safe='')}", f"Storyline: {row['display_title']}",
                    ask.story_updates([row["id"]]))


@router.get("/feeds/entities/{name}.atom", response_class=Response)
def entity_feed(name: str, request: Request, ask: Queries = Depends(queries)) -> Response:
    """What the stories involving an entity gained."""
    return _respond(request, f"entity:{quote(name.casefold(), safe='')}", f"Storyline: {name}",
                    ask.story_updates(ask.entity_story_ids(name)))


@router.get("/feeds/search.atom", response_class=Response)
def search_feed(request: Request, q: str = Query(..., min_length=1, max_length=500), f: Filters = Depends(filters),
                ask: Queries = Depends(queries)) -> Response:
    """A saved search, with the filters of the page it was followed from (since, until, entity, source,
    language): what the matching stories gained, in events of that span, source and language."""
    canonical = urlencode([(k, v) for k, v in (("q", q), ("since", f.since), ("until", f.until), ("entity", f.entity),
                                                 ("source", f.source), ("language", f.language)) if v])
    wanted = [("source", f.source), ("language", f.language), ("entity", f.entity), ("since", f.since), ("until", f.until)]
    narrowed = ", ".join(f"{k} {v}" for k, v in wanted if v)
    return _respond(request, f"search:{quote(canonical, safe='')}",
                    f"Storyline search: {q}" + (f" ({narrowed})" if narrowed else ""),
                    ask.story_updates(ask.search_story_ids(q, f), filters=f))
