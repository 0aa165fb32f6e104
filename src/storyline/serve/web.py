"""The web pages: front page, story, article, search — server-rendered with Jinja2, escaped throughout.

Templates autoescape every value; the only links built from stored data go through ``safe_href`` (http and
https only). Pages load nothing from outside (vendored CSS/JS under /static) and run no inline script.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from storyline.queries import Filters, Queries
from storyline.serve.api import filters, queries
from storyline.serve.security import safe_href

__all__ = ["router", "error_page", "query_string", "timeline_chart"]

router = APIRouter(include_in_schema=False)
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True))
TEMPLATES.filters["href"] = safe_href
TEMPLATES.globals["now"] = lambda: dt.datetime.now(dt.timezone.utc)


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return _render("error.html", status, message=message, title="Not found" if status == 404 else "Error")


def query_string(f: Filters, **extra: Any) -> str:
    pairs = {"since": f.since, "until": f.until, "entity": f.entity, "source": f.source, "language": f.language,
             "q": f.text, **extra}
    return urlencode({k: v for k, v in pairs.items() if v not in (None, "")})


def timeline_chart(story: dict[str, Any], width: int = 900, height: int = 170, pad: int = 40) -> dict[str, Any] | None:
    """Bars of articles per day and dots for the timeline's dates on one time axis (SVG geometry)."""
    per_day = story.get("sources", {}).get("per_day", {})
    days = sorted(set(per_day) | {e["date"] for e in story.get("timeline", [])})
    parsed = {}
    for day in days:
        try:
            parsed[day] = dt.date.fromisoformat(day[:10])
        except ValueError:
            continue
    if not parsed:
        return None
    first, last = min(parsed.values()), max(parsed.values())
    span = max(1, (last - first).days)
    base = height - 30

    def x(day: str) -> float:
        return round(pad + (parsed[day] - first).days / span * (width - 2 * pad), 1)

    top = max(per_day.values(), default=1)
    bars = [{"x": x(d) - 2, "h": round(80 * n / top, 1), "y": round(base - 80 * n / top, 1), "day": d, "n": n}
            for d, n in sorted(per_day.items()) if d in parsed]
    dots = [{"x": x(e["date"]), "date": e["date"]} for e in story.get("timeline", []) if e["date"] in parsed]
    labels = [{"x": x(d), "text": d} for d in dict.fromkeys([min(parsed, key=parsed.get), max(parsed, key=parsed.get)])]
    return {"width": width, "height": height, "pad": pad, "base": base, "bars": bars, "dots": dots, "labels": labels}


@router.get("/", response_class=HTMLResponse)
def front(request: Request, f: Filters = Depends(filters), page: int = Query(1, ge=1, le=10_000),
          ask: Queries = Depends(queries)) -> HTMLResponse:
    """Latest stories and the fastest-growing ones, their sources and languages, filters and search."""
    size = 15
    latest = ask.stories(f, sort="latest", limit=size, offset=(page - 1) * size)
    growing = ask.stories(f, sort="growing", limit=6)
    threads = ask.threads(f, sort="latest", limit=5)
    more = query_string(f, page=page + 1) if latest["total"] > page * size else None
    return _render("front.html", title="Storyline", latest=latest, growing=growing, threads=threads, facets=ask.facets(), f=f,
                   page=page, more=more, feed_query=query_string(f) if f.text else None, version=ask.version())


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


