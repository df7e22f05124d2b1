"""Right answers at once against a real `python main.py`: no 429 for the right person.

A district office or a call centre behind one NAT: twenty citizens track their tickets with
the right codes at the same moment, some typos among them, and ten sign-ins with the right
password start together. Run with `-s` to see the counts. SQLite with one worker; with
TEST_DATABASE_URL, PostgreSQL with two workers sharing the limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server import (
    _cli,
    _env,
    _needs_model,
    running_server,
    server_url,  # noqa: F401 - the fixture: SQLite file, or a fresh PostgreSQL schema
)

PASSWORD = "e2e-password-1"
ADDRESS_ROUNDS = 3  # bursts, so a count near a window's end cannot pass by luck


@pytest.fixture
def served(server_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:  # noqa: F811
    """(base URL, operator token): PostgreSQL gets two workers, SQLite the default one."""
    _needs_model()
    env = _env(server_url, SECRET_KEY="limits-concurrency-shared-key")
    added = _cli(env, "users", "add", "--username", "shift-op", "--role", "operator",
                 "--name", "话务员", stdin=f"{PASSWORD}\n", cwd=tmp_path)  # fmt: skip
    assert added.returncode == 0, added.stderr
    issued = _cli(env, "users", "token", "shift-op", cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    workers = ["--workers", "2"] if server_url.startswith("postgres") else []
    with running_server(tmp_path, env, *workers) as url:
        yield url, issued.stdout.strip().splitlines()[-1]


async def _track(url: str, number: str, code: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as c:  # its own connection
        return (await c.get(f"/api/v1/track/{number}", params={"code": code})).status_code


async def _sign_in(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as c:
        page = await c.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        r = await c.post(
            "/login", data={"username": "shift-op", "password": PASSWORD, "csrf_token": token}
        )
        return r.status_code


async def test_concurrent_right_answers_are_never_refused(served: tuple[str, str]) -> None:
    url, token = served
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as c:
        r = await c.post(
            "/api/v1/tickets",
            json={
                "kind": "投诉",
                "category": "城乡建设",
                "title": "小区电梯长期故障",
                "content": "小区三号楼电梯坏了两个多星期，物业一直不修，老人上下楼困难。",
                "complainant": {"name": "刘女士", "phone": "13907311846"},
                "auto_dispatch": False,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 201, r.text
    number, code = r.json()["number"], r.json()["query_code"]
    wrong = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    track_429 = mixed_429 = typos = login_429 = 0
    started = time.monotonic()
    for _ in range(ADDRESS_ROUNDS):
        right = await asyncio.gather(*(_track(url, number, code) for _ in range(20)))
        track_429 += right.count(429)
        assert right.count(200) + right.count(429) == 20, right
    # Mixed load: 3 typos among 20 right codes per burst (9 in all: under the 10 a minute).
    for _ in range(ADDRESS_ROUNDS):
        calls = [_track(url, number, code) for _ in range(20)]
        for i in range(3):
            calls.insert(i * 7, _track(url, number, wrong))
        answers = await asyncio.gather(*calls)
        typos += answers.count(404)
        mixed_429 += sum(s == 429 for i, s in enumerate(answers) if i not in (0, 7, 14))
    for _ in range(ADDRESS_ROUNDS):
        signed = await asyncio.gather(*(_sign_in(url) for _ in range(10)))
        assert signed.count(303) + signed.count(429) == 10, signed
        login_429 += signed.count(429)
    print(
        f"\nconcurrent right answers from one address ({ADDRESS_ROUNDS} bursts each): "
        f"tracking 20 → {track_429} × 429; tracking 20 right + 3 wrong → {mixed_429} × 429 "
        f"among right codes; sign-in 10 → {login_429} × 429 "
        f"({time.monotonic() - started:.1f} s)"
    )
    assert (track_429, mixed_429, login_429) == (0, 0, 0)
    assert typos == 3 * ADDRESS_ROUNDS
