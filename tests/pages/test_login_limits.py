"""Sign-in limits that stop guessers without locking out the right person.

Through the ASGI app, on SQLite and (with TEST_DATABASE_URL) PostgreSQL: concurrent right
passwords are never refused; failures are limited per (account, address) and per address;
an account under attack elsewhere still signs in from an address it has used before.
"""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from hotline.domain.timefmt import utcnow
from hotline.services.users import create_user
from tests.pages.conftest import PASSWORD, Site, csrf_of

# Counters shared by workers live in the database: each backend's upserts and locks.
pytestmark = pytest.mark.backends

ATTACKER = "203.0.113.66"
OFFICE = "10.20.30.40"  # a call centre's NAT: many operators, one address


async def _sign_in(site: Site, username: str, password: str, address: str) -> httpx.Response:
    async with site.client(address) as c:
        page = await c.get("/login")
        return await c.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        )


async def test_ten_concurrent_right_sign_ins_from_one_address_are_all_let_in(site: Site) -> None:
    """A shift starting behind one NAT: one account in ten tabs, and ten colleagues at once."""
    same = await asyncio.gather(*(_sign_in(site, "op", PASSWORD, OFFICE) for _ in range(10)))
    assert [r.status_code for r in same] == [303] * 10
    for i in range(10):
        await create_user(username=f"shift{i}", role="operator", password=PASSWORD, now=utcnow())
    many = await asyncio.gather(*(_sign_in(site, f"shift{i}", PASSWORD, OFFICE) for i in range(10)))
    assert [r.status_code for r in many] == [303] * 10


async def test_wrong_passwords_elsewhere_never_stop_an_address_the_user_signed_in_from(
    site: Site,
) -> None:
    assert (await _sign_in(site, "op", PASSWORD, OFFICE)).status_code == 303
    # Someone who knows the user name keeps guessing from elsewhere.
    tried = [(await _sign_in(site, "op", f"guess-{i}", ATTACKER)).status_code for i in range(12)]
    assert tried == [401] * 5 + [429] * 7
    started = time.monotonic()
    r = await _sign_in(site, "op", PASSWORD, OFFICE)
    assert r.status_code == 303 and r.headers["location"] == "/operator"
    assert time.monotonic() - started < 0.9  # not even slowed down


async def test_an_account_under_attack_only_slows_sign_in_from_new_addresses(site: Site) -> None:
    for i in range(3):  # failures spread over addresses, each under its own limits
        for j in range(3):
            r = await _sign_in(site, "op", f"guess-{i}-{j}", f"198.51.100.{i + 1}")
            assert r.status_code == 401
    started = time.monotonic()
    r = await _sign_in(site, "op", PASSWORD, "192.0.2.50")  # never used by op before
    assert r.status_code == 303  # let in: the account-wide count never refuses
    assert time.monotonic() - started >= 1.0  # but slowed, so spreading guesses costs time


async def test_wrong_passwords_are_limited_per_account_and_address(site: Site) -> None:
    for _ in range(5):
        assert (await _sign_in(site, "op", "wrong", ATTACKER)).status_code == 401
    r = await _sign_in(site, "op", PASSWORD, ATTACKER)  # the right one too: no oracle
    assert r.status_code == 429
    assert "登录失败次数过多" in r.text and "之后再试" in r.text
    assert 1 <= int(r.headers["retry-after"]) <= 600
    # Another account at the same address is not held up by op's failures.
    assert (await _sign_in(site, "sup", PASSWORD, ATTACKER)).status_code == 303


async def test_an_address_trying_many_accounts_is_refused_except_for_its_own_users(
    site: Site,
) -> None:
    assert (await _sign_in(site, "sup", PASSWORD, OFFICE)).status_code == 303
    for i in range(20):
        assert (await _sign_in(site, f"nobody{i}", "x", OFFICE)).status_code == 401
    refused = await _sign_in(site, "op", PASSWORD, OFFICE)  # op never signed in here
    assert refused.status_code == 429 and "登录失败次数过多" in refused.text
    # sup has signed in here before: a colleague's (or an intruder's) guessing does not stop sup.
    assert (await _sign_in(site, "sup", PASSWORD, OFFICE)).status_code == 303


CLEAR = re.compile(r'action="/admin/throttles/([0-9a-f]+)/clear"')
ROW = re.compile(r'<tr id="throttle-.*?</tr>', re.S)
LABELS = ("登录：账号＋地址", "登录：账号（各地址合计）")


async def test_admin_sees_who_is_throttled_and_clears_it(site: Site) -> None:
    for _ in range(5):
        assert (await _sign_in(site, "op", "wrong", ATTACKER)).status_code == 401
    assert (await _sign_in(site, "op", PASSWORD, ATTACKER)).status_code == 429
    admin = await site.login("adm")
    page = await admin.get("/admin/throttles")
    assert page.status_code == 200
    html = page.text
    assert "op" in html and "203.0.113.*" in html and ATTACKER not in html
    rows = {label: row for row in ROW.findall(html) for label in LABELS if label in row}
    assert set(rows) == set(LABELS), html  # op's failures at this address, and op's in all
    assert "5 / 5" in rows["登录：账号＋地址"] and "203.0.113.*" in rows["登录：账号＋地址"]
    assert "等待 1 秒" in rows["登录：账号（各地址合计）"]  # only slowed, never refused
    (pair,) = CLEAR.findall(rows["登录：账号＋地址"])
    # Without the CSRF token nothing is cleared.
    assert (await admin.post(f"/admin/throttles/{pair}/clear")).status_code == 403
    r = await admin.post(f"/admin/throttles/{pair}/clear", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/throttles"
    after = await admin.get("/admin/throttles")
    assert "已解除：登录：账号＋地址 op @ 203.0.113.*" in after.text
    assert pair not in CLEAR.findall(after.text)
    assert (await _sign_in(site, "op", PASSWORD, ATTACKER)).status_code == 303
    async with site.client() as c:  # other roles do not see the page
        assert (await c.get("/admin/throttles")).status_code in (303, 403)
    op = await site.login("op")
    assert (await op.get("/admin/throttles")).status_code == 403


async def test_admin_api_lists_and_clears_throttles(site: Site) -> None:
    for _ in range(5):
        await _sign_in(site, "op", "wrong", ATTACKER)
    async with site.client() as c:
        assert (
            await c.get("/api/v1/admin/throttles", headers=site.bearer("op"))
        ).status_code == 403
        listed = await c.get("/api/v1/admin/throttles", headers=site.bearer("adm"))
        assert listed.status_code == 200
        items = listed.json()["items"]
        pair = next(i for i in items if i["scope"] == "login-pair")
        assert pair["account"] == "op" and pair["address"] == "203.0.113.*"
        assert pair["failures"] == 5 and pair["limit"] == 5 and pair["effect"] == "refused"
        assert pair["until"].endswith("+08:00")
        assert ATTACKER not in listed.text
        r = await c.post(f"/api/v1/admin/throttles/{pair['id']}/clear", headers=site.bearer("adm"))
        assert r.status_code == 200 and r.json()["message"].startswith("已解除")
        again = await c.post(
            f"/api/v1/admin/throttles/{pair['id']}/clear", headers=site.bearer("adm")
        )
        assert again.status_code == 404 and "刷新" in again.json()["error"]["message"]
    assert (await _sign_in(site, "op", PASSWORD, ATTACKER)).status_code == 303
