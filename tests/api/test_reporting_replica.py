"""REPORTING_DATABASE_URL: the dashboard's figures and the exports are read from the replica.

Two real databases that disagree on purpose — on SQLite the replica is a copy of the primary's
file taken before more tickets arrive; on PostgreSQL a second schema filled on its own — so
each answer shows which one it was read from. Sign-in and tickets stay on the primary.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.domain.models import Ticket, User
from hotline.domain.timefmt import SHANGHAI, utcnow
from hotline.runtime.config import load_settings
from hotline.runtime.db import DatabaseError, close_database, open_database
from hotline.runtime.deployment import Deployment
from hotline.runtime.reporting import reporting_reads
from hotline.services.overdue import overdue_summary
from hotline.services.users import issue_token, principal_of
from hotline.web.app import create_app
from tests.conftest import _postgres_schema
from tests.service.conftest import make_people
from tests.service.test_sweeper import ACCOUNTS, Env


async def overdue_tickets(deployment: Deployment, count: int, *, people: Any = None) -> Any:
    """`count` tickets dispatched to ZJJ whose deadline passed an hour ago."""
    now = utcnow()
    people = people or await make_people(deployment, ACCOUNTS, now=now)
    env = Env(deployment=deployment, people=people)
    for i in range(count):
        ticket = await env.dispatched(now, title=f"超时工单 {i}")
        await Ticket.filter(id=ticket.id).update(next_due_at=now - timedelta(hours=1))
    return people


def named(url: str) -> str:
    """Tortoise caches compiled inserts per connection name across contexts: PostgreSQL gets
    a name of its own here, as in tests/conftest.py."""
    return "pg" if url.startswith("postgres") else "default"


async def fill(url: str, deployment: Deployment, count: int) -> None:
    ctx = await open_database(url, connection=named(url))
    try:
        await overdue_tickets(deployment, count)
    finally:
        await close_database(ctx)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def databases(
    request: pytest.FixtureRequest, tmp_path: Path, deployment: Deployment
) -> AsyncIterator[tuple[str, str]]:
    """(primary, replica) URLs; the replica holds 1 overdue ticket, the primary 1 as well
    until the test adds more."""
    if request.param == "sqlite":
        primary = tmp_path / "hotline.db"
        await fill(f"sqlite://{primary}", deployment, 1)
        shutil.copy(primary, tmp_path / "replica.db")
        yield f"sqlite://{primary}", f"sqlite://{tmp_path / 'replica.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    sep = "&" if "?" in base else "?"
    urls = [f"{base}{sep}schema={s}" for s in schemas]
    for schema in schemas:
        await _postgres_schema(base, schema, drop=False)
    try:
        for url in urls:
            await fill(url, deployment, 1)
        yield urls[0], urls[1]
    finally:
        for schema in schemas:
            await _postgres_schema(base, schema, drop=True)


async def test_dashboard_figures_and_exports_are_read_from_the_replica(
    databases: tuple[str, str], deployment: Deployment
) -> None:
    primary, replica = databases
    ctx = await open_database(primary, reporting_url=replica, connection=named(primary))
    try:
        # Two more overdue tickets reach the primary; the replica has not caught up.
        people = {
            u.username: principal_of(u)
            for u in await User.filter(username__in=["op", "sup", "zjj"]).prefetch_related("unit")
        }
        await overdue_tickets(deployment, 2, people=people)
        assert (await overdue_summary(now=utcnow()))["total"] == 3
        with reporting_reads() as replicated:
            assert replicated and (await overdue_summary(now=utcnow()))["total"] == 1
        # Back on the primary once the block ends.
        assert (await overdue_summary(now=utcnow()))["total"] == 3

        token = await issue_token(username="sup", now=utcnow())
        headers = {"Authorization": f"Bearer {token}"}
        app = create_app(load_settings(), deployment=deployment, manage_db=False, background=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            # The token is only on the primary: sign-in is not read from the replica.
            r = await client.get("/api/v1/stats/overdue", headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["total"] == 1
            # The reports' days are Beijing days (after 16:00 UTC it is already tomorrow there).
            today = utcnow().astimezone(SHANGHAI).date().isoformat()
            day = {"from": today, "to": today}
            volumes = await client.get("/api/v1/stats/volumes", params=day, headers=headers)
            assert volumes.json()["total"] == 1
            export = await client.get(
                "/api/v1/stats/rates", params={**day, "format": "csv"}, headers=headers
            )
            assert export.status_code == 200
            # The ticket list is work, not a report: the primary's three.
            listed = await client.get("/api/v1/tickets", headers=headers)
            assert listed.json()["total"] == 3
    finally:
        await close_database(ctx)


async def test_without_a_replica_reports_read_the_primary(
    tmp_path: Path, deployment: Deployment
) -> None:
    url = f"sqlite://{tmp_path / 'only.db'}"
    await fill(url, deployment, 2)
    ctx = await open_database(url)
    try:
        with reporting_reads() as replicated:
            assert not replicated and (await overdue_summary(now=utcnow()))["total"] == 2
    finally:
        await close_database(ctx)


async def test_an_unreachable_replica_stops_start_up_with_a_clear_line(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="REPORTING_DATABASE_URL"):
        await open_database(
            f"sqlite://{tmp_path / 'p.db'}",
            reporting_url="postgres://nobody@127.0.0.1:1/none",
        )
