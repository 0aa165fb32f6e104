"""kill -9 at random points of ingest and of enrichment, then resume: the store equals one uninterrupted run's.

The child process reports each committed batch on stdout; the parent kills it with SIGKILL after a random
number of batches plus a random delay, so kills land between and inside transactions. The helper process
of overlapped enrichment must not outlive its killed parent. (Kills during placement are covered with the
stories stage.)
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyline.ingest import read_sources
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.store import Store

ARTICLE_FIELDS = ("id", "content_hash", "title", "text", "original_text", "origin", "source", "url", "author",
                  "language", "language_confidence", "published", "published_provenance", "date_evidence",
                  "text_offset", "source_id", "extra")
ENRICHED_FIELDS = ARTICLE_FIELDS + ("stage", "restored_text", "enrichment", "embedding", "fingerprint")

_CHILD = """
import sys
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.store import Store
db, step, folder = sys.argv[1], sys.argv[2], sys.argv[3]
tick = lambda n: print("batch", n, flush=True)
with Store(db) as store:
    if step == "ingest":
        Pipeline(store, PipelineConfig(batch_size=8)).ingest([folder], progress=tick)
    else:
        Pipeline(store, PipelineConfig(enrich_batch_size=3, workers=2, parallel_from=1)).enrich(progress=tick)
print("done", flush=True)
"""


def _rows(db: Path, fields: tuple[str, ...]) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return sorted(connection.execute(f"SELECT {', '.join(fields)} FROM articles").fetchall())


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _run_and_kill(db: Path, step: str, folder: Path, batches: int, delay: float) -> tuple[bool, list[int]]:
    """Run the step in a child; SIGKILL it after ``batches`` committed batches and ``delay`` seconds.

    Returns whether it was killed before finishing, and the helper processes it had then.
    """
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(db), step, str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = 0
    for line in child.stdout:
        if line.startswith("done"):
            break
        seen += 1
        if seen >= batches:
            time.sleep(delay)
            break
    helpers = _children(child.pid)
    killed = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    child.stdout.close()
    return killed, helpers


def _gone(pids: list[int], within: float = 20.0) -> list[int]:
    """The pids still alive after waiting up to ``within`` seconds for them to end."""
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resume") / "in"
    root.mkdir()
    wikinews = Path(__file__).resolve().parents[1] / "examples" / "wikinews" / "wikinews_en.jsonl"
    lines = wikinews.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[:60]):
        record = json.loads(line)
        (root / f"{i:03d}.json").write_text(json.dumps(record), encoding="utf-8")
    for i in range(60):
        (root / f"note_{i:03d}.txt").write_text(f"Short note {i}: the council met again on day {i} in Geneva.")
    return root


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("reference") / "ref.db"
    with Store(db) as store:
        Pipeline(store, PipelineConfig(batch_size=8)).ingest([str(corpus)])
    return db


@pytest.mark.parametrize("seed", range(4))
def test_ingest_killed_anywhere_resumes_to_the_same_store(corpus, reference, tmp_path, seed):
    rng = random.Random(seed)
    db = tmp_path / "s.db"
    killed, _ = _run_and_kill(db, "ingest", corpus, batches=rng.randint(1, 12), delay=rng.uniform(0, 0.05))
    assert killed or seed > 0  # the first trial at least must interrupt (later ones may land after the end)
    with Store(db) as store:
        partial = store.count()
        report = Pipeline(store, PipelineConfig(batch_size=8)).ingest([str(corpus)])
    assert report.new == 120 - partial and report.duplicate == partial and not report.rejected
    assert _rows(db, ARTICLE_FIELDS) == _rows(reference, ARTICLE_FIELDS)


@pytest.fixture(scope="module")
def enriched_reference(reference, tmp_path_factory) -> tuple[Path, Path]:
    """The ingested store (to start each kill from) and the same store enriched without interruption."""
    db = tmp_path_factory.mktemp("enriched") / "enriched.db"
    shutil.copy(reference, db)
    with Store(db) as store:
        Pipeline(store, PipelineConfig(enrich_batch_size=3, workers=1)).enrich()
    return reference, db


@pytest.mark.slow
def test_enrichment_killed_anywhere_resumes_to_the_same_store_and_leaves_no_process(enriched_reference, tmp_path):
    ingested, expected = enriched_reference
    rng = random.Random(9)
    for trial in range(3):
        db = tmp_path / f"e{trial}.db"
        shutil.copy(ingested, db)
        killed, helpers = _run_and_kill(db, "enrich", Path("-"), batches=rng.randint(1, 25), delay=rng.uniform(0, 0.3))
        assert killed, "the kill came after enrichment finished: pick an earlier point"
        assert helpers, "overlapped enrichment runs a helper process"
        assert _gone(helpers) == [], "a helper process outlived its killed parent"
        with Store(db) as store:
            assert 0 < store.count(1) < store.count() or trial > 0
            Pipeline(store, PipelineConfig(enrich_batch_size=3, workers=1)).enrich()
        assert _rows(db, ENRICHED_FIELDS) == _rows(expected, ENRICHED_FIELDS)
        with sqlite3.connect(db) as a, sqlite3.connect(expected) as b:
            query = "SELECT alias, canonical, type, mentions FROM entity_aliases ORDER BY alias, type"
            assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_read_sources_is_what_the_child_ingests(corpus):
    """The fixture corpus is all valid: 120 articles, nothing rejected (so counts above are exact)."""
    items = list(read_sources([str(corpus)]))
    assert len(items) == 120 and all(not hasattr(i, "reason") for i in items)
