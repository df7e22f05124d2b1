"""The supervisor dashboard and the administration pages over ASGI: permissions per page and
role, the dashboard's numbers against the statistics API, 催办/督办 from the overdue list,
the export links, account actions, rule reload (a broken file refused, the running rules
kept), the holiday schedule and the mail outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hotline.domain.models import ApiToken, Ticket, TicketEvent, User
from hotline.domain.timefmt import utcnow
from hotline.mail.outbox import enqueue_mail
from hotline.outbox.models import OutboxMessage, OutboxStatus
from hotline.runtime.config import load_settings
from hotline.startup.workers import follow_rules
from hotline.web.app import create_app
from hotline.web.pages.supervisor import percent, today
from tests.pages.conftest import PASSWORD, Site, csrf_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ADMIN_PAGES = ["/admin", "/admin/units", "/admin/rules", "/admin/holidays", "/admin/outbox"]
ALLOWED = {
    "/supervisor": {"sup", "adm"},
    "/supervisor/trend?from=2026-01-01&to=2026-01-03": {"sup", "adm"},
    **{p: {"adm"} for p in ADMIN_PAGES},
}
ROLES = ["op", "sup", "adm", "zjj", "rsj"]
CELL = re.compile(r'data-rate="(\w+)" data-value="([^"]*)"')


async def test_signed_out_visitors_go_to_login(site: Site) -> None:
    async with site.client() as c:
        for path in ALLOWED:
            r = await c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        r = await c.post("/admin/rules/reload", data={"csrf_token": "x"})
        assert r.status_code in (303, 403)


@pytest.mark.parametrize("who", ROLES)
async def test_each_role_may_open_only_its_pages(site: Site, who: str) -> None:
    c = await site.login(who)
    for path, allowed in ALLOWED.items():
        r = await c.get(path)
        if who in allowed:
            assert r.status_code == 200, (who, path, r.text[:300])
        else:
            assert r.status_code == 403, (who, path)
            if not path.startswith("/supervisor/trend"):
                assert "无权访问" in r.text
    # and the POSTs behind the admin forms refuse everyone else too (CSRF token valid)
    page = await c.get("/tickets")
    token = csrf_of(page.text)
    for path in ["/admin/rules/reload", "/admin/users/op/disable", "/admin/outbox/requeue"]:
        r = await c.post(path, data={"csrf_token": token})
        assert r.status_code == (303 if who == "adm" else 403), (who, path)
    assert await User.filter(username="op", active=True).exists() != (who == "adm")


async def test_supervisors_and_admins_land_on_their_homes(site: Site) -> None:
    for who, home in (("sup", "/supervisor"), ("adm", "/admin")):
        c = await site.login(who)
        assert (await c.get("/")).headers["location"] == home


async def _handled_tickets(site: Site) -> list[str]:
    """Three tickets for 住建局 and one for 人社局, called back with different satisfaction."""
    numbers = []
    for unit, satisfaction, solved in (
        ("ZJJ", "满意", True),
        ("ZJJ", "基本满意", False),
        ("ZJJ", "不满意", False),
        ("RSJ", "满意", True),
    ):
        t = await site.create()
        n = t["number"]
        await site.act(n, "dispatch", "op", {"lead_unit": unit})
        who = "zjj" if unit == "ZJJ" else "rsj"
        await site.act(n, "sign", who)
        await site.act(n, "reply", who, {"result": "solved", "text": "已经处理完毕，情况已反馈。"})
        body = {"contacted": True, "satisfaction": satisfaction, "solved": solved}
        await site.act(n, "callback", "op", body)
        numbers.append(n)
    # one still waiting to be signed
    t = await site.create()
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    numbers.append(t["number"])
    return numbers


def _cells(html: str, start: str, end: str) -> dict[str, str]:
    part = html[html.index(start) :]
    part = part[: part.index(end)]
    return dict(CELL.findall(part))


def _api_value(value: Any) -> str:
    return "" if value is None else str(value)


async def test_dashboard_numbers_equal_the_api(site: Site) -> None:
    await _handled_tickets(site)
    day = today().isoformat()
    c = await site.login("sup")
    page = await c.get(f"/supervisor?preset=custom&from={day}&to={day}")
    assert page.status_code == 200
    html = page.text
    api = (
        await c.get(f"/api/v1/stats/rates?from={day}&to={day}", headers=site.bearer("sup"))
    ).json()
    overall = _cells(html, 'id="overall"', "</section>")
    assert overall == {k: _api_value(api["overall"][k]) for k in overall}
    assert len(overall) == 10
    for unit in api["units"]:
        row = _cells(html, f'data-unit="{unit["unit"]}"', "</tr>")
        assert row == {k: _api_value(unit[k]) for k in row}, unit["unit"]
        assert len(row) == 10
    # the figures as people read them: 住建局 满意率 (1 + 0.9 + 0) / 3 = 63.33%
    zjj = next(u for u in api["units"] if u["unit"] == "ZJJ")
    assert zjj["satisfaction_rate"] == 0.6333 and zjj["dispatched"] == 4
    assert "63.33%" in html and percent(None) == "—"
    # ranking by 满意率: 人社局 (100%) before 住建局
    assert html.index('data-unit="RSJ"') < html.index('data-unit="ZJJ"')
    # every rate explained where it is shown
    assert 'title="满意率 = （满意数 + 0.9 × 基本满意数）÷ 有效回访数。"' in html
    # volumes: the API's numbers too
    volumes = (
        await c.get(f"/api/v1/stats/volumes?from={day}&to={day}", headers=site.bearer("sup"))
    ).json()
    assert volumes["total"] == 5
    assert f"<b>{volumes['total']}</b>" in html
    assert "城乡建设" in html  # the hot category, in the chart's data
    # export links: the API's query for the same period and group
    assert f'href="/api/v1/stats/rates?from={day}&amp;to={day}&amp;format=xlsx"' in html
    xlsx = await c.get(f"/api/v1/stats/rates?from={day}&to={day}&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content))["总体"]
    assert any(row[-1] == api["overall"]["satisfaction_rate"] for row in sheet.values) or any(
        api["overall"]["satisfaction_rate"] in row for row in sheet.values
    )


async def test_dashboard_group_sort_and_trend(site: Site) -> None:
    await _handled_tickets(site)
    day = today().isoformat()
    c = await site.login("sup")
    r = await c.get(
        f"/supervisor?preset=custom&from={day}&to={day}&kind=department&sort=dispute_rate"
    )
    assert r.status_code == 200
    api = (
        await c.get(
            f"/api/v1/stats/rates?from={day}&to={day}&kind=department", headers=site.bearer("sup")
        )
    ).json()
    # every department listed (with zeros), as in the API
    assert r.text.count("data-unit=") == len(api["units"]) > 2
    assert "format=xlsx" in r.text and "kind=department" in r.text
    # a bad parent falls back to every unit and says so
    r = await c.get("/supervisor?parent=NOPE")
    assert r.status_code == 200 and "单位范围有误" in r.text
    # a bad custom period falls back to this month
    r = await c.get("/supervisor?preset=custom&from=2026-02-30&to=x")
    assert r.status_code == 200 and "自定义期间有误" in r.text
    trend = (await c.get(f"/supervisor/trend?from={day}&to={day}")).json()
    assert trend["labels"] == [today().strftime("%m-%d")]
    assert trend["series"][0]["data"] == [5]
    on_time = api_overall = (
        await c.get(f"/api/v1/stats/rates?from={day}&to={day}", headers=site.bearer("sup"))
    ).json()["overall"]["on_time_rate"]
    assert trend["series"][1]["data"] == [on_time * 100]
    assert api_overall is not None


async def test_urge_and_supervise_from_the_overdue_list(site: Site) -> None:
    numbers = await _handled_tickets(site)
    late = numbers[-1]  # dispatched, not signed
    await Ticket.filter(number=late).update(next_due_at=utcnow() - timedelta(hours=30))
    c = await site.login("sup")
    page = await c.get("/supervisor?kind=department")
    assert f'id="od-{late}"' in page.text and "1 天 6 小时" in page.text
    form = page.text[page.text.index(f'id="od-{late}"') :]
    form = form[: form.index("</tr>")]
    assert f'action="/tickets/{late}/act/urge"' in form
    assert f'formaction="/tickets/{late}/act/supervise"' in form
    next_url = re.search(r'name="next" value="([^"]+)"', form).group(1).replace("&amp;", "&")
    token = csrf_of(page.text)
    r = await c.post(
        f"/tickets/{late}/act/urge",
        data={"csrf_token": token, "reason": "已超期一天，请今日内签收", "next": next_url},
    )
    assert r.status_code == 303 and r.headers["location"] == next_url
    back = await c.get(r.headers["location"])
    assert f"工单 {late} 已催办。" in back.text
    r = await c.post(
        f"/tickets/{late}/act/supervise",
        data={"csrf_token": token, "reason": "列入督办", "next": next_url},
    )
    assert f"工单 {late} 已督办。" in (await c.get(r.headers["location"])).text
    actions = await TicketEvent.filter(ticket__number=late).values_list("action", flat=True)
    assert "urge" in actions and "supervise" in actions
    # without CSRF nothing happens
    r = await c.post(f"/tickets/{late}/act/urge", data={"reason": "无令牌"})
    assert r.status_code == 403
    assert await TicketEvent.filter(ticket__number=late, action="urge").count() == 1
    # admins see the list but may not urge (the action table says operators and supervisors)
    admin = await site.login("adm")
    page = await admin.get("/supervisor")
    assert f'id="od-{late}"' in page.text and f"/tickets/{late}/act/urge" not in page.text


# ---- administration --------------------------------------------------------------------


async def _admin(site: Site) -> tuple[Any, str]:
    c = await site.login("adm")
    page = await c.get("/admin")
    return c, csrf_of(page.text)


async def test_admin_creates_a_user_with_a_generated_password(site: Site) -> None:
    c, token = await _admin(site)
    r = await c.post(
        "/admin/users",
        data={"csrf_token": token, "username": "li", "display_name": "李四", "role": "unit",
              "unit": "RSJ", "password": ""},
    )  # fmt: skip
    assert r.status_code == 200 and "已创建账号 li" in r.text
    password = re.search(r'id="new-password">([^<]+)<', r.text).group(1)
    assert len(password) == 12
    assert (await site.login("li", password)) is not None
    # shown once: the list does not show it again
    assert password not in (await c.get("/admin")).text
    # an invalid one keeps the input and says why
    r = await c.post(
        "/admin/users",
        data={"csrf_token": token, "username": "li", "role": "operator", "password": "x" * 8},
    )
    assert r.status_code == 422 and "用户名 li 已存在" in r.text and 'value="li"' in r.text
    r = await c.post(
        "/admin/users",
        data={"csrf_token": token, "username": "wu", "role": "unit", "password": "typed-pass-1"},
    )
    assert r.status_code == 422 and "请选择所属承办单位" in r.text and "--unit" not in r.text
    r = await c.post("/admin/users", data={"username": "x1", "role": "operator"})
    assert r.status_code == 403 and not await User.exists(username="x1")


async def test_admin_disables_enables_resets_and_revokes(site: Site) -> None:
    c, token = await _admin(site)
    r = await c.post("/admin/users/op/disable", data={"csrf_token": token})
    assert r.status_code == 303
    assert "已停用账号 op。" in (await c.get("/admin")).text
    async with site.client() as anon:
        page = await anon.get("/login")
        r = await anon.post(
            "/login",
            data={"username": "op", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 401
    await c.post("/admin/users/op/enable", data={"csrf_token": token})
    assert await User.filter(username="op", active=True).exists()
    # reset: a new password shown once; the old one stops working
    r = await c.post("/admin/users/op/reset-password", data={"csrf_token": token})
    assert "已重置密码 op" in r.text
    new = re.search(r'id="new-password">([^<]+)<', r.text).group(1)
    await site.login("op", new)
    async with site.client() as anon:
        page = await anon.get("/login")
        r = await anon.post(
            "/login",
            data={"username": "op", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 401
    # revoke: the token stops working
    async with site.client() as api:
        assert (await api.get("/api/v1/units", headers=site.bearer("zjj"))).status_code == 200
        await c.post("/admin/users/zjj/revoke-tokens", data={"csrf_token": token})
        assert (await api.get("/api/v1/units", headers=site.bearer("zjj"))).status_code == 401
    assert not await ApiToken.filter(user__username="zjj", revoked=False).exists()
    assert "已吊销 zjj 的 1 个 API 令牌。" in (await c.get("/admin")).text
    # the last admin cannot be disabled: said in Chinese, nothing changes
    await c.post("/admin/users/adm/disable", data={"csrf_token": token})
    page = await c.get("/admin")
    assert "「停用」未执行：adm 是最后一个启用的管理员，不能停用" in page.text


async def test_admin_lists_units_rules_policies_and_holidays(site: Site) -> None:
    c, _ = await _admin(site)
    units = await c.get("/admin/units")
    assert "住房和城乡建设局" in units.text and "ZJJ" in units.text and "units.toml" in units.text
    rules = await c.get("/admin/rules")
    assert "分类 → 承办单位" in rules.text and "城乡建设" in rules.text
    assert "拖欠工资" in rules.text and "举报" in rules.text
    assert "个工作日" in rules.text and "（默认）" in rules.text
    holidays = await c.get("/admin/holidays")
    assert 'id="year-2026"' in holidays.text
    row_2026 = holidays.text[holidays.text.index('id="year-2026"') :].split("</tr>")[0]
    assert "chinesecalendar" in row_2026 and "暂定" not in row_2026
    row_2027 = holidays.text[holidays.text.index('id="year-2027"') :].split("</tr>")[0]
    assert "暂定" in row_2027 and "春节" in row_2027 and "未知" in row_2027


SCHOOL = {
    "category": "教育文体",
    "title": "学校食堂收费问题",
    "content": "孩子所在学校食堂收费标准不透明，希望教育部门核实。",
}


def _copy_data(tmp: Path, source: Path) -> Path:
    target = tmp / "data"
    target.mkdir()
    for name in ("units.toml", "places.toml", "routing.toml", "sla.toml", "vocabulary.toml"):
        shutil.copy(source / name, target / name)
    shutil.copytree(source / "holidays", target / "holidays")
    return target


async def test_reload_refuses_a_broken_file_and_keeps_working(
    site: Site, deployment: Any, tmp_path: Path
) -> None:
    data = _copy_data(tmp_path, Path(deployment.data_dir))
    mine = dataclasses.replace(deployment, data_dir=data, extras=dict(deployment.extras))
    site.app = create_app(load_settings(), deployment=mine, manage_db=False, background=False)
    c, token = await _admin(site)
    before_router, before_sla = mine.router, mine.sla
    # a routing rule naming a unit that does not exist
    routing = data / "routing.toml"
    good = routing.read_text(encoding="utf-8")
    routing.write_text(good.replace('lead = "ZJJ"', 'lead = "NOSUCH"', 1), encoding="utf-8")
    r = await c.post("/admin/rules/reload", data={"csrf_token": token})
    assert r.status_code == 303
    page = await c.get("/admin/rules")
    assert "重新加载失败" in page.text and "NOSUCH" in page.text
    assert re.search(r"routing\.toml:\d+", page.text), page.text[:2000]
    assert "仍在使用原来的规则" in page.text
    assert mine.router is before_router and mine.sla is before_sla
    # the running rules still route and tickets are still made
    t = await site.create(**SCHOOL)
    assert t["routing"]["lead_unit"]["code"] == "JYJ", t["routing"]
    # a broken SLA file is refused the same way
    routing.write_text(good, encoding="utf-8")
    sla = data / "sla.toml"
    sla_text = sla.read_text(encoding="utf-8")
    sla.write_text(sla_text.replace('receipt = "', 'receipt = "x', 1), encoding="utf-8")
    await c.post("/admin/rules/reload", data={"csrf_token": token})
    assert "sla.toml" in (await c.get("/admin/rules")).text and mine.sla is before_sla
    # fixed, and 教育文体 now goes to 人社局: swapped in at once
    sla.write_text(sla_text, encoding="utf-8")
    changed = good.replace('name = "教育文体"\nlead = "JYJ"', 'name = "教育文体"\nlead = "RSJ"')
    assert changed != good
    routing.write_text(changed, encoding="utf-8")
    await c.post("/admin/rules/reload", data={"csrf_token": token})
    page = await c.get("/admin/rules")
    assert "已重新加载" in page.text and "秒内跟随生效" in page.text
    assert mine.router is not before_router and mine.sla is not before_sla
    t = await site.create(**SCHOOL)
    assert t["routing"]["lead_unit"]["code"] == "RSJ", t["routing"]


async def test_outbox_lists_and_requeues_failed_mail(site: Site) -> None:
    now = utcnow()
    for i in range(3):
        await enqueue_mail(
            to=[f"u{i}@example.org"], subject=f"测试 {i}", text="正文", html=None,
            ticket_number=None, reason="test", now=now,
        )  # fmt: skip
    ids = await OutboxMessage.filter(transport="mail").order_by("id").values_list("id", flat=True)
    await OutboxMessage.filter(transport="mail", id__in=ids[:2]).update(
        status=OutboxStatus.FAILED, last_error="550 5.1.1 用户不存在", attempts=1
    )
    c, token = await _admin(site)
    page = await c.get("/admin/outbox")
    assert "550 5.1.1 用户不存在" in page.text and f'id="mail-{ids[0]}"' in page.text
    assert "待发送 <b>1</b>" in page.text and "发送失败 <b>2</b>" in page.text
    await c.post(f"/admin/outbox/{ids[0]}/requeue", data={"csrf_token": token})
    assert f"邮件 #{ids[0]} 已重新排队" in (await c.get("/admin/outbox")).text
    await c.post(f"/admin/outbox/{ids[0]}/requeue", data={"csrf_token": token})
    assert "不是发送失败状态" in (await c.get("/admin/outbox")).text
    await c.post("/admin/outbox/requeue", data={"csrf_token": token})
    assert "已将 1 封发送失败的邮件重新排队。" in (await c.get("/admin/outbox")).text
    assert await OutboxMessage.filter(transport="mail", status=OutboxStatus.FAILED).count() == 0


async def test_other_workers_follow_a_reload(site: Site, deployment: Any, tmp_path: Path) -> None:
    """Worker A reloads data/ from the admin page; worker B (and a sweeper) follow it."""
    data = _copy_data(tmp_path, Path(deployment.data_dir))
    mine = dataclasses.replace(deployment, data_dir=data, extras=dict(deployment.extras))
    fresh = {k: v for k, v in deployment.extras.items() if k != "rules_version"}
    other = dataclasses.replace(deployment, data_dir=data, extras=fresh)
    site.app = create_app(load_settings(), deployment=mine, manage_db=False, background=False)
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_rules(other, stop=stop, interval=0.05))
    try:
        while "rules_version" not in other.extras:  # the follower has read the count
            await asyncio.sleep(0.01)
        before = other.router
        routing = data / "routing.toml"
        good = routing.read_text(encoding="utf-8")
        routing.write_text(
            good.replace('name = "教育文体"\nlead = "JYJ"', 'name = "教育文体"\nlead = "RSJ"'),
            encoding="utf-8",
        )
        c, token = await _admin(site)
        await c.post("/admin/rules/reload", data={"csrf_token": token})
        for _ in range(100):
            if other.router is not before:
                break
            await asyncio.sleep(0.05)
        assert other.router is not before
        assert other.router is not None and other.router is not mine.router
        proposal = other.propose(
            text="学校食堂收费问题", address="", kind="投诉", category="教育文体"
        )
        assert proposal["lead_unit"] == "RSJ", proposal
    finally:
        stop.set()
        await follower


async def test_outbox_page_lists_texts_masked_and_requeues_them(site: Site) -> None:

    t = await site.create()
    row = await OutboxMessage.get(transport="sms", ticket_number=t["number"])
    c, token = await _admin(site)
    page = await c.get("/admin/outbox")
    assert "短信发件箱" in page.text and "待发送 <b>1</b> 条" in page.text
    assert "138****5678" in page.text and "13812345678" not in page.text
    await OutboxMessage.filter(transport="sms", id=row.id).update(
        status=OutboxStatus.FAILED, last_error="HTTP 400 号码无效"
    )
    page = await c.get("/admin/outbox")
    assert f'id="sms-{row.id}"' in page.text and "HTTP 400 号码无效" in page.text
    await c.post(f"/admin/outbox/sms/{row.id}/requeue", data={"csrf_token": token})
    assert f"短信 #{row.id} 已重新排队" in (await c.get("/admin/outbox")).text
    await c.post(f"/admin/outbox/sms/{row.id}/requeue", data={"csrf_token": token})
    assert "不是发送失败状态" in (await c.get("/admin/outbox")).text
    await OutboxMessage.filter(transport="sms", id=row.id).update(status=OutboxStatus.FAILED)
    await c.post("/admin/outbox/sms/requeue", data={"csrf_token": token})
    assert "已将 1 条发送失败的短信重新排队。" in (await c.get("/admin/outbox")).text


async def test_outbox_page_says_what_the_configuration_means_and_how_long_mail_waited(
    site: Site,
) -> None:
    """No SMTP_HOST and SMS_GATEWAY=log (a fresh clone): the page says nothing really leaves."""
    await enqueue_mail(
        to=["u@example.org"], subject="测试", text="正文", html=None,
        ticket_number=None, reason="test", now=utcnow() - timedelta(days=40, minutes=5),
    )  # fmt: skip
    t = await site.create()
    await OutboxMessage.filter(transport="sms", ticket_number=t["number"]).update(
        status=OutboxStatus.SENT
    )
    c, _ = await _admin(site)
    page = (await c.get("/admin/outbox")).text
    assert "（最早的已等待 40天0小时）" in page and "分钟）" not in page
    mail = page[page.index('id="mail"') : page.index('id="failed"')]
    assert "未配置邮件服务器（SMTP_HOST），邮件只在发件箱中等待；设置 SMTP_HOST 后自动发送" in mail
    sms = page[page.index('id="sms"') : page.index('id="sms-failed"')]
    assert "短信网关为 log：短信只写入日志，并未真正发出" in sms
    assert "已写入日志（未真正发出） 1 条" in sms and "已发送 1 条" not in sms
