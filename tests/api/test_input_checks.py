"""Bad details in a new ticket are refused with a reason; a merged repeat tracks its main ticket."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.domain.models import Ticket
from tests.api.conftest import World

BASE = {"kind": "投诉", "title": "路灯不亮", "content": "小区门口路灯坏了三周无人修理。"}


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"location": {"longitude": True}}, "longitude"),
        ({"complainant": {"email": "not-an-address"}}, "email"),
        ({"attachments": [{"name": "a.jpg", "url": "javascript:alert(1)"}]}, "url"),
        ({"attachments": [{"name": "a.jpg", "size": 10**30}]}, "size"),
    ],
)
async def test_bad_details_are_refused_and_nothing_is_stored(
    world: World, extra: dict[str, Any], field: str
) -> None:
    r = await world.client.post(
        "/api/v1/tickets", json={**BASE, **extra}, headers=world.headers["op"]
    )
    assert r.status_code == 422, r.text
    assert field in r.text
    assert await Ticket.all().count() == 0


async def test_good_details_are_kept(world: World) -> None:
    extra = {
        "location": {"latitude": 28, "longitude": 112.9},
        "complainant": {"email": "zhang@example.cn"},
        "attachments": [
            {"name": "现场.jpg", "url": "https://files.example.cn/1.jpg", "size": 2048}
        ],
    }
    t = await world.create(**{**BASE, **extra})
    assert t["location"]["latitude"] == 28.0 and t["attachments"][0]["size"] == 2048


async def test_a_merged_repeat_shows_the_main_ticket_and_its_reply(world: World) -> None:
    main = await world.create()
    repeat = await world.create()
    await world.act(repeat["number"], "merge", "op", {"into": main["number"]})
    await world.act(main["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(main["number"], "sign", "zjj")
    reply = "已督促物业公司修复电梯并清运垃圾。"
    await world.act(main["number"], "reply", "zjj", {"result": "solved", "text": reply})
    r = await world.client.get(
        f"/api/v1/track/{repeat['number']}", params={"code": repeat["query_code"]}
    )
    body = r.json()
    assert body["status_label"] == "已并单" and body["merged_into"] == main["number"]
    assert body["merged_into_status_label"] == "已回复待回访"
    assert [x["text"] for x in body["replies"]] == [reply]
