"""A served store tracked from examples/: a read-only app for the read tests, a private copy for writes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from storyline.serve import create_app

TOKEN = "test-token-1234"


@pytest.fixture(scope="module")
def client(examples_db):
    with TestClient(create_app(examples_db, token="", writer=False)) as c:
        yield c


@pytest.fixture
def write_client(examples_db_copy):
    app = create_app(examples_db_copy, token=TOKEN)
    with TestClient(app) as c:
        c.app_state = app.state
        yield c
