"""A year-long story's page in headless Chromium: its timeline has dates across the year, the chart's axis is
the coverage with background dates apart, and citations name outlet and day. Screenshot under out/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from tests.browser.conftest import needs_chromium
from tests.browser.test_browser import DESKTOP, _shot, _size

pytestmark = [pytest.mark.browser, needs_chromium]


def _year_long_story(base: str) -> dict:
    """The examples' story whose coverage is closest to a year long (Air France 447: June 2009 to May 2010)."""
    rows = httpx.get(f"{base}/api/stories", params={"limit": 200}, timeout=30).json()["items"]

    def span(r: dict) -> int:
        return (dt.date.fromisoformat(r["last_date"]) - dt.date.fromisoformat(r["first_date"])).days

    dated = [r for r in rows if r["first_date"] and r["last_date"] and r["articles"] >= 5]
    return min(dated, key=lambda r: (abs(span(r) - 365), r["id"]))


def test_a_year_long_story_s_timeline_has_dates_across_the_year(server, browser):
    from selenium.webdriver.common.by import By

    base, _ = server
    row = _year_long_story(base)
    first, last = dt.date.fromisoformat(row["first_date"]), dt.date.fromisoformat(row["last_date"])
    assert (last - first).days >= 240, row  # a story of most of a year
    _size(browser, DESKTOP)
    browser.get(f"{base}/stories/{row['id']}")
    dates = [dt.date.fromisoformat(t.get_attribute("datetime"))
             for t in browser.find_elements(By.CSS_SELECTOR, "#timeline li > time")]
    told = [d for d in dates if d >= first]
    assert told and min(told) - first <= dt.timedelta(days=31), dates  # its start ...
    assert last - max(told) <= dt.timedelta(days=31), dates  # ... and its later turning points
    assert len({(d.year, d.month) for d in told}) >= 3, dates  # not six dates in its first week
    # the chart's axis is the coverage; dates before it are drawn apart, and the entries say "background"
    labels = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "figure.chart text.label")]
    assert labels[:2] == [first.isoformat(), last.isoformat()], labels
    before = [d for d in dates if d < first]
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart circle.dot.apart")) == len(before)
    axis = browser.find_element(By.CSS_SELECTOR, "figure.chart line.axis")
    x1, x2 = float(axis.get_attribute("x1")), float(axis.get_attribute("x2"))
    for dot in browser.find_elements(By.CSS_SELECTOR, "figure.chart circle.dot:not(.apart)"):
        assert x1 <= float(dot.get_attribute("cx")) <= x2
    # every citation names its outlet and day, none is a bare number
    cites = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#timeline a.cite")]
    assert cites and all(re.fullmatch(r"\[.+, \d{4}-\d{2}-\d{2}\]", c) for c in cites), cites[:5]
    _shot(browser, "year-long-story-timeline")
