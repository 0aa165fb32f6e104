"""Commands over events and stories: stories, story, event, similar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from storyline.cli.common import (
    DbOption, JsonOption, app, article_summary, console, emit, fail, open_store, plain, require_article, require_story,
)
from storyline.model import Article, Event, Story, to_dict
from storyline.store import Store, default_db_path

__all__ = ["story_row", "print_stories"]


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _top_entities(counts: dict[str, int], n: int = 6) -> list[str]:
    return [k.split(":", 1)[-1].lstrip("@") for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def story_row(store: Store, story: Story) -> dict[str, Any]:
    events = [e for e in (store.get_event(i) for i in story.event_ids) if e]
    ids = [i for e in events for i in e.article_ids]
    originals = store.originals(ids)
    return {
        "id": story.id,
        "title": story.title,
        "first_date": _iso(story.first_date),
        "last_date": _iso(story.last_date),
        "events": len(events),
        "articles": originals,
        "near_duplicates": len(ids) - originals,
        "entities": _top_entities(story.entity_counts),
    }


def event_row(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "story_id": event.story_id,
        "title": event.title,
        "first_date": _iso(event.first_date),
        "last_date": _iso(event.last_date),
        "articles": len(event.article_ids),
        "article_ids": event.article_ids,
        "entities": _top_entities(event.entity_counts),
    }


def _untitled(story: Story) -> str:
    top = _top_entities(story.entity_counts, 3)
    return ", ".join(t.title() for t in top) or story.id


def _matches(story: Story, since: dt.date | None, entity: str | None) -> bool:
    if since and story.last_date and story.last_date < since:
        return False
    if entity:
        needle = entity.casefold()
        return any(needle in key.casefold() for key in story.entity_counts)
    return True


def _event_label(store: Store, event: Event, width: int = 90) -> str:
    """The event's title, else the opening of its first article (untitled input such as the seeds)."""
    if event.title:
        return event.title[:width]
    first = store.get_article(event.article_ids[0]) if event.article_ids else None
    if first is None:
        return event.id
    opening = first.sentences[0].text if first.sentences else first.display_text
    return opening[:width].strip() + ("…" if len(opening) > width else "")


def print_stories(store: Store, stories: list[Story]) -> None:
    for story in stories:
        row = story_row(store, story)
        console.print(
            f"[bold]{escape(row['title'] or _untitled(story))}[/bold]  [dim]{plain(story.id)}[/dim]\n"
            f"  {row['first_date'] or '?'} → {row['last_date'] or '?'} · {row['events']} events · "
            f"{row['articles']} articles · {plain(', '.join(row['entities']))}"
        )
        for event in sorted((store.get_event(i) for i in story.event_ids), key=lambda e: (e.first_date or dt.date.min, e.id)):
            console.print(f"    {_iso(event.first_date) or '????-??-??'}  {escape(_event_label(store, event))}  [dim]({len(event.article_ids)})[/dim]")


@app.command()
def stories(
    db: Optional[Path] = DbOption,
    since: Optional[str] = typer.Option(None, "--since", help="Only stories active on or after this date (YYYY-MM-DD)."),
    entity: Optional[str] = typer.Option(None, "--entity", help="Only stories that involve this entity (name or part of it)."),
    limit: int = typer.Option(50, "--limit", min=0, help="How many (0 = all), largest first."),
    as_json: bool = JsonOption,
) -> None:
    """List stories, largest first."""
    try:
        since_date = dt.date.fromisoformat(since) if since else None
    except ValueError:
        fail(f"--since expects YYYY-MM-DD, got {since!r}", 2)
    with open_store(db) as store:
        chosen = [s for s in store.stories() if _matches(s, since_date, entity)]
        rows = sorted((story_row(store, s) for s in chosen), key=lambda r: (-r["articles"], r["first_date"] or "", r["id"]))
    rows = rows[: limit or None]
    if as_json:
        emit(rows)
        return
    table = Table(title=f"stories ({len(rows)})")
    for column in ("id", "from", "to", "events", "articles", "title", "entities"):
        table.add_column(column)
    for r in rows:
        table.add_row(plain(r["id"]), r["first_date"] or "?", r["last_date"] or "?", str(r["events"]), str(r["articles"]),
                      plain((r["title"] or "")[:50]), plain(", ".join(r["entities"][:4])))
    console.print(table)


@app.command()
def story(story_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One story: its events and articles (a merged id redirects to the story it became part of)."""
    with open_store(db) as store:
        found = require_story(store, story_id)
        row = story_row(store, found)
        events = [event_row(e) for e in (store.get_event(i) for i in found.event_ids) if e]
        members = store.story_articles(found)
        articles = [article_summary(a) for a in members]
        if as_json:
            from storyline.tell import actors, sources

            emit([{**row, "redirected_from": story_id if found.id != story_id else None, "event_list": events,
                   "article_list": articles, "actors": [to_dict(a) for a in actors(members)],
                   "sources": to_dict(sources(members))}])
            return
        print_stories(store, [found])
        console.print()
        for a in articles:
            console.print(f"  {a['published'] or '—':10}  {plain(a['id'])}  {plain((a['title'] or '')[:80])}  [dim]{plain(a['source'] or '')}[/dim]")


@app.command()
def event(event_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One event: the articles that report the same happening."""
    with open_store(db) as store:
        found = store.get_event(event_id)
        if found is None:
            fail(f"no event {event_id!r} in {db or default_db_path()} (see: storyline story ID)")
        articles = [article_summary(a) for a in store.event_articles(found)]
    row = {**event_row(found), "article_list": articles}
    if as_json:
        emit([row])
        return
    console.print(f"[bold]{plain(found.title or found.id)}[/bold]  [dim]{plain(found.id)}[/dim]  story {plain(found.story_id)}")
    console.print(f"  {row['first_date']} → {row['last_date']} · {plain(', '.join(row['entities']))}")
    for a in articles:
        console.print(f"  {a['published'] or '—':10}  {plain(a['id'])}  {plain((a['title'] or '')[:80])}")


def similar_articles(store: Store, article: Article, limit: int, window_days: int = 90) -> list[tuple[Article, float]]:
    """Nearest stored articles by embedding, within a time window of the article (all, if undated)."""
    if article.embedding is None:
        return []
    if article.published:
        lo = (article.published - min(dt.timedelta(days=window_days), article.published - dt.date.min)).isoformat()
        hi = (article.published + min(dt.timedelta(days=window_days), dt.date.max - article.published)).isoformat()
        pool = store.articles_between(lo, hi)
    else:
        pool = [a for a in store.articles() if a.embedding is not None]
    pool = [a for a in pool if a.id != article.id and a.embedding is not None and a.embedding.shape == article.embedding.shape]
    if not pool:
        return []
    scores = np.stack([a.embedding for a in pool]) @ article.embedding
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], pool[i].id))[:limit]
    return [(pool[i], float(scores[i])) for i in order]


@app.command()
def similar(article_id: str, db: Optional[Path] = DbOption, limit: int = typer.Option(10, "--limit", min=1), as_json: bool = JsonOption) -> None:
    """Articles most similar to one (embedding cosine, within ±90 days of its date)."""
    with open_store(db) as store:
        article = require_article(store, article_id)
        if article.embedding is None:
            fail(f"article {article.id} is not enriched yet (run: storyline track or storyline enrich)")
        hits = similar_articles(store, article, limit)
    rows = [{**article_summary(a), "similarity": round(score, 4)} for a, score in hits]
    if as_json:
        emit(rows)
        return
    for r in rows:
        console.print(f"{r['similarity']:.3f}  {r['published'] or '—':10}  {plain(r['id'])}  {plain((r['title'] or '')[:80])}")
