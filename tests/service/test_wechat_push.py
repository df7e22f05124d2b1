"""A WeChat reporter hears back on WeChat: the reply and the closing are queued in the outbox
with the ticket write and delivered as customer-service messages through a local server that
plays WeChat's API (token fetched once and cached, refreshed when WeChat says it is stale)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.schemas import TicketCreate
from hotline.outbox.delivery import deliver_due
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.outbox.registry import build, views
from hotline.runtime.config import ConfigError, load_settings
from hotline.runtime.deployment import Deployment
from hotline.services.tickets import Actor, create_ticket, perform_action
from hotline.wechat.client import WeChatApi
from hotline.wechat.transport import WeChatTransport
from tests.bodies import VALID_BODIES
from tests.service.conftest import make_people
from tests.wechatapi import APPID, SECRET, wechat_api

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
REPLY = "已联系物业公司，电梯已于11月25日修复。\n垃圾已清运完毕。"


class Life:
    def __init__(self, deployment: Deployment, people: dict[str, Any]) -> None:
        self.deployment, self.people, self.now = deployment, people, T0

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    async def create(self, **complainant: Any) -> str:
        data = TicketCreate.model_validate(
            {
                "channel": "wechat",
                "kind": complainant.pop("kind", "投诉"),
                "title": "小区电梯长期故障",
                "content": "小区电梯经常坏，物业收费后不维修，老人上下楼很困难。",
                "complainant": {"openid": OPENID, **complainant},
            }
        )
        record = await create_ticket(
            data=data,
            actor=Actor.of(self.people["op"]),
            now=self.tick(),
            deployment=self.deployment,
            auto_dispatch=False,
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

    async def to_reply(self, number: str) -> None:
        await self.act(number, "confirm-dispatch-text", "op")
        await self.act(number, "dispatch", "op")
        await self.act(number, "sign", "zjj")
        await self.act(number, "reply", "zjj", text=REPLY)


@pytest.fixture
async def life(db: Any, deployment: Deployment) -> Life:
    pushing = replace(deployment, wechat_push=True)
    people = await make_people(pushing, [("op", "operator", None), ("zjj", "unit", "ZJJ")], now=T0)
    return Life(pushing, people)


async def _pushes(number: str) -> list[OutboxMessage]:
    return await OutboxMessage.filter(transport="wechat", ticket_number=number).order_by("id")


def _transport(url: str) -> WeChatTransport:
    return WeChatTransport(WeChatApi(appid=APPID, secret=SECRET, base_url=url))


async def test_the_reply_and_the_closing_are_queued_for_the_follower(life: Life) -> None:
    number = await life.create()
    assert await _pushes(number) == []  # the account's answer already gave number and code
    await life.to_reply(number)
    await life.act(number, "callback", "op")
    await life.act(number, "close", "op")
    reply, close = await _pushes(number)
    assert reply.recipients == [OPENID] and close.recipients == [OPENID]
    assert "已联系物业公司，电梯已于11月25日修复。\n垃圾已清运完毕。" in reply.body
    assert f"工单 {number}" in reply.body and f"/track?number={number}" in reply.body
    assert "已办结" in close.body and "评价" in close.body
    for row in (reply, close):
        assert row.status == OutboxStatus.PENDING


async def test_nothing_is_queued_without_an_openid_or_for_a_no_contact_reporter(
    life: Life,
) -> None:
    phone_only = await life.create(openid="", phone="13812345678")
    quiet = await life.create(kind="举报", no_contact=True, confidential=True)
    for number in (phone_only, quiet):
        await life.to_reply(number)
        assert await _pushes(number) == []


async def test_nothing_is_queued_when_the_account_is_not_configured(
    db: Any, deployment: Deployment
) -> None:
    people = await make_people(
        deployment, [("op", "operator", None), ("zjj", "unit", "ZJJ")], now=T0
    )
    plain = Life(deployment, people)  # wechat_push False: no AppSecret
    number = await plain.create()
    await plain.to_reply(number)
    assert await _pushes(number) == []


async def test_the_sender_delivers_with_one_cached_token(life: Life) -> None:
    a, b = await life.create(), await life.create(openid="oOther_follower_0123456789")
    await life.to_reply(a)
    await life.to_reply(b)
    with wechat_api() as api:
        transport = _transport(api.url)
        report = await deliver_due(transport, now=life.tick())
        await transport.close()
    assert len(report.sent) == 2 and not report.failed
    assert api.token_requests == 1  # fetched once, cached for the second message
    assert [m["touser"] for m in api.sent] == [OPENID, "oOther_follower_0123456789"]
    assert "已联系物业公司" in api.sent[0]["text"]["content"]
    rows = await OutboxMessage.filter(transport="wechat").order_by("id")
    assert all(r.status == OutboxStatus.SENT for r in rows)


async def test_a_stale_token_is_fetched_again_and_the_message_sent_once(life: Life) -> None:
    number = await life.create()
    await life.to_reply(number)
    with wechat_api() as api:
        transport = _transport(api.url)
        await transport.api.access_token()  # type: ignore[union-attr]
        api.revoke_tokens()  # as when another party forced a refresh
        report = await deliver_due(transport, now=life.tick())
        await transport.close()
    assert len(report.sent) == 1 and api.token_requests == 2 and len(api.sent) == 1


async def test_a_closed_window_fails_for_good_and_wechat_busy_is_retried(life: Life) -> None:
    number = await life.create()
    other = await life.create(openid="oBusy_follower_abcdefghijk")
    await life.to_reply(number)
    with wechat_api() as api:
        api.refusals[OPENID] = 45015  # the follower wrote more than 48 hours ago
        transport = _transport(api.url)
        report = await deliver_due(transport, now=life.tick())
        [failed] = await _pushes(number)
        assert report.failed == [failed.id]
        assert failed.status == OutboxStatus.FAILED
        assert "48 小时" in (failed.last_error or "")
        await life.to_reply(other)
        api.busy = 1
        busy = await deliver_due(transport, now=life.tick())
        [waiting] = await _pushes(other)
        assert busy.retrying == [waiting.id] and busy.aborted
        assert (await OutboxMessage.get(id=waiting.id)).status == OutboxStatus.PENDING
        later = await deliver_due(transport, now=life.tick() + timedelta(minutes=5))
        assert later.sent == [waiting.id]
        await transport.close()


def test_the_transport_is_built_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.delenv("WECHAT_SECRET", raising=False)
    assert build("wechat", load_settings()).enabled is False
    monkeypatch.setenv("WECHAT_SECRET", SECRET)
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9")
    transport = build("wechat", load_settings())
    assert transport.enabled and transport.api.appid == APPID  # type: ignore[attr-defined]
    monkeypatch.delenv("WECHAT_APPID")
    with pytest.raises(ConfigError, match="WECHAT_SECRET 但没有 WECHAT_APPID"):
        load_settings()
    assert "微信消息" in [v.label for v in views()]
