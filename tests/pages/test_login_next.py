"""Sign-in remembers where the person was going, and only ever sends them somewhere on this site."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from hotline.web.next_path import safe_next
from tests.pages.conftest import PASSWORD, Site, csrf_of

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def _sign_in_from(c: httpx.AsyncClient, login_url: str) -> str:
    """Open `login_url`, post the form as a browser would; the redirect's target."""
    page = await c.get(login_url)
    assert page.status_code == 200
    hidden = dict(HIDDEN.findall(page.text))
    r = await c.post(
        "/login",
        data={**hidden, "username": "zjj", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


async def test_a_mail_link_opened_signed_out_lands_on_the_ticket_after_sign_in(site: Site) -> None:
    t = await site.create()
    await site.act(t["number"], "dispatch", "op", {"lead_unit": "ZJJ"})
    async with site.client() as c:
        r = await c.get(f"/tickets/{t['number']}")
        assert r.status_code == 303
        assert r.headers["location"] == f"/login?next=/tickets/{t['number']}"
        assert await _sign_in_from(c, r.headers["location"]) == f"/tickets/{t['number']}"
        page = await c.get(f"/tickets/{t['number']}")
        assert page.status_code == 200 and t["number"] in page.text


async def test_a_wrong_password_keeps_where_the_person_was_going(site: Site) -> None:
    async with site.client() as c:
        page = await c.get("/login?next=/unit")
        r = await c.post(
            "/login",
            data={
                "username": "zjj",
                "password": "wrong",
                "next": "/unit",
                "csrf_token": csrf_of(page.text),
            },
        )
        assert r.status_code == 401
        assert '<input type="hidden" name="next" value="/unit">' in r.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/tickets",
        "/\\evil.example",
        "\\\\evil.example",
        "http://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
    ],
)
async def test_sign_in_never_leaves_the_site(site: Site, target: str) -> None:
    """An open-redirect attempt: the person lands on their home page instead."""
    async with site.client() as c:
        location = await _sign_in_from(c, "/login?next=" + quote(target, safe=""))
        assert location == "/unit", target
    async with site.client() as c:  # posted straight at /login, bypassing the form
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={
                "username": "zjj",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_of(page.text),
            },
        )
        assert r.headers["location"] == "/unit", target


def test_only_same_site_paths_are_kept() -> None:
    assert safe_next("/tickets/20260101-00001?tab=events") == "/tickets/20260101-00001?tab=events"
    for bad in ("//x", "/\\x", "http://x/", "x", "", None, "/a\nb"):
        assert safe_next(bad) is None, bad
