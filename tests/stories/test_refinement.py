"""Recovering from early mistakes: a wrongly grown event splits, a chain of events does not make one story."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from storyline.model import Document
from storyline.normalize.clean import clean
from storyline.stories import PlacementConfig, StoryPlacer
from storyline.enrich.embed import USEEmbedder
from storyline.enrich.embed import embed_articles as _embed

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

QUAKE = [
    ("q1", "2023-02-06", "Earthquake kills thousands in Turkey and Syria",
     "A magnitude 7.8 earthquake struck southern Turkey near Gaziantep and northern Syria on Monday, killing "
     "more than 2,300 people and toppling apartment blocks in Kahramanmaras and Aleppo."),
    ("q2", "2023-02-07", "Turkey Syria earthquake death toll passes 5,000",
     "Rescuers in Gaziantep and Kahramanmaras dug through rubble as the toll from the 7.8 magnitude earthquake "
     "in Turkey and Syria rose above 5,000; aftershocks shook Aleppo."),
    ("q3", "2023-02-08", "Aftershocks hamper rescue in Kahramanmaras",
     "Strong aftershocks hit Kahramanmaras and Gaziantep, slowing rescuers searching collapsed buildings after "
     "the earthquake that killed thousands in Turkey and Syria."),
    ("q4", "2023-02-09", "Earthquake survivors pulled from rubble in Aleppo",
     "Rescue teams pulled survivors from the rubble in Aleppo and Gaziantep three days after the 7.8 magnitude "
     "earthquake in Turkey and Syria; the death toll passed 12,000."),
]  # fmt: skip
BANK = [
    ("f1", "2023-02-06", "Regulators close Silicon Valley Bank",
     "Regulators closed Silicon Valley Bank in California after depositors withdrew $42 billion, the largest "
     "US bank failure since 2008; the FDIC took control of its deposits."),
    ("f2", "2023-02-07", "FDIC guarantees all Silicon Valley Bank deposits",
     "The FDIC and the Federal Reserve said all depositors of Silicon Valley Bank in California will be repaid "
     "in full after the $42 billion run on the bank."),
    ("f3", "2023-02-08", "Silicon Valley Bank collapse rattles bank shares",
     "Bank shares fell on Wall Street after the collapse of Silicon Valley Bank, as investors worried that "
     "deposit runs could spread to other lenders; the FDIC sold its assets."),
    ("f4", "2023-02-09", "Startups rush to recover Silicon Valley Bank deposits",
     "Technology startups that kept their deposits at Silicon Valley Bank rushed to move money after the FDIC "
     "guaranteed deposits; the Federal Reserve opened a lending programme for banks."),
]  # fmt: skip


def _articles(rows, embed=True, language="en"):
    docs = [Document(text=t, title=h, origin=i, source_id=i, published=d, language=language) for i, d, h, t in rows]
    articles = [clean(d, now=NOW) for d in docs]
    for a, row in zip(articles, rows):
        a.id = row[0]
    if embed:
        _embed(articles, USEEmbedder())
    return articles


@pytest.fixture(scope="module")
def mixed():
    quake, bank = _articles(QUAKE), _articles(BANK)
    return [a for pair in zip(quake, bank) for a in pair]  # interleaved, as a stream would bring them


def test_a_wrongly_grown_event_splits(mixed):
    # a placer that accepts anything grows one event out of two happenings ...
    placer = StoryPlacer(PlacementConfig(event_threshold=0.0))
    placed = [copy.deepcopy(a) for a in mixed]
    for article in placed:
        placer.place(article)
    assert {a.event_id for a in placed} == {"ev-q1"}
    # ... and with the real decision the event is taken apart again: ids stable, movers reported
    placer.config = PlacementConfig()
    new_id = placer.split("ev-q1")
    assert new_id == "ev-f1"
    moved = placer.moved()
    assert set(moved) == {"f1", "f2", "f3", "f4"}
    assert {event for event, _ in moved.values()} == {"ev-f1"}
    events = {e.id: set(e.article_ids) for e in placer.events() if not e.merged_into}
    assert events["ev-q1"] == {"q1", "q2", "q3", "q4"}
    assert events["ev-f1"] == {"f1", "f2", "f3", "f4"}
    assert placer.split("ev-q1") is None  # what is one event stays one


def test_a_true_event_does_not_split(mixed):
    placer = StoryPlacer()
    placed = [copy.deepcopy(a) for a in mixed]
    for article in placed:
        placer.place(article)
    assert placer.split("ev-q1") is None
    assert placer.split("ev-f1") is None
    assert placer.moved() == {}


def _day(n: int) -> str:
    return (dt.date(2023, 1, 1) + dt.timedelta(days=n)).isoformat()


FLOOD = "danube passau bavaria levee floodwater sandbags regensburg deggendorf"
ALPS = "glacier avalanche tyrol innsbruck snowpack mountaineers chairlift zillertal"


def test_a_chain_of_events_does_not_become_one_story():
    """A (flood) -> B (flood and avalanche) -> C (avalanche): B continues A's story, C must not join it
    through B alone, since most of the story (A) shares nothing with C."""
    rows = [(f"a{i}", _day(i), "Bavarian flood", f"{FLOOD}.") for i in range(8)]
    rows.append(("b0", _day(60), "Bavarian flood, Tyrol avalanche", f"{FLOOD} {ALPS}."))
    rows.append(("c0", _day(120), "Tyrol avalanche", f"{ALPS}."))
    placer = StoryPlacer()
    placed = {a.id: a for a in (copy.deepcopy(x) for x in _articles(rows, embed=False))}
    for article in placed.values():
        placer.place(article)
    story = lambda key: placer.resolve(placed[key].story_id)  # noqa: E731
    assert len({story(f"a{i}") for i in range(8)}) == 1
    assert story("b0") == story("a0")
    assert story("c0") != story("a0")
