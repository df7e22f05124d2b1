"""Date filters use local (Asia/Shanghai) days on every database."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from hotline.runtime.deployment import Deployment
from hotline.services import tickets as svc
from tests.service.conftest import make_people
from tests.service.test_ticket_clocks import at, make


@pytest.fixture
async def people(db: Any, deployment: Deployment) -> dict[str, Any]:
    return await make_people(deployment, [("op", "operator", None)])


async def test_a_ticket_of_7am_local_belongs_to_that_local_day(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    early = await make(deployment, people, at("2026-11-02T07:00"))  # 1 Nov 23:00 UTC
    late = await make(deployment, people, at("2026-11-01T23:30"))  # 1 Nov 15:30 UTC

    async def numbers(**kw: Any) -> set[str]:
        items, _ = await svc.list_tickets(
            principal=people["op"],
            filters=svc.TicketFilter(**kw),
            page=1,
            per_page=50,
            now=at("2026-11-03T00:00"),
        )
        return {t.number for t in items}

    assert await numbers(created_from=date(2026, 11, 2)) == {early}
    assert await numbers(created_to=date(2026, 11, 1)) == {late}
