"""The JSON API: every read the query layer answers, with pagination and filters, and ``POST /articles``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from storyline.model import Document, Rejection
from storyline.queries import MAX_PAGE, Filters, Queries
from storyline.serve.security import token_ok

__all__ = ["router", "MAX_ITEMS", "MAX_TEXT"]

router = APIRouter()

MAX_ITEMS = 100  # articles per POST
MAX_TEXT = 1_000_000  # characters of one article's text


def queries(request: Request) -> Queries:
    return request.app.state.queries


DAY = r"^(\d{4}-\d{2}-\d{2})?$"  # empty allowed: a web form sends since= when the field is left blank


def _day(name: str, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def filters(
    since: str | None = Query(None, pattern=DAY, description="Active on or after this day (YYYY-MM-DD)."),
    until: str | None = Query(None, pattern=DAY, description="Active on or before this day (YYYY-MM-DD)."),
    entity: str | None = Query(None, max_length=200, description="Part of an entity's name."),
    source: str | None = Query(None, max_length=200, description="Outlet name."),
    language: str | None = Query(None, max_length=20, description="ISO language code, e.g. en."),
    q: str | None = Query(None, max_length=500, description="Full-text query."),
) -> Filters:
    return Filters(since=_day("since", since), until=_day("until", until), entity=entity or None, source=source or None,
                   language=language or None, text=q or None)


Limit = Query(20, ge=0, le=MAX_PAGE)
Offset = Query(0, ge=0, le=1_000_000)


class Page(BaseModel):
    total: int
    limit: int | None
    offset: int
    items: list[dict[str, Any]]


@router.get("/api/stories", response_model=Page, tags=["read"])
def list_stories(f: Filters = Depends(filters), sort: Literal["articles", "latest", "growing"] = "latest",
                 limit: int = Limit, offset: int = Offset, ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Stories matching every filter given: largest, latest active or fastest-growing first."""
    return ask.stories(f, sort=sort, limit=limit, offset=offset)


@router.get("/api/stories/{story_id}", tags=["read"])
def get_story(story_id: str, words: int = Query(120, ge=10, le=1000), dates: int = Query(10, ge=0, le=30),
              language: str = Query("en", max_length=20), query: str | None = Query(None, max_length=500),
              ask: Queries = Depends(queries)) -> dict[str, Any]:
    """One story: timeline, cited summary, actors, sources (first reports, coverage), events, articles."""
    return ask.story(story_id, words=words, dates=dates or None, language=language, query=query or None)


@router.get("/api/events/{event_id}", tags=["read"])
def get_event(event_id: str, ask: Queries = Depends(queries)) -> dict[str, Any]:
    return ask.event(event_id)


@router.get("/api/articles", response_model=Page, tags=["read"])
def list_articles(f: Filters = Depends(filters), limit: int = Limit, offset: int = Offset,
                  ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Stored articles in arrival order, narrowed by the filters."""
    return ask.articles(f, limit=limit, offset=offset)


@router.get("/api/articles/{article_id}", tags=["read"])
def get_article(article_id: str, ask: Queries = Depends(queries)) -> dict[str, Any]:
    """One article: date and its provenance, text with what's-new sentences marked, near-duplicates."""
    return ask.article(article_id)


@router.get("/api/articles/{article_id}/similar", tags=["read"])
def similar(article_id: str, limit: int = Query(10, ge=0, le=MAX_PAGE), ask: Queries = Depends(queries)) -> list[dict[str, Any]]:
    return ask.similar(article_id, limit)


@router.get("/api/search", response_model=Page, tags=["read"])
def search(q: str = Query(..., max_length=500), f: Filters = Depends(filters), limit: int = Limit,
           offset: int = Offset, ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Full-text search (bm25), narrowed by the other filters."""
    return ask.search(q, f, limit=limit, offset=offset)


@router.get("/api/facets", tags=["read"])
def facets(ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Outlets and languages with article counts; store size and date span."""
    return ask.facets()


@router.get("/api/version", tags=["read"])
def version(story: str | None = Query(None, max_length=200), ask: Queries = Depends(queries)) -> dict[str, Any]:
    """What live pages poll: a token that changes when articles arrive or are placed (and the story's size)."""
    out = ask.version()
    if story:
        try:
            row = ask.story_row(story)
            out["story"] = {"id": row["id"], "articles": row["articles"] + row["near_duplicates"], "events": row["events"]}
        except LookupError:
            out["story"] = None
    return out


class ArticleIn(BaseModel):
    """One article to ingest; the same fields a JSON file may carry."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., max_length=MAX_TEXT)
    title: str | None = Field(None, max_length=2000)
    url: str | None = Field(None, max_length=4000)
    source: str | None = Field(None, max_length=500)
    published: str | None = Field(None, max_length=100, description="Publication date as the source gives it.")
    language: str | None = Field(None, max_length=50)
    author: str | None = Field(None, max_length=500)
    id: str | None = Field(None, max_length=500, description="The source's own id, if any.")


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    articles: list[ArticleIn] = Field(..., max_length=MAX_ITEMS)


class ItemOut(BaseModel):
    index: int
    status: Literal["new", "duplicate", "rejected"]
    id: str | None
    reason: str | None


class SubmitOut(BaseModel):
    results: list[ItemOut]
    queued: int = Field(..., description="New articles now being enriched and placed in the background.")


def _document(index: int, item: ArticleIn) -> Document | Rejection:
    origin = f"api:{item.id or index}"
    if not item.text.strip():
        return Rejection(origin, "empty text")
    return Document(text=item.text, origin=origin, title=item.title, source=item.source, url=item.url,
                    source_id=item.id, published=item.published, language=item.language, author=item.author)


def require_token(request: Request, authorization: str | None = Header(None)) -> None:
    configured = request.app.state.token
    if not configured:
        raise HTTPException(403, "the write endpoint is off: start the server with STORYLINE_TOKEN set")
    if not token_ok(configured, authorization):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


@router.post("/api/articles", response_model=SubmitOut, status_code=202, tags=["write"],
             dependencies=[Depends(require_token)])
@router.post("/articles", response_model=SubmitOut, status_code=202, tags=["write"],
             dependencies=[Depends(require_token)], include_in_schema=False)
def submit(body: SubmitIn, request: Request) -> dict[str, Any]:
    """Ingest articles through the same path as files (clean, deduplicate, store); each answered new,
    duplicate or rejected with the reason. Enrichment and placement follow in the background."""
    writer = request.app.state.writer
    if writer is None:
        raise HTTPException(503, "this server has no writer")
    answers = writer.submit([_document(i, item) for i, item in enumerate(body.articles)])
    results = [{"index": i, **a} for i, a in enumerate(answers)]
    return {"results": results, "queued": sum(a["status"] == "new" for a in answers)}
