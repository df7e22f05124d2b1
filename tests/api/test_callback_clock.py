"""The centre's callback clock (回访时限) over the API: it starts when a reply reaches the
complainant (at once, or when review approves it), stops at the callback, and the
callback's note (回访备注) is kept on its event."""

from __future__ import annotations

from typing import Any

from hotline.runtime.deployment import Deployment
from tests.api.conftest import World
from tests.reviewing import reviewing


def deadline(ticket: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((d for d in ticket["deadlines"] if d["kind"] == kind), None)


async def replied(world: World, **overrides: Any) -> dict[str, Any]:
    t = await world.create(**overrides)
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t["number"], "sign", "zjj")
    return await world.act(
        t["number"], "reply", "zjj", {"result": "solved", "text": "电梯已修复，垃圾已清运。"}
    )


async def test_a_released_reply_starts_the_callback_clock_and_the_callback_meets_it(
    world: World,
) -> None:
    t = await replied(world)
    clock = deadline(t, "callback")
    assert clock is not None and clock["label"] == "回访时限" and clock["limit"] == "2wd"
    assert clock["met_at"] is None
    done = await world.act(
        t["number"],
        "callback",
        "op",
        {"contacted": True, "satisfaction": "满意", "note": "市民说下周还会再看一次电梯"},
    )
    assert deadline(done, "callback")["met_at"] is not None
    event = done["timeline"][-1]
    assert event["action"] == "callback"
    assert event["payload"]["note"] == "市民说下周还会再看一次电梯"


async def test_a_reviewed_reply_starts_the_callback_clock_only_when_approved(
    world: World, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        t = await replied(world)
        assert t["status"] == "reply_review"
        assert deadline(t, "callback") is None  # nothing reached the complainant yet
        released = await world.act(t["number"], "approve-reply", "op", {})
    assert released["status"] == "replied"
    assert deadline(released, "callback")["met_at"] is None


async def test_reopening_stops_the_callback_clock(world: World) -> None:
    t = await replied(world)
    await world.act(t["number"], "callback", "op", {"contacted": True, "satisfaction": "不满意"})
    again = await world.act(t["number"], "reopen", "op", {"reason": "市民反映电梯仍未修好"})
    assert all(d["kind"] != "callback" or d["met_at"] for d in again["deadlines"])
    # The next answer owes a new callback.
    await world.act(t["number"], "reply", "zjj", {"result": "solved", "text": "已更换电梯主板"})
    latest = await world.act(t["number"], "callback", "op", {"contacted": False})
    assert deadline(latest, "callback")["met_at"] is not None
