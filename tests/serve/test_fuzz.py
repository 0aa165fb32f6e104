"""The OpenAPI schema fuzzed with schemathesis: no generated request may get a 5xx (writes included).

Each operation's strategy is drawn with hypothesis directly (schemathesis' lazy pytest loader does not
work with this pytest); the check is schemathesis' own ``not_a_server_error``.
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from storyline.serve import create_app
from tests.serve.conftest import TOKEN

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, examples_db):
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copyfile(examples_db, db)
    app = create_app(db, token=TOKEN)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_server_error(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        auth = {"Authorization": f"Bearer {TOKEN}"} if operation.method.upper() == "POST" else None

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case) -> None:
            case.call_and_validate(headers=auth, checks=[not_a_server_error], timeout=120)

        fuzz()
