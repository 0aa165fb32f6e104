"""Titles: an untitled article's from its first sentence; a cluster's headline is its most central title,
else its most central lead sentence, never a list of entities; names keep their casing."""

from __future__ import annotations

import numpy as np

from storyline.tell.titles import MAX_TITLE_CHARS, article_title, headline
from tests.tell.conftest import article


def test_own_title_is_kept_as_written() -> None:
    assert article_title("BP caps the well in the Gulf of Mexico", "Anything.") == "BP caps the well in the Gulf of Mexico"
    assert article_title("  Port-au-Prince  shaken\n", "x") == "Port-au-Prince shaken"


def test_untitled_article_gets_its_first_whole_sentence() -> None:
    text = "Rescuers reached Port-au-Prince on Thursday. The UN said aid would follow. More text here."
    assert article_title(None, text) == "Rescuers reached Port-au-Prince on Thursday."
    assert article_title("", text) == article_title("   ", text) == "Rescuers reached Port-au-Prince on Thursday."


def test_furniture_and_tokens_are_not_part_of_the_title() -> None:
    text = ("29 September 2011 Last updated at 15:44 GMT Help Dr Conrad Murray -LRB- pictured -RRB- denies "
            "a charge of involuntary manslaughter . The trial continues .")
    assert article_title(None, text) == "Dr Conrad Murray (pictured) denies a charge of involuntary manslaughter."


def test_long_first_sentence_is_cut_at_a_word() -> None:
    text = "The " + " ".join(["very"] * 60) + " long sentence ends here. Next one."
    title = article_title(None, text)
    assert len(title) <= MAX_TITLE_CHARS and title.endswith("…") and title.startswith("The very very")
    assert not title[:-1].endswith(" ")
    assert article_title(None, "") == ""


def test_headline_is_the_most_central_title_not_the_first() -> None:
    members = [
        article("a1", "2010-01-12", ["Markets fell on Tuesday."], title="Stocks slip in Asia"),
        article("a2", "2010-01-13", ["A quake struck Haiti near Port-au-Prince."], title="Earthquake devastates Haiti's capital Port-au-Prince"),
        article("a3", "2010-01-14", ["Aid reached Haiti after the quake in Port-au-Prince."], title="Aid arrives in Haiti after earthquake"),
        article("a4", "2010-01-15", ["Haiti's earthquake toll rose in Port-au-Prince."], title="Haiti earthquake toll rises"),
    ]
    # mean share of its words among the four members: 2.33, against 2.25 (a3), 2.0 (a4), 1.0 (a1, the first)
    assert headline(members) == "Earthquake devastates Haiti's capital Port-au-Prince"
    assert headline(list(reversed(members))) == headline(members)  # not a matter of order


def test_headline_with_a_centroid_is_the_nearest_member() -> None:
    members = [article(f"c{i}", "2010-01-12", ["Text."], title=f"Title {i}") for i in range(3)]
    for i, m in enumerate(members):
        m.embedding = np.eye(3, dtype=np.float32)[i]
    assert headline(members, centroid=np.array([0.1, 0.2, 0.9], dtype=np.float32)) == "Title 2"
    assert headline(members, centroid=np.array([0.9, 0.2, 0.1], dtype=np.float32)) == "Title 0"
    members[1].embedding = None  # a member without a vector: the words decide, as with no centroid
    assert headline(members, centroid=np.array([0.1, 0.2, 0.9], dtype=np.float32)) == headline(members)


def test_untitled_cluster_reads_its_most_central_lead_sentence() -> None:
    members = [
        article("u1", "2010-05-01", ["Fishing was closed off Louisiana.", "Boats stayed in port."]),
        article("u2", "2010-05-02", ["BP said oil from the Deepwater Horizon well was reaching Louisiana.", "More."]),
        article("u3", "2010-05-03", ["Oil from the BP well reached the Louisiana coast.", "Cleanup began."]),
    ]
    for m in members:
        m.title = None
    assert headline(members) == "Oil from the BP well reached the Louisiana coast."  # a sentence, never "BP, Louisiana"


def test_near_duplicates_are_not_candidates() -> None:
    lead = article("d1", "2010-01-12", ["Haiti quake kills thousands."], title="Haiti quake kills thousands")
    copy = article("d2", "2010-01-12", ["Haiti quake kills thousands."], title="Copy: Haiti quake kills thousands in Haiti", duplicate_of="d1")
    assert headline([lead, copy]) == "Haiti quake kills thousands"
    assert headline([]) == ""
