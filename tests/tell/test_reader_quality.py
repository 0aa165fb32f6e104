"""What a reader is shown: whole sentences only (no fragment, caption, furniture or markup), no date before
the story unless its text names it as background, dates spread over the story's life, citations that name
their outlet and day, and a chart whose axis is the coverage."""

from __future__ import annotations

import datetime as dt

from storyline.model import DateMention, Granularity, citation_label
from storyline.tell import build_timeline, summarize, update_summary, whats_new
from storyline.tell._units import all_units, furniture_lines, units_of
from storyline.tell.report import chart_geometry, render_html

from .conftest import article

REPORTING = "Rescue teams reached the flooded valley on 2021-05-03 and evacuated four hundred residents overnight."
NOT_READABLE = [
    "RM), arrived by helicopter at the base on Thursday morning with the rest of the crew.",  # a fragment
    "if sailors and marines not released by Iran within days the talks would end.",  # a fragment
    "Rescuers carry a survivor from the rubble of the school (AP Photo/Ramon Espinosa) in the valley.",  # caption
    "Foto: EFE / Los equipos de rescate llegan al valle inundado tras la tormenta del lunes.",  # credit
    "Last updated at 15:44 GMT on the day the valley flooded after the storm.",  # furniture
    "Cquote1.svg The mayor said the valley had never seen a storm like this one before.",  # markup
    "Follow the rescue live as the teams reach the valley #floods @rescueteam tonight.",  # handles and tags
    "Born : August 29 , 1958 , Gary , Indiana , US Also known as : The King of Pop .",  # a fact box
]
RECURRING = "The valley news desk brings you the latest headlines from around the region every day."


def _flood() -> list:
    days = ["2021-05-03", "2021-05-04", "2021-05-05", "2021-05-06"]
    arts = [article(f"a{i}", day, [
        REPORTING if i == 0 else f"Officials counted the damage to homes in the valley on day {i} of the recovery.",
        *NOT_READABLE,
        RECURRING,
        f"The regional council met on {day} to discuss the cost of rebuilding roads and bridges in the valley.",
    ], source=["Reuters", "AP", "BBC", "El País"][i]) for i, day in enumerate(days)]
    return arts


def _shown(sentences) -> list[str]:
    return [s.text for s in sentences]


def test_fragments_captions_furniture_and_markup_are_never_candidates():
    arts = _flood()
    units = [u.text for u in all_units(arts)]
    assert REPORTING in units  # the reporting itself stays
    for bad in [*NOT_READABLE, RECURRING]:
        assert bad not in units, bad
    shown = [s for e in build_timeline(arts, sentences_per_date=3) for s in _shown(e.sentences)]
    shown += _shown(summarize(arts, max_words=400)) + _shown(whats_new(arts[1], arts[:1]))
    shown += _shown(update_summary(arts[2:], arts[:2], max_words=400))
    assert shown
    for bad in [*NOT_READABLE, RECURRING]:
        assert bad not in shown, bad


def test_a_summary_weighs_terms_over_furniture_lines_it_never_shows():
    """Recurring lines stay in a summary's term statistics (``keep_furniture``), marked and never selected:
    dropping them moved every other sentence's TF-IDF weights (DUC 2007 lost a cluster's summary to one
    byline recurring on three days)."""
    arts = _flood()
    kept = all_units(arts, keep_furniture=True)
    assert [u.text for u in kept if u.furniture] == [RECURRING] * 4
    assert [u.text for u in kept if not u.furniture] == [u.text for u in all_units(arts)]
    assert RECURRING not in _shown(summarize(arts, max_words=2000))
    assert RECURRING not in _shown(update_summary(arts[2:], arts[:2], max_words=2000))


def test_a_line_is_furniture_only_when_it_recurs_on_three_days():
    wire = "The storm flooded the valley on Monday, cutting power to twelve thousand homes, the utility said."
    same_day = [article(f"w{i}", "2021-05-03", [wire, f"Outlet {i} added its own closing remark on the storm."],
                        source=f"Outlet{i}") for i in range(4)]  # one wire story copied by four outlets that day
    assert furniture_lines(same_day) == frozenset()
    assert wire in [u.text for u in all_units(same_day)]
    two_days = [article(f"d{i}", f"2021-05-0{3 + i % 2}", [wire]) for i in range(4)]
    assert furniture_lines(two_days) == frozenset()
    three_days = [article(f"t{i}", f"2021-05-0{3 + i}", [wire]) for i in range(3)]
    assert len(furniture_lines(three_days)) == 1 and not all_units(three_days)


def test_a_list_item_is_read_without_its_bullet():
    art = article("l1", "2013-08-22", ["- 7 mayo 2013: Elecciones legislativas en todo el país, boicoteadas por la oposición."],
                  language="es")
    assert [u.text for u in units_of(art)] == ["7 mayo 2013: Elecciones legislativas en todo el país, boicoteadas por la oposición."]


def _with_mention(art, sentence: int, surface: str, resolved: str):
    start = art.sentences[sentence].start
    art.dates.append(DateMention(surface, start, start + len(surface), resolved, Granularity.DAY, sentence,
                                 art.published.isoformat() if art.published else None))
    return art


def _sailors() -> list:
    arts = []
    for i in range(6):
        day = (dt.date(2007, 3, 23) + dt.timedelta(days=2 * i)).isoformat()
        arts.append(article(f"n{i}", day, [
            f"Iran held the fifteen British sailors and marines for a further day on {day}, officials said.",
            f"Diplomats in London and Tehran exchanged notes about the sailors on {day} without progress.",
        ], source=["BBC", "Reuters"][i % 2]))
    arts.append(_with_mention(article("misread", "2007-03-25", [
        "March 17 was when the boarding party left the frigate for a routine inspection of a merchant ship.",
    ], source="AP"), 0, "March 17", "2007-03-17"))  # a day before the story the text names
    arts.append(_with_mention(article("born", "2007-03-27", [
        "The commander, born on 29 August 1958 in Plymouth, has served in the navy for thirty years.",
    ], source="AP"), 0, "29 August 1958", "1958-08-29"))  # background the text names with its year
    return arts


def test_no_date_before_the_story_unless_the_text_names_it_as_background():
    entries = build_timeline(_sailors(), max_dates=20)
    dates = {e.date: e for e in entries}
    assert "2007-03-22" not in dates  # the day before the first report: only publication dates point at it
    assert dates["1958-08-29"].background and dates["2007-03-17"].background  # named by the text: background
    assert not any(e.background for e in entries if e.date >= "2007-03-23")
    assert all(e.date >= "2007-03-23" or e.background for e in entries)
    unnamed = [a for a in _sailors() if a.id not in ("misread", "born")]
    assert min(e.date for e in build_timeline(unnamed, max_dates=20)) == "2007-03-23"


def _year_long() -> list:
    """A burst of coverage in the first week, then steady coverage, two articles a fortnight, for a year."""
    out = []
    start = dt.date(2010, 1, 12)
    for k in range(24):  # the first week: a day with many reports
        day = (start + dt.timedelta(days=k % 6)).isoformat()
        out.append(article(f"w{k}", day, [
            f"Rescuers searched the capital on {day} as the death toll rose to {1000 + 37 * k} people, officials said.",
            f"Aid flights landed at the airport on {day} carrying water, tents and medical supplies number {k}.",
        ], source=f"Outlet{k % 4}"))
    works = ["schools", "clinics", "bridges", "harbours", "markets", "roads", "prisons", "courts", "wells", "farms",
             "factories", "barracks", "libraries", "stadiums", "cathedrals", "ministries", "orphanages", "power plants",
             "hospitals", "airports", "ports", "dams", "sewers", "universities"]
    for m, what in enumerate(works, start=1):
        day = start + dt.timedelta(days=14 * m + 7)
        for j in range(2):
            iso = (day + dt.timedelta(days=j)).isoformat()
            out.append(article(f"y{m}-{j}", iso, [
                f"The rebuilding of the {what} began on {day.isoformat()}, the ministry of {what} said.",
                f"Donors reviewed the cost of the {what} at a meeting in the capital on {iso}.",
            ], source=f"Outlet{j}"))
    return out


def test_a_year_long_story_gets_dates_across_the_year():
    days = [dt.date.fromisoformat(e.date) for e in build_timeline(_year_long())]  # the story decides how many
    first_week = [d for d in days if d < dt.date(2010, 1, 19)]
    assert 1 <= len(first_week) < len(days) / 2, days  # its busiest week, but not only that
    assert max(days) >= dt.date(2010, 12, 1), days  # its later turning points
    assert len({(d.year, d.month) for d in days}) == 12, days  # every month it was covered in


def test_citations_name_outlet_and_date_in_every_view():
    arts = _flood()
    by_id = {a.id: a for a in arts}
    told = summarize(arts, max_words=100) + [s for e in build_timeline(arts) for s in e.sentences]
    for s in told:
        for c in s.citations:
            art = by_id[c.article_id]
            assert (c.source, c.date) == (art.source, art.published.isoformat())
            assert citation_label(c) == f"{art.source}, {art.published.isoformat()}"
    html = render_html({"id": "s1", "title": "Flood", "reader_language": "en", "summary": [
        {"text": told[0].text, "citations": [{"article_id": "a0", "sentence": 0, "source": "Reuters", "date": "2021-05-03"}]}],
        "articles": [{"id": "a0", "title": "Flood", "published": "2021-05-03"}]})
    assert "[Reuters, 2021-05-03]" in html and "[1]" not in html
    assert citation_label({"article_id": "x", "sentence": 0}) == "unknown outlet, undated"


def test_chart_axis_is_the_coverage_with_background_dates_apart():
    story = {"id": "mj", "title": "Michael Jackson",
             "sources": {"per_day": {"2009-06-25": 9, "2009-07-07": 4, "2010-02-08": 2, "2011-11-29": 3}},
             "timeline": [{"date": "1958-08-29", "sentences": []}, {"date": "2009-06-25", "sentences": []},
                          {"date": "2011-11-07", "sentences": []}, {"date": "2011-12-05", "sentences": []}]}
    g = chart_geometry(story)
    assert (g["first"], g["last"]) == ("2009-06-25", "2011-11-29")
    assert [d["date"] for d in g["dots"]] == ["2009-06-25", "2011-11-07"]
    assert [(d["date"], d["side"]) for d in g["apart"]] == [("1958-08-29", "before"), ("2011-12-05", "after")]
    assert g["dots"][0]["x"] == g["left"] and g["left"] < g["dots"][1]["x"] < g["right"]
    assert all(d["x"] < g["left"] for d in g["apart"] if d["side"] == "before")
    assert all(d["x"] > g["right"] for d in g["apart"] if d["side"] == "after")
    assert all(g["left"] - 2 <= b["x"] <= g["right"] for b in g["bars"])
    # the coverage spans two and a half years: the first bar is not squeezed into the edge by 1958
    assert g["bars"][1]["x"] - g["bars"][0]["x"] > 5
    plain = chart_geometry({"id": "x", "sources": {"per_day": {"2021-01-01": 1, "2021-02-01": 1}},
                            "timeline": [{"date": "2021-01-01", "sentences": []}]})
    assert plain["apart"] == [] and plain["left"] == plain["pad"]


def test_wire_typesetting_codes_are_dropped_not_the_sentence():
    art = article("n1", "1999-03-01", ["_ &LR; &LR; &UR; Oprah Winfrey &LR; took her show to the Bahamas for a week.",
                                       "&QL; &UR; Editors &LR; &QL;"])
    assert [u.text for u in units_of(art)] == ["Oprah Winfrey took her show to the Bahamas for a week."]
