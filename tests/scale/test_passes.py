"""The job's Spark steps on tiny data: passes re-place only what changed (one run: three windows, seven
articles); document frequencies summed in Spark equal the driver's."""

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
        result = run_batch(spark, str(source), str(tmp_path / "out"), BatchConfig(window_days=5, driver_doc_freq_entries=0))  # sums in Spark
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


def test_document_frequencies_summed_in_spark_are_the_drivers():
    import random

    from storyline.scale.job import doc_freq_in_spark, session
    from storyline.scale.stages import FINAL, doc_freq_plan, doc_freq_states, loads, term_rows
    from storyline.stories.similarity import DocFreq

    rng = random.Random(3)
    sizes = {0: 5, 3: 250, 4: 1, 9: 300, 10: 90}  # windows ending inside batches of 256 and on a boundary
    windows, start = {}, 0
    for w, n in sizes.items():
        df, partial = DocFreq(), {}
        for position in range(start + 1, start + n + 1):
            df.add([f"t{rng.randint(0, 30)}" for _ in range(rng.randint(1, 5))])
            if position in DocFreq.refreshes(start + n) and position > start:
                partial[position] = dict(df.counts)
        windows[w] = (n, dict(df.counts), partial)
        start += n
    spark = session("local[1]", 1, app="storyline-tests-docfreq")
    try:
        rows = [r for w, terms in windows.items() for r in term_rows(w, terms)]
        terms = spark.createDataFrame(rows, "window long, point long, term string, count long")
        for batch in (256, 5):  # with 5 the first window ends on a batch's end: it sums nothing at all
            expected, final = doc_freq_states(windows, batch)
            context, final_frame = doc_freq_in_spark(spark, terms, doc_freq_plan(sizes, batch))
            got = {r["window"]: loads(r["blob"]) for r in context.collect()}
            stored = {r["term"]: (r["n"], r["n_idf"]) for r in final_frame.collect()}
            assert got == expected, batch
            assert stored == {t: (n, final[3].get(t, 0)) for t, n in final[1].items()}
            assert doc_freq_plan(sizes, batch).idf[FINAL][0] == final[2]
    finally:
        spark.stop()
