"""The SLA sweeper: each warning and each breach recorded and mailed exactly once.

Times are explicit: tickets are dispatched at T0 under the default policy (签收 24 h,
warning at 75 % = 18 h; 反馈 7 days, warning at 5 days 6 h) and every sweep gets its `now`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.auth import Principal
from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.models import JobRun, Ticket, TicketClock, TicketEvent, User
from hotline.domain.schemas import TicketCreate
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from hotline.services import staff_mail
from hotline.services.sweeper import SweepReport, send_daily_digest, sweep
from hotline.services.tickets import Actor, create_ticket, perform_action
from tests.service.conftest import make_people

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
H = timedelta(hours=1)
D = timedelta(days=1)
LINK = "https://hotline.example"
UNIT_BOX = "zjj@a.gov.example"  # ZJJ's mailbox in data/units.toml
STAFF = "zjj@test.example"
SUPERVISORS = {"sup@test.example", "sup2@test.example"}
ACCOUNTS = [
    ("op", "operator", None),
    ("sup", "supervisor", None),
    ("sup2", "supervisor", None),
    ("zjj", "unit", "ZJJ"),
]


@dataclass
class Env:
    deployment: Deployment
    people: dict[str, Principal] = field(default_factory=dict)

    async def dispatched(self, at: datetime = T0, title: str = "小区物业不作为") -> Ticket:
        """A complaint dispatched to ZJJ at `at` (default policy: 24 h / 7 days)."""
        data = TicketCreate.model_validate(
            {
                "kind": "投诉",
                "title": title,
                "content": "小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理。",
            }
        )
        ticket = (
            await create_ticket(
                data=data,
                actor=Actor.of(self.people["op"]),
                now=at,
                deployment=self.deployment,
                auto_dispatch=False,
            )
        ).ticket
        await self.act(ticket, "dispatch", "op", at, lead_unit="ZJJ")
        return ticket

    async def act(self, ticket: Ticket, action: str, who: str, at: datetime, **body: Any) -> None:
        await perform_action(
            number=ticket.number,
            action=action,
            body=ACTION_BODIES[action].model_validate(body),
            principal=self.people[who],
            now=at,
            deployment=self.deployment,
        )


@pytest.fixture
async def env(db: Any, deployment: Deployment) -> Env:
    return Env(deployment=deployment, people=await make_people(deployment, ACCOUNTS, now=T0))


async def escalations(ticket: Ticket | None = None) -> list[tuple[str, str]]:
    """(event, clock) for every sla_* event, in order."""
    query = TicketEvent.filter(action__startswith="sla_")
    if ticket is not None:
        query = query.filter(ticket_id=ticket.id)
    return [(e.action, e.payload["clock"]) for e in await query.order_by("id")]


async def mails(reason: str) -> list[OutboxMessage]:
    return list(await OutboxMessage.filter(transport="mail", reason=reason).order_by("id"))


def empty(report: SweepReport) -> bool:
    return not report.warnings and not report.breaches


async def test_warning_then_breach_each_recorded_and_mailed_once(env: Env) -> None:
    ticket = await env.dispatched()
    clocks = {c.kind: c.id for c in await TicketClock.filter(ticket_id=ticket.id)}

    assert empty(await sweep(now=T0 + 17 * H, link_base=LINK))

    report = await sweep(now=T0 + 19 * H, link_base=LINK)
    assert report.warnings == [clocks["receipt"]] and report.breaches == []
    assert await escalations(ticket) == [("sla_warning", "receipt")]
    [warning] = await mails("warning")
    assert warning.ticket_number == ticket.number
    assert {UNIT_BOX, STAFF} <= set(warning.to_addrs)
    assert not SUPERVISORS & set(warning.to_addrs)  # a warning is the unit's business
    assert ticket.number in warning.subject and "签收" in warning.subject

    for again in (T0 + 19 * H, T0 + 20 * H, T0 + 23 * H):
        assert empty(await sweep(now=again, link_base=LINK))
    assert len(await escalations(ticket)) == 1 and len(await mails("warning")) == 1

    report = await sweep(now=T0 + 25 * H, link_base=LINK)
    assert report.breaches == [clocks["receipt"]] and report.warnings == []
    [breach] = await mails("breach")
    assert {UNIT_BOX, STAFF} | SUPERVISORS <= set(breach.to_addrs)
    assert len(breach.to_addrs) == len(set(breach.to_addrs))
    assert ticket.number in breach.subject
    assert empty(await sweep(now=T0 + 26 * H, link_base=LINK))

    # The feedback clock follows the same way.
    report = await sweep(now=T0 + 5 * D + 7 * H, link_base=LINK)
    assert report.warnings == [clocks["feedback"]]
    report = await sweep(now=T0 + 7 * D + H, link_base=LINK)
    assert report.breaches == [clocks["feedback"]]
    assert empty(await sweep(now=T0 + 9 * D, link_base=LINK))
    assert await escalations(ticket) == [
        ("sla_warning", "receipt"),
        ("sla_breach", "receipt"),
        ("sla_warning", "feedback"),
        ("sla_breach", "feedback"),
    ]
    assert len(await mails("warning")) == 2 and len(await mails("breach")) == 2
    # Escalation is recorded beside the ticket; it does not move it.
    row = await Ticket.get(id=ticket.id)
    assert (row.status, row.version) == ("dispatched", 2)
    event = await TicketEvent.filter(ticket_id=ticket.id, action="sla_breach").first()
    assert event is not None and not event.public
    assert (event.from_status, event.to_status, event.actor_role) == (
        "dispatched",
        "dispatched",
        "system",
    )


async def test_a_breach_found_before_its_warning_is_one_breach_and_no_warning(env: Env) -> None:
    ticket = await env.dispatched()
    # The sweeper was down from before the warning point until after the deadline.
    report = await sweep(now=T0 + 25 * H, link_base=LINK)
    assert len(report.breaches) == 1 and report.warnings == []
    for later in (T0 + 25 * H, T0 + 30 * H):
        assert empty(await sweep(now=later, link_base=LINK))
    assert await escalations(ticket) == [("sla_breach", "receipt")]
    assert len(await mails("breach")) == 1 and await mails("warning") == []
    # Both clocks overrun at once: two breaches, still no warnings.
    other = await env.dispatched(T0 + D)
    report = await sweep(now=T0 + 9 * D, link_base=LINK)
    assert len(report.breaches) == 3 and report.warnings == []
    assert sorted(await escalations(other)) == [
        ("sla_breach", "feedback"),
        ("sla_breach", "receipt"),
    ]


async def test_no_warning_after_a_breach_even_when_the_deadline_is_extended(env: Env) -> None:
    ticket = await env.dispatched()
    await env.act(ticket, "sign", "zjj", T0 + H)
    assert len((await sweep(now=T0 + 7 * D + H, link_base=LINK)).breaches) == 1
    # The late unit asks for 3 more days and gets them: the deadline and warning point move.
    await env.act(ticket, "request-extension", "zjj", T0 + 7 * D + 2 * H, reason="需要协调", days=3)
    await env.act(ticket, "approve-extension", "op", T0 + 7 * D + 3 * H)
    feedback = await TicketClock.get(ticket_id=ticket.id, kind="feedback", current=True)
    assert feedback.due_at == T0 + 10 * D and feedback.warn_at < T0 + 9 * D
    # "About to be late" would be nonsense after "late": no warning is ever sent.
    assert empty(await sweep(now=T0 + 9 * D, link_base=LINK))
    assert await escalations(ticket) == [("sla_breach", "feedback")]
    assert await mails("warning") == []


@pytest.mark.backends
async def test_concurrent_sweeps_record_each_breach_once(env: Env) -> None:
    tickets = [
        await env.dispatched(T0 + i * timedelta(minutes=1), title=f"物业问题 {i}")
        for i in range(30)
    ]
    now = T0 + 8 * D
    reports = await asyncio.gather(*(sweep(now=now, link_base=LINK, batch=7) for _ in range(3)))
    claimed = [c for r in reports for c in r.breaches]
    assert len(claimed) == len(set(claimed)) == 60  # 30 tickets × (签收 + 反馈)
    assert not [c for r in reports for c in r.warnings]
    events = await TicketEvent.filter(action="sla_breach").values_list("ticket_id", "payload")
    per_clock = sorted((tid, p["clock"]) for tid, p in events)
    assert per_clock == sorted((t.id, k) for t in tickets for k in ("feedback", "receipt"))
    breach_mails = await mails("breach")
    assert len(breach_mails) == 60
    assert sorted(m.ticket_number for m in breach_mails) == sorted(
        t.number for t in tickets for _ in "ab"
    )
    assert await TicketClock.filter(breached=True).count() == 60
    assert empty(await sweep(now=now + H, link_base=LINK))


@pytest.mark.backends
async def test_concurrent_sweeps_warn_once(env: Env) -> None:
    tickets = [await env.dispatched(T0, title=f"物业问题 {i}") for i in range(10)]
    reports = await asyncio.gather(
        *(sweep(now=T0 + 19 * H, link_base=LINK, batch=3) for _ in range(2))
    )
    assert sorted(c for r in reports for c in r.warnings) == sorted(
        await TicketClock.filter(kind="receipt").values_list("id", flat=True)
    )
    assert len(await TicketEvent.filter(action="sla_warning")) == len(tickets)
    assert len(await mails("warning")) == len(tickets)


async def test_a_met_clock_never_warns_or_breaches(env: Env) -> None:
    signed = await env.dispatched()
    await env.act(signed, "sign", "zjj", T0 + H)
    assert empty(await sweep(now=T0 + 19 * H, link_base=LINK))
    assert empty(await sweep(now=T0 + 30 * H, link_base=LINK))
    # Only the feedback clock is still running, so only it can overrun.
    await sweep(now=T0 + 8 * D, link_base=LINK)
    assert await escalations(signed) == [("sla_breach", "feedback")]

    replied = await env.dispatched()
    await env.act(replied, "sign", "zjj", T0 + H)
    await env.act(
        replied, "reply", "zjj", T0 + 2 * H, result="solved", text="电梯已修复，垃圾已清运。"
    )
    await env.act(replied, "callback", "op", T0 + 3 * H, contacted=True, satisfaction="满意")
    assert empty(await sweep(now=T0 + 30 * D, link_base=LINK))
    assert await escalations(replied) == []


async def test_a_corrected_dispatch_restarts_the_receipt_deadline(env: Env) -> None:
    ticket = await env.dispatched()
    await env.act(ticket, "redispatch", "op", T0 + 10 * H, lead_unit="RSJ")
    # The first receipt clock (due T0+24h) is no longer current; the new one is due T0+34h.
    assert empty(await sweep(now=T0 + 25 * H, link_base=LINK))
    report = await sweep(now=T0 + 29 * H, link_base=LINK)
    assert len(report.warnings) == 1
    assert empty(await sweep(now=T0 + 33 * H, link_base=LINK))
    assert len((await sweep(now=T0 + 35 * H, link_base=LINK)).breaches) == 1
    assert await escalations(ticket) == [("sla_warning", "receipt"), ("sla_breach", "receipt")]
    # The mail goes to the unit that holds the ticket now.
    assert all(
        "rsj@a.gov.example" in m.to_addrs and UNIT_BOX not in m.to_addrs
        for m in [*(await mails("warning")), *(await mails("breach"))]
    )


async def test_a_paused_clock_does_not_breach_while_paused(env: Env) -> None:
    ticket = await env.dispatched()
    await env.act(ticket, "sign", "zjj", T0 + H)
    await env.act(ticket, "pause", "zjj", T0 + 2 * H, reason="等待市民提供材料")
    await env.act(ticket, "approve-pause", "op", T0 + 2 * H)
    for when in (T0 + 6 * D, T0 + 8 * D, T0 + 20 * D):
        assert empty(await sweep(now=when, link_base=LINK))
    assert await escalations(ticket) == []
    # Resumed after 8 days: the deadline moves by the time spent paused.
    await env.act(ticket, "resume", "zjj", T0 + 8 * D + 2 * H)
    feedback = await TicketClock.get(ticket_id=ticket.id, kind="feedback", current=True)
    assert feedback.due_at == T0 + 7 * D + 8 * D
    assert empty(await sweep(now=T0 + 8 * D + 3 * H, link_base=LINK))
    assert len((await sweep(now=feedback.warn_at, link_base=LINK)).warnings) == 1
    assert empty(await sweep(now=feedback.due_at - H, link_base=LINK))
    assert len((await sweep(now=feedback.due_at, link_base=LINK)).breaches) == 1
    assert await escalations(ticket) == [("sla_warning", "feedback"), ("sla_breach", "feedback")]


async def test_the_daily_digest_is_sent_once_a_day(env: Env) -> None:
    late = await env.dispatched(T0 - 3 * D, title="逾期未签收的工单")
    on_time = await env.dispatched(T0, title="按时办理的工单")
    monday_0900 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert (
        await send_daily_digest(now=monday_0900 - 2 * H, link_base=LINK) is False
    )  # 07:00: too early
    assert await JobRun.all().count() == 0
    assert await send_daily_digest(now=monday_0900, link_base=LINK) is True
    assert await send_daily_digest(now=monday_0900 + 6 * H, link_base=LINK) is False
    [digest] = await mails("digest")
    assert set(digest.to_addrs) == SUPERVISORS
    assert late.number in digest.body_text and on_time.number not in digest.body_text
    assert "2026年11月23日" in digest.subject
    # The next local day: two workers at once still send one.
    tuesday_0830 = monday_0900 + D - timedelta(minutes=30)
    sent = await asyncio.gather(
        *(send_daily_digest(now=tuesday_0830, link_base=LINK) for _ in range(2))
    )
    assert sorted(sent) == [False, True]
    assert len(await mails("digest")) == 2
    assert "2026年11月24日" in (await mails("digest"))[-1].subject


@pytest.mark.backends
@pytest.mark.parametrize("move", ["redispatch", "merge"])
async def test_a_clock_retired_while_the_sweeper_works_is_not_escalated(
    env: Env, move: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The centre re-dispatches or merges between the sweeper's SELECT and its claim."""
    from hotline.services import sweeper

    ticket = await env.dispatched()
    other = await env.dispatched(T0 + 20 * H, title="同一问题的另一张工单")
    now = T0 + 25 * H
    real = sweeper.escalate
    raced = []

    async def racing(ids: list[int], event: str, **kw: Any) -> list[int]:
        if ids and not raced:
            raced.append(ids)
            if move == "redispatch":
                await env.act(ticket, "redispatch", "op", now, lead_unit="RSJ")
            else:
                await env.act(ticket, "merge", "op", now, into=other.number)
        return await real(ids, event, **kw)

    monkeypatch.setattr(sweeper, "escalate", racing)
    report = await sweep(now=now, link_base=LINK)
    assert raced, "the sweeper selected the overdue receipt clock"
    # Same outcome as if the centre had acted just before the sweep: nothing to escalate.
    assert report.breaches == [] and await escalations(ticket) == []
    assert await mails("breach") == []


async def test_one_bad_staff_address_does_not_stop_escalation(env: Env) -> None:
    """A typo in one person's mail address must not silence every warning in the city."""
    ticket = await env.dispatched()
    await User.filter(username="zjj").update(email="zjj at test.example")
    await User.filter(username="sup2").update(email="sup2@")
    # Edited behind the services' back: each worker reads its units' staff again within
    # seconds (hotline.services.staff_mail); this test does not wait for that.
    staff_mail.forget()
    report = await sweep(now=T0 + 25 * H, link_base=LINK)
    assert len(report.breaches) == 1
    assert await escalations(ticket) == [("sla_breach", "receipt")]
    [breach] = await mails("breach")
    assert set(breach.to_addrs) == {UNIT_BOX, "sup@test.example"}
    # Dispatching to that unit still works, and its mailbox still hears of it.
    again = await env.dispatched(T0 + 26 * H, title="又一张工单")
    dispatch = await OutboxMessage.get(
        transport="mail", reason="dispatch", ticket_number=again.number
    )
    assert dispatch.to_addrs == [UNIT_BOX]


async def test_the_digest_names_a_report_by_its_confirmed_title(env: Env) -> None:
    """Mail leaves the system: an overdue 举报 appears under the title a person confirmed."""
    data = TicketCreate.model_validate(
        {
            "kind": "举报",
            "title": "我要举报王五受贿，我是李建国",
            "content": "我叫李建国，手机13973112345，举报市住建局工作人员王五收受好处。",
            "complainant": {"name": "李建国", "phone": "13973112345"},
        }
    )
    at = T0 - 3 * D
    ticket = (
        await create_ticket(
            data=data,
            actor=Actor.of(env.people["op"]),
            now=at,
            deployment=env.deployment,
            auto_dispatch=False,
        )
    ).ticket
    await env.act(
        ticket,
        "confirm-dispatch-text",
        "op",
        at,
        title="举报工作人员违规收受好处",
        dispatch_text="群众举报有关工作人员收受好处，请依法核查。",
    )
    await env.act(ticket, "dispatch", "op", at, lead_unit="JW")
    assert await send_daily_digest(now=datetime(2026, 11, 23, 1, 0, tzinfo=UTC), link_base=LINK)
    [digest] = await mails("digest")
    assert ticket.number in digest.body_text and "举报工作人员违规收受好处" in digest.body_text
    for leaked in ("李建国", "13973112345", "王五受贿"):
        assert leaked not in digest.body_text and leaked not in (digest.body_html or "")


async def test_a_late_decision_on_a_request_is_the_centres_not_the_units(env: Env) -> None:
    ticket = await env.dispatched()
    await env.act(ticket, "sign", "zjj", T0 + H)
    await env.act(ticket, "pause", "zjj", T0 + 2 * H, reason="等待市民提供材料")
    decision = await TicketClock.get(ticket_id=ticket.id, kind="decision")
    feedback = await TicketClock.get(ticket_id=ticket.id, kind="feedback")
    # Waiting for the centre is not the unit's next deadline (1 working day < 7 days).
    assert decision.due_at < feedback.due_at
    assert (await Ticket.get(id=ticket.id)).next_due_at == feedback.due_at

    report = await sweep(now=T0 + 2 * D, link_base=LINK)
    assert report.breaches == [decision.id]
    event = await TicketEvent.get(ticket_id=ticket.id, action="sla_breach")
    assert event.payload["clock"] == "decision" and event.actor_unit_id is None
    [breach] = await mails("breach")
    assert set(breach.to_addrs) == SUPERVISORS  # never the unit that asked
    assert "审批" in breach.subject
    # Decided late, still decided: the clock is met and nothing escalates again.
    await env.act(ticket, "approve-pause", "op", T0 + 2 * D + H)
    assert empty(await sweep(now=T0 + 3 * D, link_base=LINK))


async def test_a_late_callback_is_the_centres_and_reaches_operators_and_supervisors(
    env: Env,
) -> None:
    ticket = await env.dispatched()
    await env.act(ticket, "sign", "zjj", T0 + H)
    await env.act(ticket, "reply", "zjj", T0 + 2 * H, result="solved", text="电梯已修复。")
    callback = await TicketClock.get(ticket_id=ticket.id, kind="callback")
    assert callback.limit == "2wd"
    # Nothing of the unit's is due any more: the callback waits on the centre alone.
    assert (await Ticket.get(id=ticket.id)).next_due_at is None

    report = await sweep(now=T0 + 4 * D, link_base=LINK)
    assert report.breaches == [callback.id]
    event = await TicketEvent.get(ticket_id=ticket.id, action="sla_breach")
    assert event.payload["clock"] == "callback" and event.actor_unit_id is None
    [breach] = await mails("breach")
    assert set(breach.to_addrs) == SUPERVISORS | {"op@test.example"}  # never the unit
    assert "回访" in breach.subject
    from hotline.mail.templates import render_stored

    text = render_stored(breach.template, breach.params).text
    # The centre's lateness: addressed to the centre, no unit's extension to ask for.
    assert "12345热线中心" in text and "已计为中心超时" in text and "延期申请" not in text
    await env.act(ticket, "callback", "op", T0 + 4 * D + H, contacted=True, satisfaction="满意")
    assert empty(await sweep(now=T0 + 9 * D, link_base=LINK))
