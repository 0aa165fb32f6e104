"""The web app in real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Front page, filter, a story, a citation followed to its article, search, phone and desktop widths, and a new
article POSTed through the API appearing on an open story page without a reload. Screenshots are saved to
out/screenshots/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import httpx
import pytest

from tests.browser.conftest import TOKEN, needs_chromium
from tests.conftest import ROOT

SHOTS = ROOT / "out" / "screenshots"
DESKTOP, PHONE = (1280, 900), (390, 844)
pytestmark = [pytest.mark.browser, needs_chromium]


def _size(driver, width_height) -> None:
    driver.set_window_size(*width_height)


def _shot(driver, name: str) -> None:
    """A full-page screenshot: the window is stretched to the page's height first."""
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 6000)")
    driver.set_window_size(width if width > 500 else PHONE[0], height + 120)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / f"{name}.png"))


def _no_sideways_scroll(driver) -> None:
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the window"


def _navigated(browser, part: str) -> None:
    """Wait for the navigation a click or submit started (the click returns before the next page loads)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: part in d.current_url and d.execute_script("return document.readyState") == "complete")


def test_front_filter_story_citation_search(server, browser):
    from selenium.webdriver.common.by import By

    base, _ = server
    _size(browser, DESKTOP)
    browser.get(base + "/")
    cards = browser.find_elements(By.CSS_SELECTOR, ".latest .story-link")
    assert len(cards) >= 10 and "fastest growing" in [h.text.lower() for h in browser.find_elements(By.CSS_SELECTOR, ".side h2")]
    _shot(browser, "front-desktop")

    _size(browser, DESKTOP)
    browser.find_element(By.ID, "filter-entity").send_keys("haiti")
    browser.find_element(By.ID, "apply-filters").click()
    _navigated(browser, "entity=haiti")
    filtered = browser.find_elements(By.CSS_SELECTOR, ".latest .story-link")
    assert 1 <= len(filtered) < len(cards)
    _shot(browser, "front-filtered")

    _size(browser, DESKTOP)
    title = filtered[0].text
    filtered[0].click()
    _navigated(browser, "/stories/")
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.find_elements(By.CSS_SELECTOR, "figure.chart svg rect.bar")
    assert browser.find_elements(By.CSS_SELECTOR, "#sources") and "First reported by" in browser.page_source
    _shot(browser, "story-desktop")

    _size(browser, DESKTOP)
    cite = browser.find_element(By.CSS_SELECTOR, "#summary a.cite")
    fragment = cite.get_attribute("href").split("#")[1]
    cite.click()
    _navigated(browser, "/articles/")
    assert "/articles/" in browser.current_url and browser.current_url.endswith("#" + fragment)
    target = browser.find_element(By.ID, fragment)
    assert target.text and browser.find_element(By.ID, "published").text
    _shot(browser, "article-desktop")

    _size(browser, DESKTOP)
    box = browser.find_element(By.ID, "search-q")
    box.clear()
    box.send_keys("tsunami")
    box.submit()
    _navigated(browser, "/search?q=tsunami")
    hits = browser.find_elements(By.CSS_SELECTOR, "#hits a.article-link")
    assert "/search?q=tsunami" in browser.current_url and len(hits) >= 2
    _shot(browser, "search-desktop")


def test_phone_width_reads_without_sideways_scrolling(server, browser):
    from selenium.webdriver.common.by import By

    base, _ = server
    story = httpx.get(base + "/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    article = httpx.get(f"{base}/api/stories/{story['id']}").json()["articles"][-1]
    for name, path in (("front-phone", "/"), ("story-phone", f"/stories/{story['id']}"),
                       ("article-phone", f"/articles/{article['id']}")):
        _size(browser, PHONE)
        browser.get(base + path)
        _no_sideways_scroll(browser)
        assert browser.find_element(By.TAG_NAME, "h1").is_displayed()
        _shot(browser, name)


def test_new_article_appears_on_an_open_story_page_without_reload(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, app = server
    # the latest story (the Afghan seeds, 2019-2020): placement is online in date order, so a follow-up
    # dated after it continues it (an article dated years back arrives after its events have gone quiet)
    story = httpx.get(base + "/api/stories", params={"sort": "latest", "limit": 1}).json()["items"][0]
    data = httpx.get(f"{base}/api/stories/{story['id']}").json()
    last = httpx.get(f"{base}/api/articles/{data['articles'][-1]['id']}").json()
    opening = " ".join(s["text"] for s in last["sentence_list"][: max(2, len(last["sentence_list"]) // 2)])
    _size(browser, DESKTOP)
    browser.get(f"{base}/stories/{story['id']}")
    before = int(browser.find_element(By.ID, "article-count").text)
    browser.execute_script("window.__sameDocument = 'yes';")  # gone if the page reloads

    follow_up = {"title": "Follow-up: talks to resume", "source": "Browser Test Wire", "published": "2020-01-17",
                 "text": opening + " Officials gave an update on Friday, saying that the talks would resume in Doha next week."}
    answer = httpx.post(f"{base}/api/articles", json={"articles": [follow_up]}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 202 and answer.json()["results"][0]["status"] == "new"
    new_id = answer.json()["results"][0]["id"]
    assert app.state.writer.wait_idle(300)
    placed = httpx.get(f"{base}/api/articles/{new_id}").json()
    assert placed["story_id"] == story["id"], "the follow-up was placed in another story"

    WebDriverWait(browser, 60, poll_frequency=0.5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, f'#article-list li[data-article="{new_id}"]'))
    assert int(browser.find_element(By.ID, "article-count").text) == before + 1
    assert browser.execute_script("return window.__sameDocument") == "yes"
    WebDriverWait(browser, 30, poll_frequency=0.5).until(  # and said so to screen readers, politely
        lambda d: d.find_element(By.ID, "live-status").get_attribute("textContent").startswith("Story updated"))
    _shot(browser, "story-live-update")


def test_search_feed_followed_from_a_filtered_page_keeps_the_source(server, browser, tmp_path):
    """Front page: words and a source chosen in the filters; its "follow this search" link gives a feed of
    that source only (checked against the API), which Chromium shows as a feed document."""
    import xml.etree.ElementTree as ET

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, _ = server
    _size(browser, DESKTOP)
    browser.get(base + "/")
    browser.find_element(By.CSS_SELECTOR, '#filters input[name="q"]').send_keys("peace")
    Select(browser.find_element(By.CSS_SELECTOR, '#filters select[name="source"]')).select_by_value("Wikinews")
    browser.find_element(By.ID, "apply-filters").click()
    _navigated(browser, "source=Wikinews")
    follow = browser.find_element(By.CSS_SELECTOR, ".latest a.feed").get_attribute("href")
    assert "/feeds/search.atom?" in follow and "source=Wikinews" in follow and "q=peace" in follow
    browser.get(follow)
    feed = ET.fromstring(httpx.get(follow).content)
    atom = "{http://www.w3.org/2005/Atom}"
    entries = feed.findall(f"{atom}entry")
    assert entries and "source Wikinews" in feed.findtext(f"{atom}title")
    for entry in entries:
        event = httpx.get(f"{base}/api/events/{entry.findtext(f'{atom}id').rsplit(':', 1)[1]}").json()
        assert any(a["source"] == "Wikinews" for a in event["article_list"])
    assert "source Wikinews" in browser.page_source  # Chromium shows the feed, not a download
    assert browser.save_screenshot(str(tmp_path / "search-feed-by-source.png"))


def test_an_untitled_article_reads_by_its_first_sentence_on_its_page_and_its_story(server, browser, examples_db):
    """The seed ``003`` is a bare text file with no title: its page's heading, and its line on its story page,
    read its first whole sentence (``tell.titles.article_title``), never its 16-hex id."""
    import re

    from selenium.webdriver.common.by import By

    from storyline.store import Store
    from storyline.tell.titles import article_title

    with Store(examples_db) as store:
        (seed,) = [a for a in store.articles() if a.origin.endswith("003_dc7254dd241978b9.txt")]
    assert not seed.title
    expected = article_title(None, seed.display_text)
    assert expected and not re.fullmatch(r"[0-9a-f]{16}", expected)
    base, _ = server
    _size(browser, DESKTOP)
    browser.get(f"{base}/articles/{seed.id}")
    assert browser.find_element(By.TAG_NAME, "h1").text.strip() == expected
    _shot(browser, "untitled-article")
    browser.get(f"{base}/stories/{seed.story_id}")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert expected[:60] in page and seed.id not in page
    _shot(browser, "untitled-article-in-its-story")
