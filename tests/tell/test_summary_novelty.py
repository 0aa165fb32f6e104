from __future__ import annotations

from storyline.model import to_dict
from storyline.tell.novelty import update_summary, whats_new
from storyline.tell.summary import summarize

from .conftest import article, assert_cited


def test_summary_is_cited_within_budget_and_deterministic(spill):
    s1 = summarize(spill, max_words=60)
    s2 = summarize(list(reversed(spill)), max_words=60)
    assert [to_dict(s) for s in s1] == [to_dict(s) for s in s2]
    assert_cited(s1, spill)
    assert sum(len(s.text.split()) for s in s1) <= 60
    assert all(s.language == "en" for s in s1)


def test_summary_drops_repeated_sentences(spill):
    echo = article("e1", "2010-07-17", [spill[4].sentences[0].text, "Local officials had no comment on Friday at all."])
    summ = summarize(spill + [echo], max_words=200)
    texts = [s.text for s in summ]
    assert len(texts) == len(set(texts))
    repeated = [s for s in summ if s.text == spill[4].sentences[0].text]
    assert len(repeated) == 1  # the repeated sentence is shown once, citing both articles
    assert {c.article_id for c in repeated[0].citations} >= {"s5", "e1"}


def test_summary_follows_the_query(spill):
    summ = summarize(spill, max_words=25, query="What did fishermen in Louisiana fear?")
    assert any("Fishermen" in s.text for s in summ)


def test_summary_prefers_the_readers_language(spill):
    fr = article("f1", "2010-04-21", [
        "Une explosion sur la plateforme Deepwater Horizon a tué onze ouvriers dans le golfe du Mexique.",
        "La plateforme exploitée pour BP a brûlé pendant des heures.",
    ], language="fr")
    en = summarize(spill + [fr], max_words=50, reader_language="en")
    assert en and all(s.language == "en" for s in en)
    french = summarize(spill + [fr], max_words=30, reader_language="fr")
    assert french[0].language == "fr"
    assert_cited(french, spill + [fr])


def test_whats_new_is_empty_for_a_duplicate(spill):
    copy = article("c1", "2010-07-17", [s.text for s in spill[3].sentences], duplicate_of="s4")
    assert whats_new(copy, spill) == []
    unflagged = article("c2", "2010-07-17", [s.text for s in spill[3].sentences])
    assert whats_new(unflagged, spill) == []


def test_whats_new_finds_the_new_fact(spill):
    later = article("n1", "2010-09-20", [
        "The leaking well was capped on 2010-07-15, BP said, halting the flow of oil after 86 days.",
        "Federal officials declared the well permanently dead on 2010-09-19 after a relief well sealed it with cement.",
    ])
    new = whats_new(later, spill)
    assert_cited(new, spill + [later])
    assert [c.sentence for s in new for c in s.citations[:1]] == [1]
    assert whats_new(later, spill) == new  # deterministic


def test_update_summary_avoids_what_was_known(spill):
    before, batch = spill[:3], spill[3:] + [article("r1", "2010-07-17", [
        "An explosion on the Deepwater Horizon drilling rig on 2010-04-20 killed eleven workers in the Gulf of Mexico.",
        "Gulf tourism bookings fell sharply in July as beaches stayed empty.",
    ])]
    upd = update_summary(batch, before, max_words=60)
    assert_cited(upd, spill + batch)
    assert all("explosion on the Deepwater Horizon" not in s.text for s in upd)
