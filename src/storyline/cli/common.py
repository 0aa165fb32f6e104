"""What every command shares: the app, consoles, the store option and JSON-lines output."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from storyline.queries import NotFound, Queries
from storyline.store import Store, StoreBusy, default_db_path

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Track news stories: which articles tell the same story, who is in it, what happened when.",
)
# Stored text is data, never markup: every piece of it is printed through ``plain`` (a title holding
# "[/x]" crashed five commands), and ":name:" in a title stays text instead of becoming an emoji.
console = Console(emoji=False)
errors = Console(stderr=True, emoji=False)


def plain(value: object) -> str:
    """Any value as text Rich prints literally (markup escaped)."""
    return escape("" if value is None else str(value))

DbOption = typer.Option(None, "--db", help="SQLite store file [env STORYLINE_DB; default ./storyline.db]")
JsonOption = typer.Option(False, "--json", help="One JSON object per line.")


@contextlib.contextmanager
def open_store(db: Optional[Path]) -> Iterator[Store]:
    """The store, closed afterwards; any SQLite error (read-only file or folder, not a database, disk
    full) becomes one line naming the store and the fix instead of a traceback. Committed batches stay."""
    path = db or default_db_path()
    try:
        store = Store(path)
    except Exception as exc:  # noqa: BLE001 - every way of failing to open says which file and why
        errors.print(f"[red]cannot open store {plain(path)}: {plain(_explain(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(2)
    try:
        yield store
    except StoreBusy as exc:
        errors.print(f"[red]{plain(exc)}[/red]", soft_wrap=True)
        raise typer.Exit(3)
    except sqlite3.Error as exc:
        errors.print(f"[red]store {plain(path)}: {plain(_explain(exc))}[/red]", soft_wrap=True)
        raise typer.Exit(2)
    finally:
        store.close()


def _explain(exc: BaseException) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return f"{text} (the store or its folder is read-only: check permissions, or pass another --db)"
    if "not a database" in text:
        return f"{text} (this file is not a Storyline store: pass another --db)"
    return text


def fail(message: str, code: int = 1) -> None:
    errors.print(f"[red]{plain(message)}[/red]", soft_wrap=True)
    raise typer.Exit(code)


def emit(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def print_table(title: str, columns: Iterable[str], rows: Iterable[Iterable[str]]) -> None:
    """A titled Rich table of text cells (the caller escapes stored text)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


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
