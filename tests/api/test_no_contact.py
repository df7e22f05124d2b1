"""A confidential reporter who asked not to be contacted is not called back by staff."""

from __future__ import annotations

from typing import Any

from hotline.domain.models import Ticket, TicketEvent
from hotline.domain.schemas import ComplainantOut
from tests.api.conftest import World

REPORT = {
    "kind": "举报",
    "title": "举报工地夜间违规施工",
    "content": "某工地每晚十一点后仍在浇筑混凝土，噪音很大，请查处。",
    "complainant": {"name": "李四", "phone": "13912345678", "no_contact": True},
}


async def _replied(world: World, **overrides: Any) -> dict[str, Any]:
    t = await world.create(**{**REPORT, **overrides})
    await world.confirm(t["number"])
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t["number"], "sign", "zjj")
    await world.act(t["number"], "reply", "zjj", {"result": "solved", "text": "已责令停工整改。"})
    return t


def test_the_complainant_schema_carries_the_wish() -> None:
    assert "no_contact" in ComplainantOut.model_fields


async def test_every_viewer_learns_of_the_wish_and_units_still_see_no_identity(
    world: World,
) -> None:
    t = await _replied(world)
    assert t["complainant"]["no_contact"] is True
    op = await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["op"])
    assert op.json()["complainant"]["no_contact"] is True
    assert op.json()["complainant"]["phone"] == "13912345678"  # the record is kept
    unit = (
        await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["zjj"])
    ).json()
    assert unit["complainant"]["no_contact"] is True
    assert unit["complainant"]["name"] == unit["complainant"]["phone"] == "（保密）"
    assert "李四" not in str(unit) and "13912345678" not in str(unit)
    plain = await world.create()
    assert plain["complainant"]["no_contact"] is False


async def test_a_staff_callback_may_not_record_a_contact(world: World) -> None:
    t = await _replied(world)
    for who in ("op", "sup"):
        refused = await world.act(
            t["number"], "callback", who, {"contacted": True, "satisfaction": "满意"}, expect=422
        )
        assert refused["error"]["code"] == "no_contact"
        assert "要求不被联系" in refused["error"]["message"]
        assert "记为未联系" in refused["error"]["message"]
    assert (await Ticket.get(number=t["number"])).status == "replied"
    done = await world.act(t["number"], "callback", "op", {"contacted": False})
    assert done["status"] == "called_back"
    event = await TicketEvent.get(action="callback")
    assert event.payload["contacted"] is False


async def test_the_wish_binds_only_a_confidential_ticket(world: World) -> None:
    """As for texts: the flag on a ticket that is not confidential is not a wish to honour."""
    t = await _replied(world, kind="投诉")
    assert t["complainant"]["no_contact"] is False
    await world.act(t["number"], "callback", "op", {"contacted": True, "satisfaction": "满意"})


async def test_the_citizen_may_still_rate_online(world: World) -> None:
    """Rating on the tracking page is the reporter's own choice, not a contact by staff."""
    t = await _replied(world)
    r = await world.client.post(
        f"/api/v1/track/{t['number']}/rating",
        json={"code": t["query_code"], "satisfaction": "满意", "solved": True},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "called_back"
    event = await TicketEvent.get(action="callback")
    assert (event.actor_role, event.payload["contacted"]) == ("citizen", True)
