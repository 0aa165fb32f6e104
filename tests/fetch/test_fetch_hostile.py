"""Fetching hostile URLs and servers (issue 21): a URL httpx cannot even parse is one rejection, not a
traceback that loses the rest of the command or the rest of a feed; a page that drips bytes hits a deadline
for the whole response, not only the timeout of each read."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from storyline.cli import app
from storyline.fetch import FetchError, SafeFetcher, fetch_document
from storyline.fetch.watch import Watcher
from storyline.model import Rejection
from storyline.store import Store

from tests.conftest import SEEDS

runner = CliRunner()
DEL_URL = "http://93.184.216.34/a\x7fb"


@pytest.mark.parametrize("url", [DEL_URL, "http://93.184.216.34/a\nb", "http://exa\x00mple.org/"])
def test_a_url_with_control_characters_is_refused_before_any_request(url):
    with pytest.raises(FetchError, match="not a valid URL"):
        SafeFetcher().get(url)
    assert isinstance(fetch_document(url, SafeFetcher()), Rejection)


@pytest.mark.parametrize("url", ["http://999.1.1.1/", "http://xn--a.org/"])
def test_a_url_httpx_cannot_parse_is_a_fetch_error(url):
    with pytest.raises(FetchError):
        SafeFetcher(allow_private=True).get(url)


def test_ingest_stores_the_files_and_rejects_the_bad_url_with_a_line(tmp_path):
    db = tmp_path / "s.db"
    result = runner.invoke(app, ["ingest", DEL_URL, str(SEEDS), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    report = json.loads(result.stdout.splitlines()[0])
    assert report["new"] == 2 and report["rejected"] == 1 and "not a valid URL" in report["rejections"][0]["reason"]
    with Store(db) as store:
        assert store.count() == 2


def test_one_item_with_a_bad_link_does_not_fail_its_feed(site):
    answers = []

    def submit(items):
        answers.extend(items)
        return [{"status": "new"} for _ in items]

    watcher = Watcher([f"{site.base}/badlink.xml"], every=600, fetcher=SafeFetcher(allow_private=True))
    result = watcher.poll(f"{site.base}/badlink.xml", submit)
    assert result.error is None and result.new == 2
    assert any("not a valid URL" in p for p in result.problems)
    assert any("Duisburg" in getattr(a, "text", "") for a in answers)


def test_a_dripping_page_hits_the_total_deadline(site):
    outcome: list[BaseException | object] = []

    def fetch() -> None:
        try:
            outcome.append(SafeFetcher(allow_private=True, timeout=5, total_timeout=1.5).get(f"{site.base}/drip"))
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcome.append(exc)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(timeout=120)  # a bound on the test, not a timing claim: without the deadline it never ends
    assert outcome, "the fetch of a dripping page did not end"
    assert isinstance(outcome[0], FetchError) and "not received within 1.5 s" in str(outcome[0])
