"""``storyline serve``: the HTTP API and the web pages (uvicorn), optionally watching feeds as well."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from storyline.cli.common import DbOption, app, errors
from storyline.store import default_db_path


@app.command()
def serve(
    db: Optional[Path] = DbOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (only loopback unless you say otherwise)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    watch: Optional[list[str]] = typer.Option(None, "--watch", help="Also poll this feed URL or OPML file (repeatable)."),
    every: str = typer.Option("10m", "--every", help="How often to poll watched feeds, e.g. 30s, 10m, 1h."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Let the fetcher reach loopback/private addresses."),
) -> None:
    """Serve the web app and the API on http://HOST:PORT (OpenAPI schema at /openapi.json). Writes need STORYLINE_TOKEN."""
    import os

    import uvicorn

    from storyline.serve import create_app

    watcher = None
    if watch:
        from storyline.cli.watch import make_watcher

        watcher = make_watcher(watch, every, allow_private)
    path = db or default_db_path()
    application = create_app(path, watcher=watcher, freeze_gc=True)
    token = "on (STORYLINE_TOKEN)" if os.environ.get("STORYLINE_TOKEN") else "off (set STORYLINE_TOKEN to enable POST /articles)"
    errors.print(f"serving {path} on http://{host}:{port}/  ·  OpenAPI /openapi.json  ·  write endpoint {token}")
    uvicorn.run(application, host=host, port=port, log_level="warning")
