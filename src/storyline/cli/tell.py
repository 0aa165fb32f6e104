"""Commands that tell stories: timeline, summary, new, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from storyline.cli.common import DbOption, JsonOption, answer, app, console, emit, errors, fail, open_store, queries
from storyline.model import citation_label
from storyline.queries import DEFAULT_WORDS, Queries, story_title

__all__ = ["cite_sources", "story_title", "write_reports", "print_timeline"]

DEFAULT_DATES = 0  # 0: the story decides how many dates (tell.timeline: the knee of the day scores)


def cite_sources(sentence: dict[str, Any]) -> str:
    """Each source as its outlet and day, then the article id to open it with (``storyline article ID``)."""
    return escape("; ".join(f"{citation_label(c)}: {c['article_id']}" for c in sentence["citations"]))


def print_timeline(ask: Queries, story_id: str, max_dates: int | None = None, sentences: int = 1) -> None:
    try:
        entries = ask.timeline(story_id, dates=max_dates, sentences=sentences)
    except ValueError as exc:  # e.g. an article without sentences: say so, keep going
        errors.print(f"[yellow]timeline of {story_id}: {escape(str(exc))}[/yellow]")
        return
    for entry in entries:
        for s in entry["sentences"]:
            console.print(f"    [bold]{entry['date']}[/bold]  {escape(s['text'])}  [dim]\\[{cite_sources(s)}][/dim]")


@app.command()
def timeline(
    story_id: str,
    db: Optional[Path] = DbOption,
    dates: int = typer.Option(DEFAULT_DATES, "--dates", min=0, help="How many dates (the strongest; 0 = as many as the story's span and coverage call for)."),
    sentences: int = typer.Option(1, "--sentences", min=1, help="Sentences per date."),
    as_json: bool = JsonOption,
) -> None:
    """A story's dated timeline: the dates that matter and what happened, each sentence cited."""
    with open_store(db) as store:
        rows = answer(store, lambda: queries(store).timeline(story_id, dates=dates or None, sentences=sentences))
    if as_json:
        emit(rows)
        return
    for row in rows:
        for s in row["sentences"]:
            console.print(f"[bold]{row['date']}[/bold]  {escape(s['text'])}  [dim]\\[{cite_sources(s)}][/dim]")


@app.command()
def summary(
    story_id: str,
    db: Optional[Path] = DbOption,
    words: int = typer.Option(DEFAULT_WORDS, "--words", min=1, help="Length of the summary in words."),
    query: Optional[str] = typer.Option(None, "--query", help="Focus on a question, e.g. 'the ceasefire demands'."),
    language: str = typer.Option("en", "--language", help="Reader's language: preferred where there is a choice."),
    as_json: bool = JsonOption,
) -> None:
    """A short extractive summary of a story; every sentence cites its article(s)."""
    with open_store(db) as store:
        rows = answer(store, lambda: queries(store).summary(story_id, words=words, query=query, language=language))
    if as_json:
        emit(rows)
        return
    for s in rows:
        console.print(f"{escape(s['text'])}  [dim]\\[{cite_sources(s)}; {s.get('language') or '?'}][/dim]")


@app.command()
def new(article_id: str, db: Optional[Path] = DbOption, limit: int = typer.Option(5, "--limit", min=1), as_json: bool = JsonOption) -> None:
    """What an article added to its story: its sentences the story did not have before it arrived."""
    with open_store(db) as store:
        rows = answer(store, lambda: queries(store).whats_new(article_id, limit))
    if as_json:
        emit(rows)
        return
    if not rows:
        console.print("nothing new: every statement was already in the story")
    for s in rows:
        console.print(f"• {escape(s['text'])}")


def write_reports(data: list[dict[str, Any]], out: Path, markdown: Optional[Path] = None, json_out: Optional[Path] = None,
                  threads: Optional[list[dict[str, Any]]] = None) -> None:
    """The report's files; ``threads`` (``Queries.thread_reports``) lists the threads above the stories."""
    from storyline.tell import render_html, render_json, render_markdown

    for path, render in ((out, render_html), (markdown, render_markdown), (json_out, render_json)):
        if path is None:
            continue
        try:
            path.write_text(render(data, threads=threads), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror or exc} (pass a file in an existing, writable folder)", 2)


@app.command()
def report(
    db: Optional[Path] = DbOption,
    out: Path = typer.Option(Path("report.html"), "--out", help="The self-contained HTML report."),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Also write a Markdown export."),
    json_out: Optional[Path] = typer.Option(None, "--json-out", help="Also write a JSON export."),
    limit: int = typer.Option(0, "--limit", min=0, help="Only the N largest stories (0 = all)."),
) -> None:
    """Write one HTML report of all stories (timeline chart, cited summary, actors, sources) and their threads + exports."""
    with open_store(db) as store:
        ask = queries(store)
        data = ask.report(limit or None)
        threads = ask.thread_reports([s["id"] for s in data])
    write_reports(data, out, markdown, json_out, threads)
    errors.print(f"wrote {out} ({len(data)} stories)" + (f", {markdown}" if markdown else "") + (f", {json_out}" if json_out else ""))
