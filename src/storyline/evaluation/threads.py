"""Threads against human-labelled long-running coverage, on the product path, with the thread threshold
chosen without the set it is reported on.

Which sets are scored at the thread level follows from what their gold clusters are, fixed before any
scoring: Timeline17's storylines (a year of one situation each), ML-Crisis's crises and MultiLing's events
(also scored as stories). Each set is placed ONCE with ``Pipeline.place`` on a copy of its enriched store
(events, stories and the shipped threads, exactly as ``track``), keeping the story records each placement
batch handed the thread linker (``Pipeline.story_changes``). Placement never reads threads, so replaying
those batches through a fresh ``ThreadLinker`` with another threshold (``stories.threads.replay_threads``)
is exactly the thread level that run would have formed with it: one placement serves the whole grid.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from storyline.evaluation.product import EnrichedSet
from storyline.evaluation.stories import score
from storyline.pipeline import Pipeline
from storyline.store import Store
from storyline.stories.threads import ThreadConfig, replay_threads

__all__ = ["THREAD_GRID", "thread_leave_one_set_out", "thread_run"]

THREAD_GRID: tuple[float, ...] = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)  # ThreadConfig.threshold


@dataclasses.dataclass
class ThreadRun:
    """One real placement of a set: each origin's story, its shipped thread, and the linker's input."""

    story_of: dict[str, str]
    thread_of: dict[str, str]
    batches: list[list]

    def threads_at(self, threshold: float) -> dict[str, str]:
        """origin -> thread id, had the thread threshold been ``threshold``."""
        threads = replay_threads(self.batches, dataclasses.replace(ThreadConfig(), threshold=threshold))
        return {origin: threads.get(story, story) for origin, story in self.story_of.items()}


def thread_run(enriched: EnrichedSet, workdir: str | Path) -> ThreadRun:
    """Place a copy of ``enriched`` with ``Pipeline.place`` and keep what the thread linker was given."""
    path = Path(workdir) / f"{enriched.name}-threads.db"
    shutil.copyfile(enriched.path, path)
    try:
        with Store(path) as store:
            pipeline = Pipeline(store)
            pipeline.story_changes = []
            pipeline.place()
            story_of, thread_of = {}, {}
            for origin, key in enriched.stored.items():
                article = store.get_article(key)
                story = store.get_story(article.story_id) if article is not None and article.story_id else None
                if story is None:
                    continue
                story_of[origin] = story.id
                thread = store.get_thread(story.thread_id) if story.thread_id else None
                thread_of[origin] = thread.id if thread else story.id
            return ThreadRun(story_of, thread_of, pipeline.story_changes)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def thread_leave_one_set_out(sets: Mapping[str, tuple[EnrichedSet, Mapping[str, str]]],
                             grid: Sequence[float] = THREAD_GRID, workdir: str | Path | None = None) -> dict[str, Any]:
    """For each set held out, the thread threshold with the best mean BCubed F1 on the OTHER sets, and the
    held-out set's thread figure at it; beside it each set's story figure and its figure at the shipped
    threshold (in sample for the sets the shipped value was chosen on: all of them)."""
    runs: dict[str, ThreadRun] = {}
    with tempfile.TemporaryDirectory(prefix="storyline-threads-", dir=workdir) as tmp:
        for name, (enriched, _) in sets.items():
            runs[name] = thread_run(enriched, tmp)
    in_sample = {name: [score(runs[name].threads_at(t), gold)["bcubed_f1"] for t in grid]
                 for name, (_, gold) in sets.items()}
    held_out: dict[str, Any] = {}
    for held, (_, gold) in sets.items():
        others = [s for s in sets if s != held]
        best = max(range(len(grid)), key=lambda g: (statistics.fmean(in_sample[s][g] for s in others), -g))
        held_out[held] = {**score(runs[held].threads_at(grid[best]), gold), "threshold": grid[best],
                          "story": score(runs[held].story_of, gold),
                          "shipped_in_sample": score(runs[held].thread_of, gold),
                          "fitted_on": {"procedure": "leave one set out", "sets": others, "in_sample": False}}
    return {"level": "thread", "grid": {"threshold": list(grid)},
            "in_sample": {name: dict(zip(map(str, grid), v)) for name, v in in_sample.items()},
            "held_out": held_out,
            "held_out_mean_f1": round(statistics.fmean(held_out[s]["bcubed_f1"] for s in sets), 4),
            "shipped": ThreadConfig().threshold,
            "fitted_on": {"procedure": "leave one set out", "sets": list(sets), "in_sample": False}}
