"""The batch job's per-task functions, without Spark: names in input order and id resolution."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pickle

from storyline.enrich.embed import get_embedder
from storyline.enrich.entities import EntityExtractor
from storyline.model import Event, Story
from storyline.pipeline import enrich_articles
from storyline.scale.stages import (WindowPlacement, article_from_row, article_to_row, clean_items, documents_of_file,
                                    UNDATED_WINDOW, final_records, prepare_rows, reconcile_rows, resolve_ids,
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


def _event(key, story, members, day):
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return Event(id=key, story_id=story, article_ids=members, first_date=date, last_date=date)


def _story(key, events, day):
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return Story(id=key, event_ids=events, first_date=date, last_date=date)


def test_ids_restored_from_an_earlier_window_follow_back_to_where_their_first_article_ended():
    # window 0: a1 opens ev-a1/st-a1. Pass 2 of window 1 restored window 0's first-pass records: b1 joined
    # the restored event ev-a1, b2 opened ev-b2 which joined the restored story st-a1, b3 stands alone.
    first = ([_event("ev-a1", "st-a1", ["a1"], 0), _event("ev-b1", "st-b1", ["b1"], 40)],
             [_story("st-a1", ["ev-a1"], 0), _story("st-b1", ["ev-b1"], 40)])
    second = {
        0: WindowPlacement(0, [], [_event("ev-a1", "st-a1", ["a1"], 0)], [_story("st-a1", ["ev-a1"], 0)], set(),
                           {"ev-a1": ["a1"]}),
        1: WindowPlacement(1, [], [_event("ev-a1", "st-a1", ["a1", "b1"], 40), _event("ev-b2", "st-a1", ["b2"], 41),
                                   _event("ev-b3", "st-b3", ["b3"], 42)],
                           [_story("st-a1", ["ev-a1", "ev-b2"], 41), _story("st-b3", ["ev-b3"], 42)],
                           {"ev-a1", "st-a1"}, {"ev-a1": ["b1"], "ev-b2": ["b2"], "ev-b3": ["b3"]}),
    }
    resolved = resolve_ids(first, second)
    assert resolved.mapping[(1, "ev-a1")] == ("ev-a1", "st-a1")
    assert resolved.mapping[(1, "ev-b2")] == ("ev-b2", "st-a1")
    assert resolved.mapping[(1, "ev-b3")] == ("ev-b3", "st-b3")
    assert resolved.home == {"ev-a1": 0, "ev-b2": 1, "ev-b3": 1}


def test_a_final_story_lists_its_events_in_the_order_they_joined_it():
    """``track``'s placer judges a story by its largest events, ties kept in the order they joined, so the
    job's final stories (and what the next window restores) list them in that order, not by date."""
    placements = {
        0: WindowPlacement(0, [], [_event("ev-a9", "st-a9", ["a9"], 5), _event("ev-a1", "st-a9", ["a1"], 0)],
                           [_story("st-a9", ["ev-a9", "ev-a1"], 0)], set(), {"ev-a9": ["a9"], "ev-a1": ["a1"]}),
        1: WindowPlacement(1, [], [_event("ev-b1", "st-a9", ["b1"], 40)],
                           [_story("st-a9", ["ev-a9", "ev-a1", "ev-b1"], 0)], {"st-a9"}, {"ev-b1": ["b1"]}),
    }
    resolved = resolve_ids(([], []), placements)
    _, stories = final_records(placements, resolved.mapping)
    assert [s.event_ids for s in stories] == [["ev-a9", "ev-a1", "ev-b1"]]  # by date: ev-a1, ev-a9, ev-b1


def test_a_merge_a_later_window_made_moves_the_earlier_pieces_but_not_that_windows_own_context():
    # window 0 formed st-a1 and st-b1; window 1 restored both, merged st-b1 into st-a1 and moved a1 out of
    # ev-a1 into its new event ev-c1 (refinement): track ends with b1 and c1's event in st-a1, a1 in ev-c1
    first = ([_event("ev-a1", "st-a1", ["a1", "a2"], 0), _event("ev-b1", "st-b1", ["b1"], 5)],
             [_story("st-a1", ["ev-a1"], 0), _story("st-b1", ["ev-b1"], 5)])
    placements = {
        0: WindowPlacement(0, [], list(first[0]), list(first[1]), set(), {"ev-a1": ["a1", "a2"], "ev-b1": ["b1"]}),
        1: WindowPlacement(1, [], [_event("ev-a1", "st-a1", ["a2"], 0), _event("ev-c1", "st-a1", ["c1", "a1"], 41)],
                           [_story("st-a1", ["ev-a1", "ev-b1", "ev-c1"], 41),
                            dataclasses.replace(_story("st-b1", [], 5), merged_into="st-a1")],
                           {"ev-a1", "st-a1", "st-b1"}, {"ev-a1": [], "ev-c1": ["c1", "a1"]}, moved={"a1"}),
    }
    resolved = resolve_ids(first, placements)
    assert resolved.mapping[(0, "ev-b1")] == ("ev-b1", "st-a1")  # the merge reaches window 0's piece
    assert resolved.before(1)[(0, "ev-b1")] == ("ev-b1", "st-b1")  # window 1 restores what was before its merge
    assert resolved.article_event["a1"] == "ev-c1"
    events, _ = final_records(placements, resolved.mapping)
    assert {e.id: e.article_ids for e in events} == {"ev-a1": ["a2"], "ev-b1": ["b1"], "ev-c1": ["c1", "a1"]}


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


def test_a_story_chained_across_windows_is_restored_whole_in_the_next_pass():
    from storyline.scale.stages import final_records

    # pass k: window 1 linked its event ev-b1 to the story st-a1 restored from window 0; window 2 must
    # get back one story with both events (not window 0's piece alone), under the final ids
    placements = {
        0: WindowPlacement(0, [], [_event("ev-a1", "st-a1", ["a1"], 0)], [_story("st-a1", ["ev-a1"], 0)], set(),
                           {"ev-a1": ["a1"]}),
        1: WindowPlacement(1, [], [_event("ev-b1", "st-a1", ["b1"], 400)], [_story("st-a1", ["ev-a1", "ev-b1"], 400)],
                           {"st-a1"}, {"ev-b1": ["b1"]}),
    }
    mapping = {(0, "ev-a1"): ("ev-a1", "st-a1"), (1, "ev-b1"): ("ev-b1", "st-a1")}
    events, stories = final_records(placements, mapping)
    assert [(e.id, e.story_id, e.article_ids) for e in events] == [("ev-a1", "st-a1", ["a1"]), ("ev-b1", "st-a1", ["b1"])]
    assert [(s.id, s.event_ids, s.first_date, s.last_date) for s in stories] == \
        [("st-a1", ["ev-a1", "ev-b1"], dt.date(2020, 1, 1), dt.date(2021, 2, 4))]


def test_a_long_archive_restores_a_bounded_context():
    from storyline.scale.stages import context_targets

    # 30-day windows over 25 years; each window opens one event and one story that last 5 days. Open at a
    # window's start (event window 30 days, story window 400) are the stories of the last 400 days and their
    # events: the count a window restores is the same at window 50 and at window 300, however many came before
    days, n = 30, 300
    placements, mapping = {}, {}
    windows = [w * days for w in range(n)]  # a window is named by its first day
    for w in windows:
        start = w + 3 - (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days
        event, story = _event(f"ev-{w}", f"st-{w}", [f"a{w}"], start + 5), _story(f"st-{w}", [f"ev-{w}"], start + 5)
        placements[w] = WindowPlacement(w, [], [event], [story], set(), {f"ev-{w}": [f"a{w}"]})
        mapping[(w, f"ev-{w}")] = (f"ev-{w}", f"st-{w}")
    targets = context_targets(placements, lambda _: mapping, windows, event_days=30, story_days=400)
    restored = [sum(w in ts for ts in targets.values()) for w in windows]
    assert restored[50] == restored[150] == restored[299] == 2 * 13  # 13 earlier windows' story and event
    assert max(restored) == restored[299]
    # a story chained through every window stays open, so its events come back with it (as track keeps them)
    for w in windows:
        placements[w].events[0].story_id = "st-0"
        placements[w].stories[0].id = "st-0"
        mapping[(w, f"ev-{w}")] = (f"ev-{w}", "st-0")
    chained = context_targets(placements, lambda _: mapping, windows, event_days=30, story_days=400)
    assert sum(windows[-1] in ts for ts in chained.values()) == 2 * 299


def test_a_window_whose_context_did_not_change_hashes_the_same():
    from storyline.scale.stages import context_digest

    rows = [{"source": 1, "kind": "event", "id": "ev-a", "blob": b"x"}, {"source": 1, "kind": "story", "id": "st-a", "blob": b"y"},
            {"source": 3, "kind": "docfreq", "id": None, "blob": b"z"}]
    mapping = {(1, "ev-a"): ("ev-a", "st-a")}
    same = context_digest(rows, mapping)
    assert context_digest(list(reversed(rows)), dict(mapping)) == same  # Spark sends rows in any order
    assert context_digest(rows, {(1, "ev-a"): ("ev-b", "st-a")}) != same  # the event now has another final id
    assert context_digest([{**rows[0], "blob": b"x2"}, *rows[1:]], mapping) != same  # its record changed
    assert context_digest(rows[1:], mapping) != same  # a record no longer restored


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



def test_the_members_digest_sees_members_and_ids_but_not_profiles():
    from storyline.scale.stages import context_digest, dumps

    event = _event("ev-a", "st-a", ["a1", "a2"], 0)
    story = _story("st-a", ["ev-a"], 0)

    def rows(e, s, own=("a1", "a2")):
        return [{"source": 1, "kind": "event", "id": e.id, "blob": dumps((e, False, list(own), []))},
                {"source": 1, "kind": "story", "id": s.id, "blob": dumps((s, False, [], []))}]

    mapping = {(1, "ev-a"): ("ev-a", "st-a")}
    same = context_digest(rows(event, story), mapping, members_only=True)
    moved = dataclasses.replace(event, title="another title", terms={"w:quake": 2.0}, last_date=dt.date(2020, 1, 9))
    assert context_digest(rows(moved, story), mapping, members_only=True) == same  # a profile only
    assert context_digest(rows(moved, story), mapping) != context_digest(rows(event, story), mapping)  # the exact digest sees it
    assert context_digest(rows(event, story, ("a1",)), mapping, members_only=True) != same  # a member left
    joined = dataclasses.replace(story, event_ids=["ev-a", "ev-b"])
    assert context_digest(rows(event, joined), mapping, members_only=True) != same  # an event joined the story
    assert context_digest(rows(event, story), {(1, "ev-a"): ("ev-z", "st-z")}, members_only=True) != same  # final ids


def _profiled(record, seed: int):
    import numpy as np

    vector = np.random.default_rng(seed).normal(size=8).astype(np.float32)
    return dataclasses.replace(record, centroid=vector, embedding_sum=vector * 2, terms={f"w:t{seed}": 1.0},
                               entity_counts={f"person:p{seed}": seed})


def test_final_records_resolved_from_lean_pieces_get_back_the_profile_of_the_piece_they_came_from():
    from storyline.scale.stages import PROFILE, lean, with_profile

    # the driver resolves lean pieces (no vectors, terms, entities); each final record takes its profile
    # from the latest piece (window 1's story carries what it restored of window 0's), as from whole pieces
    events = [[_profiled(_event("ev-a1", "st-a1", ["a1"], 0), 1)], [_profiled(_event("ev-b1", "st-a1", ["b1"], 400), 2)]]
    stories = [[_profiled(_story("st-a1", ["ev-a1"], 0), 3)], [_profiled(_story("st-a1", ["ev-a1", "ev-b1"], 400), 4)]]
    owns = [{"ev-a1": ["a1"]}, {"ev-b1": ["b1"]}]

    def placements(shape):
        return {w: WindowPlacement(w, [], [shape(e) for e in events[w]], [shape(s) for s in stories[w]],
                                   {"st-a1"} if w else set(), owns[w]) for w in (0, 1)}

    mapping = {(0, "ev-a1"): ("ev-a1", "st-a1"), (1, "ev-b1"): ("ev-b1", "st-a1")}
    whole = final_records(placements(lambda r: r), mapping)
    sources: dict = {}
    thin = final_records(placements(lean), mapping, sources)
    assert all(getattr(r, name) in (None, {}) for r in (*thin[0], *thin[1]) for name in PROFILE)
    assert sources == {("event", "ev-a1"): (0, "ev-a1"), ("event", "ev-b1"): (1, "ev-b1"), ("story", "st-a1"): (1, "st-a1")}
    pieces = {(w, kind, r.id): r for w in (0, 1) for kind, rs in (("event", events[w]), ("story", stories[w])) for r in rs}
    rebuilt = [[with_profile(r, pieces[(*sources[(kind, r.id)][:1], kind, sources[(kind, r.id)][1])]) for r in rs]
               for kind, rs in (("event", thin[0]), ("story", thin[1]))]
    assert [pickle.dumps(r) for r in (*rebuilt[0], *rebuilt[1])] == [pickle.dumps(r) for r in (*whole[0], *whole[1])]
    assert rebuilt[1][0].terms == {"w:t4": 1.0}  # the latest piece's


def test_threads_stream_batches_in_the_runs_order_and_refuse_them_out_of_order():
    import pytest

    from storyline.scale.stages import link_threads

    a = _profiled(_story("st-a", ["ev-a"], 0), 1)
    b = _profiled(_story("st-b", ["ev-b"], 3), 2)
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


def test_what_a_window_restores_does_not_depend_on_its_own_placement():
    from storyline.scale.stages import context_targets

    # window 10 restored window 0's event ev-a and its refinement moved a1 into its own event ev-b: under
    # the job's result ev-a holds nothing, yet window 10 restores it (as track's placer held it there);
    # judged with window 10's own moves, the next pass would restore less, and re-place it for ever
    day0 = (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days
    placements = {
        day0: WindowPlacement(day0, [], [_event("ev-a", "st-a", ["a1"], 0)], [_story("st-a", ["ev-a"], 0)], set(),
                              {"ev-a": ["a1"]}),
        day0 + 10: WindowPlacement(day0 + 10, [], [_event("ev-b", "st-b", ["a1", "b1"], 10)], [_story("st-b", ["ev-b"], 10)],
                                   set(), {"ev-b": ["a1", "b1"]}, moved={"a1"}),
    }
    mapping = {(day0, "ev-a"): ("ev-a", "st-a"), (day0 + 10, "ev-b"): ("ev-b", "st-b")}
    assert [e.id for e in final_records(placements, mapping)[0]] == ["ev-b"]  # the job's result
    targets = context_targets(placements, lambda _: mapping, list(placements), event_days=30, story_days=400)
    assert targets == {(day0, "event", "ev-a"): [day0 + 10], (day0, "story", "st-a"): [day0 + 10]}
