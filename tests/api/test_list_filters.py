"""List filters that used to be ignored silently: ?phone= and an unknown ?status=."""

from __future__ import annotations

from tests.api.conftest import World


async def _numbers(world: World, who: str, **params: str) -> list[str]:
    r = await world.client.get("/api/v1/tickets", params=params, headers=world.headers[who])
    assert r.status_code == 200, r.text
    return [t["number"] for t in r.json()["items"]]


async def test_supervisors_and_operators_filter_by_phone(world: World) -> None:
    mine = await world.create(complainant={"name": "李女士", "phone": "13900001111"})
    await world.create(complainant={"name": "王先生", "phone": "13900002222"})
    for who in ("op", "sup"):
        assert await _numbers(world, who, phone="13900001111") == [mine["number"]]


async def test_units_may_not_look_people_up_by_phone(world: World) -> None:
    t = await world.create(complainant={"name": "李女士", "phone": "13900001111"})
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    r = await world.client.get(
        "/api/v1/tickets", params={"phone": "13900001111"}, headers=world.headers["zjj"]
    )
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "承办单位不能按来电号码查询工单"


async def test_an_unknown_status_is_refused_naming_the_valid_ones(world: World) -> None:
    await world.create()
    r = await world.client.get(
        "/api/v1/tickets", params={"status": "received,bogus"}, headers=world.headers["op"]
    )
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert "「bogus」无效" in message and "received" in message and "called_back" in message
    assert len(await _numbers(world, "op", status="received,closed")) == 1


async def test_tickets_filter_by_the_channel_they_came_in_on(world: World) -> None:
    call = await world.create(channel="phone")
    form = await world.create(channel="web")
    assert await _numbers(world, "op", channel="web") == [form["number"]]
    assert await _numbers(world, "sup", channel="phone") == [call["number"]]
    r = await world.client.get(
        "/api/v1/tickets", params={"channel": "fax"}, headers=world.headers["op"]
    )
    assert r.status_code == 422
