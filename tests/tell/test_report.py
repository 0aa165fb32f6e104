from __future__ import annotations

import json
from html.parser import HTMLParser

from storyline.model import EntityType
from storyline.tell.actors import actors, sources
from storyline.tell.report import anchor, render_html, render_json, render_markdown, story_data

from .conftest import article


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.entries = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.hrefs.append(a["href"][1:])
        if tag == "li" and a.get("class") == "entry":
            self.entries += 1


def test_actors_count_once_per_duplicate_group_with_first_and_last_seen(spill):
    dup = article("d1", "2010-07-17", [s.text for s in spill[3].sentences], duplicate_of="s4",
                  entities=[("Obama", EntityType.PERSON)])
    got = {a.canonical: a for a in actors(spill + [dup])}
    assert got["BP"].articles == 5 and got["BP"].first_seen == "2010-04-21" and got["BP"].last_seen == "2010-07-16"
    assert got["Obama"].articles == 1 and got["Obama"].first_article == "s4"
    assert next(iter(got)) == "BP"


def test_sources_first_reporter_coverage_and_duplicates(spill):
    dup = article("d1", "2010-07-17", ["Copy of a wire story about the capped well, word for word."],
                  duplicate_of="s4", source="Echo")
    rep = sources(spill + [dup])
    assert rep.first_reports[0]["article_id"] == "s1" and rep.first_reports[0]["outlet"] == "Reuters"
    assert rep.outlets["Reuters"] == 2 and rep.outlets["AP"] == 2
    assert rep.per_day["2010-07-16"] == 2 and sum(rep.per_week.values()) == 6
    assert rep.duplicate_groups == [["s4", "d1"]]


def test_html_report_parses_and_every_citation_resolves(spill):
    data = story_data(spill, title="Deepwater Horizon <spill>")
    page = render_html([data])
    p = _Collect()
    p.feed(page)
    p.close()
    assert "svg" in p.tags and "style" in p.tags and "script" not in p.tags
    assert p.entries == len(data["timeline"]) > 0
    cited = [h for h in p.hrefs if h.startswith("a-")]
    assert cited, "summary and timeline sentences link to their articles"
    assert all(h in p.ids for h in p.hrefs), set(p.hrefs) - p.ids
    assert {anchor(a.id) for a in spill} <= p.ids
    assert "Deepwater Horizon &lt;spill&gt;" in page  # escaped
    assert render_html([data]) == page  # deterministic


def test_markdown_and_json_exports(spill):
    data = story_data(spill)
    md = render_markdown(data)
    assert "## Timeline" in md and "## Summary" in md and "[^s1]:" in md
    back = json.loads(render_json([data]))
    assert back["stories"][0]["timeline"][0]["sentences"][0]["citations"][0]["article_id"] in {a.id for a in spill}
    assert set(back["stories"][0]["whats_new"]) == {a.id for a in spill[1:]}
