"""Several processes on one PostgreSQL give the results of one: a city's deployment shape.

`python main.py --workers 2` (two uvicorn worker processes, no sweeper inside) takes tickets
from concurrent clients while two `python main.py sweeper` processes sweep every half second
over a backlog of overdue clocks and send the daily digest. Afterwards: every ticket number
is unique, every clock was warned or breached exactly once with one mail each, and the
digest went out once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.domain.models import JobRun, TicketClock, TicketEvent
from hotline.domain.timefmt import utcnow
from hotline.outbox.models import OutboxMessage
from hotline.runtime.config import load_settings
from hotline.runtime.db import close_database, open_database
from hotline.startup.bootstrap import load_deployment
from tests.conftest import _postgres_schema
from tests.e2e.test_server import MAIN, _cli, _env, _needs_model, running_server
from tests.service.conftest import make_people
from tests.service.test_sweeper import ACCOUNTS, Env

pytestmark = pytest.mark.postgres

BREACHING = 30  # dispatched 3 days ago: the receipt clock (24 h) is overdue
WARNING = 15  # dispatched 20 hours ago: past the receipt clock's warning point (18 h)
NEW = 40  # created over HTTP while the sweepers run
SWEEPERS = 2


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("set TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    await _postgres_schema(base, schema, drop=False)
    try:
        yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    finally:
        await _postgres_schema(base, schema, drop=True)


async def seed(url: str) -> None:
    """Accounts and a backlog of dispatched tickets whose clocks are due."""
    ctx = await open_database(url, connection="pg")
    try:
        deployment = load_deployment(load_settings(), with_model=False)
        now = utcnow()
        env = Env(deployment=deployment, people=await make_people(deployment, ACCOUNTS, now=now))
        for i in range(BREACHING):
            await env.dispatched(now - timedelta(days=3), title=f"逾期未签收 {i}")
        for i in range(WARNING):
            await env.dispatched(now - timedelta(hours=20), title=f"即将超时 {i}")
    finally:
        await close_database(ctx)


@contextmanager
def sweepers(cwd: Path, env: dict[str, str], count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` standalone `python main.py sweeper` processes, stopped after."""
    procs = []
    try:
        for i in range(count):
            log = (cwd / f"sweeper{i}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(MAIN), "sweeper"],
                    cwd=cwd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


async def create(client: httpx.AsyncClient, token: str, i: int) -> str:
    r = await client.post(
        "/api/v1/tickets",
        json={
            "kind": "投诉",
            "category": "城乡建设",
            "title": f"小区电梯故障 {i}",
            "content": "小区三号楼电梯坏了两个多星期，物业一直不修，老人上下楼困难。",
            "complainant": {"name": "刘女士", "phone": "13907311846"},
            "auto_dispatch": False,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["number"])


async def counts(url: str) -> dict[str, Any]:
    ctx = await open_database(url, connection="pg")
    try:
        events = await TicketEvent.filter(action__startswith="sla_").values_list(
            "ticket_id", "action", "payload"
        )
        keys = [(t, a, p["clock"], p["generation"]) for t, a, p in events]
        return {
            "keys": keys,
            "breach_mails": await OutboxMessage.filter(reason="breach").count(),
            "warning_mails": await OutboxMessage.filter(reason="warning").count(),
            "digests": await OutboxMessage.filter(reason="digest").count(),
            "digest_runs": await JobRun.filter(name="digest").values_list(
                "attempts", "finished_at"
            ),
            "breached": await TicketClock.filter(breached=True).count(),
            "warned_only": await TicketClock.filter(warned=True, breached=False).count(),
            "due_left": await TicketClock.filter(
                is_open=True, breached=False, due_at__lte=utcnow() - timedelta(seconds=5)
            ).count(),
        }
    finally:
        await close_database(ctx)


async def test_two_web_workers_and_two_sweepers_act_as_one(pg_url: str, tmp_path: Path) -> None:
    _needs_model()
    await seed(pg_url)
    env = _env(pg_url, SECRET_KEY="several-workers-shared-key")
    issued = _cli(env, "users", "token", "op", cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    # Every sweeper sweeps twice a second and may send today's digest at once.
    sweeping = {**env, "SWEEP_INTERVAL": "0.5", "DIGEST_HOUR": "0"}
    with (
        running_server(tmp_path, env, "--workers", "2") as url,
        sweepers(tmp_path, sweeping, SWEEPERS),
    ):
        async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
            numbers = await asyncio.gather(*(create(client, token, i) for i in range(NEW)))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen = await counts(pg_url)
            if len(seen["keys"]) >= BREACHING + WARNING and seen["digests"]:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(3)  # several more rounds of both sweepers: nothing more to do
        seen = await counts(pg_url)
    assert len(set(numbers)) == NEW
    # Each due clock escalated once, by whichever sweeper claimed it first, with one mail.
    breaches = sum(1 for k in seen["keys"] if k[1] == "sla_breach")
    warnings = len(seen["keys"]) - breaches
    assert len(seen["keys"]) == len(set(seen["keys"]))
    assert breaches >= BREACHING and seen["due_left"] == 0
    assert breaches == seen["breached"] == seen["breach_mails"]
    assert warnings == seen["warning_mails"] and warnings >= seen["warned_only"]
    # The digest: one claim, one attempt, one mail.
    assert seen["digests"] == 1
    [(attempts, finished)] = seen["digest_runs"]
    assert attempts == 1 and finished is not None
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("sweeper*.log"))
    assert "Traceback" not in logs, logs[-3000:]
