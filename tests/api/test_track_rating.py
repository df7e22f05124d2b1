"""POST /api/v1/track/{number}/rating: the complainant's rating as JSON (WeChat H5, apps)."""

from __future__ import annotations

from typing import Any

import httpx

from hotline.domain.models import Ticket, TicketEvent
from hotline.services.ratelimit import TrackLimiter
from tests.api.conftest import World
from tests.api.test_track_limits import from_address


async def _replied(world: World) -> dict[str, Any]:
    t = await world.create()
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t["number"], "sign", "zjj")
    await world.act(t["number"], "reply", "zjj", {"result": "partly", "text": "已部分整改。"})
    return t


def _wrong(code: str) -> str:
    return "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"


async def _rate(client: httpx.AsyncClient, number: str, code: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", None)
    body = {"code": code, "satisfaction": "不满意", "solved": False, **extra}
    return await client.post(f"/api/v1/track/{number}/rating", json=body, headers=headers)


async def test_rating_answers_the_updated_tracking_view(world: World) -> None:
    t = await _replied(world)
    before = await world.client.get(
        f"/api/v1/track/{t['number']}", params={"code": t["query_code"]}
    )
    assert before.json()["can_rate"] is True and before.json()["status"] == "replied"
    r = await _rate(world.client, t["number"], t["query_code"].lower(), comment="还没修好")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["status_label"], body["can_rate"]) == (
        "called_back",
        "已回访待办结",
        False,
    )
    assert [s["label"] for s in body["steps"]][-1] == "回访"
    assert "complainant" not in body and "张先生" not in r.text
    event = await TicketEvent.get(action="callback")
    assert event.payload == {
        "contacted": True,
        "satisfaction": "不满意",
        "solved": False,
        "note": "还没修好",
    }
    # Staff see who rated, like any callback.
    staff = await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["op"])
    callback = staff.json()["timeline"][-1]
    assert (callback["action"], callback["actor_role"]) == ("callback", "citizen")
    assert callback["actor"] == "市民自评（网上）"


async def test_refusals_say_why_in_chinese_and_change_nothing(world: World) -> None:
    t = await world.create()
    early = await _rate(world.client, t["number"], t["query_code"])
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_replied"
    assert "答复后才能评价" in early.json()["error"]["message"]
    t = await _replied(world)
    assert (await _rate(world.client, t["number"], t["query_code"])).status_code == 200
    again = await _rate(world.client, t["number"], t["query_code"], satisfaction="满意")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rated"
    assert "不能重复评价" in again.json()["error"]["message"]
    assert (await Ticket.get(number=t["number"])).satisfaction == "不满意"
    # An operator's callback by phone first: the citizen is told it is done.
    t2 = await _replied(world)
    await world.act(t2["number"], "callback", "op", {"contacted": False})
    late = await _rate(world.client, t2["number"], t2["query_code"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "already_rated"


async def test_a_wrong_code_is_the_same_404_as_no_ticket(world: World) -> None:
    t = await _replied(world)
    wrong = await _rate(world.client, t["number"], _wrong(t["query_code"]))
    missing = await _rate(world.client, "20000101-00001", "ABCDEF")
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()
    assert (await Ticket.get(number=t["number"])).status == "replied"


async def test_bad_bodies_and_other_origins_are_refused(world: World) -> None:
    t = await _replied(world)
    r = await _rate(world.client, t["number"], t["query_code"], satisfaction="还行")
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "satisfaction"
    r = await _rate(world.client, t["number"], t["query_code"], comment="很" * 501)
    assert r.status_code == 422 and "最多 500" in r.json()["error"]["message"]
    r = await _rate(
        world.client, t["number"], t["query_code"], headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"
    assert (await Ticket.get(number=t["number"])).status == "replied"
    ok = await _rate(world.client, t["number"], t["query_code"], headers={"Origin": "http://test"})
    assert ok.status_code == 200


async def test_wrong_codes_count_against_the_tracking_limits(world: World) -> None:
    now = [1_800_000_000.0]
    app = world.client._transport.app  # type: ignore[attr-defined]
    app.state.track_limiter = TrackLimiter(clock=lambda: now[0])
    t = await _replied(world)
    async with from_address(app, "198.51.100.20") as c:
        for _ in range(10):
            assert (await _rate(c, t["number"], _wrong(t["query_code"]))).status_code == 404
        refused = await _rate(c, t["number"], t["query_code"])
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        assert refused.json()["error"]["message"] == "查询码错误次数过多，请 60 秒后再试"
        assert (await Ticket.get(number=t["number"])).status == "replied"
