"""The command line: ``storyline track examples/`` and friends.

Every listing command takes ``--json`` and then prints one JSON object per line, for scripts.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from storyline.ingest import IngestOptions, parse_field_options
from storyline.model import Article, to_dict
from storyline.pipeline import IngestReport, Pipeline, PipelineConfig
from storyline.store import Store, default_db_path

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Track news stories: which articles tell the same story, who is in it, what happened when.")
console = Console()
errors = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="SQLite store file [env STORYLINE_DB; default ./storyline.db]")
JsonOption = typer.Option(False, "--json", help="One JSON object per line.")


def _store(db: Optional[Path]) -> Store:
    try:
        return Store(db or default_db_path())
    except Exception as exc:
        errors.print(f"[red]cannot open store {db or default_db_path()}: {exc}[/red]")
        raise typer.Exit(2)


def _emit(rows: Iterable[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


def _article_summary(article: Article) -> dict[str, Any]:
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


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=errors, transient=False,
    )


def _run_ingest(pipeline: Pipeline, paths: list[str]) -> tuple[IngestReport, float]:
    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("ingest", total=None, rate="")

        def tick(n: int) -> None:
            bar.advance(task, n)
            done = bar.tasks[0].completed
            bar.update(task, rate=f"{done / max(time.perf_counter() - started, 1e-9):,.0f} articles/s")

        report = pipeline.ingest(paths, progress=tick)
    return report, time.perf_counter() - started


def _print_report(report: IngestReport, seconds: float) -> None:
    for rejection in report.rejected:
        errors.print(f"[yellow]skipped[/yellow] {escape(rejection.origin)}: {escape(rejection.reason)}", soft_wrap=True)
    table = Table(title="ingest", show_header=True)
    table.add_column("result")
    table.add_column("articles", justify="right")
    table.add_row("new", str(report.new))
    table.add_row("duplicate (already stored)", str(report.duplicate))
    table.add_row("rejected", str(len(report.rejected)))
    for reason, n in sorted(report.reasons().items()):
        table.add_row(f"  {reason}", str(n))
    table.caption = f"{report.seen} records in {seconds:.2f}s ({report.seen / max(seconds, 1e-9):,.0f} records/s)"
    errors.print(table)


def _exit_code(report: IngestReport) -> int:
    """0 when everything valid went in; non-zero only when nothing could be done at all."""
    return 1 if report.new == 0 and report.duplicate == 0 and report.rejected else 0


@app.command()
def ingest(
    paths: list[str] = typer.Argument(..., help="Files, folders (recursive) or - for stdin."),
    db: Optional[Path] = DbOption,
    field: Optional[list[str]] = typer.Option(None, "--field", help="Field mapping for JSON/CSV, e.g. text=body (repeatable)."),
    max_bytes: int = typer.Option(20 * 1024 * 1024, "--max-bytes", help="Largest file accepted."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Force a reader: txt, html, json, jsonl, csv, feed."),
    as_json: bool = JsonOption,
) -> None:
    """Read articles into the store (cleaned, dated, language detected); re-ingesting is a no-op."""
    try:
        options = IngestOptions(max_bytes=max_bytes, fields=parse_field_options(field), format=fmt)
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    with _store(db) as store:
        pipeline = Pipeline(store, PipelineConfig(ingest=options))
        report, seconds = _run_ingest(pipeline, paths)
    if as_json:
        _emit([{"new": report.new, "duplicate": report.duplicate, "rejected": len(report.rejected),
                "rejections": [{"origin": r.origin, "reason": r.reason} for r in report.rejected],
                "seconds": round(seconds, 3)}])
    _print_report(report, seconds)
    raise typer.Exit(_exit_code(report))


@app.command()
def articles(
    db: Optional[Path] = DbOption,
    limit: int = typer.Option(20, "--limit", help="How many (0 = all)."),
    offset: int = typer.Option(0, "--offset"),
    as_json: bool = JsonOption,
) -> None:
    """List stored articles in the order they arrived."""
    with _store(db) as store:
        rows = [_article_summary(a) for a in store.articles(limit=limit or None, offset=offset)]
        total = store.count()
    if as_json:
        _emit(rows)
        return
    table = Table(title=f"articles ({len(rows)} of {total})")
    for column in ("id", "published", "date from", "lang", "title"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["published"] or "—", r["date_provenance"], r["language"] or "?", (r["title"] or "")[:70])
    console.print(table)


@app.command()
def show(article_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One article: metadata, date and its provenance, language, text and what enrichment found."""
    with _store(db) as store:
        article = store.get_article(article_id)
    if article is None:
        errors.print(f"[red]no article {article_id!r} in {db or default_db_path()} (list ids with: storyline articles)[/red]")
        raise typer.Exit(1)
    data = to_dict(article, drop=("embedding", "fingerprint"))
    data["has_embedding"] = article.embedding is not None
    if as_json:
        _emit([data])
        return
    console.print(f"[bold]{article.title or '(no title)'}[/bold]  [dim]{article.id}[/dim]")
    console.print(f"published: {data['published'] or '—'} ({data['published_provenance']}"
                  + (f": {article.date_evidence!r})" if article.date_evidence else ")"))
    console.print(f"language: {article.language} ({article.language_confidence:.2f})   source: {article.source or '—'}   origin: {article.origin}")
    if article.story_id:
        console.print(f"story: {article.story_id}   event: {article.event_id}")
    if article.entities:
        names = sorted({f"{e.canonical} ({e.type.value})" for e in article.entities})
        console.print("entities: " + ", ".join(names))
    if article.dates:
        console.print("dates: " + ", ".join(f"{d.surface!r}→{d.resolved}" for d in article.dates))
    if article.problems:
        console.print("[yellow]problems:[/yellow] " + "; ".join(article.problems))
    console.print()
    console.print(article.display_text)


@app.command()
def search(query: str, db: Optional[Path] = DbOption, limit: int = typer.Option(20, "--limit"), as_json: bool = JsonOption) -> None:
    """Full-text search over titles and texts (SQLite FTS5, bm25 ranking)."""
    with _store(db) as store:
        hits = store.search(query, limit=limit)
    rows = [{**_article_summary(a), "score": round(score, 4)} for a, score in hits]
    if as_json:
        _emit(rows)
        return
    table = Table(title=f"search {query!r}: {len(rows)} hits")
    for column in ("id", "published", "score", "title"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["published"] or "—", f"{r['score']:.2f}", (r["title"] or "")[:70])
    console.print(table)


@app.command()
def track(
    paths: list[str] = typer.Argument(..., help="Files, folders (recursive) or - for stdin."),
    db: Optional[Path] = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Ingest, enrich and place every article, then print the stories."""
    with _store(db) as store:
        pipeline = Pipeline(store)
        report, seconds = _run_ingest(pipeline, paths)
        _print_report(report, seconds)
        with _progress() as bar:
            task = bar.add_task("enrich", total=store.count() - store.count(1), rate="")
            pipeline.enrich(progress=lambda n: bar.advance(task, n))
        with _progress() as bar:
            task = bar.add_task("place", total=store.count(1) - store.count(2), rate="")
            pipeline.place(progress=lambda n: bar.advance(task, n))
        total = store.count()
        rows = [_article_summary(a) for a in store.articles()]
    if as_json:
        _emit(rows)
    else:
        console.print(f"{total} articles in the store")
    raise typer.Exit(_exit_code(report))


def main() -> None:  # pragma: no cover
    app()
