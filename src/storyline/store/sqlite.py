"""The embedded system of record: one SQLite file in WAL mode.

Every batch is written in one transaction, so a killed process leaves each committed batch whole and
nothing half-written; the next run finds what is missing by id and content hash and adds only that.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from storyline.model import Article, Event, Link, Story, Thread, follow_redirects
from storyline.store.records import (
    ARTICLE_COLUMNS,
    RECORD_COLUMNS,
    article_row,
    event_row,
    row_article,
    row_event,
    row_story,
    row_thread,
    story_row,
    thread_row,
)
from storyline.store.lock import DEFAULT_WAIT, WriterLock
from storyline.store.schema import SCHEMA_VERSION, migrate

__all__ = ["Store", "default_db_path", "INGESTED", "ENRICHED", "PLACED", "QUARANTINED"]

INGESTED, ENRICHED, PLACED = 0, 1, 2
QUARANTINED = 3  # past enrichment for good, never placed: the reason is in the article's problems
MAX_SEARCH_TERMS = 64  # distinct words of one full-text query (the HTTP API also caps a query at 500 characters)
MAX_QUERY_CHARS = 500


def default_db_path() -> Path:
    return Path(os.environ.get("STORYLINE_DB", "storyline.db"))


def _writable(path: Path) -> bool:
    """Whether this process may write the store: the file, and its folder (SQLite's WAL and shared-memory
    files live beside it; in a read-only folder even reading failed trying to create them)."""
    return os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK | os.X_OK)


def _read_only_uri(path: Path) -> str:
    """A read-only connection's URI. In a folder nobody here may write, with no shared-memory file beside
    the store, no writer can be at work (a WAL writer needs those files), so the file is opened as
    immutable: SQLite then reads it without creating them."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not os.access(path.resolve().parent, os.W_OK) and not Path(f"{path}-shm").exists():
        uri += "&immutable=1"
    return uri


def _by_date(article: Article) -> tuple:
    return (article.published is None, article.published or "", article.id)


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if str(self.path) != ":memory:" and self.path.parent and not self.path.parent.exists():
            raise FileNotFoundError(f"folder for the store does not exist: {self.path.parent} (create it or pass another --db)")
        self.read_only = str(self.path) != ":memory:" and self.path.exists() and not _writable(self.path)
        if self.read_only:  # reading a store one may not write is fine; writing says so (see cli.open_store)
            self.db = sqlite3.connect(_read_only_uri(self.path), uri=True, isolation_level=None,
                                      check_same_thread=False, timeout=30)
        else:
            self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA busy_timeout=30000")  # first: the pragmas below may wait on another opener
        self._depth = 0
        self._writer = None if str(self.path) == ":memory:" else WriterLock(self.path)
        if self.read_only:
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                raise sqlite3.OperationalError("store is read-only and needs a schema upgrade: open it writable once")
            return
        self._wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        migrate(self.db)

    def _wal(self, patience: float = 30.0) -> None:
        """Switch a new store to WAL. The switch needs the file to itself and SQLite does not always wait
        for that (several processes opening one new store at once got "database is locked"), so retry."""
        import time

        deadline = time.monotonic() + patience
        while True:
            try:
                if self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # --- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """One atomic batch; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    @contextlib.contextmanager
    def writer(self, wait: float = DEFAULT_WAIT) -> Iterator[tuple[str | None, str | None]]:
        """Hold the store's writer lock (``store.lock``): one enrichment or placement run at a time across
        processes. Yields (found, mine): the generation token the last hold left and this hold's own. A
        caller that keeps state about the store between holds compares ``found`` with the ``mine`` of its
        own last hold: when they differ, another writer wrote in between and the state must be reloaded.
        Raises ``StoreBusy`` naming the holder after ``wait`` seconds. Re-entrant; a ``:memory:`` store
        has no other writer (it yields ("memory", "memory"))."""
        if self._writer is None:
            yield "memory", "memory"
            return
        found = self._writer.acquire(wait)
        try:
            yield found, self._writer.generation
        finally:
            self._writer.release()

    # --- articles --------------------------------------------------------------------------
    def known(self, ids: Sequence[str], hashes: Sequence[str]) -> tuple[set[str], dict[str, str]]:
        """Which of these ids the store already holds, and the stored article id for each known content hash."""
        found_ids: set[str] = set()
        by_hash: dict[str, str] = {}
        for chunk in range(0, len(ids), 500):
            part = list(ids[chunk : chunk + 500])
            q = ",".join("?" * len(part))
            found_ids.update(r[0] for r in self.db.execute(f"SELECT id FROM articles WHERE id IN ({q})", part))
        for chunk in range(0, len(hashes), 500):
            part = list(hashes[chunk : chunk + 500])
            q = ",".join("?" * len(part))
            by_hash.update(
                (r[0], r[1]) for r in self.db.execute(
                    f"SELECT content_hash, id FROM articles WHERE content_hash IN ({q}) ORDER BY rowid DESC", part)
            )
        return found_ids, by_hash

    def add_articles(self, articles: Iterable[Article], stage: int = INGESTED) -> int:
        cols = ",".join(ARTICLE_COLUMNS)
        marks = ",".join("?" * len(ARTICLE_COLUMNS))
        rows = [article_row(a, stage) for a in articles]
        with self.transaction():
            self.db.executemany(f"INSERT INTO articles ({cols}) VALUES ({marks})", rows)
        return len(rows)

    def update_articles(self, articles: Iterable[Article], stage: int) -> None:
        """Write back what later stages learned (never the text: stored text is not changed)."""
        sets = [c for c in ARTICLE_COLUMNS if c not in ("id", "text", "original_text", "content_hash", "ingested_at", "origin")]
        assign = ",".join(f"{c}=?" for c in sets)
        index = {c: i for i, c in enumerate(ARTICLE_COLUMNS)}
        rows = []
        for article in articles:
            row = article_row(article, stage)
            rows.append([row[index[c]] for c in sets] + [article.id])
        with self.transaction():
            self.db.executemany(f"UPDATE articles SET {assign} WHERE id=?", rows)

    def get_article(self, article_id: str) -> Article | None:
        """By id, else by the source's own id when one article has it, else by a unique id prefix (as git)."""
        row = self.db.execute("SELECT * FROM articles WHERE id=?", (article_id,)).fetchone()
        if row is None:
            rows = self.db.execute("SELECT * FROM articles WHERE source_id=? LIMIT 2", (article_id,)).fetchall()
            row = rows[0] if len(rows) == 1 else None
        if row is None and len(article_id) >= 4:
            pattern = article_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.db.execute("SELECT * FROM articles WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,)).fetchall()
            row = rows[0] if len(rows) == 1 else None
        return row_article(row) if row else None

    def ids_with_source_id(self, source_id: str, limit: int = 20) -> list[str]:
        """Stored ids of the articles whose source called them ``source_id`` (several sources may)."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles WHERE source_id=? ORDER BY rowid LIMIT ?",
                                              (source_id, limit))]

    def get_articles(self, ids: Sequence[str]) -> list[Article]:
        out: dict[str, Article] = {}
        for chunk in range(0, len(ids), 500):
            part = list(ids[chunk : chunk + 500])
            q = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT * FROM articles WHERE id IN ({q})", part):
                out[row["id"]] = row_article(row)
        return [out[i] for i in ids if i in out]

    def articles(self, limit: int | None = None, offset: int = 0, stage: int | None = None,
                 max_stage: int | None = None) -> Iterator[Article]:
        where, params = [], []
        if stage is not None:
            where.append("stage = ?")
            params.append(stage)
        if max_stage is not None:
            where.append("stage <= ?")
            params.append(max_stage)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT * FROM articles {clause} ORDER BY rowid LIMIT ? OFFSET ?"
        for row in self.db.execute(sql, (*params, -1 if limit is None else limit, offset)).fetchall():
            yield row_article(row)

    def date_anchor_and_weak(self, ids: Sequence[str]) -> tuple[str | None, list[Article]]:
        """Latest firmly dated publication among these articles, and those whose date is undated/inferred."""
        anchor: str | None = None
        weak: list[Article] = []
        for chunk in range(0, len(ids), 500):
            part = list(ids[chunk : chunk + 500])
            q = ",".join("?" * len(part))
            latest = self.db.execute(
                f"SELECT MAX(published) FROM articles WHERE id IN ({q}) "
                "AND published_provenance NOT IN ('undated', 'inferred', 'untrusted')", part
            ).fetchone()[0]
            anchor = max(filter(None, (anchor, latest)), default=None)
            weak.extend(row_article(r) for r in self.db.execute(
                f"SELECT * FROM articles WHERE id IN ({q}) AND published_provenance IN ('undated', 'inferred', 'untrusted')", part))
        return anchor, weak

    def pending_ids(self, below: int) -> list[str]:
        """Ids of articles that have not reached stage ``below``, in arrival order."""
        return [r[0] for r in self.db.execute("SELECT id FROM articles WHERE stage < ? ORDER BY rowid", (below,))]

    def ready_to_place(self, limit: int) -> list[Article]:
        """Enriched, unplaced articles, oldest publication first and undated last (they lean on dated ones)."""
        rows = self.db.execute(
            "SELECT * FROM articles WHERE stage = ? ORDER BY published IS NULL, published, rowid LIMIT ?",
            (ENRICHED, limit),
        ).fetchall()
        return [row_article(r) for r in rows]

    def recent_fingerprints(self, limit: int) -> list[tuple[str, "np.ndarray"]]:
        """(id, MinHash values) of the ``limit`` most recently placed articles, in arrival order."""
        rows = self.db.execute(
            "SELECT id, fingerprint FROM articles WHERE stage = ? AND fingerprint IS NOT NULL "
            "ORDER BY rowid DESC LIMIT ?",
            (PLACED, limit),
        ).fetchall()
        return [(r[0], np.frombuffer(r[1], dtype=np.uint64).copy()) for r in reversed(rows)]

    def originals(self, ids: Sequence[str]) -> int:
        """How many of these articles are not near-duplicates of another (copies don't inflate counts)."""
        total = 0
        for chunk in range(0, len(ids), 500):
            part = list(ids[chunk : chunk + 500])
            q = ",".join("?" * len(part))
            total += self.db.execute(
                f"SELECT COUNT(*) FROM articles WHERE id IN ({q}) AND duplicate_of IS NULL", part
            ).fetchone()[0]
        return total

    def count(self, stage: int | None = None) -> int:
        if stage is None:
            return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM articles WHERE stage >= ?", (stage,)).fetchone()[0]

    def search(self, query: str, limit: int = 20) -> list[tuple[Article, float]]:
        """FTS5 search over title and text, best first (bm25). Plain words are matched as terms."""
        hits = self.search_ids(query, limit)
        found = {a.id: a for a in self.get_articles([i for i, _ in hits])}
        return [(found[i], score) for i, score in hits if i in found]

    # --- events and stories ----------------------------------------------------------------
    def _replace(self, table: str, kind: str, rows: list[tuple]) -> None:
        columns = RECORD_COLUMNS[kind]
        with self.transaction():
            self.db.executemany(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) "
                                f"VALUES ({','.join('?' * len(columns))})", rows)

    def save_events(self, events: Iterable[Event]) -> None:
        self._replace("events", "event", [event_row(e) for e in events])

    def save_stories(self, stories: Iterable[Story]) -> None:
        self._replace("stories", "story", [story_row(s) for s in stories])

    def save_threads(self, threads: Iterable[Thread]) -> None:
        self._replace("threads", "thread", [thread_row(t) for t in threads])

    def save_links(self, links: Iterable[Link]) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO links (article_id, event_id, score, parts) VALUES (?,?,?,?)",
                [(k.article_id, k.event_id, k.score, json.dumps(k.parts)) for k in links],
            )

    def save_doc_freq(self, docs: int, added: dict[str, int], snapshot: tuple[int, dict[str, int]] | None) -> None:
        """Add a batch's document frequencies; with ``snapshot`` (docs, counts) also record a new IDF snapshot."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO doc_freq (term, n) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET n = n + excluded.n",
                sorted(added.items()),
            )
            state = [("docs", str(docs))]
            if snapshot is not None:
                snap_docs, counts = snapshot
                self.db.executemany("UPDATE doc_freq SET n_idf = ? WHERE term = ?", [(n, t) for t, n in counts.items()])
                state.append(("idf_docs", str(snap_docs)))
            self.db.executemany("INSERT OR REPLACE INTO placement_state (key, value) VALUES (?, ?)", state)

    def doc_freq(self) -> tuple[int, dict[str, int], int, dict[str, int]]:
        """(docs, counts, docs at the IDF snapshot, counts at it), as ``save_doc_freq`` left them."""
        state = dict(self.db.execute("SELECT key, value FROM placement_state").fetchall())
        counts: dict[str, int] = {}
        snapshot: dict[str, int] = {}
        for term, n, n_idf in self.db.execute("SELECT term, n, n_idf FROM doc_freq"):
            counts[term] = n
            if n_idf:
                snapshot[term] = n_idf
        return int(state.get("docs", 0)), counts, int(state.get("idf_docs", 0)), snapshot

    def placement_order(self, ids: Sequence[str]) -> list[str]:
        """``ids`` in the order placement met them (as ``ready_to_place`` hands articles out)."""
        rows: list[tuple] = []
        ids = list(dict.fromkeys(ids))
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows += self.db.execute(
                f"SELECT id, published, rowid FROM articles WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
        rows.sort(key=lambda r: (r[1] is None, r[1] or "", r[2]))
        return [r[0] for r in rows]

    def get_state(self, key: str) -> str | None:
        """What feed watching stored under ``key`` (ETag, Last-Modified, backoff), or None."""
        row = self.db.execute("SELECT value FROM watch_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO watch_state (key, value) VALUES (?, ?)", (key, value))

    def reassign(self, moved: dict[str, tuple[str, str]]) -> None:
        """Point already placed articles at the event and story a split moved them to."""
        rows = [(event, story, article) for article, (event, story) in sorted(moved.items())]
        with self.transaction():
            self.db.executemany("UPDATE articles SET event_id = ?, story_id = ? WHERE id = ?", rows)
            self.db.executemany("UPDATE links SET event_id = ? WHERE article_id = ?", [(e, a) for e, _, a in rows])

    def redirects(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for table in ("events", "stories", "threads"):
            out.update(self.db.execute(f"SELECT id, merged_into FROM {table} WHERE merged_into IS NOT NULL").fetchall())
        return out

    def events(self, include_merged: bool = False) -> list[Event]:
        clause = "" if include_merged else "WHERE merged_into IS NULL"
        return [row_event(r) for r in self.db.execute(f"SELECT * FROM events {clause} ORDER BY first_date, id")]

    def stories(self, include_merged: bool = False) -> list[Story]:
        clause = "" if include_merged else "WHERE merged_into IS NULL"
        return [row_story(r) for r in self.db.execute(f"SELECT * FROM stories {clause} ORDER BY first_date, id")]

    def threads(self, include_merged: bool = False) -> list[Thread]:
        clause = "" if include_merged else "WHERE merged_into IS NULL"
        return [row_thread(r) for r in self.db.execute(f"SELECT * FROM threads {clause} ORDER BY first_date, id")]

    def thread_records(self, thread_days: int) -> tuple[list[Thread], list[Story]]:
        """What a thread linker needs to go on (``ThreadLinker.restore``): the threads still open (last date
        within ``thread_days`` of the newest) and every story that names one of them, open or frozen, since a
        thread's anchors are the sum of its stories'. Older threads are final and never read again."""
        latest = self.db.execute("SELECT max(last_date) FROM threads WHERE merged_into IS NULL").fetchone()[0]
        if latest is None:  # no dated thread: a new store, or one from before threads (no story names one yet)
            threads = self.threads()
        else:
            edge = (dt.date.fromisoformat(latest) - dt.timedelta(days=thread_days)).isoformat()
            threads = [row_thread(r) for r in self.db.execute(
                "SELECT * FROM threads WHERE merged_into IS NULL AND (last_date IS NULL OR last_date >= ?) "
                "ORDER BY first_date, id", (edge,))]  # fmt: skip
        stories = self._stories_of(threads)
        return threads, stories

    def placement_records(self, event_days: int, story_days: int,
                          redirects: dict[str, str]) -> tuple[list[Event], list[Story]]:
        """The records a placer needs to go on (``StoryPlacer.restore``): the stories still open, the events
        still open and every event of an open story. What is older is final, so a placer never reads it
        again (``StoryPlacer.forget_frozen``); loading it would make a resumed run cost the whole store.
        ``redirects`` (what ``redirects()`` returns, which the placer is given too) names merged-away story
        ids that open stories' events may still carry.
        """
        latest = self.db.execute("SELECT max(last_date) FROM events WHERE merged_into IS NULL").fetchone()[0]
        if latest is None:
            return self.events(), self.stories()
        day = dt.date.fromisoformat(latest)
        story_edge = (day - dt.timedelta(days=story_days)).isoformat()
        event_edge = (day - dt.timedelta(days=event_days)).isoformat()
        stories = [row_story(r) for r in self.db.execute(
            "SELECT * FROM stories WHERE merged_into IS NULL AND (last_date IS NULL OR last_date >= ?) "
            "ORDER BY first_date, id", (story_edge,))]  # fmt: skip
        open_ids = {s.id for s in stories}
        named = sorted(open_ids | {old for old in redirects if old.startswith("st-") and follow_redirects(redirects, old) in open_ids})
        events = [row_event(r) for r in self.db.execute(
            "SELECT * FROM events WHERE merged_into IS NULL AND ((last_date IS NOT NULL AND last_date >= ?) "
            "OR story_id IN (SELECT value FROM json_each(?))) ORDER BY first_date, id",
            (event_edge, json.dumps(named)))]  # fmt: skip
        return events, stories

    def _stories_of(self, threads: list[Thread]) -> list[Story]:
        """The live stories a set of threads holds, by the threads' own lists: a story's ``thread_id`` column
        may still name a thread that merged into another after the story was last written."""
        ids = json.dumps(sorted({k for t in threads for k in t.story_ids}))
        return [row_story(r) for r in self.db.execute(
            "SELECT * FROM stories WHERE merged_into IS NULL AND id IN (SELECT value FROM json_each(?)) "
            "ORDER BY first_date, id", (ids,))]  # fmt: skip

    def records_between(self, event_span: tuple[dt.date, dt.date],
                        story_span: tuple[dt.date, dt.date]) -> tuple[list[Event], list[Story]]:
        """What a late article's window reaches (``StoryPlacer`` ``history``): events last active in
        ``event_span``, stories last active in ``story_span``, the stories of those events, and every event
        of those stories (a story is judged by its whole core). Indexed on ``last_date``."""
        (e_lo, e_hi), (s_lo, s_hi) = ((a.isoformat(), b.isoformat()) for a, b in (event_span, story_span))
        stories = [row_story(r) for r in self.db.execute(
            "SELECT * FROM stories WHERE merged_into IS NULL AND (last_date BETWEEN ? AND ? OR id IN ("
            "SELECT story_id FROM events WHERE merged_into IS NULL AND last_date BETWEEN ? AND ?)) "
            "ORDER BY first_date, id", (s_lo, s_hi, e_lo, e_hi))]  # fmt: skip
        ids = json.dumps(sorted(s.id for s in stories))
        events = [row_event(r) for r in self.db.execute(
            "SELECT * FROM events WHERE merged_into IS NULL AND (last_date BETWEEN ? AND ? OR "
            "story_id IN (SELECT value FROM json_each(?))) ORDER BY first_date, id", (e_lo, e_hi, ids))]  # fmt: skip
        return events, stories

    def threads_between(self, story_ids: list[str],
                        span: tuple[dt.date, dt.date] | None) -> tuple[list[Thread], list[Story]]:
        """What a late story's thread decision reaches (``ThreadLinker`` ``history``): the threads holding
        ``story_ids`` (following merges), and those last active in ``span``, with every story of those threads."""
        lo, hi = (span[0].isoformat(), span[1].isoformat()) if span else (None, None)
        named = {r[0] for r in self.db.execute(
            "SELECT DISTINCT thread_id FROM stories WHERE thread_id IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
            (json.dumps(story_ids),))}  # fmt: skip
        keys = sorted({k for k in (self._resolve("threads", t) for t in named) if k})
        threads = [row_thread(r) for r in self.db.execute(
            "SELECT * FROM threads WHERE merged_into IS NULL AND (id IN (SELECT value FROM json_each(?)) "
            "OR last_date BETWEEN ? AND ?) ORDER BY first_date, id", (json.dumps(keys), lo, hi))]  # fmt: skip
        stories = self._stories_of(threads)
        return threads, stories

    def cluster_id_taken(self, key: str) -> bool:
        """Whether an event or story id was ever stored (a placer must never hand it out again)."""
        return self.db.execute("SELECT 1 FROM events WHERE id = ? UNION ALL SELECT 1 FROM stories WHERE id = ? "
                               "UNION ALL SELECT 1 FROM threads WHERE id = ? LIMIT 1", (key, key, key)).fetchone() is not None

    def _resolve(self, table: str, key: str) -> str | None:
        seen = set()
        while key not in seen:
            seen.add(key)
            row = self.db.execute(f"SELECT id, merged_into FROM {table} WHERE id=?", (key,)).fetchone()
            if row is None:
                rows = self.db.execute(f"SELECT id, merged_into FROM {table} WHERE id LIKE ? LIMIT 2", (key + "%",)).fetchall()
                if len(rows) != 1:
                    return None
                row = rows[0]
            if row["merged_into"] is None:
                return row["id"]
            key = row["merged_into"]
        return None

    def get_event(self, event_id: str) -> Event | None:
        key = self._resolve("events", event_id)
        row = self.db.execute("SELECT * FROM events WHERE id=?", (key,)).fetchone() if key else None
        return row_event(row) if row else None

    def get_story(self, story_id: str) -> Story | None:
        """A story by id or unique prefix; a merged id redirects to the story it became part of."""
        key = self._resolve("stories", story_id)
        row = self.db.execute("SELECT * FROM stories WHERE id=?", (key,)).fetchone() if key else None
        return row_story(row) if row else None

    def get_thread(self, thread_id: str) -> Thread | None:
        """A thread by id or unique prefix; a merged id redirects to the thread it became part of."""
        key = self._resolve("threads", thread_id)
        row = self.db.execute("SELECT * FROM threads WHERE id=?", (key,)).fetchone() if key else None
        return row_thread(row) if row else None

    def thread_of_story(self, story_id: str) -> Thread | None:
        """The thread a story (by id, following merges) belongs to now, following thread merges."""
        story = self.get_story(story_id)
        return self.get_thread(story.thread_id) if story is not None and story.thread_id else None

    def story_articles(self, story: Story) -> list[Article]:
        """A story's articles, through its events (so ids that merged away are followed, not lost)."""
        ids = [i for e in story.event_ids if (event := self.get_event(e)) for i in event.article_ids]
        return sorted(self.get_articles(list(dict.fromkeys(ids))), key=_by_date)

    def event_articles(self, event: Event) -> list[Article]:
        return sorted(self.get_articles(event.article_ids), key=_by_date)

    # --- light reads for the query layer (no JSON or vectors decoded) -----------------------
    def version(self) -> tuple[int, int]:
        """Changes when anything is committed: by another connection (data_version) or by this one."""
        return self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes

    def article_index_rows(self) -> list[sqlite3.Row]:
        """One light row per article (arrival order): what listings, filters and story membership need."""
        return self.db.execute(
            "SELECT rowid, id, title, substr(coalesce(restored_text, text), 1, 200) AS opening, source, url, language, "
            "published, published_provenance, origin, ingested_at, stage, event_id, story_id, duplicate_of "
            "FROM articles ORDER BY rowid"
        ).fetchall()

    def event_index_rows(self) -> list[sqlite3.Row]:
        """(id, story_id, merged_into, first_date, last_date, title) of every event, merged ones included."""
        return self.db.execute(
            "SELECT id, story_id, merged_into, first_date, last_date, json_extract(data, '$.title') AS title FROM events"
        ).fetchall()

    def story_index_rows(self) -> list[sqlite3.Row]:
        """(id, first_date, last_date, title, entity_counts JSON, merged_into, thread_id) of every story."""
        return self.db.execute(
            "SELECT id, first_date, last_date, merged_into, json_extract(data, '$.title') AS title, "
            "json_extract(data, '$.entity_counts') AS entity_counts, thread_id FROM stories"
        ).fetchall()

    def thread_index_rows(self) -> list[sqlite3.Row]:
        """(id, first_date, last_date, merged_into, title, anchors JSON) of every thread."""
        return self.db.execute(
            "SELECT id, first_date, last_date, merged_into, json_extract(data, '$.title') AS title, "
            "json_extract(data, '$.anchors') AS anchors FROM threads"
        ).fetchall()

    def search_ids(self, query: str, limit: int = 1000) -> list[tuple[str, float]]:
        """(article id, bm25 score) of full-text hits, best first, without loading the articles."""
        # repeats add nothing to an AND of terms but cost FTS5 a pass each (8,000 took minutes): once each,
        # and at most MAX_SEARCH_TERMS of them
        terms = list(dict.fromkeys(re.findall(r"\w+", query, re.UNICODE)))[:MAX_SEARCH_TERMS]
        if not terms:
            return []
        fts_query = " ".join(f'"{t}"' for t in terms)
        rows = self.db.execute(
            "SELECT a.id, bm25(articles_fts) AS rank FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
            "WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?",
            (fts_query, limit),
        ).fetchall()
        return [(r[0], -float(r[1])) for r in rows]

    # --- entities and small state ----------------------------------------------------------
    def update_entity_rows(self, aliases: Sequence[str], rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Replace the registry rows of ``aliases`` only (``EntityRegistry.take_changes``): a batch writes
        what it learned, not the whole table."""
        with self.transaction():
            self.db.executemany("DELETE FROM entity_aliases WHERE alias = ?", [(a,) for a in aliases])
            self.db.executemany(
                "INSERT OR REPLACE INTO entity_aliases (alias, canonical, type, mentions) VALUES (?,?,?,?)", list(rows)
            )

    def entity_rows(self) -> list[tuple[str, str, str, int]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT alias, canonical, type, mentions FROM entity_aliases ORDER BY alias, type")]
