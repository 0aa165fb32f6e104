"""Atom feeds of what a story, an entity or a saved search gained: one entry per event, with its new sentences.

So people can follow a story in the feed reader they already use. Entries are plain text (no markup to
sanitise in a reader) and their links point back at the story and article pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from storyline.queries import Queries
from storyline.serve.api import queries
from storyline.serve.web import TEMPLATES

__all__ = ["router", "render_feed"]

router = APIRouter(tags=["feeds"])
ATOM = "application/atom+xml; charset=utf-8"


def render_feed(base: str, feed_id: str, title: str, self_path: str, entries: list[dict[str, Any]]) -> str:
    updated = max((e["updated"] for e in entries if e["updated"]), default=None) or \
        dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return TEMPLATES.get_template("feed.atom").render(base=base.rstrip("/"), feed_id=feed_id, title=title,
                                                      self_path=self_path, updated=updated, entries=entries)


def _respond(request: Request, feed_id: str, title: str, entries: list[dict[str, Any]]) -> Response:
    body = render_feed(str(request.base_url), feed_id, title, request.url.path + (f"?{request.url.query}" if request.url.query else ""), entries)
    return Response(body, media_type=ATOM)


@router.get("/feeds/stories/{story_id}.atom", response_class=Response)
def story_feed(story_id: str, request: Request, ask: Queries = Depends(queries)) -> Response:
    """What the story gained: its events, newest first, with the sentences each added."""
    row = ask.story_row(story_id)
    return _respond(request, f"story:{row['id']}", f"Storyline: {row['display_title']}", ask.story_updates([row["id"]]))


@router.get("/feeds/entities/{name}.atom", response_class=Response)
def entity_feed(name: str, request: Request, ask: Queries = Depends(queries)) -> Response:
    """What the stories involving an entity gained."""
    return _respond(request, f"entity:{name.casefold()}", f"Storyline: {name}", ask.story_updates(ask.entity_story_ids(name)))


@router.get("/feeds/search.atom", response_class=Response)
def search_feed(request: Request, q: str = Query(..., min_length=1, max_length=500),
                ask: Queries = Depends(queries)) -> Response:
    """A saved search: what the stories whose articles match it gained."""
    return _respond(request, f"search:{q}", f"Storyline search: {q}", ask.story_updates(ask.search_story_ids(q)))
