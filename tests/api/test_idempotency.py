"""A client that retries with the same Idempotency-Key gets the first result, not a twin."""

from __future__ import annotations

import asyncio

import pytest

from hotline.domain.models import Ticket, TicketEvent
from tests.api.conftest import World

# Row locks and conditional updates differ between SQLite and PostgreSQL.
pytestmark = pytest.mark.backends

BODY = {
    "kind": "投诉",
    "category": "城乡建设",
    "title": "小区物业不作为",
    "content": "小区物业公司收费后不履行职责，电梯经常坏，垃圾堆放多日无人清理。",
    "auto_dispatch": False,
}


def keyed(world: World, who: str, key: str) -> dict[str, str]:
    return {**world.headers[who], "Idempotency-Key": key}


async def test_a_retried_create_returns_the_first_ticket(world: World) -> None:
    first = await world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "op", "k-1"))
    again = await world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "op", "k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert (
        again.headers["Idempotent-Replayed"] == "true"
        and "Idempotent-Replayed" not in first.headers
    )
    assert await Ticket.all().count() == 1
    # Without a key, or with another key, each request is a new ticket.
    await world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "op", "k-2"))
    await world.client.post("/api/v1/tickets", json=BODY, headers=world.headers["op"])
    assert await Ticket.all().count() == 3


async def test_the_same_key_for_another_request_is_refused(world: World) -> None:
    await world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "op", "k-1"))
    other = {**BODY, "title": "另一件事情"}
    r = await world.client.post("/api/v1/tickets", json=other, headers=keyed(world, "op", "k-1"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"
    assert "换一个新的键" in r.json()["error"]["message"]
    bad = await world.client.post(
        "/api/v1/tickets", json=BODY, headers=keyed(world, "op", "x" * 200)
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_idempotency_key"


async def test_keys_are_per_user(world: World) -> None:
    a = await world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "op", "same"))
    b = await world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "sup", "same"))
    assert a.json()["number"] != b.json()["number"]


async def test_concurrent_twins_make_one_ticket(world: World) -> None:
    answers = await asyncio.gather(
        *(
            world.client.post("/api/v1/tickets", json=BODY, headers=keyed(world, "op", "burst"))
            for _ in range(6)
        )
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["number"] for r in answers}) == 1
    assert await Ticket.all().count() == 1


async def test_a_retried_action_happens_once(world: World) -> None:
    ticket = await world.create()
    number = ticket["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    url = f"/api/v1/tickets/{number}/sign"
    first = await world.client.post(url, json={}, headers=keyed(world, "zjj", "sign-1"))
    again = await world.client.post(url, json={}, headers=keyed(world, "zjj", "sign-1"))
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["status"] == "handling" and again.headers["Idempotent-Replayed"] == "true"
    assert await TicketEvent.filter(ticket__number=number, action="sign").count() == 1
    # A retry without the key is a second action, refused for the new status.
    plain = await world.client.post(url, json={}, headers=world.headers["zjj"])
    assert plain.status_code == 409
