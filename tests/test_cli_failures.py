"""Commands that ended in a traceback, or exited 0 having done nothing (issue 21): each now says what is
wrong in one line and exits non-zero; and two inputs whose cost had no bound are bounded."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from storyline.cli import app
from storyline.ingest import IngestOptions, read_sources
from storyline.ingest.lines import GZIP_RATIO
from storyline.model import Document, Rejection

from tests.conftest import SEEDS

runner = CliRunner()


def _said(result, text: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert text in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize("port", ["-1", "0", "70000"])
def test_serve_refuses_a_port_out_of_range(port, tmp_path):
    _said(runner.invoke(app, ["serve", "--port", port, "--db", str(tmp_path / "s.db")]), "--port")


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_ingest_refuses_a_max_seconds_that_is_no_bound(value, tmp_path):
    _said(runner.invoke(app, ["ingest", str(SEEDS), "--max-seconds", value, "--db", str(tmp_path / "s.db")]),
          "--max-seconds")


def test_eval_on_files_of_the_wrong_kind_fails_with_a_line(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("these are notes, not clusters\n")
    _said(runner.invoke(app, ["eval", "summaries", str(text), "--json"]), "cannot read clusters")
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"a": 1}) + "\n")
    _said(runner.invoke(app, ["eval", "summaries", str(wrong), "--json"]), "cannot read clusters")
    _said(runner.invoke(app, ["eval", "pairs", str(text), "--json"]), "0 rated pairs read")
    empty = tmp_path / "empty"
    empty.mkdir()
    _said(runner.invoke(app, ["eval", "timelines", str(empty), "--json"]), "no timelines found")


def test_search_of_thousands_of_repeated_terms_is_capped(tmp_path):
    db = str(tmp_path / "s.db")
    assert runner.invoke(app, ["ingest", str(SEEDS), "--db", db]).exit_code == 0
    _said(runner.invoke(app, ["search", " ".join(["Taliban"] * 8000), "--db", db]), "at most 500")
    from storyline.store import Store

    with Store(db) as store:  # the read layer under every way in: repeats are searched once
        assert store.search_ids(" ".join(["Taliban"] * 8000)) == store.search_ids("Taliban") != []


def test_a_gzip_of_one_record_repeated_is_read_within_a_bound_on_its_inflation(tmp_path):
    line = (json.dumps({"id": "same", "text": "The river flooded the lower town on Monday, officials said."}) + "\n").encode()
    path = tmp_path / "repeated.jsonl.gz"
    path.write_bytes(gzip.compress(line * 200_000))
    items = list(read_sources([str(path)], IngestOptions()))
    documents = [i for i in items if isinstance(i, Document)]
    rejections = [i for i in items if isinstance(i, Rejection)]
    assert documents and len(documents) * len(line) <= max(1 << 20, GZIP_RATIO * path.stat().st_size) + 64 * len(line)
    assert len(documents) < 200_000
    assert len(rejections) == 1 and "inflates more than" in rejections[0].reason


def test_an_ordinary_gzip_jsonl_is_read_whole(tmp_path, wikinews_file):
    path = tmp_path / "wikinews.jsonl.gz"
    path.write_bytes(gzip.compress(wikinews_file.read_bytes()))
    items = list(read_sources([str(path)], IngestOptions()))
    assert len(items) == 100 and all(isinstance(i, Document) for i in items)
