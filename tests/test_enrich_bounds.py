"""Enrichment is bounded: symbol runs cost linear time, and an article over a bound is quarantined (issue 21)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from storyline.model import Document
from storyline.normalize.clean import MAX_SYMBOL_RUN, model_text
from storyline.pipeline import EnrichBounds, Pipeline, PipelineConfig, quarantine_reason
from storyline.queries import Queries
from storyline.store import ENRICHED, PLACED, QUARANTINED, Store

from tests.conftest import ROOT

STORY = ("Officials in Haiti said the river flooded the lower town of Jacmel on Monday. "
         "Rescue teams from the Red Cross reached Port-au-Prince on Tuesday.")


def _add(pipeline: Pipeline, *texts: str) -> list[str]:
    """Ingest the texts; their stored ids, in order."""
    report = pipeline.ingest_documents([Document(text=t, origin=f"t{i}", published=f"2020-01-1{i}")
                                        for i, t in enumerate(texts)])
    return [report.stored[f"t{i}"] for i in range(len(texts))]


def test_model_text_cuts_only_long_symbol_runs_and_keeps_every_offset():
    text = "Wait!!! " + "!" * 40 + " then 😀😀 and " + "😀" * 30 + "$(" * 20 + " end ... --- " + "_" * 30
    masked = model_text(text)
    assert len(masked) == len(text)
    assert "Wait!!! " in masked and "😀😀 and" in masked and "end ... ---" in masked
    assert max(len(r) for r in re.findall(r"(?:[^\w\s]|_)+", masked)) == MAX_SYMBOL_RUN
    assert [m.span() for m in re.finditer(r"[A-Za-z]+", masked)] == [m.span() for m in re.finditer(r"[A-Za-z]+", text)]


def test_an_opening_run_of_symbols_is_enriched_in_linear_time_with_its_names(tmp_path):
    """30,000 "!" took 106 s in `track` (quadratic in spaCy's tokenizer); now the models read at most
    MAX_SYMBOL_RUN of each run. The subprocess timeout is only a hang guard; the asserts are on structure."""
    script = textwrap.dedent(f"""
        import json, sys
        from storyline.model import Document
        from storyline.pipeline import Pipeline, PipelineConfig
        from storyline.enrich.entities import ner_input
        from storyline.store import Store
        texts = ["!" * 30000 + " " + {STORY!r}, "😀" * 30000 + "$" * 10000 + " " + {STORY!r}]
        with Store(sys.argv[1]) as store:
            p = Pipeline(store, PipelineConfig(workers=1))
            r = p.ingest_documents([Document(text=t, origin=f"o{{i}}", published="2020-01-13") for i, t in enumerate(texts)])
            p.enrich(); p.place()
            nlp = p.entity_extractor.model("en")
            out = []
            for a in store.get_articles(sorted(r.stored.values())):
                out.append({{"tokens": len(nlp.make_doc(ner_input(a)[0])), "names": sorted({{e.canonical for e in a.entities}}),
                            "stage": store.db.execute("SELECT stage FROM articles WHERE id = ?", (a.id,)).fetchone()[0],
                            "same_length": len(a.restored_text) == len(a.text)}})
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s.db")], capture_output=True, text=True,
                          timeout=240, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    for row in json.loads(done.stdout.strip().splitlines()[-1]):
        assert row["tokens"] < 200  # 30,000+ single-character tokens before
        assert row["same_length"] and row["stage"] == PLACED
        assert "Haiti" in row["names"] and "Red Cross" in row["names"]


@pytest.fixture(scope="module")
def pipeline_store(tmp_path_factory):
    """One store and one Pipeline whose models load once for the tests below (each adds its own articles)."""
    with Store(tmp_path_factory.mktemp("bounds") / "b.db") as store:
        yield store


def test_an_article_over_the_size_bound_is_quarantined_and_blocks_nothing(pipeline_store):
    store = pipeline_store
    pipeline = Pipeline(store, PipelineConfig(workers=1, bounds=EnrichBounds(max_chars=2_000)))
    big = STORY + " " + "The water rose again near the bridge. " * 80
    ids = _add(pipeline, STORY, big, STORY.replace("Monday", "Wednesday"))
    assert pipeline.enrich() == 3
    pipeline.place()
    assert list(pipeline.enrich_report.quarantined) == [ids[1]]
    assert "over the enrichment bound of 2,000" in pipeline.enrich_report.quarantined[ids[1]]
    stages = dict(store.db.execute("SELECT id, stage FROM articles"))
    assert stages == {ids[0]: PLACED, ids[1]: QUARANTINED, ids[2]: PLACED}
    stuck = store.get_article(ids[1])
    assert stuck.embedding is None and not stuck.entities and stuck.event_id is None
    assert "over the enrichment bound" in quarantine_reason(stuck)
    assert store.pending_ids(ENRICHED) == [] and store.ready_to_place(10) == []
    facets = Queries(store).facets()
    assert facets["quarantined"] == 1 and facets["placed"] == 2
    store.db.execute("DELETE FROM articles")


def test_an_article_whose_process_died_with_it_alone_is_quarantined_on_restart(pipeline_store):
    """What a process killed twice while enriching one article (by the server's watchdog, the OOM killer)
    leaves in the store's journal: the restart quarantines that article instead of dying on it again."""
    store = pipeline_store
    pipeline = Pipeline(store, PipelineConfig(workers=1))
    ids = _add(pipeline, STORY, "Floods in Jacmel: Haiti asked for help on Monday.", STORY + " More rain.")
    store.set_state("enrich.journal", json.dumps({"batch": [ids[1]], "tries": 2, "alone": [ids[1]]}))
    assert pipeline.enrich() == 3
    assert list(pipeline.enrich_report.quarantined) == [ids[1]]
    assert "never finished" in quarantine_reason(store.get_article(ids[1]))
    assert store.pending_ids(ENRICHED) == []
    assert json.loads(store.get_state("enrich.journal")) == {"batch": [], "tries": 0, "alone": []}
    store.db.execute("DELETE FROM articles")


def test_a_batch_that_died_twice_is_retried_one_article_at_a_time(pipeline_store):
    store = pipeline_store
    pipeline = Pipeline(store, PipelineConfig(workers=1, enrich_batch_size=8))
    ids = _add(pipeline, STORY, STORY + " Again.", STORY + " And again.", STORY + " Once more.")
    store.set_state("enrich.journal", json.dumps({"batch": ids[:3], "tries": 2, "alone": []}))
    begun = []
    original = pipeline.enrich_batch
    pipeline.enrich_batch = lambda batch: (begun.append([a.id for a in batch]), original(batch))[1]
    assert pipeline.enrich() == 4
    assert begun == [[i] for i in ids]
    assert not pipeline.enrich_report.quarantined and store.pending_ids(ENRICHED) == []
    store.db.execute("DELETE FROM articles")


def test_a_first_retry_takes_the_same_batch_whole(pipeline_store):
    """One crash resumes to the same store as one run: the batch is begun again as it was."""
    store = pipeline_store
    pipeline = Pipeline(store, PipelineConfig(workers=1, enrich_batch_size=8))
    ids = _add(pipeline, STORY, STORY + " Again.", STORY + " And again.")
    store.set_state("enrich.journal", json.dumps({"batch": ids, "tries": 1, "alone": []}))
    begun = []
    original = pipeline.enrich_batch
    pipeline.enrich_batch = lambda batch: (begun.append([a.id for a in batch]), original(batch))[1]
    pipeline.enrich()
    assert begun == [ids]
    store.db.execute("DELETE FROM articles")


def test_an_article_over_the_time_bound_of_a_stage_is_quarantined(pipeline_store):
    store = pipeline_store
    pipeline = Pipeline(store, PipelineConfig(workers=1, bounds=EnrichBounds(stage_seconds=1e-9)))
    ids = _add(pipeline, STORY)
    pipeline.enrich()
    reason = pipeline.enrich_report.quarantined[ids[0]]
    assert reason.startswith("restore took") and "stage_seconds" in reason
    assert store.db.execute("SELECT stage FROM articles").fetchone()[0] == QUARANTINED
    store.db.execute("DELETE FROM articles")


def test_the_language_of_a_text_opening_with_a_long_run_of_symbols_is_read_past_it():
    from storyline.normalize.clean import detect_language

    assert detect_language("!" * 20_000 + " " + STORY)[0] == "en"
    assert detect_language("😀" * 5_000 + " Les secours sont arrivés lundi dans la ville basse de Jacmel, "
                           "a déclaré le ministre.")[0] == "fr"
    assert detect_language("!?" * 300) == (None, 0.0)
