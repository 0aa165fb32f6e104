"""Dates that cannot be true are not trusted: they never place an article, never move "now" for the others,
and never crash a command (issue 21, item 2)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from storyline.model import DateProvenance, Document
from storyline.normalize.clean import clean
from storyline.pipeline import Pipeline, PipelineConfig
from storyline.queries import Queries
from storyline.store import Store

NOW = dt.datetime(2026, 12, 4, tzinfo=dt.timezone.utc)
TEXT = "The river flooded the lower town on Monday, and the mayor ordered the market closed until the water falls."


@pytest.mark.parametrize("raw, why", [("0001-01-01", "before 1800-01-01"), ("2099-01-01", "after the ingest time"),
                                      ("1799-12-31", "before 1800-01-01")])
def test_impossible_dates_are_kept_as_untrusted_evidence(raw, why):
    article = clean(Document(text=TEXT, origin="x", published=raw), now=NOW)
    assert article.published is None
    assert article.published_provenance is DateProvenance.UNTRUSTED
    assert article.date_evidence == raw
    assert any(why in p and "not trusted" in p for p in article.problems)


def test_a_date_within_the_skew_is_trusted_and_a_text_marker_replaces_an_untrusted_field():
    assert clean(Document(text=TEXT, origin="x", published="2026-12-05"), now=NOW).published == dt.date(2026, 12, 5)
    article = clean(Document(text=f"date 2019-03-01 {TEXT}", origin="x", published="2099-01-01"), now=NOW)
    assert (article.published, article.published_provenance) == (dt.date(2019, 3, 1), DateProvenance.TEXT_MARKER)
    assert any("2099-01-01" in p for p in article.problems)


def test_an_unparseable_date_is_stored_undated_with_a_note_the_report_shows(tmp_path):
    with Store(tmp_path / "s.db") as store:
        report = Pipeline(store).ingest_documents([Document(text=TEXT, origin="post:0", published="not a date")])
        assert report.new == 1 and not report.rejected
        assert [n.origin for n in report.notes] == ["post:0"] and "'not a date' is not a date" in report.notes[0].reason
        stored = store.get_article(report.stored["post:0"])
        assert stored.published is None and stored.published_provenance is DateProvenance.UNDATED
        assert any("not a date" in p for p in stored.problems)  # `storyline show` prints it


def test_the_post_answer_gives_the_note_as_reason(tmp_path):
    from storyline.serve.writer import Writer

    writer = Writer(tmp_path / "s.db")
    try:
        answer = writer.submit([Document(text=TEXT, origin="post:0", published="not a date")])[0]
    finally:
        writer.close()
    assert answer["status"] == "new" and "not a date" in answer["reason"]


FOLLOW_UPS = [
    Document(text="The Taliban and Afghan government negotiators met in Doha on Tuesday to discuss a prisoner "
                  "exchange, a step the United States agreement with the Taliban signed last month requires. "
                  "Zalmay Khalilzad said the ceasefire talks would continue.", origin="f:1", published="2020-03-10",
             title="Taliban and Afghan negotiators discuss prisoner exchange"),
    Document(text="Flooding in Jakarta forced thousands of residents from their homes after days of heavy rain, "
                  "officials in Indonesia said, as rescue teams used boats to reach the stranded.", origin="f:2",
             published="2020-03-12", title="Jakarta floods"),
]
UNTRUSTED = [
    Document(text="A comet was seen over Ystad in Sweden, astronomers at Lund University said, and crowds "
                  "gathered on the beach to watch it pass until 31 December 9999.", origin="bad:2099",
             published="2099-01-01", title="Comet over Ystad"),
    Document(text="The river flooded the lower town of Ystad on Monday and the mayor of Ystad closed the market; "
                  "the old charter of 1 January 0001 was recalled.", origin="bad:0001", published="0001-01-01",
             title="Ystad flood"),
]


def _partition(store: Store, leave_out: set[str]) -> tuple[set, set]:
    """Events and stories as sets of member ids (by source text), without the left-out articles."""
    events: dict[str, set] = {}
    stories: dict[str, set] = {}
    for article in store.articles():
        if article.id in leave_out:
            continue
        key = article.content_hash
        events.setdefault(store.get_event(article.event_id).id, set()).add(key)
        stories.setdefault(store.get_story(article.story_id).id, set()).add(key)
    return {frozenset(v) for v in events.values()}, {frozenset(v) for v in stories.values()}


def test_untrusted_dates_change_nothing_else_and_never_head_the_latest_stories(examples_db, tmp_path):
    config = PipelineConfig(workers=1)
    plain, poisoned = tmp_path / "plain.db", tmp_path / "poisoned.db"
    shutil.copyfile(examples_db, plain)
    shutil.copyfile(examples_db, poisoned)
    with Store(plain) as store:
        pipeline = Pipeline(store, config)
        pipeline.ingest_documents(FOLLOW_UPS)
        pipeline.enrich()
        pipeline.place()
        expected = _partition(store, set())
    with Store(poisoned) as store:
        pipeline = Pipeline(store, config)
        bad = pipeline.ingest_documents(UNTRUSTED)
        pipeline.enrich()
        pipeline.place()
        pipeline.ingest_documents(FOLLOW_UPS)
        pipeline.enrich()
        pipeline.place()
        bad_ids = set(bad.stored.values())
        assert _partition(store, bad_ids) == expected
        for key in bad_ids:
            article = store.get_article(key)
            assert article.published is None and article.published_provenance is DateProvenance.UNTRUSTED
            assert article.story_id and article.event_id
        ask = Queries(store)
        latest = ask.stories(sort="latest", limit=3)["items"]
        assert all((row["last_date"] or "") <= "2026-12-06" for row in ask.stories(sort="latest")["items"])
        head = ask.story(latest[0]["id"])
        assert not bad_ids & {a["id"] for a in head["articles"]}
        for key in bad_ids:  # every read of their stories answers (0001-01-01 crashed timelines and pages)
            story_id = store.get_article(key).story_id
            assert ask.story(story_id)["id"]
            ask.timeline(story_id, 5)
            ask.summary(story_id)
        ask.report()


def test_an_archive_retold_into_the_future_is_judged_against_the_ingest_time_it_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("STORYLINE_INGEST_TIME", "2100-01-01T00:00:00+00:00")
    with Store(tmp_path / "s.db") as store:
        report = Pipeline(store).ingest_documents([Document(text=TEXT, origin="x", published="2099-01-01")])
        stored = store.get_article(report.stored["x"])
    assert stored.published == dt.date(2099, 1, 1) and stored.published_provenance is DateProvenance.METADATA
    monkeypatch.setenv("STORYLINE_INGEST_TIME", "tomorrow")
    with Store(tmp_path / "t.db") as store, pytest.raises(ValueError, match="STORYLINE_INGEST_TIME"):
        Pipeline(store).ingest_documents([Document(text=TEXT, origin="x", published="2099-01-01")])


def test_a_store_that_holds_impossible_dates_from_before_is_enriched_placed_and_reported(tmp_path):
    """``ingested_49002da_bad_dates.db``: ``storyline ingest`` at 49002da (before dates were judged) of a record
    dated 0001-01-01, one dated 2099-01-01 and one of 2020. Before: enrich crashed (OverflowError)."""
    db = tmp_path / "old.db"
    shutil.copyfile(Path(__file__).parent / "store" / "fixtures" / "ingested_49002da_bad_dates.db", db)
    with Store(db) as store:
        pipeline = Pipeline(store, PipelineConfig(workers=1))
        pipeline.enrich()
        pipeline.place()
        by_source = {a.source_id: a for a in store.articles()}
        for key, raw in (("y1", "0001-01-01"), ("f1", "2099-01-01")):
            assert by_source[key].published is None and by_source[key].published_provenance is DateProvenance.UNTRUSTED
            assert by_source[key].date_evidence == raw and by_source[key].story_id
        assert by_source["ok"].published == dt.date(2020, 3, 10)
        ask = Queries(store)
        assert ask.stories(sort="latest")["items"][0]["last_date"] == "2020-03-10"
        for row in ask.stories()["items"]:
            ask.story(row["id"])
        ask.report()
