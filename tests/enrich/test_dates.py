"""Dates mentioned in text: the seeds, false hits, anchors, languages, hostile input."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import pytest

from storyline.enrich.dates import (
    enrich_dates,
    find_dates,
    infer_publication_date,
    resolve_partial,
    settle_named_events,
)
from storyline.enrich.dates_find import MAX_SCAN_CHARS
from storyline.model import Article, DateMention, DateProvenance, Granularity
from storyline.normalize.restore import restore

ROOT = Path(__file__).resolve().parents[2]
SEED_DIRS = [ROOT / "examples" / "seeds", ROOT.parent / "shared" / "seeds"]
TIMELINE17 = ROOT.parent / "shared" / "eval" / "timeline17"


def _sentences(article: Article) -> None:
    """Sentences (and restored case) from the real restoration stage, as the pipeline gives them."""
    restore(article)


def _article(text: str, *, published: dt.date | None = None, provenance: DateProvenance | None = None,
             language: str | None = "en", original: str | None = None, offset: int = 0) -> Article:
    article = Article(
        id="t1", text=text, original_text=original if original is not None else text, origin="test",
        content_hash="h", ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), language=language,
        published=published, text_offset=offset,
        published_provenance=provenance or (DateProvenance.METADATA if published else DateProvenance.UNDATED),
    )
    return article


def _seed(prefix: str) -> str:
    for folder in SEED_DIRS:
        found = sorted(folder.glob(f"{prefix}_*.txt"))
        if found:
            return found[0].read_text(encoding="utf-8")
    pytest.skip(f"seed {prefix}_*.txt not found in {', '.join(map(str, SEED_DIRS))}")


def _found(mentions: list[DateMention]) -> dict[str, tuple[str, Granularity]]:
    return {m.surface.lower(): (m.resolved, m.granularity) for m in mentions}


# The shape of seed 000 (lowercased, unpunctuated, undated), in our own words.
DEGRADED = (
    "the envoy says a deal is close after 18 years of war an august 7 attack on a police station killed 14 "
    "officials say most troops would withdraw before the end of november 2020 shortly after the election "
    "if a withdrawal began next month a late november 2020 deadline would give the u s 14 months "
    "the rebels may only harden their stance late last month they vowed to attack the sept 28 elections "
    "the soldiers who left 30 years ago march on"
)


def test_degraded_undated_text_keeps_month_days_partial() -> None:
    article = _article(DEGRADED)
    _sentences(article)
    found = _found(find_dates(article))
    assert found["the end of november 2020"] == ("2020-11", Granularity.MONTH)
    assert found["august 7"] == ("--08-07", Granularity.MONTH_DAY)
    assert found["sept 28"] == ("--09-28", Granularity.MONTH_DAY)
    # relative dates need a dated anchor; "may" and "march" are verbs here; "18 years" is a duration
    assert not {"next month", "last month", "30 years ago", "may", "march"} & set(found)
    assert not any(r.startswith("2037") for r, _ in found.values())


def test_inferred_date_from_a_span_is_month_precise_and_settles_nothing() -> None:
    article = _article(DEGRADED)
    date, evidence = infer_publication_date(article)
    assert date == dt.date(2019, 9, 1)
    assert evidence.startswith("month precision") and "would give the u s 14 months" in evidence
    enrich_dates(article)
    assert article.published == dt.date(2019, 9, 1)
    assert article.published_provenance is DateProvenance.INFERRED
    assert article.date_evidence == evidence
    assert "dates" in article.models
    partial = [m for m in article.dates if m.is_partial]
    assert {m.resolved for m in partial} == {"--08-07", "--09-28"}
    assert all(m.anchor is None for m in partial)


def test_resolve_partial_against_a_story_anchor() -> None:
    mentions = find_dates(_article(DEGRADED))
    settled = resolve_partial(mentions, dt.date(2020, 1, 16), "story")
    by_surface = {m.surface: m for m in settled}
    for surface, day in (("august 7", "2019-08-07"), ("sept 28", "2019-09-28")):
        m = by_surface[surface]
        assert (m.resolved, m.granularity) == (day, Granularity.DAY)
        assert (m.anchor, m.anchor_provenance) == ("2020-01-16", "story")
    assert by_surface["the end of november 2020"].resolved == "2020-11"
    assert [m.start for m in settled] == [m.start for m in mentions]


def test_resolve_partial_near_the_anchor_and_leap_days() -> None:
    md = DateMention("jan 20", 0, 6, "--01-20", Granularity.MONTH_DAY)
    leap = DateMention("feb 29", 0, 6, "--02-29", Granularity.MONTH_DAY)
    out = resolve_partial([md, leap], dt.date(2020, 1, 16), "story")
    assert out[0].resolved == "2020-01-20"  # four days ahead beats a year back
    assert out[1].resolved == "2020-02-29"
    assert resolve_partial([leap], dt.date(2019, 6, 1), "story")[0].resolved == "2020-02-29"  # 9 months on, not 3 years back


def test_seed_000() -> None:
    text = _seed("000")
    article = _article(text)
    _sentences(article)
    mentions = find_dates(article)
    found = _found(mentions)
    assert found["the end of november 2020"] == ("2020-11", Granularity.MONTH)
    assert found["august 7"] == ("--08-07", Granularity.MONTH_DAY)
    assert found["sept 28"] == ("--09-28", Granularity.MONTH_DAY)
    for m in mentions:
        assert article.original_text[m.start:m.end] == m.surface
        assert m.sentence >= 0
    settled = {m.surface: m.resolved for m in resolve_partial(mentions, dt.date(2020, 1, 16), "story")}
    assert settled["august 7"] == "2019-08-07" and settled["sept 28"] == "2019-09-28"
    date, evidence = infer_publication_date(article)
    assert dt.date(2019, 6, 1) <= date <= dt.date(2019, 12, 31)
    assert "2020" in evidence


def test_seed_003_resolves_against_its_text_marker() -> None:
    raw = _seed("003")
    marker = re.match(r"\s*date (\d{4}-\d{2}-\d{2})\s", raw)
    assert marker, "seed 003 should open with its date marker"
    article = _article(raw[marker.end():], original=raw, offset=marker.end(),
                       published=dt.date.fromisoformat(marker.group(1)), provenance=DateProvenance.TEXT_MARKER)
    _sentences(article)
    mentions = find_dates(article)
    november = [m for m in mentions if m.surface == "November"]
    assert november and november[0].resolved == "2019-11" and november[0].granularity is Granularity.MONTH
    assert (november[0].anchor, november[0].anchor_provenance) == ("2020-01-16", "text marker")
    for m in mentions:
        assert raw[m.start:m.end] == m.surface


@pytest.mark.parametrize("text", [
    "after 18 years of war", "they may 5 times over", "troops march on the capital",
    "2000 troops and 3 500 people", "some 132 billion dollars", "now is the time", "at 5 pm and at 18:00",
    "flight 2011 landed", "the 1990s were calm", "they meet on mondays", "the score was 21-7",
    "it may be that", "room 2019 is free", "a 2000 km trip", "one year later",
])
def test_false_hits_are_dropped(text: str) -> None:
    assert find_dates(_article(text, published=dt.date(2020, 1, 16))) == []


@pytest.mark.parametrize("text, resolved, granularity", [
    ("he said yesterday", "2020-01-15", Granularity.DAY),
    ("the talks on Thursday", "2020-01-16", Granularity.DAY),  # the anchor is a Thursday
    ("last thursday", "2020-01-09", Granularity.DAY),
    ("they will meet on Monday", "2020-01-20", Granularity.DAY),
    ("late last month", "2019-12", Granularity.MONTH),
    ("30 years ago", "1990", Granularity.YEAR),
    ("in november", "2019-11", Granularity.MONTH),
    ("in March", "2020-03", Granularity.MONTH),  # two months ahead beats ten back
    ("Tuesday, January 14, 2020", "2020-01-14", Granularity.DAY),
    ("Thu Apr 29 , 2010 3:08 pm EDT", "2010-04-29", Granularity.DAY),
    ("on 2020-01-16", "2020-01-16", Granularity.DAY),
    ("on 14/01/2020", "2020-01-14", Granularity.DAY),
    ("in may 2019", "2019-05", Granularity.MONTH),
    ("the 4th of july 2019", "2019-07-04", Granularity.DAY),
    ("the 2019 campaign", "2019", Granularity.YEAR),
])
def test_dated_anchor_resolves(text: str, resolved: str, granularity: Granularity) -> None:
    mentions = find_dates(_article(text, published=dt.date(2020, 1, 16)))
    assert [(m.resolved, m.granularity) for m in mentions] == [(resolved, granularity)]


def test_without_a_dated_anchor_relative_dates_are_dropped() -> None:
    article = _article("he said yesterday that in november the talks on thursday failed, 30 years ago")
    assert find_dates(article) == []
    assert infer_publication_date(article) is None


def test_explicit_dates_carry_no_anchor_resolved_ones_do() -> None:
    mentions = find_dates(_article("on march 3 2019 and yesterday", published=dt.date(2020, 1, 16)))
    assert (mentions[0].anchor, mentions[1].anchor) == (None, "2020-01-16")
    assert mentions[1].anchor_provenance == "metadata"


def test_inferred_dateline_is_day_precise_and_anchors() -> None:
    article = _article("Saturday , 25 April 2009 Experts warned today that the virus seen on Tuesday spreads.")
    date, evidence = infer_publication_date(article)
    assert date == dt.date(2009, 4, 25) and evidence.startswith("day precision")
    found = _found(find_dates(article))
    assert found["today"] == ("2009-04-25", Granularity.DAY)
    assert found["tuesday"] == ("2009-04-21", Granularity.DAY)


def test_bare_years_do_not_date_an_article() -> None:
    article = _article("the 1918 pandemic and the 1957 one killed millions")
    assert infer_publication_date(article) is None
    enrich_dates(article)
    assert article.published is None and article.published_provenance is DateProvenance.UNDATED
    assert any("undated" in p for p in article.problems)


@pytest.mark.parametrize("language, text, expected", [
    ("fr", "Le 7 août 2019, il a dit hier que le mois dernier", ["2019-08-07", "2020-01-15", "2019-12"]),
    ("es", "El 14 de enero de 2020 y ayer", ["2020-01-14", "2020-01-15"]),
    ("de", "Am 3. März 2020 und gestern", ["2020-03-03", "2020-01-15"]),
    ("zh", "在2020年1月16日 昨天", ["2020-01-16", "2020-01-15"]),
])
def test_other_languages(language: str, text: str, expected: list[str]) -> None:
    mentions = find_dates(_article(text, published=dt.date(2020, 1, 16), language=language))
    assert [m.resolved for m in mentions] == expected


def test_unknown_language_falls_back_and_says_so() -> None:
    article = _article("signed on 2020-01-16 in the capital", language="xx-unknown", published=dt.date(2020, 2, 1))
    enrich_dates(article)
    assert [m.resolved for m in article.dates] == ["2020-01-16"]
    assert any("no locale" in p for p in article.problems)


def test_deterministic_and_clock_free() -> None:
    article = _article(DEGRADED)
    first = find_dates(article)
    assert first == find_dates(article) == find_dates(_article(DEGRADED))
    # nothing resolves against today: an undated article keeps its month-days partial on any day
    assert all(not m.resolved.startswith(str(dt.date.today().year)) for m in first if m.surface != "2020")


@pytest.mark.parametrize("text, found", [("", set()), ("   \n\t ", set()), ("٢٠٢٠ 年 ۱۹ ✓ \x00\ud7ff", set()),
                                         ("ÀÉÎ İstanbul 5 may 2020 مايو", {"2020-05-05"})])
def test_hostile_small_inputs_never_fail(text: str, found: set[str]) -> None:
    article = _article(text, language=None)
    enrich_dates(article)
    assert {m.resolved for m in article.dates if m.granularity is Granularity.DAY} == found
    assert all(text[m.start : m.end] == m.surface for m in article.dates)  # spans point into the text
    assert not any("failed" in p for p in article.problems)


def test_one_megabyte_on_one_line_is_capped_and_fast() -> None:
    text = ("on august 7 2019 the 2000 troops 12/31/2019 said yesterday ünïcødé мая " * 16000)[:1_000_000]
    article = _article(text, published=dt.date(2020, 1, 16))
    started = time.process_time()
    enrich_dates(article)
    assert time.process_time() - started < 20
    assert article.dates and max(m.end for m in article.dates) <= MAX_SCAN_CHARS
    assert any("characters" in p for p in article.problems)


@pytest.mark.slow
def test_timeline17_date_recall() -> None:
    if not TIMELINE17.is_dir():
        pytest.skip(f"Timeline17 not found at {TIMELINE17}")
    ref_total = hits = 0
    for topic in sorted(TIMELINE17.iterdir()):
        days: set[str] = set()
        for rec in json.loads((topic / "articles.json").read_text(encoding="utf-8")):
            article = _article(rec["text"], published=dt.date.fromisoformat(rec["dct"][:10]))
            days |= {m.resolved for m in find_dates(article) if m.granularity is Granularity.DAY}
        ref = {e["date"][:10] for tl in topic.glob("*.timeline.json")
               for e in json.loads(tl.read_text(encoding="utf-8"))}
        ref_total, hits = ref_total + len(ref), hits + len(ref & days)
    assert hits / ref_total >= 0.88  # measured 0.897


def _dated(aid: str, text: str, published: dt.date) -> Article:
    article = _article(text, published=published)
    article.id = aid
    _sentences(article)
    enrich_dates(article)
    return article


def test_a_date_naming_a_known_past_event_resolves_to_it() -> None:
    def trial() -> Article:
        return _dated("a2008", "Three men accused of helping the July 7 bombers went on trial in London. "
                      "Police said on July 7 that a fourth man had been arrested. "
                      "The court saw pictures of the scenes after the bombings on July 7.", dt.date(2008, 10, 1))

    attack = _dated("a2005", "Bombs exploded on three underground trains and a bus in London on July 7, 2005, "
                    "killing 52 people.", dt.date(2005, 7, 8))
    later = trial()
    assert [m.resolved for m in later.dates] == ["2008-07-07"] * 3  # the article's own year
    assert settle_named_events([attack, later]) == [later]
    named, plain, after_noun = sorted(later.dates, key=lambda m: m.start)
    assert (named.resolved, named.anchor, named.anchor_provenance) == ("2005-07-07", "2005-07-07", "story")
    assert after_noun.resolved == "2005-07-07"  # "the bombings on July 7"
    assert plain.resolved == "2008-07-07"  # "on July 7 ... arrested" is when it happened, not an event's name
    alone = trial()
    assert settle_named_events([alone]) == []  # a story that never saw 2005 leaves 2008 alone
    assert [m.resolved for m in alone.dates] == ["2008-07-07"] * 3
