"""kill -9 during placement, then resume: the store equals the one an uninterrupted run leaves.

Placement writes each batch in one transaction together with what it needs to go on exactly as if it
had never stopped (exact running sums, document frequencies and their IDF snapshot); member exemplars
are recomputed from the stored articles. The test enriches the shipped examples once, then places a
copy in one go and another copy in a process that is killed after some batches, and resumes it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyline.pipeline import Pipeline, PipelineConfig
from storyline.stories import PlacementConfig, StoryPlacer
from storyline.store import PLACED, Store

ROOT = Path(__file__).resolve().parents[2]
BATCH = 16  # small batches: many commit points to be killed between

PLACE = """
import sys, time
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.stories import PlacementConfig, StoryPlacer
from storyline.store import Store
with Store(sys.argv[1]) as store:
    pipeline = Pipeline(store, PipelineConfig(batch_size=int(sys.argv[2])))
    pipeline.place(progress=lambda n: time.sleep(float(sys.argv[3])))
"""


def _snapshot(db: Path) -> dict:
    """Everything placement decides, in a comparable form."""
    with sqlite3.connect(db) as con:
        out = {
            "articles": con.execute("SELECT id, event_id, story_id, duplicate_of, stage FROM articles ORDER BY id").fetchall(),
            "events": con.execute("SELECT id, story_id, first_date, last_date, data, merged_into FROM events ORDER BY id").fetchall(),
            "stories": con.execute("SELECT id, first_date, last_date, data, merged_into, thread_id FROM stories ORDER BY id").fetchall(),
            "threads": con.execute("SELECT id, first_date, last_date, data, merged_into FROM threads ORDER BY id").fetchall(),
            "links": con.execute("SELECT article_id, event_id, score, parts FROM links ORDER BY article_id").fetchall(),
        }
    return json.loads(json.dumps(out))


@pytest.fixture(scope="module")
def enriched(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("resume") / "enriched.db"
    with Store(db) as store:
        pipeline = Pipeline(store, PipelineConfig(batch_size=BATCH))
        pipeline.ingest([str(ROOT / "examples")])
        pipeline.enrich()
    return db


def _placed(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM articles WHERE stage = ?", (PLACED,)).fetchone()[0]


@pytest.mark.parametrize("kill_after", [1, 3, 5])  # batches committed before the kill
def test_kill_during_placement_then_resume_equals_one_run(enriched, tmp_path, kill_after):
    whole, broken = tmp_path / "whole.db", tmp_path / "broken.db"
    shutil.copyfile(enriched, whole)
    shutil.copyfile(enriched, broken)
    with Store(whole) as store:
        Pipeline(store, PipelineConfig(batch_size=BATCH)).place()

    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.Popen([sys.executable, "-c", PLACE, str(broken), str(BATCH), "0.3"], env=env)
    deadline = time.monotonic() + 120
    while _placed(broken) < kill_after * BATCH:
        assert proc.poll() is None, "placement finished before it could be killed"
        assert time.monotonic() < deadline, "placement made no progress"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < _placed(broken) < _placed(whole)

    with Store(broken) as store:  # resume in this process, as `storyline enrich` would
        Pipeline(store, PipelineConfig(batch_size=BATCH)).place()
    assert _snapshot(broken) == _snapshot(whole)


SHORT = PlacementConfig(event_window_days=3, story_window_days=120)  # most records freeze within the examples


class _Stop(Exception):
    pass


def _open_stories(placer: StoryPlacer) -> dict[str, list[str]]:
    """Each story the placer holds, with every article it reaches (through frozen events too)."""
    return {s.id: sorted(placer.story_article_ids(s.id)) for s in placer.stories() if not s.merged_into}


def _place(db: Path, config: PipelineConfig) -> list[dict[str, list[str]]]:
    """Place in one Pipeline; the placer's stories after each batch."""
    seen: list[dict[str, list[str]]] = []
    with Store(db) as store:
        pipeline = Pipeline(store, config)
        pipeline.place(progress=lambda n: seen.append(_open_stories(pipeline.placer)))
    return seen


def _place_one_batch_per_pipeline(db: Path, config: PipelineConfig) -> list[dict[str, list[str]]]:
    """Place with a fresh Pipeline, so a placer restored from the store, for every batch; the restored
    placer's stories after each batch."""
    seen: list[dict[str, list[str]]] = []
    while True:
        with Store(db) as store:
            pipeline = Pipeline(store, config)
            if seen or store.events():
                seen.append(_open_stories(pipeline.placer))
            try:
                pipeline.place(progress=lambda n: (_ for _ in ()).throw(_Stop()))
            except _Stop:
                continue
        return seen


def test_frozen_records_are_forgotten_without_changing_any_decision(enriched, tmp_path, monkeypatch):
    """A placer drops final records once written, and a resumed one loads only the open window: the store
    is the same as when every record is kept in memory and loaded on resume, and the open stories still
    reach every member, through frozen events too (what average link and date settling read)."""
    config = PipelineConfig(batch_size=BATCH, placement=SHORT)
    forgetting, resumed, keeping = (tmp_path / f"{k}.db" for k in ("forgetting", "resumed", "keeping"))
    for db in (forgetting, resumed, keeping):
        shutil.copyfile(enriched, db)

    forgotten = []
    original = StoryPlacer.forget_frozen
    monkeypatch.setattr(StoryPlacer, "forget_frozen", lambda self: forgotten.append(original(self)) or forgotten[-1])
    held = _place(forgetting, config)
    assert sum(forgotten) > 0  # it did forget
    loaded = _place_one_batch_per_pipeline(resumed, config)

    monkeypatch.setattr(StoryPlacer, "forget_frozen", lambda self: 0)
    monkeypatch.setattr(Store, "placement_records", lambda self, *_: (self.events(include_merged=True), self.stories(include_merged=True)))
    kept = _place(keeping, config)
    assert _snapshot(forgetting) == _snapshot(keeping)
    assert _snapshot(resumed) == _snapshot(keeping)
    assert len(held) == len(loaded) == len(kept) > 5
    assert any(len(v) > 1 for batch in held for v in batch.values())
    for after_forgetting, after_loading, after_keeping in zip(held, loaded, kept):
        assert after_forgetting == after_loading == {key: after_keeping[key] for key in after_forgetting}
        assert len(after_forgetting) < len(after_keeping) or after_forgetting == after_keeping
