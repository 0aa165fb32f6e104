"""Commands over threads (long-running coverage made of stories): threads, thread."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from storyline.cli.common import (DbOption, JsonOption, answer, app, console, emit, fail, open_store, print_table,
                                  queries)
from storyline.cli.tell import cite_sources
from storyline.queries import Filters

__all__ = ["print_thread_head"]


def _day(name: str, value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        fail(f"{name} expects YYYY-MM-DD, got {value!r}", 2)


def print_thread_head(row: dict[str, Any]) -> None:
    """A thread's head line: title, id, span, size, what it is about."""
    about = ", ".join(row["places"][:4] + row["actors"][:3])
    console.print(
        f"[bold]{escape(row['display_title'])}[/bold]  [dim]{row['id']}[/dim]\n"
        f"  {row['first_date'] or '?'} → {row['last_date'] or '?'} · {row['stories']} stories · "
        f"{row['articles']} articles · {escape(', '.join(row['languages']))} · {escape(about)}"
    )


@app.command()
def threads(
    db: Optional[Path] = DbOption,
    since: Optional[str] = typer.Option(None, "--since", help="Only threads active on or after this date (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only threads active on or before this date (YYYY-MM-DD)."),
    entity: Optional[str] = typer.Option(None, "--entity", help="Only threads that involve this entity or place (name or part of it)."),
    limit: int = typer.Option(50, "--limit", min=0, help="How many (0 = all), largest first."),
    as_json: bool = JsonOption,
) -> None:
    """List threads (long-running coverage of one situation, made of stories), largest first."""
    f = Filters(since=_day("--since", since), until=_day("--until", until), entity=entity)
    with open_store(db) as store:
        rows = queries(store).threads(f, sort="articles", limit=limit or None)["items"]
    if as_json:
        emit(rows)
        return
    print_table(f"threads ({len(rows)})", ("id", "from", "to", "stories", "articles", "title", "about"),
                [(r["id"], r["first_date"] or "?", r["last_date"] or "?", str(r["stories"]), str(r["articles"]),
                  escape(r["display_title"][:50]), escape(", ".join(r["places"][:3] + r["actors"][:2]))) for r in rows])


@app.command()
def thread(thread_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One thread: its stories over time and its long timeline (a merged id redirects to the thread it became part of)."""
    with open_store(db) as store:
        data = answer(store, lambda: queries(store).thread(thread_id))
    if as_json:
        emit([data])
        return
    print_thread_head(data["row"])
    if data["redirected_from"]:
        console.print(f"  [dim](merged from {escape(data['redirected_from'])})[/dim]")
    console.print("\n[bold]Stories[/bold]")
    for s in data["stories"]:
        console.print(f"  {s['first_date'] or '????-??-??'} → {s['last_date'] or '?':10}  {escape(s['display_title'][:80])}  "
                      f"[dim]{s['id']} ({s['articles']})[/dim]")
    console.print("\n[bold]Timeline[/bold]")
    for entry in data["timeline"]:
        for s in entry["sentences"]:
            console.print(f"  [bold]{entry['date']}[/bold]  {escape(s['text'])}  [dim]\\[{cite_sources(s)}][/dim]")
    console.print("\n[bold]Actors[/bold]  " + escape(", ".join(a["canonical"] for a in data["actors"][:10])))
    console.print("[bold]Sources[/bold]  " + escape(", ".join(f"{k} ({v})" for k, v in data["sources"]["outlets"].items())))
    console.print("[bold]Languages[/bold]  " + escape(", ".join(f"{k} ({v})" for k, v in data["languages"].items())))
