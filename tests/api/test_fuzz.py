"""Property-based fuzzing of every operation in /openapi.json (schemathesis ≥ 4).

Each operation gets a bounded, reproducible batch of generated requests (valid and invalid),
sent anonymously and with each role's token to the ASGI app: no answer may be a 5xx, every
answer must match its documented status codes and schemas. Open311's GETs and /wechat's URL
check are in the document too (with a WeChat token configured, so the check runs).
`FUZZ_EXAMPLES=300` for a long run by hand (default 15 in CI); runs on SQLite and, with
TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hotline.runtime.config import load_settings
from hotline.web.app import create_app
from hotline.web.openapi import build_openapi
from tests.api.conftest import World

# Any input on either database: no answer may be a 5xx.
pytestmark = pytest.mark.backends

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
ROLES = [None, "op", "sup", "adm", "zjj"]  # anonymous, operator, supervisor, admin, unit
SCHEMA = schemathesis.openapi.from_dict(
    build_openapi(create_app(load_settings(), manage_db=False, background=False).routes)
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Figures of this run, printed at the end (`pytest -s`): requests per role and 5xx answers.
FIGURES: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def wechat_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """/wechat answers 404 without a token: configure one so the fuzzed check reaches it."""
    monkeypatch.setenv("WECHAT_TOKEN", "fuzz-token")


def _cases(operation: Any) -> list[Any]:
    """A reproducible batch of generated requests for one operation."""
    cases: list[Any] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
async def test_no_5xx_and_responses_match_schema(world: World, operation: Any) -> None:
    cases = _cases(operation)
    failures = []
    for who in ROLES:
        auth = world.headers[who] if who else {}
        for case in cases:
            kwargs = case.as_transport_kwargs(base_url="http://test", headers=auth)
            kwargs.pop("cookies", None)
            r = await world.client.request(**kwargs)
            FIGURES[f"requests[{who or 'anonymous'}]"] += 1
            if r.status_code >= 500:
                FIGURES["5xx"] += 1
            try:
                case.validate_response(r, checks=CHECKS)
            except Exception as exc:  # noqa: BLE001 - collected, reported together
                failures.append(f"{who}: {kwargs['method']} {r.request.url} → {exc}")
    assert not failures, "\n\n".join(failures[:5])


def test_figures() -> None:
    """Runs last in this file: the totals, for the report (`pytest -s`)."""
    print(f"\nfuzz figures (FUZZ_EXAMPLES={EXAMPLES}):", dict(sorted(FIGURES.items())))
    assert FIGURES.get("5xx", 0) == 0
