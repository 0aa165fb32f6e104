"""Id resolution over the windows' placements (``storyline.scale.resolve``): plain Python, no Spark."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

from storyline.model import Event, Story
from storyline.scale.resolve import WindowPlacement, final_records, resolve_ids


def _event(key, story, members, day):
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return Event(id=key, story_id=story, article_ids=members, first_date=date, last_date=date)


def _story(key, events, day):
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return Story(id=key, event_ids=events, first_date=date, last_date=date)


def test_ids_restored_from_an_earlier_window_follow_back_to_where_their_first_article_ended():
    # window 0: a1 opens ev-a1/st-a1. Pass 2 of window 1 restored window 0's first-pass records: b1 joined
    # the restored event ev-a1, b2 opened ev-b2 which joined the restored story st-a1, b3 stands alone.
    # window 1 restored ev-a1 and st-a1 with a1 first (``firsts``): they follow back to where a1 ended
    second = {
        0: WindowPlacement(0, [], [_event("ev-a1", "st-a1", ["a1"], 0)], [_story("st-a1", ["ev-a1"], 0)], set(),
                           {"ev-a1": ["a1"]}),
        1: WindowPlacement(1, [], [_event("ev-a1", "st-a1", ["a1", "b1"], 40), _event("ev-b2", "st-a1", ["b2"], 41),
                                   _event("ev-b3", "st-b3", ["b3"], 42)],
                           [_story("st-a1", ["ev-a1", "ev-b2"], 41), _story("st-b3", ["ev-b3"], 42)],
                           {"ev-a1", "st-a1"}, {"ev-a1": ["b1"], "ev-b2": ["b2"], "ev-b3": ["b3"]},
                           firsts={"ev-a1": "a1", "st-a1": "a1"}),
    }
    resolved = resolve_ids(second)
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
    resolved = resolve_ids(placements)
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
                           {"ev-a1", "st-a1", "st-b1"}, {"ev-a1": [], "ev-c1": ["c1", "a1"]}, moved={"a1"},
                           firsts={"ev-a1": "a1", "st-a1": "a1", "st-b1": "b1"}),
    }
    resolved = resolve_ids(placements)
    assert resolved.mapping[(0, "ev-b1")] == ("ev-b1", "st-a1")  # the merge reaches window 0's piece
    assert resolved.before(1)[(0, "ev-b1")] == ("ev-b1", "st-b1")  # window 1 restores what was before its merge
    assert resolved.article_event["a1"] == "ev-c1"
    events, _ = final_records(placements, resolved.mapping)
    assert {e.id: e.article_ids for e in events} == {"ev-a1": ["a2"], "ev-b1": ["b1"], "ev-c1": ["c1", "a1"]}


def test_a_story_chained_across_windows_is_restored_whole_in_the_next_pass():


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
    from storyline.scale.resolve import context_targets

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
    from storyline.scale.resolve import context_digest

    rows = [{"source": 1, "kind": "event", "id": "ev-a", "blob": b"x"}, {"source": 1, "kind": "story", "id": "st-a", "blob": b"y"},
            {"source": 3, "kind": "docfreq", "id": None, "blob": b"z"}]
    mapping = {(1, "ev-a"): ("ev-a", "st-a")}
    same = context_digest(rows, mapping)
    assert context_digest(list(reversed(rows)), dict(mapping)) == same  # Spark sends rows in any order
    assert context_digest(rows, {(1, "ev-a"): ("ev-b", "st-a")}) != same  # the event now has another final id
    assert context_digest([{**rows[0], "blob": b"x2"}, *rows[1:]], mapping) != same  # its record changed
    assert context_digest(rows[1:], mapping) != same  # a record no longer restored


def test_exemplars_count_in_a_windows_context_only_when_it_restores_an_event():
    from storyline.scale.resolve import context_digest, effective_context

    docfreq = {"source": 3, "kind": "docfreq", "id": None, "blob": b"z"}
    exemplars = [{"source": 2, "kind": "exemplar", "id": f"a{i}", "last_day": i, "blob": bytes([i])} for i in range(3)]
    event = {"source": 1, "kind": "event", "id": "ev-a", "blob": b"x"}
    # a window after a quiet spell restores nothing: pass 2's exemplars cannot change its placement
    assert effective_context([docfreq, *exemplars]) == [docfreq]
    assert context_digest([docfreq, *exemplars], {}) == context_digest([docfreq], None)
    # with an event restored they are what refinement moves its members by
    assert effective_context([event, docfreq, *exemplars]) == [event, docfreq, *exemplars]
    assert context_digest([event, docfreq, *exemplars], {}) != context_digest([event, docfreq], {})


def test_the_members_digest_sees_members_and_ids_but_not_profiles():
    from storyline.scale.resolve import context_digest, dumps

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
    from storyline.scale.resolve import PROFILE, lean, with_profile

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


def test_what_a_window_restores_does_not_depend_on_its_own_placement():
    from storyline.scale.resolve import context_targets

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

