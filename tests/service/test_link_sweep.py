"""The sweeper warns and escalates an assisting unit's opinion clock (协办时限) and a
descendant's 下派 deadline once each: an event naming the late unit, mail to it, and on
a breach mail to the unit waiting for it."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.models import TicketEvent, TicketUnit
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services.sweeper import sweep
from tests.service.conftest import make_people
from tests.service.test_ticket_clocks import act, at, make

LINK = "https://hotline.example"


@pytest.fixture
async def people(db: Any, deployment: Deployment) -> dict[str, Any]:
    accounts = [
        ("op", "operator", None),
        ("sup", "supervisor", None),
        ("zjj", "unit", "ZJJ"),
        ("sjj", "unit", "SJJ"),
        ("hanpu", "unit", "HANPU"),
        ("xtp", "unit", "HANPU_XTP"),
    ]
    return await make_people(deployment, accounts)


async def escalations(number: str) -> list[tuple[str, str, int | None]]:
    return [
        (e.action, e.payload["clock"], e.actor_unit_id)
        for e in await TicketEvent.filter(
            ticket__number=number, action__startswith="sla_"
        ).order_by("id")
    ]


@pytest.mark.backends  # the raw claim and the queue's join, on both databases
async def test_a_missing_opinion_warns_then_breaches_once_each(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(
        deployment,
        people,
        n,
        "dispatch",
        "op",
        at("2026-11-02T09:00"),
        lead_unit="ZJJ",
        assisting_units=["SJJ"],
    )
    link = await TicketUnit.get(ticket__number=n, role="assist")
    assert link.warn_at is not None and link.warn_at < link.due_at  # 3wd → Fri 6 Nov 00:00
    report = await sweep(now=at("2026-11-04T09:00"), link_base=LINK)
    assert report.link_warnings == [] and report.link_breaches == []
    report = await sweep(now=at("2026-11-05T12:00"), link_base=LINK)
    assert report.link_warnings == [link.id]
    assert (await sweep(now=at("2026-11-05T13:00"), link_base=LINK)).link_warnings == []
    report = await sweep(now=at("2026-11-06T09:00"), link_base=LINK)
    assert report.link_breaches == [link.id]
    assert (await sweep(now=at("2026-11-07T09:00"), link_base=LINK)).link_breaches == []
    sjj = link.unit_id
    # The lead's own clocks are not due yet: only the assisting unit's part escalated.
    assert [e for e in await escalations(n) if e[1] == "assist"] == [
        ("sla_warning", "assist", sjj),
        ("sla_breach", "assist", sjj),
    ]
    warning = await OutboxMessage.get(reason="assist_warning", ticket_number=n)
    assert "sjj@test.example" in warning.to_addrs and "zjj@test.example" not in warning.to_addrs
    assert "协办意见" in warning.subject
    breach = await OutboxMessage.get(reason="assist_breach", ticket_number=n)
    # The responsible unit, which waits for the opinion, hears of the breach too.
    assert {"sjj@test.example", "zjj@test.example"} <= set(breach.to_addrs)


async def test_an_opinion_given_in_time_is_never_escalated(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(
        deployment,
        people,
        n,
        "dispatch",
        "op",
        at("2026-11-02T09:00"),
        lead_unit="ZJJ",
        assisting_units=["SJJ"],
    )
    await act(
        deployment,
        people,
        n,
        "assist-opinion",
        "sjj",
        at("2026-11-03T10:00"),
        text="已核查。",
        done=True,
    )
    report = await sweep(now=at("2026-11-20T09:00"), link_base=LINK)
    assert report.link_warnings == [] and report.link_breaches == []


async def test_a_late_subdispatch_is_escalated_to_the_community_and_its_street(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="HANPU")
    await act(deployment, people, n, "sign", "hanpu", at("2026-11-02T09:30"))
    await act(
        deployment,
        people,
        n,
        "subdispatch",
        "hanpu",
        at("2026-11-02T09:40"),
        unit="HANPU_XTP",
        limit="1wd",
    )
    link = await TicketUnit.get(ticket__number=n, role="sub")
    await act(deployment, people, n, "sub-sign", "xtp", at("2026-11-02T10:00"))
    report = await sweep(now=at("2026-11-04T09:00"), link_base=LINK)  # 1wd: Tue 24:00
    assert report.link_breaches == [link.id]
    assert ("sla_breach", "subdispatch", link.unit_id) in await escalations(n)
    breach = await OutboxMessage.get(reason="subdispatch_breach", ticket_number=n)
    assert {"xtp@test.example", "hanpu@test.example"} <= set(breach.to_addrs)
    assert "下派办理" in breach.subject
    # Answered upward late: nothing more is owed below, nothing escalates again.
    await act(
        deployment,
        people,
        n,
        "sub-reply",
        "xtp",
        at("2026-11-04T10:00"),
        result="solved",
        text="社区已上门处理。",
    )
    report = await sweep(now=at("2026-11-10T09:00"), link_base=LINK)
    assert report.link_breaches == [] and report.link_warnings == []
