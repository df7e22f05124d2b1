"""`rebuild-rates`: every rate row and the daily rollup recomputed from the event log,
then swapped in at once — a reader sees the old figures or the new ones, never a mix.

The long part (reading the whole log and computing the rows) writes into staging tables
in short transactions of its own, so neither database is held for minutes: the server
keeps taking actions meanwhile. One short transaction then

* stops writers to the rate tables (PostgreSQL: `LOCK … SHARE ROW EXCLUSIVE`, which
  readers pass; SQLite: its first write takes the database's write lock),
* recomputes the tickets that gained events since the rebuild started (their actions
  wrote to the live tables, not to the staging ones),
* replaces the live rows and the rollup with the staged ones.

Readers on either database see the last committed state until that transaction commits
(PostgreSQL MVCC, SQLite WAL), so the figures jump from the old to the new in one step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from hotline.domain.models import RateAssignment
from hotline.reporting.unit_rates import RATE_ACTIONS, all_rate_rows
from hotline.services.rate_daily import (
    Days,
    add_days,
    day_sums,
    days_of_rows,
    stored_rows_sql,
    upsert_days,
)
from hotline.services.rate_rows import (
    ASSIGNMENT_COLUMNS,
    CALLBACK_COLUMNS,
    rate_clock_of,
    rate_clock_sql,
    rate_event_of,
    rate_event_sql,
    write_rate_rows,
)
from hotline.services.rate_sql import placeholders

STAGES = ("rate_assignment_rebuild", "rate_callback_rebuild")
LIVE = ("rate_assignment", "rate_callback")
# Event ids are handed out before their transaction commits: an event with an id just
# below the starting maximum may commit after the rebuild read its ticket. Recomputing
# the tickets of the last ids before the start as well covers every writer in flight.
IN_FLIGHT_IDS = 1000
# SQLite allows 32,766 parameters per statement; ~20 columns a row.
ROWS_PER_INSERT = 1000
TICKETS_PER_CATCH_UP = 500

Progress = Callable[[int, int], None]


async def _compute(
    conn: BaseDBAsyncClient, where: str, params: list[Any]
) -> tuple[list[Any], list[Any]]:
    """The pure rows of the tickets matching `where` (on ticket_id), from the log."""
    dialect = conn.capabilities.dialect
    _, event_rows = await conn.execute_query(
        placeholders(dialect, rate_event_sql(dialect, where)), [*params, *sorted(RATE_ACTIONS)]
    )
    if not event_rows:
        return [], []
    _, clock_rows = await conn.execute_query(placeholders(dialect, rate_clock_sql(where)), params)
    return all_rate_rows(
        [rate_event_of(r) for r in event_rows], [rate_clock_of(r) for r in clock_rows]
    )


async def _stage(conn: BaseDBAsyncClient, assignments: list[Any], callbacks: list[Any]) -> None:
    for i in range(0, len(assignments), ROWS_PER_INSERT):
        await write_rate_rows(conn, assignments[i : i + ROWS_PER_INSERT], [], tables=STAGES)
    for i in range(0, len(callbacks), ROWS_PER_INSERT):
        await write_rate_rows(conn, [], callbacks[i : i + ROWS_PER_INSERT], tables=STAGES)


async def _drop_stages(conn: BaseDBAsyncClient) -> None:
    for table in STAGES:
        await conn.execute_query(f"DROP TABLE IF EXISTS {table}")


async def rebuild(*, batch: int = 5000, progress: Progress | None = None) -> tuple[int, int]:
    """Recompute every rate row and the rollup; returns (assignments, callbacks) written.

    `progress(done, total)` is called after each batch of `batch` ticket ids.
    """
    conn = RateAssignment._meta.db
    await _drop_stages(conn)  # left by a rebuild that was stopped
    for stage, live in zip(STAGES, LIVE, strict=True):
        await conn.execute_query(f"CREATE TABLE {stage} AS SELECT * FROM {live} WHERE 1 = 0")
    try:
        return await _build_and_swap(conn, batch=batch, progress=progress)
    finally:
        await _drop_stages(conn)


async def _build_and_swap(
    conn: BaseDBAsyncClient, *, batch: int, progress: Progress | None
) -> tuple[int, int]:
    dialect = conn.capabilities.dialect
    _, bounds = await conn.execute_query(
        "SELECT MIN(ticket_id), MAX(ticket_id), MAX(id) FROM ticket_event"
    )
    low, high, last_event = bounds[0] if bounds else (None, None, None)
    days: Days = {}
    if low is not None:
        total = high - low + 1
        for first in range(low, high + 1, batch):
            assignments, callbacks = await _compute(
                conn, "ticket_id >= ? AND ticket_id < ?", [first, first + batch]
            )
            async with in_transaction() as tx:
                await _stage(tx, assignments, callbacks)
            add_days(days, day_sums([*assignments, *callbacks]))
            if progress is not None:
                progress(min(first + batch, high + 1) - low, total)

    async with in_transaction() as tx:
        if dialect == "postgres":
            await tx.execute_query(
                "LOCK TABLE rate_assignment, rate_callback, rate_daily IN SHARE ROW EXCLUSIVE MODE"
            )
        # SQLite: this first write takes the write lock; nobody else writes until COMMIT.
        await tx.execute_query("DELETE FROM rate_daily")
        if last_event is not None:
            await _catch_up(tx, days, since=last_event - IN_FLIGHT_IDS)
        for stage, live, columns in (
            (STAGES[0], LIVE[0], ASSIGNMENT_COLUMNS),
            (STAGES[1], LIVE[1], CALLBACK_COLUMNS),
        ):
            listed = ", ".join(columns)
            await tx.execute_query(f"DELETE FROM {live}")
            await tx.execute_query(f"INSERT INTO {live} ({listed}) SELECT {listed} FROM {stage}")
        await upsert_days(tx, days, replace=True)
        _, counted = await tx.execute_query(
            "SELECT (SELECT COUNT(*) FROM rate_assignment), (SELECT COUNT(*) FROM rate_callback)"
        )
    return int(counted[0][0]), int(counted[0][1])


async def _catch_up(tx: BaseDBAsyncClient, days: Days, *, since: int) -> None:
    """Restage the tickets with events after id `since` (written while the rebuild read),
    keeping `days` in step."""
    dialect = tx.capabilities.dialect
    _, found = await tx.execute_query(
        placeholders(dialect, "SELECT DISTINCT ticket_id FROM ticket_event WHERE id > ?"),
        [since],
    )
    ids = sorted(r[0] for r in found)
    for i in range(0, len(ids), TICKETS_PER_CATCH_UP):
        chunk = ids[i : i + TICKETS_PER_CATCH_UP]
        where = f"ticket_id IN ({', '.join('?' * len(chunk))})"
        _, old = await tx.execute_query(
            placeholders(dialect, stored_rows_sql(where, STAGES)), [*chunk, *chunk]
        )
        add_days(days, days_of_rows(old), sign=-1)
        for stage in STAGES:
            await tx.execute_query(
                placeholders(dialect, f"DELETE FROM {stage} WHERE {where}"), chunk
            )
        assignments, callbacks = await _compute(tx, where, chunk)
        await _stage(tx, assignments, callbacks)
        add_days(days, day_sums([*assignments, *callbacks]))
