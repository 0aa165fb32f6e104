"""The server's contract at its edges: one error shape, HTML errors on pages, HEAD, the icon, no server paths,
hostile POST bodies (lone surrogates, NaN, Infinity, chunked oversized bodies) and a store that fills up."""

from __future__ import annotations

import json
import os
import sqlite3
import sys

import pytest

from storyline.serve import create_app
from storyline.serve.security import SECURITY_HEADERS, public_origin
from tests.serve.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
GOOD = ("The harbour of Valparaiso was damaged by an earthquake on Tuesday, officials said. Rescue teams from "
        "Santiago arrived on Wednesday morning.")


def _is_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], body
    return body


def test_every_declared_error_has_the_error_shape_and_the_bearer_scheme(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"]["securitySchemes"]["HTTPBearer"]["description"]}
    for path in ("/api/articles", "/articles"):
        post = schema["paths"][path]["post"]
        assert {"202", "400", "401", "403", "413", "422", "503", "507"} <= set(post["responses"]), path
        assert post["security"] == [{"HTTPBearer": []}]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/Error"), (method, path, status, ref)
    assert "404" in schema["paths"]["/api/stories/{story_id}"]["get"]["responses"]


def test_errors_share_one_shape(client):
    _is_error(client.get("/api/stories/st-nope"), 404)
    bad_day = _is_error(client.get("/api/stories", params={"since": "2010-13-45"}), 422)  # the pattern passes, the date does not
    assert "since" in bad_day["detail"]
    bad_limit = _is_error(client.get("/api/stories", params={"limit": 999}), 422)
    assert bad_limit["errors"][0]["loc"] == ["query", "limit"] and "limit" in bad_limit["detail"]
    _is_error(client.post("/api/articles", json={"articles": []}), 403)


def test_pages_answer_errors_as_html_and_head_and_icon_work(client):
    bad = client.get("/", params={"since": "bad"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "<h1>" in bad.text and "YYYY-MM-DD" in bad.text and '"detail"' not in bad.text
    assert client.get("/stories/st-nope").headers["content-type"].startswith("text/html")
    head = client.head("/")
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 1000
    assert client.head("/api/stories").status_code == 200
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00" and icon.headers["content-type"] == "image/x-icon"


def test_no_server_path_leaves_the_server(client, examples_db):
    with sqlite3.connect(examples_db) as db:
        stored = {row[0] for row in db.execute("SELECT origin FROM articles")}
    absolute = [o for o in stored if o.startswith("/")]
    assert absolute, "the fixture ingests examples/ by absolute path"
    directory = absolute[0].rsplit("/", 2)[0]
    seen = client.get("/api/articles", params={"limit": 200}).json()["items"]
    assert seen and all("/" not in a["origin"] for a in seen)
    top = client.get("/api/stories", params={"sort": "articles", "limit": 1}).json()["items"][0]
    story = client.get(f"/api/stories/{top['id']}").json()
    for text in (json.dumps(story), client.get(f"/api/articles/{story['articles'][0]['id']}").text,
                 client.get(f"/articles/{story['articles'][0]['id']}").text, client.get(f"/stories/{top['id']}").text,
                 client.get("/api/search", params={"q": "earthquake"}).text):
        assert directory not in text
    shown = client.get(f"/api/articles/{story['articles'][0]['id']}").json()["origin"]
    assert shown and f"<dt>Received from</dt><dd>{shown}</dd>" in client.get(f"/articles/{story['articles'][0]['id']}").text


def test_public_origin_keeps_the_file_name_and_its_locator():
    assert public_origin("/srv/news/2010/wikinews_en.jsonl:12") == "wikinews_en.jsonl:12"
    assert public_origin("C:\\data\\feeds\\a.csv#3") == "a.csv#3"
    assert public_origin("/srv/news/batch.json[4]") == "batch.json[4]"
    assert public_origin("https://example.org/a/b") == "https://example.org/a/b"
    assert public_origin("api:wire-17") == "api:wire-17"


@pytest.mark.parametrize("field", ["text", "title", "id"])
def test_a_lone_surrogate_is_refused_by_name(write_client, field):
    item = {"text": GOOD, field: (GOOD if field == "text" else "wire") + "\\ud800"}
    raw = json.dumps({"articles": [item]}).replace("\\\\ud800", "\\ud800")
    body = _is_error(write_client.post("/api/articles", content=raw, headers=AUTH), 422)
    assert f"articles.0.{field}" in body["detail"] and "surrogate" in body["detail"]
    assert write_client.get("/api/articles", params={"limit": 0}).json()["total"] == 102


def test_a_lone_surrogate_in_a_field_name_is_refused(write_client):
    raw = '{"articles": [{"text": "%s", "x\\udc80": 1}]}' % GOOD
    body = _is_error(write_client.post("/api/articles", content=raw, headers=AUTH), 422)
    assert body["detail"].startswith("articles.0:") and "surrogate" in body["detail"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_by_name(write_client, value):
    for raw in (f'{{"articles": [{{"text": {value}}}]}}', f'{{"articles": [{{"text": "{GOOD}", "title": {value}}}]}}',
                f'{{"articles": [{{"text": "{GOOD}", "weight": {value}}}]}}'):
        body = _is_error(write_client.post("/api/articles", content=raw, headers=AUTH), 422)
        assert "articles.0." in body["detail"], body


def test_a_chunked_oversized_body_gets_413_with_the_security_headers(write_client):
    def chunks():
        yield b'{"articles": [{"text": "'
        for _ in range(6):
            yield b"x" * (1024 * 1024)
        yield b'"}]}'

    response = write_client.post("/api/articles", content=chunks(), headers=AUTH)
    _is_error(response, 413)
    for key, value in SECURITY_HEADERS.items():
        assert response.headers[key] == value, key
    small = write_client.post("/api/articles", content=iter([json.dumps({"articles": [{"text": GOOD}]}).encode()]),
                              headers=AUTH)
    assert small.status_code == 202 and small.json()["results"][0]["status"] == "new"


def test_a_store_that_fills_up_says_exactly_which_articles_it_kept(examples_db_copy):
    """The store refuses every article past the 105th, as a full disk would (SQLITE_FULL's message)."""
    from fastapi.testclient import TestClient

    with sqlite3.connect(examples_db_copy) as db:
        db.execute("CREATE TRIGGER quota BEFORE INSERT ON articles WHEN (SELECT count(*) FROM articles) >= 105 "
                   "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    items = [{"text": f"{GOOD} Report number {i} came from the harbour master's office.", "id": f"q{i}"} for i in range(6)]
    items.insert(2, {"text": items[0]["text"], "id": "q0-again"})  # a duplicate stores nothing, and is not refused
    with TestClient(create_app(examples_db_copy, token=TOKEN)) as c:
        response = c.post("/api/articles", json={"articles": items}, headers=AUTH)
        body = _is_error(response, 507)
        statuses = [r["status"] for r in body["results"]]
        assert statuses == ["new", "new", "duplicate", "new", "not_stored", "not_stored", "not_stored"], statuses
        assert "4 of 7 items are stored" in body["detail"]
        assert body["queued"] == 3
        stored = {a["id"] for a in c.get("/api/articles", params={"limit": 200}).json()["items"]}
        kept = {r["id"] for r in body["results"] if r["status"] == "new"}
        assert kept <= stored and len(stored) == 105


def test_a_wrong_method_is_told_every_method_the_path_serves(client):
    for method, path, allow in (("OPTIONS", "/api/articles", "GET, HEAD, POST"), ("GET", "/articles", "POST"),
                                ("DELETE", "/", "GET, HEAD")):
        response = client.request(method, path)
        assert response.status_code == 405 and response.headers["allow"] == allow, (method, path)


def test_numbers_are_not_dates_or_instants(client):
    for params in ({"since": "0"}, {"until": "20100101"}, {"new_since": "0.5"}, {"new_since": "2010-01-01"},
                   {"entity": ["a", "b"]}):
        body = _is_error(client.get("/api/stories", params=params), 422)
        assert body["errors"][0]["loc"] == ["query", next(iter(params))], body
    assert client.get("/api/stories", params={"new_since": "2010-01-01T00:00:00Z", "since": ""}).status_code == 200


def test_an_item_answer_carries_only_what_applies(write_client):
    items = [{"text": GOOD}, {"text": "   "}]
    results = write_client.post("/api/articles", json={"articles": items}, headers=AUTH).json()["results"]
    assert results[0].keys() == {"index", "status", "id"} and results[1].keys() == {"index", "status", "reason"}


def test_a_server_without_a_writer_says_so_in_the_error_shape(examples_db):
    from fastapi.testclient import TestClient

    with TestClient(create_app(examples_db, token=TOKEN, writer=False)) as c:
        body = _is_error(c.post("/api/articles", json={"articles": [{"text": GOOD}]}, headers=AUTH), 503)
        assert "writer" in body["detail"]


QUOTA_RUN = '''
import json, resource, signal, sys
from fastapi.testclient import TestClient
from storyline.model import Document
from storyline.normalize.clean import clean
from storyline.serve import create_app

db, limit, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the quota fails (EFBIG) instead of killing us
clean(Document(text="Warm up: the language model unpacks itself once, before the quota.", origin="warm-up"))
with TestClient(create_app(db, token=token)) as c:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    line = "The harbour authority said on Tuesday that the storm damaged {} quays and {} cranes in the port. "
    items = [{"id": f"quota-{i}", "text": " ".join(line.format(i, j) for j in range(400))} for i in range(12)]
    answer = c.post("/api/articles", json={"articles": items}, headers={"Authorization": "Bearer " + token})
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    stored = {a["id"] for a in c.get("/api/articles", params={"limit": 200}).json()["items"]}
    print(json.dumps({"status": answer.status_code, "body": answer.json(), "stored": sorted(stored)}))
'''


@pytest.mark.skipif(sys.platform == "win32", reason="file-size quotas (RLIMIT_FSIZE) are POSIX")
def test_a_disk_quota_mid_post_is_answered_item_by_item(examples_db_copy):
    """A real quota (RLIMIT_FSIZE: the store's write-ahead log may not grow past 600 kB) hit part-way
    through a POST: the answer lists exactly the items kept, and the store holds exactly those."""
    import subprocess

    from tests.conftest import ROOT

    run = subprocess.run([sys.executable, "-c", QUOTA_RUN, str(examples_db_copy), "600000", TOKEN], cwd=ROOT,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["status"] in (503, 507) and "items are stored" in out["body"]["detail"]
    statuses = [r["status"] for r in out["body"]["results"]]
    kept = statuses.index("not_stored")
    assert kept >= 1 and statuses == ["new"] * kept + ["not_stored"] * (12 - kept), statuses
    new_ids = {r["id"] for r in out["body"]["results"] if r["status"] == "new"}
    assert new_ids <= set(out["stored"]) and len(out["stored"]) == 102 + kept
