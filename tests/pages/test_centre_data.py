"""Data that stays clean: a closed list of categories, the place of a phone call, units
nobody can act for; and the console ready for the next caller after 受理."""

from __future__ import annotations

import re
from pathlib import Path

from hotline.channels.history_file import DEFAULT_COLUMNS, ColumnMap
from hotline.domain.models import Ticket
from hotline.services.history_import import import_history
from hotline.services.ticket_places import fill_places
from tests.pages.conftest import Site, csrf_of

CALL = {
    "phone": "13907311846",
    "kind": "投诉",
    "urgency": "一般",
    "channel": "phone",
    "title": "小区夜间施工噪音扰民",
    "content": "含浦街道枫林小区旁工地每天夜里施工到凌晨，噪音很大，请尽快处理。",
}


async def test_an_unknown_category_is_refused_with_the_allowed_names(site: Site) -> None:
    async with site.client() as c:
        for word in ("城建", "不存在"):
            r = await c.post(
                "/api/v1/tickets",
                json={
                    "kind": "投诉",
                    "category": word,
                    "title": "小区物业不作为",
                    "content": "小区物业公司收费后不履行职责，电梯经常坏。",
                },
                headers=site.bearer("op"),
            )
            assert r.status_code == 422, r.text
            body = r.json()["error"]
            assert body["code"] == "unknown_category"
            assert f"分类「{word}」不在分类表中" in body["message"]
            assert "城乡建设" in body["message"]  # the allowed names, to pick from
            assert body["fields"][0]["field"] == "category"
    assert await Ticket.all().count() == 0
    # a known category is taken as it is
    assert (await site.create(category="城乡建设"))["category"] == "城乡建设"


async def test_dispatch_refuses_an_unknown_category_and_keeps_the_ticket(site: Site) -> None:
    t = await site.create()
    async with site.client() as c:
        r = await c.post(
            f"/api/v1/tickets/{t['number']}/dispatch",
            json={"lead_unit": "ZJJ", "category": "城建"},
            headers=site.bearer("op"),
        )
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_category"
    ticket = await Ticket.get(number=t["number"])
    assert ticket.status == "received" and ticket.category == "城乡建设"


async def test_the_console_offers_the_list_and_keeps_the_call_when_refused(site: Site) -> None:
    op = await site.login("op")
    page = (await op.get("/operator")).text
    assert 'list="category-choices"' in page and '<option value="城乡建设">' in page
    r = await op.post(
        "/operator/tickets", data={"csrf_token": csrf_of(page), **CALL, "category": "城建"}
    )
    assert r.status_code == 422
    assert "分类「城建」不在分类表中" in r.text and "未受理" in r.text
    assert 'value="13907311846"' in r.text and "枫林小区旁工地" in r.text  # nothing lost
    assert await Ticket.all().count() == 0


async def test_after_intake_the_console_is_empty_with_the_new_number(site: Site) -> None:
    op = await site.login("op")
    token = csrf_of((await op.get("/operator")).text)
    r = await op.post("/operator/tickets", data={"csrf_token": token, **CALL})
    assert r.status_code == 303
    location = r.headers["location"]
    assert re.fullmatch(r"/operator\?created=\d{8}-\d{5}", location)
    number = location.rsplit("=", 1)[1]
    page = (await op.get(location)).text
    assert f"已受理，工单号 {number}" in page
    assert f'<a href="/tickets/{number}">工单 {number}</a>' in page
    form = page[page.index('id="intake"') : page.index("</form>", page.index('id="intake"'))]
    assert "13907311846" not in form and "夜间施工" not in form  # ready for the next caller
    # a crafted number is not echoed as a link
    assert 'id="created"' not in (await op.get("/operator?created=<b>x</b>")).text


async def test_a_phone_call_is_filed_under_the_place_in_its_words(site: Site) -> None:
    op = await site.login("op")
    token = csrf_of((await op.get("/operator")).text)
    await op.post("/operator/tickets", data={"csrf_token": token, **CALL})
    ticket = await Ticket.get(title=CALL["title"])
    assert (ticket.district, ticket.street) == ("A3区", "含浦街道")
    # what the operator typed wins over what the router read
    given = await site.create(location={"district": "A2区"}, content=CALL["content"])
    ticket = await Ticket.get(number=given["number"])
    assert (ticket.district, ticket.street) == ("A2区", "")
    # and the hot places figure now counts the phone call
    sup = await site.login("sup")
    assert "含浦街道" in (await sup.get("/supervisor")).text


async def test_fill_places_fills_old_tickets_once(site: Site) -> None:
    a = await site.create(content=CALL["content"])
    b = await site.create(content="咨询社保卡补办需要带哪些材料，在哪里办理。")
    await Ticket.all().update(district="", street="")  # as tickets taken before this release
    deployment = site.app.state.deployment
    seen, filled = await fill_places(deployment.router.routing)
    assert (seen, filled) == (2, 1)
    assert (await Ticket.get(number=a["number"])).street == "含浦街道"
    assert (await Ticket.get(number=b["number"])).district == ""
    assert await fill_places(deployment.router.routing) == (1, 0)  # nothing more to fill


async def test_units_nobody_can_act_for_are_shown_and_warned(site: Site) -> None:
    adm = await site.login("adm")
    page = (await adm.get("/admin/units")).text
    start = page.index('id="unstaffed"')
    unstaffed = page[start : page.index("</section>", start)]
    assert "A市教育局" in unstaffed and "A市住房和城乡建设局" not in unstaffed
    t = await site.create()
    op = await site.login("op")
    ticket_page = (await op.get(f"/tickets/{t['number']}")).text
    assert "A市教育局（无可用账号）" in ticket_page
    assert "A市住房和城乡建设局（无可用账号）" not in ticket_page
    r = await op.post(
        f"/tickets/{t['number']}/act/dispatch",
        data={"csrf_token": csrf_of(ticket_page), "lead_unit": "JYJ"},
    )
    assert r.status_code == 303
    after = (await op.get(r.headers["location"])).text
    assert "注意：A市教育局还没有可用的账号，无人能签收办理" in after
    t2 = await site.create()
    r = await op.post(
        f"/tickets/{t2['number']}/act/dispatch",
        data={"csrf_token": csrf_of(ticket_page), "lead_unit": "ZJJ"},
    )
    assert "还没有可用的账号" not in (await op.get(r.headers["location"])).text


async def test_the_front_page_is_for_citizens_with_a_discreet_staff_link(site: Site) -> None:
    async with site.client() as c:
        r = await c.get("/")
    assert r.status_code == 200
    assert '<a class="home-action primary" href="/submit"><b>我要反映</b>' in r.text
    assert 'href="/track"><b>进度查询</b>' in r.text
    assert '<p class="home-staff"><a href="/login">工作人员登录</a></p>' in r.text


async def test_a_wechat_reporter_is_named_so_and_reached_on_wechat_only(site: Site) -> None:
    t = await site.create(channel="wechat", complainant={"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})
    number = t["number"]
    assert t["complainant"]["wechat"] is True and "oUpF8" not in str(t)
    await site.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(number, "sign", "zjj")
    await site.act(number, "reply", "zjj", {"result": "solved", "text": "已责令物业维修电梯。"})
    op = await site.login("op")
    page = (await op.get(f"/tickets/{number}")).text
    assert "<dd>微信用户" in page and "（匿名）" not in page
    assert "未留电话，仅可通过微信联系" in page
    queue = (await op.get("/operator/queue", headers={"HX-Request": "true"})).text
    section = queue[queue.index("已回复待回访") :]  # the callback queue
    row = section[section.index(f'<a href="/tickets/{number}">') :]
    assert "未留电话，仅可通过微信联系" in row[: row.index("</tr>")]
    # an anonymous phone caller is still 匿名
    plain = await site.create(complainant={"anonymous": True})
    assert "（匿名）" in (await op.get(f"/tickets/{plain['number']}")).text


async def test_imported_history_is_found_by_its_old_id_with_its_reply(site: Site) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "history" / "wangshang.csv"
    report = await import_history(
        fixture,
        mapping=ColumnMap(columns=dict(DEFAULT_COLUMNS)),
        deployment=site.app.state.deployment,
    )
    assert (report.imported, len(report.problems)) == (3, 3)
    async with site.client() as c:
        r = await c.get(
            "/api/v1/tickets", params={"external_id": "9001"}, headers=site.bearer("op")
        )
        [item] = r.json()["items"]
        assert item["external_id"] == "9001" and item["status"] == "closed"
        one = (await c.get(f"/api/v1/tickets/{item['number']}", headers=site.bearer("op"))).json()
        assert one["external_id"] == "9001" and one["created_at"].startswith("2019-04-25T09:32:09")
        none = await c.get(
            "/api/v1/tickets", params={"external_id": "no-such"}, headers=site.bearer("op")
        )
        assert none.json()["items"] == []
        code = (await Ticket.get(external_id="9001")).query_code
        track = (await c.get("/track", params={"number": item["number"], "code": code})).text
    assert "已责令施工单位停止夜间施工" in track and "已办结" in track
