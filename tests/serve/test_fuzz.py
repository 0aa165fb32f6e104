"""The OpenAPI schema fuzzed with schemathesis: every default check, on valid and on invalid requests, 0 failures.

Each operation's strategy is drawn with hypothesis directly (schemathesis' lazy pytest loader does not work
with this pytest), seeded and bounded; the checks are schemathesis' defaults (no server error, statuses,
content types, headers and bodies as declared, invalid data rejected, valid data accepted, auth enforced).
"""

from __future__ import annotations

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from storyline.serve import create_app
from tests.serve.conftest import TOKEN

EXAMPLES_PER_OPERATION = 25  # per generation mode


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory, examples_db):
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copyfile(examples_db, db)
    app = create_app(db, token=TOKEN)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_schema_holds_for_every_operation(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14
    failures: list[str] = []
    tried = 0
    for operation in operations:
        auth = {"Authorization": f"Bearer {TOKEN}"} if operation.method.upper() == "POST" else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def fuzz(case) -> None:
                try:
                    case.call_and_validate(headers=auth, timeout=120)
                except BaseException as exc:  # noqa: BLE001 - schemathesis raises a FailureGroup; collect them all
                    failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {str(exc)[:600]}")

            try:
                fuzz()
                tried += 1
            except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, free-text paths)
                assert mode is GenerationMode.NEGATIVE, operation.path
    assert tried >= len(operations) + 5
    assert not failures, "\n\n".join(dict.fromkeys(failures))
