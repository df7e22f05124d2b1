"""Page fixtures: the app over ASGI, one signed-in browser-like client per account."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from hotline.domain.timefmt import utcnow
from hotline.runtime.config import load_settings
from hotline.runtime.deployment import Deployment
from hotline.services.units import sync_units
from hotline.services.users import create_user, issue_token
from hotline.startup.bootstrap import load_deployment
from hotline.web.app import create_app

PASSWORD = "page-pass-123"
ACCOUNTS = [
    ("op", "operator", None),
    ("sup", "supervisor", None),
    ("adm", "admin", None),
    ("zjj", "unit", "ZJJ"),
    ("rsj", "unit", "RSJ"),
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    """Deployment data loaded once (the classifier model takes a moment to load)."""
    return load_deployment(load_settings())


@dataclass
class Site:
    """The app and helpers to sign in as each account."""

    app: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 1234))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    async def login(self, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
        c = self.client()
        page = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        )
        assert r.status_code == 303, r.text
        return c

    async def create(self, **overrides: Any) -> dict[str, Any]:
        """A ticket made through the API (manual dispatch)."""
        body = {
            "kind": "投诉",
            "category": "城乡建设",
            "title": "小区物业不作为",
            "content": "小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理。",
            "complainant": {"name": "张先生", "phone": "13812345678"},
            "auto_dispatch": False,
            **overrides,
        }
        async with self.client() as c:
            r = await c.post("/api/v1/tickets", json=body, headers=self.bearer("op"))
        assert r.status_code == 201, r.text
        return r.json()

    async def act(self, number: str, action: str, who: str, body: Any = None) -> dict[str, Any]:
        async with self.client() as c:
            r = await c.post(
                f"/api/v1/tickets/{number}/{action}", json=body or {}, headers=self.bearer(who)
            )
        assert r.status_code == 200, r.text
        return r.json()

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
async def site(db: Any, deployment: Deployment) -> AsyncIterator[Site]:
    """A fresh database with units and one account per role."""
    await sync_units(deployment.extras["units"])
    app = create_app(load_settings(), deployment=deployment, manage_db=False, background=False)
    s = Site(app=app)
    for username, role, unit in ACCOUNTS:
        await create_user(
            username=username,
            role=role,
            password=PASSWORD,
            now=utcnow(),
            unit_code=unit,
            display_name=f"{username} 显示名",
        )
        s.tokens[username] = await issue_token(username=username, now=utcnow())
    yield s
