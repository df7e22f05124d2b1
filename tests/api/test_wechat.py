"""POST/GET /wechat over ASGI, with wechatpy as WeChat: plain, safe and compatible mode.

`wx` is an account with an EncodingAESKey (safe or compatible mode: plain is refused), `wx_plain`
one without (plain mode, as an account that never turned encryption on).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.domain.auth import Principal
from hotline.domain.models import IdempotencyKey, Ticket, TicketEvent
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services import ticket_search
from hotline.services.units import sync_units
from hotline.web.app import create_app
from tests.wechatpeer import AES_KEY, APPID, TOKEN, Peer, sign

COMPLAINT = "我们小区门口的路灯已经坏了一个多月了，晚上非常黑，老人出门很不安全。请尽快派人维修。"
ALICE = "oAlice_9a8b7c6d5e4f3g2h1i0j"
BOB = "oBob_1234567890abcdefghijk"


@dataclasses.dataclass
class WeChat:
    """WeChat (the peer) and an HTTP client to our app."""

    client: httpx.AsyncClient
    peer: Peer
    mode: str = "safe"  # how `send` pushes unless told otherwise

    async def post(self, params: dict[str, str], body: bytes) -> httpx.Response:
        return await self.client.post(
            "/wechat", params=params, content=body, headers={"Content-Type": "text/xml"}
        )

    async def send(self, fields: dict[str, Any], mode: str | None = None) -> Any:
        """Push a message; return our reply as wechatpy reads it (None for "success")."""
        mode = mode or self.mode
        if mode == "plain":
            params, body = self.peer.plain(fields)
        else:
            params, body = self.peer.safe(fields, compat=mode == "compat")
        r = await self.post(params, body)
        assert r.status_code == 200, r.text
        if r.text == "success":
            return None
        return self.peer.read(r.text, encrypted=mode != "plain")


def _app(deployment: Deployment, **wechat: str) -> httpx.AsyncClient:
    settings = dataclasses.replace(load_settings(), **wechat)
    app = create_app(settings, deployment=deployment, manage_db=False, background=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


KEYS = {"wechat_token": TOKEN, "wechat_appid": APPID, "wechat_aes_key": AES_KEY}


@contextlib.asynccontextmanager
async def _account(deployment: Deployment, *, keyed: bool) -> AsyncIterator[WeChat]:
    """Our app as an account with an EncodingAESKey (keyed) or without one (plain mode)."""
    await sync_units(deployment.extras["units"])
    async with _app(deployment, **(KEYS if keyed else {"wechat_token": TOKEN})) as client:
        yield WeChat(client=client, peer=Peer(), mode="safe" if keyed else "plain")


@pytest.fixture
async def wx(db: Any, deployment: Deployment) -> AsyncIterator[WeChat]:
    async with _account(deployment, keyed=True) as wechat:
        yield wechat


@pytest.fixture
async def wx_plain(db: Any, deployment: Deployment) -> AsyncIterator[WeChat]:
    async with _account(deployment, keyed=False) as wechat:
        yield wechat


async def _ticket_count() -> int:
    return await Ticket.all().count()


# ---- URL verification and refusals ----------------------------------------------------


async def test_url_verification_echoes_echostr(wx: WeChat) -> None:
    params = {**wx.peer.params(), "echostr": "8372631920458823"}
    r = await wx.client.get("/wechat", params=params)
    assert r.status_code == 200
    assert r.text == "8372631920458823"
    assert r.headers["content-type"].startswith("text/plain")


async def test_url_verification_refuses_bad_signature_and_old_timestamp(wx: WeChat) -> None:
    bad = {**wx.peer.params(), "echostr": "1"}
    bad["signature"] = bad["signature"][:-1] + ("0" if bad["signature"][-1] != "0" else "1")
    assert (await wx.client.get("/wechat", params=bad)).status_code == 403
    old = str(int(time.time()) - 301)
    stale = {**wx.peer.params(timestamp=old), "echostr": "1"}
    assert (await wx.client.get("/wechat", params=stale)).status_code == 403
    future = str(int(time.time()) + 400)
    ahead = {**wx.peer.params(timestamp=future), "echostr": "1"}
    assert (await wx.client.get("/wechat", params=ahead)).status_code == 403


async def test_without_a_token_the_endpoint_is_404(db: Any, deployment: Deployment) -> None:
    peer = Peer()
    async with _app(deployment, wechat_token="") as client:
        r = await client.get("/wechat", params={**peer.params(), "echostr": "1"})
        assert r.status_code == 404
        params, body = peer.plain(peer.text(ALICE, COMPLAINT))
        assert (await client.post("/wechat", params=params, content=body)).status_code == 404
    assert await _ticket_count() == 0


async def test_bad_signature_or_stale_message_creates_nothing(wx: WeChat) -> None:
    params, body = wx.peer.safe(wx.peer.text(ALICE, COMPLAINT))
    forged = {**params, "signature": "0" * 40}
    assert (await wx.post(forged, body)).status_code == 403
    # A captured request replayed later: signature right, timestamp too old.
    old = str(int(time.time()) - 3600)
    params, body = wx.peer.safe(wx.peer.text(ALICE, COMPLAINT), timestamp=old)
    assert (await wx.post(params, body)).status_code == 403
    # Safe mode: `signature` right, but msg_signature not over this Encrypt.
    params, body = wx.peer.safe(wx.peer.text(ALICE, COMPLAINT))
    assert (await wx.post({**params, "msg_signature": "f" * 40}, body)).status_code == 403
    assert await _ticket_count() == 0


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<xml><ToUserName>gh_x</ToUserName><FromUserName>oEvil</FromUserName>
<CreateTime>1700000000</CreateTime><MsgType>text</MsgType>
<Content>&lol9;</Content><MsgId>1</MsgId></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_x</ToUserName><FromUserName>oEvil</FromUserName>
<CreateTime>1700000000</CreateTime><MsgType>text</MsgType>
<Content>&xxe;</Content><MsgId>2</MsgId></xml>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, b"<xml><Content>unclosed", b"not xml"])
async def test_dangerous_or_broken_xml_is_400(wx_plain: WeChat, body: bytes) -> None:
    r = await wx_plain.post(wx_plain.peer.params(), body)
    assert r.status_code == 400
    assert await _ticket_count() == 0


async def test_missing_fields_is_400(wx_plain: WeChat) -> None:
    fields = wx_plain.peer.text(ALICE, COMPLAINT)
    del fields["FromUserName"]
    params, body = wx_plain.peer.plain(fields)
    assert (await wx_plain.post(params, body)).status_code == 400


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_oversized_body_is_413_before_parsing(
    db: Any, deployment: Deployment, mode: str
) -> None:
    async with _account(deployment, keyed=mode != "plain") as wx:
        text = wx.peer.text(ALICE, "很长" * 40_000)
        params, body = wx.peer.plain(text) if mode == "plain" else wx.peer.safe(text)
        assert len(body) > 64 * 1024
        assert (await wx.post(params, body)).status_code == 413
    assert await _ticket_count() == 0


async def test_encrypted_with_another_accounts_key_is_refused(wx: WeChat) -> None:
    # Signed with our token but encrypted by another account (other key and AppID).
    other = Peer(aes_key="Z" * 42 + "A", appid="wx0000000000000000")
    params, body = other.safe(other.text(ALICE, COMPLAINT))
    assert (await wx.post(params, body)).status_code == 400
    assert await _ticket_count() == 0


# ---- no downgrade to plain mode, no second use of a nonce ---------------------------------


async def test_with_a_key_a_plain_message_is_refused(wx: WeChat) -> None:
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    ticket = await Ticket.get(complainant_openid=ALICE)
    # Correctly signed, but plain: its signature covers neither the body nor the sender, so
    # whoever learnt one could send 「查询」 as Alice and read her tickets.
    for extra in ({}, {"encrypt_type": "raw"}):
        params, body = wx.peer.plain(wx.peer.text(ALICE, "查询"))
        r = await wx.post({**params, **extra}, body)
        assert r.status_code == 403
        assert ticket.number not in r.text and ticket.query_code not in r.text
        params, body = wx.peer.plain(wx.peer.text(BOB, COMPLAINT))
        assert (await wx.post({**params, **extra}, body)).status_code == 403
    # A compatible-mode body (plain copy beside Encrypt) without encrypt_type=aes: refused too.
    params, body = wx.peer.safe(wx.peer.text(BOB, COMPLAINT), compat=True)
    del params["encrypt_type"]
    assert (await wx.post(params, body)).status_code == 403
    assert await _ticket_count() == 1
    # WeChat's URL check stays plain in every mode and still works.
    r = await wx.client.get("/wechat", params={**wx.peer.params(), "echostr": "5077421188"})
    assert r.status_code == 200 and r.text == "5077421188"


async def test_a_nonce_signs_one_request_only(wx_plain: WeChat) -> None:
    wx = wx_plain
    sent = wx.peer.text(ALICE, COMPLAINT)
    params, body = wx.peer.plain(sent)
    first = await wx.post(params, body)
    assert first.status_code == 200
    number = (await Ticket.get(complainant_openid=ALICE)).number
    # Someone holding this request's signature, timestamp and nonce (a log line) asks for
    # Alice's tickets, or files one in her name: refused, nothing read or stored.
    _, query = wx.peer.plain(wx.peer.text(ALICE, "查询"))
    r = await wx.post(params, query)
    assert r.status_code == 403 and number not in r.text
    _, forged = wx.peer.plain(wx.peer.text(ALICE, "我要举报邻居，他家每天晚上都很吵，请处理。"))
    assert (await wx.post(params, forged)).status_code == 403
    assert await _ticket_count() == 1
    # WeChat's own retry repeats the request byte for byte: the first answer again.
    again = await wx.post(params, body)
    assert again.status_code == 200 and again.text == first.text
    assert await _ticket_count() == 1


async def test_a_url_checks_signature_cannot_sign_a_message(wx_plain: WeChat) -> None:
    wx = wx_plain
    check = {**wx.peer.params(), "echostr": "1735520938"}
    assert (await wx.client.get("/wechat", params=check)).text == "1735520938"
    assert (await wx.client.get("/wechat", params=check)).text == "1735520938"  # WeChat's retry
    params = {k: v for k, v in check.items() if k != "echostr"}
    _, body = wx.peer.plain(wx.peer.text(ALICE, COMPLAINT))
    assert (await wx.post(params, body)).status_code == 403
    other = {**check, "echostr": "999"}
    assert (await wx.client.get("/wechat", params=other)).status_code == 403
    assert await _ticket_count() == 0


@pytest.mark.backends
async def test_every_worker_refuses_a_nonce_another_one_saw(
    wx: WeChat, deployment: Deployment
) -> None:
    # Two app instances on one database stand for two uvicorn workers (or machines).
    params, body = wx.peer.safe(wx.peer.text(ALICE, COMPLAINT))
    assert (await wx.post(params, body)).status_code == 200
    keys = {"wechat_token": TOKEN, "wechat_appid": APPID, "wechat_aes_key": AES_KEY}
    async with _app(deployment, **keys) as other:
        # Another message signed in full with the same timestamp and nonce: only the nonce
        # is wrong with it.
        again, forged = wx.peer.safe(
            wx.peer.text(BOB, COMPLAINT), nonce=params["nonce"], timestamp=params["timestamp"]
        )
        r = await other.post("/wechat", params=again, content=forged)
        assert r.status_code == 403
    assert await _ticket_count() == 1


async def test_a_key_that_does_not_load_never_falls_back_to_the_plain_copy(
    db: Any, deployment: Deployment
) -> None:
    # load_settings refuses such a key at start-up; built by hand it must still fail closed.
    peer = Peer()
    broken = {**KEYS, "wechat_aes_key": "!" * 43}
    async with _app(deployment, **broken) as client:
        params, body = peer.safe(peer.text(ALICE, COMPLAINT), compat=True)
        r = await client.post("/wechat", params=params, content=body)
        assert r.status_code == 503
    assert await _ticket_count() == 0


async def test_an_empty_or_overlong_nonce_is_refused(wx: WeChat) -> None:
    for nonce in ("", "9" * 65):
        ts = str(int(time.time()))
        params = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
        r = await wx.client.get("/wechat", params={**params, "echostr": "1"})
        assert r.status_code == 403


# ---- a text opens a ticket --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "safe", "compat"])
async def test_text_opens_a_ticket_and_the_reply_names_it(
    db: Any, deployment: Deployment, mode: str
) -> None:
    # Plain mode on an account without an EncodingAESKey, the other two on one with it.
    async with _account(deployment, keyed=mode != "plain") as wx:
        started = time.perf_counter()
        reply = await wx.send(wx.peer.text(ALICE, COMPLAINT), mode)
        elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{elapsed:.2f} s: WeChat gives up after 5 s"
    assert reply.type == "text"
    assert reply.target == ALICE and reply.source == wx.peer.account  # swapped
    ticket = await Ticket.get(complainant_openid=ALICE)
    assert f"工单号：{ticket.number}" in reply.content
    assert f"查询码：{ticket.query_code}" in reply.content
    assert "查询" in reply.content
    assert ticket.channel == "wechat"
    assert ticket.kind == "投诉"
    assert ticket.title == "我们小区门口的路灯已经坏了一个多月了，晚上非常黑，老人出门…"
    assert ticket.content == COMPLAINT
    created = await TicketEvent.get(ticket_id=ticket.id, action="create")
    assert created.actor_name == "微信公众号" and created.actor_role == "system"


async def test_compat_mode_trusts_only_the_encrypted_fields(wx: WeChat) -> None:
    fields = wx.peer.text(ALICE, COMPLAINT)
    params, body = wx.peer.safe(fields, compat=True)
    # Someone rewrites the unsigned plain copy on the way: the signed Encrypt wins.
    body = body.replace("路灯".encode(), "井盖".encode())
    r = await wx.post(params, body)
    assert r.status_code == 200
    wx.peer.read(r.text, encrypted=True)
    assert (await Ticket.get(complainant_openid=ALICE)).content == COMPLAINT


@pytest.mark.backends
async def test_wechat_retries_never_make_two_tickets(wx: WeChat) -> None:
    fields = wx.peer.text(ALICE, COMPLAINT)
    first = await wx.send(fields)
    again = await wx.send(fields, "compat")
    assert again.content == first.content
    # Three retries at once (our first answer was slow): still one ticket, one answer.
    replies = await asyncio.gather(*(wx.send(fields, "safe") for _ in range(3)))
    assert {r.content for r in replies} == {first.content}
    assert await _ticket_count() == 1
    assert await IdempotencyKey.filter(scope="wechat").count() == 1


async def test_report_is_confidential_and_kinds_follow_keywords(wx: WeChat) -> None:
    reply = await wx.send(wx.peer.text(ALICE, "我要举报某餐馆后厨使用过期食材，卫生条件很差。"))
    assert "保密" in reply.content
    report = await Ticket.get(complainant_openid=ALICE)
    assert report.kind == "举报" and report.confidential
    await wx.send(wx.peer.text(BOB, "请问孩子小学入学报名需要哪些材料？"))
    assert (await Ticket.get(complainant_openid=BOB)).kind == "咨询"


async def test_awkward_text_does_not_break_the_xml(wx: WeChat) -> None:
    text = "标题里有]]>和<b>&amp;还有表情😀🚧，" + "很长的描述" * 300
    reply = await wx.send(wx.peer.text(ALICE, text), "safe")
    assert "工单号" in reply.content
    ticket = await Ticket.get(complainant_openid=ALICE)
    assert ticket.content == text
    assert ticket.title.startswith("标题里有]]>和<b>&amp;还有表情😀🚧")
    # The title comes back inside our CDATA in the status list: intact.
    listed = await wx.send(wx.peer.text(ALICE, "查询"), "compat")
    assert "标题里有]]>和<b>&amp;还有表情😀🚧" in listed.content
    listed = await wx.send(wx.peer.text(ALICE, "查询"), "safe")
    assert "标题里有]]>和<b>&amp;还有表情😀🚧" in listed.content


# ---- commands ---------------------------------------------------------------------------


async def test_short_text_help_and_unknown_types_open_nothing(wx: WeChat) -> None:
    short = await wx.send(wx.peer.text(ALICE, "你好"))
    assert "太短" in short.content
    helped = await wx.send(wx.peer.text(ALICE, "帮助"))
    assert "查询" in helped.content and "位置" in helped.content
    voice = wx.peer._base(ALICE, "voice", MediaId="m1", Format="amr", MsgId=wx.peer.next_id())
    polite = await wx.send(voice)
    assert "抱歉" in polite.content
    assert await _ticket_count() == 0


async def test_subscribe_welcomes_and_unsubscribe_answers_success(wx: WeChat) -> None:
    welcome = await wx.send(wx.peer.event(ALICE, "subscribe"))
    assert "感谢关注" in welcome.content
    params, body = wx.peer.safe(wx.peer.event(ALICE, "unsubscribe"))
    r = await wx.post(params, body)
    assert r.status_code == 200 and r.text == "success"
    assert await _ticket_count() == 0


async def test_status_query_shows_only_the_senders_own_tickets(wx: WeChat) -> None:
    empty = await wx.send(wx.peer.text(ALICE, "查询"))
    assert "还没有" in empty.content
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    await wx.send(wx.peer.text(BOB, "单位拖欠工资三个月了，老板一直不发，请帮忙讨薪。"))
    alice = await Ticket.get(complainant_openid=ALICE)
    bob = await Ticket.get(complainant_openid=BOB)

    listed = await wx.send(wx.peer.text(ALICE, "查询"))
    assert alice.number in listed.content and bob.number not in listed.content
    assert "状态：" in listed.content

    own = await wx.send(wx.peer.text(ALICE, alice.number))
    assert f"工单号：{alice.number}" in own.content and "状态：" in own.content
    own_too = await wx.send(wx.peer.text(ALICE, f"查询 {alice.number}"))
    assert own_too.content == own.content

    theirs = await wx.send(wx.peer.text(ALICE, bob.number))
    missing = await wx.send(wx.peer.text(ALICE, "20990101-00001"))
    assert "未找到" in theirs.content
    assert theirs.content.replace(bob.number, "N") == missing.content.replace("20990101-00001", "N")
    assert bob.title not in theirs.content


async def test_status_replies_show_a_title_that_names_no_one(wx: WeChat) -> None:
    # The title is the message's first sentence, cut at 30 characters: here in the middle of
    # the mobile number (电话139731123…). The reporter gave no name field, only 我是….
    report = "我要举报住建局王五受贿，我是李建国，电话13973112345，他收了开发商的钱。"
    await wx.send(wx.peer.text(ALICE, report))
    ticket = await Ticket.get(complainant_openid=ALICE)
    assert ticket.title.endswith("…") and "李建国" in ticket.title  # the record is verbatim
    listed = await wx.send(wx.peer.text(ALICE, "查询"))
    detail = await wx.send(wx.peer.text(ALICE, ticket.number))
    shown = "我要举报住建局王五受贿，我是【来电人】，电话【手机号】…"
    assert f"{ticket.number} {shown}" in listed.content
    assert f"标题：{shown}" in detail.content
    for reply in (listed.content, detail.content):
        for leak in ("李建国", "139", "7311"):
            assert leak not in reply, leak


# ---- places and pictures ----------------------------------------------------------------


async def test_location_within_ten_minutes_completes_the_ticket(wx: WeChat) -> None:
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    reply = await wx.send(wx.peer.location(ALICE, 28.1941, 112.9765, "长沙市岳麓区含浦街道"))
    ticket = await Ticket.get(complainant_openid=ALICE)
    assert ticket.number in reply.content
    assert (ticket.latitude, ticket.longitude) == (28.1941, 112.9765)
    assert ticket.address == "长沙市岳麓区含浦街道"
    event = await TicketEvent.get(ticket_id=ticket.id, action="attach")
    assert event.public and event.actor_name == "微信公众号"
    assert "28.19" not in str(event.payload)  # the place stays in the ticket's columns
    # Staff find it by the place the citizen sent.
    operator = Principal(1, "op", "op", "operator", None, None)
    found = await ticket_search.search(principal=operator, text="含浦街道")
    assert found.hits.ids == [ticket.id]
    # A second place does not overwrite the first.
    again = await wx.send(wx.peer.location(ALICE, 30.0, 120.0, "别处"))
    assert "已有位置" in again.content
    ticket = await Ticket.get(id=ticket.id)
    assert ticket.latitude == 28.1941 and ticket.address == "长沙市岳麓区含浦街道"
    assert await TicketEvent.filter(ticket_id=ticket.id, action="attach").count() == 1


async def test_location_without_a_recent_ticket_attaches_nothing(wx: WeChat) -> None:
    alone = await wx.send(wx.peer.location(ALICE, 28.2, 112.9, "某地"))
    assert "请先用文字描述" in alone.content
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    ticket = await Ticket.get(complainant_openid=ALICE)
    await Ticket.filter(id=ticket.id).update(created_at=ticket.created_at - timedelta(minutes=11))
    late = await wx.send(wx.peer.location(ALICE, 28.2, 112.9, "某地"))
    assert "请先用文字描述" in late.content
    assert (await Ticket.get(id=ticket.id)).latitude is None
    # Bob's place never lands on Alice's ticket.
    await Ticket.filter(id=ticket.id).update(created_at=ticket.created_at)
    await wx.send(wx.peer.location(BOB, 28.2, 112.9, "某地"))
    assert (await Ticket.get(id=ticket.id)).latitude is None


async def test_location_event_attaches_silently(wx: WeChat) -> None:
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    event = wx.peer.event(ALICE, "LOCATION", Latitude="28.1", Longitude="112.9", Precision="65")
    assert await wx.send(event, "safe") is None
    ticket = await Ticket.get(complainant_openid=ALICE)
    assert (ticket.latitude, ticket.longitude) == (28.1, 112.9)


@pytest.mark.backends
async def test_images_attach_once_each_even_when_retried_or_concurrent(wx: WeChat) -> None:
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    first = wx.peer.image(ALICE)
    reply = await wx.send(first)
    assert "图片" in reply.content
    assert (await wx.send(first)).content == reply.content  # WeChat's retry
    # Three photos sent together arrive together.
    await asyncio.gather(*(wx.send(wx.peer.image(ALICE), "safe") for _ in range(3)))
    ticket = await Ticket.get(complainant_openid=ALICE)
    assert len(ticket.attachments) == 4
    entry = ticket.attachments[0]
    assert entry["content_type"] == "image/jpeg"
    assert entry["url"] == first["PicUrl"] and entry["media_id"] == first["MediaId"]
    assert await TicketEvent.filter(ticket_id=ticket.id, action="attach").count() == 4


async def test_image_without_a_recent_ticket_is_not_stored(wx: WeChat) -> None:
    reply = await wx.send(wx.peer.image(ALICE))
    assert "请先用文字描述" in reply.content
    assert await TicketEvent.filter(action="attach").count() == 0


async def test_attach_shows_on_the_public_tracking_page(wx: WeChat) -> None:
    await wx.send(wx.peer.text(ALICE, COMPLAINT))
    await wx.send(wx.peer.image(ALICE))
    ticket = await Ticket.get(complainant_openid=ALICE)
    r = await wx.client.get(f"/api/v1/track/{ticket.number}", params={"code": ticket.query_code})
    assert r.status_code == 200
    assert "补充材料" in [step["label"] for step in r.json()["steps"]]
    assert "mmbiz" not in r.text and ALICE not in r.text


async def test_automatic_position_never_lands_on_a_report(wx: WeChat) -> None:
    await wx.send(wx.peer.text(ALICE, "我要举报某餐馆后厨使用过期食材，卫生条件很差。"))
    event = wx.peer.event(ALICE, "LOCATION", Latitude="28.1", Longitude="112.9", Precision="65")
    assert await wx.send(event) is None
    report = await Ticket.get(complainant_openid=ALICE)
    assert report.latitude is None
    # A place the reporter chose to send is the matter's place: that one is kept.
    await wx.send(wx.peer.location(ALICE, 28.2, 112.9, "某餐馆"))
    assert (await Ticket.get(id=report.id)).latitude == 28.2


async def test_compat_mode_without_a_key_uses_the_plain_copy(
    db: Any, deployment: Deployment
) -> None:
    await sync_units(deployment.extras["units"])
    peer = Peer()
    async with _app(deployment, wechat_token=TOKEN) as client:
        fields = peer.text(ALICE, COMPLAINT)
        answers = []
        for _ in range(2):  # a retry, encrypted afresh: same message inside
            params, body = peer.safe(fields, compat=True)
            r = await client.post("/wechat", params=params, content=body)
            assert r.status_code == 200, r.text
            answers.append(peer.read(r.text).content)
    assert answers[0] == answers[1] and "工单号" in answers[0]
    assert await _ticket_count() == 1
