"""Guessing query codes: limited per address and per ticket, shared by workers, never a lockout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from hotline.runtime.config import load_settings
from hotline.services.ratelimit import TrackLimiter
from hotline.web.app import create_app
from tests.api.conftest import World

# Counters shared by workers live in the database: each backend's upserts and locks.
pytestmark = pytest.mark.backends

T0 = 1_800_000_000.0  # a whole number of hours: windows start here


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _app(world: World) -> Any:
    return world.client._transport.app  # type: ignore[attr-defined]


def _limited(world: World) -> Clock:
    clock = Clock()
    _app(world).state.track_limiter = TrackLimiter(clock=clock)
    return clock


@asynccontextmanager
async def from_address(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _track(client: httpx.AsyncClient, number: str, code: str) -> httpx.Response:
    return await client.get(f"/api/v1/track/{number}", params={"code": code})


def _wrong(code: str) -> str:
    return "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"


async def test_too_many_wrong_codes_answer_429_with_retry_after(world: World) -> None:
    clock = _limited(world)
    t = await world.create()
    number, code = t["number"], t["query_code"]
    async with from_address(_app(world), "203.0.113.5") as c:
        statuses = [(await _track(c, number, _wrong(code))).status_code for _ in range(10)]
        assert statuses == [404] * 10
        clock.now = T0 + 15
        refused = await _track(c, number, _wrong(code))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "45"
        assert refused.json()["error"]["message"] == "查询码错误次数过多，请 45 秒后再试"
        # Over its limit the address gets 429 for the right code too: anything else would
        # tell the guesser which code is right.
        assert (await _track(c, number, code)).status_code == 429
        clock.now = T0 + 60
        assert (await _track(c, number, code)).status_code == 200


async def test_right_codes_do_not_use_up_the_address_limit(world: World) -> None:
    _limited(world)
    t = await world.create()
    async with from_address(_app(world), "198.51.100.7") as c:
        for _ in range(25):  # a family checking often, or many citizens behind one NAT
            assert (await _track(c, t["number"], t["query_code"])).status_code == 200
        wrong = [(await _track(c, t["number"], "ZZZZZZ")).status_code for _ in range(10)]
        assert wrong == [404] * 10


async def test_strangers_guessing_a_number_cannot_lock_out_its_citizen(world: World) -> None:
    _limited(world)
    t = await world.create()
    number, code = t["number"], t["query_code"]
    app = _app(world)
    # Many addresses guess at one ticket, a few each: 8 × 3 = 24 failures on the number.
    for i in range(8):
        async with from_address(app, f"192.0.2.{i + 10}") as c:
            for _ in range(3):
                assert (await _track(c, number, _wrong(code))).status_code == 404
    async with from_address(app, "192.0.2.200") as attacker:
        statuses = [(await _track(attacker, number, _wrong(code))).status_code for _ in range(5)]
        # Under attack each address gets 3 tries at this number, not the address limit of 10.
        assert statuses == [404, 404, 404, 429, 429]
        other = await world.create()
        assert (await _track(attacker, other["number"], other["query_code"])).status_code == 200
    async with from_address(app, "100.64.0.9") as citizen:
        assert (await _track(citizen, number, _wrong(code))).status_code == 404  # a typo
        ok = await _track(citizen, number, code)
        assert ok.status_code == 200 and ok.json()["number"] == number


async def test_two_app_instances_on_one_database_share_the_limit(
    world: World, deployment: Any
) -> None:
    clock = Clock()
    apps = [
        _app(world),
        create_app(load_settings(), deployment=deployment, manage_db=False, background=False),
    ]
    for app in apps:
        app.state.track_limiter = TrackLimiter(clock=clock)
    t = await world.create()
    statuses = []
    for i in range(12):  # alternating between the two "workers", as a load balancer would
        async with from_address(apps[i % 2], "203.0.113.77") as c:
            statuses.append((await _track(c, t["number"], _wrong(t["query_code"]))).status_code)
    assert statuses == [404] * 10 + [429, 429]


async def test_a_burst_of_concurrent_guesses_gets_no_more_answers_than_the_limit(
    world: World,
) -> None:
    import asyncio

    _limited(world)
    t = await world.create()
    async with from_address(_app(world), "203.0.113.99") as c:
        answers = await asyncio.gather(
            *(_track(c, t["number"], _wrong(t["query_code"])) for _ in range(25))
        )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [404] * 10 + [429] * 15


async def test_twenty_concurrent_right_codes_from_one_address_all_answer(world: World) -> None:
    """A district office or a carrier NAT: many citizens at once, each with the right code."""
    import asyncio

    _limited(world)
    t = await world.create()
    async with from_address(_app(world), "100.64.7.7") as c:
        answers = await asyncio.gather(
            *(_track(c, t["number"], t["query_code"]) for _ in range(20))
        )
    statuses = [r.status_code for r in answers]
    assert statuses.count(429) == 0 and statuses == [200] * 20


async def test_right_codes_amid_a_few_wrong_ones_are_never_refused(world: World) -> None:
    """Mixed load behind one address: typos (under the limit) beside many right codes."""
    import asyncio

    _limited(world)
    t = await world.create()
    async with from_address(_app(world), "100.64.7.8") as c:
        calls = [_track(c, t["number"], t["query_code"]) for _ in range(30)]
        for i in range(8):  # a typo every few requests
            calls.insert(i * 4, _track(c, t["number"], _wrong(t["query_code"])))
        answers = await asyncio.gather(*calls)
    statuses = [r.status_code for r in answers]
    assert statuses.count(404) == 8
    assert statuses.count(429) == 0 and statuses.count(200) == 30


async def test_a_burst_hiding_the_right_code_checks_no_more_codes_than_the_limit(
    world: World,
) -> None:
    """Thirty wrong codes and the right one at once: ten failures answered, nothing beyond."""
    import asyncio

    _limited(world)
    t = await world.create()
    wrongs = [f"W{i:05d}"[:6] for i in range(30)]
    async with from_address(_app(world), "203.0.113.123") as c:
        calls = [_track(c, t["number"], code) for code in wrongs]
        calls.insert(17, _track(c, t["number"], t["query_code"]))
        answers = await asyncio.gather(*calls)
    statuses = [r.status_code for r in answers]
    assert statuses.count(404) == 10
    # The right code is answered only if it was checked within the limit; either way at most
    # ten wrong codes were checked, as if the guesses had come one after another.
    assert statuses[17] in (200, 429)
    assert statuses.count(429) == 31 - 10 - (statuses[17] == 200)


async def test_admin_lists_a_guessing_address_masked_and_can_clear_it(world: World) -> None:
    from hotline.services.ratelimit import Rule

    # The real clock, as the admin list uses it; a day-long window so none ends mid-test.
    _app(world).state.track_limiter = TrackLimiter(per_address=(Rule(3, 86400),))
    t = await world.create()
    async with from_address(_app(world), "198.51.100.77") as c:
        for _ in range(3):
            assert (await _track(c, t["number"], _wrong(t["query_code"]))).status_code == 404
        assert (await _track(c, t["number"], t["query_code"])).status_code == 429
        listed = await world.client.get("/api/v1/admin/throttles", headers=world.headers["adm"])
        (entry,) = [i for i in listed.json()["items"] if i["scope"] == "addr"]
        assert entry["address"] == "198.51.100.*" and "198.51.100.77" not in listed.text
        assert (entry["failures"], entry["limit"], entry["label"]) == (3, 3, "进度查询：地址")
        cleared = await world.client.post(
            f"/api/v1/admin/throttles/{entry['id']}/clear", headers=world.headers["adm"]
        )
        assert cleared.status_code == 200
        assert cleared.json()["message"] == "已解除：进度查询：地址 198.51.100.*，现在即可重新尝试"
        assert (await _track(c, t["number"], t["query_code"])).status_code == 200
