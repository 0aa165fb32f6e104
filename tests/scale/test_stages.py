"""The batch job's per-task functions, without Spark: names in input order and id resolution."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pickle

from storyline.enrich.embed import get_embedder
from storyline.enrich.entities import EntityExtractor
from storyline.model import Story
from storyline.pipeline import enrich_articles
from storyline.scale.stages import (article_from_row, article_to_row, clean_items, documents_of_file,
                                    UNDATED_WINDOW, prepare_rows, reconcile_rows,
                                    window_cuts, window_of)
from storyline.store import INGESTED


def _articles(texts: list[str]) -> list:
    lines = "\n".join(json.dumps({"id": f"a{i}", "published": "2019-01-0" + str(i + 1), "text": t}) for i, t in enumerate(texts))
    now = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    return list(clean_items(documents_of_file("in.jsonl", lines.encode()), now))


def _names(articles) -> list[list[tuple]]:
    return [[(m.canonical, m.type.value, m.start) for m in a.entities] for a in articles]


def test_names_are_tracks_whichever_partition_recognised_an_article():
    # the second article alone would type "Gingrich" a place ("near Gingrich"); track's registry has met
    # Newt Gingrich in the first, so its surname stays a person: recognition per partition, names in order
    texts = ["Speaker Newt Gingrich met reporters in Washington on Monday, and Gingrich spoke about the budget.",
             "Lawmakers who stood near Gingrich voted against the budget on Tuesday in Washington.",
             "Gingrich said on Wednesday that the vote in Washington would be held again."]
    rows = [{"ord": f"{i:05d}", **article_to_row(a, INGESTED)} for i, a in enumerate(_articles(texts))]
    prepared = [*prepare_rows(rows[:1]), *prepare_rows(rows[1:])]  # two partitions, each on its own
    out = list(reconcile_rows(prepared))
    batch = [article_from_row(r) for r in out if "registry" not in r]
    registry = [row for r in out if "registry" in r for row in pickle.loads(r["registry"])]

    reference = _articles(texts)  # track's path: one extractor, the whole batch in order
    extractor = EntityExtractor()
    enrich_articles(reference, get_embedder("use"), extractor)
    assert _names(batch) == _names(reference)
    assert ("Newt Gingrich", "person", texts[1].index("Gingrich")) in _names(batch)[1]
    assert sorted(registry) == sorted(tuple(r) for r in extractor.registry.to_rows())


def test_a_calendar_window_is_named_by_the_day_of_its_first_article():
    day = lambda d: (d - dt.date(1970, 1, 1)).days  # noqa: E731
    assert window_cuts({day(dt.date(1970, 1, 31)): 1}, days=30, batch_size=1) == {30: 0}
    assert window_cuts({day(dt.date(1969, 12, 31)): 1}, days=30, batch_size=1) == {-1: 0}  # before 1970 too
    assert window_cuts({day(dt.date(2100, 1, 1)): 1}, days=1, batch_size=1) == {day(dt.date(2100, 1, 1)): 0}


def test_a_calendar_window_starts_on_the_placement_batch_that_follows_its_first_article():
    """A window cut between two of ``track``'s batches refines as ``track`` does; one cut inside a batch
    would refine that batch's first part without the rest (on an archive in 365-day windows the job then
    disagreed with ``track``)."""
    counts = {0: 10, 1: 10, 5: 30, 9: 10, 40: 20, 41: 20}  # 100 articles; weeks start at 0, 50 and 60
    assert window_cuts(counts, days=7, batch_size=1) == {0: 0, 9: 0, 40: 0}
    assert window_cuts(counts, days=7, batch_size=25) == {0: 0, 9: 0, 40: 15}  # at 50 and 75
    assert window_cuts(counts, days=7, batch_size=64) == {0: 0, 40: 4}  # 50 and 60 both move on to 64: one window


def test_story_windows_are_runs_of_about_equal_size_that_start_on_a_placement_batch():
    import pytest

    counts = {0: 10, 1: 10, 5: 30, 9: 10, 40: 20, 41: 20}  # 100 articles over six days
    assert window_cuts(counts, windows=2, batch_size=1) == {0: 0, 9: 0}  # 50 and 50
    assert window_cuts(counts, windows=2, batch_size=20) == {0: 0, 5: 20}  # 40 and 60: a batch starts at 40, inside day 5
    assert window_cuts(counts, windows=4, batch_size=25) == {0: 0, 5: 5, 9: 0, 40: 15}  # 25 each
    assert window_cuts(counts, windows=2, batch_size=256) == {0: 0}  # fewer articles than a batch: one window
    assert window_cuts(counts, windows=10, batch_size=1) == {0: 0, 1: 0, 5: 0, 9: 0, 40: 0, 41: 0}  # one a day at most
    assert window_cuts(counts, windows=1, batch_size=1) == {0: 0}
    assert window_cuts({}, windows=3, batch_size=1) == {}
    with pytest.raises(ValueError, match="at least 1"):
        window_cuts(counts, windows=0, batch_size=1)
    with pytest.raises(ValueError, match="batch size"):
        window_cuts(counts, windows=2)
    cuts = sorted(window_cuts(counts, windows=2, batch_size=20).items())
    assert [window_of(cuts, d, r) for d, r in ((1, 9), (5, 19), (5, 20), (41, 0), (None, 0))] == [0, 0, 5, 5, 5]
    assert window_of([], None, 0) == UNDATED_WINDOW


def test_document_frequencies_at_each_window_are_those_of_one_placer_over_the_whole_stream():
    import random

    from storyline.scale.docfreq import doc_freq_states
    from storyline.stories.similarity import DocFreq

    rng = random.Random(7)
    docs = [[f"t{rng.randint(0, 40)}" for _ in range(rng.randint(1, 6))] for _ in range(700)]
    sizes = [5, 250, 1, 300, 90, 54]  # windows that end inside batches of 256, and one that ends on a boundary
    windows, start = {}, 0
    for w, n in enumerate(sizes):
        df, partial = DocFreq(), {}
        for position, terms in enumerate(docs[start:start + n], start + 1):
            df.add(terms)
            if position in DocFreq.refreshes(start + n) and position > start:
                partial[position] = dict(df.counts)
        windows[w] = (n, dict(df.counts), partial)
        start += n
    states, final = doc_freq_states(windows, 256)
    whole, start = DocFreq(), 0
    seen: dict[int, tuple[int, dict]] = {}
    for position, terms in enumerate(docs, 1):
        whole.add(terms)
        seen[position] = (whole.idf_docs, dict(whole.idf_counts))
    whole, start = DocFreq(), 0
    for w, n in enumerate(sizes):
        assert states[w][0] == (whole.docs, dict(whole.counts), whole.idf_docs, dict(whole.idf_counts))
        for terms in docs[start:start + n]:
            whole.add(terms)
        end = start + n
        batch_end = min(-(-end // 256) * 256, len(docs))
        expected = seen[batch_end] if seen[batch_end][0] != whole.idf_docs else None
        assert states[w][1] == expected, w
        start = end
    assert final == (whole.docs, dict(whole.counts), whole.idf_docs, dict(whole.idf_counts))


def test_partial_dates_settle_per_story_as_track_settles_them_batch_by_batch():
    from storyline.model import Article, DateMention, DateProvenance, Granularity
    from storyline.scale.stages import settle_story_dates

    def article(key, published=None, partial=False):
        dates = [DateMention("March 3", 0, 7, "--03-03", Granularity.MONTH_DAY)] if partial else []
        return Article(id=key, text="t", original_text="t", origin=key, content_hash=key, ingested_at="2025-01-01T00:00:00+00:00",
                       published=published, dates=dates,
                       published_provenance=DateProvenance.METADATA if published else DateProvenance.UNDATED)

    early, anchor, later = article("u1", partial=True), article("d1", dt.date(2021, 6, 1)), article("d2", dt.date(2024, 6, 1))
    waiting = article("u0", partial=True)
    # batch 0: the undated one alone (nothing to settle against); batch 1: the first firm date settles it;
    # batch 2: a later firm date does not move a date already settled; an undated member placed after it does
    settle_story_dates([(0, early), (1, anchor), (2, later), (2, waiting)])
    assert early.dates[0].resolved == "2021-03-03" and early.dates[0].granularity is Granularity.DAY
    assert waiting.dates[0].resolved == "2024-03-03"
    lone = article("u2", partial=True)
    settle_story_dates([(0, lone)])
    assert lone.dates[0].is_partial  # no firm date in the story: left as it was


def _thread_story(key: str, day: int, seed: int) -> Story:
    """A one-event story with a profile of its own, as the thread linker reads one."""
    import numpy as np

    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    vector = np.random.default_rng(seed).normal(size=8).astype(np.float32)
    return Story(id=key, event_ids=["ev-" + key.removeprefix("st-")], first_date=date, last_date=date, centroid=vector,
                 embedding_sum=vector * 2, terms={f"w:t{seed}": 1.0}, entity_counts={f"person:p{seed}": seed})


def test_threads_stream_batches_in_the_runs_order_and_refuse_them_out_of_order():
    import pytest

    from storyline.scale.stages import link_threads

    a = _thread_story("st-a", 0, 1)
    b = _thread_story("st-b", 3, 2)
    out = list(link_threads(iter([(0, 0, [a]), (1, 0, [b])]), iter([a, b])))
    story_rows = {key: ref for kind, key, ref, _ in out if kind == "story"}
    assert set(story_rows) == {"st-a", "st-b"} and all(story_rows.values())
    live = {key for kind, key, ref, _ in out if kind == "thread" and ref is None}
    assert set(story_rows.values()) <= live  # each story's thread is a thread record written
    # a story no batch named (its window's batches were not replayed) is linked after the batches
    late = list(link_threads(iter([(0, 0, [a])]), iter([a, b])))
    assert {key for kind, key, _, _ in late if kind == "story"} == {"st-a", "st-b"}
    with pytest.raises(ValueError, match="out of order"):
        list(link_threads(iter([(1, 0, [b]), (0, 0, [a])])))


def test_threads_replayed_keep_a_story_that_grows_after_its_thread_closed():
    # as track's linker does through its store: st-a and st-b make a thread in 2011, a Libya story in 2016
    # closes it; st-a growing then reopens that thread (history) instead of getting a second one
    import numpy as np

    from storyline.scale.stages import link_threads

    def story(key, day, places, topic, seed):
        vector = np.zeros(16, dtype=np.float32)
        vector[topic] = 1.0
        vector += 0.3 * np.random.default_rng(seed).standard_normal(16).astype(np.float32)
        vector /= np.linalg.norm(vector)
        first = dt.date.fromisoformat(day)
        return Story(id=f"st-{key}", event_ids=[f"ev-{key}"], first_date=first, last_date=first + dt.timedelta(days=10),
                     centroid=vector, terms={f"p:{k}": v for k, v in places.items()}, size=4, embedding_sum=vector * 4,
                     title=key)

    syria, libya = {"geo:SY": 10, "geo:170654": 2}, {"geo:LY": 10, "geo:2210247": 2}
    a, b, z = story("a", "2011-01-01", syria, 0, 0), story("b", "2011-02-01", syria, 0, 1), story("z", "2016-01-01", libya, 3, 9)
    grown = dataclasses.replace(a, size=9, embedding_sum=a.centroid * 9)
    out = list(link_threads(iter([(0, 0, [a]), (1, 0, [b]), (2, 1, [z]), (3, 1, [grown])])))
    thread_of = {key: ref for kind, key, ref, _ in out if kind == "story"}
    assert thread_of["st-a"] == thread_of["st-b"] != thread_of["st-z"]
    live = {key for kind, key, ref, _ in out if kind == "thread" and ref is None}
    assert len(live) == 2


