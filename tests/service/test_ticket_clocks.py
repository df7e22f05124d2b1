"""Deadlines on real tickets: policies, mediation, pause, extension, provisional years."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.models import TicketClock
from hotline.domain.schemas import TicketCreate
from hotline.runtime.deployment import Deployment
from hotline.services import tickets as svc
from hotline.services.sla_engine import load_sla_engine, recompute_provisional
from tests.service.conftest import make_people

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
async def people(db: Any, deployment: Deployment) -> dict[str, Any]:
    accounts = [("op", "operator", None), ("sjj", "unit", "SJJ"), ("zjj", "unit", "ZJJ")]
    return await make_people(deployment, accounts)


async def make(
    deployment: Deployment, people: dict[str, Any], when: datetime, **fields: Any
) -> str:
    data = TicketCreate.model_validate(
        {
            "kind": "投诉",
            "category": "商贸旅游",
            "title": "商场拒绝退货",
            "content": "在商场购买的电器有质量问题，商家拒绝退货，请求调解。",
            **fields,
        }
    )
    t = (
        await svc.create_ticket(
            data=data,
            actor=svc.Actor.of(people["op"]),
            now=when,
            deployment=deployment,
            auto_dispatch=False,
        )
    ).ticket
    return t.number


async def act(
    deployment: Deployment,
    people: dict[str, Any],
    number: str,
    action: str,
    who: str,
    when: datetime,
    **body: Any,
) -> None:
    await svc.perform_action(
        number=number,
        action=action,
        body=ACTION_BODIES[action].model_validate(body),
        principal=people[who],
        now=when,
        deployment=deployment,
    )


async def signed_general_ticket(deployment: Deployment, people: dict[str, Any]) -> str:
    """A general 城乡建设 complaint dispatched to ZJJ on Mon 2 Nov 09:00 and signed at 10:00."""
    n = await make(
        deployment,
        people,
        at("2026-11-02T09:00"),
        category="城乡建设",
        title="楼道堆放杂物",
        content="楼道长期堆放杂物，存在消防隐患，请处理。",
    )
    await act(deployment, people, n, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="ZJJ")
    await act(deployment, people, n, "sign", "zjj", at("2026-11-02T10:00"))
    return n


async def clocks(number: str) -> dict[str, TicketClock]:
    rows = await TicketClock.filter(ticket__number=number, current=True)
    return {r.kind: r for r in rows}


async def test_consumer_complaint_gets_mediation_clock_in_working_days(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await make(deployment, people, at("2026-09-30T16:00"))
    await act(deployment, people, n, "dispatch", "op", at("2026-09-30T16:00"), lead_unit="SJJ")
    c = await clocks(n)
    # 7 working days after 30 Sep: 8, 9, 10 (make-up Saturday), 12, 13, 14, 15 Oct → end of 15 Oct.
    assert c["feedback"].due_at.astimezone(SH) == at("2026-10-16T00:00")
    assert c["receipt"].due_at.astimezone(SH) == at("2026-10-01T16:00")
    assert "mediation" not in c
    await act(deployment, people, n, "sign", "sjj", at("2026-10-08T09:00"))
    c = await clocks(n)
    assert c["receipt"].state == "met" and c["mediation"].limit == "45wd"
    assert not c["mediation"].provisional


async def test_december_clock_is_provisional_until_the_2027_schedule_arrives(
    deployment: Deployment, people: dict[str, Any], tmp_path: Path
) -> None:
    n = await make(deployment, people, at("2026-12-20T10:00"))
    await act(deployment, people, n, "dispatch", "op", at("2026-12-20T10:00"), lead_unit="SJJ")
    await act(deployment, people, n, "sign", "sjj", at("2026-12-20T11:00"))
    mediation = (await clocks(n))["mediation"]
    assert mediation.provisional  # 45 working days reach into 2027, which has no schedule yet
    before = mediation.due_at

    data = tmp_path / "data"
    shutil.copytree(deployment.data_dir, data, ignore=shutil.ignore_patterns("model"))
    (data / "holidays" / "2027.toml").write_text(
        'year = 2027\n[[holidays]]\nname = "元旦"\ndate = 2027-01-01\n'
        '[[holidays]]\nname = "春节"\nstart = 2027-02-05\nend = 2027-02-13\n'
        '[[workdays]]\nname = "春节"\ndate = 2027-02-14\n',
        encoding="utf-8",
    )
    done, still = await recompute_provisional(load_sla_engine(data))
    assert done >= 1 and still == 0
    mediation = (await clocks(n))["mediation"]
    assert not mediation.provisional and mediation.due_at > before
    # The rate row keeps the recomputed feedback deadline the reply is late against.
    from hotline.domain.models import RateAssignment, Ticket

    row = await RateAssignment.get(ticket_id=(await Ticket.get(number=n)).id)
    assert row.unreplied_due_at == (await clocks(n))["feedback"].due_at


async def test_pause_pushes_the_deadline_and_emergencies_cannot_pause(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await signed_general_ticket(deployment, people)
    due = (await clocks(n))["feedback"].due_at
    await act(
        deployment, people, n, "pause", "zjj", at("2026-11-03T09:00"), reason="等待市民提供照片"
    )
    # 挂起 is a request: the clock runs on until the centre approves it.
    assert (await clocks(n))["feedback"].state != "paused"
    await act(deployment, people, n, "approve-pause", "op", at("2026-11-03T10:00"))
    assert (await clocks(n))["feedback"].state == "paused"
    # Paused: not late while it lasts; resumed: late against the moved deadline (the rate
    # row follows every clock change, not only the rate actions).
    from hotline.domain.models import RateAssignment, Ticket

    ticket_id = (await Ticket.get(number=n)).id
    assert (await RateAssignment.get(ticket_id=ticket_id)).unreplied_due_at is None
    await act(deployment, people, n, "resume", "zjj", at("2026-11-05T10:00"))
    assert (await clocks(n))["feedback"].due_at - due == timedelta(days=2)
    row = await RateAssignment.get(ticket_id=ticket_id)
    assert row.unreplied_due_at == (await clocks(n))["feedback"].due_at

    urgent = await make(
        deployment,
        people,
        at("2026-11-02T09:00"),
        category="城乡建设",
        urgency="紧急",
        title="燃气泄漏",
        content="楼道里闻到很浓的燃气味，请马上处理。",
    )
    await act(deployment, people, urgent, "dispatch", "op", at("2026-11-02T09:00"), lead_unit="ZJJ")
    await act(deployment, people, urgent, "sign", "zjj", at("2026-11-02T09:10"))
    with pytest.raises(HotlineError) as err:
        await act(deployment, people, urgent, "pause", "zjj", at("2026-11-02T09:20"), reason="等待")
    assert err.value.status == 422 and "不允许挂起" in err.value.message
    assert (await clocks(urgent))["feedback"].state != "paused"


async def test_extension_moves_the_feedback_deadline_within_policy(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await signed_general_ticket(deployment, people)
    due = (await clocks(n))["feedback"].due_at
    with pytest.raises(HotlineError) as err:
        await act(
            deployment,
            people,
            n,
            "request-extension",
            "zjj",
            at("2026-11-03T10:00"),
            reason="需要协调",
            days=30,
        )
    assert err.value.status == 422 and "最多延期" in err.value.message
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
    assert (await clocks(n))["feedback"].due_at - due == timedelta(days=3)


async def test_reopen_starts_a_new_feedback_clock(
    deployment: Deployment, people: dict[str, Any]
) -> None:
    n = await signed_general_ticket(deployment, people)
    await act(
        deployment,
        people,
        n,
        "reply",
        "zjj",
        at("2026-11-03T10:00"),
        result="solved",
        text="已清理楼道杂物。",
    )
    assert (await clocks(n))["feedback"].state == "met"
    await act(
        deployment,
        people,
        n,
        "callback",
        "op",
        at("2026-11-03T15:00"),
        contacted=True,
        satisfaction="不满意",
    )
    await act(
        deployment, people, n, "reopen", "op", at("2026-11-03T16:00"), reason="市民称杂物仍在"
    )
    fb = (await clocks(n))["feedback"]
    assert fb.state == "running" and fb.generation == 2
    assert fb.started_at.astimezone(SH) == at("2026-11-03T16:00")
