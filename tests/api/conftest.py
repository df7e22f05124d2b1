"""API fixtures: the app over ASGI, demo-like units and one account per role."""

from __future__ import annotations

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

ACCOUNTS = [
    ("op", "operator", None),
    ("sup", "supervisor", None),
    ("adm", "admin", None),
    ("zjj", "unit", "ZJJ"),
    ("rsj", "unit", "RSJ"),
    ("jyj", "unit", "JYJ"),
]


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    """Deployment data loaded once (the classifier model takes a moment to load)."""
    return load_deployment(load_settings())


@dataclass
class World:
    """An API client and a bearer header per account."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    async def create(self, who: str = "op", **overrides: Any) -> dict[str, Any]:
        """Create a ticket (manual dispatch) and return its JSON."""
        body = {
            "kind": "投诉",
            # The operator sets the category, so the deadline policy does not hinge on the model.
            "category": "城乡建设",
            "title": "小区物业不作为",
            "content": "小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理。",
            "complainant": {"name": "张先生", "phone": "13812345678"},
            "auto_dispatch": False,
            **overrides,
        }
        r = await self.client.post("/api/v1/tickets", json=body, headers=self.headers[who])
        assert r.status_code == 201, r.text
        return r.json()

    async def confirm(
        self, number: str, who: str = "op", title: str = "举报工作人员违规", text: str = ""
    ) -> dict[str, Any]:
        """Confirm what units read of a 举报 or confidential ticket (needed before dispatch)."""
        body = {"title": title, "dispatch_text": text or "群众举报有关工作人员违规，请依法核查。"}
        return await self.act(number, "confirm-dispatch-text", who, body)

    async def act(
        self, number: str, action: str, who: str, body: Any = None, expect: int = 200
    ) -> dict[str, Any]:
        """Post one action and check the status code."""
        r = await self.client.post(
            f"/api/v1/tickets/{number}/{action}", json=body or {}, headers=self.headers[who]
        )
        assert r.status_code == expect, f"{action} by {who}: {r.status_code} {r.text}"
        return r.json()


@pytest.fixture
async def world(db: Any, deployment: Deployment) -> AsyncIterator[World]:
    """A fresh database with units, one account per role and an ASGI client."""
    await sync_units(deployment.extras["units"])
    settings = load_settings()
    app = create_app(settings, deployment=deployment, manage_db=False, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        w = World(client=client)
        for username, role, unit in ACCOUNTS:
            await create_user(
                username=username,
                role=role,
                password="secret-password",
                now=utcnow(),
                unit_code=unit,
                email=f"{username}@test.example",
            )
            token = await issue_token(username=username, now=utcnow())
            w.headers[username] = {"Authorization": f"Bearer {token}"}
        yield w
