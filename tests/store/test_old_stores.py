"""Stores written by earlier Storylines open, migrate and work (issue 21).

The fixtures were built by the code of their time (``git archive <commit>``, then that code's own CLI on
``examples/seeds``): ``v1_d1ea37c.db`` by ``storyline ingest`` at d1ea37c (schema v1, before
``entity_aliases.mentions`` was edited into v1), ``v2_22dfc81.db`` by ``storyline track`` at 22dfc81 (its v2
was the source-id migration that is v3 today). Before: the v1 store migrated but every ``enrich`` failed
with "no such column: mentions"; the v2 store could not be opened ("duplicate column name: source_id").
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli import app
from storyline.model import Document, follow_redirects
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.queries import Queries
from storyline.store import PLACED, Store
from storyline.store.schema import SCHEMA_VERSION, DamagedStore

FIXTURES = Path(__file__).parent / "fixtures"
TEXT = ("Afghan government negotiators and the Taliban met in Doha on Tuesday to discuss a ceasefire, "
        "a step the agreement with the United States requires, officials said.")


def _schema(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: {r[1] for r in connection.execute(f'PRAGMA table_info("{t}")')} for t in tables}


def _all_placed_in_live_events(store: Store) -> None:
    assert store.count(PLACED) == store.count() > 0
    redirects = store.redirects()
    for article in store.articles():
        event = store.get_event(follow_redirects(redirects, article.event_id))
        assert event is not None and article.id in event.article_ids


@pytest.mark.parametrize("fixture", ["v1_d1ea37c.db", "v2_22dfc81.db"])
def test_an_old_store_migrates_enriches_places_and_has_todays_schema(fixture, tmp_path):
    db = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, db)
    with Store(db) as store:  # a copy: the fixture stays as the code of its time built it
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        pipeline = Pipeline(store, PipelineConfig(workers=1))
        report = pipeline.ingest_documents([Document(text=TEXT, origin="new:1", published="2020-03-10")])
        assert report.new == 1
        pipeline.enrich()
        pipeline.place()
        assert pipeline.enrich_report.broken_stages == []
        _all_placed_in_live_events(store)
        ask = Queries(store)
        stories = ask.stories()["items"]
        assert stories and ask.story(stories[0]["id"])["timeline"] is not None
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    assert _schema(db) == _schema(fresh)


def test_a_damaged_schema_version_says_so(tmp_path):
    db = tmp_path / "damaged.db"
    shutil.copyfile(FIXTURES / "v2_22dfc81.db", db)
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA user_version = -7")
    with pytest.raises(DamagedStore, match="damaged"):
        Store(db)
    result = CliRunner().invoke(app, ["articles", "--db", str(db)])
    assert result.exit_code == 2 and "damaged" in result.output and "list index" not in result.output
    with sqlite3.connect(db) as connection:  # nothing was changed
        assert connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 2


# How store/views.py created the table on first write before migration v7 (verbatim), in a store of v6.
_RUNTIME_VIEWS = """
CREATE TABLE IF NOT EXISTS cluster_views (
    kind TEXT NOT NULL,          -- 'story' (and 'thread' later)
    id TEXT NOT NULL,
    version TEXT NOT NULL,       -- the membership it was computed from (Queries.view_version)
    data TEXT NOT NULL,          -- JSON: timeline(s), summary, actors, sources, what's new, articles
    prepared_at TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)
"""


@pytest.mark.parametrize("had_views", [False, True])
def test_a_v6_store_gets_the_views_table_once_and_keeps_views_it_had(had_views, tmp_path):
    """Migration v7 builds ``cluster_views``; a v6 store that already made it at run time keeps its rows."""
    db = tmp_path / "v6.db"
    Store(db).close()
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TABLE cluster_views")
        if had_views:
            connection.execute(_RUNTIME_VIEWS)
            connection.execute("INSERT INTO cluster_views VALUES ('story', 's1', 'v', '{}', '2026-01-01')")
        connection.execute("PRAGMA user_version = 6")
    for _ in range(2):  # opening again finds nothing to do
        with Store(db) as store:
            assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
            rows = store.db.execute("SELECT kind, id, version FROM cluster_views").fetchall()
            assert [tuple(r) for r in rows] == ([("story", "s1", "v")] if had_views else [])
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    assert _schema(db) == _schema(fresh)
