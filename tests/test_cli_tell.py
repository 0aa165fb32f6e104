"""track → timeline / summary / new / report through the command line, on the seeds."""

import json
import re
import shutil
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from storyline.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    from tests.conftest import SEEDS

    folder = tmp_path_factory.mktemp("tell")
    shutil.copytree(SEEDS, folder / "seeds")
    db, out = folder / "s.db", folder / "report.html"
    result = runner.invoke(app, ["track", str(folder / "seeds"), "--db", str(db), "--report", str(out)])
    assert result.exit_code == 0, result.output
    stories = [json.loads(line) for line in runner.invoke(app, ["stories", "--db", str(db), "--json"]).stdout.splitlines()]
    assert len(stories) == 1
    return db, out, stories[0]["id"]


def _rows(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith(("{", "["))]


def test_timeline_has_the_attack_and_the_election(tracked):
    db, _, story = tracked
    rows = _rows(["timeline", story, "--db", str(db), "--json"])
    dates = {r["date"] for r in rows}
    assert {"2019-08-07", "2019-09-28"} <= dates
    assert all(s["citations"] for r in rows for s in r["sentences"])
    assert rows == _rows(["timeline", story, "--db", str(db), "--json"])  # deterministic


def test_summary_cites_both_seeds(tracked):
    db, _, story = tracked
    rows = _rows(["summary", story, "--db", str(db), "--json"])
    cited = {c["article_id"] for r in rows for c in r["citations"]}
    articles = {a["id"] for a in _rows(["articles", "--db", str(db), "--json"])}
    assert cited == articles and len(cited) == 2


def test_whats_new_sentences_come_from_the_article(tracked):
    db, _, _ = tracked
    later = next(a for a in _rows(["articles", "--db", str(db), "--json"]) if a["published"] == "2020-01-16")
    rows = _rows(["new", later["id"], "--db", str(db), "--json"])
    shown = _rows(["show", later["id"], "--db", str(db), "--json"])[0]
    assert rows and all(r["text"] in shown["restored_text"] or r["text"] in shown["text"] for r in rows)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and (attrs.get("href") or "").startswith("#"):
            self.hrefs.append(attrs["href"][1:])


def test_report_citations_resolve_to_articles(tracked):
    _, out, _ = tracked
    parser = _Links()
    parser.feed(out.read_text())
    assert parser.hrefs and all(h in parser.ids for h in parser.hrefs)
    assert re.search(r"2019-08-07", out.read_text())


def test_cli_python_api_and_page_give_the_same_timeline_and_summary(tracked):
    """One default for the number of dates and words, kept in the query layer: every way in answers alike,
    and every citation names its outlet and day."""
    from fastapi.testclient import TestClient

    import storyline
    from storyline.model import citation_label
    from storyline.serve import create_app

    db, _, story = tracked
    cli_timeline = _rows(["timeline", story, "--db", str(db), "--json"])
    cli_summary = _rows(["summary", story, "--db", str(db), "--json"])
    with storyline.open(db) as sl:
        py_timeline, py_summary, py_story = sl.timeline(story), sl.summary(story), sl.story(story)
    with TestClient(create_app(db, token="", writer=False)) as client:
        api = client.get(f"/api/stories/{story}").json()
        page = client.get(f"/stories/{story}").text
    assert cli_timeline == py_timeline == py_story["timeline"] == api["timeline"]
    assert cli_summary == py_summary == py_story["summary"] == api["summary"]
    assert re.findall(r'<li id="tl-([\d-]+)"', page) == [e["date"] for e in api["timeline"]]
    cites = [c for e in api["timeline"] for s in e["sentences"] for c in s["citations"]]
    cites += [c for s in api["summary"] for c in s["citations"]]
    assert cites and all(c["date"] for c in cites)  # the seeds name no outlet: their label says so
    for c in cites[:3]:
        assert f'[{citation_label(c)}]' in page
    assert not re.search(r'class="cite"[^>]*>\[\d+\]<', page)
