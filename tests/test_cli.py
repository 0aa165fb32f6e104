"""The command line end to end, in fresh processes where it matters (SIGKILL)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from typer.testing import CliRunner

from storyline.cli import app

runner = CliRunner()


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_ingest_seeds_then_again_is_a_noop(tmp_path, seeds_dir):
    db = str(tmp_path / "s.db")
    first = runner.invoke(app, ["ingest", str(seeds_dir), "--db", db, "--json"])
    assert first.exit_code == 0, first.output
    assert _lines(first.stdout)[0]["new"] == 2
    again = runner.invoke(app, ["ingest", str(seeds_dir), "--db", db, "--json"])
    assert again.exit_code == 0 and _lines(again.stdout)[0] == {**_lines(again.stdout)[0], "new": 0, "duplicate": 2}
    rows = _lines(runner.invoke(app, ["articles", "--db", db, "--json"]).stdout)
    assert len(rows) == 2 and all(r["language"] == "en" for r in rows)
    seed003 = next(r for r in rows if "003_" in r["origin"])
    assert seed003["published"] == "2020-01-16" and seed003["date_provenance"] == "text marker"
    seed000 = next(r for r in rows if "000_" in r["origin"])
    assert seed000["published"] is None and seed000["date_provenance"] == "undated"
    shown = _lines(runner.invoke(app, ["show", seed003["id"], "--db", db, "--json"]).stdout)[0]
    assert shown["text"].startswith('"Peace for our people')


def test_wikinews_ingest_and_search(tmp_path, wikinews_file):
    db = str(tmp_path / "s.db")
    assert runner.invoke(app, ["ingest", str(wikinews_file), "--db", db]).exit_code == 0
    rows = _lines(runner.invoke(app, ["articles", "--db", db, "--limit", "0", "--json"]).stdout)
    assert len(rows) == 100 and all(r["title"] for r in rows)
    assert sum(r["published"] is not None for r in rows) >= 99
    hits = _lines(runner.invoke(app, ["search", "tsunami", "--db", db, "--json"]).stdout)
    assert hits and [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    for hit in hits:  # every hit holds the word, in its title or its text
        shown = _lines(runner.invoke(app, ["show", hit["id"], "--db", db, "--json"]).stdout)[0]
        assert "tsunami" in f"{shown['title']} {shown['text']}".lower(), hit["id"]


def test_nothing_valid_is_non_zero(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    result = runner.invoke(app, ["ingest", str(bad), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 1
    assert "bad.txt" in result.output and "binary" in result.output


def test_show_unknown_id_says_how_to_find_one(tmp_path):
    result = runner.invoke(app, ["show", "nope", "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 1 and "storyline articles" in result.output


def test_sigkill_mid_ingest_leaves_store_consistent_and_rerun_completes(tmp_path):
    total = 20_000
    source = tmp_path / "many.jsonl"
    with source.open("w") as f:
        for i in range(total):
            f.write(json.dumps({"id": f"n{i}", "title": f"Story {i}", "date": "2021-03-04",
                                "text": f"Article number {i} reports on the council vote {i % 97} in town {i % 13}."}) + "\n")
    db = tmp_path / "s.db"
    command = [sys.executable, "-m", "storyline", "ingest", str(source), "--db", str(db)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=0.1) as con:
                    stored = con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if stored > 0:
                break
    assert proc.poll() is None, "ingest finished before it could be killed; make the input larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        fts = con.execute("SELECT COUNT(*) FROM articles_fts").fetchone()[0]
    assert 0 < count < total and fts == count and count % 256 == 0  # whole batches only
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == total
        assert con.execute("SELECT COUNT(DISTINCT id) FROM articles").fetchone()[0] == total


def test_stdin_jsonl(tmp_path):
    data = "\n".join(json.dumps({"id": f"s{i}", "title": f"T{i}", "text": f"Story number {i} from a pipe."}) for i in range(3))
    result = runner.invoke(app, ["ingest", "-", "--db", str(tmp_path / "s.db"), "--json"], input=data.encode())
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout)[0]["new"] == 3
