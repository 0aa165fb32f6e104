"""The whole track path over the seeds: one story, dates settled against it, copies marked."""

import datetime as dt
import os
import shutil

import pytest

from storyline.model import DateProvenance, Granularity
from storyline.pipeline import Pipeline
from storyline.store import PLACED, Store


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, seeds_dir=None):
    from tests.conftest import SEEDS

    folder = tmp_path_factory.mktemp("track")
    shutil.copytree(SEEDS, folder / "seeds")
    copy = (folder / "seeds" / "000_b104aa3308ddf102.txt").read_text().replace("the u s and the taliban", "The U.S. and the Taliban", 1)
    store = Store(folder / "s.db")
    pipeline = Pipeline(store)
    pipeline.track([str(folder / "seeds")])
    (folder / "repost.txt").write_text(copy)
    pipeline.track([str(folder / "repost.txt")])
    yield store
    store.close()


def _by_origin(store, part):
    return next(a for a in store.articles() if part in a.origin)


def test_seeds_are_one_story(tracked):
    a000, a003 = _by_origin(tracked, "000_"), _by_origin(tracked, "003_")
    assert tracked.count(PLACED) == 3
    assert tracked.get_story(a000.story_id).id == tracked.get_story(a003.story_id).id


def test_undated_seed_resolves_month_days_against_the_story(tracked):
    a000 = _by_origin(tracked, "000_")
    assert a000.published_provenance in (DateProvenance.INFERRED, DateProvenance.UNDATED)
    resolved = {d.surface.lower(): d for d in a000.dates}
    assert resolved["august 7"].resolved == "2019-08-07" and resolved["august 7"].granularity is Granularity.DAY
    assert resolved["sept 28"].resolved == "2019-09-28"
    assert resolved["august 7"].anchor == "2020-01-16" and resolved["august 7"].anchor_provenance == "story"
    assert any(d.resolved == "2020-11" for d in a000.dates)


def test_repost_is_marked_and_does_not_inflate_counts(tracked):
    repost = _by_origin(tracked, "repost.txt")
    original = _by_origin(tracked, "000_")
    assert repost.duplicate_of == original.id
    story = tracked.get_story(original.story_id)
    ids = [i for e in story.event_ids for i in tracked.get_event(e).article_ids]
    assert tracked.originals(ids) == len(set(ids)) - (1 if repost.id in ids else 0)


def test_enrichment_is_stored_and_not_recomputed(tracked):
    a003 = _by_origin(tracked, "003_")
    assert a003.embedding is not None and a003.fingerprint is not None
    assert a003.published == dt.date(2020, 1, 16) and a003.published_provenance is DateProvenance.TEXT_MARKER
    names = {e.canonical for e in a003.entities}
    assert {"Zalmay Khalilzad", "Abdul Ghani Baradar"} <= names
    assert Pipeline(tracked).enrich() == 0 and Pipeline(tracked).place() == 0


def test_hostile_texts_are_enriched_with_reasons_not_failures(tmp_path):
    from storyline.model import Document

    texts = {
        "one-word": "Kabul",
        "one-line": "word " * 200_000,
        "mixed": "Москва и 東京 and Kairo: talks resumed 2020-01-16 in Doha, said Mr. Ghani. " * 3,
        "czech": "Vláda v Praze ve čtvrtek schválila nový zákon o státním rozpočtu na příští rok. " * 5,
    }
    with Store(tmp_path / "s.db") as store:
        pipeline = Pipeline(store)
        report = pipeline.ingest_documents([Document(text=t, origin=k, source_id=k) for k, t in texts.items()])
        assert report.new == 4
        assert pipeline.enrich() == 4 and pipeline.place() == 4
        stored = {a.source_id: a for a in store.articles()}
        assert not pipeline.enrich_report.failures and pipeline.enrich_report.done == 4
    assert all(a.embedding is not None and a.story_id for a in stored.values())
    assert any("no spaCy model" in p for p in stored["czech"].problems)
    # capped work is recorded, saying what was capped: dates read from the first 300,000 characters only
    capped = stored["one-line"]
    assert any(p.startswith(f"dates: article {capped.id} is 999999 characters; dates were read from the first")
               for p in capped.problems)
    assert not any(p.startswith(("restore: failed", "entities: failed", "dates: failed")) for a in stored.values() for p in a.problems)


def _store_snapshot(store: Store) -> tuple:
    """Everything a run stores that a reader sees: articles with all enrichment and placement, the name
    registry, events and stories."""
    articles = [(a.id, a.restored_text, a.sentences, a.entities, a.dates, a.places, a.embedding.tobytes(),
                 a.fingerprint.tobytes() if a.fingerprint is not None else None, a.models, a.problems,
                 a.event_id, a.story_id, a.duplicate_of) for a in store.articles()]
    return articles, store.entity_rows(), repr(store.events(include_merged=True)), repr(store.stories(include_merged=True))


def test_parallel_and_sequential_runs_give_identical_stores(tmp_path, wikinews_file):
    """Recognition runs in 1, 2 or 3 helper processes ahead of the ordered name step; every store is the same.

    Small batches, so names learned in one batch matter to the next ones while helpers run far ahead."""
    from storyline.ingest import read_sources
    from storyline.pipeline import PipelineConfig

    documents = list(read_sources([wikinews_file]))[:40]
    snapshots = []
    for workers in (1, 2, 3):
        with Store(tmp_path / f"w{workers}.db") as store:
            pipeline = Pipeline(store, PipelineConfig(workers=workers, parallel_from=1, enrich_batch_size=4))
            pipeline.ingest_documents(documents)
            assert pipeline.enrich() == 40
            pipeline.place()
            assert sum(pipeline.cpu[stage] for stage in ("ner", "embedding", "entities", "placement")) > 0
            snapshots.append(_store_snapshot(store))
    assert any(a[3] for a in snapshots[0][0]) and snapshots[0][2] != "[]"  # entities and events were made
    assert snapshots[0] == snapshots[1] == snapshots[2]


def test_ingest_report_maps_every_origin_to_its_stored_article(tmp_path):
    from storyline.model import Document
    from storyline.normalize.clean import scoped_id

    with Store(tmp_path / "s.db") as store:
        pipeline = Pipeline(store)
        first = pipeline.ingest_documents([Document(text="A blast in Kabul.", origin="a.txt")])
        again = pipeline.ingest_documents([Document(text="a  blast in KABUL.", origin="copy.txt"),
                                           Document(text="Talks in Doha.", origin="b.txt", source_id="b1")])
    assert again.new == 1 and again.duplicate == 1
    assert again.stored == {"copy.txt": first.stored["a.txt"], "b.txt": scoped_id("b1", "b.txt")}


def _memory(pid: int) -> dict[str, int]:
    """kB figures of /proc/PID/smaps_rollup (Rss, Private_Clean, Private_Dirty, ...)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return {k.rstrip(":"): int(v) for k, v, *_ in (line.split() for line in f if line.endswith("kB\n"))}


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="needs Linux /proc smaps_rollup")
def test_helpers_share_the_models_memory_with_the_process_that_forked_them(tmp_path, wikinews_file):
    """The parent loads the models, then forks its helpers: most of a helper's memory is the parent's pages
    (copy-on-write), not a copy of its own. Measured on wikinews: a helper's private memory is ~12% of its
    proportional share (Pss) this way, ~40% when each helper loaded the models itself."""
    import multiprocessing

    from storyline.ingest import read_sources
    from storyline.pipeline import PipelineConfig

    seen: list[dict[str, int]] = []

    def look(_: int) -> None:
        seen.extend(_memory(child.pid) for child in multiprocessing.active_children())

    with Store(tmp_path / "s.db") as store:
        pipeline = Pipeline(store, PipelineConfig(workers=2, parallel_from=1, enrich_batch_size=4))
        pipeline.ingest_documents(list(read_sources([wikinews_file]))[:16])
        assert pipeline.enrich(progress=look) == 16
    assert len(seen) >= 2
    for helper in seen:
        private = helper["Private_Clean"] + helper["Private_Dirty"]
        assert private < 0.25 * helper["Pss"], helper
