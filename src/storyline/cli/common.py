"""What every command shares: the app, consoles, the store option and JSON-lines output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storyline.model import Article, Story
from storyline.store import Store, default_db_path

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Track news stories: which articles tell the same story, who is in it, what happened when.",
)
console = Console()
errors = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="SQLite store file [env STORYLINE_DB; default ./storyline.db]")
JsonOption = typer.Option(False, "--json", help="One JSON object per line.")


def open_store(db: Optional[Path]) -> Store:
    try:
        return Store(db or default_db_path())
    except Exception as exc:
        errors.print(f"[red]cannot open store {db or default_db_path()}: {exc}[/red]")
        raise typer.Exit(2)


def fail(message: str, code: int = 1) -> None:
    errors.print(f"[red]{message}[/red]", soft_wrap=True)
    raise typer.Exit(code)


def emit(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def article_summary(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title or article.display_text[:80],
        "published": article.published.isoformat() if article.published else None,
        "date_provenance": article.published_provenance.value,
        "language": article.language,
        "source": article.source,
        "origin": article.origin,
        "story_id": article.story_id,
        "event_id": article.event_id,
    }


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=errors, transient=False,
    )


def require_article(store: Store, article_id: str) -> Article:
    """The article by id or unique prefix, or exit saying how to find one."""
    article = store.get_article(article_id)
    if article is None:
        fail(f"no article {article_id!r} in {store.path} (list ids with: storyline articles)")
    return article


def require_story(store: Store, story_id: str) -> Story:
    """The story by id or prefix (a merged id redirects), or exit saying how to find one."""
    story = store.get_story(story_id)
    if story is None:
        fail(f"no story {story_id!r} in {store.path} (list them with: storyline stories)")
    return story
