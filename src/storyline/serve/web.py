"""The web pages: front page, story, article, search — server-rendered with Jinja2, escaped throughout.

Templates autoescape every value; the only links built from stored data go through ``safe_href`` (http and
https only). Pages load nothing from outside (vendored CSS/JS under /static) and run no inline script.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from storyline.model import citation_label
from storyline.queries import Filters, NotFound, Queries
from storyline.serve.api import filters, printable, queries, validation_error_body
from storyline.serve.security import SECURITY_HEADERS, public_origin, safe_href

__all__ = ["router", "error_page", "query_string", "timeline_chart", "install_error_handlers", "SEEN_COOKIE"]

router = APIRouter(include_in_schema=False)
# auto_reload off: the templates ship with the package, and checking their files' times cost every render a stat
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), auto_reload=False,
                        autoescape=select_autoescape(default=True, default_for_string=True))
TEMPLATES.filters["href"] = safe_href
TEMPLATES.filters["origin"] = public_origin
TEMPLATES.filters["cited"] = citation_label
SEEN_COOKIE = "storyline_seen"  # the newest arrival the reader's last front-page view showed
STATIC = Path(__file__).parent / "static"
TEMPLATES.globals["now"] = lambda: dt.datetime.now(dt.timezone.utc)


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status)


TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 422: "Check the address",
          500: "Something went wrong"}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return _render("error.html", status, message=message, title=TITLES.get(status, "Error"))


def _wants_json(request: Request) -> bool:
    """API, feeds and writes answer errors in JSON (``api.Error``); pages answer with an HTML page."""
    return request.url.path.startswith(("/api/", "/feeds/", "/openapi")) or request.method not in ("GET", "HEAD")


def _allowed(request: Request) -> str:
    """Every method some route serves at this path (a 405's Allow header; the router names only the first
    route's), with HEAD wherever GET is (``HeadAsGet``)."""
    from starlette.routing import Match

    def routes(items: list) -> Iterator[Any]:
        for route in items:
            inner = getattr(route, "original_router", None)  # FastAPI keeps an included router whole
            yield from routes(inner.routes) if inner is not None else (route,)

    methods: set[str] = set()
    for route in routes(request.app.router.routes):
        if route.matches({**request.scope, "method": "\x00"})[0] is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """One error shape everywhere: ``{"detail": ...}`` (plus ``errors`` for a 422) from the API and feeds,
    an HTML page from the pages; never a traceback, never an echo of what cannot be encoded."""

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": printable(exc)}, status_code=404)
        return error_page(request, 404, printable(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = printable(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["allow"] = _allowed(request) or headers.get("Allow", "")
            headers.pop("Allow", None)
        response = JSONResponse({"detail": detail}, status_code=exc.status_code) if _wants_json(request) \
            else error_page(request, exc.status_code, detail)
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        body = validation_error_body(exc)
        if _wants_json(request):
            return JSONResponse(body, status_code=422)
        return error_page(request, 422, body["detail"])

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # answered outside the middleware that adds the security headers: add them here
        message = "the server failed on this request; it is logged, and other requests are not affected"
        response = JSONResponse({"detail": message}, status_code=500) if _wants_json(request) \
            else error_page(request, 500, message)
        response.headers.update(SECURITY_HEADERS)
        return response


def query_string(f: Filters, **extra: Any) -> str:
    pairs = {"since": f.since, "until": f.until, "entity": f.entity, "source": f.source, "language": f.language,
             "q": f.text, **extra}
    return urlencode({k: v for k, v in pairs.items() if v not in (None, "")})


def timeline_chart(story: dict[str, Any], width: int = 900, height: int = 170, pad: int = 40) -> dict[str, Any] | None:
    """Bars of articles per day and dots for the timeline's dates on the coverage's time axis, dates
    outside the coverage apart (SVG geometry: ``tell.report.chart_geometry``, as the report draws it)."""
    from storyline.tell.report import chart_geometry

    return chart_geometry(story, width=width, height=height, pad=pad)


def _last_visit(request: Request, newest: str | None) -> str | None:
    """The newest arrival the reader saw at their last visit, when something arrived since (else None)."""
    seen = request.cookies.get(SEEN_COOKIE)
    try:
        seen = dt.datetime.fromisoformat(seen).isoformat() if seen else None
    except ValueError:
        return None
    return seen if seen and newest and seen < newest else None


@router.get("/", response_class=HTMLResponse)
def front(request: Request, f: Filters = Depends(filters), page: int = Query(1, ge=1, le=10_000),
          ask: Queries = Depends(queries)) -> HTMLResponse:
    """Latest stories and the fastest-growing ones, their sources and languages, filters and search.

    "New" counts articles by arrival: since the reader's last visit (a cookie holding the newest arrival
    they were shown) when anything arrived since, else over the last day of arrivals."""
    size = 15
    newest = ask.stories(limit=0)["newest_arrival"]
    visit = _last_visit(request, newest)
    latest = ask.stories(f, sort="latest", limit=size, offset=(page - 1) * size, new_since=visit)
    growing = ask.stories(f, sort="growing", limit=6, new_since=visit)
    growing["items"] = [s for s in growing["items"] if s["growth"]]
    threads = ask.threads(f, sort="latest", limit=5)
    more = query_string(f, page=page + 1) if latest["total"] > page * size else None
    response = _render("front.html", title="Storyline", latest=latest, growing=growing, threads=threads, facets=ask.facets(), f=f,
                       page=page, more=more, feed_query=query_string(f) if f.text else None, version=ask.version(),
                       since_visit=visit is not None)
    if newest:
        response.set_cookie(SEEN_COOKIE, newest, max_age=400 * 86400, httponly=True, samesite="lax")
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """The site's icon (browsers ask for it on every first visit)."""
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon", headers={"cache-control": "max-age=604800"})


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story_page(story_id: str, request: Request, fragment: bool = False, ask: Queries = Depends(queries)) -> HTMLResponse:
    """Timeline chart, cited summary, actors, sources (who reported first), coverage, events, articles."""
    data = ask.story(story_id)
    titles = {a["id"]: a.get("title") or a["id"] for a in data["articles"]}
    context = dict(title=data["title"] or data["id"], s=data, chart=timeline_chart(data), titles=titles,
                   version=ask.version())
    return _render("story_fragment.html" if fragment else "story.html", **context)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(article_id: str, ask: Queries = Depends(queries)) -> HTMLResponse:
    """The article with its what's-new sentences marked, its date and where that came from, its near-duplicates."""
    data = ask.article(article_id)
    return _render("article.html", title=data["title"] or data["id"], a=data)


@router.get("/search", response_class=HTMLResponse)
def search_page(f: Filters = Depends(filters), page: int = Query(1, ge=1, le=10_000),
                ask: Queries = Depends(queries)) -> HTMLResponse:
    size = 20
    hits = ask.search(f.text, f, limit=size, offset=(page - 1) * size) if f.text else None
    stories = ask.stories(f, sort="articles", limit=5) if f.text else None
    more = query_string(f, page=page + 1) if hits and hits["total"] > page * size else None
    return _render("search.html", title=f"Search: {f.text or ''}", hits=hits, stories=stories, f=f, more=more,
                   facets=ask.facets(), feed_query=query_string(f) if f.text else None)


@router.get("/entities/{name}", response_class=HTMLResponse)
def entity_page(name: str, ask: Queries = Depends(queries)) -> HTMLResponse:
    f = Filters(entity=name)
    return _render("front.html", title=f"Stories with {name}", latest=ask.stories(f, sort="latest", limit=30),
                   growing=None, facets=ask.facets(), f=f, page=1, more=None, entity=name, feed_query=None,
                   version=ask.version())


