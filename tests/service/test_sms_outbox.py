"""Texts to complainants: queued with the ticket write, and delivered once by the sender.

The sender tests use the generic HTTP gateway against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.auth import Principal
from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.models import Ticket
from hotline.domain.schemas import TicketCreate
from hotline.outbox.backlog import backlog
from hotline.outbox.delivery import deliver_due, requeue
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.runtime.deployment import Deployment
from hotline.runtime.sms_settings import SmsSettings
from hotline.services.idempotency import retry_key
from hotline.services.tickets import Actor, create_ticket, perform_action
from hotline.sms.gateways import gateway_for
from hotline.sms.gateways.http import HttpGateway
from hotline.sms.outbox import enqueue_sms
from hotline.sms.transport import SmsTransport
from tests.bodies import VALID_BODIES
from tests.service.conftest import make_people
from tests.smssupport import http_peer

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ACCOUNTS = [("op", "operator", None), ("zjj", "unit", "ZJJ")]
REPLY_TEXT = "已联系物业公司，电梯已于11月25日修复。\n垃圾已清运完毕。\n如有问题请再来电。"


@dataclass
class Env:
    """People, a moving clock and helpers to create and act on tickets."""

    deployment: Deployment
    people: dict[str, Principal] = field(default_factory=dict)
    now: datetime = T0

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    async def create(self, *, retry: Any = None, **complainant: Any) -> str:
        data = TicketCreate.model_validate(
            {
                "kind": complainant.pop("kind", "投诉"),
                "title": "小区电梯长期故障",
                "content": "小区电梯经常坏，物业收费后不维修，老人上下楼很困难。",
                "complainant": {"name": "张先生", "phone": "13812345678", **complainant},
            }
        )
        record = await create_ticket(
            data=data,
            actor=Actor.of(self.people["op"]),
            now=self.tick(),
            deployment=self.deployment,
            auto_dispatch=False,
            retry=retry,
        )
        return record.ticket.number

    async def act(self, number: str, action: str, who: str, **body: Any) -> None:
        await perform_action(
            number=number,
            action=action,
            body=ACTION_BODIES[action].model_validate({**VALID_BODIES[action], **body}),
            principal=self.people[who],
            now=self.tick(),
            deployment=self.deployment,
        )

    async def full_life(self, number: str, *, reached: bool = True) -> None:
        # What units read, confirmed as a 举报 needs (harmless on other tickets).
        await self.act(number, "confirm-dispatch-text", "op")
        await self.act(number, "dispatch", "op")
        await self.act(number, "sign", "zjj")
        await self.act(number, "reply", "zjj", text=REPLY_TEXT)
        if reached:
            await self.act(number, "callback", "op")
        else:  # a reporter who asked not to be contacted is recorded as not reached
            await self.act(number, "callback", "op", contacted=False, satisfaction=None)
        await self.act(number, "close", "op")


@pytest.fixture
async def env(db: Any, deployment: Deployment) -> Env:
    return Env(deployment=deployment, people=await make_people(deployment, ACCOUNTS, now=T0))


async def _texts(number: str | None = None) -> list[OutboxMessage]:
    query = (
        OutboxMessage.filter(transport="sms")
        if number is None
        else OutboxMessage.filter(transport="sms", ticket_number=number)
    )
    return await query.order_by("id")


# ---- what is queued ----------------------------------------------------------------------


async def test_created_replied_and_closed_each_queue_one_text(env: Env) -> None:
    number = await env.create(phone="+86 138-1234-5678")
    await env.full_life(number)
    rows = await _texts(number)
    assert [r.template for r in rows] == ["created", "reply", "close"]
    assert {r.phone for r in rows} == {"13812345678"}
    assert all(r.status == OutboxStatus.PENDING and r.attempts == 0 for r in rows)
    code = (await Ticket.get(number=number)).query_code
    link = f"http://127.0.0.1:8000/track?number={number}"
    created, reply, close = rows
    assert created.params == {"number": number, "code": code, "link": link}
    assert f"工单编号{number}" in created.body and f"查询码{code}" in created.body
    # Replies and closings may be forwarded: their link and text carry no query code.
    assert reply.params == {
        "number": number,
        "reply": "已联系物业公司，电梯已于11月25日修复。 垃圾已清运完毕。"[:34] + "…",
        "link": link,
    }
    assert "已联系物业公司，电梯已于11月25日修复。" in reply.body
    assert close.params == {"number": number, "link": link}
    for row in rows:
        assert link in row.body and "短信回复无效" in row.body
        assert row.body == env.deployment.sms[row.template].render(row.params)  # type: ignore[index]
    for row in (reply, close):
        assert code not in row.body and "code" not in row.params
    assert len({r.dedupe_key for r in rows}) == 3


async def test_answered_on_the_spot_texts_the_closing(env: Env) -> None:
    number = await env.create()
    await env.act(number, "answer", "op")
    assert [r.template for r in await _texts(number)] == ["created", "close"]


@pytest.mark.parametrize(
    "complainant",
    [
        pytest.param({"sms_opt_out": True}, id="opted-out"),
        pytest.param(
            {"confidential": True, "no_contact": True, "kind": "举报"}, id="confidential-no-contact"
        ),
        pytest.param({"phone": "0731-88886666"}, id="landline"),
        pytest.param({"phone": "010 12345678"}, id="landline-beijing"),
        pytest.param({"phone": "12345"}, id="service-number"),
        pytest.param({"phone": ""}, id="no-phone"),
    ],
)
async def test_no_text_for_these_complainants(env: Env, complainant: dict[str, Any]) -> None:
    number = await env.create(**complainant)
    await env.full_life(number, reached=not complainant.get("no_contact"))
    assert await _texts() == []


async def test_a_confidential_reporter_who_may_be_contacted_gets_texts(env: Env) -> None:
    number = await env.create(confidential=True, kind="举报")
    await env.act(number, "answer", "op")
    assert [r.template for r in await _texts(number)] == ["created", "close"]


async def test_a_retried_create_queues_one_text(env: Env) -> None:
    request = {"title": "小区电梯长期故障"}
    first = await env.create(retry=retry_key("op", "key-1", request))
    again = await env.create(retry=retry_key("op", "key-1", request))
    assert first == again
    assert [r.template for r in await _texts()] == ["created"]


async def test_no_templates_means_no_text(env: Env) -> None:
    env.deployment = Deployment(data_dir=env.deployment.data_dir)  # a data/ without sms.toml
    number = await env.create()
    await env.act(number, "answer", "op")
    assert await _texts() == []


# ---- the sender ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


async def _queue(n: int = 1, *, now: datetime = NOW) -> list[OutboxMessage]:
    return [
        await enqueue_sms(
            dedupe_key=f"T{i}:close:v1",
            phone=f"1390000{i:04d}",
            template="close",
            params={"number": f"T{i}", "link": f"http://x/track?number=T{i}"},
            body=f"【12345热线】您的工单T{i}已办结。本短信回复无效。",
            ticket_number=f"T{i}",
            reason="close",
            now=now,
        )
        for i in range(n)
    ]


def _gateway(url: str) -> HttpGateway:
    gateway = gateway_for(SmsSettings(gateway="http", http_url=url + "/send", timeout=5))
    assert isinstance(gateway, HttpGateway)
    return gateway


async def test_the_log_gateway_marks_rows_sent_without_sending(db: Any) -> None:
    [row] = await _queue()
    report = await deliver_due(SmsTransport(gateway_for(SmsSettings())), now=NOW)
    assert report.sent == [row.id]
    done = await OutboxMessage.get(transport="sms", id=row.id)
    assert done.status == OutboxStatus.SENT and done.gateway_ref == "log" and done.sent_at == NOW


@pytest.mark.backends
async def test_a_5xx_is_retried_with_backoff_and_the_text_is_sent_once(db: Any) -> None:
    [row] = await _queue()
    with http_peer((500, {"error": "busy"}), (200, {"id": "CITY-1"})) as peer:
        gateway = _gateway(peer.url)
        first = await deliver_due(SmsTransport(gateway), now=NOW)
        assert first.retrying == [row.id] and first.aborted
        waiting = await OutboxMessage.get(transport="sms", id=row.id)
        assert waiting.status == OutboxStatus.PENDING and waiting.attempts == 1
        assert waiting.next_attempt_at == NOW + timedelta(minutes=1)
        assert "HTTP 500" in (waiting.last_error or "")
        # Not due yet: nothing is sent.
        early = await deliver_due(SmsTransport(gateway), now=NOW + timedelta(seconds=30))
        assert early.attempted == 0
        second = await deliver_due(SmsTransport(gateway), now=NOW + timedelta(minutes=1))
        assert second.sent == [row.id]
        later = await deliver_due(SmsTransport(gateway), now=NOW + timedelta(hours=1))
        assert later.attempted == 0
        await gateway.close()
    assert len(peer.seen) == 2
    assert all(s.json() == {"phone": row.phone, "text": row.body} for s in peer.seen)
    sent = await OutboxMessage.get(transport="sms", id=row.id)
    assert sent.status == OutboxStatus.SENT and sent.attempts == 2 and sent.gateway_ref == "CITY-1"
    assert sent.last_error is None and sent.claim_token is None


@pytest.mark.backends
async def test_a_gateway_outage_defers_the_waiting_texts_without_trying_each(db: Any) -> None:
    rows = await _queue(3)
    with http_peer((503, {})) as peer:
        gateway = _gateway(peer.url)
        report = await deliver_due(SmsTransport(gateway), now=NOW)
        await gateway.close()
    assert len(peer.seen) == 1 and report.deferred == 2
    assert {r.next_attempt_at for r in await OutboxMessage.filter(transport="sms")} == {
        NOW + timedelta(minutes=1)
    }
    assert {
        r.attempts
        for r in await OutboxMessage.filter(transport="sms", id__in=[r.id for r in rows[1:]])
    } == {0}


@pytest.mark.backends
async def test_a_permanent_refusal_fails_the_text_and_requeue_brings_it_back(db: Any) -> None:
    [row] = await _queue()
    with http_peer((400, {"error": "invalid mobile"})) as peer:
        gateway = _gateway(peer.url)
        report = await deliver_due(SmsTransport(gateway), now=NOW)
        again = await deliver_due(SmsTransport(gateway), now=NOW + timedelta(days=1))
        await gateway.close()
    assert report.failed == [row.id] and again.attempted == 0 and len(peer.seen) == 1
    failed = await OutboxMessage.get(transport="sms", id=row.id)
    assert failed.status == OutboxStatus.FAILED and "invalid mobile" in (failed.last_error or "")
    waiting = await backlog("sms", now=NOW)
    assert waiting.failed == 1 and waiting.pending == 0
    assert await requeue("sms", now=NOW, row_id=row.id) == 1
    assert await requeue("sms", now=NOW, row_id=row.id) == 0  # already pending
    assert (await OutboxMessage.get(transport="sms", id=row.id)).status == OutboxStatus.PENDING
    await OutboxMessage.filter(transport="sms", id=row.id).update(status=OutboxStatus.FAILED)
    assert await requeue("sms", now=NOW) == 1


@pytest.mark.backends
async def test_two_senders_at_once_never_send_a_text_twice(db: Any) -> None:
    rows = await _queue(12)
    with http_peer((200, {"id": "ok"})) as peer:
        first, second = _gateway(peer.url), _gateway(peer.url)
        reports = await asyncio.gather(
            deliver_due(SmsTransport(first), now=NOW), deliver_due(SmsTransport(second), now=NOW)
        )
        await first.close()
        await second.close()
    phones = [s.json()["phone"] for s in peer.seen]
    assert sorted(phones) == sorted(r.phone for r in rows)  # each exactly once
    sent = [i for report in reports for i in report.sent]
    assert sorted(sent) == sorted(r.id for r in rows)
    # A row the other sender claimed is skipped or never seen (it read after the claim):
    # either way it is not sent again. How many of each depends on timing.
    assert sum(report.skipped for report in reports) <= len(rows)
    assert await OutboxMessage.filter(transport="sms", status=OutboxStatus.SENT).count() == len(
        rows
    )


@pytest.mark.backends
async def test_a_crashed_senders_lease_runs_out_and_the_text_is_sent(db: Any) -> None:
    [row] = await _queue()
    await OutboxMessage.filter(transport="sms", id=row.id).update(
        claimed_until=NOW + timedelta(minutes=10), claim_token="dead"
    )
    gateway = gateway_for(SmsSettings())
    assert (await deliver_due(SmsTransport(gateway), now=NOW)).attempted == 0
    report = await deliver_due(SmsTransport(gateway), now=NOW + timedelta(minutes=11))
    assert report.sent == [row.id]
