"""The switch's Generic CTI events (Zammad's push API), the call log and 接通率."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.channels.cti import parse_event
from hotline.domain.models import Call, Ticket, User
from hotline.services import calls as call_service
from tests.pages.conftest import Site, csrf_of

TOKEN = "cti-0123456789abcdef-token"
CALLER = "13907311846"


@pytest.fixture
def switch(site: Site) -> Site:
    site.app.state.settings = replace(site.app.state.settings, cti_token=TOKEN)
    return site


async def _push(c: httpx.AsyncClient, token: str = TOKEN, **fields: Any) -> httpx.Response:
    """As a PBX does: form-encoded, user[] repeated."""
    data = {"from": CALLER, "to": "12345", "direction": "in", **fields}
    return await c.post(f"/api/v1/cti/{token}", data=data)


async def test_the_endpoint_is_hidden_without_the_token(site: Site) -> None:
    async with site.client() as c:
        r = await _push(c, event="newCall", callId="c1")
        assert r.status_code == 404  # CTI_TOKEN unset
    site.app.state.settings = replace(site.app.state.settings, cti_token=TOKEN)
    async with site.client() as c:
        r = await _push(c, token="wrong-token-0123456789", event="newCall", callId="c1")
        assert r.status_code == 404
    assert await Call.all().count() == 0


async def test_a_call_rings_is_answered_and_hangs_up(switch: Site) -> None:
    async with switch.client() as c:
        r = await _push(c, event="newCall", callId="c1", queue="热线", **{"user[]": ["op 显示名"]})
        assert r.status_code == 200 and r.json() == {}
        assert (await Call.get(call_id="c1")).state == "ringing"
        # JSON works as well, answeringNumber names the operator by account
        r = await c.post(
            f"/api/v1/cti/{TOKEN}",
            json={"event": "answer", "from": CALLER, "to": "12345", "direction": "in",
                  "callId": "c1", "answeringNumber": "op"},
        )  # fmt: skip
        assert r.status_code == 200
        await _push(c, event="answer", callId="c1", answeringNumber="sup")  # repeated: kept
        await _push(c, event="hangup", callId="c1", cause="normalClearing")
    call = await Call.get(call_id="c1")
    assert call.state == "ended" and call.cause == "normalClearing" and call.queue == "热线"
    assert call.answered_at is not None and call.ended_at is not None
    op = await User.get(username="op")
    assert call.answered_by_id == op.id  # the first answer's operator, not the repeat's


async def test_unanswered_calls_are_missed_and_returned_from_the_log(switch: Site) -> None:
    async with switch.client() as c:
        await _push(c, event="newCall", callId="m1")
        await _push(c, event="hangup", callId="m1", cause="cancel")
        await _push(c, event="hangup", callId="m2", cause="noAnswer", **{"from": "anonymous"})
        r = await _push(c, event="ring", callId="x")
        assert r.status_code == 422 and "event 必须是" in r.json()["error"]["message"]
    assert {c.call_id: c.state for c in await Call.all()} == {"m1": "missed", "m2": "missed"}
    op = await switch.login("op")
    page = (await op.get("/calls?missed=1")).text
    assert "来电人挂断" in page and "匿名，无法回拨" in page and f'href="tel:{CALLER}"' in page
    call = await Call.get(call_id="m1")
    r = await op.post(f"/calls/{call.id}/callback", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    after = (await op.get(r.headers["location"])).text
    assert "已记录回拨" in after and "已回拨（op 显示名" in after
    zjj = await switch.login("zjj")
    assert (await zjj.get("/calls")).status_code == 403


async def test_calls_api_and_answer_rate(switch: Site) -> None:
    day = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
    for n, answered in enumerate([True, True, True, False]):
        start = day + timedelta(minutes=10 * n)
        await call_service.record_event(
            parse_event({"event": "newCall", "callId": f"s{n}", "from": CALLER, "queue": "热线"}),
            now=start,
        )
        if answered:
            event = {"event": "answer", "callId": f"s{n}", "answeringNumber": "op"}
            await call_service.record_event(parse_event(event), now=start + timedelta(seconds=20))
        await call_service.record_event(
            parse_event({"event": "hangup", "callId": f"s{n}", "cause": "normalClearing"}),
            now=start + timedelta(minutes=3),
        )
    async with switch.client() as c:
        r = await c.get(
            "/api/v1/stats/calls", params={"from": "2026-12-01", "to": "2026-12-01"},
            headers=switch.bearer("op"),
        )  # fmt: skip
        assert r.status_code == 200, r.text
        stats = r.json()
        assert (stats["offered"], stats["answered"], stats["missed"]) == (4, 3, 1)
        assert stats["answer_rate"] == 0.75 and stats["avg_wait_s"] == 20.0
        nine = stats["by_hour"][9]
        assert len(stats["by_hour"]) == 24 and (nine["offered"], nine["answered"]) == (4, 3)
        assert stats["by_queue"][0]["queue"] == "热线"
        log = await c.get(
            "/api/v1/calls", params={"from": "2026-12-01", "to": "2026-12-01"},
            headers=switch.bearer("op"),
        )  # fmt: skip
        items = log.json()["items"]
        assert [i["call_id"] for i in items] == ["s3", "s2", "s1", "s0"]
        assert items[1]["answered_by"] == "op 显示名" and items[1]["wait_s"] == 20.0
        assert items[0]["state_label"] == "未接"
        denied = await c.get(
            "/api/v1/calls", params={"from": "2026-12-01", "to": "2026-12-01"},
            headers=switch.bearer("zjj"),
        )  # fmt: skip
        assert denied.status_code == 403
    sup = await switch.login("sup")
    board = (await sup.get("/supervisor?from=2026-12-01&to=2026-12-01&preset=custom")).text
    assert 'id="kpi-calls"' in board and "75.0%" in board


async def test_a_ticket_keeps_its_call_and_the_call_pops_no_more(switch: Site) -> None:
    async with switch.client() as c:
        await _push(c, event="newCall", callId="t1")
        await _push(c, event="answer", callId="t1", answeringNumber="op")
    op_user = (await Call.get(call_id="t1")).answered_by_id
    assert op_user is not None
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert [c.call_id for c in await call_service.answered_since(op_user, since)] == ["t1"]
    op = await switch.login("op")
    token = csrf_of((await op.get("/operator")).text)
    r = await op.post(
        "/operator/tickets",
        data={"csrf_token": token, "call_id": "t1", "phone": CALLER, "kind": "投诉",
              "urgency": "一般", "channel": "phone", "title": "小区夜间施工噪音扰民",
              "content": "小区旁工地每天夜里施工到凌晨，噪音很大。"},
    )  # fmt: skip
    assert r.status_code == 303
    ticket = await Ticket.get(call_id="t1")
    assert ticket.complainant_phone == CALLER
    assert await call_service.answered_since(op_user, since) == []
    api = await op.get(f"/api/v1/tickets/{ticket.number}")
    assert api.json()["call_id"] == "t1"
