"""Threads: stories joined on what they are about, kept apart when they are about neighbouring places.

Story records are built by hand here (places as the gazetteer ids placement writes into ``terms``, actors
as folded ``@`` entity keys), so each rule of ``ThreadLinker`` is tested on its own; the end-to-end checks
run the real pipeline on examples/ (``test_examples_threads``) and, in the gate, the labelled sets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from storyline.model import Story
from storyline.stories.threads import ThreadConfig, ThreadLinker, story_anchors, story_country

DIM = 16


def _vector(seed: int, base: int = 0, noise: float = 0.3) -> np.ndarray:
    """A unit vector near the topic direction ``base`` (stories on one topic are alike, not identical)."""
    rng = np.random.default_rng(seed)
    v = np.zeros(DIM, dtype=np.float32)
    v[base] = 1.0
    v += noise * rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def story(key: str, day: str, places: dict[str, float], actors: dict[str, float] | None = None, size: int = 4,
          topic: int = 0, seed: int = 0, days: int = 10) -> Story:
    first = dt.date.fromisoformat(day)
    vector = _vector(seed, topic)
    return Story(id=f"st-{key}", event_ids=[f"ev-{key}"], first_date=first, last_date=first + dt.timedelta(days=days),
                 centroid=vector, entity_counts={f"@{k}": v for k, v in (actors or {}).items()},
                 terms={f"p:{k}": v for k, v in places.items()}, size=size, embedding_sum=vector * size, title=key)


def link(batches: list[list[Story]], config: ThreadConfig | None = None) -> tuple[ThreadLinker, dict[str, str]]:
    linker = ThreadLinker(config)
    thread_of: dict[str, str] = {}
    for batch in batches:
        linker.update(batch)
        thread_of.update({s.id: s.thread_id for s in batch if s.thread_id})
    return linker, {k: linker.resolve(v) for k, v in thread_of.items()}


SYRIA, LIBYA, DAMASCUS, TRIPOLI = "geo:SY", "geo:LY", "geo:170654", "geo:2210247"


def test_neighbouring_crises_naming_each_others_capitals_stay_two_threads():
    # same months, same vocabulary of protest (one topic direction), each naming the other's capital
    syria = [story(f"sy{i}", f"2011-0{3 + i}-01", {SYRIA: 12, DAMASCUS: 6, LIBYA: 2, TRIPOLI: 1}, seed=i) for i in range(5)]
    libya = [story(f"ly{i}", f"2011-0{3 + i}-05", {LIBYA: 12, TRIPOLI: 6, SYRIA: 2, DAMASCUS: 1}, seed=10 + i) for i in range(5)]
    _, thread_of = link([[s, lb] for s, lb in zip(syria, libya)])
    assert len({thread_of[s.id] for s in syria}) == 1
    assert len({thread_of[s.id] for s in libya}) == 1
    assert thread_of[syria[0].id] != thread_of[libya[0].id]


def test_a_year_of_one_wars_diverse_stories_is_one_thread():
    # elections, a scandal, an inquiry, battles: different actors and topics, one country over a year
    themes = [
        ({"hamid karzai": 6, "election commission": 4}, 1),
        ({"taliban": 8, "helmand": 5}, 2),
        ({"stanley mcchrystal": 5, "rolling stone": 3}, 3),
        ({"taliban": 6, "kandahar": 4, "nato": 3}, 2),
        ({"inquiry": 4, "kabul bank": 5}, 4),
        ({"taliban": 5, "marjah": 4}, 2),
    ]
    stories = [story(f"af{i}", (dt.date(2010, 1, 10) + dt.timedelta(days=60 * i)).isoformat(),
                     {"geo:AF": 10, "geo:1138958": 4, "geo:US": 2}, actors, topic=topic, seed=i)
               for i, (actors, topic) in enumerate(themes)]
    _, thread_of = link([[s] for s in stories])
    assert len(set(thread_of.values())) == 1


def test_one_crisis_in_spanish_french_and_english_is_one_thread():
    # the gazetteer gives every language the same place ids; only English has NER actors
    es = story("es", "2011-02-20", {LIBYA: 9, TRIPOLI: 5, "geo:88319": 3}, seed=1)
    fr = story("fr", "2011-02-22", {LIBYA: 8, TRIPOLI: 3, "geo:88319": 2, "geo:FR": 1}, seed=2)
    en = story("en", "2011-02-25", {LIBYA: 10, TRIPOLI: 4, "geo:88319": 4}, {"muammar gaddafi": 6, "benghazi": 4}, seed=3)
    _, thread_of = link([[es], [fr], [en]])
    assert len(set(thread_of.values())) == 1


def test_unrelated_stories_far_apart_open_their_own_threads():
    a = story("a", "2009-01-01", {"geo:HT": 10}, {"earthquake": 5}, topic=1)
    b = story("b", "2010-03-01", {"geo:CL": 10}, {"earthquake": 5}, topic=1, seed=2)
    _, thread_of = link([[a], [b]])
    assert thread_of[a.id] != thread_of[b.id]


def test_ids_are_stable_and_named_after_the_first_story():
    a = story("first", "2011-01-01", {SYRIA: 10})
    b = story("second", "2011-02-01", {SYRIA: 10}, seed=4)
    _, thread_of = link([[a], [b]])
    assert thread_of == {a.id: "th-first", b.id: "th-first"}


def test_a_merged_away_story_leaves_its_thread_and_an_emptied_thread_redirects():
    a = story("a", "2011-01-01", {SYRIA: 10})
    b = story("b", "2011-01-02", {"geo:CL": 10}, topic=5)
    linker, thread_of = link([[a], [b]])
    assert thread_of[a.id] != thread_of[b.id]
    gone = Story(id=b.id, event_ids=[], first_date=None, last_date=None, merged_into=a.id)
    grown = dataclasses.replace(a, size=8)
    records = linker.update([grown, gone])
    assert {r.id: r.merged_into for r in records if r.merged_into} == {thread_of[b.id]: thread_of[a.id]}
    assert linker.resolve(thread_of[b.id]) == thread_of[a.id]


def test_a_restored_linker_decides_as_the_one_that_never_stopped():
    batches = [[story(f"s{i}", (dt.date(2011, 1, 1) + dt.timedelta(days=20 * i)).isoformat(),
                      {(SYRIA if i % 2 else LIBYA): 10, DAMASCUS: 1}, seed=i)] for i in range(8)]
    straight, expected = link([list(b) for b in batches])

    written: dict[str, object] = {}
    stories: dict[str, Story] = {}
    thread_of: dict[str, str] = {}
    linker = ThreadLinker()
    for batch in batches:
        batch = [dataclasses.replace(s) for s in batch]
        for record in linker.update(batch):
            written[record.id] = record
        for s in batch:
            stories[s.id] = s
            thread_of[s.id] = s.thread_id
        redirects = {k: r.merged_into for k, r in written.items() if r.merged_into}
        linker = ThreadLinker.restore(written.values(), stories.values(), redirects)  # as Store.thread_records
    assert {k: linker.resolve(v) for k, v in thread_of.items()} == expected


def test_story_anchors_weigh_mentions_per_article_and_skip_no_ner_place_keys():
    s = story("x", "2011-01-01", {SYRIA: 40, LIBYA: 2}, {"bashar al-assad": 20}, size=10)
    s.entity_counts["^geo:SY"] = 40  # what a language without NER writes: the places again
    anchors = story_anchors(s)
    assert set(anchors) == {SYRIA, LIBYA, "@bashar al-assad"}
    assert anchors[SYRIA] > anchors["@bashar al-assad"] > anchors[LIBYA]
    assert abs(sum(v * v for v in anchors.values()) - 1.0) < 1e-9


def test_story_country_counts_cities_in_their_country_and_needs_half_the_mentions():
    assert story_country(story("d", "2011-01-01", {DAMASCUS: 5, SYRIA: 1, LIBYA: 4})) == SYRIA
    assert story_country(story("m", "2011-01-01", {SYRIA: 3, LIBYA: 3, "geo:EG": 3})) is None
    assert story_country(story("n", "2011-01-01", {})) is None


def test_config_window_keeps_threads_open_longer_than_stories():
    from storyline.stories.linking import PlacementConfig

    assert ThreadConfig().window_days >= PlacementConfig().story_window_days


def test_examples_threads(examples_db):
    """``make run``'s corpus: the seeds one story in one thread; Haiti's and Chile's 2010 earthquakes two
    stories in two threads; every story names a thread that exists."""
    from storyline.store import Store

    with Store(examples_db) as store:
        def thread_of(origin_part: str) -> set[str]:
            rows = store.db.execute("SELECT story_id FROM articles WHERE origin LIKE ?", (f"%{origin_part}%",)).fetchall()
            return {store.get_thread(store.get_story(r[0]).thread_id).id for r in rows}

        seeds = thread_of("seeds/")
        chile = thread_of("wikinews_en.jsonl:51")
        haiti = thread_of("wikinews_en.jsonl:61")
        assert len(seeds) == 1 and len(chile) == 1 and len(haiti) == 1
        assert chile != haiti
        stories = store.stories()
        assert stories and all(s.thread_id and store.get_thread(s.thread_id) for s in stories)
        members = {sid for t in store.threads() for sid in t.story_ids}
        assert {s.id for s in stories} <= members


def test_a_story_changed_long_after_its_thread_closed_keeps_its_thread_through_the_store(tmp_path):
    """A late article grows a story whose thread left the window years ago: the linker reopens that thread
    from the store (``Store.threads_between``) instead of giving the story a second thread."""
    from storyline.store import Store

    store = Store(tmp_path / "s.db")
    linker = ThreadLinker(history=store.threads_between)
    old = [story("a", "2011-01-01", {SYRIA: 10, DAMASCUS: 2}), story("b", "2011-02-01", {SYRIA: 8, DAMASCUS: 1}, seed=1)]
    for batch in ([old[0]], [old[1]], [story("z", "2016-01-01", {LIBYA: 10, TRIPOLI: 2}, topic=3, seed=9)]):
        store.save_threads(linker.update(batch))
        store.save_stories(batch)
    assert old[0].thread_id == old[1].thread_id and linker.thread_of("st-a") is None  # closed, only stored
    grown = dataclasses.replace(old[0], size=9, embedding_sum=old[0].centroid * 9, thread_id=None)
    changed = linker.update([grown])
    assert grown.thread_id == old[0].thread_id
    assert [t.story_ids for t in changed] == [["st-a", "st-b"]]
    assert len(store.threads()) == 2
