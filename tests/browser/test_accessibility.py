"""WCAG 2.1 AA in real headless Chromium, checked by axe-core (vendored from npm under vendor/axe-core/).

Every page a reader meets is audited; none may have a serious or critical violation. To audit a new page,
add one line to ``PAGES``: its name and how to find its address from the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import httpx
import pytest

from tests.browser.conftest import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP, PHONE = (1280, 900), (390, 844)


def _top_story(api: Callable[[str], dict]) -> dict:
    return api("/api/stories?sort=articles&limit=1")["items"][0]


def _last_article(api: Callable[[str], dict]) -> dict:
    return api(f"/api/stories/{_top_story(api)['id']}")["articles"][-1]


def _thread(api: Callable[[str], dict]) -> str | None:
    """The largest thread's page, on a build that has threads (None: skipped)."""
    items = api("/api/threads?sort=articles&limit=1").get("items") or []
    return f"/threads/{items[0]['id']}" if items else None


# name -> the page's path, found through the API (None: this build has no such page)
PAGES: dict[str, Callable[[Callable[[str], dict]], str | None]] = {
    "front": lambda api: "/",
    "front-filtered": lambda api: "/?entity=haiti&language=en",
    "story": lambda api: f"/stories/{_top_story(api)['id']}",
    "article": lambda api: f"/articles/{_last_article(api)['id']}",
    "search": lambda api: "/search?q=earthquake",
    "entity": lambda api: "/entities/united%20states",
    "thread": _thread,
    "threads": lambda api: "/threads" if _thread(api) else None,
    "not-found": lambda api: "/stories/st-nope",
    "bad-filter": lambda api: "/?since=bad",
}


def _audit(driver) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA rules over the loaded page: the violations, as axe reports them."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        "  .then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));", WCAG_AA)
    violations = json.loads(result)
    assert isinstance(violations, list), violations
    return violations


def _shot(driver, path: Path) -> None:
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 5000)")
    width = driver.execute_script("return window.innerWidth")
    driver.set_window_size(width, height + 120)
    assert driver.save_screenshot(str(path))


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_wcag_violation(server, browser, tmp_path, name, size):
    base, _ = server
    path = PAGES[name](lambda p: httpx.get(base + p, timeout=60).json())
    if path is None:
        pytest.skip(f"no {name} page on this build")
    browser.set_window_size(*size)
    browser.get(base + path)
    violations = _audit(browser)
    bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
           for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name} ({path}): {bad}"
    _shot(browser, tmp_path / f"{name}-{size[0]}.png")


def test_skip_link_is_the_first_stop_and_lands_on_the_content(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, _ = server
    browser.set_window_size(*DESKTOP)
    browser.get(base + "/")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    first = browser.switch_to.active_element
    assert first.get_attribute("class") == "skip" and first.is_displayed()  # visible once focused
    first.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"
    assert browser.find_elements(By.CSS_SELECTOR, "h1") and browser.find_element(By.TAG_NAME, "h1").is_displayed()


def test_live_updates_are_announced_politely(server, browser):
    from selenium.webdriver.common.by import By

    base, _ = server
    for path in ("/", PAGES["story"](lambda p: httpx.get(base + p, timeout=60).json())):
        browser.get(base + path)
        status = browser.find_element(By.ID, "live-status")
        assert status.get_attribute("aria-live") == "polite" and status.get_attribute("role") == "status"


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a computed colour ("rgb(r, g, b)")."""
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_chart_marks_and_language_tags_stand_out(server, browser):
    """What axe does not measure: the chart's bars and dots against the chart (WCAG 1.4.11, 3:1), and the
    language tags' text against their fill (1.4.3, 4.5:1)."""
    from selenium.webdriver.common.by import By

    base, _ = server
    browser.set_window_size(*DESKTOP)
    browser.get(base + PAGES["story"](lambda p: httpx.get(base + p, timeout=60).json()))
    style = lambda element, prop: browser.execute_script(  # noqa: E731
        "return getComputedStyle(arguments[0])[arguments[1]]", element, prop)
    chart = browser.find_element(By.CSS_SELECTOR, "figure.chart svg")
    ground = style(chart, "backgroundColor")
    for mark in ("rect.bar", "circle.dot"):
        assert _contrast(style(browser.find_element(By.CSS_SELECTOR, mark), "fill"), ground) >= 3, mark
    tag = browser.find_element(By.CSS_SELECTOR, ".tag.lang")
    assert _contrast(style(tag, "color"), style(tag, "backgroundColor")) >= 4.5
