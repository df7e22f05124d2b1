"""A ticket's whole life over HTTP, and the errors people meet on the way."""

from __future__ import annotations

from tests.api.conftest import World


async def test_full_life_of_a_ticket(world: World) -> None:
    t = await world.create()
    number = t["number"]
    assert t["status"] == "received" and len(t["query_code"]) == 6
    await world.act(number, "dispatch", "op", {"lead_unit": "RSJ"})
    await world.act(number, "reject", "rsj", {"reason": "不属于本单位职责，应由住建局处理"})
    await world.act(number, "redispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(number, "sign", "zjj")
    await world.act(number, "request-extension", "zjj", {"reason": "需要协调物业公司", "days": 3})
    await world.act(number, "approve-extension", "op")
    await world.act(
        number, "reply", "zjj", {"result": "partly", "text": "已约谈物业公司，电梯已维修。"}
    )
    await world.act(number, "callback", "op", {"contacted": True, "satisfaction": "不满意"})
    await world.act(number, "reopen", "op", {"reason": "市民反映垃圾仍未清理"})
    await world.act(
        number, "reply", "zjj", {"result": "solved", "text": "垃圾已全部清理，物业承诺每日清运。"}
    )
    await world.act(number, "callback", "op", {"contacted": True, "satisfaction": "满意"})
    final = await world.act(number, "close", "op")
    assert final["status"] == "closed" and final["satisfaction"] == "满意"

    r = await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers["sup"])
    steps = [(e["action"], e["actor_role"], e["actor_unit"]) for e in r.json()["timeline"]]
    assert steps == [
        ("create", "operator", None),
        ("dispatch", "operator", None),
        ("reject", "unit", "RSJ"),
        ("redispatch", "operator", None),
        ("sign", "unit", "ZJJ"),
        ("request-extension", "unit", "ZJJ"),
        ("approve-extension", "operator", None),
        ("reply", "unit", "ZJJ"),
        ("callback", "operator", None),
        ("reopen", "operator", None),
        ("reply", "unit", "ZJJ"),
        ("callback", "operator", None),
        ("close", "operator", None),
    ]
    assert r.json()["timeline"][2]["payload"]["reason"].startswith("不属于本单位")


async def test_reject_without_reason_is_422_and_changes_nothing(world: World) -> None:
    t = await world.create()
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    err = await world.act(t["number"], "reject", "zjj", {}, expect=422)
    assert err["error"]["code"] == "validation_error"
    assert "reason" in err["error"]["message"]
    r = await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["zjj"])
    assert r.json()["status"] == "dispatched"


async def test_wrong_state_is_409_and_wrong_role_is_403(world: World) -> None:
    t = await world.create()
    err = await world.act(t["number"], "sign", "op", expect=409)
    assert "不能执行「签收」" in err["error"]["message"]
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    err = await world.act(t["number"], "sign", "op", expect=403)
    assert err["error"]["code"] == "forbidden_role"
    r = await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["op"])
    assert r.json()["status"] == "dispatched" and r.json()["version"] == 2


async def test_bad_bodies_are_4xx_never_500(world: World) -> None:
    h = {**world.headers["op"], "content-type": "application/json"}
    c = world.client
    assert (await c.post("/api/v1/tickets", content=b"{not json", headers=h)).status_code == 400
    assert (await c.post("/api/v1/tickets", content=b"[1,2]", headers=h)).status_code == 400
    r = await c.post(
        "/api/v1/tickets", json={"kind": "投诉", "title": 5, "content": "x" * 10}, headers=h
    )
    assert r.status_code == 422
    r = await c.post(
        "/api/v1/tickets",
        json={"kind": "抱怨", "title": "标题", "content": "内容内容内容"},
        headers=h,
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "kind"
    r = await c.post(
        "/api/v1/tickets",
        json={"kind": "投诉", "title": "标题", "content": "内容内容内容", "colour": "red"},
        headers=h,
    )
    assert r.status_code == 422 and "colour" in r.json()["error"]["message"]
    big = b'{"kind":"\xe6\x8a\x95\xe8\xaf\x89","title":"t","content":"' + b"x" * 2_000_000 + b'"}'
    assert (await c.post("/api/v1/tickets", content=big, headers=h)).status_code == 413
    assert (
        await c.post("/api/v1/tickets/20260101-00001/fly", json={}, headers=h)
    ).status_code == 404
    assert (await c.get("/api/v1/tickets?page=abc", headers=h)).status_code == 422
    assert (await c.get("/api/v1/tickets")).status_code == 401
    assert (
        await c.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})
    ).status_code == 401


async def test_track_shows_progress_without_personal_data(world: World) -> None:
    t = await world.create()
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(t["number"], "sign", "zjj")
    await world.act(
        t["number"], "reply", "zjj", {"result": "solved", "text": "电梯已修复并恢复运行。"}
    )
    r = await world.client.get(f"/api/v1/track/{t['number']}", params={"code": t["query_code"]})
    assert r.status_code == 200
    body = r.json()
    assert body["status_label"] == "已回复待回访"
    assert body["replies"][0]["text"] == "电梯已修复并恢复运行。"
    assert body["promised_reply_by"] is not None
    assert "13812345678" not in r.text and "张先生" not in r.text
    wrong = await world.client.get(f"/api/v1/track/{t['number']}", params={"code": "AAAAAA"})
    missing = await world.client.get(
        "/api/v1/track/20990101-00001", params={"code": t["query_code"]}
    )
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()


async def test_deadlines_follow_the_ticket(world: World) -> None:
    t = await world.create()
    d = await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    kinds = {c["kind"]: c for c in d["deadlines"]}
    assert set(kinds) == {"receipt", "feedback"}
    feedback_due = kinds["feedback"]["due_at"]
    await world.act(t["number"], "reject", "zjj", {"reason": "不属于本单位职责"})
    d = await world.act(t["number"], "redispatch", "op", {"lead_unit": "RSJ"})
    kinds = {c["kind"]: c for c in d["deadlines"]}
    # A wrong dispatch restarts the receipt clock, not the citizen's wait for a reply.
    assert kinds["feedback"]["due_at"] == feedback_due
    d = await world.act(t["number"], "sign", "rsj")
    assert {c["kind"]: c["state"] for c in d["deadlines"]}["receipt"] == "met"


async def test_reporter_of_wrongdoing_is_hidden_from_units(world: World) -> None:
    t = await world.create(
        kind="举报", title="举报某单位违规收费", content="某单位工作人员违规收取办证费用，请调查。"
    )
    await world.confirm(t["number"])
    await world.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    unit_view = (
        await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["zjj"])
    ).json()
    assert (
        unit_view["complainant"]["phone"] == "（保密）"
        and unit_view["complainant"]["name"] == "（保密）"
    )
    sup_view = (
        await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["sup"])
    ).json()
    assert sup_view["complainant"]["phone"] == "138****5678"
    op_view = (
        await world.client.get(f"/api/v1/tickets/{t['number']}", headers=world.headers["op"])
    ).json()
    assert op_view["complainant"]["phone"] == "13812345678"


async def test_merge_and_urge(world: World) -> None:
    first = await world.create()
    repeat = await world.create()
    await world.act(first["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    await world.act(first["number"], "urge", "sup", {"reason": "市民多次来电，请加快办理"})
    merged = await world.act(repeat["number"], "merge", "op", {"into": first["number"]})
    assert merged["status"] == "merged" and merged["merged_into"] == first["number"]
    err = await world.act(first["number"], "merge", "op", {"into": repeat["number"]}, expect=422)
    assert err["error"]["code"] == "merge_target_closed"


async def test_list_filters_and_pagination(world: World) -> None:
    for _ in range(3):
        await world.create()
    t = await world.create(
        kind="咨询", title="咨询社保转移", content="想咨询社保转移接续需要什么材料。"
    )
    await world.act(t["number"], "answer", "op", {"text": "请携带身份证到社保窗口办理。"})
    r = await world.client.get(
        "/api/v1/tickets", params={"per_page": 2}, headers=world.headers["op"]
    )
    assert r.json()["total"] == 4 and len(r.json()["items"]) == 2
    r = await world.client.get(
        "/api/v1/tickets", params={"status": "closed"}, headers=world.headers["op"]
    )
    assert [i["number"] for i in r.json()["items"]] == [t["number"]]
    r = await world.client.get(
        "/api/v1/tickets",
        params={"kind": "投诉", "status": "received"},
        headers=world.headers["op"],
    )
    assert r.json()["total"] == 3


async def test_openapi_describes_schemas(world: World) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    assert "TicketCreate" in doc["components"]["schemas"]
    assert "/api/v1/tickets/{number}/reject" in doc["paths"]
    body = doc["paths"]["/api/v1/tickets/{number}/reject"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("ReasonBody")
    assert "reason" in doc["components"]["schemas"]["ReasonBody"]["required"]


async def test_healthz_and_units(world: World) -> None:
    assert (await world.client.get("/healthz")).json()["status"] == "ok"
    units = (await world.client.get("/api/v1/units", headers=world.headers["zjj"])).json()["items"]
    assert any(u["name"] == "A市住房和城乡建设局" for u in units)


async def test_guessing_query_codes_is_rate_limited(world: World) -> None:
    t = await world.create()
    codes = [
        (
            await world.client.get(f"/api/v1/track/{t['number']}", params={"code": "ZZZZZZ"})
        ).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [404] * 10 and codes[-1] == 429


async def test_overdue_filter_lists_late_tickets_only(world: World, deployment: object) -> None:
    from datetime import timedelta

    from hotline.domain.models import User
    from hotline.domain.schemas import DispatchBody, TicketCreate
    from hotline.domain.timefmt import utcnow
    from hotline.services import tickets as svc
    from hotline.services.users import principal_of

    op = principal_of(await User.get(username="op").prefetch_related("unit"))
    past = utcnow() - timedelta(days=10)
    late = (
        await svc.create_ticket(
            data=TicketCreate(
                kind="投诉",
                category="城乡建设",
                title="路灯损坏多日",
                content="小区门口路灯坏了十天没人修。",
            ),
            actor=svc.Actor.of(op),
            now=past,
            deployment=deployment,
            auto_dispatch=False,
        )
    ).ticket  # type: ignore[arg-type]
    await svc.perform_action(
        number=late.number,
        action="dispatch",
        body=DispatchBody(lead_unit="ZJJ"),
        principal=op,
        now=past,
        deployment=deployment,
    )  # type: ignore[arg-type]
    fresh = await world.create()
    await world.act(fresh["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    undispatched = await world.create()

    def numbers(r: object) -> set[str]:
        return {i["number"] for i in r.json()["items"]}  # type: ignore[attr-defined]

    h = world.headers["sup"]
    overdue = await world.client.get("/api/v1/tickets", params={"overdue": "true"}, headers=h)
    assert numbers(overdue) == {late.number}
    on_time = await world.client.get("/api/v1/tickets", params={"overdue": "false"}, headers=h)
    assert numbers(on_time) == {fresh["number"], undispatched["number"]}
    # Signing meets the receipt clock but the reply is still late.
    zjj_list = await world.client.get(
        "/api/v1/tickets", params={"overdue": "true"}, headers=world.headers["zjj"]
    )
    assert numbers(zjj_list) == {late.number}
    await world.act(late.number, "sign", "zjj")
    await world.act(
        late.number, "reply", "zjj", {"result": "solved", "text": "路灯已经修好并恢复照明。"}
    )
    overdue = await world.client.get("/api/v1/tickets", params={"overdue": "true"}, headers=h)
    assert numbers(overdue) == set()
