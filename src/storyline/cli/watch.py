"""``storyline watch``: poll RSS/Atom feeds and feed new items through the pipeline; URL fetching for ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from storyline.cli.common import DbOption, app, console, errors, fail
from storyline.store import default_db_path

__all__ = ["make_watcher", "print_poll"]


def print_poll(result) -> None:
    """One line per poll: what came in, or why the feed could not be read (it is retried later)."""
    if result.error:
        errors.print(f"[red]feed failed[/red] {escape(result.error)} (retried later)", soft_wrap=True)
        return
    if result.not_modified:
        console.print(f"{escape(result.url)}: not modified", soft_wrap=True)
        return
    counts = {k: sum(a["status"] == k for a in result.answers) for k in ("new", "duplicate", "rejected")}
    console.print(f"{escape(result.url)}: {result.items} items, {result.new} unseen, {result.pages} pages fetched · "
                  f"{counts['new']} new, {counts['duplicate']} duplicate, {counts['rejected']} rejected", soft_wrap=True)
    for problem in result.problems:
        errors.print(f"  [yellow]{escape(problem)}[/yellow]", soft_wrap=True)


def make_watcher(feeds: list[str], every: str, allow_private: bool):
    from storyline.fetch import SafeFetcher
    from storyline.fetch.watch import Watcher, parse_every, read_feed_list

    try:
        urls, seconds = read_feed_list(feeds), parse_every(every)
    except ValueError as exc:
        fail(str(exc), 2)
    return Watcher(urls, seconds, SafeFetcher(allow_private=allow_private), report=print_poll)


@app.command()
def watch(
    feeds: list[str] = typer.Argument(..., help="Feed URLs (RSS/Atom) or OPML files listing them."),
    db: Optional[Path] = DbOption,
    every: str = typer.Option("10m", "--every", help="How often to poll each feed, e.g. 30s, 10m, 1h."),
    once: bool = typer.Option(False, "--once", help="Poll each feed once, wait for enrichment, and exit."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Let the fetcher reach loopback/private addresses."),
) -> None:
    """Poll feeds (conditional GET, backoff), fetch each new item's page and track it. Ctrl-C stops."""
    from storyline.serve.writer import Writer

    watcher = make_watcher(feeds, every, allow_private)
    writer = Writer(db or default_db_path())
    watcher.attach(writer.get_state, writer.set_state)
    try:
        watcher.run(writer.submit, rounds=1 if once else None)
        if once:
            writer.wait_idle()
    except KeyboardInterrupt:
        errors.print("stopped")
    finally:
        writer.close()
        watcher.fetcher.close()
    if once and all(s.last_error for s in watcher.states.values()):
        raise typer.Exit(1)
