"""Several processes on one store: opening a new store at once, and ingesting the same folder at once.

Before: 2 of 6 openers failed with "table articles already exists" (the schema migration raced) and 3 of 4
concurrent ingests died with "UNIQUE constraint failed: articles.id" (check and insert were two
transactions). Now each is one write transaction; the loser waits and then sees the winner's work.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storyline.store import Store
from storyline.store.schema import MIGRATIONS, SCHEMA_VERSION


def _open(path: str, barrier, results) -> None:
    barrier.wait()
    try:
        with Store(path) as store:
            results.put(("ok", store.count()))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put(("failed", f"{type(exc).__name__}: {exc}"))


@pytest.mark.parametrize("trial", range(5))
def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path, trial):
    context = multiprocessing.get_context("fork")
    openers = 4
    barrier, results = context.Barrier(openers), context.Queue()
    path = str(tmp_path / f"new-{trial}.db")
    processes = [context.Process(target=_open, args=(path, barrier, results)) for _ in range(openers)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert outcomes == [("ok", 0)] * openers
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='articles'")]
    assert tables == ["articles"]


def _ingest(folder: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "storyline", "ingest", str(folder), "--db", str(db), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("many")
    for i in range(600):  # three batches of 256: the runs interleave batch by batch
        (root / f"{i:04d}.txt").write_text(f"Article {i}: talks in Doha went on for the {i}th day, officials said.")
    (root / "feed.jsonl").write_text("\n".join(json.dumps({"id": str(k), "text": f"Item {k} of the feed."}) for k in range(50)))
    return root


@pytest.mark.parametrize("trial", range(3))
def test_two_ingests_of_one_folder_at_once(tmp_path, folder, trial):
    db = tmp_path / "s.db"
    runs = [_ingest(folder, db), _ingest(folder, db)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0 and "Traceback" not in err, err[-2000:]
    reports = [json.loads(out.splitlines()[0]) for out, _ in outputs]
    assert sum(r["new"] for r in reports) == 650  # each article stored once, by one of the two
    assert all(r["new"] + r["duplicate"] == 650 and r["rejected"] == 0 for r in reports)
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT COUNT(*), COUNT(DISTINCT id), COUNT(DISTINCT content_hash) FROM articles").fetchone()
    assert rows == (650, 650, 650)


def test_a_first_version_store_upgrades_and_keeps_its_ids(tmp_path):
    path = tmp_path / "v1.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        connection.execute(
            "INSERT INTO articles (id, content_hash, text, original_text, origin, published_provenance, ingested_at) "
            "VALUES ('AP-1', 'h', 'Old text.', 'Old text.', 'old.json', 'undated', '2024-01-01T00:00:00+00:00')")
        connection.execute("INSERT INTO state VALUES ('k', 'v')")
    with Store(path) as store:
        assert store.get_article("AP-1").text == "Old text."  # the id users saw still works
        assert store.get_article("AP-1").source_id is None
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert not connection.execute("SELECT name FROM sqlite_master WHERE name='state'").fetchall()
    assert os.path.exists(path)
