"""Over HTTP: assisting units act, 下派 down the hierarchy, fair attribution after 改派."""

from __future__ import annotations

from typing import Any

from hotline.domain.timefmt import utcnow
from hotline.services.users import create_user, issue_token
from tests.api.conftest import World

MORE = [("sjj", "SJJ"), ("hanpu", "HANPU"), ("xtp", "HANPU_XTP"), ("fxy", "HANPU_FXY")]


async def _accounts(world: World) -> None:
    for username, unit in MORE:
        await create_user(
            username=username,
            role="unit",
            password="secret-password",
            now=utcnow(),
            unit_code=unit,
            email=f"{username}@test.example",
        )
        token = await issue_token(username=username, now=utcnow())
        world.headers[username] = {"Authorization": f"Bearer {token}"}


def _today() -> str:
    from hotline.domain.timefmt import SHANGHAI

    return utcnow().astimezone(SHANGHAI).date().isoformat()


async def _figures(world: World, path: str) -> Any:
    day = _today()
    r = await world.client.get(
        f"/api/v1/stats/{path}?from={day}&to={day}", headers=world.headers["sup"]
    )
    assert r.status_code == 200, r.text
    return {u["unit"]: u for u in r.json()["units"]}


async def _get(world: World, number: str, who: str) -> Any:
    return await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers[who])


async def test_assisting_units_give_opinions_the_lead_sees(world: World) -> None:
    await _accounts(world)
    t = await world.create()
    n = t["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "ZJJ", "assisting_units": ["SJJ", "RSJ"]})
    lead = (await _get(world, n, "zjj")).json()
    assert [a["answered_at"] for a in lead["assists"]] == [None, None]
    assert all(a["due_at"] for a in lead["assists"])  # each its own 协办时限
    assert "assist-opinion" in (await _get(world, n, "sjj")).json()["allowed_actions"]
    # An opinion without text is a 422 naming the field; the lead unit may not give one.
    bad = await world.act(n, "assist-opinion", "sjj", {"done": True}, expect=422)
    assert "text" in bad["error"]["message"]
    await world.act(n, "assist-opinion", "zjj", {"text": "主办自己的意见"}, expect=403)
    await world.act(n, "assist-opinion", "sjj", {"text": "已检查该商户，证照齐全。", "done": True})
    lead = (await _get(world, n, "zjj")).json()
    by_unit = {a["unit"]["code"]: a for a in lead["assists"]}
    assert by_unit["SJJ"]["text"] == "已检查该商户，证照齐全。" and by_unit["SJJ"]["on_time"]
    assert by_unit["RSJ"]["answered_at"] is None
    # The assisting unit's part counts in its own rates.
    units = await _figures(world, "hierarchy")
    assert units["SJJ"]["assists"] == 1 and units["SJJ"]["opinions_given"] == 1
    assert units["SJJ"]["opinions_on_time"] == 1
    assert units["RSJ"]["opinions_given"] == 0
    # The same figures beside the unit rates.
    day = _today()
    r = await world.client.get(
        f"/api/v1/stats/rates?from={day}&to={day}", headers=world.headers["sup"]
    )
    beside = {u["unit"]: u for u in r.json()["hierarchy"]}
    assert beside["SJJ"]["opinions_on_time"] == 1


async def test_subdispatch_down_to_a_community_and_back_up(world: World) -> None:
    await _accounts(world)
    t = await world.create()
    n = t["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "HANPU"})
    assert (await _get(world, n, "xtp")).status_code == 404  # not before
    await world.act(n, "sign", "hanpu")
    await world.act(
        n, "subdispatch", "hanpu", {"unit": "HANPU_XTP", "limit": "tomorrow"}, expect=422
    )
    out = await world.act(n, "subdispatch", "hanpu", {"unit": "HANPU_XTP", "limit": "2wd"})
    assert out["subdispatch"]["unit"]["code"] == "HANPU_XTP"
    assert out["subdispatch"]["state"] == "dispatched"
    seen = await _get(world, n, "xtp")
    assert seen.status_code == 200
    assert seen.json()["allowed_actions"] == ["sub-sign"]
    assert (await _get(world, n, "fxy")).status_code == 404
    # The centre and the citizen deal with the street only: the community may not reply.
    await world.act(n, "sub-sign", "xtp")
    await world.act(n, "reply", "xtp", {"result": "solved", "text": "已处理完毕。"}, expect=403)
    await world.act(n, "sub-reply", "xtp", {"result": "solved", "text": "社区已上门处理。"})
    await world.act(n, "sub-return", "hanpu", {"reason": "请补充居民意见"})
    await world.act(
        n, "sub-reply", "xtp", {"result": "solved", "text": "社区已上门处理，居民满意。"}
    )
    await world.act(n, "sub-approve", "xtp", expect=403)
    approved = await world.act(n, "sub-approve", "hanpu")
    assert approved["reply_draft"] == "社区已上门处理，居民满意。"
    assert (await _get(world, n, "xtp")).status_code == 404  # not after
    await world.act(n, "reply", "hanpu", {"result": "solved", "text": approved["reply_draft"]})
    # The citizen deals with the street only: no 下派 step, one reply, the street's.
    r = await world.client.get(f"/api/v1/track/{n}", params={"code": t["query_code"]})
    assert r.status_code == 200
    assert "下派" not in r.text and "学堂坡" not in r.text and "请补充居民意见" not in r.text
    assert [x["text"] for x in r.json()["replies"]] == ["社区已上门处理，居民满意。"]
    # The community's part shows in its own figures; the street keeps its assignment.
    units = await _figures(world, "hierarchy")
    assert units["HANPU_XTP"]["subdispatched"] == 1
    assert units["HANPU_XTP"]["sub_replied"] == 1 and units["HANPU_XTP"]["sub_returned"] == 1
    by = await _figures(world, "rates")
    assert by["HANPU"]["dispatched"] == 1
    assert by.get("HANPU_XTP", {}).get("dispatched", 0) == 0


async def test_openapi_names_the_hierarchy_actions(world: World) -> None:
    spec = (await world.client.get("/openapi.json")).json()
    paths = " ".join(spec["paths"])
    text = str(spec)
    for action in ("assist-opinion", "subdispatch", "sub-reply", "sub-approve", "sub-return"):
        assert action in paths or action in text, action


async def test_a_disputed_ticket_is_not_urged_on_the_unit_that_disputed(world: World) -> None:
    t = await world.create()
    n = t["number"]
    await world.act(n, "dispatch", "op", {"lead_unit": "RSJ"})
    await world.act(n, "reject", "rsj", {"reason": "不属于本单位职责，应由住建局处理"})
    # 退单待改派 waits on the centre: 催办 and 督办 are refused, saying what to do.
    err = await world.act(n, "urge", "op", {"reason": "市民催促"}, expect=409)
    assert "退单" in err["error"]["message"]
    await world.act(n, "supervise", "sup", {"reason": "超期"}, expect=409)
    again = await world.act(n, "redispatch", "op", {"lead_unit": "ZJJ"})
    clocks = {c["kind"]: c for c in again["deadlines"]}
    assert clocks["feedback"]["started_at"] == clocks["receipt"]["started_at"]
    await world.act(n, "urge", "op", {"reason": "市民催促"})
