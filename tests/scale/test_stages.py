"""The batch job's per-task functions, without Spark: name reconciliation and id resolution."""

from __future__ import annotations

import datetime as dt

from storyline.model import Event, Story
from storyline.scale.stages import WindowPlacement, reconcile_names, resolve_ids, window_of, UNDATED_WINDOW


def test_a_surname_kept_bare_in_one_partition_joins_the_full_name_from_another():
    # partition 2 met "Khalilzad" first (input position 1), partition 1 learned the full name at position 5
    names = [("Zalmay Khalilzad", "person", "00005", 3), ("Khalilzad", "person", "00001", 2), ("Kabul", "place", "00002", 1)]
    mapping, rows = reconcile_names(names)
    assert mapping == {"Khalilzad": "Zalmay Khalilzad"}
    assert reconcile_names(list(reversed(names)))[0] == mapping  # order of arrival from Spark does not matter
    assert ("khalilzad", "Zalmay Khalilzad", "person", 0) in rows


def _event(key, story, members, day):
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return Event(id=key, story_id=story, article_ids=members, first_date=date, last_date=date)


def _story(key, events, day):
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return Story(id=key, event_ids=events, first_date=date, last_date=date)


def test_ids_restored_from_an_earlier_window_follow_back_to_where_their_first_article_ended():
    # window 0: a1 opens ev-a1/st-a1. Pass 2 of window 1 restored window 0's first-pass records: b1 joined
    # the restored event ev-a1, b2 opened ev-b2 which joined the restored story st-a1, b3 stands alone.
    first = {0: ([_event("ev-a1", "st-a1", ["a1"], 0)], [_story("st-a1", ["ev-a1"], 0)]),
             1: ([_event("ev-b1", "st-b1", ["b1"], 40)], [_story("st-b1", ["ev-b1"], 40)])}
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


def test_undated_articles_are_placed_last():
    assert window_of(None, 30) == UNDATED_WINDOW > window_of(dt.date(2100, 1, 1), 1)
    assert window_of(dt.date(1970, 1, 31), 30) == 1
