"""Who sees which ticket: units only their own (lead or assisting), the centre everything."""

from __future__ import annotations

from typing import Any

from hotline.domain.lifecycle import ACTION_BODIES
from tests.api.conftest import World
from tests.bodies import VALID_BODIES

MISSING = "20990101-00001"
# Bodies each action would accept (tests/bodies.py), so a 404 cannot be a validation error.


async def _get(world: World, number: str, who: str) -> Any:
    return await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers[who])


async def _post(world: World, number: str, action: str, who: str, body: Any) -> Any:
    return await world.client.post(
        f"/api/v1/tickets/{number}/{action}", json=body, headers=world.headers[who]
    )


async def _listed(world: World, who: str, **params: Any) -> list[str]:
    r = await world.client.get(
        "/api/v1/tickets", params={"per_page": 100, **params}, headers=world.headers[who]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    numbers = [i["number"] for i in body["items"]]
    assert body["total"] == len(numbers)
    return numbers


async def _state(world: World, number: str) -> tuple[str, int, int]:
    r = await _get(world, number, "sup")
    return r.json()["status"], r.json()["version"], len(r.json()["timeline"])


async def assert_invisible(world: World, number: str, who: str) -> None:
    """`who` gets exactly the answer a missing ticket gets, for reading and for every action."""
    missing = await _get(world, MISSING, who)
    theirs = await _get(world, number, who)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert number not in theirs.text
    for action in ACTION_BODIES:
        for body in (VALID_BODIES[action], {}, {"bogus": 1}):
            r = await _post(world, number, action, who, body)
            m = await _post(world, MISSING, action, who, body)
            assert r.status_code == 404, f"{action} {body}: {r.status_code} {r.text}"
            assert r.json() == m.json(), action
    assert number not in await _listed(world, who)
    assert number not in await _listed(world, who, q=number)


async def test_other_units_ticket_is_invisible_and_untouchable(world: World) -> None:
    assert set(VALID_BODIES) == set(ACTION_BODIES)
    theirs = await world.create()
    ours = await world.create()
    await world.act(theirs["number"], "dispatch", "op", {"lead_unit": "RSJ"})
    await world.act(ours["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    before = await _state(world, theirs["number"])

    await assert_invisible(world, theirs["number"], "zjj")
    assert await _state(world, theirs["number"]) == before  # no probe changed anything

    # zjj's own list holds its own ticket only, and filtering by the other unit is empty.
    assert await _listed(world, "zjj") == [ours["number"]]
    assert await _listed(world, "zjj", unit="RSJ") == []
    assert await _listed(world, "zjj", status="dispatched") == [ours["number"]]
    assert await _listed(world, "rsj") == [theirs["number"]]
    assert await _listed(world, "rsj", unit="RSJ") == [theirs["number"]]
    # RSJ itself can read and act on it.
    assert (await _get(world, theirs["number"], "rsj")).status_code == 200
    signed = await world.act(theirs["number"], "sign", "rsj")
    assert signed["status"] == "handling"


async def test_undispatched_tickets_are_invisible_to_units(world: World) -> None:
    t = await world.create()
    for unit in ("zjj", "rsj", "jyj"):
        assert (await _get(world, t["number"], unit)).status_code == 404
        assert await _listed(world, unit) == []


async def test_assisting_unit_reads_but_cannot_act(world: World) -> None:
    t = await world.create()
    number = t["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "RSJ", "assisting_units": ["JYJ"]})
    view = await _get(world, number, "jyj")
    assert view.status_code == 200 and view.json()["number"] == number
    assert number in await _listed(world, "jyj")
    before = await _state(world, number)
    for action in ("sign", "reject"):
        err = await world.act(number, action, "jyj", VALID_BODIES[action], expect=403)
        assert err["error"]["code"] == "not_lead_unit"
    assert await _state(world, number) == before

    await world.act(number, "sign", "rsj")
    before = await _state(world, number)
    for action in ("request-extension", "pause", "mediate", "reply"):
        err = await world.act(number, action, "jyj", VALID_BODIES[action], expect=403)
        assert err["error"]["code"] == "not_lead_unit"
    # Centre-only actions are refused by role, as for any unit.
    err = await world.act(number, "urge", "jyj", VALID_BODIES["urge"], expect=403)
    assert err["error"]["code"] == "forbidden_role"
    assert await _state(world, number) == before
    # The unit not involved at all still gets 404.
    await assert_invisible(world, number, "zjj")


async def test_reject_and_redispatch_take_the_ticket_away_from_the_old_units(world: World) -> None:
    t = await world.create()
    number = t["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "RSJ", "assisting_units": ["JYJ"]})
    rejected = await world.act(number, "reject", "rsj", VALID_BODIES["reject"])
    # Until the centre re-dispatches, the disputing unit still sees where its dispute stands.
    assert rejected["status"] == "disputed"
    assert (await _get(world, number, "rsj")).status_code == 200
    moved = await world.act(number, "redispatch", "op", {"lead_unit": "ZJJ"})
    assert moved["status"] == "dispatched"

    await assert_invisible(world, number, "rsj")
    await assert_invisible(world, number, "jyj")
    assert await _listed(world, "rsj", unit="ZJJ") == []
    assert (await _get(world, number, "zjj")).status_code == 200
    assert (await world.act(number, "sign", "zjj"))["status"] == "handling"


async def test_redispatch_before_signing_also_moves_access(world: World) -> None:
    t = await world.create()
    number = t["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "RSJ"})
    await world.act(number, "redispatch", "op", {"lead_unit": "ZJJ"})
    await assert_invisible(world, number, "rsj")
    await world.act(number, "sign", "zjj")


async def test_centre_sees_every_ticket(world: World) -> None:
    a = await world.create()
    b = await world.create()
    c = await world.create()
    await world.act(a["number"], "dispatch", "op", {"lead_unit": "RSJ"})
    await world.act(b["number"], "dispatch", "op", {"lead_unit": "ZJJ", "assisting_units": ["JYJ"]})
    everything = sorted(t["number"] for t in (a, b, c))
    for who in ("op", "sup"):
        assert sorted(await _listed(world, who)) == everything
        assert await _listed(world, who, unit="RSJ") == [a["number"]]
        for t in (a, b, c):
            assert (await _get(world, t["number"], who)).status_code == 200


async def test_tracking_with_a_wrong_code_is_the_same_as_no_ticket(world: World) -> None:
    a = await world.create()
    b = await world.create()
    c = world.client

    async def track(number: str, code: str | None) -> Any:
        params = {} if code is None else {"code": code}
        return await c.get(f"/api/v1/track/{number}", params=params)

    missing = await track(MISSING, a["query_code"])
    assert missing.status_code == 404
    wrong = [
        await track(a["number"], "ZZZZZZ"),
        await track(a["number"], b["query_code"]),  # another ticket's code
        await track(a["number"], a["query_code"][:5]),
        await track(a["number"], ""),
        await track(a["number"], None),
    ]
    for r in wrong:
        assert r.status_code == 404 and r.json() == missing.json()
        assert a["title"] not in r.text
    ok = await track(a["number"], f" {a['query_code'].lower()} ")  # read out over the phone
    assert ok.status_code == 200 and ok.json()["number"] == a["number"]
