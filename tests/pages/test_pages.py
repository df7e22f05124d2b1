"""Staff pages over ASGI: sign-in, permissions per page and role, CSRF, throttling, idle
expiry, forms that keep their input, and the route preview."""

from __future__ import annotations

import time

import pytest

from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.web.app import create_app
from tests.pages.conftest import PASSWORD, Site, csrf_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PAGES = ["/operator", "/operator/queue", "/unit", "/unit/list", "/tickets"]
# Who may open which page (everyone else: a 403 page).
ALLOWED = {
    "/operator": {"op", "sup"},
    "/operator/queue": {"op", "sup"},
    "/unit": {"zjj", "rsj"},
    "/unit/list": {"zjj", "rsj"},
    "/tickets": {"op", "sup", "adm", "zjj", "rsj"},
}
NEXT = "/operator"
HOME = {"op": "/operator", "sup": "/supervisor", "adm": "/admin", "zjj": "/unit", "rsj": "/unit"}


async def test_signed_out_visitors_go_to_login(site: Site) -> None:
    t = await site.create()
    async with site.client() as c:
        for path in [*PAGES, f"/tickets/{t['number']}", f"/tickets/{t['number']}/print"]:
            r = await c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        r = await c.get("/login")
        assert r.status_code == 200 and 'lang="zh-CN"' in r.text
        assert '<label for="username">用户名</label>' in r.text
        # htmx polls get an HX-Redirect instead of a login page inside a fragment
        r = await c.get("/operator/queue", headers={"HX-Request": "true"})
        assert r.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize("who", sorted(HOME))
async def test_each_role_lands_home_and_sees_only_its_pages(site: Site, who: str) -> None:
    c = await site.login(who)
    r = await c.get("/")
    assert r.headers["location"] == HOME[who]
    for path in PAGES:
        r = await c.get(path)
        if who in ALLOWED[path]:
            assert r.status_code == 200, (who, path)
        else:
            assert r.status_code == 403, (who, path)
            assert "无权访问" in r.text and "请联系管理员" in r.text


async def test_security_headers_and_no_store(site: Site) -> None:
    c = await site.login("op")
    r = await c.get("/operator")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "script-src 'self';" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and " on" + "click=" not in r.text
    static = await c.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


async def test_session_cookie_flags(site: Site) -> None:
    async with site.client() as c:
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": "op", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        # a new CSRF token after sign-in: nothing from before carries over
        after = await c.get("/operator")
        assert csrf_of(after.text) != csrf_of(page.text)


async def test_wrong_password_keeps_username_then_throttles(site: Site) -> None:
    async with site.client() as c:
        for _ in range(5):
            page = await c.get("/login")
            r = await c.post(
                "/login",
                data={"username": "op", "password": "wrong", "csrf_token": csrf_of(page.text)},
            )
            assert r.status_code == 401
            assert "用户名或密码不正确" in r.text and 'value="op"' in r.text
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": "op", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 429 and "登录失败次数过多" in r.text and "之后再试" in r.text
    # the limit is per account: another account from the same address still signs in
    await site.login("sup")


async def test_throttle_per_address(site: Site) -> None:
    async with site.client(address="10.0.0.9") as c:
        for i in range(20):
            page = await c.get("/login")
            await c.post(
                "/login",
                data={"username": f"u{i}", "password": "x", "csrf_token": csrf_of(page.text)},
            )
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": "op", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 429


async def test_throttle_is_shared_by_every_worker(site: Site, deployment: Deployment) -> None:
    """A second worker (another app on the same database) refuses what the first counted."""
    other = Site(
        app=create_app(load_settings(), deployment=deployment, manage_db=False, background=False)
    )
    for worker in (site, other, site, other, site):
        async with worker.client() as c:
            page = await c.get("/login")
            r = await c.post(
                "/login",
                data={"username": "op", "password": "wrong", "csrf_token": csrf_of(page.text)},
            )
            assert r.status_code == 401
    async with other.client() as c:
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": "op", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 429 and "登录失败次数过多" in r.text


async def test_csrf_refusals(site: Site) -> None:
    async with site.client() as c:
        r = await c.post("/login", data={"username": "op", "password": PASSWORD})
        assert r.status_code == 403 and "CSRF" in r.text
    c = await site.login("op")
    t = await site.create()
    for token in (None, "wrong-token"):
        data = {"lead_unit": "ZJJ"} | ({"csrf_token": token} if token else {})
        r = await c.post(f"/tickets/{t['number']}/act/dispatch", data=data)
        assert r.status_code == 403 and "刷新后重新提交" in r.text
        r = await c.post("/logout", data=data)
        assert r.status_code == 403
    assert (await c.get("/operator")).status_code == 200  # still signed in, nothing changed
    # the API accepts the session for same-origin fetches, with the token for unsafe methods
    assert (await c.get(f"/api/v1/tickets/{t['number']}")).status_code == 200
    r = await c.post(f"/api/v1/tickets/{t['number']}/dispatch", json={"lead_unit": "ZJJ"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    token = csrf_of((await c.get("/operator")).text)
    r = await c.post(
        f"/api/v1/tickets/{t['number']}/dispatch",
        json={"lead_unit": "ZJJ"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200 and r.json()["status"] == "dispatched"


async def test_logout_ends_session(site: Site) -> None:
    c = await site.login("op")
    token = csrf_of((await c.get("/operator")).text)
    r = await c.post("/logout", data={"csrf_token": token})
    assert r.headers["location"] == "/login"
    assert (await c.get("/operator")).headers["location"] == "/login"


async def test_idle_session_expires(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    c = await site.login("op")
    real = time.time
    # polling does not keep a session alive
    monkeypatch.setattr(time, "time", lambda: real() + 29 * 60)
    r = await c.get("/operator/queue", headers={"X-Hotline-Poll": "1", "HX-Request": "true"})
    assert r.status_code == 200
    monkeypatch.setattr(time, "time", lambda: real() + 31 * 60)
    r = await c.get("/operator")
    assert r.status_code == 303 and r.headers["location"] == "/login?expired=1"
    r = await c.get("/login?expired=1")
    assert "长时间未操作，已自动退出" in r.text


async def test_activity_keeps_session(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    c = await site.login("op")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 20 * 60)
    assert (await c.get("/operator")).status_code == 200
    monkeypatch.setattr(time, "time", lambda: real() + 45 * 60)
    assert (await c.get("/operator")).status_code == 200


async def test_unit_sees_only_its_tickets(site: Site) -> None:
    t = await site.create()
    n = t["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    zjj = await site.login("zjj")
    r = await zjj.get(f"/tickets/{n}")
    assert r.status_code == 200 and "签收" in r.text and "查询码" not in r.text
    assert f"/tickets/{n}" in (await zjj.get("/unit")).text
    rsj = await site.login("rsj")
    for path in (f"/tickets/{n}", f"/tickets/{n}/print"):
        r = await rsj.get(path)
        assert r.status_code == 404 and "没有找到" in r.text
    r = await rsj.post(f"/tickets/{n}/act/sign", data={"csrf_token": csrf_of(r.text)})
    assert r.status_code == 404


async def test_action_form_validation_keeps_input(site: Site) -> None:
    t = await site.create()
    n = t["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(n, "sign", "zjj")
    zjj = await site.login("zjj")
    page = await zjj.get(f"/tickets/{n}")
    token = csrf_of(page.text)
    r = await zjj.post(
        f"/tickets/{n}/act/reply",
        data={"csrf_token": token, "text": "好", "note": "内部备注保留", "expected_version": "3"},
    )
    assert r.status_code == 422
    assert "必填，请填写" in r.text  # result missing
    assert "至少 5 个字" in r.text  # text too short
    assert "内部备注保留" in r.text and ">好</textarea>" in r.text
    r = await zjj.post(
        f"/tickets/{n}/act/request-extension",
        data={"csrf_token": token, "reason": "需要协调", "days": "99"},
    )
    assert r.status_code == 422 and "不能大于 60" in r.text and "需要协调" in r.text
    r = await zjj.post(
        f"/tickets/{n}/act/reply",
        data={
            "csrf_token": token,
            "result": "solved",
            "text": "已联系物业公司整改完毕。",
            "contacted": "on",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{n}"
    page = await zjj.get(f"/tickets/{n}")
    assert "已回复待回访" in page.text and f"工单 {n} 已回复" in page.text


async def test_version_conflict_on_accept(site: Site) -> None:
    t = await site.create()
    n = t["number"]
    op = await site.login("op")
    token = csrf_of((await op.get("/operator")).text)
    r = await op.post(
        f"/tickets/{n}/act/dispatch",
        data={"csrf_token": token, "expected_version": "1", "lead_unit": "ZJJ", "next": NEXT},
    )
    assert r.status_code == 303 and r.headers["location"] == "/operator"
    # a second operator accepting from a stale queue
    await site.act(n, "redispatch", "op", {"lead_unit": "RSJ"})
    r = await op.post(
        f"/tickets/{n}/act/redispatch",
        data={"csrf_token": token, "expected_version": "2", "lead_unit": "ZJJ", "next": NEXT},
    )
    assert r.status_code == 303 and r.headers["location"] == "/operator"
    page = await op.get("/operator")
    assert "刚被他人处理过" in page.text


async def test_operator_intake_answer_and_errors(site: Site) -> None:
    op = await site.login("op")
    token = csrf_of((await op.get("/operator")).text)
    r = await op.post(
        "/operator/tickets",
        data={"csrf_token": token, "phone": "13900001111", "title": "问", "content": "短"},
    )
    assert r.status_code == 422 and "未受理" in r.text and 'value="13900001111"' in r.text
    r = await op.post(
        "/operator/tickets",
        data={
            "csrf_token": token,
            "do": "answer",
            "phone": "13900001111",
            "name": "王女士",
            "kind": "咨询",
            "urgency": "一般",
            "channel": "phone",
            "title": "社保转移怎么办理",
            "content": "想咨询社保转移接续需要到哪里办理。",
            "answer": "可在社保服务大厅或网上办理，需携带身份证。",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/operator"
    page = await op.get("/operator")
    assert "已受理并直接办结" in page.text
    caller = await op.get("/operator/caller?phone=13900001111")
    assert "社保转移怎么办理" in caller.text and "已办结" in caller.text


async def test_route_preview(site: Site) -> None:
    op = await site.login("op")
    token = csrf_of((await op.get("/operator")).text)
    r = await op.post(
        "/api/v1/route-preview",
        json={"kind": "求助", "title": "公司拖欠工资", "content": "公司拖欠工资三个月，老板不发"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lead_unit"]["name"] and body["rule"]
    async with site.client() as c:
        r = await c.post("/api/v1/route-preview", json={"title": "x"}, headers=site.bearer("zjj"))
        assert r.status_code == 403
    # nothing was created
    async with site.client() as c:
        r = await c.get("/api/v1/tickets", headers=site.bearer("op"))
        assert r.json()["total"] == 0


async def test_unit_workbench_groups(site: Site) -> None:
    a = (await site.create(title="待签收的工单"))["number"]
    b = (await site.create(title="重办的工单"))["number"]
    await site.act(a, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(b, "dispatch", "op", {"lead_unit": "ZJJ"})
    await site.act(b, "sign", "zjj")
    await site.act(b, "reply", "zjj", {"result": "solved", "text": "已处理完毕请查收"})
    await site.act(b, "callback", "op", {"contacted": True, "satisfaction": "不满意"})
    await site.act(b, "reopen", "op", {"reason": "市民不满意"})
    zjj = await site.login("zjj")
    html = (await zjj.get("/unit")).text
    sign_part = html.split('id="g-sign"')[1].split("</section>")[0]
    reopened = html.split('id="g-reopened"')[1].split("</section>")[0]
    assert a in sign_part and b not in sign_part
    assert b in reopened and a not in reopened
    assert "剩余" in sign_part  # remaining time in words


async def test_print_view(site: Site) -> None:
    n = (await site.create())["number"]
    op = await site.login("op")
    r = await op.get(f"/tickets/{n}/print")
    assert r.status_code == 200 and "工单处理单" in r.text and "/static/print.css" in r.text


async def test_search(site: Site) -> None:
    n = (await site.create(title="路灯损坏多日"))["number"]
    await site.create(title="别的事情", complainant={"phone": "13700000000"})
    op = await site.login("op")
    r = await op.get("/tickets", params={"q": "路灯"})
    assert n in r.text and "别的事情" not in r.text
    r = await op.get("/tickets", params={"phone": "13700000000"})
    assert "别的事情" in r.text and n not in r.text
    r = await op.get("/tickets", params={"from": "2026-13-01"})
    assert r.status_code == 422 and "受理日期起必须是 YYYY-MM-DD 格式的日期" in r.text


async def test_search_by_channel_shows_where_each_ticket_came_from(site: Site) -> None:
    web = (await site.create(title="网上反映路灯损坏", channel="web"))["number"]
    call = (await site.create(title="电话反映噪音扰民"))["number"]
    op = await site.login("op")
    r = await op.get("/tickets", params={"channel": "web"})
    assert web in r.text and call not in r.text
    assert '<th scope="col">来源</th>' in r.text and "<td>网站</td>" in r.text


async def test_console_lists_online_contacts_of_the_last_day(site: Site) -> None:
    """Tickets from the web form, WeChat and Open311 show in the operator's console."""
    web = (await site.create(title="网上反映路灯不亮", channel="web"))["number"]
    wx = (await site.create(title="微信反映噪音扰民", channel="wechat"))["number"]
    call = (await site.create(title="电话反映垃圾堆放"))["number"]
    op = await site.login("op")
    r = await op.get("/operator/queue", headers={"HX-Request": "true"})
    section = r.text[r.text.index("网上渠道新件") :]
    assert web in section and wx in section and call not in section
    assert "<td>网站</td>" in section and "<td>微信公众号</td>" in section
    assert section.index(wx) < section.index(web)  # newest first


async def test_ticket_page_and_print_view_show_limits_in_words(site: Site) -> None:
    """The 规定 column says 「24小时」「3个工作日」, not 24h / 3wd with a legend to decode them."""
    import re

    n = (await site.create())["number"]
    await site.act(n, "dispatch", "op", {"lead_unit": "ZJJ"})
    op = await site.login("op")
    for path in (f"/tickets/{n}", f"/tickets/{n}/print"):
        html = (await op.get(path)).text
        table = html.split('<table class="clocks">', 1)[1].split("</table>", 1)[0]
        cells = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td>", table)
        words = re.compile(r"\d+(小时|天|个工作日|个工作小时)")
        assert cells and all(words.fullmatch(c) for c in cells), (path, cells)
        assert "wd = 工作日" not in html
