"""The rolling scan (``storyline.scale.rolling``) against the driver functions it replaces: plain Python."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Mapping

import pytest

from storyline.model import Event, Story
from storyline.scale.resolve import WindowPlacement
from storyline.scale.rolling import hints_of, resolve_windows


def _dated(kind, day: int, **fields):
    """An event or story record whose first and last date are ``day`` days after 2020-01-01."""
    date = dt.date(2020, 1, 1) + dt.timedelta(days=day)
    return kind(first_date=date, last_date=date, **fields)


def _event(key, story, members, day):
    return _dated(Event, day, id=key, story_id=story, article_ids=members)


def _story(key, events, day):
    return _dated(Story, day, id=key, event_ids=events)


def _day(day: int) -> int:
    return (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days + day


def rolled(placements: Mapping[int, WindowPlacement], windows, event_days=30, story_days=400) -> dict:
    """The same from the scan."""
    out: dict = {"target": set(), "map": set(), "event": set(), "story": set(), "moved": set()}
    rows = resolve_windows([placements[w] for w in sorted(placements)], windows, hints_of(placements.values()),
                           event_days, story_days)
    for row in rows:
        kind, rest = row[0], row[1:]
        if kind == "target":
            out["target"].add(rest)
        elif kind == "map":
            out["map"].add(((rest[0], rest[1]), (rest[2], rest[3])))
        elif kind in ("event", "story"):
            out[kind].add((repr(rest[0]), rest[1], rest[2]))
        elif kind == "moved":
            out["moved"].add(rest)
        else:
            out["partition"] = rest[0]["partition"]
            out["stat"] = rest[0]
    return out


def assert_same(driver, placements, windows, **days) -> dict:
    mine, theirs = rolled(placements, windows, **days), driver(placements, windows, **days)
    for key in ("target", "map", "event", "story", "moved", "partition"):
        assert mine[key] == theirs[key], key
    return mine["stat"]


def test_a_merge_and_a_moved_member_resolve_as_on_the_driver(driver):
    # window 0 formed st-a1 and st-b1; window 1 restored both, merged st-b1 into st-a1 and moved a1 out of
    # ev-a1 into its new event ev-c1 (refinement)
    first = ([_event("ev-a1", "st-a1", ["a1", "a2"], 0), _event("ev-b1", "st-b1", ["b1"], 5)],
             [_story("st-a1", ["ev-a1"], 0), _story("st-b1", ["ev-b1"], 5)])
    placements = {
        0: WindowPlacement(0, [], list(first[0]), list(first[1]), set(), {"ev-a1": ["a1", "a2"], "ev-b1": ["b1"]}),
        _day(40): WindowPlacement(_day(40), [], [_event("ev-a1", "st-a1", ["a2"], 0), _event("ev-c1", "st-a1", ["c1", "a1"], 41)],
                                  [_story("st-a1", ["ev-a1", "ev-b1", "ev-c1"], 41),
                                   dataclasses.replace(_story("st-b1", [], 5), merged_into="st-a1")],
                                  {"ev-a1", "st-a1", "st-b1"}, {"ev-a1": [], "ev-c1": ["c1", "a1"]}, moved={"a1"},
                                  firsts={"ev-a1": "a1", "st-a1": "a1", "st-b1": "b1"}),
    }
    assert_same(driver, placements, sorted(placements))


def test_a_member_moved_into_a_record_that_closes_first_is_held_by_it_alone(driver):
    # window 1 moved z1 out of ev-z (a long story, open for years) into ev-x, which closes after a month;
    # window 2 (two years on) restores ev-z's story but not ev-x: z1 stays in ev-x, not back in ev-z
    w0, w1, w2 = _day(0), _day(20), _day(800)
    placements = {
        w0: WindowPlacement(w0, [], [_event("ev-z", "st-z", ["z0", "z1"], 0)], [_story("st-z", ["ev-z"], 0)], set(),
                            {"ev-z": ["z0", "z1"]}),
        w1: WindowPlacement(w1, [], [_event("ev-z", "st-z", ["z0", "z2"], 21), _event("ev-x", "st-x", ["x1", "z1"], 21)],
                            [_story("st-z", ["ev-z"], 21), _story("st-x", ["ev-x"], 21)], {"ev-z", "st-z"},
                            {"ev-z": ["z2"], "ev-x": ["x1", "z1"]}, moved={"z1"}, firsts={"ev-z": "z0", "st-z": "z0"}),
        w2: WindowPlacement(w2, [], [_event("ev-y", "st-z", ["y1"], 801)], [_story("st-z", ["ev-z", "ev-y"], 801)],
                            {"st-z"}, {"ev-y": ["y1"]}, firsts={"st-z": "z0"}),
    }
    # st-z lasts: its story window keeps it open at w2 only if its last date is within 400 days: make it so
    placements[w1].stories[0].last_date = dt.date(2021, 10, 1)
    stat = assert_same(driver, placements, sorted(placements))
    assert stat["cross_window_event_joins"] == 1


def test_a_long_archive_holds_a_bounded_state_and_matches_the_driver(driver):
    # 30-day windows over 25 years; each window opens an event and a story that last 5 days, and every fifth
    # window continues the story of the window before it: what the scan holds does not grow with the archive
    days, n = 30, 300
    placements = {}
    windows = [_day(w * days) for w in range(n)]
    for i, w in enumerate(windows):
        start = i * days + 3
        story = f"st-{windows[i - 1]}" if i % 5 == 4 else f"st-{w}"
        event = _event(f"ev-{w}", story, [f"a{w}", f"b{w}"], start + 5)
        firsts = {story: f"a{windows[i - 1]}"} if story != f"st-{w}" else {}
        placements[w] = WindowPlacement(w, [], [event], [_story(story, [f"ev-{w}"], start + 5)],
                                        set(firsts), {f"ev-{w}": [f"a{w}", f"b{w}"]}, firsts=firsts)
    stat = assert_same(driver, placements, windows)
    short = rolled({w: placements[w] for w in windows[:60]}, windows[:60])["stat"]
    assert stat["held_max"] == short["held_max"] <= 2 * 15  # the records open at a window's start: the last 400 days'


def test_placements_out_of_order_are_refused():
    placements = [WindowPlacement(5, [], [], [], set(), {}), WindowPlacement(3, [], [], [], set(), {})]
    with pytest.raises(ValueError, match="window 3"):
        list(resolve_windows(placements, [3, 5], hints_of(placements), 30, 400))
