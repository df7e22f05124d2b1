"""The demo data shows every stage and can be loaded again on the same database."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.commands.demo import HIERARCHY_TICKETS, load_demo
from hotline.domain.lifecycle import Status
from hotline.domain.models import Ticket
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services.users import principal_for_password
from hotline.startup.bootstrap import load_deployment
from tests.reviewing import reviewing


async def test_demo_has_every_status_and_runs_twice(db: Any, deployment: Deployment) -> None:
    from hotline.services.units import sync_units

    await sync_units(deployment.extras["units"])
    # With reply review on, some answers wait for the centre (答复待审核).
    with reviewing(deployment, "投诉", "举报"):
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
    # Tickets are added once (and the few walked down the hierarchy).
    assert await Ticket.all().count() == 40 + len(HIERARCHY_TICKETS)
    # The hierarchy has work to show: a community holds a 下派, a street has one to review.
    by_name = {a.username: a for a in again}
    # 学堂坡社区 holds two: one from 含浦街道, one 含浦街道 passed on from A3区 (two levels).
    assert by_name["xuetangpo"].open_tickets == 2 and by_name["hanpu"].open_tickets == 3
    assert by_name["a3"].open_tickets >= 1
    assert by_name["fengxiangyuan"].open_tickets == 1


@pytest.fixture(scope="module")
def classifying() -> Deployment:
    """With the classifier, as `python main.py demo` runs: a 举报 naming 市场监管 goes to 市纪委."""
    return load_deployment(load_settings())


async def test_every_unit_the_demo_reaches_has_a_named_account_with_its_work(
    db: Any, classifying: Deployment
) -> None:
    """The 市纪委 of a 举报 included; unit accounts are shown by name with their open tickets."""
    from hotline.domain.models import TicketUnit, Unit, User
    from hotline.services.units import sync_units

    await sync_units(classifying.extras["units"])
    accounts = await load_demo(deployment=classifying, tickets=40)
    reached = set(await TicketUnit.all().values_list("unit__code", flat=True))
    assert "JW" in reached  # a 举报, its text confirmed at the centre, went to 市纪委
    for code in reached:
        staff = await User.filter(unit__code=code, role="unit").prefetch_related("unit")
        assert staff, f"no account for {code}"
        for user in staff:  # the unit's name, not its code (「BEISHAN 值班员」)
            if user.username.startswith("unit_"):
                assert user.display_name == f"{user.unit.name} 值班员"
            assert user.display_name != f"{code} 值班员", user.display_name
    jw = next(a for a in accounts if a.unit == "JW")
    assert (jw.username, jw.name) == ("unit_jw", "中共A市纪律检查委员会 值班员")
    assert jw.open_tickets and jw.open_tickets > 0
    unit_accounts = [a for a in accounts if a.role == "unit"]
    assert sum(a.open_tickets or 0 for a in unit_accounts) > 0
    for a in unit_accounts:
        unit = await Unit.get(code=a.unit)
        waiting = await TicketUnit.filter(
            unit_id=unit.id, active=True, ticket__status__in=["dispatched", "handling", "paused"]
        ).count()
        assert a.open_tickets == waiting, a
    for a in accounts:
        assert await principal_for_password(a.username, a.password) is not None, a.username
