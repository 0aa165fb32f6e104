"""The JSON API: every read the query layer answers, with pagination and filters, and ``POST /articles``.

Every error, whatever raised it, has one body shape (``Error``: ``detail`` a sentence, ``errors`` the
fields at fault for a 422), and every status a route can answer is declared in the OpenAPI schema. No
server file path leaves the server: each article's ``origin`` is reduced to its file name (``public``).
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import re
import sqlite3
from collections import Counter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from storyline.model import Document, Rejection
from storyline.queries import DEFAULT_WORDS, MAX_PAGE, Filters, Queries
from storyline.serve.security import public, token_ok

__all__ = ["router", "MAX_ITEMS", "MAX_TEXT", "Error", "validation_error_body", "printable"]

log = logging.getLogger("storyline.serve")


class FieldError(BaseModel):
    loc: list[str | int] = Field(..., description="Where: body, query or path, then the field's name and index.")
    msg: str
    type: str


class Error(BaseModel):
    """Every error answer: a sentence saying what is wrong and how to fix it; for 422 also the fields."""

    detail: str
    errors: list[FieldError] | None = None


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": Error}


READ_ERRORS: dict[int | str, dict[str, Any]] = {422: _error("A parameter is malformed or out of range.")}
ONE_ERRORS = {**READ_ERRORS, 404: _error("No such record; the detail says how to list them.")}


def printable(value: Any) -> str:
    """Text that JSON and UTF-8 can carry whatever a client sent (lone surrogates are escaped)."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


# pydantic's words where they do not say what to send instead
MESSAGES = {"string_unicode": "is not Unicode text (it holds a lone surrogate such as \\ud800): send valid UTF-8 text",
            "string_type": "must be a JSON string (NaN, Infinity and numbers are not text)"}


def validation_error_body(exc: RequestValidationError) -> dict[str, Any]:
    """The ``Error`` body of a 422: one sentence naming each field at fault, and the fields. The values
    sent are never echoed (NaN, Infinity or a lone surrogate cannot even be written back as JSON)."""
    errors, seen = [], set()
    for e in exc.errors():
        loc = [part if isinstance(part, int) else printable(part) for part in e.get("loc", ())]
        if loc[:1] in (["query"], ["path"], ["header"], ["cookie"]):
            loc = loc[:2]  # a parameter is one value: drop the union member pydantic tried ("date", "literal['']")
        if tuple(loc) in seen:
            continue
        seen.add(tuple(loc))
        msg = MESSAGES.get(e.get("type", ""), e.get("msg", "invalid"))
        if loc[:1] == ["query"] and loc[1:] in (["since"], ["until"]):
            msg = "must be a date YYYY-MM-DD"
        errors.append({"loc": loc, "msg": printable(msg), "type": printable(e.get("type", "invalid"))})
    where = lambda loc: ".".join(str(p) for p in loc[1:] or loc)  # noqa: E731 - "articles.0.text"
    detail = "; ".join(f"{where(e['loc'])}: {e['msg']}" for e in errors[:5]) or "invalid request"
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return {"detail": detail, "errors": errors}


MAX_ITEMS = 100  # articles per POST
MAX_TEXT = 1_000_000  # characters of one article's text


def queries(request: Request) -> Queries:
    return request.app.state.queries


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD is a day here (pydantic alone would read "0" as 1970-01-01, a Unix time)."""
    if isinstance(value, str) and value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date YYYY-MM-DD")
    return value


def _iso_instant(value: Any) -> Any:
    """Only an ISO 8601 date-time is an instant here (not a number read as Unix time)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", value):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2024-03-04T12:00:00Z")
    return value


# a day, or empty: a web form sends since= when the field is left blank
Day = dt.date | Literal[""] | None


def single_values(request: Request) -> None:
    """A parameter given twice is refused (which one was meant?), not silently read as its last value."""
    counts = Counter(k for k, _ in request.query_params.multi_items())
    twice = sorted(k for k, n in counts.items() if n > 1)
    if twice:
        raise RequestValidationError([{"loc": ("query", name), "msg": "given more than once; give it once",
                                       "type": "repeated"} for name in twice])


router = APIRouter(responses=READ_ERRORS, dependencies=[Depends(single_values)])


def filters(
    since: Annotated[Day, BeforeValidator(_iso_day), Query(description="Active on or after this day (YYYY-MM-DD).")] = None,
    until: Annotated[Day, BeforeValidator(_iso_day), Query(description="Active on or before this day (YYYY-MM-DD).")] = None,
    entity: str | None = Query(None, max_length=200, description="Part of an entity's name."),
    source: str | None = Query(None, max_length=200, description="Outlet name."),
    language: str | None = Query(None, max_length=20, description="ISO language code, e.g. en."),
    q: str | None = Query(None, max_length=500, description="Full-text query."),
) -> Filters:
    return Filters(since=since or None, until=until or None, entity=entity or None, source=source or None,
                   language=language or None, text=q or None)


Limit = Query(20, ge=0, le=MAX_PAGE)
Offset = Query(0, ge=0, le=1_000_000)


class Page(BaseModel):
    total: int
    limit: int | None
    offset: int
    items: list[dict[str, Any]]


class StoryPage(Page):
    new_since: str | None = Field(None, description="Stories' `growth` counts original articles that arrived after this.")
    newest_arrival: str | None = None


@router.get("/api/stories", response_model=StoryPage, tags=["read"])
def list_stories(f: Filters = Depends(filters), sort: Literal["articles", "latest", "growing"] = "latest",
                 limit: int = Limit, offset: int = Offset,
                 new_since: Annotated[dt.datetime | None, BeforeValidator(_iso_instant), Query(
                     description="Count growth from this instant (the reader's last visit); default: the last 24 "
                     "hours of arrivals. A story's opening delivery (a bulk import) is never growth.")] = None,
                 ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Stories matching every filter given: largest, latest active or fastest-growing (by arrival) first."""
    return public(ask.stories(f, sort=sort, limit=limit, offset=offset,
                              new_since=new_since.isoformat() if new_since else None))


@router.get("/api/stories/{story_id}", tags=["read"], responses=ONE_ERRORS)
def get_story(story_id: str, words: int = Query(DEFAULT_WORDS, ge=10, le=1000),
              dates: int = Query(0, ge=0, le=200, description="How many dates; 0: as many as the story calls for "
                                 "(the default of every view)"),
              language: str = Query("en", max_length=20), query: str | None = Query(None, max_length=500),
              ask: Queries = Depends(queries)) -> dict[str, Any]:
    """One story: timeline, cited summary, actors, sources (first reports, coverage), events, articles."""
    return public(ask.story(story_id, words=words, dates=dates or None, language=language, query=query or None))


@router.get("/api/events/{event_id}", tags=["read"], responses=ONE_ERRORS)
def get_event(event_id: str, ask: Queries = Depends(queries)) -> dict[str, Any]:
    """One event: its dates and articles."""
    return public(ask.event(event_id))


@router.get("/api/articles", response_model=Page, tags=["read"])
def list_articles(f: Filters = Depends(filters), limit: int = Limit, offset: int = Offset,
                  ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Stored articles in arrival order, narrowed by the filters."""
    return public(ask.articles(f, limit=limit, offset=offset))


@router.get("/api/articles/{article_id}", tags=["read"], responses=ONE_ERRORS)
def get_article(article_id: str, ask: Queries = Depends(queries)) -> dict[str, Any]:
    """One article: date and its provenance, text with what's-new sentences marked, near-duplicates."""
    return public(ask.article(article_id))


@router.get("/api/articles/{article_id}/similar", tags=["read"], responses=ONE_ERRORS)
def similar(article_id: str, limit: int = Query(10, ge=0, le=MAX_PAGE), ask: Queries = Depends(queries)) -> list[dict[str, Any]]:
    """The nearest articles by meaning, around the article's date."""
    return public(ask.similar(article_id, limit))


@router.get("/api/search", response_model=Page, tags=["read"])
def search(q: str = Query(..., max_length=500), f: Filters = Depends(filters), limit: int = Limit,
           offset: int = Offset, ask: Queries = Depends(queries)) -> dict[str, Any]:
    """Full-text search (bm25), narrowed by the other filters."""
    return public(ask.search(q, f, limit=limit, offset=offset))


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
    status: Literal["new", "duplicate", "rejected", "not_stored"] = Field(
        ..., description="not_stored: the store failed (see the response's detail) and this item was not kept.")
    id: str | None = Field(None, description="The stored article's id (new or duplicate); absent otherwise.")
    reason: str | None = Field(None, description="Why the item was rejected or not stored; absent otherwise.")


class SubmitOut(BaseModel):
    results: list[ItemOut]
    queued: int = Field(..., description="New articles now being enriched and placed in the background.")


class SubmitError(Error):
    """The store failed part-way: ``results`` says exactly which items were stored (new or duplicate);
    without a writer, only ``detail``."""

    results: list[ItemOut] | None = None
    queued: int | None = None


def _document(index: int, item: ArticleIn) -> Document | Rejection:
    origin = f"api:{item.id or index}"
    if not item.text.strip():
        return Rejection(origin, "empty text")
    return Document(text=item.text, origin=origin, title=item.title, source=item.source, url=item.url,
                    source_id=item.id, published=item.published, language=item.language, author=item.author)


bearer = HTTPBearer(auto_error=False, description="The server's STORYLINE_TOKEN, sent as: Authorization: Bearer TOKEN")


def require_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    configured = request.app.state.token
    if not configured:
        raise HTTPException(403, "the write endpoint is off: start the server with STORYLINE_TOKEN set")
    given = f"Bearer {credentials.credentials}" if credentials else None
    if not token_ok(configured, given):
        raise HTTPException(401, "missing or wrong bearer token: send Authorization: Bearer TOKEN",
                            headers={"WWW-Authenticate": "Bearer"})


WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not JSON."),
    401: _error("Missing or wrong bearer token."),
    403: _error("The write endpoint is off (no STORYLINE_TOKEN)."),
    413: _error("The body is over the server's limit (5 MB by default)."),
    422: _error("An item is malformed (the detail names the field), or there are over 100 items."),
    503: {"description": "No writer, or the store failed: nothing more was stored; `results` says what was.",
          "model": SubmitError},
    507: {"description": "The store is full: `results` says exactly which items were stored.", "model": SubmitError},
}


def _full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)) or \
        "full" in str(exc).lower()


@router.post("/api/articles", response_model=SubmitOut, status_code=202, tags=["write"], responses=WRITE_ERRORS,
             dependencies=[Depends(require_token)], operation_id="submit_articles", response_model_exclude_none=True)
@router.post("/articles", response_model=SubmitOut, status_code=202, tags=["write"], responses=WRITE_ERRORS,
             dependencies=[Depends(require_token)], operation_id="submit_articles_short", response_model_exclude_none=True)
def submit(body: SubmitIn, request: Request) -> Any:
    """Ingest articles through the same path as files (clean, deduplicate, store); each answered new,
    duplicate or rejected with the reason. Enrichment and placement follow in the background.

    Items are stored one by one, each in its own transaction: if the store fails (a full disk), the answer
    says which items were stored and which were not (``not_stored``), and nothing is half-stored."""
    from fastapi.responses import JSONResponse

    writer = request.app.state.writer
    if writer is None:
        raise HTTPException(503, "this server has no writer")
    results: list[dict[str, Any]] = []
    failure: BaseException | None = None
    for i, item in enumerate(body.articles):
        if failure is None:
            try:
                answer = writer.submit([_document(i, item)])[0]
            except (sqlite3.Error, OSError) as exc:
                failure = exc
                log.error("POST item %d not stored: %s: %s", i, type(exc).__name__, exc)
        if failure is not None:
            answer = {"status": "not_stored", "id": None, "reason": f"the store failed: {printable(failure)}"}
        results.append({"index": i, **{k: v for k, v in answer.items() if v is not None}})
    queued = sum(r["status"] == "new" for r in results)
    if queued:
        request.app.state.queries.invalidate()  # whoever posted reads what they posted next
    if failure is None:
        return {"results": results, "queued": queued}
    stored = sum(r["status"] in ("new", "duplicate") for r in results)
    status = 507 if _full(failure) else 503
    detail = (f"the store {'is full' if status == 507 else 'failed'} ({printable(failure)}): {stored} of "
              f"{len(results)} items are stored (new or duplicate), the items marked not_stored are not; "
              "send those again later")
    return JSONResponse({"detail": detail, "results": results, "queued": queued}, status_code=status)
