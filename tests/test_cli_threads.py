"""storyline threads / thread / story (its thread) over a store tracked from examples/."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from storyline.cli import app
from tests.test_cli_hostile import MARKUP, tracked  # noqa: F401  (a store of titles holding Rich markup)

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_threads_lists_filters_and_limits(examples_db):
    db = ["--db", str(examples_db)]
    rows = _json(["threads", *db, "--json", "--limit", "0"])
    assert len(rows) > 5 and [r["articles"] for r in rows] == sorted((r["articles"] for r in rows), reverse=True)
    assert len(_json(["threads", *db, "--json", "--limit", "2"])) == 2
    haiti = _json(["threads", *db, "--json", "--entity", "haiti"])
    assert haiti and len(haiti) < len(rows) and all("Haiti" in r["places"] for r in haiti)
    spanned = _json(["threads", *db, "--json", "--since", "2010-01-01", "--until", "2010-12-31", "--limit", "0"])
    assert spanned and all(r["last_date"] >= "2010-01-01" and r["first_date"] <= "2010-12-31" for r in spanned)
    table = runner.invoke(app, ["threads", *db, "--limit", "3"])
    assert table.exit_code == 0 and rows[0]["id"][:6] in table.stdout
    bad = runner.invoke(app, ["threads", *db, "--since", "2010-13-01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_thread_shows_its_stories_and_timeline(examples_db):
    db = ["--db", str(examples_db)]
    top = next(r for r in _json(["threads", *db, "--json", "--limit", "0"]) if r["stories"] > 1)
    data = _json(["thread", top["id"], *db, "--json"])[0]
    assert data["id"] == top["id"] and [s["id"] for s in data["stories"]] == top["story_ids"] and data["timeline"]
    shown = runner.invoke(app, ["thread", top["id"][:10], *db], terminal_width=200)
    assert shown.exit_code == 0
    for story in data["stories"]:
        assert story["id"] in shown.stdout
    assert data["timeline"][0]["date"] in shown.stdout and "Timeline" in shown.stdout
    missing = runner.invoke(app, ["thread", "th-nope", *db])
    assert missing.exit_code == 1 and "storyline threads" in missing.output


def test_story_names_its_thread(examples_db):
    db = ["--db", str(examples_db)]
    story = _json(["stories", *db, "--json", "--limit", "1"])[0]
    assert story["thread"]["id"].startswith("th-")
    shown = runner.invoke(app, ["story", story["id"], *db], terminal_width=200)
    assert shown.exit_code == 0 and f"thread: {story['thread']['title']}" in shown.stdout
    assert story["thread"]["id"] in shown.stdout


def test_report_lists_threads_in_every_output(examples_db, tmp_path):
    out, md, js = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.json"
    result = runner.invoke(app, ["report", "--db", str(examples_db), "--out", str(out), "--markdown", str(md),
                                 "--json-out", str(js), "--limit", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(js.read_text(encoding="utf-8"))
    assert len(data["stories"]) == 3 and data["threads"]
    assert {s["id"] for s in data["stories"]} <= {s["id"] for t in data["threads"] for s in t["story_list"]}
    assert 'id="threads"' in out.read_text(encoding="utf-8") and md.read_text(encoding="utf-8").startswith("# Threads")


def test_threads_print_stored_markup_literally(tracked):
    """Titles holding Rich markup, and an article dated on the calendar's last day, go through threads/thread."""
    rows = _json(["threads", "--db", str(tracked), "--json", "--limit", "0"])
    assert rows and all(r["last_date"] != "9999-12-31" for r in rows)  # a date that cannot be true is not trusted
    for command in (["threads"], *(["thread", r["id"]] for r in rows)):
        result = runner.invoke(app, [*command, "--db", str(tracked)], terminal_width=400)
        assert result.exit_code == 0 and result.exception is None, (command, result.output)
        assert "😄" not in result.stdout
    # the thread holding the article titled with markup (its headline may be another member's title)
    marked = next(r for r in rows if MARKUP in json.dumps(_json(["thread", r["id"], "--db", str(tracked), "--json"])))
    shown = runner.invoke(app, ["thread", marked["id"], "--db", str(tracked)], terminal_width=400)
    assert "[red]Wire[/red]" in shown.stdout and "a[i]" in shown.stdout  # markup printed as written, not rendered
