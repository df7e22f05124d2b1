"""Page sessions live on the server: sign-out, a password change, disabling an account and an
admin's 全部登出 end them at the next request on every worker; background polls cannot keep one
alive; no session outlives SESSION_MAX_HOURS."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx
import pytest
from starlette.datastructures import Secret

from hotline.domain.models import WebSession
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.web.app import create_app
from hotline.web.session import COOKIE
from tests.pages.conftest import PASSWORD, Site, csrf_of

NEW_PASSWORD = "new-pass-4567"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# Sessions shared by workers through the database: SQLite and PostgreSQL (tests/conftest.py).
BOTH = pytest.mark.backends


def _copy(site: Site, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser holding a copy of `client`'s session cookie (and nothing else)."""
    other = site.client()
    other.cookies.set(COOKIE, client.cookies[COOKIE])
    return other


async def _status(site: Site, number: str) -> str:
    async with site.client() as c:
        r = await c.get(f"/api/v1/tickets/{number}", headers=site.bearer("op"))
    return str(r.json()["status"])


async def _refused(client: httpx.AsyncClient, reason: str = "revoked") -> None:
    r = await client.get("/operator")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/login?expired={reason}"


async def _admin_post(site: Site, path: str) -> httpx.Response:
    adm = await site.login("adm")
    token = csrf_of((await adm.get("/admin")).text)
    return await adm.post(path, data={"csrf_token": token})


@BOTH
async def test_old_cookie_and_token_cannot_act_after_logout(site: Site) -> None:
    t = await site.create()
    n = t["number"]
    c = await site.login("op")
    token = csrf_of((await c.get(f"/tickets/{n}")).text)
    stolen = _copy(site, c)
    r = await c.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    # the copy made before sign-out, with the page's CSRF token: to sign-in, nothing changes
    r = await stolen.post(
        f"/tickets/{n}/act/dispatch", data={"csrf_token": token, "lead_unit": "ZJJ"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/login?expired=revoked"
    r = await stolen.post(
        f"/api/v1/tickets/{n}/dispatch", json={"lead_unit": "ZJJ"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 401
    assert await _status(site, n) == "received"
    page = await stolen.get("/login?expired=revoked")
    assert "您的登录已失效" in page.text and "请重新登录" in page.text


@SQLITE
async def test_own_password_change_ends_the_other_sessions_and_keeps_this_one(site: Site) -> None:
    here = await site.login("op")
    there = await site.login("op")
    page = await here.get("/account")
    assert page.text.count('id="session-') == 2 and "本机" in page.text
    token = csrf_of(page.text)
    r = await here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": "wrong-pass",
            "new": NEW_PASSWORD,
            "again": NEW_PASSWORD,
        },
    )
    assert r.status_code == 422 and "当前密码不正确" in r.text
    assert (await there.get("/operator")).status_code == 200  # a wrong one changes nothing
    r = await here.post(
        "/account/password",
        data={"csrf_token": token, "current": PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD},
    )
    assert r.status_code == 303
    page = await here.get("/account")
    assert "密码已修改，其他 1 个设备上的登录已退出" in page.text
    assert page.text.count('id="session-') == 1
    await _refused(there)
    assert (await here.get("/operator")).status_code == 200
    await site.login("op", NEW_PASSWORD)


@SQLITE
async def test_admin_password_reset_ends_every_session_of_the_user(site: Site) -> None:
    a, b = await site.login("op"), await site.login("op")
    r = await _admin_post(site, "/admin/users/op/reset-password")
    assert r.status_code == 200 and 'id="new-password"' in r.text
    await _refused(a)
    await _refused(b)


@SQLITE
async def test_disabling_ends_sessions_and_enabling_does_not_revive_them(site: Site) -> None:
    c = await site.login("op")
    old = _copy(site, c)
    assert (await c.get("/operator")).status_code == 200
    await _admin_post(site, "/admin/users/op/disable")
    await _refused(c)
    await _admin_post(site, "/admin/users/op/enable")
    await _refused(old)
    await site.login("op")  # signing in again works


@SQLITE
async def test_admin_signs_a_user_out_everywhere_from_the_page(site: Site) -> None:
    a, b = await site.login("zjj"), await site.login("zjj")
    adm = await site.login("adm")
    page = await adm.get("/admin")
    row = page.text.split('id="user-zjj"')[1].split("</tr>")[0]
    assert '/admin/users/zjj/sessions" title="查看登录的设备">2</a>' in row and "全部登出" in row
    listed = await adm.get("/admin/users/zjj/sessions")
    assert listed.text.count('id="session-') == 2 and "127.0.0.1" in listed.text
    assert (await adm.get("/admin/users/nobody/sessions")).status_code == 404
    r = await adm.post(
        "/admin/users/zjj/sign-out-everywhere", data={"csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303
    page = await adm.get("/admin")
    assert "已结束 zjj 的 2 个页面登录，对方需重新登录" in page.text
    for c in (a, b):
        r = await c.get("/unit")
        assert r.headers["location"] == "/login?expired=revoked"
    assert (await adm.get("/admin")).status_code == 200  # the admin's own session stays


@SQLITE
async def test_admin_api_signs_a_user_out_everywhere(site: Site) -> None:
    c = await site.login("op")
    async with site.client() as api:
        r = await api.post("/api/v1/admin/users/op/sign-out-everywhere", headers=site.bearer("adm"))
        assert r.status_code == 200
        assert r.json() == {
            "username": "op",
            "signed_out": 1,
            "message": "已结束 op 的 1 个页面登录，对方需重新登录",
        }
        r = await api.post("/api/v1/admin/users/op/sign-out-everywhere", headers=site.bearer("op"))
        assert r.status_code == 403
        r = await api.post(
            "/api/v1/admin/users/nobody/sign-out-everywhere", headers=site.bearer("adm")
        )
        assert r.status_code == 404
    await _refused(c)


@SQLITE
async def test_user_signs_out_other_devices(site: Site) -> None:
    here, there = await site.login("sup"), await site.login("sup")
    page = await here.get("/account")
    r = await here.post("/account/sign-out-others", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert "已退出其他 1 个设备上的登录" in (await here.get("/account")).text
    r = await there.get("/supervisor")
    assert r.headers["location"] == "/login?expired=revoked"


def _at(monkeypatch: pytest.MonkeyPatch, real: Any, minutes: float) -> None:
    monkeypatch.setattr(time, "time", lambda: real() + minutes * 60)


@SQLITE
async def test_polls_neither_count_as_activity_nor_keep_a_session_alive(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await site.login("op")
    real = time.time
    row = await WebSession.get()
    signed_in_at = row.last_seen_at
    poll = {"X-Hotline-Poll": "1", "HX-Request": "true"}
    for minute in range(5, 30, 5):  # an unattended screen refreshing its queues
        _at(monkeypatch, real, minute)
        assert (await c.get("/operator/queue", headers=poll)).status_code == 200
    await row.refresh_from_db()
    assert row.last_seen_at == signed_in_at  # measured on the server: no poll was activity
    _at(monkeypatch, real, 31)
    later = _copy(site, c)
    r = await c.get("/operator/queue", headers=poll)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/login?expired=1"
    r = await later.get("/operator")  # a real click after the idle end does not bring it back
    assert r.headers["location"] == "/login?expired=1"


@SQLITE
async def test_activity_is_written_at_most_every_30_seconds(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await site.login("op")
    real = time.time
    row = await WebSession.get()
    first = row.last_seen_at
    _at(monkeypatch, real, 0.25)
    assert (await c.get("/operator")).status_code == 200
    await row.refresh_from_db()
    assert row.last_seen_at == first
    _at(monkeypatch, real, 1)
    assert (await c.get("/operator")).status_code == 200
    await row.refresh_from_db()
    assert 55 <= (row.last_seen_at - first).total_seconds() <= 65


@SQLITE
async def test_no_session_outlives_its_absolute_lifetime(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await site.login("op")
    real = time.time
    for minute in range(20, 12 * 60, 20):  # busy all day: never idle
        _at(monkeypatch, real, minute)
        assert (await c.get("/operator")).status_code == 200, minute
    _at(monkeypatch, real, 12 * 60 + 1)
    r = await c.get("/operator")
    assert r.status_code == 303 and r.headers["location"] == "/login?expired=lifetime"
    page = await c.get(r.headers["location"])
    assert "登录已满 12 小时，为安全起见已自动退出。请重新登录。" in page.text


@SQLITE
async def test_the_database_holds_only_a_digest_of_the_cookie_key(site: Site) -> None:
    c = await site.login("rsj")
    cookie = c.cookies[COOKIE]
    row = await WebSession.get().prefetch_related("user")
    assert row.user.username == "rsj" and row.address == "127.0.0.1"
    assert len(row.key_hash) == 64 and row.key_hash not in cookie


@BOTH
async def test_a_sign_out_on_one_worker_is_seen_by_another(
    db: Any, deployment: Deployment, site: Site
) -> None:
    """Two app instances on one database (as two workers share one SECRET_KEY and database)."""
    settings = dataclasses.replace(load_settings(), secret_key=Secret("one-key-for-all-workers"))
    one, two = (
        Site(app=create_app(settings, deployment=deployment, manage_db=False, background=False))
        for _ in range(2)
    )
    c = await one.login("op")
    elsewhere = _copy(two, c)
    assert (await elsewhere.get("/operator")).status_code == 200  # worker two knows the session
    await _refused_after(one, c, elsewhere, "/logout")
    # the same with the admin's 全部登出 given on worker two, seen by worker one
    c = await two.login("zjj")
    elsewhere = _copy(one, c)
    assert (await elsewhere.get("/unit")).status_code == 200
    adm = await two.login("adm")
    token = csrf_of((await adm.get("/admin")).text)
    await adm.post("/admin/users/zjj/sign-out-everywhere", data={"csrf_token": token})
    r = await elsewhere.get("/unit")
    assert r.headers["location"] == "/login?expired=revoked"


async def _refused_after(
    site: Site, client: httpx.AsyncClient, elsewhere: httpx.AsyncClient, path: str
) -> None:
    token = csrf_of((await client.get("/operator")).text)
    assert (await client.post(path, data={"csrf_token": token})).status_code == 303
    await _refused(elsewhere)


@SQLITE
async def test_a_signed_in_request_costs_one_session_lookup_and_no_write(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.api.test_statement_count import counting

    c = await site.login("op")
    real = time.time
    _at(monkeypatch, real, 0.05)  # well inside the 30 s, even on a loaded machine
    with counting() as statements:
        assert (await c.get("/operator")).status_code == 200
    session_sql = [s for s in statements if "web_session" in s]
    assert len(session_sql) == 1 and "app_user" in session_sql[0]  # one lookup, user joined
    assert "UPDATE" not in session_sql[0].upper()
    _at(monkeypatch, real, 1)
    with counting() as statements:
        assert (await c.get("/operator")).status_code == 200
    updates = [s for s in statements if "web_session" in s and "UPDATE" in s.upper()]
    assert len(updates) == 1  # real activity written once, 30 s or more after the last
