"""Commands over articles: ingest, track, articles, show, search."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from rich.markup import escape

from storyline.cli.common import (
    DbOption, JsonOption, answer, app, console, emit, errors, fail, open_store, plain, progress_bar, queries,
)
from storyline.ingest import IngestOptions, parse_field_options
from storyline.pipeline import IngestReport, Pipeline, PipelineConfig

def _with_urls(paths: list[str], options: IngestOptions, allow_private: bool):
    """Files and folders through the readers; http(s) (or any scheme://) arguments fetched as web pages."""
    import itertools
    import re

    from storyline.ingest import read_sources

    urls = [p for p in paths if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", p)]
    files = [p for p in paths if p not in urls]
    if not urls:
        return read_sources(files, options)

    def fetched():
        from storyline.fetch import SafeFetcher, fetch_document

        fetcher = SafeFetcher(allow_private=allow_private, max_bytes=options.max_bytes)
        try:
            for url in urls:
                yield fetch_document(url, fetcher)
        finally:
            fetcher.close()

    return itertools.chain(fetched(), read_sources(files, options) if files else ())


def _run_ingest(pipeline: Pipeline, paths: list[str], allow_private: bool = False) -> tuple[IngestReport, float]:
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task("ingest", total=None, rate="")

        def tick(n: int) -> None:
            bar.advance(task, n)
            done = bar.tasks[0].completed
            bar.update(task, rate=f"{done / max(time.perf_counter() - started, 1e-9):,.0f} articles/s")

        report = pipeline.ingest_documents(_with_urls(paths, pipeline.config.ingest, allow_private), progress=tick)
    return report, time.perf_counter() - started


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """Text for a one-line message: control characters and line breaks (a file may be named "a\nb.txt")
    shown as escapes, never acted on by the terminal."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _print_report(report: IngestReport, seconds: float) -> None:
    for rejection in report.rejected:
        errors.print(f"[yellow]skipped[/yellow] {plain(one_line(rejection.origin))}: {plain(one_line(rejection.reason))}",
                     soft_wrap=True)
    for note in report.notes:
        errors.print(f"[yellow]note[/yellow] {plain(one_line(note.origin))}: {plain(one_line(note.reason))}",
                     soft_wrap=True)
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
    paths: list[str] = typer.Argument(..., help="Files, folders (recursive), http(s) URLs of pages, or - for stdin."),
    db: Optional[Path] = DbOption,
    allow_private: bool = typer.Option(False, "--allow-private", help="Let URL fetching reach loopback/private addresses."),
    field: Optional[list[str]] = typer.Option(None, "--field", help="Field mapping for JSON/CSV, e.g. text=body (repeatable)."),
    max_bytes: int = typer.Option(20 * 1024 * 1024, "--max-bytes", min=1,
                                  help="Largest file accepted, after decompression; for JSONL, the largest line "
                                       "(record), as a JSONL file of any size is read line by line."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Force a reader: txt, html, json, jsonl, csv, feed."),
    max_seconds: float = typer.Option(60.0, "--max-seconds", min=0.001,
                                      help="Longest time spent reading one file (JSONL: one batch of up to 64 records)."),
    as_json: bool = JsonOption,
) -> None:
    """Read articles into the store (cleaned, dated, language detected); re-ingesting is a no-op."""
    try:
        options = IngestOptions(max_bytes=max_bytes, fields=parse_field_options(field), format=fmt, max_seconds=max_seconds)
    except ValueError as exc:
        fail(str(exc), 2)
    with open_store(db) as store:
        pipeline = Pipeline(store, PipelineConfig(ingest=options))
        report, seconds = _run_ingest(pipeline, paths, allow_private)
    if as_json:
        emit([{"new": report.new, "duplicate": report.duplicate, "rejected": len(report.rejected),
                "rejections": [{"origin": r.origin, "reason": r.reason} for r in report.rejected],
                "notes": [{"origin": r.origin, "reason": r.reason} for r in report.notes],
                "seconds": round(seconds, 3)}])
    _print_report(report, seconds)
    raise typer.Exit(_exit_code(report))


@app.command()
def articles(
    db: Optional[Path] = DbOption,
    limit: int = typer.Option(20, "--limit", min=0, help="How many (0 = all)."),
    offset: int = typer.Option(0, "--offset", min=0),
    as_json: bool = JsonOption,
) -> None:
    """List stored articles in the order they arrived."""
    with open_store(db) as store:
        page = queries(store).articles(limit=limit or None, offset=offset)
    rows, total = page["items"], page["total"]
    if as_json:
        emit(rows)
        return
    table = Table(title=f"articles ({len(rows)} of {total})")
    for column in ("id", "published", "date from", "lang", "title"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["published"] or "—", r["date_provenance"], r["language"] or "?", escape((r["title"] or "")[:70]))
    console.print(table)


@app.command()
def show(article_id: str, db: Optional[Path] = DbOption, as_json: bool = JsonOption) -> None:
    """One article: metadata, date and its provenance, language, text and what enrichment found."""
    with open_store(db) as store:
        data = answer(store, lambda: queries(store).article(article_id))
    if as_json:
        emit([data])
        return
    console.print(f"[bold]{escape(data['title'] or '(no title)')}[/bold]  [dim]{data['id']}[/dim]")
    console.print(f"published: {data['published'] or '—'} ({data['published_provenance']}"
                  + (f": {escape(repr(data['date_evidence']))})" if data["date_evidence"] else ")"))
    console.print(f"language: {data['language']} ({data['language_confidence']:.2f})   "
                  f"source: {escape(data['source'] or '—')}   origin: {escape(data['origin'])}")
    if data["story_id"]:
        console.print(f"story: {data['story_id']}   event: {data['event_id']}")
    if data["entities"]:
        names = sorted({f"{e['canonical']} ({e['type']})" for e in data["entities"]})
        console.print("entities: " + escape(", ".join(names)))
    if data["dates"]:
        console.print("dates: " + escape(", ".join(f"{d['surface']!r}→{d['resolved']}" for d in data["dates"])))
    if data["problems"]:
        console.print("[yellow]problems:[/yellow] " + escape("; ".join(data["problems"])))
    console.print()
    console.print(escape(data["restored_text"] if data["restored_text"] is not None else data["text"]))


@app.command()
def search(query: str, db: Optional[Path] = DbOption, limit: int = typer.Option(20, "--limit", min=1), as_json: bool = JsonOption) -> None:
    """Full-text search over titles and texts (SQLite FTS5, bm25 ranking)."""
    from storyline.store.sqlite import MAX_QUERY_CHARS

    if len(query) > MAX_QUERY_CHARS:  # the HTTP API's limit too
        fail(f"the query is {len(query):,} characters; at most {MAX_QUERY_CHARS} are searched (as by the HTTP API)", 2)
    with open_store(db) as store:
        rows = queries(store).search(query, limit=limit)["items"]
    if as_json:
        emit(rows)
        return
    table = Table(title=plain(f"search {query!r}: {len(rows)} hits"))
    for column in ("id", "published", "score", "title"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["published"] or "—", f"{r['score']:.2f}", escape((r["title"] or "")[:70]))
    console.print(table)


EmbedderOption = typer.Option("use", "--embedder", help="Sentence embedder: use (multilingual, default) or minilm (English; needs the 'english' extra).")


def _config(embedder: str) -> PipelineConfig:
    from storyline.enrich.embed import EMBEDDERS

    if embedder not in EMBEDDERS:
        fail(f"unknown --embedder {embedder!r}; choose one of: {', '.join(sorted(EMBEDDERS))}", 2)
    return PipelineConfig(embedder=embedder)


def _enrich_and_place(pipeline: Pipeline) -> int:
    """Enrich and place; print how many articles each enrichment stage failed on.

    Returns the exit status: 1 when a stage failed on every article it saw (a broken or missing model
    must not pass for success), else 0. The articles are stored and placed either way.
    """
    store = pipeline.store
    with progress_bar() as bar:
        task = bar.add_task("enrich", total=store.count() - store.count(1), rate="")
        pipeline.enrich(progress=lambda n: bar.advance(task, n))
    with progress_bar() as bar:
        task = bar.add_task("place", total=store.count(1) - store.count(2), rate="")
        pipeline.place(progress=lambda n: bar.advance(task, n))
    pipeline.tell()
    result = pipeline.enrich_report
    for stage, n in sorted(result.failures.items()):
        errors.print(f"[yellow]enrichment: {stage} failed on {n} of {result.done} articles[/yellow] "
                     f"(see their problems with: storyline show ID)", soft_wrap=True)
    if result.quarantined:
        errors.print(f"[yellow]enrichment: {len(result.quarantined)} articles quarantined (stored, not placed): "
                     f"{escape(', '.join(f'{k} ({v})' for k, v in list(result.quarantined.items())[:3]))}"
                     f"{' …' if len(result.quarantined) > 3 else ''}[/yellow] (see: storyline show ID)", soft_wrap=True)
    if result.broken_stages:
        errors.print(f"[red]enrichment: {', '.join(result.broken_stages)} failed on every article; "
                     "check the installation of its model[/red]", soft_wrap=True)
        return 1
    return 0


@app.command()
def track(
    paths: list[str] = typer.Argument(..., help="Files, folders (recursive) or - for stdin."),
    db: Optional[Path] = DbOption,
    limit: int = typer.Option(20, "--limit", min=0, help="How many stories to print (largest first; 0 = all)."),
    out: Optional[Path] = typer.Option(Path("report.html"), "--report", help="Write the HTML report here ('' to skip)."),
    embedder: str = EmbedderOption,
    as_json: bool = JsonOption,
) -> None:
    """Ingest, enrich and place every article; print the stories with their timelines; write the HTML report."""
    out = out if out and str(out) not in ("", ".") else None
    from storyline.cli.stories import print_stories
    from storyline.cli.tell import print_timeline, write_reports

    with open_store(db) as store:
        pipeline = Pipeline(store, _config(embedder))
        report, seconds = _run_ingest(pipeline, paths)
        _print_report(report, seconds)
        status = _enrich_and_place(pipeline)
        ask = queries(store)
        page = ask.stories(sort="articles", limit=limit or None)
        if as_json:
            emit(page["items"])
        else:
            console.print(f"\n[bold]{page['total']} stories[/bold] from {ask.facets()['articles']} articles\n")
            for row in page["items"]:
                print_stories(ask, [row])
                print_timeline(ask, row["id"], max_dates=8)
                console.print()
        if out is not None:
            data = ask.report()
            write_reports(data, out, threads=ask.thread_reports([s["id"] for s in data]))
            errors.print(f"wrote the report: {out}")
    raise typer.Exit(max(_exit_code(report), status))


@app.command()
def enrich(db: Optional[Path] = DbOption, embedder: str = EmbedderOption) -> None:
    """Enrich and place stored articles that have not been yet (resumes an interrupted track)."""
    config = _config(embedder)
    with open_store(db) as store:
        status = _enrich_and_place(Pipeline(store, config))
    raise typer.Exit(status)
