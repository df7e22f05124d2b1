"""The demo data shows every stage and can be loaded again on the same database."""

from __future__ import annotations

from typing import Any

from hotline.commands.demo import load_demo
from hotline.domain.lifecycle import Status
from hotline.domain.models import Ticket
from hotline.runtime.deployment import Deployment
from hotline.services.users import principal_for_password


async def test_demo_has_every_status_and_runs_twice(db: Any, deployment: Deployment) -> None:
    from hotline.services.units import sync_units

    await sync_units(deployment.extras["units"])
    first = await load_demo(deployment=deployment, tickets=40)
    assert all(a.created for a in first)
    statuses = set(await Ticket.all().values_list("status", flat=True))
    assert statuses == {s.value for s in Status}, sorted(statuses)
    assert all(t.merged_into_id for t in await Ticket.filter(status="merged"))

    again = await load_demo(deployment=deployment, tickets=40)
    assert [a.username for a in again] == [a.username for a in first]
    assert not any(a.created for a in again)
    for old, new in zip(first, again, strict=True):
        assert new.password != old.password
        assert await principal_for_password(new.username, new.password) is not None
        assert await principal_for_password(old.username, old.password) is None
    assert await Ticket.all().count() == 40  # tickets are added once
