"""The router over HTTP: proposals with confidence, auto-dispatch, the review queue, figures."""

from __future__ import annotations

from tests.api.conftest import World


async def test_confident_ticket_is_routed_and_dispatched_at_once(world: World) -> None:
    t = await world.create(
        category=None,
        auto_dispatch=True,
        kind="求助",
        title="公司拖欠工资三个月未发",
        content="我在一家装修公司打工，老板拖欠工资三个月一直不发，请劳动监察部门帮忙讨薪。",
    )
    routing = t["routing"]
    assert routing["lead_unit"]["code"] == "RSJ"
    assert routing["category"] == "劳动和社会保障" and routing["confidence"] >= 0.6
    assert routing["needs_review"] is False and "拖欠工资" in routing["rule"]
    assert t["status"] == "dispatched" and t["lead_unit"]["code"] == "RSJ"
    detail = (
        await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["rsj"])
    ).json()
    dispatch = detail["timeline"][1]
    assert (dispatch["action"], dispatch["actor_role"]) == ("dispatch", "system")
    assert {c["kind"] for c in detail["deadlines"]} == {"receipt", "feedback"}


async def test_unclear_ticket_goes_to_the_review_queue(world: World) -> None:
    t = await world.create(
        category=None,
        auto_dispatch=True,
        kind="咨询",
        title="想反映一个情况",
        content="你好，我想反映一个情况，麻烦请相关部门回电联系我。",
    )
    assert t["routing"]["needs_review"] is True and t["needs_review"] is True
    assert t["status"] == "received" and t["lead_unit"] is None
    queue = (
        await world.client.get(
            "/api/v1/tickets",
            params={"needs_review": "true", "status": "received"},
            headers=world.headers["op"],
        )
    ).json()
    assert [i["number"] for i in queue["items"]] == [t["number"]]
    # The operator decides; the ticket leaves the queue.
    await world.act(
        t["number"], "dispatch", "op", {"lead_unit": "RSJ", "category": "劳动和社会保障"}
    )
    queue = (
        await world.client.get(
            "/api/v1/tickets",
            params={"needs_review": "true", "status": "received"},
            headers=world.headers["op"],
        )
    ).json()
    assert queue["total"] == 0


async def test_place_decides_the_local_unit(world: World) -> None:
    t = await world.create(
        category=None,
        auto_dispatch=False,
        title="含浦街道工地夜间施工噪音扰民",
        content="A3区含浦街道某小区旁边的工地每天夜里施工到凌晨，噪音扰民，请处理。",
        location={"address": "A3区含浦街道"},
    )
    assert t["routing"]["lead_unit"]["code"] == "HANPU"
    assert t["routing"]["place"]


async def test_routing_figures_come_from_the_event_log(world: World) -> None:
    a = await world.create()
    b = await world.create()
    await world.act(a["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(b["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(b["number"], "reject", "zjj", {"reason": "不属于本单位职责"})
    await world.act(b["number"], "redispatch", "op", {"lead_unit": "RSJ"})
    r = await world.client.get("/api/v1/stats/routing", headers=world.headers["sup"])
    assert r.status_code == 200
    figures = r.json()
    assert figures["overall"]["dispatched"] == 3 and figures["overall"]["disputed"] == 1
    zjj = next(u for u in figures["units"] if u["code"] == "ZJJ")
    assert zjj["dispute_rate"] == 0.5 and zjj["redispatch_rate"] == 0.5
    assert (
        await world.client.get("/api/v1/stats/routing", headers=world.headers["zjj"])
    ).status_code == 403
