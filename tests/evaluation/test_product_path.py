"""Every evaluation runs ``track``'s path: ``Pipeline`` enriches and places, the query layer is read.

A real run of each evaluation on a tiny set, with the pipeline's and the query layer's own methods
counted as they are called (they still run): an evaluation that bypasses either fails here. And one
placement loop: no module but ``pipeline.py`` drives ``StoryPlacer.place_batch``.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from storyline.pipeline import Pipeline
from storyline.queries import Queries

ROOT = Path(__file__).resolve().parents[2]
DAYS = ("2021-03-01", "2021-03-02", "2021-03-05")
TOPICS = (("flood", "Porto", "river"), ("election", "Quito", "ballot"))


@pytest.fixture
def calls(monkeypatch) -> Counter:
    seen: Counter = Counter()

    def count(cls, name):
        real = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            seen[name] += 1
            return real(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    for cls, name in ((Pipeline, "ingest_documents"), (Pipeline, "enrich"), (Pipeline, "place"),
                      (Queries, "timeline"), (Queries, "summary"), (Queries, "similarity")):
        count(cls, name)
    return seen


def _text(thing: str, place: str, word: str, day: str, j: int) -> str:
    return (f"The {thing} in {place} on {day} moved {100 + j} families, officials said. "
            f"Teams in {place} checked every {word} after the {thing}. Aid for {place} arrives within days.")


def _clusters(path: Path) -> Path:
    rows = [{"cluster_id": thing, "summaries": [{"text": f"The {thing} in {place} moved families."}],
             "docs": [{"doc_id": f"{thing}{k}{j}", "date": day, "text": _text(thing, place, word, day, j)}
                      for k, day in enumerate(DAYS) for j in range(2)]} for thing, place, word in TOPICS]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_stories_and_folds_go_through_the_pipeline(tmp_path, calls):
    from storyline.evaluation.stories import evaluate_clusters, evaluate_folds

    path = _clusters(tmp_path / "c.jsonl")
    out = evaluate_clusters(path, level="story")
    assert calls["enrich"] == 1 and calls["place"] == 1 and out["articles"] == 12
    assert out["fitted_on"]["procedure"].startswith("shipped") and out["fitted_on"]["in_sample"] is False
    folds = evaluate_folds(path, folds=2, grid={"event_merge_margin": (0.4,)})
    assert calls["enrich"] == 2 and calls["place"] == 1 + 2 * 2  # per fold: one fit placement, one scored
    assert folds["fitted_on"]["in_sample"] is False and all("event_threshold" in f["fitted"] for f in folds["per_fold"])


def test_pairs_go_through_the_pipeline_and_the_query_layer(tmp_path, calls):
    from storyline.evaluation.pairs import evaluate_pairs

    path = tmp_path / "pairs.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["pair_id", "lang1", "lang2", "text1", "text2", "Overall"])
        writer.writeheader()
        for i, (thing, place, word) in enumerate(TOPICS * 2):
            other = TOPICS[(i + 1) % 2]
            writer.writerow({"pair_id": i, "lang1": "en", "lang2": "en", "text1": _text(thing, place, word, DAYS[0], i),
                             "text2": _text(thing, place, word, DAYS[1], i + 7) if i < 2 else _text(*other, DAYS[1], i),
                             "Overall": 1.0 if i < 2 else 4.0})
    out = evaluate_pairs(path)
    assert calls["enrich"] == 1 and calls["similarity"] == 4  # similarity needs no placement
    assert out["pairs"] == 4 and out["unscored"] == 0 and out["pearson"] > 0.5


def test_timelines_and_summaries_read_the_built_story_through_the_query_layer(tmp_path, calls):
    pytest.importorskip("tilse", reason="the eval extra is not installed")
    from storyline.evaluation.tell import evaluate_summaries, evaluate_timelines

    folder = tmp_path / "timeline17" / "flood_wire"
    folder.mkdir(parents=True)
    arts = [{"uid": f"a{k}{j}", "dct": day, "text": _text("flood", "Porto", "river", day, j)}
            for k, day in enumerate(DAYS) for j in range(2)]
    (folder / "articles.json").write_text(json.dumps(arts), encoding="utf-8")
    (folder / "wire.timeline.json").write_text(json.dumps([{"date": d, "text": "The flood moved families."} for d in DAYS]))
    out = evaluate_timelines(tmp_path / "timeline17")
    assert calls["enrich"] == calls["place"] == 1 and calls["timeline"] >= 1
    assert out["timelines"] == 1 and "oracle_story" in out and out["fitted_on"]["in_sample"] is True
    summaries = evaluate_summaries(_clusters(tmp_path / "c.jsonl"))
    assert calls["enrich"] == calls["place"] == 2 and calls["summary"] == 2
    assert summaries["clusters"] == 2 and "oracle_story" in summaries


def test_one_placement_loop():
    """Only ``pipeline.place_batches`` calls ``place_batch``: track, the evaluations, the benchmarks and the
    Spark windows all place through it."""
    callers = [str(p.relative_to(ROOT)) for folder in ("src", "benchmarks") for p in (ROOT / folder).rglob("*.py")
               if re.search(r"\.place_batch\(", p.read_text(encoding="utf-8"))]
    assert callers == ["src/storyline/pipeline.py"], callers
    evaluation = [p for p in (ROOT / "src" / "storyline" / "evaluation").glob("*.py")
                  if re.search(r"StoryPlacer|\bclean\(|restore_batch|enrich_dates", p.read_text(encoding="utf-8"))]
    assert evaluation == [], f"evaluations must not clean, enrich or place on their own: {evaluation}"
