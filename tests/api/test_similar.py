"""Similar tickets (重复件): candidates with a score and a Chinese reason, by each role's view,
and the 疑似重复 hold of a new ticket that repeats an open one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import World

pytestmark = pytest.mark.backends

OUTAGE = {
    "title": "板桥小区停水",
    "content": "A7县星沙镇板桥小区从昨天晚上开始停水，到现在还没有来水，"
    "也没有任何通知，老人小孩生活很不方便。",
    "location": {"address": "A7县星沙镇板桥小区"},
}
AGAIN = "板桥小区又停水了，昨晚到现在一直没水，没有通知，生活不方便，请尽快恢复供水。"


async def _similar(world: World, who: str, **body: Any) -> list[dict[str, Any]]:
    r = await world.client.post("/api/v1/similar", json=body, headers=world.headers[who])
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_call_about_the_same_outage_finds_the_open_ticket(world: World) -> None:
    first = await world.create(**OUTAGE, complainant={"name": "王女士", "phone": "13900001111"})
    await world.create(title="路灯不亮", content="人民路路灯坏了一个月，晚上出行不便。")
    items = await _similar(world, "op", text=AGAIN, phone="13700002222")
    assert [i["number"] for i in items] == [first["number"]]
    assert items[0]["score"] >= 0.6
    assert items[0]["reason"].startswith("同一小区（板桥小区）")
    assert "内容相似度" in items[0]["reason"]
    assert items[0]["status_label"] == "已受理"


async def test_the_same_caller_is_said_first(world: World) -> None:
    first = await world.create(**OUTAGE, complainant={"name": "王女士", "phone": "13900001111"})
    items = await _similar(
        world, "op", text="还是没有来水，问一下什么时候恢复", phone="13900001111"
    )
    assert items[0]["number"] == first["number"]
    assert items[0]["reason"].startswith("同一来电号码")


async def test_a_ticket_lists_its_repeats_not_itself(world: World) -> None:
    first = await world.create(**OUTAGE)
    second = await world.create(title="板桥小区停水两天", content=AGAIN)
    r = await world.client.get(
        f"/api/v1/tickets/{second['number']}/similar", headers=world.headers["op"]
    )
    assert r.status_code == 200, r.text
    assert [i["number"] for i in r.json()["items"]] == [first["number"]]


async def test_a_unit_sees_only_its_tickets_and_never_the_reporters_phone(world: World) -> None:
    phone = {"name": "李先生", "phone": "13900003333"}
    mine = await world.create(**OUTAGE, complainant=phone)
    theirs = await world.create(title="板桥小区停水", content=AGAIN, complainant=phone)
    await world.act(mine["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(theirs["number"], "dispatch", "op", {"lead_unit": "RSJ"})
    other_of_mine = await world.create(title="板桥小区停水", content=AGAIN, complainant=phone)
    await world.act(other_of_mine["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    r = await world.client.get(
        f"/api/v1/tickets/{mine['number']}/similar", headers=world.headers["zjj"]
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["number"] for i in items] == [other_of_mine["number"]]
    assert "来电号码" not in items[0]["reason"]
    # A unit does not search what a call says: that is the centre's console.
    r = await world.client.post(
        "/api/v1/similar", json={"text": AGAIN}, headers=world.headers["zjj"]
    )
    assert r.status_code == 403
    # Nor a ticket it does not hold.
    r = await world.client.get(
        f"/api/v1/tickets/{theirs['number']}/similar", headers=world.headers["zjj"]
    )
    assert r.status_code == 404


async def test_closed_and_merged_tickets_are_not_candidates(world: World) -> None:
    first = await world.create(**OUTAGE)
    second = await world.create(title="板桥小区停水", content=AGAIN)
    await world.act(second["number"], "merge", "op", {"into": first["number"]})
    items = await _similar(world, "op", text=AGAIN)
    assert [i["number"] for i in items] == [first["number"]]


async def test_a_too_short_text_is_refused_in_chinese(world: World) -> None:
    r = await world.client.post("/api/v1/similar", json={"text": ""}, headers=world.headers["op"])
    assert r.status_code == 422


async def test_the_endpoints_are_in_the_openapi_document(world: World) -> None:
    paths = (await world.client.get("/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/tickets/{number}/similar"]) == {"get"}
    body = paths["/api/v1/similar"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]  # the SimilarQuery model, so schemathesis fuzzes it


async def test_a_held_repeat_dispatched_by_hand_leaves_the_repeat_queue(world: World) -> None:
    """Dispatching a held ticket (the API's only way to let it go) ends its hold."""
    from hotline.domain.models import SimilarHold, Ticket
    from hotline.domain.timefmt import utcnow
    from hotline.services import repeat_holds

    await world.create(**OUTAGE)
    second = await world.create(title="板桥小区停水", content=AGAIN)
    held = await Ticket.get(number=second["number"])
    assert await SimilarHold.exists(ticket_id=held.id, released_at=None)
    assert await repeat_holds.held_ids(now=utcnow()) == [held.id]
    await world.act(second["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    assert await repeat_holds.held_ids(now=utcnow()) == []
    assert (await repeat_holds.held_tickets(now=utcnow()))[1] == 0
