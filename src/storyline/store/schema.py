"""The store's schema, as an ordered list of migrations.

``PRAGMA user_version`` records how many have run; opening a store runs the rest, each in its own
transaction, so an old file upgrades in place and a new one is built by the same path.
"""

from __future__ import annotations

import re
import sqlite3

__all__ = ["DamagedStore", "MIGRATIONS", "SCHEMA_VERSION", "migrate"]

MIGRATIONS: list[str] = [
    # 1: articles, full-text index, stories
    """
    CREATE TABLE articles (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        content_hash TEXT NOT NULL,
        title TEXT,
        text TEXT NOT NULL,
        original_text TEXT NOT NULL,
        origin TEXT NOT NULL,
        source TEXT,
        url TEXT,
        author TEXT,
        language TEXT,
        language_confidence REAL,
        published TEXT,
        published_provenance TEXT NOT NULL,
        date_evidence TEXT,
        text_offset INTEGER NOT NULL DEFAULT 0,
        ingested_at TEXT NOT NULL,
        extra TEXT NOT NULL DEFAULT '{}',
        stage INTEGER NOT NULL DEFAULT 0,          -- 0 ingested, 1 enriched, 2 placed
        restored_text TEXT,
        enrichment TEXT,                           -- JSON: sentences, restoration, entities, dates, models, problems
        embedding BLOB,                            -- float32
        fingerprint BLOB,                          -- uint64 MinHash values
        event_id TEXT,
        story_id TEXT,
        duplicate_of TEXT
    );
    CREATE INDEX articles_hash ON articles(content_hash);
    CREATE INDEX articles_stage ON articles(stage, rowid);
    CREATE INDEX articles_event ON articles(event_id);
    CREATE INDEX articles_story ON articles(story_id);
    CREATE INDEX articles_published ON articles(published);

    CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', content_rowid='rowid');
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
        INSERT INTO articles_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
    END;

    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        story_id TEXT,
        first_date TEXT,
        last_date TEXT,
        data TEXT NOT NULL,                        -- JSON: article_ids, entity_counts, title, ...
        centroid BLOB,
        merged_into TEXT
    );
    CREATE TABLE stories (
        id TEXT PRIMARY KEY,
        first_date TEXT,
        last_date TEXT,
        data TEXT NOT NULL,
        centroid BLOB,
        merged_into TEXT
    );
    CREATE TABLE links (
        article_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL,
        score REAL NOT NULL,
        parts TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE entity_aliases (
        alias TEXT NOT NULL,
        canonical TEXT NOT NULL,
        type TEXT NOT NULL,
        mentions INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (alias, type)
    );
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # v2: what placement needs to resume exactly as if never interrupted: the exact running sums behind
    # centroids, and the online document frequencies (current counts and the snapshot IDF is read from)
    """
    ALTER TABLE events ADD COLUMN embedding_sum BLOB;
    ALTER TABLE stories ADD COLUMN embedding_sum BLOB;
    CREATE TABLE doc_freq (
        term TEXT PRIMARY KEY,
        n INTEGER NOT NULL,                        -- articles placed so far that carry the term
        n_idf INTEGER NOT NULL DEFAULT 0           -- the same at the last IDF snapshot
    ) WITHOUT ROWID;
    CREATE TABLE placement_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # v3: ids are scoped by source (two feeds may both say "1"); the source's own id is kept to look up by.
    #    The unused key/value table goes.
    """
    ALTER TABLE articles ADD COLUMN source_id TEXT;
    CREATE INDEX articles_source_id ON articles(source_id);
    DROP TABLE state;
    """,
    # v4: what feed watching remembers between runs (ETag, Last-Modified, backoff), key -> JSON
    """
    CREATE TABLE watch_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # v5: a placer resuming on a large store loads only the open events and stories (and the frozen
    #    events of open stories), found by date and story instead of by reading every record
    """
    CREATE INDEX events_last ON events(last_date);
    CREATE INDEX events_story ON events(story_id);
    CREATE INDEX stories_last ON stories(last_date);
    """,
    # v6: threads, the level above stories: long-running coverage of one situation. A story names its
    #    thread (followed through thread merges like any id); a thread keeps its anchors in ``data``
    """
    ALTER TABLE stories ADD COLUMN thread_id TEXT;
    CREATE INDEX stories_thread ON stories(thread_id);
    CREATE TABLE threads (
        id TEXT PRIMARY KEY,
        first_date TEXT,
        last_date TEXT,
        data TEXT NOT NULL,                        -- JSON: story_ids, anchors, title, size
        centroid BLOB,
        merged_into TEXT,
        embedding_sum BLOB
    );
    CREATE INDEX threads_last ON threads(last_date);
    """,
    # v7: prepared views (store/views.py): what a story's or thread's page shows, written when its membership
    #    changes, with the membership version it was computed from. Stores of v6 may already hold the table
    #    (it was created on first write then); the migration then finds it and adds nothing.
    """
    CREATE TABLE cluster_views (
        kind TEXT NOT NULL,          -- 'story' or 'thread'
        id TEXT NOT NULL,
        version TEXT NOT NULL,       -- the membership it was computed from (Queries.view_version)
        data TEXT NOT NULL,          -- JSON: timeline(s), summary, actors, sources, what's new, articles
        prepared_at TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class DamagedStore(RuntimeError):
    """The file's schema version is not one any Storyline wrote."""


def _version(connection: sqlite3.Connection) -> int:
    found = connection.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"store schema v{found} is newer than this Storyline (v{SCHEMA_VERSION}); upgrade Storyline"
        )
    if found < 0:
        raise DamagedStore(
            f"store schema version {found} is damaged (Storyline writes 0 to {SCHEMA_VERSION}); if this is a "
            f"Storyline store, restore it from a copy, or set the version its tables show with "
            f"sqlite3 FILE 'PRAGMA user_version=N'"
        )
    return found


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the database up to SCHEMA_VERSION; returns the version it found.

    The version is read again inside one write transaction (BEGIN IMMEDIATE), so processes that open a
    new store at the same moment run each migration once: the others wait, then find it done. The
    connection must be in autocommit mode (``isolation_level=None``) so no statement commits early.

    Early stores were written while migrations were still being edited in place (a v1 store without
    ``entity_aliases.mentions``; a v2 store whose v2 was today's v3), so the recorded version alone does not
    say what a file holds. Each statement is therefore applied only when its effect is missing, and the
    result is checked against the schema the migrations build: a missing table, column or index is added
    (never anything dropped or rewritten), so an old store opens, migrates and works.
    """
    found = _version(connection)
    if found == SCHEMA_VERSION and not _missing(connection):
        return found
    connection.execute("BEGIN IMMEDIATE")
    try:
        current = _version(connection)
        for version in range(current, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[version]):
                if _needed(connection, statement):
                    connection.execute(statement)
        for statement in _missing(connection):
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return found


_ADD_COLUMN = re.compile(r"^\s*ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)", re.I)
_CREATE = re.compile(r"^\s*CREATE\s+(?:VIRTUAL\s+)?(TABLE|INDEX|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I)
_DROP = re.compile(r"^\s*DROP\s+(TABLE|INDEX|TRIGGER)\s+(?:IF\s+EXISTS\s+)?(\w+)", re.I)


def _exists(connection: sqlite3.Connection, kind: str, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?",
                              (kind.lower(), name)).fetchone() is not None


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}


def _needed(connection: sqlite3.Connection, statement: str) -> bool:
    """Whether a migration statement still has something to do in this file."""
    if m := _ADD_COLUMN.match(statement):
        return m.group(2) not in _columns(connection, m.group(1))
    if m := _CREATE.match(statement):
        return not _exists(connection, m.group(1), m.group(2))
    if m := _DROP.match(statement):
        return _exists(connection, m.group(1), m.group(2))
    return True


_EXPECTED: list[tuple[str, str, str, list[tuple]]] | None = None


def _expected() -> list[tuple[str, str, str, list[tuple]]]:
    """(type, name, sql, columns) of every table, index and trigger the migrations build, in build order."""
    global _EXPECTED
    if _EXPECTED is None:
        scratch = sqlite3.connect(":memory:")
        for script in MIGRATIONS:
            for statement in _statements(script):
                scratch.execute(statement)
        rows = scratch.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
        _EXPECTED = [(kind, name, sql, list(scratch.execute(f'PRAGMA table_info("{name}")')) if kind == "table" else [])
                     for kind, name, sql in rows]
        scratch.close()
    return _EXPECTED


def _missing(connection: sqlite3.Connection) -> list[str]:
    """Statements that add what this file lacks of the schema the migrations build (tables, columns, indexes,
    triggers); empty for a store that is whole. Nothing is ever dropped or changed."""
    out: list[str] = []
    present = {(kind, name) for kind, name in connection.execute("SELECT type, name FROM sqlite_master")}
    for kind, name, sql, columns in _expected():
        if (kind, name) not in present:
            if not (kind == "table" and name.startswith("articles_fts_")):  # FTS5's shadow tables come with it
                out.append(sql)
            continue
        if kind == "table":
            have = _columns(connection, name)
            for _, column, declared, notnull, default, _pk in columns:
                if column not in have:
                    out.append(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {declared}'
                               + (f" NOT NULL" if notnull else "") + (f" DEFAULT {default}" if default is not None else ""))
    return out


def _statements(script: str) -> list[str]:
    """A migration script as single statements (executescript would commit the open transaction)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        out.append(pending.strip())
    return [s for s in out if s.rstrip(";").strip()]
