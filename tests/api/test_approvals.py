"""The centre governs a unit's requests over the API: 挂起 needs approval, 退单 can be
refused, 督办 may set its own deadline, and a reviewed kind's answer waits for the centre."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.models import TicketClock, TicketEvent
from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.runtime.deployment import Deployment
from tests.api.conftest import World
from tests.reviewing import reviewing


def deadline(ticket: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The ticket's current clock of `kind` as the API shows it."""
    return next((d for d in ticket["deadlines"] if d["kind"] == kind), None)


async def signed(world: World, **overrides: Any) -> str:
    t = await world.create(**overrides)
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t["number"], "sign", "zjj")
    return str(t["number"])


async def get(world: World, number: str, who: str = "op") -> dict[str, Any]:
    r = await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers[who])
    assert r.status_code == 200, r.text
    return dict(r.json())


# ---- 挂起 needs the centre's approval ------------------------------------------------


async def test_a_pause_is_a_request_the_clock_runs_until_the_centre_approves(
    world: World,
) -> None:
    number = await signed(world)
    before = await get(world, number)
    asked = await world.act(number, "pause", "zjj", {"reason": "等待市民提供照片"})
    assert asked["status"] == "pause_requested" and asked["status_label"] == "挂起审核中"
    # The unit's feedback clock keeps running; the centre's decision clock starts.
    assert deadline(asked, "feedback")["state"] != "paused"
    assert deadline(asked, "feedback")["due_at"] == deadline(before, "feedback")["due_at"]
    assert deadline(asked, "decision")["label"] == "审批时限"
    # The unit cannot decide its own request.
    await world.act(number, "approve-pause", "zjj", expect=403)

    approved = await world.act(number, "approve-pause", "op", {})
    assert approved["status"] == "paused"
    assert deadline(approved, "feedback")["state"] == "paused"
    assert deadline(approved, "decision")["met_at"] is not None


async def test_a_denied_pause_goes_back_to_handling_with_the_reason(world: World) -> None:
    number = await signed(world)
    await world.act(number, "pause", "zjj", {"reason": "等待市民提供照片"})
    err = await world.act(number, "deny-pause", "op", {}, expect=422)
    assert "reason" in err["error"]["message"]
    denied = await world.act(number, "deny-pause", "op", {"reason": "可先电话联系市民补充照片"})
    assert denied["status"] == "handling"
    assert deadline(denied, "feedback")["state"] != "paused"
    timeline = (await get(world, number, "zjj"))["timeline"]
    assert timeline[-1]["action"] == "deny-pause"
    assert timeline[-1]["payload"]["reason"] == "可先电话联系市民补充照片"


async def test_a_policy_without_pause_refuses_the_request_at_once(world: World) -> None:
    number = await signed(
        world, urgency="紧急", title="燃气泄漏", content="楼道燃气味很浓请马上处理"
    )
    err = await world.act(number, "pause", "zjj", {"reason": "等待燃气公司"}, expect=422)
    assert "不允许挂起" in err["error"]["message"]
    assert (await get(world, number))["status"] == "handling"


# ---- 驳回退单 -------------------------------------------------------------------------


@pytest.mark.backends  # the queue and restored clocks, on both databases
async def test_a_rejected_dispute_goes_back_to_the_unit_on_its_first_receipt_clock(
    world: World,
) -> None:
    t = await world.create()
    number = t["number"]
    dispatched = await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    receipt = deadline(dispatched, "receipt")
    await world.act(number, "reject", "zjj", {"reason": "不属于本单位职责"})
    await world.act(number, "reject-dispute", "zjj", {"reason": "属于本单位"}, expect=403)
    back = await world.act(
        number, "reject-dispute", "op", {"reason": "小区物业监管属于住建局职责，请签收办理"}
    )
    assert back["status"] == "dispatched" and back["lead_unit"]["code"] == "ZJJ"
    # As if the dispute had never stopped it: the same start and deadline.
    again = deadline(back, "receipt")
    assert (again["started_at"], again["due_at"], again["met_at"]) == (
        receipt["started_at"],
        receipt["due_at"],
        None,
    )
    assert deadline(back, "redispatch")["met_at"] is not None
    # The unit holds it again and can sign; the event is counted by its exact name.
    assert "sign" in (await get(world, number, "zjj"))["allowed_actions"]
    event = await TicketEvent.filter(action="reject-dispute").get()
    assert event.payload["reason"].startswith("小区物业监管")


# ---- 督办 with a limit ---------------------------------------------------------------


async def test_supervise_with_a_limit_runs_a_shortened_clock_on_the_unit(world: World) -> None:
    number = await signed(world)
    before = await get(world, number)
    err = await world.act(
        number, "supervise", "sup", {"reason": "超期风险", "limit": "三天"}, expect=422
    )
    assert "3wd" in err["error"]["message"]
    plain = await world.act(number, "supervise", "sup", {"reason": "请加快办理"})
    assert deadline(plain, "supervision") is None
    after = await world.act(number, "supervise", "sup", {"reason": "市领导批示", "limit": "2h"})
    clock = deadline(after, "supervision")
    assert clock is not None and clock["label"] == "督办时限" and clock["limit"] == "2h"
    assert clock["due_at"] < deadline(before, "feedback")["due_at"]
    replied = await world.act(
        number, "reply", "zjj", {"result": "solved", "text": "已按督办要求处理完毕。"}
    )
    assert deadline(replied, "supervision")["met_at"] is not None


# ---- 答复审核 ------------------------------------------------------------------------


async def test_a_reviewed_reply_reaches_the_citizen_only_once_approved(
    world: World, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        number = await signed(world)
        t = await get(world, number)
        texts = await OutboxMessage.filter(transport="sms").count()
        held = await world.act(
            number, "reply", "zjj", {"result": "solved", "text": "电梯已修复，垃圾已清运完毕。"}
        )
        assert held["status"] == "reply_review" and held["status_label"] == "答复待审核"
        # Not yet the citizen's: no text, nothing on the tracking page, no callback.
        assert await OutboxMessage.filter(transport="sms").count() == texts
        track = await world.client.get(f"/api/v1/track/{number}", params={"code": t["query_code"]})
        assert track.json()["replies"] == [] and track.json()["can_rate"] is False
        await world.act(number, "callback", "op", {"contacted": True}, expect=409)
        await world.act(number, "approve-reply", "zjj", expect=403)

        released = await world.act(number, "approve-reply", "op", {})
        assert released["status"] == "replied"
        track = (
            await world.client.get(f"/api/v1/track/{number}", params={"code": t["query_code"]})
        ).json()
        assert [(r["unit"], r["text"]) for r in track["replies"]] == [
            ("A市住房和城乡建设局", "电梯已修复，垃圾已清运完毕。")
        ]
        assert await OutboxMessage.filter(transport="sms").count() == texts + 1
        await world.act(number, "callback", "op", {"contacted": True, "satisfaction": "满意"})


@pytest.mark.backends  # the queue and restored clocks, on both databases
async def test_a_returned_reply_goes_back_with_the_feedback_clock_running_on(
    world: World, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        number = await signed(world)
        feedback = deadline(await get(world, number), "feedback")
        held = await world.act(
            number, "reply", "zjj", {"result": "solved", "text": "已处理，请市民放心。"}
        )
        assert deadline(held, "feedback")["met_at"] is not None
        await world.act(number, "return-reply", "op", {}, expect=422)
        back = await world.act(
            number, "return-reply", "op", {"reason": "未说明电梯何时修好，请补充后再答复"}
        )
        assert back["status"] == "handling" and back["result"] is None
        again = deadline(back, "feedback")
        assert (again["due_at"], again["met_at"]) == (feedback["due_at"], None)
        assert "reply" in (await get(world, number, "zjj"))["allowed_actions"]
        assert await TicketEvent.filter(action="return-reply").count() == 1
        # The second answer is reviewed again.
        again_held = await world.act(
            number, "reply", "zjj", {"result": "solved", "text": "电梯已于本周三修复。"}
        )
        assert again_held["status"] == "reply_review"


async def test_kinds_not_reviewed_keep_direct_release(world: World, deployment: Deployment) -> None:
    with reviewing(deployment, "投诉"):
        number = await signed(world, kind="求助", title="路灯不亮", content="小区门口路灯坏了一周")
        out = await world.act(number, "reply", "zjj", {"result": "solved", "text": "路灯已修复。"})
        assert out["status"] == "replied"
        assert not await TicketClock.filter(kind="decision").exists()


async def test_the_new_actions_are_in_openapi(world: World) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    text = str(doc)
    for name in ("approve-pause", "deny-pause", "reject-dispute", "approve-reply", "return-reply"):
        assert name in text, name
    assert "SuperviseBody" in doc["components"]["schemas"]
    assert "limit" in doc["components"]["schemas"]["SuperviseBody"]["properties"]


async def test_urging_supervision_and_decisions_name_the_unit_for_the_rates(
    world: World, deployment: Deployment
) -> None:
    with reviewing(deployment, "投诉"):
        number = await signed(world)
        await world.act(number, "urge", "op", {"reason": "市民再次来电"})
        await world.act(number, "supervise", "sup", {"reason": "超期风险"})
        await world.act(number, "reply", "zjj", {"result": "solved", "text": "已处理完毕。"})
        await world.act(number, "return-reply", "op", {"reason": "请补充处理结果"})
        t = await world.create()
        await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
        await world.act(t["number"], "reject", "zjj", {"reason": "不属于本单位"})
        await world.act(t["number"], "reject-dispute", "op", {"reason": "属于本单位"})
    named = {
        e.action: e.payload.get("unit")
        for e in await TicketEvent.filter(
            action__in=["urge", "supervise", "return-reply", "reject-dispute"]
        )
    }
    assert named == {
        "urge": "ZJJ",
        "supervise": "ZJJ",
        "return-reply": "ZJJ",
        "reject-dispute": "ZJJ",
    }


async def test_a_pause_asked_for_too_late_is_denied_not_approved(world: World) -> None:
    number = await signed(world)
    await world.act(number, "pause", "zjj", {"reason": "等待市民提供照片"})
    # The unit's clock ran out while the request waited: pausing it now would hide that.
    await TicketClock.filter(kind="feedback").update(due_at=utcnow() - timedelta(hours=1))
    err = await world.act(number, "approve-pause", "op", {}, expect=409)
    assert "不同意挂起" in err["error"]["message"]
    denied = await world.act(number, "deny-pause", "op", {"reason": "已超期，请尽快办理"})
    assert denied["status"] == "handling"
