import datetime as dt
import sqlite3

import numpy as np
import pytest

from storyline.model import DateMention, DateProvenance, EntityMention, EntityType, Event, Granularity, Sentence, Story
from storyline.store import ENRICHED, Store
from storyline.store.schema import SCHEMA_VERSION
from tests.conftest import make_article


def test_schema_is_versioned_and_wal(tmp_path):
    with Store(tmp_path / "s.db") as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with Store(tmp_path / "s.db") as store:  # reopening migrates nothing and keeps data
        assert store.count() == 0


def test_newer_schema_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "n.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        Store(tmp_path / "n.db")


def test_article_round_trip_with_enrichment(tmp_path):
    article = make_article("Khalilzad met Baradar in Doha.", id="x1", published=dt.date(2020, 1, 16),
                           published_provenance=DateProvenance.TEXT_MARKER, language="en")
    article.sentences = [Sentence(0, 30, "Khalilzad met Baradar in Doha.")]
    article.entities = [EntityMention("Zalmay Khalilzad", EntityType.PERSON, "Khalilzad", 0, 9, 0)]
    article.dates = [DateMention("august 7", 3, 11, "--08-07", Granularity.MONTH_DAY, 0)]
    article.embedding = np.arange(4, dtype=np.float32)
    article.fingerprint = np.arange(4, dtype=np.uint64)
    with Store(tmp_path / "s.db") as store:
        store.add_articles([article])
        store.update_articles([article], stage=ENRICHED)
        back = store.get_article("x1")
    assert back.entities == article.entities and back.dates == article.dates and back.sentences == article.sentences
    assert back.published == dt.date(2020, 1, 16) and back.published_provenance is DateProvenance.TEXT_MARKER
    assert np.array_equal(back.embedding, article.embedding) and np.array_equal(back.fingerprint, article.fingerprint)


def test_failed_batch_rolls_back_whole(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.add_articles([make_article("one", id="a")])
        with pytest.raises(sqlite3.IntegrityError):
            store.add_articles([make_article("two", id="b"), make_article("dup", id="a")])
        assert store.count() == 1 and store.get_article("b") is None


def test_fts_search_and_prefix_ids(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.add_articles([make_article("Peace talks in Doha resumed.", id="abc123", title="Doha talks"),
                            make_article("Floods in Pakistan.", id="def456")])
        hits = store.search("doha")
        assert [a.id for a, _ in hits] == ["abc123"]
        assert store.search("!!!") == []
        assert store.get_article("abc1").id == "abc123"


def test_events_stories_and_redirects(tmp_path):
    with Store(tmp_path / "s.db") as store:
        e = Event("e1", "s1", ["a"], dt.date(2020, 1, 1), dt.date(2020, 1, 2), np.ones(3, np.float32), {"k": 1})
        store.save_events([e])
        store.save_stories([Story("s1", ["e1"], None, None), Story("s0", ["e0"], None, None, merged_into="s1")])
        assert store.get_story("s0").id == "s1"
        assert store.get_event("e1").entity_counts == {"k": 1}
        assert [s.id for s in store.stories()] == ["s1"]


def test_merged_ids_redirect_and_survive_reopening(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.save_events([Event("ev-a", "st-a", ["a"], None, None),
                           Event("ev-b", "st-a", ["b"], None, None, merged_into="ev-a")])
        store.save_stories([Story("st-a", ["ev-a", "ev-b"], None, None)])
    with Store(tmp_path / "s.db") as store:
        assert store.redirects() == {"ev-b": "ev-a"}
        assert store.get_event("ev-b").id == "ev-a"
        assert [e.id for e in store.events()] == ["ev-a"]
