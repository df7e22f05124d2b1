"""Clocks fair to the units: 退单 stops theirs, the centre's re-dispatch runs on its own clock;
one extension when the policy allows one; a failed mediation must be notified in time."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.errors import HotlineError
from hotline.domain.models import TicketClock, TicketEvent, User
from hotline.mail.outbox import mail_content
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services.sweeper import sweep
from tests.service.conftest import make_people
from tests.service.test_ticket_clocks import act, at, clocks, make

LINK = "http://hotline.test"


@pytest.fixture
async def people(db: Any, deployment: Deployment) -> dict[str, Any]:
    accounts = [
        ("op", "operator", None),
        ("sup", "supervisor", None),
        ("sjj", "unit", "SJJ"),
        ("zjj", "unit", "ZJJ"),
    ]
    made = await make_people(deployment, accounts)
    await User.filter(username="sup").update(email="sup@test.example")
    await User.filter(username="zjj").update(email="zjj@test.example")
    return made


async def test_a_dispute_stops_the_units_receipt_clock_and_starts_the_centres(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="ZJJ")
    await act(
        deployment, people, n, "reject", "zjj", at("2026-11-02T09:30"), reason="不属于本单位职责"
    )
    c = await clocks(n)
    assert "receipt" not in c or not c["receipt"].is_open
    centre = c["redispatch"]
    # 2 working hours from 09:30 on a Monday: 11:30.
    assert centre.is_open and centre.due_at.astimezone(at("2026-11-02T00:00").tzinfo) == at(
        "2026-11-02T11:30"
    )
    # The centre is slow: that afternoon the sweeper blames the centre, never the unit.
    report = await sweep(now=at("2026-11-02T14:00"), link_base=LINK)
    breaches = await TicketEvent.filter(ticket__number=n, action="sla_breach")
    assert [e.payload["clock"] for e in breaches] == ["redispatch"]
    assert breaches[0].actor_unit_id is None
    assert len(report.breaches) == 1
    mail = await OutboxMessage.get(transport="mail", reason="breach", ticket_number=n)
    assert mail.to_addrs == ["sup@test.example"] and "12345热线中心" in mail_content(mail).text
    # Re-dispatch meets the centre's clock and starts a fresh receipt clock for the new unit.
    await act(deployment, people, n, "redispatch", "op", at("2026-11-02T15:00"), lead_unit="SJJ")
    c = await clocks(n)
    assert c["redispatch"].met_at is not None and c["receipt"].is_open
    assert not await TicketClock.filter(ticket__number=n, kind="receipt", breached=True).exists()


async def test_a_second_extension_request_is_refused_at_once(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"), category="城乡建设")
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="ZJJ")
    await act(deployment, people, n, "sign", "zjj", at("2026-11-02T10:00"))
    await act(
        deployment,
        people,
        n,
        "request-extension",
        "zjj",
        at("2026-11-03T10:00"),
        reason="需要协调",
        days=3,
    )
    await act(deployment, people, n, "approve-extension", "op", at("2026-11-03T11:00"))
    with pytest.raises(HotlineError) as err:
        await act(
            deployment,
            people,
            n,
            "request-extension",
            "zjj",
            at("2026-11-04T10:00"),
            reason="还要协调",
            days=2,
        )
    assert err.value.status == 409 and err.value.code == "extension_limit_reached"
    assert "最多延期 1 次" in err.value.message
    # Nothing changed: the ticket is still being handled, not waiting for an approval.
    from hotline.domain.models import Ticket

    assert (await Ticket.get(number=n)).status == "handling"


async def test_a_failed_mediation_starts_the_seven_working_day_notice_clock(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"))  # a consumer complaint
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="SJJ")
    await act(deployment, people, n, "sign", "sjj", at("2026-11-02T10:00"))
    await act(
        deployment,
        people,
        n,
        "mediate",
        "sjj",
        at("2026-11-05T10:00"),
        outcome="failed",
        text="商家拒绝调解",
    )
    notice = (await clocks(n))["mediation_notice"]
    assert notice.limit == "7wd" and notice.is_open
    # Thursday 5 Nov + 7 working days → end of Monday 16 Nov.
    assert notice.due_at.astimezone(at("2026-11-02T00:00").tzinfo) == at("2026-11-17T00:00")
    await act(
        deployment,
        people,
        n,
        "notify-parties",
        "sjj",
        at("2026-11-06T10:00"),
        text="已书面告知双方调解不成",
    )
    assert (await clocks(n))["mediation_notice"].met_at is not None


async def test_an_agreed_mediation_needs_no_notice(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-11-02T09:00"))
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="SJJ")
    await act(deployment, people, n, "sign", "sjj", at("2026-11-02T10:00"))
    await act(
        deployment,
        people,
        n,
        "mediate",
        "sjj",
        at("2026-11-05T10:00"),
        outcome="agreed",
        text="双方达成一致",
    )
    assert "mediation_notice" not in await clocks(n)
