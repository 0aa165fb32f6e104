"""What every command shares: the app, consoles, the store option and JSON-lines output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storyline.queries import NotFound, Queries
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


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=errors, transient=False,
    )


def queries(store: Store) -> Queries:
    """Every command reads through the one query layer (the same answers as the HTTP API and the web pages)."""
    return Queries(store)


def answer(store: Store, ask: Any) -> Any:
    """Run a query; a missing story/article/event exits saying how to find one."""
    try:
        return ask()
    except NotFound as exc:
        fail(f"{exc} in {store.path}")
