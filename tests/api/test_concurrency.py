"""Two people acting on one ticket at once, and many tickets created at once."""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from tortoise.context import TortoiseContext, get_current_context

from hotline.domain.errors import HotlineError
from hotline.domain.lifecycle import ACTION_BODIES
from hotline.domain.models import Ticket, TicketClock, TicketEvent, User
from hotline.domain.schemas import TicketCreate
from hotline.domain.timefmt import local_day, utcnow
from hotline.runtime.db import tortoise_config
from hotline.runtime.deployment import Deployment
from hotline.services import tickets as ticket_service
from hotline.services.users import principal_of
from tests.api.conftest import World

# Row locks and conditional updates differ between SQLite and PostgreSQL.
pytestmark = pytest.mark.backends

NUMBER = re.compile(r"^(\d{8})-(\d{5})$")


class _Gate:
    """Hold every transaction of the ticket service until `parties` of them have started.

    Each request has read the ticket before its transaction begins, so with the gate all
    of them act on what they read before anyone wrote: the race that optimistic
    versioning (and the numbering upsert) must win, made certain instead of likely.
    """

    def __init__(self, parties: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.barrier = asyncio.Barrier(parties)
        real = ticket_service.in_transaction
        monkeypatch.setattr(
            ticket_service, "in_transaction", lambda *a, **k: _Gated(self.barrier, real(*a, **k))
        )


class _Gated:
    def __init__(self, barrier: asyncio.Barrier, inner: AbstractAsyncContextManager[Any]) -> None:
        self.barrier, self.inner = barrier, inner

    async def __aenter__(self) -> Any:
        async with asyncio.timeout(10):
            await self.barrier.wait()
        return await self.inner.__aenter__()

    async def __aexit__(self, *exc: Any) -> Any:
        return await self.inner.__aexit__(*exc)


async def _post(world: World, number: str, action: str, who: str, body: Any = None) -> Any:
    return await world.client.post(
        f"/api/v1/tickets/{number}/{action}", json=body or {}, headers=world.headers[who]
    )


async def _events(number: str, action: str) -> list[TicketEvent]:
    return list(await TicketEvent.filter(ticket__number=number, action=action))


@pytest.mark.parametrize("gated", [False, True], ids=["gather", "both-read-first"])
async def test_two_signs_at_once_one_wins(
    world: World, gated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = await world.create()
    number = t["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    if gated:
        _Gate(2, monkeypatch)
    first, second = await asyncio.gather(
        _post(world, number, "sign", "zjj"), _post(world, number, "sign", "zjj")
    )
    codes = sorted([first.status_code, second.status_code])
    assert codes == [200, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    if gated:
        # Both passed the state check on what they read: only the version check stops one.
        assert loser.json()["error"]["code"] == "version_conflict"
        assert "刷新" in loser.json()["error"]["message"]
    monkeypatch.undo()
    view = (
        await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers["sup"])
    ).json()
    assert [e["action"] for e in view["timeline"]] == ["create", "dispatch", "sign"]
    assert view["status"] == "handling" and view["version"] == 3
    receipts = await TicketClock.filter(ticket__number=number, kind="receipt")
    assert len(receipts) == 1 and receipts[0].met_at is not None


@pytest.mark.parametrize(
    "moves",
    [
        # The unit disputes while the centre corrects its own dispatch.
        [
            ("reject", "zjj", {"reason": "不属于本单位职责"}),
            ("redispatch", "op", {"lead_unit": "RSJ"}),
        ],
        # Two people urge at once: even moves that keep the status are one at a time.
        [("urge", "op", {"reason": "市民来电催问"}), ("supervise", "sup", {"reason": "领导督办"})],
    ],
    ids=["reject-vs-redispatch", "urge-vs-supervise"],
)
async def test_different_moves_read_at_once_only_one_applies(
    world: World, moves: list[tuple[str, str, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    t = await world.create()
    number = t["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    _Gate(2, monkeypatch)
    results = await asyncio.gather(*(_post(world, number, a, who, body) for a, who, body in moves))
    monkeypatch.undo()
    codes = [r.status_code for r in results]
    assert sorted(codes) == [200, 409], [r.text for r in results]
    winner = moves[codes.index(200)][0]
    loser = results[codes.index(409)].json()["error"]["code"]
    assert loser == "version_conflict"
    view = (
        await world.client.get(f"/api/v1/tickets/{number}", headers=world.headers["sup"])
    ).json()
    assert [e["action"] for e in view["timeline"]] == ["create", "dispatch", winner]
    assert view["version"] == 3


@pytest.mark.parametrize("gated", [False, True], ids=["gather", "all-in-flight"])
async def test_twenty_creates_at_once_get_twenty_consecutive_numbers(
    world: World, gated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = {local_day(utcnow())}
    if gated:
        _Gate(20, monkeypatch)
    created = await asyncio.gather(
        *(
            world.client.post(
                "/api/v1/tickets",
                headers=world.headers["op"],
                json={
                    "kind": "求助",
                    "title": f"路灯不亮 {i}",
                    "content": f"第 {i} 号路灯晚上不亮，行人不便。",
                    "auto_dispatch": False,
                },
            )
            for i in range(20)
        )
    )
    monkeypatch.undo()
    days.add(local_day(utcnow()))
    assert [r.status_code for r in created] == [201] * 20, [
        r.text for r in created if r.status_code != 201
    ]
    numbers = [r.json()["number"] for r in created]
    assert len(set(numbers)) == 20
    parsed = [NUMBER.match(n) for n in numbers]
    assert all(parsed), numbers
    assert {m.group(1) for m in parsed if m} <= days  # today's local date (Asia/Shanghai)
    assert sorted(int(m.group(2)) for m in parsed if m) == list(range(1, 21))
    # Each number leads to its own ticket and its own content.
    for r in created:
        got = await world.client.get(r.headers["location"], headers=world.headers["op"])
        assert got.json()["title"] == r.json()["title"]
    assert await Ticket.all().count() == 20


# ---- two workers: separate connection pools on one PostgreSQL ------------------------


@dataclass
class Worker:
    """A tortoise context with its own pool, and the contextvars in which it is current."""

    ctx: TortoiseContext
    env: contextvars.Context

    async def run(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """Run `work` in a task that talks to the database through this worker only."""
        return await asyncio.create_task(_catching(work), context=self.env.copy())


async def _pool() -> Any:
    return Ticket._meta.db._pool


async def _catching(work: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await work()
    except HotlineError as exc:
        return exc


@pytest.fixture
async def workers(world: World, database_url: str) -> AsyncIterator[tuple[Worker, Worker]]:
    """The test's own context and another process's view of the same database."""
    if not database_url.startswith("postgres"):
        pytest.skip("an in-memory SQLite database cannot be shared by two workers")
    first = get_current_context()
    assert first is not None
    # Depends on `world` so units and accounts exist before the second worker starts.
    other = TortoiseContext()
    env = contextvars.copy_context()
    env.run(other.__enter__)  # never exited: the copied context is simply dropped
    await asyncio.create_task(
        other.init(config=tortoise_config(database_url, connection="pg")), context=env.copy()
    )
    try:
        yield Worker(first, contextvars.copy_context()), Worker(other, env)
    finally:
        await asyncio.create_task(other.close_connections(), context=env.copy())


async def test_two_workers_sign_the_same_ticket(
    world: World,
    workers: tuple[Worker, Worker],
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = await world.create()
    number = t["number"]
    await world.act(number, "dispatch", "op", {"lead_unit": "ZJJ"})
    zjj = principal_of(await User.get(username="zjj").prefetch_related("unit"))
    now = utcnow()

    def sign(offset: int) -> Callable[[], Awaitable[Any]]:
        return lambda: ticket_service.perform_action(
            number=number,
            action="sign",
            body=ACTION_BODIES["sign"](),
            principal=zjj,
            now=now + timedelta(seconds=offset),
            deployment=deployment,
        )

    _Gate(2, monkeypatch)
    results = await asyncio.gather(workers[0].run(sign(1)), workers[1].run(sign(2)))
    monkeypatch.undo()
    errors = [r for r in results if isinstance(r, HotlineError)]
    assert len(errors) == 1 and (errors[0].status, errors[0].code) == (409, "version_conflict")
    # Seen from either worker, the ticket was signed once.
    # Two pools, so the two transactions really ran on two server connections.
    pools = [await w.run(_pool) for w in workers]
    assert pools[0] is not None and pools[1] is not None and pools[0] is not pools[1]
    for worker in workers:
        events = await worker.run(lambda: _events(number, "sign"))
        assert len(events) == 1
        ticket = await worker.run(lambda: Ticket.get(number=number))
        assert (ticket.status, ticket.version) == ("handling", 3)


async def test_two_workers_number_tickets_without_gaps_or_twins(
    world: World,
    workers: tuple[Worker, Worker],
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    op = principal_of(await User.get(username="op").prefetch_related("unit"))
    now = utcnow()
    data = TicketCreate.model_validate(
        {"kind": "求助", "title": "路灯不亮", "content": "路灯晚上不亮，行人不便。"}
    )

    def create() -> Callable[[], Awaitable[Any]]:
        return lambda: ticket_service.create_ticket(
            data=data,
            actor=ticket_service.Actor.of(op),
            now=now,
            deployment=deployment,
            auto_dispatch=False,
        )

    _Gate(20, monkeypatch)
    made = await asyncio.gather(*(workers[i % 2].run(create()) for i in range(20)))
    monkeypatch.undo()
    assert not [m for m in made if isinstance(m, Exception)]
    numbers = sorted(m.ticket.number for m in made)
    assert numbers == [f"{local_day(now)}-{i:05d}" for i in range(1, 21)]


async def test_two_tickets_merged_into_each_other_at_once_leave_one_open(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two operators spot the same duplicate pair and each merges one into the other."""
    a = (await world.create())["number"]
    b = (await world.create())["number"]
    _Gate(2, monkeypatch)
    results = await asyncio.gather(
        _post(world, a, "merge", "op", {"into": b}), _post(world, b, "merge", "sup", {"into": a})
    )
    monkeypatch.undo()
    codes = sorted(r.status_code for r in results)
    assert codes[0] == 200 and codes[1] in (409, 422), [r.text for r in results]
    statuses = sorted([(await Ticket.get(number=n)).status for n in (a, b)])
    # The citizen's matter stays open on exactly one ticket.
    assert statuses == ["merged", "received"]
