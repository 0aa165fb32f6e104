"""Placement passes on Spark re-place only what changed (one tiny run: three windows, seven articles)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.scale import spark_available

missing = spark_available()
pytestmark = pytest.mark.skipif(missing is not None, reason=f"Spark tests need the spark extra and Java: {missing}")

WIKINEWS = Path(__file__).resolve().parents[2] / "examples" / "wikinews" / "wikinews_en.jsonl"


def test_a_pass_whose_context_did_not_change_re_places_nothing(tmp_path):
    import pyarrow.parquet as pq

    from storyline.scale.job import BatchConfig, run_batch, session

    rows = {r["id"]: r for r in map(json.loads, WIKINEWS.read_text().splitlines())}
    # 5-day windows: four tsunami reports (2004-12-29 .. 2005-01-01), one a week later, two London reports in July
    keep = ["M0006.english", "M0002.english", "M0001.english", "M0008.english", "M0000.english", "M0010.english", "M0011.english"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(rows[k]) + "\n" for k in keep))
    spark = session("local[2]", 2, app="storyline-tests-passes")
    try:
        result = run_batch(spark, str(source), str(tmp_path / "out"), BatchConfig(window_days=5))
    finally:
        spark.stop()
    counts = result.counts
    replaced = counts["replaced_per_pass"]
    print(counts)
    assert counts["windows"] == 3 and counts["converged"]
    # pass 1 places every window; the first window restores nothing, so no later pass places it again; the
    # check after the last pass finds no window whose context changed, and places none
    assert replaced[0] == 3 and all(n < 3 for n in replaced[1:-1]) and replaced[-1] == 0
    assert counts["passes"] == len(replaced) - 1
    articles = pq.read_table(tmp_path / "out" / "articles", columns=["id", "event_id", "story_id"]).to_pylist()
    assert len(articles) == 7 and all(a["story_id"] for a in articles)
