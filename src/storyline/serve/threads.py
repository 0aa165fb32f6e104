"""Threads over HTTP: ``/api/threads`` (JSON), the thread pages and a thread's Atom feed.

A thread is the long-running coverage of one situation, made of stories. Everything here reads the query
layer (``Queries.threads``/``thread``), as the story routes do; the routes live in their own module so the
story API, pages and feeds stay as they are.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from storyline.queries import DEFAULT_WORDS, Filters, Queries
from storyline.serve.api import ONE_ERRORS, READ_ERRORS, Limit, Offset, filters, queries, single_values
from storyline.serve.feeds import ATOM, render_feed
from storyline.serve.web import TEMPLATES, query_string, timeline_chart

__all__ = ["router", "ThreadRow", "ThreadPage", "ThreadOut"]

router = APIRouter(responses=READ_ERRORS, dependencies=[Depends(single_values)])


class ThreadRow(BaseModel):
    """One thread in a listing: its span, size, what it is about (readable places and actors), outlets, languages."""

    id: str
    title: str | None
    display_title: str
    first_date: str | None
    last_date: str | None
    stories: int
    events: int
    articles: int
    near_duplicates: int
    places: list[str]
    actors: list[str]
    entities: list[str]
    sources: list[str]
    languages: list[str]
    growth: int
    last_arrival: str
    story_ids: list[str]


class ThreadPage(BaseModel):
    total: int
    limit: int | None
    offset: int
    items: list[ThreadRow]


class ThreadOut(BaseModel):
    """One thread: its stories over time (story rows), a long timeline over all its articles, a cited summary,
    actors, sources (first reports, coverage per day and week), languages and articles."""

    id: str
    title: str
    first_date: str | None
    last_date: str | None
    reader_language: str
    redirected_from: str | None
    row: ThreadRow
    stories: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    sources: dict[str, Any]
    languages: dict[str, int]
    articles: list[dict[str, Any]]


Sort = Literal["articles", "latest", "growing"]


# --- JSON ---------------------------------------------------------------------------------------
@router.get("/api/threads", response_model=ThreadPage, tags=["read"])
def list_threads(f: Filters = Depends(filters), sort: Sort = "latest", limit: int = Limit, offset: int = Offset,
                 ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Threads (long-running coverage made of stories) matching every filter given: largest, latest active or
    fastest-growing first."""
    return ask.threads(f, sort=sort, limit=limit, offset=offset)


@router.get("/api/threads/{thread_id}", response_model=ThreadOut, tags=["read"], responses=ONE_ERRORS)
def get_thread(thread_id: str, words: int = Query(DEFAULT_WORDS, ge=10, le=1000), dates: int = Query(0, ge=0, le=200),
               language: str = Query("en", max_length=20), ask: Queries = Depends(queries)) -> dict[str, Any]:
    """One thread: its stories over time, its long timeline (``dates=0``: as many dates as its span and coverage
    call for), cited summary, actors, sources and languages. A merged id answers with the thread it became."""
    return ask.thread(thread_id, words=words, dates=dates or None, language=language)


# --- pages ----------------------------------------------------------------------------------------
def _page(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context))


@router.get("/threads", response_class=HTMLResponse, include_in_schema=False)
def threads_page(f: Filters = Depends(filters), page: int = Query(1, ge=1, le=10_000),
                 ask: Queries = Depends(queries)) -> HTMLResponse:
    """Every thread, latest active first, narrowed by the same filters as the front page."""
    size = 20
    listing = ask.threads(f, sort="latest", limit=size, offset=(page - 1) * size)
    more = query_string(f, page=page + 1) if listing["total"] > page * size else None
    return _page("threads.html", title="Threads", threads=listing, f=f, page=page, more=more)


@router.get("/threads/{thread_id}", response_class=HTMLResponse, include_in_schema=False)
def thread_page(thread_id: str, ask: Queries = Depends(queries)) -> HTMLResponse:
    """Its stories over time, its timeline with citations, summary, actors, sources, languages."""
    data = ask.thread(thread_id)
    titles = {a["id"]: a.get("title") or a["id"] for a in data["articles"]}
    return _page("thread.html", title=data["title"], t=data, chart=timeline_chart(data), titles=titles)


# --- feed -----------------------------------------------------------------------------------------
@router.get("/feeds/threads/{thread_id}.atom", response_class=Response, tags=["feeds"], responses=ONE_ERRORS)
def thread_feed(thread_id: str, request: Request, ask: Queries = Depends(queries)) -> Response:
    """What the thread's stories gained: their events, newest first, with the sentences each added."""
    row = ask.thread_row(thread_id)
    self_path = request.url.path
    body = render_feed(str(request.base_url), f"thread:{row['id']}", f"Storyline thread: {row['display_title']}",
                       self_path, ask.story_updates(row["story_ids"]))
    return Response(body, media_type=ATOM)
