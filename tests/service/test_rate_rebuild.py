"""`rebuild-rates` is atomic for readers and loses no action taken while it runs.

A reader on its own connection (another process in production: the server, while the
command runs) polls a fingerprint of the rate tables during the whole rebuild; every
reading is the old state or the new one, never a mix. Meanwhile actions go on through the
ticket service; after the rebuild the rows and the rollup equal the pure rows of the whole
log. On SQLite (a file, as in production) and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from tortoise.context import TortoiseContext

from hotline.domain.models import RateAssignment, RateDaily
from hotline.runtime.db import tortoise_config
from hotline.runtime.deployment import Deployment
from hotline.services import fulltext
from hotline.services.rate_rows import rebuild_rates
from hotline.services.ticket_search import TICKETS
from tests.conftest import _postgres_schema
from tests.service.test_rate_rows import (
    make_history,
    pure_days,
    pure_rows,
    stored_days,
    stored_rows,
)

FINGERPRINT = (
    "SELECT (SELECT COUNT(*) FROM rate_assignment), "
    "(SELECT COALESCE(SUM(signed), 0) FROM rate_assignment), "
    "(SELECT COUNT(*) FROM rate_callback), "
    "(SELECT COALESCE(SUM(dispatched), 0) FROM rate_daily), "
    "(SELECT COALESCE(SUM(callbacks), 0) FROM rate_daily)"
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def file_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database another connection can read: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'rebuild.db'}"
        name, schema = "default", None
    else:
        base = os.environ.get("TEST_DATABASE_URL")
        if not base:
            pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        await _postgres_schema(base, schema, drop=False)
        url, name = f"{base}?schema={schema}", "pg"
    try:
        async with TortoiseContext() as ctx:
            await ctx.init(config=tortoise_config(url, connection=name))
            await ctx.generate_schemas(safe=False)
            await fulltext.ensure(ctx.db(), TICKETS)  # the FTS table is not a model
            yield url
    finally:
        if schema:
            await _postgres_schema(base, schema, drop=True)


class Reader:
    """Polls the fingerprint on its own connection until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[tuple[int, ...]] = []
        self.stop = False

    def sqlite_thread(self) -> threading.Thread:
        path = self.url.removeprefix("sqlite://")

        def run() -> None:
            conn = sqlite3.connect(path, timeout=0.05)
            try:
                while not self.stop:
                    try:
                        self.seen.append(tuple(conn.execute(FINGERPRINT).fetchone()))
                    except sqlite3.OperationalError:
                        pass  # locked for an instant: read again
            finally:
                conn.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    async def postgres(self) -> None:
        import asyncpg

        parts = urlsplit(self.url)
        schema = parse_qs(parts.query)["schema"][0]
        dsn = parts._replace(query="").geturl().replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            while not self.stop:
                self.seen.append(tuple(int(v) for v in await conn.fetchrow(FINGERPRINT)))
                await asyncio.sleep(0)
        finally:
            await conn.close()


async def _fingerprint() -> tuple[int, ...]:
    conn = RateAssignment._meta.db
    _, rows = await conn.execute_query(FINGERPRINT)
    return tuple(int(v) for v in rows[0])


async def test_a_reader_sees_the_old_or_the_new_figures_never_a_mix(
    file_db: str, deployment: Deployment
) -> None:
    history = await make_history(deployment, seed=11, steps=220)
    right = await _fingerprint()
    # The old state: the figures a changed rule would leave (here: half the rows gone).
    await RateAssignment.filter(id__in=[r.id for r in await RateAssignment.all()][::2]).delete()
    await RateDaily.all().update(dispatched=0)
    old = await _fingerprint()
    assert old != right

    reader = Reader(file_db)
    sqlite_thread = reader.sqlite_thread() if file_db.startswith("sqlite") else None
    pg_task = None if sqlite_thread else asyncio.create_task(reader.postgres())
    started = asyncio.Event()
    progress: list[int] = []

    building = [True]

    def tick(done: int, total: int) -> None:
        progress.append(done)
        started.set()
        # Actions stop well before the swap, so the figures the reader may see are known.
        building[0] = done < total * 0.6

    # The live figures after each of those actions (the old ones and the action's change).
    between: list[tuple[int, ...]] = []

    async def meanwhile() -> None:
        # The server keeps taking actions while the command reads the log: each commits
        # its own change to the live (old) figures, which a reader may see.
        await started.wait()
        for _ in range(6):
            if not building[0]:
                break
            await history.act()
            between.append(await _fingerprint())
            await asyncio.sleep(0)

    rebuild = asyncio.create_task(rebuild_rates(batch=2, progress=tick))
    await asyncio.gather(rebuild, meanwhile())
    await asyncio.sleep(0.05)
    reader.stop = True
    if sqlite_thread:
        sqlite_thread.join(5)
    else:
        await pg_task
    new = await _fingerprint()

    assert len(progress) > 4 and between  # the rebuild ran in steps, with actions between
    readings = set(reader.seen)
    committed = {old, *between, new}
    assert readings <= committed, readings - committed
    assert old in readings and new in readings, (len(reader.seen), old, new)
    # Nothing the actions wrote during the rebuild was lost.
    assert await stored_rows() == await pure_rows()
    assert await stored_days() == await pure_days()
