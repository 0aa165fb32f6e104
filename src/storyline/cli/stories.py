"""Commands over events and stories: stories, story, event, similar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from storyline.cli.common import (DbOption, JsonOption, answer, app, console, emit, errors, fail, open_store,
                                  print_table, queries)
from storyline.queries import Filters, Queries

__all__ = ["print_stories"]


def print_stories(ask: Queries, rows: list[dict[str, Any]]) -> None:
    """Each story's head line, then its events in date order (from the query layer's story rows)."""
    for row in rows:
        console.print(
            f"[bold]{escape(row['display_title'])}[/bold]  [dim]{row['id']}[/dim]\n"
            f"  {row['first_date'] or '?'} → {row['last_date'] or '?'} · {row['events']} events · "
            f"{row['articles']} articles · {escape(', '.join(row['entities']))}"
        )
        for event in ask.story(row["id"])["events"]:
            label = event["label"][:90] + ("…" if len(event["label"]) > 90 else "")
            console.print(f"    {event['first_date'] or '????-??-??'}  {escape(label)}  [dim]({event['articles']})[/dim]")


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
        rows = queries(store).stories(Filters(since=since_date, entity=entity), sort="articles", limit=limit or None)["items"]
    if as_json:
        emit(rows)
        return
    print_table(f"stories ({len(rows)})", ("id", "from", "to", "events", "articles", "title", "entities"),
                [(r["id"], r["first_date"] or "?", r["last_date"] or "?", str(r["events"]), str(r["articles"]),
                  escape((r["display_title"] or "")[:50]), escape(", ".join(r["entities"][:4]))) for r in rows])


@app.command()
def story(story_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One story: its events and articles (a merged id redirects to the story it became part of)."""
    with open_store(db) as store:
        ask = queries(store)
        data = answer(store, lambda: ask.story(story_id))
        articles = ask.story_articles(data["id"])
        if as_json:
            emit([{**data["row"], "redirected_from": data["redirected_from"], "event_list": data["events"],
                   "article_list": articles, "actors": data["actors"], "sources": data["sources"]}])
            return
        print_stories(ask, [data["row"]])
    thread = data["row"]["thread"]
    if thread:
        console.print(f"  thread: {escape(thread['title'])}  [dim]{thread['id']}[/dim]")
    console.print()
    for a in articles:
        console.print(f"  {a['published'] or '—':10}  {a['id']}  {escape((a['title'] or '')[:80])}  [dim]{escape(a['source'] or '')}[/dim]")


@app.command()
def event(event_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One event: the articles that report the same happening."""
    with open_store(db) as store:
        row = answer(store, lambda: queries(store).event(event_id))
    if as_json:
        emit([row])
        return
    console.print(f"[bold]{escape(row['label'])}[/bold]  [dim]{row['id']}[/dim]  story {row['story_id']}")
    console.print(f"  {row['first_date']} → {row['last_date']} · {row['articles']} articles")
    for a in row["article_list"]:
        console.print(f"  {a['published'] or '—':10}  {a['id']}  {escape((a['title'] or '')[:80])}")


@app.command()
def similar(article_id: str, db: Optional[Path] = DbOption, limit: int = typer.Option(10, "--limit", min=1), as_json: bool = JsonOption) -> None:
    """Articles most similar to one (embedding cosine), among the articles nearest to its date within ±90 days."""
    with open_store(db) as store:
        found = answer(store, lambda: queries(store).similar_search(article_id, limit))
    rows, searched = found["items"], found["searched"]
    if as_json:
        emit(rows)
        return
    for r in rows:
        console.print(f"{r['similarity']:.3f}  {r['published'] or '—':10}  {r['id']}  {escape((r['title'] or '')[:80])}")
    span = f"dated {searched['first_date']} to {searched['last_date']}" if searched["first_date"] else "none dated"
    whole = "the whole ±90-day window" if searched["whole_window"] else f"{searched['order']}, at most {searched['pool']:,}"
    errors.print(f"searched {searched['articles']:,} articles, {span} ({whole})")
