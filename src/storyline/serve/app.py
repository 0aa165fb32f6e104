"""The application: one read connection behind the query layer, one background writer, API + pages + feeds.

``create_app(db)`` is what ``storyline serve`` runs under uvicorn and what the tests drive with FastAPI's
TestClient. Reads never wait for the writer (SQLite WAL); the write endpoint is off unless a token is set.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from storyline.queries import Queries
from storyline.serve.security import SECURITY_HEADERS, BodyLimit, HeadAsGet
from storyline.store import Store

__all__ = ["create_app", "MAX_BODY"]

log = logging.getLogger("storyline.serve")

MAX_BODY = 5 * 1024 * 1024  # bytes of one request body (100 articles of ~50 KB)
STATIC = Path(__file__).parent / "static"


def _warm(queries: Queries, freeze: bool) -> None:
    """Build the read index and load the vectors in the background as the server starts; then (``freeze``:
    a server process of its own) move what is alive (modules, the first index) out of the cyclic garbage
    collector's reach (``gc.freeze``): its full collections walked those ~190,000 objects of a
    10,000-article store in ~90 ms every ten seconds or so, stalling every request in flight. Refcounting
    still frees them; only cycles among them would stay, which is why an app embedded in another program
    (the tests) does not freeze that program's objects."""
    try:
        queries.warm()
    except Exception as exc:  # noqa: BLE001 - the first request that needs them builds them and reports
        log.debug("warming the read layer failed: %s", exc)
    if freeze:
        gc.freeze()


def create_app(db: str | Path | None = None, *, token: str | None = None, writer: bool = True,
               max_body: int = MAX_BODY, watcher: Any = None, freeze_gc: bool = False) -> FastAPI:
    """The FastAPI app over the store at ``db``. ``token`` defaults to ``$STORYLINE_TOKEN``; ``watcher``
    (a ``storyline.fetch.watch.Watcher``) is started with the app and fed into the same writer;
    ``freeze_gc``: the process is this server's own (``storyline serve``), see ``_warm``."""
    from storyline.serve import api, feeds, threads, web

    path = Path(db) if db is not None else None
    store = Store(path)
    state_token = token if token is not None else os.environ.get("STORYLINE_TOKEN") or None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if writer and app.state.writer is None:
            from storyline.serve.writer import Writer

            app.state.writer = Writer(store.path, on_change=app.state.queries.refresh)
        threading.Thread(target=_warm, args=(app.state.queries, freeze_gc), name="storyline-warm", daemon=True).start()
        if watcher is not None and app.state.writer is not None:
            watcher.attach(app.state.writer.get_state, app.state.writer.set_state)
            watcher.start(app.state.writer.submit)
        try:
            yield
        finally:
            if watcher is not None:
                watcher.stop()
            if app.state.writer is not None:
                app.state.writer.close()
                app.state.writer = None

    # docs_url/redoc_url off: both pages load scripts from a CDN, which the pages' policy (and the brief:
    # nothing from outside) forbids; the schema itself is at /openapi.json
    app = FastAPI(title="Storyline", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Stories tracked across outlets, languages and months: read them, follow them, feed them.")
    # its writer is preparing the changed stories' views, and ends each round with a refresh of the index;
    # readers rebuild it in between only as far as a fifth of the web process's time allows
    app.state.queries = Queries(store, stale_views=writer, rebuild_share=0.2 if writer else None)
    app.state.token = state_token
    app.state.writer = None
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(threads.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    web.install_error_handlers(app)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(HeadAsGet)
    return app
